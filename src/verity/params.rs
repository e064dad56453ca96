//! Parameters: what the caller asks for ([`VerityOptions`]) and the fully resolved,
//! validated set a tree is built with ([`VerityConfig`]).

use super::error::{Error, Result};
use super::layout::TreeLayout;
use std::fmt;

/// Default block size for data and hash blocks, as in veritysetup.
pub const DEFAULT_BLOCK_SIZE: u32 = 4096;
/// Default random salt length, as in veritysetup.
pub const DEFAULT_SALT_SIZE: usize = 32;
/// Largest salt the superblock can carry.
pub const MAX_SALT_SIZE: usize = 256;
/// Smallest block size veritysetup accepts.
pub const MIN_BLOCK_SIZE: u32 = 512;
/// Largest block size veritysetup accepts.
pub const MAX_BLOCK_SIZE: u32 = 512 * 1024;
/// Size of the on-disk superblock.
pub const SUPERBLOCK_SIZE: u64 = 512;

/// A digest algorithm for the tree. The names are the kernel crypto API names, which
/// is what both the superblock and the dm table carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1: legacy images only; verifying them works, new trees get a warning.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256, the default.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [HashAlgorithm; 5] = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// Digest length in bytes.
    pub const fn digest_size(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha224 => 28,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// Lowercase kernel crypto API name (the table is case-sensitive).
    pub const fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha224 => "sha224",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// Checks that a root hash of `given` bytes fits this algorithm.
    pub fn check_digest_length(self, given: usize) -> Result<()> {
        if given != self.digest_size() {
            return Err(Error::RootHashLength { algorithm: self.name(), expected: self.digest_size(), given });
        }
        Ok(())
    }

    /// Parses a name case-insensitively, as veritysetup does.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::UnsupportedAlgorithm(name.to_string()))
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The dm-verity hash format ("version" in the kernel table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashType {
    /// Type 0, the original Chrome OS format: `H(block || salt)`, digests packed.
    ChromeOs = 0,
    /// Type 1, the normal format: `H(salt || block)`, digest slots padded to a power of two.
    Normal = 1,
}

impl HashType {
    /// Maps the on-disk / table number to the type.
    pub fn from_u32(value: u32) -> Result<Self> {
        match value {
            0 => Ok(HashType::ChromeOs),
            1 => Ok(HashType::Normal),
            other => Err(Error::UnsupportedHashType(other)),
        }
    }

    /// The on-disk / table number.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }
}

/// A 16-byte UUID in RFC 4122 byte order (the hex digits in textual order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Parses the 8-4-4-4-12 textual form, case-insensitively.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::InvalidUuid(text.to_string());
        let groups: Vec<&str> = text.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        if groups.len() != 5 || groups.iter().zip(lens).any(|(g, l)| g.len() != l) {
            return Err(bad());
        }
        let bytes = decode_hex(&groups.concat()).map_err(|_| bad())?;
        let mut out = [0u8; 16];
        out.copy_from_slice(&bytes);
        Ok(Uuid(out))
    }

    /// A random version-4 UUID, like `uuid_generate()` gives veritysetup.
    pub fn random() -> Result<Self> {
        let mut bytes = [0u8; 16];
        fill_random(&mut bytes)?;
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Ok(Uuid(bytes))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf)
        .map_err(|e| Error::io("reading the system random source", std::io::Error::other(e.to_string())))
}

/// Lowercase hex of a byte string.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Decodes hex, accepting either case.
pub fn decode_hex(text: &str) -> std::result::Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", text.len()));
    }
    let nibble = |c: u8| -> std::result::Result<u8, String> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(format!("{:?} is not a hex digit", c as char)),
        }
    };
    text.as_bytes().chunks_exact(2).map(|pair| Ok((nibble(pair[0])? << 4) | nibble(pair[1])?)).collect()
}

/// Parses a salt as veritysetup does: hex, or `-` for no salt.
pub fn parse_salt(text: &str) -> Result<Vec<u8>> {
    if text == "-" {
        return Ok(Vec::new());
    }
    let salt = decode_hex(text).map_err(|reason| Error::InvalidHex { what: "salt", reason })?;
    if salt.len() > MAX_SALT_SIZE {
        return Err(Error::SaltTooLong { len: salt.len() });
    }
    Ok(salt)
}

/// What a caller asks for. `None` means "the default" for format and "whatever the
/// superblock says" for verify; a value that disagrees with a superblock is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerityOptions {
    /// Hash algorithm; default sha256.
    pub hash_algorithm: Option<HashAlgorithm>,
    /// Hash type; default [`HashType::Normal`].
    pub hash_type: Option<HashType>,
    /// Data block size in bytes; default 4096.
    pub data_block_size: Option<u32>,
    /// Hash block size in bytes; default 4096.
    pub hash_block_size: Option<u32>,
    /// Number of data blocks; default: as many whole blocks as the data device holds.
    pub data_blocks: Option<u64>,
    /// Byte offset of the superblock (or the tree, without one) on the hash device.
    pub hash_offset: u64,
    /// Salt; default 32 random bytes for format, none for verify without superblock.
    /// `Some(vec![])` means no salt.
    pub salt: Option<Vec<u8>>,
    /// Superblock UUID; default random. Meaningless with `no_superblock`.
    pub uuid: Option<Uuid>,
    /// Neither write nor read a superblock.
    pub no_superblock: bool,
}

/// The complete, validated description of one verity tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerityConfig {
    /// Hash algorithm.
    pub hash_algorithm: HashAlgorithm,
    /// Hash type.
    pub hash_type: HashType,
    /// Data block size in bytes.
    pub data_block_size: u32,
    /// Hash block size in bytes.
    pub hash_block_size: u32,
    /// Number of data blocks covered.
    pub data_blocks: u64,
    /// Byte offset of the superblock (or tree) on the hash device.
    pub hash_offset: u64,
    /// Salt bytes, possibly empty.
    pub salt: Vec<u8>,
    /// `Some` when a superblock is (to be) present, carrying its UUID.
    pub superblock_uuid: Option<Uuid>,
}

pub(crate) fn check_block_size(which: &'static str, size: u32) -> Result<()> {
    if !size.is_power_of_two() || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size) {
        return Err(Error::InvalidBlockSize { which, size: size as u64 });
    }
    Ok(())
}

impl VerityConfig {
    /// Checks every rule that does not depend on the devices, and computes the layout.
    pub fn validate(&self) -> Result<TreeLayout> {
        check_block_size("data", self.data_block_size)?;
        check_block_size("hash", self.hash_block_size)?;
        if self.salt.len() > MAX_SALT_SIZE {
            return Err(Error::SaltTooLong { len: self.salt.len() });
        }
        if !self.hash_offset.is_multiple_of(SUPERBLOCK_SIZE) {
            return Err(Error::MisalignedHashOffset { offset: self.hash_offset, alignment: SUPERBLOCK_SIZE, why: "" });
        }
        if self.superblock_uuid.is_none() && !self.hash_offset.is_multiple_of(self.hash_block_size as u64) {
            // veritysetup rounds the tree start down here and overwrites whatever lies
            // below the offset, which in a shared data+hash file is the data itself.
            return Err(Error::MisalignedHashOffset {
                offset: self.hash_offset,
                alignment: self.hash_block_size as u64,
                why: " (the hash block size) without a superblock; veritysetup would write the tree below the offset",
            });
        }
        if self.data_blocks == 0 {
            return Err(Error::NoDataBlocks { block_size: self.data_block_size });
        }
        self.data_area_bytes()?;
        TreeLayout::new(
            self.hash_algorithm.digest_size(),
            self.hash_block_size,
            self.data_blocks,
            self.hash_start_block()?,
        )
    }

    /// Bytes of data covered: `data_blocks × data_block_size`.
    pub fn data_area_bytes(&self) -> Result<u64> {
        self.data_blocks.checked_mul(self.data_block_size as u64).ok_or(Error::Overflow("the data area size"))
    }

    /// First hash block of the tree, in hash-block units, as in the kernel table.
    pub fn hash_start_block(&self) -> Result<u64> {
        let block = self.hash_block_size as u64;
        if self.superblock_uuid.is_some() {
            let end = self.hash_offset.checked_add(SUPERBLOCK_SIZE).ok_or(Error::Overflow("the superblock end"))?;
            Ok(end.div_ceil(block))
        } else {
            Ok(self.hash_offset / block)
        }
    }

    /// Root hash length for this algorithm.
    pub fn digest_size(&self) -> usize {
        self.hash_algorithm.digest_size()
    }

    /// Checks that `root_hash` has this algorithm's digest length.
    pub fn check_root_hash(&self, root_hash: &[u8]) -> Result<()> {
        self.hash_algorithm.check_digest_length(root_hash.len())
    }
}

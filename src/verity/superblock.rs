//! The 512-byte veritysetup superblock ("verity header"), little-endian and packed.

use super::error::{Error, Result};
use super::params::{
    HashAlgorithm, HashType, MAX_BLOCK_SIZE, MAX_SALT_SIZE, MIN_BLOCK_SIZE, SUPERBLOCK_SIZE, VerityConfig,
    is_valid_block_size,
};
use crate::text::Uuid;
use alloc::string::ToString;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout, Unaligned};

/// `verity` followed by two NUL bytes.
pub const SIGNATURE: [u8; 8] = *b"verity\0\0";
/// The only superblock version that exists.
pub const VERSION: u32 = 1;

/// The on-disk layout, field for field as libcryptsetup's `struct verity_sb`.
#[derive(Clone, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RawSuperblock {
    signature: [u8; 8],
    version: U32,
    hash_type: U32,
    uuid: [u8; 16],
    algorithm: [u8; 32],
    data_block_size: U32,
    hash_block_size: U32,
    data_blocks: U64,
    salt_size: U16,
    pad1: [u8; 6],
    salt: [u8; 256],
    pad2: [u8; 168],
}

const _: () = assert!(size_of::<RawSuperblock>() == SUPERBLOCK_SIZE as usize);

/// Serialises the superblock for `config`, which must carry a UUID.
pub fn encode(config: &VerityConfig) -> Result<[u8; 512]> {
    let uuid = config.superblock_uuid.ok_or_else(|| Error::InvalidParameter("a superblock needs a UUID".into()))?;
    let mut raw = RawSuperblock::new_zeroed();
    raw.signature = SIGNATURE;
    raw.version.set(VERSION);
    raw.hash_type.set(config.hash_type.as_u32());
    raw.uuid = uuid.0;
    let name = config.hash_algorithm.name().as_bytes();
    raw.algorithm[..name.len()].copy_from_slice(name);
    raw.data_block_size.set(config.data_block_size);
    raw.hash_block_size.set(config.hash_block_size);
    raw.data_blocks.set(config.data_blocks);
    let salt_len = config.salt.len();
    if salt_len > MAX_SALT_SIZE {
        return Err(Error::SaltTooLong { len: salt_len });
    }
    raw.salt_size.set(salt_len as u16);
    raw.salt[..salt_len].copy_from_slice(&config.salt);
    let mut out = [0u8; 512];
    out.copy_from_slice(raw.as_bytes());
    Ok(out)
}

/// A superblock that passed every check, as fixed-size fields: what [`parse`] gives
/// without allocating, so a boot loader can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedSuperblock {
    /// The hash algorithm.
    pub hash_algorithm: HashAlgorithm,
    /// Format 0 (Chrome OS) or 1 (normal).
    pub hash_type: HashType,
    /// Data block size in bytes.
    pub data_block_size: u32,
    /// Hash block size in bytes.
    pub hash_block_size: u32,
    /// Number of data blocks.
    pub data_blocks: u64,
    /// The UUID bytes.
    pub uuid: [u8; 16],
    /// The salt; only the first `salt_size` bytes count.
    pub salt: [u8; MAX_SALT_SIZE],
    /// Bytes of `salt` in use.
    pub salt_size: u16,
}

impl ParsedSuperblock {
    /// The salt bytes in use.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..self.salt_size as usize]
    }
}

/// Why bytes are not a usable superblock. Copy and allocation-free, for the boot library;
/// the host's [`decode`] turns it into an [`Error`] with the same words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuperblockFault {
    /// Fewer than 512 bytes.
    Short {
        /// Bytes given.
        len: usize,
    },
    /// The first 8 bytes are not `verity\0\0`.
    NoSignature {
        /// What is there.
        found: [u8; 8],
    },
    /// A version other than 1.
    Version(u32),
    /// A hash type other than 0 and 1.
    HashType(u32),
    /// The algorithm field has no NUL byte.
    NameNotTerminated,
    /// The algorithm name is not UTF-8.
    NameNotText,
    /// An algorithm rootseal does not know (the name's bytes and length).
    Algorithm([u8; 32], usize),
    /// A block size that is not a power of two from 512 B to 512 KiB.
    BlockSize {
        /// `"data"` or `"hash"`.
        which: &'static str,
        /// The size found.
        size: u32,
    },
    /// A salt size over 256.
    SaltSize(usize),
    /// No data blocks.
    NoDataBlocks,
}

impl core::fmt::Display for SuperblockFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            SuperblockFault::Short { len } => write!(f, "only {len} bytes available"),
            SuperblockFault::NoSignature { found } => write!(f, "no verity signature (found {found:02x?})"),
            SuperblockFault::Version(v) => write!(f, "unsupported version {v}"),
            SuperblockFault::HashType(t) => write!(f, "unsupported hash type {t}"),
            SuperblockFault::NameNotTerminated => f.write_str("hash algorithm name is not NUL-terminated"),
            SuperblockFault::NameNotText => f.write_str("hash algorithm name is not text"),
            SuperblockFault::Algorithm(name, len) => {
                let name = core::str::from_utf8(&name[..len]).unwrap_or("?");
                write!(f, "unsupported hash algorithm {name:?}")
            }
            SuperblockFault::BlockSize { which, size } => write!(
                f,
                "{which} block size {size} is invalid: it must be a power of two from {MIN_BLOCK_SIZE} to {MAX_BLOCK_SIZE} bytes"
            ),
            SuperblockFault::SaltSize(size) => write!(f, "salt size {size} exceeds {MAX_SALT_SIZE}"),
            SuperblockFault::NoDataBlocks => f.write_str("data block count is zero"),
        }
    }
}

/// Parses and validates the 512-byte superblock at the start of `bytes`, with the checks
/// libcryptsetup's `VERITY_read_sb` makes plus NUL termination of the algorithm name.
/// Padding and unused salt bytes are ignored, as veritysetup ignores them. Allocates
/// nothing: the boot library runs it as it is.
pub fn parse(bytes: &[u8]) -> core::result::Result<ParsedSuperblock, SuperblockFault> {
    let raw = RawSuperblock::ref_from_prefix(bytes).map_err(|_| SuperblockFault::Short { len: bytes.len() })?.0;
    if raw.signature != SIGNATURE {
        return Err(SuperblockFault::NoSignature { found: raw.signature });
    }
    if raw.version.get() != VERSION {
        return Err(SuperblockFault::Version(raw.version.get()));
    }
    let hash_type =
        HashType::from_u32(raw.hash_type.get()).map_err(|_| SuperblockFault::HashType(raw.hash_type.get()))?;
    let name_len = raw.algorithm.iter().position(|&b| b == 0).ok_or(SuperblockFault::NameNotTerminated)?;
    let name = core::str::from_utf8(&raw.algorithm[..name_len]).map_err(|_| SuperblockFault::NameNotText)?;
    let hash_algorithm = HashAlgorithm::from_name(name).ok_or(SuperblockFault::Algorithm(raw.algorithm, name_len))?;
    let data_block_size = raw.data_block_size.get();
    let hash_block_size = raw.hash_block_size.get();
    for (which, size) in [("data", data_block_size), ("hash", hash_block_size)] {
        if !is_valid_block_size(size) {
            return Err(SuperblockFault::BlockSize { which, size });
        }
    }
    let salt_size = raw.salt_size.get();
    if salt_size as usize > MAX_SALT_SIZE {
        return Err(SuperblockFault::SaltSize(salt_size as usize));
    }
    if raw.data_blocks.get() == 0 {
        return Err(SuperblockFault::NoDataBlocks);
    }
    Ok(ParsedSuperblock {
        hash_algorithm,
        hash_type,
        data_block_size,
        hash_block_size,
        data_blocks: raw.data_blocks.get(),
        uuid: raw.uuid,
        salt: raw.salt,
        salt_size,
    })
}

/// Parses and validates a superblock read from `hash_offset` (see [`parse`]).
pub fn decode(bytes: &[u8], hash_offset: u64) -> Result<VerityConfig> {
    let parsed = parse(bytes).map_err(|fault| match fault {
        SuperblockFault::NoSignature { found } => Error::NoSuperblock { offset: hash_offset, found },
        other => Error::CorruptSuperblock(other.to_string()),
    })?;
    Ok(VerityConfig {
        hash_algorithm: parsed.hash_algorithm,
        hash_type: parsed.hash_type,
        data_block_size: parsed.data_block_size,
        hash_block_size: parsed.hash_block_size,
        data_blocks: parsed.data_blocks,
        hash_offset,
        salt: parsed.salt().to_vec(),
        superblock_uuid: Some(Uuid(parsed.uuid)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VerityConfig {
        VerityConfig {
            hash_algorithm: HashAlgorithm::Sha512,
            hash_type: HashType::ChromeOs,
            data_block_size: 1024,
            hash_block_size: 4096,
            data_blocks: 77,
            hash_offset: 4096,
            salt: vec![1, 2, 3],
            superblock_uuid: Some(Uuid::parse("12345678-1234-1234-1234-123456789abc").unwrap()),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode(&sample()).unwrap();
        assert_eq!(&bytes[..8], b"verity\0\0");
        assert_eq!(&bytes[32..38], b"sha512");
        assert_eq!(decode(&bytes, 4096).unwrap(), sample());
    }

    #[test]
    fn rejects_corruption() {
        let good = encode(&sample()).unwrap();
        let mut bad = good;
        bad[8] = 2;
        assert!(matches!(decode(&bad, 0), Err(Error::CorruptSuperblock(m)) if m.contains("version")));
        let mut bad = good;
        bad[32..64].fill(b'a');
        assert!(matches!(decode(&bad, 0), Err(Error::CorruptSuperblock(m)) if m.contains("NUL")));
        let mut bad = good;
        bad[80] = 1;
        bad[81] = 1;
        assert!(matches!(decode(&bad, 0), Err(Error::CorruptSuperblock(m)) if m.contains("salt")));
        let mut bad = good;
        bad[0] = b'X';
        assert!(matches!(decode(&bad, 0), Err(Error::NoSuperblock { .. })));
        assert!(matches!(decode(&good[..100], 0), Err(Error::CorruptSuperblock(_))));
    }
}

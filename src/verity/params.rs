//! Parameters: what the caller asks for ([`VerityOptions`]) and the fully resolved,
//! validated set a tree is built with ([`VerityConfig`]).

use super::error::{Error, HexInput, Result};
pub use super::layout::HashType;
use super::layout::TreeLayout;
pub use crate::crypto::HashAlgorithm;
use crate::text::{Uuid, decode_hex};
use alloc::string::ToString;
use alloc::vec::Vec;

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

/// Parses a hash algorithm's kernel name, ignoring case, as veritysetup does.
pub fn parse_hash_algorithm(name: &str) -> Result<HashAlgorithm> {
    HashAlgorithm::from_name(name).ok_or_else(|| Error::UnsupportedAlgorithm(name.to_string()))
}

/// Parses a superblock UUID in the 8-4-4-4-12 form, either case.
pub fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse(text).map_err(|_| Error::InvalidUuid(text.to_string()))
}

/// Checks that a root hash of `given` bytes fits `algorithm`.
pub fn check_digest_length(algorithm: HashAlgorithm, given: usize) -> Result<()> {
    if given != algorithm.digest_size() {
        return Err(Error::RootHashLength { algorithm: algorithm.name(), expected: algorithm.digest_size(), given });
    }
    Ok(())
}

/// Parses a salt as veritysetup does: hex, or `-` for no salt.
pub fn parse_salt(text: &str) -> Result<Vec<u8>> {
    if text == "-" {
        return Ok(Vec::new());
    }
    let salt = decode_hex(text).map_err(|e| Error::InvalidHex { what: HexInput::Salt, reason: e.to_string() })?;
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

/// True for the block sizes dm-verity accepts: a power of two from 512 B to 512 KiB.
pub const fn is_valid_block_size(size: u32) -> bool {
    size.is_power_of_two() && size >= MIN_BLOCK_SIZE && size <= MAX_BLOCK_SIZE
}

/// First hash block of a tree whose hash area starts at byte `hash_offset`, in units of
/// `hash_block_size` (non-zero), as in the kernel table: after the superblock, rounded
/// up, when there is one; else the offset rounded down, as veritysetup does. None when
/// the superblock's end overflows.
pub const fn tree_start_block(hash_offset: u64, hash_block_size: u32, with_superblock: bool) -> Option<u64> {
    let block = hash_block_size as u64;
    if with_superblock {
        match hash_offset.checked_add(SUPERBLOCK_SIZE) {
            Some(end) => Some(end.div_ceil(block)),
            None => None,
        }
    } else {
        Some(hash_offset / block)
    }
}

pub(crate) fn check_block_size(which: &'static str, size: u32) -> Result<()> {
    if !is_valid_block_size(size) {
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
        tree_start_block(self.hash_offset, self.hash_block_size, self.superblock_uuid.is_some())
            .ok_or(Error::Overflow("the superblock end"))
    }

    /// Root hash length for this algorithm.
    pub fn digest_size(&self) -> usize {
        self.hash_algorithm.digest_size()
    }

    /// Checks that `root_hash` has this algorithm's digest length.
    pub fn check_root_hash(&self, root_hash: &[u8]) -> Result<()> {
        check_digest_length(self.hash_algorithm, root_hash.len())
    }
}

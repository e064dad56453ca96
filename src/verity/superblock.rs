//! The 512-byte veritysetup superblock ("verity header"), little-endian and packed.

use super::error::{Error, Result};
use super::params::{HashAlgorithm, HashType, MAX_SALT_SIZE, SUPERBLOCK_SIZE, VerityConfig, check_block_size};
use crate::text::Uuid;
use alloc::{format, string::String, string::ToString};
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

/// Parses and validates a superblock read from `hash_offset`, with the checks
/// libcryptsetup's `VERITY_read_sb` makes plus NUL termination of the algorithm name.
/// Padding and unused salt bytes are ignored, as veritysetup ignores them.
pub fn decode(bytes: &[u8], hash_offset: u64) -> Result<VerityConfig> {
    let raw = RawSuperblock::ref_from_prefix(bytes)
        .map_err(|_| Error::CorruptSuperblock(format!("only {} bytes available", bytes.len())))?
        .0;
    if raw.signature != SIGNATURE {
        return Err(Error::NoSuperblock { offset: hash_offset, found: raw.signature });
    }
    let corrupt = |what: String| Error::CorruptSuperblock(what);
    if raw.version.get() != VERSION {
        return Err(corrupt(format!("unsupported version {}", raw.version.get())));
    }
    let hash_type = HashType::from_u32(raw.hash_type.get())
        .map_err(|_| corrupt(format!("unsupported hash type {}", raw.hash_type.get())))?;
    let name_len = raw
        .algorithm
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| corrupt("hash algorithm name is not NUL-terminated".into()))?;
    let name = core::str::from_utf8(&raw.algorithm[..name_len])
        .map_err(|_| corrupt("hash algorithm name is not text".into()))?;
    let hash_algorithm =
        HashAlgorithm::from_name(name).ok_or_else(|| corrupt(format!("unsupported hash algorithm {name:?}")))?;
    let data_block_size = raw.data_block_size.get();
    let hash_block_size = raw.hash_block_size.get();
    check_block_size("data", data_block_size).map_err(|e| corrupt(e.to_string()))?;
    check_block_size("hash", hash_block_size).map_err(|e| corrupt(e.to_string()))?;
    let salt_size = raw.salt_size.get() as usize;
    if salt_size > MAX_SALT_SIZE {
        return Err(corrupt(format!("salt size {salt_size} exceeds {MAX_SALT_SIZE}")));
    }
    if raw.data_blocks.get() == 0 {
        return Err(corrupt("data block count is zero".into()));
    }
    Ok(VerityConfig {
        hash_algorithm,
        hash_type,
        data_block_size,
        hash_block_size,
        data_blocks: raw.data_blocks.get(),
        hash_offset,
        salt: raw.salt[..salt_size].to_vec(),
        superblock_uuid: Some(Uuid(raw.uuid)),
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

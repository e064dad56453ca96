//! Resolving what the caller asked for into a complete [`VerityConfig`]: defaults and
//! random salt/UUID for a new tree, the superblock (checked against the options) for an
//! existing one.
//!
//! Pure logic: the random bytes and the stored superblock come in from the caller, so
//! nothing here does I/O or draws randomness.

use super::Warning;
use super::error::{Error, Result};
use super::params::{
    DEFAULT_BLOCK_SIZE, DEFAULT_SALT_SIZE, HashAlgorithm, HashType, VerityConfig, VerityOptions, check_block_size,
};
use crate::text::{Uuid, encode_hex};
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

/// Random bytes for a new tree: the salt and UUID used when the options give none. The
/// caller draws them (from the OS on a host), so resolving a configuration is a pure
/// function that can be repeated and tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeRandomness {
    /// The salt when none is given.
    pub salt: [u8; DEFAULT_SALT_SIZE],
    /// The bytes of the version-4 UUID when none is given.
    pub uuid: [u8; 16],
}

pub(crate) fn algorithm_warnings(config: &VerityConfig, warnings: &mut Vec<Warning>) {
    if config.hash_algorithm == HashAlgorithm::Sha1 {
        warnings.push(Warning::Sha1Legacy);
    }
    if config.data_block_size > 4096 {
        warnings.push(Warning::DataBlockExceedsPageSize { size: config.data_block_size });
    }
}

/// Data blocks from the options, or as many whole blocks as the data device holds.
fn resolve_data_blocks(opts_blocks: Option<u64>, block_size: u32, data_size: u64, warnings: &mut Vec<Warning>) -> u64 {
    opts_blocks.unwrap_or_else(|| {
        let tail = data_size % block_size as u64;
        if tail != 0 {
            warnings.push(Warning::UncoveredTail { bytes: tail });
        }
        data_size / block_size as u64
    })
}

/// The configuration the options describe, with the salt and UUID already chosen.
fn config_from_options(
    opts: &VerityOptions,
    data_size: u64,
    salt: Vec<u8>,
    superblock_uuid: Option<Uuid>,
    warnings: &mut Vec<Warning>,
) -> Result<VerityConfig> {
    let data_block_size = opts.data_block_size.unwrap_or(DEFAULT_BLOCK_SIZE);
    check_block_size("data", data_block_size)?;
    Ok(VerityConfig {
        hash_algorithm: opts.hash_algorithm.unwrap_or(HashAlgorithm::Sha256),
        hash_type: opts.hash_type.unwrap_or(HashType::Normal),
        data_block_size,
        hash_block_size: opts.hash_block_size.unwrap_or(DEFAULT_BLOCK_SIZE),
        data_blocks: resolve_data_blocks(opts.data_blocks, data_block_size, data_size, warnings),
        hash_offset: opts.hash_offset,
        salt,
        superblock_uuid,
    })
}

/// Resolves the options for a new tree: defaults, the salt and UUID from `random` when
/// not given, and a data block count taken from `data_size` when not given.
pub fn resolve_new_config(
    opts: &VerityOptions,
    data_size: u64,
    random: &TreeRandomness,
) -> Result<(VerityConfig, Vec<Warning>)> {
    let mut warnings = Vec::new();
    let salt = opts.salt.clone().unwrap_or_else(|| random.salt.to_vec());
    let superblock_uuid = match (opts.no_superblock, opts.uuid) {
        (true, _) => None,
        (false, Some(uuid)) => Some(uuid),
        (false, None) => Some(Uuid::from_random_bytes(random.uuid)),
    };
    let config = config_from_options(opts, data_size, salt, superblock_uuid, &mut warnings)?;
    algorithm_warnings(&config, &mut warnings);
    Ok((config, warnings))
}

fn check_agrees<T: PartialEq + fmt::Display>(field: &'static str, given: Option<T>, stored: T) -> Result<()> {
    match given {
        Some(given) if given != stored => {
            Err(Error::ConflictsWithSuperblock { field, given: given.to_string(), stored: stored.to_string() })
        }
        _ => Ok(()),
    }
}

/// Resolves the parameters of an existing tree: the `stored` superblock, with which
/// explicit options must agree, or without one (`no_superblock`) the options alone,
/// where a missing salt means no salt, as in veritysetup.
pub fn resolve_existing_config_with(
    opts: &VerityOptions,
    stored: Option<VerityConfig>,
    data_size: u64,
) -> Result<(VerityConfig, Vec<Warning>)> {
    let mut warnings = Vec::new();
    let config = match stored {
        None => config_from_options(opts, data_size, opts.salt.clone().unwrap_or_default(), None, &mut warnings)?,
        Some(stored) => {
            check_agrees("hash algorithm", opts.hash_algorithm, stored.hash_algorithm)?;
            check_agrees("hash type", opts.hash_type.map(HashType::as_u32), stored.hash_type.as_u32())?;
            check_agrees("data block size", opts.data_block_size, stored.data_block_size)?;
            check_agrees("hash block size", opts.hash_block_size, stored.hash_block_size)?;
            check_agrees("data block count", opts.data_blocks, stored.data_blocks)?;
            check_agrees("salt", opts.salt.as_deref().map(encode_hex), encode_hex(&stored.salt))?;
            check_agrees("UUID", opts.uuid, stored.superblock_uuid.unwrap_or(Uuid([0; 16])))?;
            stored
        }
    };
    algorithm_warnings(&config, &mut warnings);
    Ok((config, warnings))
}

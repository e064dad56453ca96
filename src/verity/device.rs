//! What format and verify need from the devices before any block is hashed: their sizes,
//! the superblock, and the checks that must pass before anything is written.

use super::config::{TreeRandomness, resolve_existing_config_with};
use super::error::{Error, Result};
use super::layout::TreeLayout;
use super::params::{SUPERBLOCK_SIZE, VerityConfig, VerityOptions};
use super::{Warning, superblock};
use crate::io::{BlockDevice, BlockRead};

impl TreeRandomness {
    /// Random bytes from the operating system.
    pub fn from_os() -> Result<Self> {
        let mut random = TreeRandomness { salt: [0; super::DEFAULT_SALT_SIZE], uuid: [0; 16] };
        crate::sys::random::fill(&mut random.salt)
            .and_then(|()| crate::sys::random::fill(&mut random.uuid))
            .map_err(|e| Error::io("reading the system random source", e))?;
        Ok(random)
    }
}

pub(crate) fn device_size(dev: &dyn BlockRead, what: &str) -> Result<u64> {
    dev.size().map_err(|e| Error::io(format!("reading the {what} device size"), e))
}

/// Device checks shared by format and verify, done before any byte is written.
pub(crate) fn check_devices(
    config: &VerityConfig,
    layout: &TreeLayout,
    data_size: u64,
    same_device: bool,
) -> Result<()> {
    let data_end = config.data_area_bytes()?;
    if data_size < data_end {
        return Err(Error::DataTooShort { needed: data_end, actual: data_size });
    }
    if same_device && data_end > config.hash_offset {
        return Err(Error::AreasOverlap { data_end, hash_start: config.hash_offset });
    }
    layout.hash_end_bytes()?;
    Ok(())
}

/// Reads the superblock at `hash_offset` on `hash`.
pub fn read_superblock(hash: &dyn BlockRead, hash_offset: u64) -> Result<VerityConfig> {
    let mut scratch = Vec::new();
    let size = device_size(hash, "hash")?;
    let end = hash_offset.checked_add(SUPERBLOCK_SIZE).ok_or(Error::Overflow("the superblock end"))?;
    if !hash_offset.is_multiple_of(SUPERBLOCK_SIZE) {
        return Err(Error::MisalignedHashOffset { offset: hash_offset, alignment: SUPERBLOCK_SIZE, why: "" });
    }
    if end > size {
        return Err(Error::HashDeviceTooSmall { needed: end, actual: size });
    }
    let bytes = hash
        .read_view(hash_offset, SUPERBLOCK_SIZE as usize, &mut scratch)
        .map_err(|e| Error::io(format!("reading the superblock at offset {hash_offset}"), e))?;
    superblock::decode(bytes, hash_offset)
}

/// Resolves the parameters of an existing tree: from the superblock on `hash` (explicit
/// options must agree with it), or from the options alone with `no_superblock`.
pub fn resolve_existing_config(
    hash: &dyn BlockRead,
    opts: &VerityOptions,
    data_size: u64,
) -> Result<(VerityConfig, Vec<Warning>)> {
    let stored = if opts.no_superblock { None } else { Some(read_superblock(hash, opts.hash_offset)?) };
    resolve_existing_config_with(opts, stored, data_size)
}

/// Before a tree is rewritten in place, the old superblock's signature is cleared, so
/// that an interrupted format never leaves a valid-looking superblock over a half-new
/// tree. The new superblock is written last.
pub(crate) fn invalidate_old_superblock(hash: &dyn BlockDevice, offset: u64) -> Result<()> {
    let size = device_size(hash, "hash")?;
    let mut scratch = Vec::new();
    if offset.checked_add(8).is_some_and(|end| end <= size)
        && hash.read_view(offset, 8, &mut scratch).is_ok_and(|sig| sig == superblock::SIGNATURE)
    {
        hash.write_at(offset, &[0; 8]).map_err(|e| Error::io("clearing the old superblock", e))?;
        hash.flush().map_err(|e| Error::io("flushing the hash device", e))?;
    }
    Ok(())
}

/// The checks verify and verify_range share: the configuration (from the superblock when
/// there is one), the layout, the root hash length and the device sizes.
pub(crate) fn prepare_verify(
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    same_device: bool,
    opts: &VerityOptions,
    root_hash: &[u8],
) -> Result<(VerityConfig, TreeLayout, Vec<Warning>)> {
    let data_size = device_size(data, "data")?;
    let (config, mut warnings) = resolve_existing_config(hash, opts, data_size)?;
    let layout = config.validate()?;
    config.check_root_hash(root_hash)?;
    check_devices(&config, &layout, data_size, same_device)?;
    let needed = layout.hash_end_bytes()?;
    let hash_size = device_size(hash, "hash")?;
    if hash_size < needed {
        // With a single data block there is no tree to read, and veritysetup accepts it.
        if !layout.levels().is_empty() {
            return Err(Error::HashDeviceTooSmall { needed, actual: hash_size });
        }
        warnings.push(Warning::HashDeviceShorterThanTable { needed, actual: hash_size });
    }
    Ok((config, layout, warnings))
}

//! Format and verify on paths: files and block devices, with the checks that must
//! happen before the hash file is created.

use super::config::{TreeRandomness, resolve_new_config};
use super::device::{check_devices, resolve_existing_config};
use super::error::{Error, Result};
use super::layout::TreeLayout;
use super::params::{VerityConfig, VerityOptions};
use super::{FormatOutcome, HashChoice, RunOptions, VerifyReport, Warning, format_config, verify};
use crate::io::{FileDevice, FileReader};
use crate::sys::blockmap::{self, Location};
use std::fs::File;
use std::path::Path;

/// Opens a regular file or block device; anything else (a directory, a pipe) is refused
/// before it can be half-used.
fn open_read(path: &Path, what: &str) -> Result<File> {
    crate::sys::file::open(path, crate::sys::file::Access::Read).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidInput {
            Error::InvalidParameter(format!("{what} {} is not a regular file or a block device", path.display()))
        } else {
            Error::io(format!("opening {what} {}", path.display()), e)
        }
    })
}

/// How the data and hash names relate, once each is resolved to the bytes it stands
/// for (a loop device to a window of its backing file, a partition to one of its disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sharing {
    /// Different bytes.
    Separate,
    /// The same file or device, byte for byte: the core's same-device rule applies.
    SameDevice,
    /// The same bytes at different offsets (a loop device with an offset over the other
    /// file, a partition and its disk): the overlap rule was applied here, to the bytes
    /// both names stand for.
    Aliased,
}

impl Sharing {
    /// The hash is written into the bytes the data is read from, so the data file's
    /// times (and size) change by design.
    fn shares_bytes(self) -> bool {
        self != Sharing::Separate
    }
}

fn locate(file: &File, what: &str, path: &Path) -> Result<Location> {
    blockmap::locate(file).map_err(|e| Error::io(format!("finding the bytes behind {what} {}", path.display()), e))
}

/// Whether `data` and `hash` share bytes and, when they do at different offsets, whether
/// the data area and the hash area (superblock and tree) overlap in those real bytes.
fn sharing(config: &VerityConfig, layout: &TreeLayout, data: Location, hash: Option<Location>) -> Result<Sharing> {
    let Some(hash) = hash.filter(|h| h.backing == data.backing) else {
        return Ok(Sharing::Separate);
    };
    if hash.base == data.base {
        return Ok(Sharing::SameDevice);
    }
    let overflow = || Error::Overflow("the real byte range of the data or hash area");
    let data_end = data.base.checked_add(config.data_area_bytes()?).ok_or_else(overflow)?;
    let hash_start = hash.base.checked_add(config.hash_offset).ok_or_else(overflow)?;
    let hash_end = hash.base.checked_add(layout.hash_end_bytes()?).ok_or_else(overflow)?;
    if data.base < hash_end && hash_start < data_end {
        // In the backing file's (or disk's) own byte numbers.
        return Err(Error::AreasOverlap { data_end, hash_start });
    }
    Ok(Sharing::Aliased)
}

/// The data source for an open file or block device: read with `pread` into each
/// worker's buffer, never mapped, so that a media error comes back as EIO and a file
/// truncated meanwhile as "changed while reading", never as SIGBUS.
fn data_source(file: File, path: &Path, sharing: Sharing) -> Result<FileReader> {
    let reader = FileReader::new(file, path).map_err(|e| Error::io(format!("opening data {}", path.display()), e))?;
    Ok(if sharing.shares_bytes() { reader.shared_with_writer() } else { reader })
}

/// [`format()`](super::format()) on files or block devices. The hash file is created if missing and never
/// truncated; it may be the data file itself, or hold the same bytes under another name
/// (a loop device over it, a partition of it), as long as the areas do not overlap in
/// those bytes. Nothing is created or written unless the parameters and the data device
/// pass every check. A data file that changes while it is read fails the format with a
/// "changed while reading" error before the superblock is written.
pub fn format_paths(data: &Path, hash: &Path, opts: &VerityOptions, run: &RunOptions<'_>) -> Result<FormatOutcome> {
    let data_file = open_read(data, "data")?;
    let data_loc = locate(&data_file, "data", data)?;
    let hash_loc = match blockmap::locate_path(hash) {
        Ok(location) => Some(location),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(format!("finding the bytes behind hash {}", hash.display()), e)),
    };
    let data_size = crate::io::device_size(&data_file).map_err(|e| Error::io("reading the data size", e))?;
    // Everything that can be refused is checked before the hash file is created.
    let (config, warnings) = resolve_new_config(opts, data_size, &TreeRandomness::from_os()?)?;
    let layout = config.validate()?;
    let shared = sharing(&config, &layout, data_loc, hash_loc)?;
    check_devices(&config, &layout, data_size, shared == Sharing::SameDevice)?;
    run.hashing.check()?;

    let hash_dev = FileDevice::open_rw(hash).map_err(|e| Error::io(format!("opening hash {}", hash.display()), e))?;
    // Again on the open hash device: it may have been created, or replaced, meanwhile.
    let shared = sharing(&config, &layout, data_loc, Some(locate(hash_dev.file(), "hash", hash)?))?;
    let source = data_source(data_file, data, shared)?;
    format_config(&source, &hash_dev, shared == Sharing::SameDevice, config, warnings, run)
}

/// Opens the data and hash of an existing tree for reading, both with the change
/// check, and says how they relate (before anything is read, an overlap is refused by
/// the checks of verify).
fn open_pair(data: &Path, hash: &Path, opts: &VerityOptions) -> Result<(FileReader, FileReader, bool)> {
    let data_file = open_read(data, "data")?;
    let hash_file = open_read(hash, "hash")?;
    let data_loc = locate(&data_file, "data", data)?;
    let hash_loc = locate(&hash_file, "hash", hash)?;
    let same = if data_loc.backing != hash_loc.backing {
        false
    } else if data_loc.base == hash_loc.base {
        true
    } else {
        // The same bytes at different offsets: the overlap rule needs the parameters,
        // which come from the superblock when there is one.
        let hash_reader = FileReader::new(hash_file.try_clone().map_err(|e| Error::io("opening the hash", e))?, hash)
            .map_err(|e| Error::io(format!("opening hash {}", hash.display()), e))?;
        let data_size = crate::io::device_size(&data_file).map_err(|e| Error::io("reading the data size", e))?;
        let (config, _) = super::device::resolve_existing_config(&hash_reader, opts, data_size)?;
        sharing(&config, &config.validate()?, data_loc, Some(hash_loc))?;
        false
    };
    let open = |file: File, path: &Path, what: &str| {
        FileReader::new(file, path).map_err(|e| Error::io(format!("opening {what} {}", path.display()), e))
    };
    Ok((open(data_file, data, "data")?, open(hash_file, hash, "hash")?, same))
}

/// [`verify()`] on files or block devices. A data or hash file that changes while it is
/// read gives a "changed while reading" error, never a report.
pub fn verify_paths(
    data: &Path,
    hash: &Path,
    opts: &VerityOptions,
    root_hash: &[u8],
    run: &RunOptions<'_>,
) -> Result<VerifyReport> {
    let (data, hash, same) = open_pair(data, hash, opts)?;
    verify(&data, &hash, same, opts, root_hash, run)
}

/// [`super::verify_range`] on files or block devices: only the data blocks under the
/// byte range `bytes` and the hash blocks on their paths are read.
pub fn verify_range_paths(
    data: &Path,
    hash: &Path,
    opts: &VerityOptions,
    root_hash: &[u8],
    bytes: std::ops::Range<u64>,
    hashing: &HashChoice,
) -> Result<VerifyReport> {
    let (data, hash, same) = open_pair(data, hash, opts)?;
    super::verify_range(&data, &hash, same, opts, root_hash, bytes, hashing)
}

/// Copies bytes `bytes` of the data area (all of it when None) of `data` to `out`
/// through a [`super::VerifiedReader`]: every block verified against the tree on
/// `hash` and `root_hash` before any of its bytes are written. Returns the bytes copied,
/// or, when a block is refused, `Ok(Err(CorruptBlock))` after copying every byte before it.
pub fn read_paths(
    data: &Path,
    hash: &Path,
    opts: &VerityOptions,
    root_hash: &[u8],
    bytes: Option<std::ops::Range<u64>>,
    hashing: &HashChoice,
    out: &mut dyn std::io::Write,
) -> Result<std::result::Result<u64, super::CorruptBlock>> {
    let (data, hash, same) = open_pair(data, hash, opts)?;
    let mut reader = super::VerifiedReader::new(&data, &hash, same, opts, root_hash, hashing)?;
    let range = bytes.unwrap_or(0..reader.len());
    if range.start > range.end || range.end > reader.len() {
        return Err(Error::InvalidParameter(format!(
            "the range {}..{} is not inside the data area of {} bytes",
            range.start,
            range.end,
            reader.len()
        )));
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut at = range.start;
    while at < range.end {
        let want = ((range.end - at) as usize).min(buf.len());
        let n = match reader.read_at(at, &mut buf[..want]) {
            Ok(n) => n,
            Err(err) => match super::CorruptBlock::of(&err) {
                Some(corrupt) => return Ok(Err(*corrupt)),
                None => return Err(Error::io(format!("reading verified data at byte {at}"), err)),
            },
        };
        out.write_all(&buf[..n]).map_err(|e| Error::io("writing the verified data", e))?;
        at += n as u64;
    }
    out.flush().map_err(|e| Error::io("writing the verified data", e))?;
    Ok(Ok(range.end - range.start))
}

/// The configuration a kernel table line for `data_dev` and `hash_dev` describes: the
/// superblock on the hash device, or without one (`no_superblock`) the options alone.
/// The data device is opened only to learn its size when `data_blocks` is not given;
/// neither device is opened otherwise, so a table can be made for devices that exist
/// only on the target machine.
pub fn table_config_from_paths(data_dev: &Path, hash_dev: &Path, opts: &VerityOptions) -> Result<VerityConfig> {
    if !opts.no_superblock {
        let hash = FileDevice::new(open_read(hash_dev, "hash device")?)
            .map_err(|e| Error::io(format!("opening hash device {}", hash_dev.display()), e))?;
        return Ok(resolve_existing_config(&hash, opts, 0)?.0);
    }
    let data_size = match opts.data_blocks {
        Some(_) => 0,
        None => crate::sys::file::open(data_dev, crate::sys::file::Access::Read)
            .and_then(|file| crate::io::device_size(&file))
            .map_err(|e| {
                Error::io(format!("--data-blocks is missing and the size of {} cannot be read", data_dev.display()), e)
            })?,
    };
    Ok(super::config::resolve_existing_config_with(opts, None, data_size)?.0)
}

/// Reads the parameters of an existing tree from files: the superblock, or the
/// options with `no_superblock`. The data device is only looked at for its size.
pub fn config_from_paths(data: &Path, hash: &Path, opts: &VerityOptions) -> Result<(VerityConfig, Vec<Warning>)> {
    let data_size =
        crate::io::device_size(&open_read(data, "data")?).map_err(|e| Error::io("reading the data size", e))?;
    let hash_dev = FileDevice::new(open_read(hash, "hash")?).map_err(|e| Error::io("opening the hash device", e))?;
    resolve_existing_config(&hash_dev, opts, data_size)
}

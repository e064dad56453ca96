//! Format and verify on paths: files and block devices, with the checks that must
//! happen before the hash file is created.

use super::config::{TreeRandomness, resolve_new_config};
use super::device::{check_devices, resolve_existing_config};
use super::error::{Error, Result};
use super::params::{VerityConfig, VerityOptions};
use super::{FormatOutcome, HashChoice, RunOptions, VerifyReport, Warning, format_config, verify};
use crate::io::{BlockRead, FileDevice, MappedFile};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
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

/// Same file, or the same block device through two device nodes.
fn same_device(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let both_block = a.file_type().is_block_device() && b.file_type().is_block_device();
    (a.dev() == b.dev() && a.ino() == b.ino()) || (both_block && a.rdev() == b.rdev())
}

fn same_file(a: &File, b: &File) -> Result<bool> {
    let meta = |f: &File| f.metadata().map_err(|e| Error::io("reading file metadata", e));
    Ok(same_device(&meta(a)?, &meta(b)?))
}

/// The data source for a path: regular files are memory-mapped; block devices are read
/// with `pread`, so that a media error comes back as EIO instead of killing the process
/// with SIGBUS (on a disk, the copy costs nothing next to the reads).
fn data_source(file: File, path: &Path) -> Result<Box<dyn BlockRead>> {
    use std::os::unix::fs::FileTypeExt;
    let kind = file.metadata().map_err(|e| Error::io(format!("reading metadata of {}", path.display()), e))?;
    if kind.file_type().is_block_device() {
        Ok(Box::new(FileDevice::new(file).map_err(|e| Error::io(format!("opening {}", path.display()), e))?))
    } else {
        Ok(Box::new(MappedFile::new(&file).map_err(|e| Error::io(format!("mapping {}", path.display()), e))?))
    }
}

/// [`format()`](super::format()) on files or block devices. The hash file is created if missing and never
/// truncated; it may be the data file itself. Nothing is created or written unless the
/// parameters and the data device pass every check.
pub fn format_paths(data: &Path, hash: &Path, opts: &VerityOptions, run: &RunOptions<'_>) -> Result<FormatOutcome> {
    let data_file = open_read(data, "data")?;
    let data_meta = data_file.metadata().map_err(|e| Error::io("reading data metadata", e))?;
    let same = std::fs::metadata(hash).is_ok_and(|meta| same_device(&meta, &data_meta));
    let data_size = crate::io::device_size(&data_file).map_err(|e| Error::io("reading the data size", e))?;
    // Everything that can be refused is checked before the hash file is created.
    let (config, warnings) = resolve_new_config(opts, data_size, &TreeRandomness::from_os()?)?;
    check_devices(&config, &config.validate()?, data_size, same)?;
    run.hashing.check()?;
    let source = data_source(data_file, data)?;

    let hash_dev = FileDevice::open_rw(hash).map_err(|e| Error::io(format!("opening hash {}", hash.display()), e))?;
    let hash_meta = hash_dev.file().metadata().map_err(|e| Error::io("reading hash metadata", e))?;
    let same = same_device(&data_meta, &hash_meta);
    format_config(source.as_ref(), &hash_dev, same, config, warnings, run)
}

/// [`verify()`] on files or block devices.
pub fn verify_paths(
    data: &Path,
    hash: &Path,
    opts: &VerityOptions,
    root_hash: &[u8],
    run: &RunOptions<'_>,
) -> Result<VerifyReport> {
    let data_file = open_read(data, "data")?;
    let hash_file = open_read(hash, "hash")?;
    let same = same_file(&data_file, &hash_file)?;
    let hash_dev = FileDevice::new(hash_file).map_err(|e| Error::io("opening the hash device", e))?;
    verify(data_source(data_file, data)?.as_ref(), &hash_dev, same, opts, root_hash, run)
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
    let data_file = open_read(data, "data")?;
    let hash_file = open_read(hash, "hash")?;
    let same = same_file(&data_file, &hash_file)?;
    let hash_dev = FileDevice::new(hash_file).map_err(|e| Error::io("opening the hash device", e))?;
    super::verify_range(data_source(data_file, data)?.as_ref(), &hash_dev, same, opts, root_hash, bytes, hashing)
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

//! FEC on whole images: where the parity goes and what it covers, as veritysetup decides
//! it; format with parity; the numbers of the kernel table's `use_fec_from_device`.
//!
//! Every check runs before the first byte is written: roots 2..=24, data and hash blocks
//! of one size, a parity offset of whole blocks, no overlap between the parity area and
//! the data area or the tree on a shared device, a hash device that reaches the parity
//! offset when the parity shares it.

use super::error::{FecError, Result};
use super::layout::{FecLayout, FecParams};
use super::rs::check_roots;
use super::{EncodeOptions, FecBackend, encode};
use crate::io::{BlockDevice, BlockRead, BlockWrite, FileDevice};
use crate::verity::{FormatOutcome, RunOptions, TreeLayout, VerityConfig, VerityOptions};
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Parity bytes per codeword when none are given, as veritysetup's default.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const DEFAULT_ROOTS: u32 = 2;

/// The FEC options of format, verify, repair and table: veritysetup's `--fec-roots`
/// and `--fec-offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecOptions {
    /// Parity bytes per codeword, 2..=24.
    pub roots: u32,
    /// Byte offset of the parity area on the FEC device; a multiple of the block size.
    pub offset: u64,
    /// The encoder backend; `None` is the fastest the CPU runs.
    pub backend: Option<FecBackend>,
}

impl Default for FecOptions {
    fn default() -> Self {
        FecOptions { roots: DEFAULT_ROOTS, offset: 0, backend: None }
    }
}

/// Which other devices the FEC device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sharing {
    /// The FEC device is the data device.
    pub with_data: bool,
    /// The FEC device is the hash device: the covered stream then ends at the parity
    /// offset instead of the end of the hash device.
    pub with_hash: bool,
}

/// A checked parity placement: the geometry and where the parity area starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecPlacement {
    /// The interleaving and the parity layout.
    pub layout: FecLayout,
    /// Byte offset of the parity area on the FEC device.
    pub offset: u64,
}

impl FecPlacement {
    /// Checks the FEC options against a tree and computes the geometry, as veritysetup
    /// does. `hash_size` is the size of the hash device (after format, for a format);
    /// `sharing` says which devices the FEC device is.
    pub fn new(
        config: &VerityConfig,
        tree: &TreeLayout,
        hash_size: u64,
        sharing: Sharing,
        options: &FecOptions,
    ) -> Result<Self> {
        check_roots(options.roots)?;
        if config.data_block_size != config.hash_block_size {
            return Err(FecError::BlockSizesDiffer { data: config.data_block_size, hash: config.hash_block_size });
        }
        let block_size = config.data_block_size;
        let offset = options.offset;
        if !offset.is_multiple_of(block_size as u64) {
            return Err(FecError::MisalignedOffset { offset, block_size });
        }
        let tree_end = tree.hash_end_bytes()?;
        let covered_end = if sharing.with_hash {
            if offset > hash_size {
                return Err(FecError::InputTooShort { which: "hash", needed: offset, actual: hash_size });
            }
            offset
        } else {
            hash_size
        };
        let layout = FecLayout::new(&FecParams {
            data_blocks: config.data_blocks,
            block_size,
            hash_start_block: tree.hash_start_block(),
            hash_covered_end: covered_end,
            roots: options.roots,
        })?;
        let parity_end = layout.parity_end(offset)?;
        let overlaps = |start: u64, end: u64| start < parity_end && offset < end;
        if sharing.with_hash {
            let tree_start = config.hash_offset;
            if overlaps(tree_start, tree_end) || offset < tree_end {
                return Err(FecError::AreasOverlap {
                    first: "FEC",
                    first_start: offset,
                    first_end: parity_end,
                    second: "hash",
                    second_start: tree_start,
                    second_end: tree_end,
                });
            }
        }
        if sharing.with_data {
            let data_end = config.data_area_bytes()?;
            if overlaps(0, data_end) {
                return Err(FecError::AreasOverlap {
                    first: "FEC",
                    first_start: offset,
                    first_end: parity_end,
                    second: "data",
                    second_start: 0,
                    second_end: data_end,
                });
            }
        }
        Ok(FecPlacement { layout, offset })
    }

    /// Parity bytes per codeword: the kernel table's `fec_roots`.
    pub fn roots(&self) -> u32 {
        self.layout.roots()
    }
    /// Covered blocks: the kernel table's `fec_blocks`.
    pub fn fec_blocks(&self) -> u64 {
        self.layout.fec_blocks()
    }
    /// The parity offset in blocks: the kernel table's `fec_start`.
    pub fn fec_start(&self) -> u64 {
        self.offset / self.layout.block_size() as u64
    }
    /// Blocks of parity, veritysetup's "FEC blocks".
    pub fn parity_blocks(&self) -> u64 {
        self.layout.parity_blocks()
    }
    /// End of the parity area on the FEC device.
    pub fn parity_end(&self) -> u64 {
        // FecPlacement::new checked it.
        self.offset.saturating_add(self.layout.parity_bytes())
    }
}

/// What [`format_paths`] did.
#[derive(Debug, Clone)]
pub struct FecFormatOutcome {
    /// The tree.
    pub tree: FormatOutcome,
    /// The parity placement.
    pub placement: FecPlacement,
    /// The backend that computed the parity.
    pub backend: FecBackend,
}

/// Identity of a file or block device, to tell whether two paths are one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    dev: u64,
    ino: u64,
    rdev: Option<u64>,
}

impl Identity {
    pub(crate) fn of_meta(meta: &std::fs::Metadata) -> Self {
        let rdev = meta.file_type().is_block_device().then(|| meta.rdev());
        Identity { dev: meta.dev(), ino: meta.ino(), rdev }
    }

    pub(crate) fn of_path(path: &Path) -> Option<Self> {
        std::fs::metadata(path).ok().map(|m| Self::of_meta(&m))
    }

    fn same(self, other: Self) -> bool {
        (self.dev == other.dev && self.ino == other.ino) || (self.rdev.is_some() && self.rdev == other.rdev)
    }
}

/// Whether the paths `a` and `b` are one device: the same file or block device when
/// both exist, the same path text otherwise.
pub(crate) fn same_path(a: &Path, b: &Path) -> bool {
    match (Identity::of_path(a), Identity::of_path(b)) {
        (Some(x), Some(y)) => x.same(y),
        _ => a == b,
    }
}

fn open(path: &Path, access: crate::sys::file::Access, what: &str) -> Result<File> {
    crate::sys::file::open(path, access).map_err(|e| FecError::io(format!("opening {what} {}", path.display()), e))
}

fn size_of(file: &File, what: &str) -> Result<u64> {
    crate::io::device_size(file).map_err(|e| FecError::io(format!("reading the size of the {what} device"), e))
}

fn is_block_device(file: &File) -> Result<bool> {
    Ok(file.metadata().map_err(|e| FecError::io("reading file metadata", e))?.file_type().is_block_device())
}

/// [`crate::verity::format_paths`] plus the parity, byte-identical to `veritysetup format
/// --fec-device FEC [--fec-roots R] [--fec-offset O]`. FEC may be a file of its own,
/// the hash file (at an offset after the tree) or the one file holding data, tree and
/// parity. Nothing is created or written unless every check of the tree and the FEC
/// passes; the parity is written after the tree and flushed.
pub fn format_paths(
    data: &Path,
    hash: &Path,
    fec: &Path,
    opts: &VerityOptions,
    fec_opts: &FecOptions,
    run: &RunOptions<'_>,
) -> Result<FecFormatOutcome> {
    let data_size = size_of(&open(data, crate::sys::file::Access::Read, "data")?, "data")?;
    let sharing = Sharing { with_data: same_path(fec, data), with_hash: same_path(fec, hash) };
    let hash_size_now = match std::fs::metadata(hash) {
        Ok(_) => size_of(&open(hash, crate::sys::file::Access::Read, "hash")?, "hash")?,
        Err(_) => 0,
    };
    let placement = planned_placement(opts, data_size, hash_size_now, sharing, fec_opts)?;
    if std::fs::metadata(fec).is_ok() {
        let fec_file = open(fec, crate::sys::file::Access::Read, "FEC device")?;
        if is_block_device(&fec_file)? {
            check_output_size(&placement, size_of(&fec_file, "FEC")?)?;
        }
    }

    let tree_outcome = crate::verity::format_paths(data, hash, opts, run)?;

    let data_dev = FileDevice::new(open(data, crate::sys::file::Access::Read, "data")?)
        .map_err(|e| FecError::io("opening the data device", e))?;
    let hash_dev = FileDevice::new(open(hash, crate::sys::file::Access::Read, "hash")?)
        .map_err(|e| FecError::io("opening the hash device", e))?;
    let fec_dev = FileDevice::open_rw(fec).map_err(|e| FecError::io(format!("opening FEC {}", fec.display()), e))?;
    write_parity(&data_dev, &hash_dev, &fec_dev, tree_outcome, placement, fec_opts, run)
}

/// [`crate::verity::format()`] plus the parity, on devices: the tree goes to `hash`
/// (`same_device` says that `data` and `hash` are one device) and the parity to `fec`,
/// which `sharing` says may be the data or the hash device too. As [`format_paths`],
/// every check runs before anything is written; a FEC device of fixed capacity must
/// hold the whole parity area.
#[allow(clippy::too_many_arguments)]
pub fn format(
    data: &dyn BlockRead,
    hash: &dyn BlockDevice,
    fec: &dyn BlockDevice,
    same_device: bool,
    sharing: Sharing,
    opts: &VerityOptions,
    fec_opts: &FecOptions,
    run: &RunOptions<'_>,
) -> Result<FecFormatOutcome> {
    let data_size = data.size().map_err(|e| FecError::io("reading the data device size", e))?;
    let hash_size_now = hash.size().map_err(|e| FecError::io("reading the hash device size", e))?;
    let placement = planned_placement(opts, data_size, hash_size_now, sharing, fec_opts)?;
    if let Some(capacity) = fec.capacity().map_err(|e| FecError::io("reading the FEC device size", e))? {
        check_output_size(&placement, capacity)?;
    }
    let tree_outcome = crate::verity::format(data, hash, same_device, opts, run)?;
    write_parity(data, hash, fec, tree_outcome, placement, fec_opts, run)
}

/// The parity placement a format with `opts` on `data_size` bytes of data gives, checked
/// before anything is written, with the encoder (a forced backend) chosen too.
/// `hash_size_now` is the hash device's size before the format, which never shrinks it.
fn planned_placement(
    opts: &VerityOptions,
    data_size: u64,
    hash_size_now: u64,
    sharing: Sharing,
    fec_opts: &FecOptions,
) -> Result<FecPlacement> {
    // The geometry does not depend on the salt and UUID, so any will do for the checks.
    let random = crate::verity::TreeRandomness { salt: [0; crate::verity::DEFAULT_SALT_SIZE], uuid: [0; 16] };
    let (config, _) = crate::verity::resolve_new_config(opts, data_size, &random)?;
    let tree = config.validate()?;
    let tree_end = tree.hash_end_bytes()?;
    let placement = FecPlacement::new(&config, &tree, hash_size_now.max(tree_end), sharing, fec_opts)?;
    super::BatchEncoder::new(fec_opts.roots, fec_opts.backend)?;
    Ok(placement)
}

fn check_output_size(placement: &FecPlacement, actual: u64) -> Result<()> {
    if actual < placement.parity_end() {
        return Err(FecError::OutputTooSmall { needed: placement.parity_end(), actual });
    }
    Ok(())
}

/// Encodes and flushes the parity of a tree that format has just written.
fn write_parity(
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    fec: &dyn BlockWrite,
    tree: FormatOutcome,
    placement: FecPlacement,
    fec_opts: &FecOptions,
    run: &RunOptions<'_>,
) -> Result<FecFormatOutcome> {
    let options = EncodeOptions { backend: fec_opts.backend, threads: run.threads, window_rounds: None };
    let outcome = encode(data, hash, &placement.layout, fec, placement.offset, &options)?;
    fec.flush().map_err(|e| FecError::io("flushing the FEC device", e))?;
    Ok(FecFormatOutcome { tree, placement, backend: outcome.backend })
}

/// The placement of existing parity, for verify, repair and the kernel table: the tree
/// configuration `config`, the hash device's size, and which devices the FEC device is.
/// The FEC device's size is checked against the parity area when it is known.
pub fn existing_placement(
    config: &VerityConfig,
    hash_size: u64,
    sharing: Sharing,
    fec_size: Option<u64>,
    fec_opts: &FecOptions,
) -> Result<FecPlacement> {
    let tree = config.validate()?;
    let placement = FecPlacement::new(config, &tree, hash_size, sharing, fec_opts)?;
    if let Some(actual) = fec_size
        && actual < placement.parity_end()
    {
        return Err(FecError::ParityTooShort { needed: placement.parity_end(), actual });
    }
    Ok(placement)
}

/// The placement for a kernel table on paths: the FEC device is compared with the data
/// and hash devices, and the hash device's size is read when the parity is elsewhere
/// (the stream then covers it to its end). Devices that cannot be opened (a
/// `major:minor`) count as distinct, as their names are.
pub fn table_placement(
    config: &VerityConfig,
    data_dev: &Path,
    hash_dev: &Path,
    fec_dev: &Path,
    fec_opts: &FecOptions,
) -> Result<FecPlacement> {
    let sharing = Sharing { with_data: same_path(fec_dev, data_dev), with_hash: same_path(fec_dev, hash_dev) };
    let hash_size = if sharing.with_hash {
        fec_opts.offset
    } else {
        size_of(&open(hash_dev, crate::sys::file::Access::Read, "hash device")?, "hash")?
    };
    let tree = config.validate()?;
    FecPlacement::new(config, &tree, hash_size, sharing, fec_opts)
}

/// Reads `len` bytes at `offset` of `dev` into a new vector.
pub(crate) fn read_vec(dev: &dyn BlockRead, offset: u64, len: usize, what: &str) -> Result<Vec<u8>> {
    let mut scratch = Vec::new();
    let view = dev
        .read_view(offset, len, &mut scratch)
        .map_err(|e| FecError::io(format!("reading {len} bytes of the {what} at offset {offset}"), e))?;
    Ok(view.to_vec())
}

/// [`super::repair()`] on files or block devices: checks the parity of the image and
/// which damaged blocks it repairs; with `write`, repairs them in place (nothing is
/// written unless every damaged block is repairable). The devices are opened for
/// writing only with `write`.
#[allow(clippy::too_many_arguments)]
pub fn repair_paths(
    data: &Path,
    hash: &Path,
    fec: &Path,
    opts: &VerityOptions,
    fec_opts: &FecOptions,
    root_hash: &[u8],
    run: &RunOptions<'_>,
    write: bool,
) -> Result<super::RepairReport> {
    let access = if write { crate::sys::file::Access::ReadWrite } else { crate::sys::file::Access::Read };
    let device = |path: &Path, what: &str| -> Result<FileDevice> {
        FileDevice::new(open(path, access, what)?).map_err(|e| FecError::io(format!("opening {what}"), e))
    };
    let (data_dev, hash_dev, fec_dev) = (device(data, "data")?, device(hash, "hash")?, device(fec, "FEC device")?);
    let sharing = Sharing { with_data: same_path(fec, data), with_hash: same_path(fec, hash) };
    repair_devices(
        &data_dev,
        &hash_dev,
        &fec_dev,
        same_path(data, hash),
        sharing,
        opts,
        fec_opts,
        root_hash,
        run,
        write,
    )
}

/// [`repair_paths`] on devices: `same_device` says that `data` and `hash` are one
/// device, `sharing` which of them the FEC device is. The tree's parameters come from
/// the superblock (or `opts`), the parity placement from them and the devices' sizes.
#[allow(clippy::too_many_arguments)]
pub fn repair_devices(
    data: &dyn BlockDevice,
    hash: &dyn BlockDevice,
    fec: &dyn BlockDevice,
    same_device: bool,
    sharing: Sharing,
    opts: &VerityOptions,
    fec_opts: &FecOptions,
    root_hash: &[u8],
    run: &RunOptions<'_>,
    write: bool,
) -> Result<super::RepairReport> {
    let data_size = data.size().map_err(|e| FecError::io("reading the data device size", e))?;
    let (config, _) = crate::verity::resolve_existing_config(hash, opts, data_size)?;
    let hash_size = hash.size().map_err(|e| FecError::io("reading the hash device size", e))?;
    let fec_size = fec.size().map_err(|e| FecError::io("reading the FEC device size", e))?;
    let placement = existing_placement(&config, hash_size, sharing, Some(fec_size), fec_opts)?;
    super::repair(data, hash, fec, same_device, opts, root_hash, &placement, run, write)
}

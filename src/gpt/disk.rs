//! A disk with a GPT: each operation reads both copies afresh, changes the table in
//! memory, and writes it back crash-safely only if the whole operation succeeded.

use super::attrs::AttrChange;
use super::entries::Partition;
use super::error::{Error, Result, Which};
use super::guid::Guid;
use super::header::SIGNATURE;
use super::prioritize::PrioritizeRequest;
use super::read::read;
use super::table::Gpt;
use super::write::{Fixes, apply};
use crate::io::{BlockRead, BlockWrite, FileDevice};
use std::path::Path;

/// The logical block size to read the disk with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockSize {
    /// Ask the device; for an image file, look for the GPT signature with 512- and then
    /// 4096-byte blocks.
    #[default]
    Detect,
    /// Use this size (512 or 4096). For a block device it must match the device.
    Fixed(u32),
}

/// The result of a writing operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written(pub bool);

/// What `next` chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextBoot {
    /// The partition to boot, with its attributes after the try was used.
    pub partition: Partition,
    /// Whether the table was written (a try was used).
    pub written: bool,
}

/// What `repair` found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepairReport {
    /// The primary copy was rebuilt from the backup.
    pub primary_rebuilt: bool,
    /// The backup copy was rebuilt from the primary.
    pub backup_rebuilt: bool,
    /// The backup was moved to the new last LBA.
    pub backup_moved: bool,
    /// The protective MBR was rewritten.
    pub pmbr_rewritten: bool,
}

impl RepairReport {
    /// True when anything was written.
    pub fn changed(&self) -> bool {
        self.primary_rebuilt || self.backup_rebuilt || self.backup_moved || self.pmbr_rewritten
    }
}

/// A device holding a GPT, with its logical block size settled.
pub struct GptDisk<D> {
    device: D,
    block_size: u32,
}

/// Looks for `EFI PART` where a 512- or 4096-byte-block GPT would have a header.
fn detect_block_size(device: &dyn BlockRead) -> Result<u32> {
    let size = device.size().map_err(|e| Error::io("reading the disk size", e))?;
    let signature_at = |offset: u64| {
        let mut scratch = Vec::new();
        device.read_view(offset, SIGNATURE.len(), &mut scratch).is_ok_and(|bytes| bytes == SIGNATURE)
    };
    for bs in [512u64, 4096] {
        let last = (size / bs).checked_sub(1).map(|lba| lba * bs);
        if size / bs >= 3 && (signature_at(bs) || last.is_some_and(signature_at)) {
            return Ok(bs as u32);
        }
    }
    Err(Error::NoGpt)
}

impl<D: BlockRead> GptDisk<D> {
    /// Wraps a device. `Detect` probes for the signature; use [`open_path`] for block
    /// devices so that their logical block size comes from the kernel.
    pub fn new(device: D, block_size: BlockSize) -> Result<Self> {
        let block_size = match block_size {
            BlockSize::Fixed(bs @ (512 | 4096)) => bs,
            BlockSize::Fixed(bs) => return Err(Error::InvalidBlockSize(bs)),
            BlockSize::Detect => detect_block_size(&device)?,
        };
        Ok(GptDisk { device, block_size })
    }

    /// The logical block size in use.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Gives the device back.
    pub fn into_device(self) -> D {
        self.device
    }

    /// Reads and checks both copies.
    pub fn read(&self) -> Result<Gpt> {
        read(&self.device, self.block_size)
    }
}

impl<D: BlockRead + BlockWrite> GptDisk<D> {
    /// Writes `gpt` back; returns whether anything had to be written.
    fn commit(&self, gpt: &Gpt, fixes: Fixes) -> Result<Written> {
        let steps = gpt.plan(fixes)?;
        apply(&self.device, &steps)?;
        Ok(Written(!steps.is_empty()))
    }

    /// Reads, checks both copies are valid (as `cgpt add` does), edits, writes.
    fn edit(&self, change: impl FnOnce(&mut Gpt) -> Result<()>) -> Result<Written> {
        let mut gpt = self.read()?;
        gpt.require_both_valid()?;
        change(&mut gpt)?;
        self.commit(&gpt, Fixes::default())
    }

    /// `cgpt add -i N [-P] [-T] [-S]`.
    pub fn set(&self, index: u32, change: AttrChange) -> Result<Written> {
        self.edit(|gpt| gpt.apply_change(index, &change))
    }

    /// `cgpt prioritize [-i N] [-f] [-P max]` over the partitions of `type_guid`.
    pub fn prioritize(&self, request: PrioritizeRequest, type_guid: Guid) -> Result<Written> {
        self.edit(|gpt| gpt.apply_prioritize(&request, type_guid))
    }

    /// Takes a slot out of rotation: priority 0, tries and successful kept.
    pub fn invalidate(&self, index: u32) -> Result<Written> {
        self.set(index, AttrChange { priority: Some(0), ..Default::default() })
    }

    /// GRUB `gptprio.next`: chooses the slot to boot among the partitions of
    /// `type_guid` and uses up one of its tries. A bad copy is rebuilt from the good one
    /// in the same write, and nothing is written when no try was used.
    pub fn next(&self, type_guid: Guid) -> Result<NextBoot> {
        let mut gpt = self.read()?;
        let (partition, changed) = gpt.apply_next(type_guid)?;
        let written = changed && self.commit(&gpt, Fixes::default())?.0;
        Ok(NextBoot { partition, written })
    }

    /// Flatcar post-install on the freshly written slot: repair, S=0 T=1, prioritize.
    pub fn mark_update(&self, index: u32, type_guid: Guid) -> Result<Written> {
        self.repair_and(|gpt| gpt.apply_mark_update(index, type_guid))
    }

    /// Flatcar setgoodroot after a good boot: repair, S=1 T=0, prioritize.
    pub fn mark_good(&self, index: u32, type_guid: Guid) -> Result<Written> {
        self.repair_and(|gpt| gpt.apply_mark_good(index, type_guid))
    }

    fn repair_and(&self, change: impl FnOnce(&mut Gpt) -> Result<()>) -> Result<Written> {
        let mut gpt = self.read()?;
        change(&mut gpt)?;
        self.commit(&gpt, Fixes { relocate_backup: true, pmbr: false })
    }

    /// Rebuilds a bad copy from the good one, moves the backup to the end of a grown
    /// disk, and (only when `fix_pmbr`) rewrites an invalid protective MBR. Refuses when
    /// both copies are bad.
    pub fn repair(&self, fix_pmbr: bool) -> Result<RepairReport> {
        let gpt = self.read()?;
        let report = RepairReport {
            primary_rebuilt: !gpt.copy_state(Which::Primary).is_valid(),
            backup_rebuilt: !gpt.copy_state(Which::Backup).is_valid(),
            backup_moved: gpt.backup_misplaced(),
            pmbr_rewritten: fix_pmbr && !gpt.pmbr().is_valid(),
        };
        self.commit(&gpt, Fixes { relocate_backup: true, pmbr: fix_pmbr })?;
        Ok(report)
    }
}

/// Takes the exclusive lock, waiting up to 10 s for another rootseal to finish: a boot
/// or update script must not hang forever behind a stuck process.
fn lock_exclusive(file: &std::fs::File, path: &Path) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Locked(path.display().to_string())),
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(format!("locking {}", path.display()), e)),
        }
    }
}

/// Opens a disk image or block device. Block devices report their logical block size
/// (BLKSSZGET); a `Fixed` size that disagrees is refused. Writable opens take an
/// exclusive advisory lock, so two rootseal processes never interleave their writes.
pub fn open_path(path: &Path, block_size: BlockSize, writable: bool) -> Result<GptDisk<FileDevice>> {
    let context = || format!("opening {}", path.display());
    let access = if writable { crate::sys::file::Access::ReadWrite } else { crate::sys::file::Access::Read };
    let file = crate::sys::file::open(path, access).map_err(|e| Error::io(context(), e))?;
    if writable {
        lock_exclusive(&file, path)?;
    }
    let device = FileDevice::new(file).map_err(|e| Error::io(context(), e))?;
    let block_size = if device.capacity().map_err(|e| Error::io(context(), e))?.is_some() {
        let actual = crate::sys::blkdev::logical_block_size(device.file()).map_err(|e| Error::io(context(), e))?;
        match block_size {
            BlockSize::Fixed(requested) if requested != actual => {
                return Err(Error::BlockSizeMismatch { device: actual, requested });
            }
            _ => BlockSize::Fixed(actual),
        }
    } else {
        block_size
    };
    GptDisk::new(device, block_size)
}

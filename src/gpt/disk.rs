//! A disk with a GPT: each operation reads both copies afresh, changes the table in
//! memory, and writes it back crash-safely only if the whole operation succeeded.

use super::attrs::AttrChange;
use super::device::{Device, read};
use super::entries::Partition;
use super::error::{Error, Result, Which};
use super::guid::Guid;
use super::pmbr::PmbrFix;
use super::prioritize::PrioritizeRequest;
use super::read::detect_block_size;
use super::table::Gpt;
use super::write::Fixes;
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
    /// Set when the preferred slot needed its try recorded and the table could not be
    /// written: why. The partition is then the best slot marked successful, booted
    /// without a write (a trial slot is never booted without recording its try).
    pub fallback: Option<String>,
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
    /// The file the advisory lock is held on, when it is not the device itself.
    lock: Option<std::fs::File>,
}

impl<D: BlockRead> GptDisk<D> {
    /// Wraps a device. `Detect` probes for the signature; use [`open_path`] for block
    /// devices so that their logical block size comes from the kernel.
    pub fn new(device: D, block_size: BlockSize) -> Result<Self> {
        let block_size = match block_size {
            BlockSize::Fixed(bs @ (512 | 4096)) => bs,
            BlockSize::Fixed(bs) => return Err(Error::InvalidBlockSize(bs)),
            BlockSize::Detect => detect_block_size(&mut Device(&device))?,
        };
        Ok(GptDisk { device, block_size, lock: None })
    }

    /// The logical block size in use.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Gives the device back (and drops the lock `open_path` took, if it was held on
    /// another file).
    pub fn into_device(self) -> D {
        self.device
    }

    /// The same disk over a wrapped device (for example boxed), keeping the block size
    /// and the lock `open_path` took.
    pub fn map_device<E>(self, wrap: impl FnOnce(D) -> E) -> GptDisk<E> {
        GptDisk { device: wrap(self.device), block_size: self.block_size, lock: self.lock }
    }

    /// Reads and checks both copies.
    pub fn read(&self) -> Result<Gpt> {
        read(&self.device, self.block_size)
    }
}

impl<D: BlockRead + BlockWrite> GptDisk<D> {
    /// Writes `gpt` back; returns whether anything had to be written.
    fn commit(&self, gpt: &Gpt, fixes: Fixes) -> Result<Written> {
        gpt.commit(fixes, &mut Device(&self.device)).map(Written)
    }

    /// Reads, checks both copies are valid (as `cgpt add` does), edits, writes.
    fn edit(&self, change: impl FnOnce(&mut Gpt) -> Result<()>) -> Result<Written> {
        self.read()?.edit_and_commit(change, &mut Device(&self.device)).map(Written)
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
    ///
    /// The choice never depends on a repair succeeding: when the try cannot be recorded
    /// (the table cannot be written back, for example a shrunk disk whose backup no
    /// longer fits), the best slot marked successful is chosen instead, with nothing
    /// written and the reason in [`NextBoot::fallback`].
    pub fn next(&self, type_guid: Guid) -> Result<NextBoot> {
        let mut gpt = self.read()?;
        let outcome = gpt.next_and_commit(type_guid, &mut Device(&self.device))?;
        // The name from the table, the attributes as they now are on disk.
        let partition = Partition { attributes: outcome.chosen.attributes, ..gpt.partition(outcome.chosen.index)? };
        Ok(NextBoot { partition, written: outcome.written, fallback: outcome.fallback.map(|e| e.to_string()) })
    }

    /// Flatcar post-install on the freshly written slot: repair, S=0 T=1, prioritize.
    pub fn mark_update(&self, index: u32, type_guid: Guid) -> Result<Written> {
        self.read()?.mark_and_commit(index, type_guid, false, &mut Device(&self.device)).map(Written)
    }

    /// Flatcar setgoodroot after a good boot: repair, S=1 T=0, prioritize.
    pub fn mark_good(&self, index: u32, type_guid: Guid) -> Result<Written> {
        self.read()?.mark_and_commit(index, type_guid, true, &mut Device(&self.device)).map(Written)
    }

    /// Rebuilds a bad copy from the good one and moves the backup to the end of a grown
    /// or shrunk disk (refusing when a partition would be cut, as `sgdisk -e`). As
    /// Flatcar's cgpt, it writes a protective MBR when LBA 0 has none (boot code bytes
    /// kept) or when the protective MBR's size field is stale; a hybrid MBR is left
    /// alone unless `fix_pmbr`, which then corrects its 0xEE record's size only.
    /// Refuses when both copies are bad. An IGNOREME primary stays as it is.
    pub fn repair(&self, fix_pmbr: bool) -> Result<RepairReport> {
        let gpt = self.read()?;
        let pmbr = if fix_pmbr { PmbrFix::Force } else { PmbrFix::Repair };
        let report = RepairReport {
            primary_rebuilt: !gpt.copy_state(Which::Primary).is_valid() && !gpt.primary_ignored(),
            backup_rebuilt: !gpt.copy_state(Which::Backup).is_valid(),
            backup_moved: gpt.backup_misplaced(),
            pmbr_rewritten: gpt.pmbr_repair(pmbr).is_some(),
        };
        self.commit(&gpt, Fixes { relocate_backup: true, pmbr })?;
        Ok(report)
    }
}

/// How a disk is locked: writers exclusively, readers shared, so that a reader never
/// sees a table half-written by another rootseal process.
#[derive(Clone, Copy)]
enum LockMode {
    Shared,
    Exclusive,
}

/// Takes the lock, waiting up to 10 s for another rootseal to finish: a boot or update
/// script must not hang forever behind a stuck process. The lock follows the device,
/// not the node (see `sys::lock`): it is taken on the returned file when there is one,
/// else on `file`; either way it lasts as long as that file stays open.
fn lock(file: &std::fs::File, path: &Path, mode: LockMode) -> Result<Option<std::fs::File>> {
    let context = || format!("locking {}", path.display());
    let target = crate::sys::lock::lock_target(file).map_err(|e| Error::io(context(), e))?;
    let locked = target.as_ref().unwrap_or(file);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let attempt = match mode {
            LockMode::Shared => locked.try_lock_shared(),
            LockMode::Exclusive => locked.try_lock(),
        };
        match attempt {
            Ok(()) => return Ok(target),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Locked(path.display().to_string())),
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(context(), e)),
        }
    }
}

/// Opens a disk image or block device. Block devices report their logical block size
/// (BLKSSZGET); a `Fixed` size that disagrees is refused. Writable opens take an
/// exclusive advisory lock and read-only opens a shared one, held until the
/// [`GptDisk`] is dropped, so two rootseal processes never interleave their writes and
/// a reader never sees a half-written table. For a block device the lock is taken on
/// the kernel's node for its device number, so another node for the same disk (made
/// with `mknod`) does not bypass it.
pub fn open_path(path: &Path, block_size: BlockSize, writable: bool) -> Result<GptDisk<FileDevice>> {
    let context = || format!("opening {}", path.display());
    let access = if writable { crate::sys::file::Access::ReadWrite } else { crate::sys::file::Access::Read };
    let file = crate::sys::file::open(path, access).map_err(|e| Error::io(context(), e))?;
    let mode = if writable { LockMode::Exclusive } else { LockMode::Shared };
    let lock_file = lock(&file, path, mode)?;
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
    let mut disk = GptDisk::new(device, block_size)?;
    disk.lock = lock_file;
    Ok(disk)
}

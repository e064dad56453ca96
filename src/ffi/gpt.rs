//! C entry points for GPT A/B slots: open a disk by path or by block-I/O callbacks, read
//! a partition's attributes, set, prioritize, next, mark-update, mark-good, invalidate,
//! repair, close.

use super::io::{CallbackDevice, rootseal_io};
use super::status::rootseal_status;
use super::{Failure, boundary, check_params, null, path_arg};
use crate::gpt::{self, AttrChange, BlockSize, GptDisk, Guid, Partition, PrioritizeRequest, Which};
use crate::io::BlockDevice;
use std::ffi::{CStr, c_char};
use std::sync::atomic::{AtomicBool, Ordering};

/// Current version of [`rootseal_gpt_open_params`].
pub const ROOTSEAL_GPT_OPEN_PARAMS_VERSION: u32 = 1;
/// Open flag: read only; every writing call on the handle fails.
pub const ROOTSEAL_GPT_OPEN_READ_ONLY: u32 = 1 << 0;

/// Current version of [`rootseal_gpt_set_params`].
pub const ROOTSEAL_GPT_SET_PARAMS_VERSION: u32 = 1;
/// `rootseal_gpt_set_params.fields`: set the priority.
pub const ROOTSEAL_GPT_SET_PRIORITY: u32 = 1 << 0;
/// `rootseal_gpt_set_params.fields`: set tries.
pub const ROOTSEAL_GPT_SET_TRIES: u32 = 1 << 1;
/// `rootseal_gpt_set_params.fields`: set the successful bit.
pub const ROOTSEAL_GPT_SET_SUCCESSFUL: u32 = 1 << 2;

/// Current version of [`rootseal_gpt_prioritize_params`].
pub const ROOTSEAL_GPT_PRIORITIZE_PARAMS_VERSION: u32 = 1;

/// `rootseal_gpt_repair` flag: also rewrite an invalid protective MBR.
pub const ROOTSEAL_GPT_REPAIR_PMBR: u32 = 1 << 0;
/// Bits of `rootseal_gpt_repair`'s `repaired_out`.
pub const ROOTSEAL_GPT_REPAIRED_PRIMARY: u32 = 1 << 0;
/// The backup copy was rebuilt.
pub const ROOTSEAL_GPT_REPAIRED_BACKUP: u32 = 1 << 1;
/// The backup was moved to the last LBA of a grown disk.
pub const ROOTSEAL_GPT_REPAIRED_BACKUP_MOVED: u32 = 1 << 2;
/// The protective MBR was rewritten.
pub const ROOTSEAL_GPT_REPAIRED_PMBR: u32 = 1 << 3;

/// How to open a disk. Zero it, set `version`, and set only what you need.
#[repr(C)]
pub struct rootseal_gpt_open_params {
    /// Must be `ROOTSEAL_GPT_OPEN_PARAMS_VERSION`.
    pub version: u32,
    /// Logical block size (512 or 4096); 0 = from the device (BLKSSZGET, or the
    /// `block_size` callback), else detected from the GPT signature.
    pub block_size: u32,
    /// `ROOTSEAL_GPT_OPEN_*` flags.
    pub flags: u32,
    /// Reserved, must be zero.
    pub reserved0: u32,
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// A partition entry and its A/B fields.
#[repr(C)]
pub struct rootseal_gpt_partition {
    /// 1-based partition number.
    pub index: u32,
    /// Priority, 0–15.
    pub priority: u8,
    /// Tries, 0–15.
    pub tries: u8,
    /// Successful, 0 or 1.
    pub successful: u8,
    /// Padding, zero.
    pub reserved0: u8,
    /// The whole 64-bit attribute word.
    pub attributes: u64,
    /// StartingLBA.
    pub first_lba: u64,
    /// EndingLBA (inclusive).
    pub last_lba: u64,
    /// Type GUID, lowercase text, NUL-terminated.
    pub type_guid: [c_char; 37],
    /// Unique GUID (PARTUUID), lowercase text, NUL-terminated.
    pub unique_guid: [c_char; 37],
    /// Padding, zero.
    pub reserved1: [u8; 6],
    /// Reserved for future fields; zero.
    pub reserved: [u64; 4],
}

/// A `cgpt add -P -T -S` request: `fields` says which of the three are set.
#[repr(C)]
pub struct rootseal_gpt_set_params {
    /// Must be `ROOTSEAL_GPT_SET_PARAMS_VERSION`.
    pub version: u32,
    /// `ROOTSEAL_GPT_SET_*` bits.
    pub fields: u32,
    /// Priority, 0–15 (out of range is an error, never clamped).
    pub priority: u8,
    /// Tries, 0–15.
    pub tries: u8,
    /// Successful, 0 or 1.
    pub successful: u8,
    /// Reserved, must be zero.
    pub reserved0: u8,
    /// Reserved, must be zero.
    pub reserved: [u32; 3],
}

/// A `cgpt prioritize` request.
#[repr(C)]
pub struct rootseal_gpt_prioritize_params {
    /// Must be `ROOTSEAL_GPT_PRIORITIZE_PARAMS_VERSION`.
    pub version: u32,
    /// Partition to put on top (1-based); 0 = none.
    pub index: u32,
    /// Non-zero: move the target's whole starting group (`-f`).
    pub friends: u32,
    /// Highest priority to hand out (1–15); 0 = the default.
    pub max_priority: u32,
    /// Participating type GUID as text; NULL = Flatcar usr.
    pub type_guid: *const c_char,
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// What `rootseal_gpt_next` chose.
#[repr(C)]
pub struct rootseal_gpt_next_result {
    /// The partition to boot, with its attributes after the try was used.
    pub partition: rootseal_gpt_partition,
    /// 1 when the table was written (a try was used), else 0.
    pub written: u32,
    /// 1 when the preferred slot's try could not be recorded (the table cannot be
    /// written, e.g. a shrunk disk): `partition` is then the best slot marked
    /// successful, booted with nothing written. Else 0.
    pub fallback: u32,
}

/// The state of both GPT copies.
#[repr(C)]
pub struct rootseal_gpt_state {
    /// Logical block size in bytes.
    pub block_size: u32,
    /// 1 when the primary copy is valid.
    pub primary_valid: u8,
    /// 1 when the backup copy is valid.
    pub backup_valid: u8,
    /// 1 when the backup header is at the last LBA.
    pub backup_at_end: u8,
    /// 1 when the protective MBR is valid (protective or hybrid).
    pub pmbr_valid: u8,
    /// Logical blocks on the disk.
    pub block_count: u64,
    /// NumberOfPartitionEntries.
    pub entry_count: u32,
    /// SizeOfPartitionEntry.
    pub entry_size: u32,
    /// Disk GUID, lowercase text, NUL-terminated.
    pub disk_guid: [c_char; 37],
    /// Padding, zero.
    pub reserved0: [u8; 3],
    /// Reserved for future fields; zero.
    pub reserved: [u64; 4],
}

/// An open disk. Opaque; close it with [`rootseal_gpt_close`]. Every call re-reads both
/// copies, so a handle never works from a stale table. One thread at a time per handle.
pub struct rootseal_gpt {
    disk: GptDisk<Box<dyn BlockDevice>>,
    read_only: bool,
    /// Set while a call runs on the handle: re-entry from a callback gets
    /// `ROOTSEAL_STATUS_BUSY` instead of a deadlock on the callback device's lock.
    busy: AtomicBool,
}

/// A handle marked busy for the duration of one call.
struct InUse<'a>(&'a rootseal_gpt);

impl InUse<'_> {
    fn take(handle: &rootseal_gpt) -> Result<InUse<'_>, Failure> {
        if handle.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(Failure::new(
                rootseal_status::Busy,
                "the rootseal_gpt handle is already in a call (a callback must not call back into its own handle)",
            ));
        }
        Ok(InUse(handle))
    }
}

impl std::ops::Deref for InUse<'_> {
    type Target = GptDisk<Box<dyn BlockDevice>>;
    fn deref(&self) -> &Self::Target {
        &self.0.disk
    }
}

impl Drop for InUse<'_> {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

fn guid_text(guid: Guid) -> [c_char; 37] {
    let mut out = [0 as c_char; 37];
    for (slot, byte) in out.iter_mut().zip(guid.to_string().bytes()) {
        *slot = byte as c_char;
    }
    out
}

fn partition_out(p: &Partition) -> rootseal_gpt_partition {
    rootseal_gpt_partition {
        index: p.index,
        priority: p.attributes.priority(),
        tries: p.attributes.tries(),
        successful: p.attributes.successful().into(),
        reserved0: 0,
        attributes: p.attributes.0,
        first_lba: p.first_lba,
        last_lba: p.last_lba,
        type_guid: guid_text(p.type_guid),
        unique_guid: guid_text(p.unique_guid),
        reserved1: [0; 6],
        reserved: [0; 4],
    }
}

/// Parses an optional text GUID; NULL means the Flatcar usr type.
///
/// # Safety
/// `text` must be NULL or NUL-terminated.
unsafe fn type_arg(text: *const c_char) -> Result<Guid, Failure> {
    if text.is_null() {
        return Ok(Guid::FLATCAR_USR);
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let text = unsafe { CStr::from_ptr(text) };
    let text = text.to_str().map_err(|_| Failure::new(rootseal_status::GptInvalidGuid, "type GUID is not UTF-8"))?;
    Ok(text.parse()?)
}

/// Reads and checks the open params; NULL means all defaults.
///
/// # Safety
/// `params` must be NULL or valid.
unsafe fn open_options(params: *const rootseal_gpt_open_params) -> Result<(u32, bool), Failure> {
    if params.is_null() {
        return Ok((0, false));
    }
    // SAFETY: non-NULL and valid per the contract above.
    let p = unsafe { &*params };
    let reserved_zero = p.reserved0 == 0 && p.reserved.iter().all(|&r| r == 0);
    check_params("rootseal_gpt_open_params", p.version, ROOTSEAL_GPT_OPEN_PARAMS_VERSION, reserved_zero)?;
    if p.flags & !ROOTSEAL_GPT_OPEN_READ_ONLY != 0 {
        return Err(Failure::new(rootseal_status::InvalidArgument, format!("unknown open flags {:#x}", p.flags)));
    }
    Ok((p.block_size, p.flags & ROOTSEAL_GPT_OPEN_READ_ONLY != 0))
}

fn block_size_option(block_size: u32) -> BlockSize {
    if block_size == 0 { BlockSize::Detect } else { BlockSize::Fixed(block_size) }
}

/// Stores a new handle.
///
/// # Safety
/// `out` must be valid for a pointer write.
unsafe fn store_handle(out: *mut *mut rootseal_gpt, handle: rootseal_gpt) {
    // SAFETY: checked non-NULL by the callers; writable per the contract above.
    unsafe { out.write(Box::into_raw(Box::new(handle))) };
}

/// Opens the disk image or block device at `path`. Block devices use their kernel
/// logical block size; images use `params.block_size` or are detected. A writable
/// open takes an exclusive advisory lock (flock) and a read-only open a shared one,
/// both held until `rootseal_gpt_close`; for a block device the lock is on the kernel's
/// node for its device number, so another node for the same disk does not bypass it. The table
/// is read and checked now, so a disk with no valid GPT fails here.
///
/// `params` may be NULL (defaults: writable, detected block size). `*out` is written
/// only on success.
///
/// # Safety
/// `path` NUL-terminated; `params` NULL or valid; `out` valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_open_path(
    path: *const c_char,
    params: *const rootseal_gpt_open_params,
    out: *mut *mut rootseal_gpt,
) -> rootseal_status {
    boundary(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: the caller's contract covers every pointer.
        let (path, (block_size, read_only)) = unsafe { (path_arg(path, "path")?, open_options(params)?) };
        let disk = gpt::open_path(path, block_size_option(block_size), !read_only)?;
        disk.read()?;
        // The lock (exclusive or shared) stays with the handle until close.
        let disk = disk.map_device(|device| -> Box<dyn BlockDevice> { Box::new(device) });
        // SAFETY: `out` is non-NULL (checked above) and writable per the contract.
        unsafe { store_handle(out, rootseal_gpt { disk, read_only, busy: AtomicBool::new(false) }) };
        Ok(rootseal_status::Ok)
    })
}

/// Opens a disk given as callbacks, so a bootloader needs no file system: `read` and
/// `size` always, `write` and `flush` unless `ROOTSEAL_GPT_OPEN_READ_ONLY`, and the
/// optional `block_size` callback (the block count is `size / block_size`). The
/// callbacks must stay valid until `rootseal_gpt_close`, and are only called during
/// rootseal calls on this handle, from the calling thread. A callback must not call
/// into the handle it serves: such a call returns `ROOTSEAL_STATUS_BUSY` (the handle
/// is busy until the outer call returns). A read callback that fails, returns 0 or
/// claims more bytes than asked gives `ROOTSEAL_STATUS_CALLBACK_FAILED`, also while
/// the block size is being detected: a failing disk never looks blank.
///
/// # Safety
/// `io` valid per its documentation for the handle's lifetime; `params` NULL or valid;
/// `out` valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_open_io(
    io: *const rootseal_io,
    params: *const rootseal_gpt_open_params,
    out: *mut *mut rootseal_gpt,
) -> rootseal_status {
    boundary(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: the caller's contract covers every pointer.
        let (block_size, read_only) = unsafe { open_options(params) }?;
        // SAFETY: as above.
        let device = unsafe { CallbackDevice::from_ptr(io, "io", !read_only) }?;
        let block_size = match (device.block_size()?, block_size) {
            (Some(device_size), requested) if requested != 0 && requested != device_size => {
                return Err(gpt::Error::BlockSizeMismatch { device: device_size, requested }.into());
            }
            (Some(device_size), _) => device_size,
            (None, requested) => requested,
        };
        let boxed: Box<dyn BlockDevice> = Box::new(device);
        let disk = GptDisk::new(boxed, block_size_option(block_size))?;
        disk.read()?;
        // SAFETY: `out` is non-NULL (checked above) and writable per the contract.
        unsafe { store_handle(out, rootseal_gpt { disk, read_only, busy: AtomicBool::new(false) }) };
        Ok(rootseal_status::Ok)
    })
}

/// Closes a handle and releases its lock. NULL is a no-op.
///
/// Every call on a handle marks it busy until it returns. A callback that calls back
/// into the handle it serves gets `ROOTSEAL_STATUS_BUSY` instead of a deadlock, and a
/// close from inside such a callback is ignored (the handle stays valid, rather than
/// being freed under the running call).
///
/// # Safety
/// `gpt` must be NULL or a handle from `rootseal_gpt_open_*`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_close(gpt: *mut rootseal_gpt) {
    boundary(|| {
        // SAFETY: NULL or a live handle per the contract.
        if let Some(h) = unsafe { gpt.as_ref() }
            && !h.busy.load(Ordering::Acquire)
        {
            // SAFETY: it came from Box::into_raw in store_handle and is freed once.
            drop(unsafe { Box::from_raw(gpt) });
        }
        Ok(rootseal_status::Ok)
    });
}

/// Borrows a handle for one call, marking it busy until the call returns.
///
/// # Safety
/// `gpt` must be NULL or a live handle.
unsafe fn handle<'a>(gpt: *const rootseal_gpt) -> Result<InUse<'a>, Failure> {
    // SAFETY: NULL or live per the contract above.
    let h = unsafe { gpt.as_ref() }.ok_or_else(|| null("gpt"))?;
    InUse::take(h)
}

/// Borrows a handle for a writing call, marking it busy until the call returns.
///
/// # Safety
/// As [`handle`].
unsafe fn writable<'a>(gpt: *const rootseal_gpt) -> Result<InUse<'a>, Failure> {
    // SAFETY: per the contract above.
    let h = unsafe { handle(gpt) }?;
    if h.0.read_only {
        return Err(Failure::new(rootseal_status::InvalidArgument, "the disk was opened read-only"));
    }
    Ok(h)
}

/// Reports the state of both copies and the disk geometry into `*out` (written only on
/// success).
///
/// # Safety
/// `gpt` a live handle; `out` valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_get_state(
    gpt: *const rootseal_gpt,
    out: *mut rootseal_gpt_state,
) -> rootseal_status {
    boundary(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: the caller's contract.
        let table = unsafe { handle(gpt) }?.read()?;
        let header = table.header();
        let state = rootseal_gpt_state {
            block_size: table.block_size(),
            primary_valid: table.copy_state(Which::Primary).is_valid().into(),
            backup_valid: table.copy_state(Which::Backup).is_valid().into(),
            backup_at_end: (!table.backup_misplaced()).into(),
            pmbr_valid: table.pmbr().is_valid().into(),
            block_count: table.block_count(),
            entry_count: header.entry_count,
            entry_size: header.entry_size,
            disk_guid: guid_text(table.disk_guid()),
            reserved0: [0; 3],
            reserved: [0; 4],
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(state) };
        Ok(rootseal_status::Ok)
    })
}

/// Reads partition `index` (1-based, must be in use) into `*out`.
///
/// # Safety
/// `gpt` a live handle; `out` valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_get_partition(
    gpt: *const rootseal_gpt,
    index: u32,
    out: *mut rootseal_gpt_partition,
) -> rootseal_status {
    boundary(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: the caller's contract.
        let partition = unsafe { handle(gpt) }?.read()?.partition(index)?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(partition_out(&partition)) };
        Ok(rootseal_status::Ok)
    })
}

/// `cgpt add -i index [-P] [-T] [-S]`: sets the fields named in `params.fields` and
/// keeps every other bit. Both copies must be valid (else `GPT_NEEDS_REPAIR`).
///
/// # Safety
/// `gpt` a live handle; `params` valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_set(
    gpt: *mut rootseal_gpt,
    index: u32,
    params: *const rootseal_gpt_set_params,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let disk = unsafe { writable(gpt) }?;
        // SAFETY: NULL or valid per the contract.
        let p = unsafe { params.as_ref() }.ok_or_else(|| null("params"))?;
        let reserved_zero = p.reserved0 == 0 && p.reserved.iter().all(|&r| r == 0);
        check_params("rootseal_gpt_set_params", p.version, ROOTSEAL_GPT_SET_PARAMS_VERSION, reserved_zero)?;
        let known = ROOTSEAL_GPT_SET_PRIORITY | ROOTSEAL_GPT_SET_TRIES | ROOTSEAL_GPT_SET_SUCCESSFUL;
        if p.fields & !known != 0 {
            return Err(Failure::new(rootseal_status::InvalidArgument, format!("unknown fields {:#x}", p.fields)));
        }
        if p.successful > 1 {
            return Err(gpt::Error::ValueOutOfRange { field: "successful", value: p.successful.into(), max: 1 }.into());
        }
        let has = |bit: u32| p.fields & bit != 0;
        let change = AttrChange {
            priority: has(ROOTSEAL_GPT_SET_PRIORITY).then_some(p.priority),
            tries: has(ROOTSEAL_GPT_SET_TRIES).then_some(p.tries),
            successful: has(ROOTSEAL_GPT_SET_SUCCESSFUL).then_some(p.successful == 1),
        };
        disk.set(index, change)?;
        Ok(rootseal_status::Ok)
    })
}

/// `cgpt prioritize [-i N] [-f] [-P max]` over the partitions of `params.type_guid`.
///
/// # Safety
/// `gpt` a live handle; `params` valid, its `type_guid` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_prioritize(
    gpt: *mut rootseal_gpt,
    params: *const rootseal_gpt_prioritize_params,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let disk = unsafe { writable(gpt) }?;
        // SAFETY: NULL or valid per the contract.
        let p = unsafe { params.as_ref() }.ok_or_else(|| null("params"))?;
        let reserved_zero = p.reserved.iter().all(|&r| r == 0);
        check_params(
            "rootseal_gpt_prioritize_params",
            p.version,
            ROOTSEAL_GPT_PRIORITIZE_PARAMS_VERSION,
            reserved_zero,
        )?;
        let max_priority = match p.max_priority {
            0 => None,
            m => Some(u8::try_from(m).unwrap_or(u8::MAX)),
        };
        let request =
            PrioritizeRequest { target: (p.index != 0).then_some(p.index), friends: p.friends != 0, max_priority };
        // SAFETY: per the contract.
        let type_guid = unsafe { type_arg(p.type_guid) }?;
        disk.prioritize(request, type_guid)?;
        Ok(rootseal_status::Ok)
    })
}

/// GRUB `gptprio.next` over the partitions of `type_guid` (NULL = Flatcar usr): chooses
/// the partition to boot and uses up one try, writing only if a try was used. Returns
/// `GPT_NO_BOOTABLE_SLOT` when nothing can boot. `*out` is written only on success.
///
/// # Safety
/// `gpt` a live handle; `type_guid` NULL or NUL-terminated; `out` valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_next(
    gpt: *mut rootseal_gpt,
    type_guid: *const c_char,
    out: *mut rootseal_gpt_next_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let (disk, type_guid) = unsafe { (writable(gpt)?, type_arg(type_guid)?) };
        if out.is_null() {
            return Err(null("out"));
        }
        let boot = disk.next(type_guid)?;
        let result = rootseal_gpt_next_result {
            partition: partition_out(&boot.partition),
            written: boot.written.into(),
            fallback: boot.fallback.is_some().into(),
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(result) };
        Ok(rootseal_status::Ok)
    })
}

/// The two Flatcar marks share everything but the attributes they set.
///
/// # Safety
/// As the entry points that call it.
unsafe fn mark(gpt: *mut rootseal_gpt, index: u32, type_guid: *const c_char, good: bool) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let (disk, type_guid) = unsafe { (writable(gpt)?, type_arg(type_guid)?) };
        if good { disk.mark_good(index, type_guid) } else { disk.mark_update(index, type_guid) }?;
        Ok(rootseal_status::Ok)
    })
}

/// Flatcar post-install on a freshly written slot: repair, S=0 T=1, prioritize it.
///
/// # Safety
/// `gpt` a live handle; `type_guid` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_mark_update(
    gpt: *mut rootseal_gpt,
    index: u32,
    type_guid: *const c_char,
) -> rootseal_status {
    // SAFETY: the same contract.
    unsafe { mark(gpt, index, type_guid, false) }
}

/// Flatcar setgoodroot after a good boot: repair, S=1 T=0, prioritize it.
///
/// # Safety
/// `gpt` a live handle; `type_guid` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_mark_good(
    gpt: *mut rootseal_gpt,
    index: u32,
    type_guid: *const c_char,
) -> rootseal_status {
    // SAFETY: the same contract.
    unsafe { mark(gpt, index, type_guid, true) }
}

/// Takes partition `index` out of rotation (priority 0).
///
/// # Safety
/// `gpt` a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_invalidate(gpt: *mut rootseal_gpt, index: u32) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { writable(gpt) }?.invalidate(index)?;
        Ok(rootseal_status::Ok)
    })
}

/// Rebuilds a bad copy from the good one and moves the backup to the end of a grown
/// disk; with `ROOTSEAL_GPT_REPAIR_PMBR`, also rewrites an invalid protective MBR.
/// Fails with `GPT_NO_VALID_GPT` when both copies are bad. `repaired_out` may be NULL;
/// otherwise it receives `ROOTSEAL_GPT_REPAIRED_*` bits (0 = nothing needed repair).
///
/// # Safety
/// `gpt` a live handle; `repaired_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_gpt_repair(
    gpt: *mut rootseal_gpt,
    flags: u32,
    repaired_out: *mut u32,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let disk = unsafe { writable(gpt) }?;
        if flags & !ROOTSEAL_GPT_REPAIR_PMBR != 0 {
            return Err(Failure::new(rootseal_status::InvalidArgument, format!("unknown repair flags {flags:#x}")));
        }
        let report = disk.repair(flags & ROOTSEAL_GPT_REPAIR_PMBR != 0)?;
        let bits = [
            (report.primary_rebuilt, ROOTSEAL_GPT_REPAIRED_PRIMARY),
            (report.backup_rebuilt, ROOTSEAL_GPT_REPAIRED_BACKUP),
            (report.backup_moved, ROOTSEAL_GPT_REPAIRED_BACKUP_MOVED),
            (report.pmbr_rewritten, ROOTSEAL_GPT_REPAIRED_PMBR),
        ];
        let repaired = bits.iter().filter(|(done, _)| *done).fold(0, |acc, (_, bit)| acc | bit);
        if !repaired_out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { repaired_out.write(repaired) };
        }
        Ok(rootseal_status::Ok)
    })
}

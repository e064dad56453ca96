//! GPT A/B slots over the caller's callbacks: gptprio's `next`, Flatcar's mark-good and
//! mark-update, cgpt's prioritize, and one partition's entry. The host's own reader
//! (`src/gpt/read.rs`) and crash-safe writer (`src/gpt/write.rs`) run here, with the
//! entry arrays in the caller's scratch memory.

use super::io::{Disk, rootseal_boot_io};
use super::{rootseal_boot_status, write_opt};
use crate::gpt::entries::PartitionEntry;
use crate::gpt::prioritize::PrioritizeRequest;
use crate::gpt::read::{ArrayMemory, GptSource, detect_block_size, read_table};
use crate::gpt::reasons::DeviceCall;
use crate::gpt::table::Gpt;
use crate::gpt::write::GptSink;
use crate::gpt::{Error, Fault, Guid};
use alloc::string::String;
use core::cell::Cell;
use core::ffi::c_void;

/// Version of [`rootseal_boot_gpt_params`].
pub const ROOTSEAL_BOOT_GPT_PARAMS_VERSION: u32 = 1;

/// `flags`: [`rootseal_boot_gpt_prioritize`] moves every slot that shares the target's
/// priority with it (`cgpt prioritize -f`). The other calls ignore it.
pub const ROOTSEAL_BOOT_GPT_FRIENDS: u32 = 1 << 0;

/// The disk and the slot type every GPT call works on: zero it, then set `version`,
/// `disk` and, for a slot type other than Flatcar's USR, `type_guid`.
#[repr(C)]
pub struct rootseal_boot_gpt_params {
    /// Must be `ROOTSEAL_BOOT_GPT_PARAMS_VERSION`.
    pub version: u32,
    /// `ROOTSEAL_BOOT_GPT_FRIENDS` or 0; other bits are `INVALID_ARGUMENT`.
    pub flags: u32,
    /// The whole disk: `read` and `size`; `write` and `flush` for the calls that write;
    /// `block_size` when the disk knows it (else 512 or 4096 is detected as the host
    /// library does, from where a valid header is).
    pub disk: *const rootseal_boot_io,
    /// The partition type of the A/B slots, as stored on disk (the `EFI_GUID` layout);
    /// all zero means Flatcar's USR type `5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6`.
    pub type_guid: [u8; 16],
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// One partition entry and its A/B attributes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rootseal_boot_gpt_partition {
    /// 1-based partition number.
    pub index: u32,
    /// Priority, 0–15.
    pub priority: u8,
    /// Tries, 0–15.
    pub tries: u8,
    /// Successful, 0 or 1.
    pub successful: u8,
    /// Zero.
    pub reserved0: u8,
    /// The whole 64-bit attribute word.
    pub attributes: u64,
    /// StartingLBA.
    pub first_lba: u64,
    /// EndingLBA (inclusive).
    pub last_lba: u64,
    /// PartitionTypeGUID as stored.
    pub type_guid: [u8; 16],
    /// UniquePartitionGUID (PARTUUID) as stored.
    pub unique_guid: [u8; 16],
    /// The disk's logical block size: the partition starts at byte `first_lba * block_size`.
    pub block_size: u32,
    /// Zero.
    pub reserved1: u32,
}

/// What [`rootseal_boot_gpt_next`] chose.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rootseal_boot_gpt_next_result {
    /// The partition to boot, with its attributes as they now are on disk.
    pub partition: rootseal_boot_gpt_partition,
    /// 1 when the table was written (a try was used), else 0.
    pub written: u32,
    /// 1 when the try could not be recorded (the table cannot be written: no room for a
    /// copy, a failing write): `partition` is then the best slot marked successful,
    /// booted with nothing written. Else 0.
    pub fallback: u32,
}

/// Why a read through the callbacks did not fill its buffer.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// A callback failed or lied (the disk ended before the size it gave).
    Callback,
}

/// The caller's disk, seen by the GPT core. It remembers whether a callback failed, so
/// that a copy rejected because of one gives `CALLBACK_FAILED`, not "no valid GPT".
struct BootDisk<'a> {
    disk: Disk<'a>,
    size: unsafe extern "C" fn(*mut c_void, *mut u64) -> i32,
    callback_failed: Cell<bool>,
}

impl BootDisk<'_> {
    fn failed(&self) -> Failure {
        self.callback_failed.set(true);
        Failure::Callback
    }
}

impl GptSource for BootDisk<'_> {
    type Error = Failure;

    fn size(&mut self) -> Result<u64, Failure> {
        let mut size = 0u64;
        // SAFETY: the callback's contract: it writes one u64 through the pointer.
        match unsafe { (self.size)(self.disk.io().ctx, &mut size) } {
            0 => Ok(size),
            _ => Err(self.failed()),
        }
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Failure> {
        match self.disk.read_at(offset, buf) {
            Ok(n) if n == buf.len() => Ok(()),
            _ => Err(self.failed()),
        }
    }

    fn copy_fault(&self, _: Failure) -> Fault {
        // An empty String does not allocate; the status says what happened.
        Fault::Io(String::new())
    }

    fn disk_error(&self, _: Failure, call: DeviceCall) -> Error {
        Error::Device(call)
    }
}

impl GptSink for BootDisk<'_> {
    type Error = Failure;

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Failure> {
        let io = self.disk.io();
        let write = io.write.ok_or_else(|| self.failed())?;
        let mut done = 0;
        while done < bytes.len() {
            let at = offset.checked_add(done as u64).ok_or_else(|| self.failed())?;
            let rest = &bytes[done..];
            // SAFETY: `rest` is readable for its length; the callback reads at most that.
            let n = unsafe { write(io.ctx, at, rest.as_ptr(), rest.len()) };
            match usize::try_from(n) {
                // 0 would loop forever: a write that makes no progress has failed.
                Ok(n) if n > 0 && n <= rest.len() => done += n,
                _ => return Err(self.failed()),
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Failure> {
        let io = self.disk.io();
        let flush = io.flush.ok_or_else(|| self.failed())?;
        // SAFETY: the callback's contract.
        match unsafe { flush(io.ctx) } {
            0 => Ok(()),
            _ => Err(self.failed()),
        }
    }

    fn write_error(&self, _: Failure, call: DeviceCall) -> Error {
        Error::Device(call)
    }
}

/// The caller's scratch, handed out front to back.
struct Scratch<'a>(&'a mut [u8]);

impl<'a> ArrayMemory for Scratch<'a> {
    type Array = &'a mut [u8];

    fn take(&mut self, len: usize) -> Option<&'a mut [u8]> {
        if len > self.0.len() {
            return None;
        }
        let (taken, rest) = core::mem::take(&mut self.0).split_at_mut(len);
        self.0 = rest;
        taken.fill(0);
        Some(taken)
    }
}

/// A checked `params`: the disk, its block size and the slot type.
struct Session<'a> {
    disk: BootDisk<'a>,
    block_size: u32,
    type_guid: Guid,
}

/// # Safety
/// `params` NULL or valid, with a `disk` whose callbacks honour their contracts.
unsafe fn session<'a>(params: *const rootseal_boot_gpt_params) -> Result<Session<'a>, rootseal_boot_status> {
    // SAFETY: non-NULL pointers are valid per the caller's contract.
    let params = unsafe { params.as_ref() }.ok_or(rootseal_boot_status::NullParameter)?;
    if params.version != ROOTSEAL_BOOT_GPT_PARAMS_VERSION {
        return Err(rootseal_boot_status::UnsupportedParamsVersion);
    }
    if params.flags & !ROOTSEAL_BOOT_GPT_FRIENDS != 0 {
        return Err(rootseal_boot_status::InvalidArgument);
    }
    if params.reserved.iter().any(|&r| r != 0) {
        return Err(rootseal_boot_status::ReservedNotZero);
    }
    // SAFETY: as above, for the disk.
    let disk = unsafe { Disk::new(params.disk) }?;
    let size = disk.io().size.ok_or(rootseal_boot_status::NullParameter)?;
    let mut disk = BootDisk { disk, size, callback_failed: Cell::new(false) };
    let block_size = match disk.disk.io().block_size {
        Some(block_size) => {
            let mut value = 0u32;
            // SAFETY: the callback's contract: it writes one u32 through the pointer.
            if unsafe { block_size(disk.disk.io().ctx, &mut value) } != 0 {
                return Err(rootseal_boot_status::CallbackFailed);
            }
            value
        }
        None => detect_block_size(&mut disk).map_err(|e| status(&disk, &e))?,
    };
    let type_guid = match Guid::from_disk_bytes(params.type_guid) {
        zero if zero.is_zero() => Guid::FLATCAR_USR,
        given => given,
    };
    Ok(Session { disk, block_size, type_guid })
}

fn status(disk: &BootDisk<'_>, err: &Error) -> rootseal_boot_status {
    match err {
        // A copy a failing callback could not read is not evidence of a bad table.
        Error::NoGpt | Error::NoValidGpt { .. } if disk.callback_failed.get() => rootseal_boot_status::CallbackFailed,
        Error::Device(_) => rootseal_boot_status::CallbackFailed,
        Error::ScratchTooSmall { .. } => rootseal_boot_status::BufferTooSmall,
        Error::InvalidBlockSize(_) | Error::BlockSizeMismatch { .. } => rootseal_boot_status::GptInvalidBlockSize,
        Error::NoGpt => rootseal_boot_status::GptNoGpt,
        Error::NoValidGpt { .. } => rootseal_boot_status::GptNoValidGpt,
        Error::NeedsRepair { .. } => rootseal_boot_status::GptNeedsRepair,
        Error::CannotRepair(_) => rootseal_boot_status::GptCannotRepair,
        Error::NoSuchPartition { .. } => rootseal_boot_status::GptNoSuchPartition,
        Error::UnusedPartition(_) => rootseal_boot_status::GptUnusedPartition,
        Error::WrongType { .. } | Error::NotParticipating(_) => rootseal_boot_status::GptWrongType,
        Error::ValueOutOfRange { .. } => rootseal_boot_status::GptValueOutOfRange,
        Error::NoBootableSlot(_) => rootseal_boot_status::GptNoBootableSlot,
        _ => rootseal_boot_status::InvalidArgument,
    }
}

impl Session<'_> {
    /// Reads both copies into `scratch`.
    ///
    /// # Safety
    /// `scratch` NULL with `len` 0, or writable for `len` bytes.
    unsafe fn read<'s>(&mut self, scratch: *mut u8, len: usize) -> Result<Gpt<&'s mut [u8]>, rootseal_boot_status> {
        let memory: &'s mut [u8] = match scratch.is_null() {
            true if len == 0 => &mut [],
            true => return Err(rootseal_boot_status::NullParameter),
            // SAFETY: writable for `len` bytes per the caller's contract.
            false => unsafe { core::slice::from_raw_parts_mut(scratch, len) },
        };
        read_table(&mut self.disk, &mut Scratch(memory), self.block_size).map_err(|e| status(&self.disk, &e))
    }

    fn partition(&self, entry: &PartitionEntry) -> rootseal_boot_gpt_partition {
        let word = entry.attributes;
        rootseal_boot_gpt_partition {
            index: entry.index,
            priority: word.priority(),
            tries: word.tries(),
            successful: u8::from(word.successful()),
            reserved0: 0,
            attributes: word.0,
            first_lba: entry.first_lba,
            last_lba: entry.last_lba,
            type_guid: entry.type_guid.to_disk_bytes(),
            unique_guid: entry.unique_guid.to_disk_bytes(),
            block_size: self.block_size,
            reserved1: 0,
        }
    }
}

/// Bytes of scratch the other GPT calls need on this disk, read from its headers: both
/// entry arrays, a working copy and four bytes per entry for the checks (about 52 KiB
/// for the usual 128 entries of 128 bytes; never more than 12.5 MiB). The disk can
/// change between this call and the next; a call given too little returns
/// `BUFFER_TOO_SMALL` with nothing written.
///
/// `GPT_NO_GPT` / `GPT_NO_VALID_GPT` when no header is usable.
///
/// # Safety
/// `params` valid (see [`rootseal_boot_gpt_params`]); `needed_out` valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_gpt_scratch_size(
    params: *const rootseal_boot_gpt_params,
    needed_out: *mut usize,
) -> rootseal_boot_status {
    if needed_out.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    // SAFETY: the caller's contract.
    let mut session = match unsafe { session(params) } {
        Ok(session) => session,
        Err(status) => return status,
    };
    // A read with no memory stops at its first request, which names the whole need.
    let needed = match read_table(&mut session.disk, &mut Scratch(&mut []), session.block_size) {
        Err(Error::ScratchTooSmall { needed }) => needed,
        Err(e) => return status(&session.disk, &e),
        // Not reached: an entry array is never empty.
        Ok(_) => 0,
    };
    match usize::try_from(needed) {
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        Ok(needed) => unsafe { write_opt(needed_out, needed) },
        Err(_) => return rootseal_boot_status::BufferTooSmall,
    }
    rootseal_boot_status::Ok
}

/// GRUB's `gptprio.next`: chooses the slot to boot (the highest priority with tries
/// left or marked successful; ties go to the lower number) and uses up one of its tries.
/// The table is written only when a try was used, with the host library's crash-safe
/// order (the copy not trusted first, each copy's array, header, flush), repairing a bad
/// copy on the way; a power cut at any point leaves a table that reads as the old or the
/// new one. When the try cannot be recorded, the best slot marked successful is
/// returned with `fallback` = 1 and nothing written.
///
/// `scratch`: [`rootseal_boot_gpt_scratch_size`] bytes, any alignment. `*out` is written
/// only on success.
///
/// # Safety
/// `params` valid; `scratch` writable for `scratch_len` bytes (or NULL with 0); `out`
/// valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_gpt_next(
    params: *const rootseal_boot_gpt_params,
    scratch: *mut u8,
    scratch_len: usize,
    out: *mut rootseal_boot_gpt_next_result,
) -> rootseal_boot_status {
    if out.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    let run = || -> Result<rootseal_boot_gpt_next_result, rootseal_boot_status> {
        // SAFETY: the caller's contract, passed on.
        let mut session = unsafe { session(params) }?;
        // SAFETY: as above.
        let mut gpt = unsafe { session.read(scratch, scratch_len) }?;
        let outcome =
            gpt.next_and_commit(session.type_guid, &mut session.disk).map_err(|e| status(&session.disk, &e))?;
        Ok(rootseal_boot_gpt_next_result {
            partition: session.partition(&outcome.chosen),
            written: u32::from(outcome.written),
            fallback: u32::from(outcome.fallback.is_some()),
        })
    };
    match run() {
        // SAFETY: checked non-NULL; writable per the caller's contract.
        Ok(result) => unsafe { write_opt(out, result) },
        Err(status) => return status,
    }
    rootseal_boot_status::Ok
}

/// Shared body of the calls that change one slot and report whether they wrote.
///
/// # Safety
/// As the entry points.
unsafe fn change(
    params: *const rootseal_boot_gpt_params,
    scratch: *mut u8,
    scratch_len: usize,
    written_out: *mut u32,
    change: impl FnOnce(&mut Gpt<&mut [u8]>, &mut BootDisk<'_>, Guid) -> Result<bool, Error>,
) -> rootseal_boot_status {
    let run = || -> Result<bool, rootseal_boot_status> {
        // SAFETY: the caller's contract, passed on.
        let mut session = unsafe { session(params) }?;
        // SAFETY: as above.
        let mut gpt = unsafe { session.read(scratch, scratch_len) }?;
        change(&mut gpt, &mut session.disk, session.type_guid).map_err(|e| status(&session.disk, &e))
    };
    match run() {
        // SAFETY: NULL is skipped; otherwise writable per the caller's contract.
        Ok(written) => unsafe { write_opt(written_out, u32::from(written)) },
        Err(status) => return status,
    }
    rootseal_boot_status::Ok
}

/// Shared body of mark-good (`good`) and mark-update.
///
/// # Safety
/// As the entry points.
unsafe fn mark(
    params: *const rootseal_boot_gpt_params,
    index: u32,
    good: bool,
    scratch: *mut u8,
    scratch_len: usize,
    written_out: *mut u32,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract, passed on.
    unsafe {
        change(params, scratch, scratch_len, written_out, |gpt, disk, slot| {
            gpt.mark_and_commit(index, slot, good, disk)
        })
    }
}

/// Flatcar's setgoodroot after a good boot from partition `index`: S=1 T=0, then
/// prioritize it (it gets the top priority, the others keep their order). Written with
/// repair, as the host's `mark-good`: a bad copy rebuilt, the backup moved to the end of
/// a grown disk, a broken protective MBR replaced. `*written_out` (may be NULL): 1 when
/// anything was written.
///
/// # Safety
/// As [`rootseal_boot_gpt_next`]; `written_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_gpt_mark_good(
    params: *const rootseal_boot_gpt_params,
    index: u32,
    scratch: *mut u8,
    scratch_len: usize,
    written_out: *mut u32,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { mark(params, index, true, scratch, scratch_len, written_out) }
}

/// Flatcar's post-install on partition `index`, freshly written: S=0 T=1, then
/// prioritize it, so the next boot tries it once. Written as
/// [`rootseal_boot_gpt_mark_good`] writes.
///
/// # Safety
/// As [`rootseal_boot_gpt_mark_good`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_gpt_mark_update(
    params: *const rootseal_boot_gpt_params,
    index: u32,
    scratch: *mut u8,
    scratch_len: usize,
    written_out: *mut u32,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { mark(params, index, false, scratch, scratch_len, written_out) }
}

/// `cgpt prioritize -i index [-P max_priority] [-f]` over the slots: `index` on top,
/// the others keep their order, gaps close. `index` 0: no target (only renumber);
/// `max_priority` 0: the number of priority groups (at most 15); `ROOTSEAL_BOOT_GPT_FRIENDS`
/// in the params' `flags`: the slots sharing the target's priority move with it (needs a
/// target). Needs both copies valid (`GPT_NEEDS_REPAIR` otherwise), as `cgpt` does.
///
/// # Safety
/// As [`rootseal_boot_gpt_mark_good`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_gpt_prioritize(
    params: *const rootseal_boot_gpt_params,
    index: u32,
    max_priority: u32,
    scratch: *mut u8,
    scratch_len: usize,
    written_out: *mut u32,
) -> rootseal_boot_status {
    let Ok(max_priority) = u8::try_from(max_priority) else {
        return rootseal_boot_status::GptValueOutOfRange;
    };
    // SAFETY: NULL or valid per the caller's contract; `session` checks the rest.
    let friends = unsafe { params.as_ref() }.is_some_and(|p| p.flags & ROOTSEAL_BOOT_GPT_FRIENDS != 0);
    let request = PrioritizeRequest {
        target: (index != 0).then_some(index),
        friends,
        max_priority: (max_priority != 0).then_some(max_priority),
    };
    // SAFETY: the caller's contract, passed on.
    unsafe {
        change(params, scratch, scratch_len, written_out, |gpt, disk, slot| {
            gpt.edit_and_commit(|gpt| gpt.apply_prioritize(&request, slot), disk)
        })
    }
}

/// Entry `index` (1-based) of the trusted copy, used, of any type: where a partition
/// is (`first_lba * block_size`) and its attributes. Reads only.
///
/// # Safety
/// As [`rootseal_boot_gpt_next`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_gpt_get_partition(
    params: *const rootseal_boot_gpt_params,
    index: u32,
    scratch: *mut u8,
    scratch_len: usize,
    out: *mut rootseal_boot_gpt_partition,
) -> rootseal_boot_status {
    if out.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    let run = || -> Result<rootseal_boot_gpt_partition, rootseal_boot_status> {
        // SAFETY: the caller's contract, passed on.
        let mut session = unsafe { session(params) }?;
        // SAFETY: as above.
        let gpt = unsafe { session.read(scratch, scratch_len) }?;
        let entry = gpt.used_entry(index).map_err(|e| status(&session.disk, &e))?;
        Ok(session.partition(&entry))
    };
    match run() {
        // SAFETY: checked non-NULL; writable per the caller's contract.
        Ok(result) => unsafe { write_opt(out, result) },
        Err(status) => return status,
    }
    rootseal_boot_status::Ok
}

//! The boot library's GPT entry points (boot/src/ffi/gpt.rs, the code of
//! librootseal_boot.a) over callbacks, on the fuzz template disk with fuzzed patches to
//! its headers and arrays (CRCs fixed or not), against the host library's `GptDisk` on
//! a copy of the same bytes.
//!
//! Invariants: no call panics or allocates (a counting allocator checks it); with
//! working callbacks the boot call and the host call agree (success or the status of the
//! host's error; the same partition) and leave byte-identical disks; a write callback
//! that fails every call leaves the disk unchanged; a failed call leaves its
//! out-params untouched.
//!
//! Input: byte 0: bit 0 block size 512/4096, bits 1-2 the write callback (working,
//! failing, 1 byte per call, failing after the first call), bits 3-5 the operation, bit
//! 6 fix the CRCs after patching, bit 7 scratch one byte short (never OK, nothing written); byte 1 the partition;
//! byte 2 the maximum priority (mod 17; bit 7: friends); then (u16 offset, xor) patches to the first 64 KiB.

#![no_main]

use rootseal::gpt::{self, BlockSize, GptDisk, Guid, PrioritizeRequest};
use rootseal::io::MemoryDevice;
use rootseal_boot::ffi::gpt::*;
use rootseal_boot::ffi::io::{ROOTSEAL_BOOT_IO_VERSION, rootseal_boot_io};
use rootseal_boot::ffi::rootseal_boot_status as Status;
use rootseal_fuzz::alloc_count::{Counting, no_alloc};
use rootseal_fuzz::gpt_image;
use rootseal_fuzz::input::Input;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;

#[global_allocator]
static COUNTING: Counting = Counting;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    Working,
    Failing,
    OneByte,
    FailAfterFirst,
}

/// A disk in memory behind the callbacks.
struct Disk {
    bytes: RefCell<Vec<u8>>,
    block_size: u32,
    writes: Writes,
    calls: Cell<u32>,
}

unsafe extern "C" fn read_cb(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: ctx is the Disk the io struct was made with, alive for the call.
    let disk = unsafe { &*(ctx as *const Disk) };
    let bytes = disk.bytes.borrow();
    let Ok(start) = usize::try_from(offset) else { return 0 };
    if start >= bytes.len() {
        return 0;
    }
    let n = len.min(bytes.len() - start);
    // SAFETY: the library hands a buffer writable for `len` >= n bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes[start..].as_ptr(), buf, n) };
    n as i64
}

unsafe extern "C" fn write_cb(ctx: *mut c_void, offset: u64, buf: *const u8, len: usize) -> i64 {
    // SAFETY: as read_cb.
    let disk = unsafe { &*(ctx as *const Disk) };
    let calls = disk.calls.get();
    disk.calls.set(calls + 1);
    let n = match disk.writes {
        Writes::Failing => return -5,
        Writes::FailAfterFirst if calls > 0 => return -5,
        Writes::OneByte => len.min(1),
        _ => len,
    };
    let mut bytes = disk.bytes.borrow_mut();
    let Some(end) = usize::try_from(offset).ok().and_then(|s| s.checked_add(n)).filter(|&e| e <= bytes.len()) else {
        return -5;
    };
    // SAFETY: the library hands a buffer readable for `len` >= n bytes.
    let src = unsafe { std::slice::from_raw_parts(buf, n) };
    bytes[end - n..end].copy_from_slice(src);
    n as i64
}

unsafe extern "C" fn flush_cb(ctx: *mut c_void) -> i32 {
    // SAFETY: as read_cb.
    let disk = unsafe { &*(ctx as *const Disk) };
    if disk.writes == Writes::Failing { -5 } else { 0 }
}

unsafe extern "C" fn size_cb(ctx: *mut c_void, out: *mut u64) -> i32 {
    // SAFETY: as read_cb; `out` writable per the library's contract.
    unsafe { *out = (*(ctx as *const Disk)).bytes.borrow().len() as u64 };
    0
}

unsafe extern "C" fn block_size_cb(ctx: *mut c_void, out: *mut u32) -> i32 {
    // SAFETY: as size_cb.
    unsafe { *out = (*(ctx as *const Disk)).block_size };
    0
}

/// The boot status for a host error, as boot/src/ffi/gpt.rs maps the same error.
fn expected_status(err: &gpt::Error) -> i32 {
    match err {
        gpt::Error::NoGpt => 200,
        gpt::Error::NoValidGpt { .. } => 201,
        gpt::Error::NeedsRepair { .. } => 202,
        gpt::Error::CannotRepair(_) => 203,
        gpt::Error::InvalidBlockSize(_) => 204,
        gpt::Error::NoSuchPartition { .. } => 205,
        gpt::Error::UnusedPartition(_) => 206,
        gpt::Error::WrongType { .. } | gpt::Error::NotParticipating(_) => 207,
        gpt::Error::ValueOutOfRange { .. } => 208,
        gpt::Error::NoBootableSlot(_) => 209,
        gpt::Error::FriendsWithoutTarget => 2,
        other => panic!("host error the boot library cannot meet: {other}"),
    }
}

libfuzzer_sys::fuzz_target!(|raw: &[u8]| {
    let mut input = Input::new(raw);
    let flags = input.byte();
    let block_size = if flags & 1 == 0 { 512 } else { 4096 };
    let writes =
        [Writes::Working, Writes::Failing, Writes::OneByte, Writes::FailAfterFirst][usize::from(flags >> 1 & 3)];
    let op = flags >> 3 & 7;
    let index = u32::from(input.byte() % 11);
    let max_byte = input.byte();
    let (max, friends) = (u32::from(max_byte % 17), max_byte & 0x80 != 0);
    let mut bytes = gpt_image::template(block_size);
    while !input.is_empty() {
        let (offset, xor) = (usize::from(input.u16()), input.byte());
        if let Some(byte) = bytes.get_mut(offset) {
            *byte ^= xor;
        }
    }
    if flags & 0x40 != 0 {
        gpt_image::fix_crcs(&mut bytes, block_size);
    }
    let pristine = bytes.clone();

    let disk = Disk { bytes: RefCell::new(bytes.clone()), block_size, writes, calls: Cell::new(0) };
    let io = rootseal_boot_io {
        version: ROOTSEAL_BOOT_IO_VERSION,
        reserved0: 0,
        ctx: &disk as *const Disk as *mut c_void,
        read: Some(read_cb),
        write: Some(write_cb),
        flush: Some(flush_cb),
        size: Some(size_cb),
        block_size: Some(block_size_cb),
        reserved: [std::ptr::null_mut(); 4],
    };
    let params = rootseal_boot_gpt_params {
        version: ROOTSEAL_BOOT_GPT_PARAMS_VERSION,
        flags: if friends { ROOTSEAL_BOOT_GPT_FRIENDS } else { 0 },
        disk: &io,
        type_guid: [0; 16],
        reserved: [0; 4],
    };
    let mut needed = 0usize;
    // SAFETY: params, io and the out-pointer live through the call.
    let sized = no_alloc("scratch_size", || unsafe { rootseal_boot_gpt_scratch_size(&params, &mut needed) });
    let short = usize::from(flags & 0x80 != 0 && needed > 0);
    let mut scratch = vec![0u8; needed - short];

    let mut next = rootseal_boot_gpt_next_result { partition: unsafe { std::mem::zeroed() }, written: 7, fallback: 7 };
    let mut part: rootseal_boot_gpt_partition = unsafe { std::mem::zeroed() };
    part.index = 7777;
    let mut written = 7u32;
    let (ptr, len) = (scratch.as_mut_ptr(), scratch.len());
    // SAFETY: every pointer lives through the call; scratch is writable for len bytes.
    let status = no_alloc("the GPT call", || unsafe {
        match op {
            0 | 5 => rootseal_boot_gpt_next(&params, ptr, len, &mut next),
            1 => rootseal_boot_gpt_mark_good(&params, index, ptr, len, &mut written),
            2 => rootseal_boot_gpt_mark_update(&params, index, ptr, len, &mut written),
            3 => rootseal_boot_gpt_prioritize(&params, index, max, ptr, len, &mut written),
            _ => rootseal_boot_gpt_get_partition(&params, index, ptr, len, &mut part),
        }
    });
    if status != Status::Ok {
        assert!(next.written == 7 && written == 7 && part.index == 7777, "out-param written on failure {status:?}");
    }
    let after = disk.bytes.into_inner();
    if writes == Writes::Failing {
        assert!(after == pristine, "a disk that refuses every write changed");
    }
    if sized != Status::Ok {
        return;
    }
    if short == 1 {
        // Too little memory, or a table that fails before its last buffer is taken.
        assert_ne!(status, Status::Ok, "a read with scratch one byte short succeeded");
        assert!(after == pristine);
        return;
    }
    if !matches!(writes, Writes::Working | Writes::OneByte) {
        return;
    }

    // The host on the same bytes.
    let host = GptDisk::new(MemoryDevice::new(pristine), BlockSize::Fixed(block_size)).expect("a fixed block size");
    let request = PrioritizeRequest {
        target: (index != 0).then_some(index),
        friends,
        max_priority: (max != 0).then_some(max as u8),
    };
    // The partition chosen or looked up, and whether the table was written.
    let host_result: Result<(Option<u32>, bool), gpt::Error> = match op {
        0 | 5 => host.next(Guid::FLATCAR_USR).map(|boot| (Some(boot.partition.index), boot.written)),
        1 => host.mark_good(index, Guid::FLATCAR_USR).map(|w| (None, w.0)),
        2 => host.mark_update(index, Guid::FLATCAR_USR).map(|w| (None, w.0)),
        3 => host.prioritize(request, Guid::FLATCAR_USR).map(|w| (None, w.0)),
        _ => host.read().and_then(|table| table.used_entry(index)).map(|entry| (Some(entry.index), false)),
    };
    match &host_result {
        Ok((chosen, host_written)) => {
            assert_eq!(status, Status::Ok, "host succeeded, boot said {status:?}");
            match op {
                0 | 5 => {
                    assert_eq!(Some(next.partition.index), *chosen);
                    assert_eq!(next.written == 1, *host_written);
                }
                1..=3 => assert_eq!(written == 1, *host_written),
                _ => assert_eq!(Some(part.index), *chosen),
            }
        }
        Err(err) => assert_eq!(status as i32, expected_status(err), "host: {err}"),
    }
    let host_after = host.into_device().into_inner();
    assert!(after == host_after, "boot and host disks differ after op {op}: {status:?} / {host_result:?}");
});

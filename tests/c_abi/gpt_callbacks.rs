//! The GPT C entry points over caller callbacks, called from Rust through the C ABI: a
//! failing read callback is reported as a callback failure (never as a blank disk), and
//! a callback that calls back into its own handle gets `ROOTSEAL_STATUS_BUSY` instead of
//! a deadlock (issue 15, items 7 and 8).

use crate::gpt_support::{DiskSpec, disk, scratch_dir};
use rootseal::ffi::gpt::*;
use rootseal::ffi::io::{ROOTSEAL_IO_VERSION, rootseal_io};
use rootseal::ffi::status::rootseal_status as S;
use std::ffi::c_void;

/// How the read callback misbehaves.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Read {
    Good,
    Fails,
    ReturnsZero,
    ClaimsTooMuch,
    /// Calls `rootseal_gpt_get_state` on its own handle once `handle` is set.
    ReEnters,
}

struct Disk {
    bytes: Vec<u8>,
    mode: Read,
    handle: *mut rootseal_gpt,
    inner: Vec<S>,
}

unsafe extern "C" fn read(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: ctx is the `Disk` the test passed; buf holds len bytes.
    let disk = unsafe { &mut *(ctx as *mut Disk) };
    match disk.mode {
        Read::Fails => return -5,
        Read::ReturnsZero => return 0,
        Read::ClaimsTooMuch => return len as i64 + 1,
        Read::ReEnters if !disk.handle.is_null() => {
            let mut state = std::mem::MaybeUninit::<rootseal_gpt_state>::uninit();
            // SAFETY: a live handle and a writable out-param.
            disk.inner.push(unsafe { rootseal_gpt_get_state(disk.handle, state.as_mut_ptr()) });
        }
        _ => {}
    }
    let at = offset as usize;
    let n = len.min(disk.bytes.len().saturating_sub(at));
    // SAFETY: n <= len bytes into the caller's buffer.
    unsafe { std::ptr::copy_nonoverlapping(disk.bytes[at..at + n].as_ptr(), buf, n) };
    n as i64
}

unsafe extern "C" fn size(ctx: *mut c_void, out: *mut u64) -> i32 {
    // SAFETY: as in `read`.
    unsafe { *out = (*(ctx as *mut Disk)).bytes.len() as u64 };
    0
}

fn io_for(disk: &mut Disk) -> rootseal_io {
    rootseal_io {
        version: ROOTSEAL_IO_VERSION,
        reserved0: 0,
        ctx: disk as *mut Disk as *mut c_void,
        read: Some(read),
        write: None,
        flush: None,
        size: Some(size),
        block_size: None,
        reserved: [std::ptr::null_mut(); 4],
    }
}

fn read_only(block_size: u32) -> rootseal_gpt_open_params {
    rootseal_gpt_open_params {
        version: ROOTSEAL_GPT_OPEN_PARAMS_VERSION,
        block_size,
        flags: ROOTSEAL_GPT_OPEN_READ_ONLY,
        reserved0: 0,
        reserved: [0; 4],
    }
}

fn image(spec: DiskSpec) -> Vec<u8> {
    let dir = scratch_dir();
    let path = dir.path().join("disk.img");
    disk(spec, &path);
    std::fs::read(&path).unwrap()
}

/// Opens with `mode`; returns the status and closes any handle.
fn open(bytes: &[u8], mode: Read, block_size: u32) -> S {
    let mut disk = Disk { bytes: bytes.to_vec(), mode, handle: std::ptr::null_mut(), inner: Vec::new() };
    let io = io_for(&mut disk);
    let params = read_only(block_size);
    let mut handle: *mut rootseal_gpt = std::ptr::null_mut();
    // SAFETY: valid io, params and out-param.
    let status = unsafe { rootseal_gpt_open_io(&io, &params, &mut handle) };
    assert_eq!(handle.is_null(), status != S::Ok, "out-param written only on success");
    // SAFETY: NULL or the handle just opened.
    unsafe { rootseal_gpt_close(handle) };
    status
}

#[test]
fn a_failing_read_callback_is_a_callback_failure_never_no_gpt() {
    for spec in [DiskSpec::flatcar(512), DiskSpec::flatcar(4096)] {
        let bytes = image(spec);
        assert_eq!(open(&bytes, Read::Good, 0), S::Ok, "{spec:?}");
        for mode in [Read::Fails, Read::ReturnsZero, Read::ClaimsTooMuch] {
            // With no block size (detection reads first) and with one given.
            for block_size in [0, spec.block_size] {
                assert_eq!(open(&bytes, mode, block_size), S::CallbackFailed, "{spec:?} {mode:?} {block_size}");
            }
        }
    }
    // A really blank disk is still "no GPT".
    assert_eq!(open(&vec![0u8; 1 << 20], Read::Good, 0), S::GptNoGpt);
}

#[test]
fn re_entry_from_a_callback_is_busy_and_the_handle_recovers() {
    let bytes = image(DiskSpec::flatcar(512));
    let mut disk = Disk { bytes, mode: Read::ReEnters, handle: std::ptr::null_mut(), inner: Vec::new() };
    let io = io_for(&mut disk);
    let params = read_only(0);
    let mut handle: *mut rootseal_gpt = std::ptr::null_mut();
    // SAFETY: valid io, params and out-param; `disk` outlives the handle.
    assert_eq!(unsafe { rootseal_gpt_open_io(&io, &params, &mut handle) }, S::Ok);
    // SAFETY: the ctx pointer is `disk`; no callback runs now.
    unsafe { (*(io.ctx as *mut Disk)).handle = handle };
    let mut state = std::mem::MaybeUninit::<rootseal_gpt_state>::uninit();
    // SAFETY: live handle, writable out-param.
    assert_eq!(unsafe { rootseal_gpt_get_state(handle, state.as_mut_ptr()) }, S::Ok);
    // SAFETY: written on success.
    assert_eq!(unsafe { state.assume_init_ref() }.block_size, 512);
    // SAFETY: as above; the callbacks ran during the call.
    let inner = unsafe { std::mem::take(&mut (*(io.ctx as *mut Disk)).inner) };
    assert!(!inner.is_empty() && inner.iter().all(|&s| s == S::Busy), "{inner:?}");
    // The flag is released: a call from outside works again, and close frees it.
    // SAFETY: as above.
    unsafe {
        (*(io.ctx as *mut Disk)).mode = Read::Good;
        assert_eq!(rootseal_gpt_get_state(handle, state.as_mut_ptr()), S::Ok);
        rootseal_gpt_close(handle);
    }
}

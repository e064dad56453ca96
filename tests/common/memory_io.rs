//! A device in memory behind the C `rootseal_io` callbacks, for tests of the `_io` entry
//! points from Rust. It can be told to fail its reads.

use rootseal::ffi::io::{ROOTSEAL_IO_VERSION, rootseal_io};
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;

pub struct MemoryIo {
    pub bytes: RefCell<Vec<u8>>,
    /// Every read fails (returns -5) while set.
    pub fail_reads: Cell<bool>,
}

impl MemoryIo {
    pub fn new(bytes: Vec<u8>) -> Self {
        MemoryIo { bytes: RefCell::new(bytes), fail_reads: Cell::new(false) }
    }

    /// The callbacks; `self` must outlive every call they are passed to.
    pub fn as_io(&self) -> rootseal_io {
        rootseal_io {
            version: ROOTSEAL_IO_VERSION,
            reserved0: 0,
            ctx: self as *const MemoryIo as *mut c_void,
            read: Some(read),
            write: Some(write),
            flush: Some(flush),
            size: Some(size),
            block_size: None,
            reserved: [ptr::null_mut(); 4],
        }
    }
}

/// # Safety
/// `ctx` is the `MemoryIo` of an io made by `MemoryIo::as_io`.
unsafe fn memory<'a>(ctx: *mut c_void) -> &'a MemoryIo {
    // SAFETY: per this function's contract.
    unsafe { &*(ctx as *const MemoryIo) }
}

unsafe extern "C" fn read(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: rootseal hands back the ctx of an io made by `as_io`.
    let mem = unsafe { memory(ctx) };
    if mem.fail_reads.get() {
        return -5;
    }
    let bytes = mem.bytes.borrow();
    let Some(available) = usize::try_from(offset).ok().and_then(|o| bytes.get(o..)) else { return 0 };
    let n = len.min(available.len());
    // SAFETY: rootseal promises `buf` holds `len` bytes; n <= len.
    unsafe { ptr::copy_nonoverlapping(available.as_ptr(), buf, n) };
    n as i64
}

unsafe extern "C" fn write(ctx: *mut c_void, offset: u64, buf: *const u8, len: usize) -> i64 {
    // SAFETY: as in read.
    let mut bytes = unsafe { memory(ctx) }.bytes.borrow_mut();
    let start = offset as usize;
    if bytes.len() < start + len {
        bytes.resize(start + len, 0);
    }
    // SAFETY: rootseal promises `buf` holds `len` bytes; the vector was grown to fit.
    unsafe { ptr::copy_nonoverlapping(buf, bytes[start..].as_mut_ptr(), len) };
    len as i64
}

unsafe extern "C" fn flush(_: *mut c_void) -> i32 {
    0
}

unsafe extern "C" fn size(ctx: *mut c_void, out: *mut u64) -> i32 {
    // SAFETY: as in read; rootseal passes a writable u64.
    unsafe { out.write(memory(ctx).bytes.borrow().len() as u64) };
    0
}

//! Caller-supplied I/O: a bootloader or an agent with its own disk layer passes
//! callbacks instead of paths.

use super::callback::callback_error;
use super::status::rootseal_status;
use super::{Failure, null};
use crate::io::{BlockRead, BlockWrite};
use std::ffi::c_void;
use std::io;
use std::sync::Mutex;

/// Current version of [`rootseal_io`].
pub const ROOTSEAL_IO_VERSION: u32 = 1;

/// Reads up to `len` bytes at `offset` into `buf`. Returns the number of bytes read
/// (a short count is retried; 0 means end of device), or a negative value on error.
pub type rootseal_read_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64>;
/// Writes up to `len` bytes from `buf` at `offset`. Returns the number of bytes written
/// (a short count is retried; 0 is an error), or a negative value on error.
pub type rootseal_write_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, offset: u64, buf: *const u8, len: usize) -> i64>;
/// Makes all writes durable. Returns 0 on success, non-zero on error.
pub type rootseal_flush_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> i32>;
/// Stores the device size in bytes in `*size_out`. Returns 0 on success, non-zero on error.
pub type rootseal_size_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, size_out: *mut u64) -> i32>;
/// Stores the logical block size in bytes in `*block_size_out`. Returns 0 on success.
pub type rootseal_block_size_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, block_size_out: *mut u32) -> i32>;

/// A device as a set of callbacks. Zero the struct, set `version` to
/// `ROOTSEAL_IO_VERSION`, and fill the callbacks the operation needs: `read` and `size`
/// always, `write` and `flush` for devices that are written. `block_size` is not used by
/// the verity functions and may be NULL; the GPT functions use it when present. The reserved fields must be NULL.
///
/// Callbacks are called only from the thread that called the rootseal function, one at
/// a time, and never after it returns. `ctx` is passed through untouched.
#[repr(C)]
pub struct rootseal_io {
    /// Must be `ROOTSEAL_IO_VERSION`.
    pub version: u32,
    /// Reserved, must be zero.
    pub reserved0: u32,
    /// Opaque pointer handed to every callback.
    pub ctx: *mut c_void,
    /// Read callback (required).
    pub read: rootseal_read_fn,
    /// Write callback (required for devices that are written).
    pub write: rootseal_write_fn,
    /// Flush callback (required for devices that are written).
    pub flush: rootseal_flush_fn,
    /// Size callback (required).
    pub size: rootseal_size_fn,
    /// Logical block size callback (optional).
    pub block_size: rootseal_block_size_fn,
    /// Reserved, must be NULL.
    pub reserved: [*mut c_void; 4],
}

/// A [`rootseal_io`] as a rootseal device.
pub(crate) struct CallbackDevice {
    io: rootseal_io,
    // Serialises callbacks even if a future caller runs the walk on several threads.
    lock: Mutex<()>,
}

// SAFETY: the struct holds the caller's raw `ctx` pointer and function pointers. The
// rootseal_io contract says callbacks are used from the calling thread only; walks over
// callback devices run on that thread (threads = 1 runs inline), and `lock` serialises
// every call regardless.
unsafe impl Sync for CallbackDevice {}

impl CallbackDevice {
    /// Validates and copies the struct.
    ///
    /// # Safety
    /// `io` must be NULL or point to a valid `rootseal_io` for the duration of the call.
    pub(crate) unsafe fn from_ptr(io: *const rootseal_io, what: &str, writable: bool) -> Result<Self, Failure> {
        if io.is_null() {
            return Err(null(what));
        }
        // SAFETY: non-NULL and valid per the caller's contract; the struct is plain data.
        let io = unsafe { std::ptr::read(io) };
        let reserved_zero = io.reserved0 == 0 && io.reserved.iter().all(|p| p.is_null());
        super::check_params(&format!("{what}: rootseal_io"), io.version, ROOTSEAL_IO_VERSION, reserved_zero)?;
        if io.read.is_none() || io.size.is_none() {
            return Err(null(&format!("{what}: the read or size callback")));
        }
        if writable && (io.write.is_none() || io.flush.is_none()) {
            return Err(null(&format!("{what}: the write or flush callback")));
        }
        Ok(CallbackDevice { io, lock: Mutex::new(()) })
    }

    /// Whether two callback sets stand for one shared device: the same non-NULL `ctx`.
    pub(crate) fn same_device_as(&self, other: &CallbackDevice) -> bool {
        !self.io.ctx.is_null() && self.io.ctx == other.io.ctx
    }

    /// The logical block size from the optional callback; `None` when there is none.
    pub(crate) fn block_size(&self) -> Result<Option<u32>, Failure> {
        let Some(block_size_fn) = self.io.block_size else {
            return Ok(None);
        };
        let _held = self.guard();
        let mut size = 0u32;
        // SAFETY: the callback and ctx come from the caller, who promises they are valid;
        // `size` is a live local.
        let rc = unsafe { block_size_fn(self.io.ctx, &mut size) };
        if rc != 0 {
            return Err(Failure::new(rootseal_status::CallbackFailed, format!("block_size callback returned {rc}")));
        }
        Ok(Some(size))
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl BlockRead for CallbackDevice {
    fn size(&self) -> io::Result<u64> {
        let _held = self.guard();
        let size_fn = self.io.size.ok_or_else(|| callback_error("no size callback".into()))?;
        let mut size = 0u64;
        // SAFETY: the callback and ctx come from the caller, who promises they are valid;
        // `size` is a live local.
        let rc = unsafe { size_fn(self.io.ctx, &mut size) };
        if rc != 0 {
            return Err(callback_error(format!("size callback returned {rc}")));
        }
        Ok(size)
    }

    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        let _held = self.guard();
        let read_fn = self.io.read.ok_or_else(|| callback_error("no read callback".into()))?;
        scratch.resize(len, 0);
        let mut done = 0usize;
        while done < len {
            let at = offset + done as u64;
            let rest = &mut scratch[done..];
            // SAFETY: `rest` is a live buffer of `rest.len()` bytes; the callback's
            // validity is the caller's promise.
            let got = unsafe { read_fn(self.io.ctx, at, rest.as_mut_ptr(), rest.len()) };
            match got {
                n if n < 0 => return Err(callback_error(format!("read callback returned {n} at offset {at}"))),
                0 => return Err(callback_error(format!("read callback hit the end of the device at offset {at}"))),
                n if n as u64 > rest.len() as u64 => {
                    return Err(callback_error(format!("read callback claims {n} bytes, {} were asked", rest.len())));
                }
                n => done += n as usize,
            }
        }
        Ok(scratch)
    }
}

impl BlockWrite for CallbackDevice {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let _held = self.guard();
        let write_fn = self.io.write.ok_or_else(|| callback_error("no write callback".into()))?;
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let rest = &data[done..];
            // SAFETY: `rest` is a live buffer of `rest.len()` bytes; the callback's
            // validity is the caller's promise.
            let put = unsafe { write_fn(self.io.ctx, at, rest.as_ptr(), rest.len()) };
            match put {
                n if n <= 0 => return Err(callback_error(format!("write callback returned {n} at offset {at}"))),
                n if n as u64 > rest.len() as u64 => {
                    return Err(callback_error(format!("write callback claims {n} bytes, {} were given", rest.len())));
                }
                n => done += n as usize,
            }
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        let _held = self.guard();
        let flush_fn = self.io.flush.ok_or_else(|| callback_error("no flush callback".into()))?;
        // SAFETY: the callback and ctx are the caller's promise.
        let rc = unsafe { flush_fn(self.io.ctx) };
        if rc != 0 {
            return Err(callback_error(format!("flush callback returned {rc}")));
        }
        Ok(())
    }

    fn capacity(&self) -> io::Result<Option<u64>> {
        // A callback device is a fixed-size disk: writes must fit.
        self.size().map(Some)
    }
}

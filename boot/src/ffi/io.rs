//! The caller's disk as callbacks: `rootseal_boot_io`, the same shape as the host
//! library's `rootseal_io`, and the one read loop every entry point uses.

use super::rootseal_boot_status;
use core::ffi::c_void;

/// Current version of [`rootseal_boot_io`].
pub const ROOTSEAL_BOOT_IO_VERSION: u32 = 1;

/// Reads up to `len` bytes at byte `offset` into `buf`. Returns the number of bytes read
/// (a short count is retried; 0 means the end of the device), or a negative value on
/// error.
pub type rootseal_boot_read_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64>;

/// Writes up to `len` bytes from `buf` at byte `offset`. Returns the number of bytes
/// written (a short count is retried; 0 is an error), or a negative value on error.
pub type rootseal_boot_write_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, offset: u64, buf: *const u8, len: usize) -> i64>;

/// Makes every write so far durable. Returns 0 on success, non-zero on error.
pub type rootseal_boot_flush_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> i32>;

/// Stores the device size in bytes in `*size_out`. Returns 0 on success, non-zero on
/// error.
pub type rootseal_boot_size_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, size_out: *mut u64) -> i32>;

/// Stores the logical block size in bytes in `*block_size_out`. Returns 0 on success.
pub type rootseal_boot_block_size_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, block_size_out: *mut u32) -> i32>;

/// A disk (or a partition, or a file) as callbacks. Zero the struct, set `version` to
/// `ROOTSEAL_BOOT_IO_VERSION` and fill the callbacks the function needs: `read` always;
/// `write`, `flush`, `size` and `block_size` where a function's comment asks for them.
/// The reserved fields must be zero. Callbacks are called only during the call that was
/// given the struct, one at a time; `ctx` is passed through untouched.
#[repr(C)]
pub struct rootseal_boot_io {
    /// Must be `ROOTSEAL_BOOT_IO_VERSION`.
    pub version: u32,
    /// Reserved, must be zero.
    pub reserved0: u32,
    /// Opaque pointer handed to every callback.
    pub ctx: *mut c_void,
    /// Read callback (required).
    pub read: rootseal_boot_read_fn,
    /// Write callback (for functions that write).
    pub write: rootseal_boot_write_fn,
    /// Flush callback (for functions that write).
    pub flush: rootseal_boot_flush_fn,
    /// Size callback.
    pub size: rootseal_boot_size_fn,
    /// Logical block size callback.
    pub block_size: rootseal_boot_block_size_fn,
    /// Reserved, must be NULL.
    pub reserved: [*mut c_void; 4],
}

/// A checked `rootseal_boot_io`: its version known, its reserved fields zero and its
/// read callback present.
pub(crate) struct Disk<'a> {
    io: &'a rootseal_boot_io,
    read: unsafe extern "C" fn(*mut c_void, u64, *mut u8, usize) -> i64,
}

impl<'a> Disk<'a> {
    /// Checks `io`.
    ///
    /// # Safety
    /// `io` NULL or pointing to a `rootseal_boot_io` whose callbacks honour their
    /// contracts for the duration of the call.
    pub(crate) unsafe fn new(io: *const rootseal_boot_io) -> Result<Self, rootseal_boot_status> {
        // SAFETY: non-NULL pointers are valid per the caller's contract.
        let io = unsafe { io.as_ref() }.ok_or(rootseal_boot_status::NullParameter)?;
        if io.version != ROOTSEAL_BOOT_IO_VERSION {
            return Err(rootseal_boot_status::UnsupportedParamsVersion);
        }
        if io.reserved0 != 0 || io.reserved.iter().any(|p| !p.is_null()) {
            return Err(rootseal_boot_status::ReservedNotZero);
        }
        let read = io.read.ok_or(rootseal_boot_status::NullParameter)?;
        Ok(Disk { io, read })
    }

    /// Fills `buf` from byte `offset`, retrying short reads. Returns the bytes read,
    /// fewer than `buf.len()` only at the end of the device. A negative return or a
    /// count larger than asked for is `CallbackFailed`.
    /// The callbacks, for the entry points that also write or ask for sizes.
    pub(crate) fn io(&self) -> &'a rootseal_boot_io {
        self.io
    }

    pub(crate) fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, rootseal_boot_status> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset.checked_add(done as u64).ok_or(rootseal_boot_status::InvalidArgument)?;
            let rest = &mut buf[done..];
            // SAFETY: `rest` is writable for its length, and the callback's contract
            // says it writes at most that many bytes.
            let n = unsafe { (self.read)(self.io.ctx, at, rest.as_mut_ptr(), rest.len()) };
            match usize::try_from(n) {
                Ok(0) => break,
                Ok(n) if n <= rest.len() => done += n,
                _ => return Err(rootseal_boot_status::CallbackFailed),
            }
        }
        Ok(done)
    }
}

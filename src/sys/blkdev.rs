//! Block-device queries that need `ioctl`.

use std::ffi::{c_int, c_ulong};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `BLKSSZGET` = `_IO(0x12, 104)`: the logical block size, as an `int`.
const BLKSSZGET: c_ulong = 0x1268;

unsafe extern "C" {
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
}

/// The logical block size of a block device, as the kernel reports it.
pub(crate) fn logical_block_size(file: &File) -> io::Result<u32> {
    let mut size: c_int = 0;
    // SAFETY: BLKSSZGET writes one `int` through the pointer, which points at a live
    // local; the descriptor is open for the duration of the call.
    let rc = unsafe { ioctl(file.as_raw_fd(), BLKSSZGET, &mut size as *mut c_int) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    u32::try_from(size).map_err(|_| io::Error::other(format!("BLKSSZGET returned {size}")))
}

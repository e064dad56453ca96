//! Opening and reading files with the checks every reader needs: only regular files and
//! block devices, sizes that hold for both, reads capped for pipes and devices, and a
//! stamp that tells whether a file changed while it was read.

use std::ffi::c_int;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// `O_NONBLOCK`, `F_GETFL` and `F_SETFL` as Linux defines them on every architecture
/// rootseal builds for.
const O_NONBLOCK: c_int = 0o4000;
const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;

/// `O_DIRECT` where Linux gives it the same number on the architecture; `None` elsewhere
/// (reads then stay buffered, which is only slower).
#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "riscv64", target_arch = "loongarch64"))]
const O_DIRECT: Option<c_int> = Some(0o40000);
#[cfg(any(target_arch = "aarch64", target_arch = "arm"))]
const O_DIRECT: Option<c_int> = Some(0o200000);
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "riscv64",
    target_arch = "loongarch64",
    target_arch = "aarch64",
    target_arch = "arm"
)))]
const O_DIRECT: Option<c_int> = None;

/// `RWF_NOWAIT` for `preadv2`: fail with `EAGAIN` rather than wait for the device.
const RWF_NOWAIT: c_int = 0x8;
/// `EAGAIN` on Linux.
const EAGAIN: i32 = 11;

/// `struct iovec`.
#[repr(C)]
struct IoVec {
    base: *mut u8,
    len: usize,
}

unsafe extern "C" {
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn posix_fadvise(fd: c_int, offset: i64, len: i64, advice: c_int) -> c_int;
    fn preadv2(fd: c_int, iov: *const IoVec, iovcnt: c_int, offset: i64, flags: c_int) -> isize;
    fn lseek(fd: c_int, offset: i64, whence: c_int) -> i64;
    fn sync_file_range(fd: c_int, offset: i64, nbytes: i64, flags: u32) -> c_int;
}

/// `SYNC_FILE_RANGE_WRITE`: start writeback of the dirty pages in the range, do not wait.
const SYNC_FILE_RANGE_WRITE: u32 = 2;

/// Starts writing `offset..offset + len` of `file` back to its device without waiting, so
/// that a later `fdatasync` has less left to do. A hint: a failure (a file system without
/// it) only leaves the work to that `fdatasync`, so it is not reported.
pub(crate) fn start_writeback(file: &File, offset: u64, len: u64) {
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range takes plain integers and reads no memory; the descriptor is
    // open because `file` owns it.
    let _ = unsafe { sync_file_range(file.as_raw_fd(), offset, len, SYNC_FILE_RANGE_WRITE) };
}

/// `SEEK_DATA` and `ENXIO` on Linux.
const SEEK_DATA: c_int = 3;
const ENXIO: i32 = 6;

/// The first offset at or after `offset` where the regular file `file` stores data
/// (`lseek(SEEK_DATA)`), skipping holes, which read as zeros and store nothing; `None`
/// when only holes follow. Where the file system cannot tell, `offset` itself. The
/// descriptor's file position moves; callers read with `pread`.
pub(crate) fn next_data(file: &File, offset: u64) -> Option<u64> {
    let Ok(at) = i64::try_from(offset) else {
        return Some(offset);
    };
    // SAFETY: lseek takes plain integers and touches no memory; the descriptor is open
    // because `file` owns it.
    let data = unsafe { lseek(file.as_raw_fd(), at, SEEK_DATA) };
    match u64::try_from(data) {
        Ok(data) => Some(data),
        Err(_) if io::Error::last_os_error().raw_os_error() == Some(ENXIO) => None,
        Err(_) => Some(offset),
    }
}

/// Whether the page of `file` at `offset` is in the page cache: a one-page `preadv2` with
/// `RWF_NOWAIT`, which fails with `EAGAIN` instead of going to the device. `None` when
/// the kernel or file system cannot tell (the flag unsupported, `offset` at or past the
/// end). The probe costs one page copy; on a miss the kernel may start a small readahead.
pub(crate) fn page_cached(file: &File, offset: u64) -> Option<bool> {
    let mut page = [0u8; 4096];
    let offset = i64::try_from(offset - offset % 4096).ok()?;
    let iov = IoVec { base: page.as_mut_ptr(), len: page.len() };
    // SAFETY: `iov` points at `page`, writable for its whole length for the duration of
    // the call; the descriptor is open because `file` owns it.
    let read = unsafe { preadv2(file.as_raw_fd(), &iov, 1, offset, RWF_NOWAIT) };
    match read {
        n if n > 0 => Some(true),
        0 => None,
        _ if io::Error::last_os_error().raw_os_error() == Some(EAGAIN) => Some(false),
        _ => None,
    }
}

/// A second descriptor for the file `file` is open on, with `O_DIRECT`: reads go from the
/// device into the caller's buffer, past the page cache. Opened through
/// `/proc/self/fd`, so it is the same file even if its path was renamed meanwhile (that
/// is checked). Fails where the architecture, `/proc` or the file system (tmpfs, some
/// network file systems) has no direct I/O.
pub(crate) fn reopen_direct(file: &File) -> io::Result<File> {
    let Some(direct) = O_DIRECT else {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "no O_DIRECT on this architecture"));
    };
    let again = File::options().read(true).custom_flags(direct).open(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let (was, is) = (file.metadata()?, again.metadata()?);
    if (was.dev(), was.ino(), was.rdev()) != (is.dev(), is.ino(), is.rdev()) {
        return Err(io::Error::other("reopening for direct I/O gave another file"));
    }
    Ok(again)
}

/// Read-ahead hints for [`advise`], as `posix_fadvise(2)` numbers them on Linux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advice {
    /// `POSIX_FADV_SEQUENTIAL`: the file is read front to back; the kernel doubles its
    /// read-ahead window.
    Sequential = 2,
    /// `POSIX_FADV_WILLNEED`: start reading this range into the page cache now.
    WillNeed = 3,
}

/// Gives the kernel a read-ahead hint for `offset..offset + len` of `file` (`len` 0: to
/// the end). A hint only: failure (a file system that ignores it) costs speed, never
/// correctness, so it is not reported.
pub(crate) fn advise(file: &File, offset: u64, len: u64, advice: Advice) {
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: posix_fadvise takes plain integers and reads no memory; the descriptor is
    // open for the duration of the call because `file` owns it.
    let _ = unsafe { posix_fadvise(file.as_raw_fd(), offset, len, advice as c_int) };
}

/// How a path is opened by [`open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read only.
    Read,
    /// Read and write an existing file or device.
    ReadWrite,
    /// Read and write, creating a regular file (owner-only, never truncated) if missing.
    ReadWriteCreate,
    /// Write only, creating (owner-only) or truncating a regular file.
    WriteTruncate,
}

/// Opens `path` without ever blocking on it: the open itself is non-blocking, so a FIFO
/// with no writer (or a terminal, a socket) cannot hang the caller, and anything that is
/// not a regular file or a block device is refused at once, on the open descriptor (no
/// race with a rename). The non-blocking flag is cleared again before the file is used.
pub(crate) fn open(path: &Path, access: Access) -> io::Result<File> {
    let mut options = File::options();
    match access {
        Access::Read => options.read(true),
        Access::ReadWrite => options.read(true).write(true),
        Access::ReadWriteCreate => options.read(true).write(true).create(true).truncate(false).mode(0o600),
        Access::WriteTruncate => options.write(true).create(true).truncate(true).mode(0o600),
    };
    let file = options.custom_flags(O_NONBLOCK).open(path)?;
    check_regular_or_block(&file)?;
    let fd = file.as_raw_fd();
    // SAFETY: F_GETFL and F_SETFL take and return plain integers; `fd` is open for the
    // duration of both calls because `file` owns it.
    let flags = unsafe { fcntl(fd, F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { fcntl(fd, F_SETFL, flags & !O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// Size of a regular file or block device (whose metadata length is 0).
pub(crate) fn device_size(file: &File) -> io::Result<u64> {
    let meta = file.metadata()?;
    if meta.file_type().is_block_device() {
        let mut handle = file;
        handle.seek(SeekFrom::End(0))
    } else {
        Ok(meta.len())
    }
}

/// Fails unless `file` is a regular file or a block device: a pipe, FIFO, character
/// device or /proc file has no length that means anything, and data of "no length" must
/// never stand for its contents.
pub(crate) fn check_regular_or_block(file: &File) -> io::Result<()> {
    let kind = file.metadata()?.file_type();
    if kind.is_file() || kind.is_block_device() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file or block device (pipes, FIFOs, sockets and character devices are refused)",
    ))
}

/// Reads at most `max + 1` bytes of `path`: a caller that gets more than `max` knows the
/// file is too large without reading all of a pipe or `/dev/zero`.
pub(crate) fn read_at_most(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, Access::Read)?.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What identifies one version of a file's contents: its size and, for regular files,
/// its modification and change times (a block device's times are the node's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    /// The stamp of `file` now.
    pub(crate) fn of(file: &File) -> io::Result<Self> {
        let meta = file.metadata()?;
        if meta.file_type().is_block_device() {
            return Ok(Stamp { size: device_size(file)?, mtime: (0, 0), ctime: (0, 0) });
        }
        Ok(Stamp {
            size: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// How `now` differs from this stamp, or None when it does not.
    pub(crate) fn change_to(&self, now: &Stamp) -> Option<String> {
        if now.size != self.size {
            return Some(format!("its size went from {} to {} bytes", self.size, now.size));
        }
        (now != self).then(|| "it was modified".to_string())
    }
}

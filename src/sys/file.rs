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

unsafe extern "C" {
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn posix_fadvise(fd: c_int, offset: i64, len: i64, advice: c_int) -> c_int;
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

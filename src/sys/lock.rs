//! Which file an advisory `flock` goes on, so that every rootseal process that opens the
//! same disk, by whatever name, locks the same inode.
//!
//! - A regular file is locked itself: its inode is its identity.
//! - A block device is locked through its kernel name, keyed on `st_rdev`:
//!   `/sys/dev/block/MAJ:MIN/uevent` gives `DEVNAME` (for example `loop0`), and
//!   `/dev/DEVNAME` is locked when its `st_rdev` matches. A second node made with
//!   `mknod` elsewhere has another inode, so locking the node that was opened would let
//!   it bypass the lock; going through the device number does not. This is also the
//!   node udev and systemd-repart lock (the whole-disk node in /dev).
//! - When sysfs or /dev does not name the device (no sysfs, or a /dev without that
//!   node), the opened node itself is locked, which still serialises every process that
//!   uses the same node.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

/// The file to lock for `file`: `None` means `file` itself.
pub(crate) fn lock_target(file: &File) -> io::Result<Option<File>> {
    let meta = file.metadata()?;
    if !meta.file_type().is_block_device() {
        return Ok(None);
    }
    let rdev = meta.rdev();
    let Some(node) = kernel_node(rdev) else { return Ok(None) };
    // Read-only, close-on-exec (std's default); flock needs no write access.
    let Ok(canonical) = File::open(&node) else { return Ok(None) };
    let same = canonical.metadata().is_ok_and(|m| m.file_type().is_block_device() && m.rdev() == rdev);
    Ok(same.then_some(canonical))
}

/// `/dev/DEVNAME` of the block device numbered `rdev`, from sysfs.
fn kernel_node(rdev: u64) -> Option<PathBuf> {
    // Linux's dev_t encoding (glibc `gnu_dev_major`/`gnu_dev_minor`).
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    let uevent = std::fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/uevent")).ok()?;
    let name = uevent.lines().find_map(|line| line.strip_prefix("DEVNAME="))?;
    // DEVNAME is relative to /dev and may hold a subdirectory, never "..".
    if name.is_empty() || name.split('/').any(|part| part.is_empty() || part == "..") {
        return None;
    }
    Some(PathBuf::from("/dev").join(name))
}

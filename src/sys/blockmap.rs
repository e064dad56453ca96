//! Where the bytes of a file or block device really live: a loop device's bytes are a
//! window of its backing file, a partition's a window of its disk. Two names for the
//! same bytes (`img` and `/dev/loopN` backed by `img`, `/dev/sda3` and `/dev/sda`) then
//! compare equal, so that a tree is never written over the data it describes.
//!
//! The answer comes from sysfs (`/sys/dev/block/MAJ:MIN/loop/{backing_file,offset}`,
//! `/sys/dev/block/MAJ:MIN/{partition,start}`), and for a loop device whose backing
//! file sysfs cannot name (deleted, or sysfs missing) from `LOOP_GET_STATUS64`.

use std::ffi::{c_int, c_ulong};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// What holds the bytes in the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backing {
    /// A regular file: its file system's device and its inode.
    File { dev: u64, ino: u64 },
    /// A whole block device that is neither a loop device nor a partition.
    Disk { rdev: u64 },
}

/// Byte `0` of a file or device is byte `base` of `backing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub backing: Backing,
    pub base: u64,
}

/// Loop devices stacked on loop devices, partitions of loop devices: deeper than this
/// is refused as a cycle would be.
const MAX_DEPTH: usize = 8;

/// The location of byte 0 of the open `file`.
pub(crate) fn locate(file: &File) -> io::Result<Location> {
    locate_meta(Path::new("/sys"), &file.metadata()?, Some(file), 0)
}

/// The location of byte 0 of the file or device `path` names.
pub(crate) fn locate_path(path: &Path) -> io::Result<Location> {
    locate_meta(Path::new("/sys"), &std::fs::metadata(path)?, None, 0)
}

fn locate_meta(sys: &Path, meta: &Metadata, open: Option<&File>, depth: usize) -> io::Result<Location> {
    if !meta.file_type().is_block_device() {
        return Ok(Location { backing: Backing::File { dev: meta.dev(), ino: meta.ino() }, base: 0 });
    }
    locate_block(sys, meta.rdev(), open, depth)
}

fn locate_block(sys: &Path, rdev: u64, open: Option<&File>, depth: usize) -> io::Result<Location> {
    if depth > MAX_DEPTH {
        return Err(io::Error::other("block devices stacked too deep (a loop device cycle?)"));
    }
    let shift = |location: Location, by: u64| -> io::Result<Location> {
        let base = location.base.checked_add(by).ok_or_else(|| io::Error::other("device offsets overflow"))?;
        Ok(Location { base, ..location })
    };
    match sys_entry(sys, major(rdev), minor(rdev))? {
        SysEntry::Loop { backing_file: Some(path), offset } => {
            // The backing file as the kernel names it; it may itself be a block device.
            let location = locate_meta(sys, &std::fs::metadata(&path)?, None, depth + 1)?;
            shift(location, offset)
        }
        SysEntry::Loop { backing_file: None, offset } => match open.map(loop_status).transpose()?.flatten() {
            Some(status) => {
                Ok(Location { backing: Backing::File { dev: status.device, ino: status.inode }, base: status.offset })
            }
            // Unbound, or a deleted backing file and no descriptor to ask: the device itself.
            None => Ok(Location { backing: Backing::Disk { rdev }, base: offset }),
        },
        SysEntry::Partition { disk, start } => shift(locate_block(sys, disk, None, depth + 1)?, start),
        SysEntry::Whole => match open.map(loop_status).transpose()?.flatten() {
            // No sysfs, but a loop device all the same.
            Some(status) => {
                Ok(Location { backing: Backing::File { dev: status.device, ino: status.inode }, base: status.offset })
            }
            None => Ok(Location { backing: Backing::Disk { rdev }, base: 0 }),
        },
    }
}

/// What sysfs says about one block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SysEntry {
    /// A loop device; `backing_file` is None when unbound or when the file was deleted.
    Loop { backing_file: Option<PathBuf>, offset: u64 },
    /// A partition starting `start` bytes into the disk `disk` (its `dev_t`).
    Partition { disk: u64, start: u64 },
    /// Anything else (or no sysfs).
    Whole,
}

/// Reads `SYS/dev/block/MAJ:MIN` for the device `major:minor`.
pub(crate) fn sys_entry(sys: &Path, major: u32, minor: u32) -> io::Result<SysEntry> {
    let dir = sys.join("dev/block").join(format!("{major}:{minor}"));
    let read = |name: &str| -> io::Result<Option<String>> {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(text) => Ok(Some(text.trim_end_matches('\n').to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    };
    let number = |name: &str, text: &str| -> io::Result<u64> {
        text.trim()
            .parse()
            .map_err(|_| io::Error::other(format!("{}: not a number: {text:?}", dir.join(name).display())))
    };
    if dir.join("loop").is_dir() {
        let offset = match read("loop/offset")? {
            Some(text) => number("loop/offset", &text)?,
            None => 0,
        };
        let backing_file = read("loop/backing_file")?
            .filter(|name| !name.is_empty() && !name.ends_with(" (deleted)"))
            .map(PathBuf::from);
        return Ok(SysEntry::Loop { backing_file, offset });
    }
    if let Some(start) = read("start")?
        && read("partition")?.is_some()
    {
        let sectors = number("start", &start)?;
        let start = sectors.checked_mul(512).ok_or_else(|| io::Error::other("partition start overflows"))?;
        // The partition's directory sits inside its disk's: ../dev is the disk's MAJ:MIN.
        let disk_dev = std::fs::read_to_string(std::fs::canonicalize(&dir)?.join("../dev"))?;
        let (maj, min) = disk_dev
            .trim()
            .split_once(':')
            .ok_or_else(|| io::Error::other(format!("unexpected disk dev {disk_dev:?}")))?;
        let disk = makedev(number("../dev", maj)? as u32, number("../dev", min)? as u32);
        return Ok(SysEntry::Partition { disk, start });
    }
    Ok(SysEntry::Whole)
}

/// glibc's `major`, `minor` and `makedev` encoding of a `dev_t`.
fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}
fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}
fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
}

/// `LOOP_GET_STATUS64` = 0x4C05.
const LOOP_GET_STATUS64: c_ulong = 0x4C05;
/// `ENXIO`: a loop device with no backing file.
const ENXIO: i32 = 6;

/// `struct loop_info64` of `<linux/loop.h>`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

struct LoopStatus {
    device: u64,
    inode: u64,
    offset: u64,
}

unsafe extern "C" {
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
}

/// The backing file and offset of a loop device, None when `file` is not a bound loop
/// device.
fn loop_status(file: &File) -> io::Result<Option<LoopStatus>> {
    // SAFETY: LoopInfo64 is plain integers and byte arrays, for which all-zero is valid.
    let mut info: LoopInfo64 = unsafe { std::mem::zeroed() };
    // SAFETY: LOOP_GET_STATUS64 writes one `struct loop_info64` through the pointer,
    // which points at a live local of exactly that layout; the descriptor is open for the
    // duration of the call. On any other device the ioctl fails and writes nothing.
    let rc = unsafe { ioctl(file.as_raw_fd(), LOOP_GET_STATUS64, &mut info as *mut LoopInfo64) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(ENXIO) | Some(25 /* ENOTTY */) | Some(22 /* EINVAL */) => Ok(None),
            _ => Err(err),
        };
    }
    // The kernel reports the file system's device as `stat(2)` reports `st_dev`.
    let device = info.lo_device;
    Ok(Some(LoopStatus { device, inode: info.lo_inode, offset: info.lo_offset }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(root: &Path, dev: &str, files: &[(&str, &str)]) {
        let dir = root.join("dev/block").join(dev);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    #[test]
    fn reads_a_loop_devices_backing_file_and_offset() {
        let sys = tempfile::tempdir().unwrap();
        fake(sys.path(), "7:3", &[("loop/backing_file", "/var/img/usr.img\n"), ("loop/offset", "1048576\n")]);
        fake(sys.path(), "7:4", &[("loop/backing_file", "/var/img/gone.img (deleted)\n"), ("loop/offset", "0\n")]);
        fake(sys.path(), "7:5", &[("loop/offset", "x\n")]);
        assert_eq!(
            sys_entry(sys.path(), 7, 3).unwrap(),
            SysEntry::Loop { backing_file: Some("/var/img/usr.img".into()), offset: 1 << 20 }
        );
        assert_eq!(sys_entry(sys.path(), 7, 4).unwrap(), SysEntry::Loop { backing_file: None, offset: 0 });
        assert!(sys_entry(sys.path(), 7, 5).is_err());
        assert_eq!(sys_entry(sys.path(), 8, 0).unwrap(), SysEntry::Whole);
    }

    #[test]
    fn reads_a_partitions_disk_and_start() {
        let sys = tempfile::tempdir().unwrap();
        // As sysfs lays it out: the partition's directory inside the disk's, reached by a
        // symlink from dev/block.
        let disk = sys.path().join("devices/virtual/block/sda");
        std::fs::create_dir_all(disk.join("sda3")).unwrap();
        std::fs::write(disk.join("dev"), "8:0\n").unwrap();
        std::fs::write(disk.join("sda3/dev"), "8:3\n").unwrap();
        std::fs::write(disk.join("sda3/partition"), "3\n").unwrap();
        std::fs::write(disk.join("sda3/start"), "4096\n").unwrap();
        std::fs::create_dir_all(sys.path().join("dev/block")).unwrap();
        std::os::unix::fs::symlink(disk.join("sda3"), sys.path().join("dev/block/8:3")).unwrap();
        assert_eq!(
            sys_entry(sys.path(), 8, 3).unwrap(),
            SysEntry::Partition { disk: makedev(8, 0), start: 4096 * 512 }
        );
    }

    #[test]
    fn dev_t_encoding_round_trips() {
        for (maj, min) in [(7u32, 3u32), (259, 1 << 19), (4095, 255), (8, 300)] {
            let dev = makedev(maj, min);
            assert_eq!((major(dev), minor(dev)), (maj, min));
        }
    }
}

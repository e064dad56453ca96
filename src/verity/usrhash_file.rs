//! The usr hash of a kernel image file: [`super::usrhash`]'s rules on the file's first
//! bytes, and the write of the 64 characters in place.

use super::usrhash::{self, HEADER_LEN, KernelArch, UsrHashError};
use crate::sys::file::{Access, open};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// What the usr hash slot of a kernel image holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelUsrHash {
    /// The image format (detected, or the one given).
    pub arch: KernelArch,
    /// The hash GRUB would put on the command line; None when it would add nothing.
    pub hash: Option<String>,
}

impl KernelUsrHash {
    /// What GRUB appends to the kernel command line: ` verity.usrhash=<hash>`.
    pub fn cmdline_suffix(&self) -> Option<String> {
        self.hash.as_ref().map(|hash| format!("{}{hash}", usrhash::CMDLINE_KEY))
    }
}

fn io_error(context: String) -> impl FnOnce(std::io::Error) -> UsrHashError {
    move |source| UsrHashError::Io { context, source }
}

/// The first [`HEADER_LEN`] bytes of `file`, or all of a shorter one.
fn header_of(file: &File, path: &Path) -> Result<Vec<u8>, UsrHashError> {
    let mut header = vec![0u8; HEADER_LEN];
    let mut len = 0;
    while len < HEADER_LEN {
        match file.read_at(&mut header[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(format!("reading {}", path.display()))(e)),
        }
    }
    header.truncate(len);
    Ok(header)
}

/// Reads the usr hash of the kernel image at `path`. The format comes from the image's
/// magic, or from `arch`, which then overrides it (the slot is read even without the
/// magic, as GRUB reads it from the kernel it loads).
pub fn read_usrhash_path(path: &Path, arch: Option<KernelArch>) -> Result<KernelUsrHash, UsrHashError> {
    let file = open(path, Access::Read).map_err(io_error(format!("opening {}", path.display())))?;
    let header = header_of(&file, path)?;
    let (arch, hash) = usrhash::find(&header, arch)?;
    Ok(KernelUsrHash { arch, hash: hash.map(String::from) })
}

/// Writes `hash` (64 lowercase hex characters) into the usr hash slot of the kernel
/// image at `path`, in place, and makes it durable. Refused, with nothing written, when
/// the image lacks the magic of its format (of `arch`, when given) or its slot holds
/// bytes that are neither zero nor a hash, unless `force`. Returns the format.
pub fn write_usrhash_path(
    path: &Path,
    arch: Option<KernelArch>,
    hash: &str,
    force: bool,
) -> Result<KernelArch, UsrHashError> {
    let file = open(path, Access::ReadWrite).map_err(io_error(format!("opening {} for writing", path.display())))?;
    let header = header_of(&file, path)?;
    let (arch, offset) = usrhash::plan_write(&header, arch, hash, force)?;
    file.write_all_at(hash.as_bytes(), offset as u64)
        .map_err(io_error(format!("writing the usr hash at byte {offset} of {}", path.display())))?;
    file.sync_data().map_err(io_error(format!("flushing {}", path.display())))?;
    Ok(arch)
}

impl UsrHashError {
    /// What kind of failure this is: bad input or failed I/O.
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            UsrHashError::Io { .. } => crate::ErrorClass::Io,
            _ => crate::ErrorClass::BadInput,
        }
    }
}

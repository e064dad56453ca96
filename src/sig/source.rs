//! Reading the signed file: `pread` into one bounded, reused buffer.
//!
//! Signed files are deliberately not memory-mapped. If a mapped file is truncated while
//! it is being hashed (an update being replaced, a download restarting), touching a page
//! past the new end raises SIGBUS, which kills the whole process — fatal for a C host
//! linking the library, and not something a library may catch by installing a global
//! signal handler. `pread` instead returns a short read, which becomes
//! [`Error::FileChanged`]. The copy costs a few percent at most: the buffer stays in the
//! CPU cache while it is hashed.
//!
//! The file's size and change time are taken when it is opened and compared again after
//! the last read, so a file that shrinks, grows or is rewritten while it is read gives an
//! error, never a result about bytes that are no longer (or not all) in the file.

use super::error::{Error, Result};
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes read per `pread`: large enough to amortise the call, small enough to stay in
/// the L2 cache while every needed digest runs over it.
pub(crate) const CHUNK: usize = 1 << 20;

/// What identifies a version of the file's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// An open regular file or block device, read with `pread`.
pub(crate) struct FileSource {
    file: File,
    path: PathBuf,
    is_block_device: bool,
    stamp: Stamp,
}

impl FileSource {
    /// Opens `path`. Pipes, FIFOs and character devices are refused: their length says
    /// nothing, and a signature over "nothing" must not validate them.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let kind = file.metadata().map_err(|e| Error::io(path, e))?.file_type();
        if !kind.is_file() && !kind.is_block_device() {
            return Err(Error::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a regular file or block device (pipes and character devices have no fixed length)",
                ),
            ));
        }
        let mut source = FileSource {
            file,
            path: path.to_path_buf(),
            is_block_device: kind.is_block_device(),
            stamp: Stamp { size: 0, mtime: (0, 0), ctime: (0, 0) },
        };
        source.stamp = source.stamp_now()?;
        Ok(source)
    }

    fn stamp_now(&self) -> Result<Stamp> {
        let meta = self.file.metadata().map_err(|e| Error::io(&self.path, e))?;
        if self.is_block_device {
            // A block device's metadata length is 0 and its times are the device node's.
            let size = crate::io::device_size(&self.file).map_err(|e| Error::io(&self.path, e))?;
            return Ok(Stamp { size, mtime: (0, 0), ctime: (0, 0) });
        }
        Ok(Stamp {
            size: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// The size when the file was opened.
    pub(crate) fn size(&self) -> u64 {
        self.stamp.size
    }

    fn changed(&self, detail: String) -> Error {
        Error::FileChanged { path: self.path.clone(), detail }
    }

    /// Fills `buf` from `offset`. The bytes were there when the file was opened, so a
    /// short read means the file shrank.
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            match self.file.read_at(&mut buf[done..], at) {
                Ok(0) => return Err(self.changed(format!("it ended at byte {at}, not {}", self.stamp.size))),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.path, e)),
            }
        }
        Ok(())
    }

    /// Reads `range` (within the size at open time) into a new vector.
    pub(crate) fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let len = usize::try_from(range.end.saturating_sub(range.start))
            .map_err(|_| Error::InvalidArgument("range too large to read".into()))?;
        let mut out = vec![0u8; len];
        self.read_exact_at(&mut out, range.start)?;
        Ok(out)
    }

    /// Passes the whole file, in order, through `consume` in chunks of at most [`CHUNK`]
    /// bytes, then checks that the file did not change meanwhile.
    pub(crate) fn stream(&self, mut consume: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
        let mut buf = vec![0u8; CHUNK.min(usize::try_from(self.stamp.size).unwrap_or(CHUNK))];
        let mut offset = 0u64;
        while offset < self.stamp.size {
            let len = usize::try_from((self.stamp.size - offset).min(CHUNK as u64)).unwrap_or(CHUNK);
            let chunk = &mut buf[..len];
            self.read_exact_at(chunk, offset)?;
            consume(offset, chunk)?;
            offset += len as u64;
        }
        self.check_unchanged()
    }

    /// Fails if the file's size or modification time differ from when it was opened.
    pub(crate) fn check_unchanged(&self) -> Result<()> {
        let now = self.stamp_now()?;
        if now.size != self.stamp.size {
            return Err(self.changed(format!("its size went from {} to {} bytes", self.stamp.size, now.size)));
        }
        if now != self.stamp {
            return Err(self.changed("it was modified".into()));
        }
        Ok(())
    }
}

/// Signed bytes, from a file read with `pread` or from memory.
pub(crate) trait SignedSource {
    /// The length of the signed object.
    fn size(&self) -> u64;
    /// The bytes of `range`, which lies within [`size`](Self::size).
    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>>;
    /// Every byte, in order, in chunks of at most [`CHUNK`] bytes.
    fn stream(&self, consume: &mut dyn FnMut(u64, &[u8]) -> Result<()>) -> Result<()>;
}

impl SignedSource for FileSource {
    fn size(&self) -> u64 {
        FileSource::size(self)
    }
    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        FileSource::read_range(self, range)
    }
    fn stream(&self, consume: &mut dyn FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
        FileSource::stream(self, consume)
    }
}

impl SignedSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let (Ok(start), Ok(end)) = (usize::try_from(range.start), usize::try_from(range.end)) else {
            return Err(Error::InvalidArgument("range outside the buffer".into()));
        };
        self.get(start..end)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Error::InvalidArgument("range outside the buffer".into()))
    }
    fn stream(&self, consume: &mut dyn FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
        for (i, chunk) in self.chunks(CHUNK).enumerate() {
            consume((i * CHUNK) as u64, chunk)?;
        }
        Ok(())
    }
}

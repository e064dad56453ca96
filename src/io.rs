//! The small I/O surface the integrity code sees. Verity trees, GPT tables and signed
//! files are read (and written) only through these traits, so files, memory buffers and
//! a boot loader's or agent's disk callbacks are interchangeable.

use crate::sys::file::Stamp;
use crate::sys::pages::{PAGE_BYTES, Pages};
use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};

/// Random-access reads. Implementations must be usable from several threads at once.
pub trait BlockRead: Sync {
    /// Size of the device or file in bytes.
    fn size(&self) -> io::Result<u64>;

    /// Returns `len` bytes at `offset`: a borrowed view where the bytes are already in
    /// memory, otherwise read into `scratch`. A short read is an error.
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]>;

    /// Fails with [`ChangedWhileReading`] when the source is no longer what it was when
    /// it was opened (a file truncated, grown or rewritten meanwhile). Readers call it
    /// after their last read, so that no answer is given about bytes that changed under
    /// them. The default (memory, callbacks) has nothing to compare and succeeds.
    fn check_unchanged(&self) -> io::Result<()> {
        Ok(())
    }

    /// Whether the bytes of `range` are not in memory, so that reading them means waiting
    /// for the device (a cold page cache). A reader of a long range then streams it with
    /// [`BlockRead::read_uncached`], in order, from one thread that reads ahead of the
    /// hashing. The default (memory, callbacks): false.
    fn is_cold(&self, range: Range<u64>) -> bool {
        let _ = range;
        false
    }

    /// Reads `len` bytes at `offset` into `buf`, past any cache where the source can
    /// (direct I/O): for bytes read once, in large pieces. A short read is an error. The
    /// default copies what [`BlockRead::read_view`] gives.
    fn read_uncached(&self, offset: u64, len: usize, buf: &mut PageBuf) -> io::Result<()> {
        let mut scratch = Vec::new();
        let bytes = self.read_view(offset, len, &mut scratch)?;
        buf.region(len)?[..len].copy_from_slice(bytes);
        buf.len = len;
        Ok(())
    }
}

/// `page_len` bytes of `scratch` that start at a page boundary, growing it as needed.
/// Every value is unspecified: callers overwrite them.
fn page_aligned(scratch: &mut Vec<u8>, page_len: usize) -> Option<&mut [u8]> {
    let with_pad = page_len.checked_add(PAGE_BYTES)?;
    if scratch.len() < with_pad {
        scratch.resize(with_pad, 0);
    }
    let pad = (PAGE_BYTES - scratch.as_ptr() as usize % PAGE_BYTES) % PAGE_BYTES;
    Some(&mut scratch[pad..pad + page_len])
}

/// A reusable buffer for [`BlockRead::read_uncached`]: its bytes start at a page
/// boundary and a read may fill whole pages past the bytes asked for, as direct I/O
/// needs. Buffers of 2 MiB or more sit in transparent huge pages where the kernel gives
/// them, so that one direct read is one request to the device.
#[derive(Debug, Default)]
pub struct PageBuf {
    pages: Option<Pages>,
    len: usize,
}

impl PageBuf {
    /// A buffer with room for `len` bytes already mapped (on the calling thread). Fails
    /// as [`PageBuf::region`] does.
    pub fn with_capacity(len: usize) -> io::Result<Self> {
        let mut buf = PageBuf::default();
        buf.region(len)?;
        Ok(buf)
    }

    /// Room for `len` bytes rounded up to whole pages, at a page boundary; the buffer is
    /// empty until [`PageBuf::set_len`]. Fails when `len` is too large to round or the
    /// address space is exhausted.
    pub fn region(&mut self, len: usize) -> io::Result<&mut [u8]> {
        self.len = 0;
        let whole = len.checked_next_multiple_of(PAGE_BYTES).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("a read of {len} bytes is too large"))
        })?;
        if self.pages.as_ref().is_some_and(|pages| pages.bytes().len() < whole) {
            // The old buffer goes first, so the two never take address space together.
            self.pages = None;
        }
        let pages = match &mut self.pages {
            Some(pages) => pages,
            empty => empty.insert(Pages::new(whole)?),
        };
        Ok(&mut pages.bytes_mut()[..whole])
    }

    /// Says that the first `len` bytes of the last [`PageBuf::region`] hold the read.
    pub fn set_len(&mut self, len: usize) {
        self.len = len;
    }

    /// The bytes read.
    pub fn bytes(&self) -> &[u8] {
        self.pages.as_ref().and_then(|pages| pages.bytes().get(..self.len)).unwrap_or(&[])
    }
}

/// The error inside an [`io::Error`] that says a file changed while it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedWhileReading {
    /// The file.
    pub path: PathBuf,
    /// What changed.
    pub detail: String,
}

impl std::fmt::Display for ChangedWhileReading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} changed while reading: {}", self.path.display(), self.detail)
    }
}

impl std::error::Error for ChangedWhileReading {}

impl ChangedWhileReading {
    fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    /// The change an I/O error reports, if it is one.
    pub fn of(err: &io::Error) -> Option<&ChangedWhileReading> {
        err.get_ref().and_then(|inner| inner.downcast_ref::<ChangedWhileReading>())
    }
}

/// Passes the bytes of `range` of `source`, in order, through `consume` in chunks of at
/// most `chunk` bytes read into one reused buffer; `read_error` turns a failed read into
/// the caller's error.
pub fn for_each_chunk<E>(
    source: &dyn BlockRead,
    range: std::ops::Range<u64>,
    chunk: usize,
    read_error: impl Fn(io::Error) -> E,
    mut consume: impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut scratch = Vec::new();
    let mut offset = range.start;
    while offset < range.end {
        let len = usize::try_from((range.end - offset).min(chunk as u64)).unwrap_or(chunk);
        let bytes = source.read_view(offset, len, &mut scratch).map_err(&read_error)?;
        consume(offset, bytes)?;
        offset += len as u64;
    }
    Ok(())
}

/// Random-access writes.
pub trait BlockWrite: Sync {
    /// Writes all of `data` at `offset`.
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Makes everything written so far durable.
    fn flush(&self) -> io::Result<()>;
    /// The fixed capacity in bytes, or `None` when writing past the end grows it (a
    /// regular file).
    fn capacity(&self) -> io::Result<Option<u64>>;
    /// Says that `offset..offset + len` is written for good: a device with a write-back
    /// cache may start writing it now, so that [`BlockWrite::flush`] waits for less. A
    /// hint; the default does nothing.
    fn start_writeback(&self, offset: u64, len: u64) {
        let _ = (offset, len);
    }
}

/// A device that is read and written, such as the hash device during format.
pub trait BlockDevice: BlockRead + BlockWrite {}
impl<T: BlockRead + BlockWrite + ?Sized> BlockDevice for T {}

// Boxed devices, so one handle type can hold a file or a caller's callbacks.
impl<T: BlockRead + ?Sized> BlockRead for Box<T> {
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        (**self).read_view(offset, len, scratch)
    }
    fn check_unchanged(&self) -> io::Result<()> {
        (**self).check_unchanged()
    }
    fn is_cold(&self, range: Range<u64>) -> bool {
        (**self).is_cold(range)
    }
    fn read_uncached(&self, offset: u64, len: usize, buf: &mut PageBuf) -> io::Result<()> {
        (**self).read_uncached(offset, len, buf)
    }
}

// Borrowed sources, so a slice (unsized) can stand where a `&dyn BlockRead` is wanted.
impl<T: BlockRead + ?Sized> BlockRead for &T {
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        (**self).read_view(offset, len, scratch)
    }
    fn check_unchanged(&self) -> io::Result<()> {
        (**self).check_unchanged()
    }
    fn is_cold(&self, range: Range<u64>) -> bool {
        (**self).is_cold(range)
    }
    fn read_uncached(&self, offset: u64, len: usize, buf: &mut PageBuf) -> io::Result<()> {
        (**self).read_uncached(offset, len, buf)
    }
}

impl<T: BlockWrite + ?Sized> BlockWrite for Box<T> {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        (**self).write_at(offset, data)
    }
    fn flush(&self) -> io::Result<()> {
        (**self).flush()
    }
    fn capacity(&self) -> io::Result<Option<u64>> {
        (**self).capacity()
    }
    fn start_writeback(&self, offset: u64, len: u64) {
        (**self).start_writeback(offset, len)
    }
}

fn short_read(offset: u64, len: usize, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("read of {len} bytes at offset {offset} runs past the end ({size} bytes)"),
    )
}

fn view_of(bytes: &[u8], offset: u64, len: usize) -> io::Result<&[u8]> {
    let start = usize::try_from(offset).ok();
    match start.and_then(|s| Some(s..s.checked_add(len)?)) {
        Some(range) if range.end <= bytes.len() => Ok(&bytes[range]),
        _ => Err(short_read(offset, len, bytes.len() as u64)),
    }
}

impl BlockRead for [u8] {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, _: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        view_of(self, offset, len)
    }
}

impl BlockRead for Vec<u8> {
    fn size(&self) -> io::Result<u64> {
        self.as_slice().size()
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        self.as_slice().read_view(offset, len, scratch)
    }
}

/// A file or block device read and written with `pread`/`pwrite`.
pub struct FileDevice {
    file: File,
    is_block_device: bool,
}

impl FileDevice {
    /// Wraps an open file.
    pub fn new(file: File) -> io::Result<Self> {
        let is_block_device = file.metadata()?.file_type().is_block_device();
        Ok(FileDevice { file, is_block_device })
    }

    /// Opens `path` for reading and writing, creating a regular file if it is missing.
    /// The file is never truncated: it may hold the data area too.
    pub fn open_rw(path: &Path) -> io::Result<Self> {
        // Owner-only, as veritysetup creates it.
        let file = crate::sys::file::open(path, crate::sys::file::Access::ReadWriteCreate)?;
        Self::new(file)
    }

    /// The underlying file.
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// Size of a regular file or block device (whose metadata length is 0).
pub fn device_size(file: &File) -> io::Result<u64> {
    crate::sys::file::device_size(file)
}

/// A regular file or block device that is only read, with `pread`, and whose contents
/// must not change while it is: a read that comes up short of the size it had when it
/// was opened, or a different size or modification time afterwards
/// ([`BlockRead::check_unchanged`]), is a [`ChangedWhileReading`] error. Nothing is
/// mapped, so a file truncated meanwhile gives that error, never SIGBUS, and the address
/// space used is the caller's buffers, whatever the file's size.
///
/// This is the read engine of the verity walk (and of anything reading through
/// [`BlockRead`]): each worker reads its window with `pread` into its own buffer, sized
/// to stay in the core's cache while it is hashed, and the kernel is told that the file
/// is read front to back (`POSIX_FADV_SEQUENTIAL`) and which window comes next
/// (`POSIX_FADV_WILLNEED`), so that cold data arrives before it is asked for.
pub struct FileReader {
    file: File,
    path: PathBuf,
    stamp: Stamp,
    is_block_device: bool,
    shared_with_writer: bool,
    /// The same file opened with `O_DIRECT`, on the first cold read (`None`: it cannot be).
    direct: OnceLock<Option<File>>,
}

impl FileReader {
    /// Opens `path`. Pipes, FIFOs and character devices are refused: their length says
    /// nothing, and a check over "nothing" must not pass for them.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = crate::sys::file::open(path, crate::sys::file::Access::Read)?;
        Self::new(file, path)
    }

    /// Wraps `file`, already opened from `path` (which is only used in messages). Its
    /// size and times now are what [`BlockRead::check_unchanged`] compares with.
    pub fn new(file: File, path: &Path) -> io::Result<Self> {
        crate::sys::file::check_regular_or_block(&file)?;
        let stamp = Stamp::of(&file)?;
        let is_block_device = file.metadata()?.file_type().is_block_device();
        crate::sys::file::advise(&file, 0, 0, crate::sys::file::Advice::Sequential);
        Ok(FileReader {
            file,
            path: path.to_path_buf(),
            stamp,
            is_block_device,
            shared_with_writer: false,
            direct: OnceLock::new(),
        })
    }

    /// Says that the same file is written meanwhile by the caller itself (a hash tree
    /// placed after the data in one file): its times and size then change by design, so
    /// [`BlockRead::check_unchanged`] only checks that it did not shrink. A read past a
    /// shrunk end still fails as a change.
    pub fn shared_with_writer(mut self) -> Self {
        self.shared_with_writer = true;
        self
    }

    /// The path it was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn changed(&self, detail: String) -> io::Error {
        ChangedWhileReading { path: self.path.clone(), detail }.into_io()
    }

    /// The end of `offset..offset + len`, if the file had those bytes when it was opened.
    fn end_of(&self, offset: u64, len: usize) -> io::Result<u64> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.stamp.size => Ok(end),
            _ => Err(short_read(offset, len, self.stamp.size)),
        }
    }

    /// The first offset at or after `offset` that holds data, skipping holes (`None`: only
    /// holes follow). A block device has no holes.
    fn next_data(&self, offset: u64) -> Option<u64> {
        if self.is_block_device { Some(offset) } else { crate::sys::file::next_data(&self.file, offset) }
    }

    /// The file opened for direct I/O, once; `None` where it cannot be.
    fn direct_file(&self) -> Option<&File> {
        self.direct.get_or_init(|| crate::sys::file::reopen_direct(&self.file).ok()).as_ref()
    }

    /// Reads from `file` at `offset + *done` into `buf[*done..]` until `want` bytes are
    /// in (more if `buf` is longer and the file gives them), counting in `done` even when
    /// it fails. A read that returns nothing means the file shrank.
    fn read_at_least(&self, file: &File, buf: &mut [u8], offset: u64, want: usize, done: &mut usize) -> io::Result<()> {
        while *done < want {
            let at = offset + *done as u64;
            match file.read_at(&mut buf[*done..], at) {
                // The bytes were there when the file was opened: it shrank.
                Ok(0) => return Err(self.changed(format!("it ended at byte {at}, not {}", self.stamp.size))),
                Ok(n) => *done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Bytes asked for ahead of a read with `POSIX_FADV_WILLNEED`: the window after it, so
/// that the device works on the next window while this one is hashed.
const READ_AHEAD_BYTES: u64 = 4 << 20;

/// `EINVAL`: what a direct read says of an offset, length or buffer the device cannot
/// take (or a file system without direct I/O).
const EINVAL: i32 = 22;

impl BlockRead for FileReader {
    /// The size when the file was opened.
    fn size(&self) -> io::Result<u64> {
        Ok(self.stamp.size)
    }

    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        let end = self.end_of(offset, len)?;
        // Once per window: the read that enters a new window asks for the one after it.
        if offset / READ_AHEAD_BYTES != end / READ_AHEAD_BYTES && end < self.stamp.size {
            let ahead = READ_AHEAD_BYTES.min(self.stamp.size - end);
            crate::sys::file::advise(&self.file, end, ahead, crate::sys::file::Advice::WillNeed);
        }
        // The bytes land at a page boundary of the buffer: the kernel's copy from the page
        // cache runs several times slower when the destination sits a few bytes past a
        // page boundary, as a large allocation from malloc does (measured: 87 µs against
        // 15 µs per 256 KiB read on a 2-core AMD EPYC).
        let buf = page_aligned(scratch, len).ok_or_else(|| short_read(offset, len, self.stamp.size))?;
        self.read_at_least(&self.file, buf, offset, len, &mut 0)?;
        Ok(buf)
    }

    /// Probes the first page of `range` that holds data and the first one from its
    /// middle: cold if either is not in the page cache. Holes are skipped (reading one
    /// fills the cache with zeros at once, so it always looks warm); a range of holes only
    /// is warm. A file that cannot tell is warm (buffered reads, as before). When cold,
    /// the direct descriptor is opened here, on the caller's thread, so that the threads
    /// that then read allocate nothing.
    fn is_cold(&self, range: Range<u64>) -> bool {
        let middle = range.start + (range.end.saturating_sub(range.start)) / 2;
        let cold = [range.start, middle].iter().any(|&at| {
            let Some(at) = self.next_data(at).filter(|&at| at < range.end) else {
                return false;
            };
            crate::sys::file::page_cached(&self.file, at) == Some(false)
        });
        if cold {
            self.direct_file();
        }
        cold
    }

    /// Reads with `O_DIRECT` where the offset is page-aligned and the file system allows
    /// it (falling back to `pread` for the rest when the device refuses the alignment).
    fn read_uncached(&self, offset: u64, len: usize, buf: &mut PageBuf) -> io::Result<()> {
        let end = self.end_of(offset, len)?;
        let region = buf.region(len)?;
        // A hole is zeros: written here at memory speed, where a direct read of it has the
        // kernel clear the buffer page by page (a sparse 16 GiB image took twice as long).
        if self.next_data(offset).is_none_or(|data| data >= end) {
            region[..len].fill(0);
            buf.set_len(len);
            return Ok(());
        }
        let mut done = 0;
        if let (0, Some(direct)) = (offset % PAGE_BYTES as u64, self.direct_file()) {
            // The whole pages of the region: a direct read cannot end mid-sector.
            match self.read_at_least(direct, region, offset, len, &mut done) {
                Err(e) if e.raw_os_error() == Some(EINVAL) => {}
                other => other?,
            }
        }
        self.read_at_least(&self.file, &mut region[..len], offset, len, &mut done)?;
        buf.set_len(len);
        Ok(())
    }

    fn check_unchanged(&self) -> io::Result<()> {
        let now = Stamp::of(&self.file)?;
        if self.shared_with_writer {
            if now.size < self.stamp.size {
                return Err(self.changed(format!("its size went from {} to {} bytes", self.stamp.size, now.size)));
            }
            return Ok(());
        }
        match self.stamp.change_to(&now) {
            Some(detail) => Err(self.changed(detail)),
            None => Ok(()),
        }
    }
}

impl BlockRead for FileDevice {
    fn size(&self) -> io::Result<u64> {
        device_size(&self.file)
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        if scratch.len() < len {
            scratch.resize(len, 0);
        }
        let buf = &mut scratch[..len];
        self.file.read_exact_at(buf, offset).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof { short_read(offset, len, self.size().unwrap_or(0)) } else { e }
        })?;
        Ok(buf)
    }
}

impl BlockWrite for FileDevice {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }
    fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }
    fn capacity(&self) -> io::Result<Option<u64>> {
        if self.is_block_device { Ok(Some(self.size()?)) } else { Ok(None) }
    }
    fn start_writeback(&self, offset: u64, len: u64) {
        crate::sys::file::start_writeback(&self.file, offset, len);
    }
}

/// A growable in-memory device, for tests, benches and callers that keep images in RAM.
#[derive(Default)]
pub struct MemoryDevice {
    bytes: RwLock<Vec<u8>>,
}

impl MemoryDevice {
    /// A device holding `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        MemoryDevice { bytes: RwLock::new(bytes) }
    }
    /// Takes the contents out.
    pub fn into_inner(self) -> Vec<u8> {
        self.bytes.into_inner().unwrap_or_else(|poison| poison.into_inner())
    }
    fn read_lock(&self) -> std::sync::RwLockReadGuard<'_, Vec<u8>> {
        self.bytes.read().unwrap_or_else(|poison| poison.into_inner())
    }
}

impl BlockRead for MemoryDevice {
    fn size(&self) -> io::Result<u64> {
        Ok(self.read_lock().len() as u64)
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        let bytes = self.read_lock();
        let view = view_of(&bytes, offset, len)?;
        scratch.clear();
        scratch.extend_from_slice(view);
        Ok(scratch)
    }
}

impl BlockWrite for MemoryDevice {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut bytes = self.bytes.write().unwrap_or_else(|poison| poison.into_inner());
        let start = usize::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
        let end = start.checked_add(data.len()).ok_or_else(|| io::Error::other("offset too large"))?;
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(data);
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
    fn capacity(&self) -> io::Result<Option<u64>> {
        Ok(None)
    }
}

//! Anonymous memory for direct reads. A read of 2 MiB into ordinary heap memory lands in
//! 512 scattered 4 KiB pages, and a virtio disk takes at most 254 of them per request: the
//! device sees three requests of about 680 KiB. In a transparent huge page the same read
//! is one physically contiguous request (measured on a 1 GiB cold verify: about 650
//! requests of 1.6 MiB instead of up to 1,800, and the median run 8-10% faster). So
//! buffers of a huge page or more are mapped at a huge-page boundary and advised
//! `MADV_HUGEPAGE`; where the kernel gives no huge page (THP off, memory fragmented) they
//! are ordinary pages.

use std::ffi::{c_int, c_void};
use std::io;
use std::ptr::NonNull;

unsafe extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
    fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
}

const PROT_READ: c_int = 1;
const PROT_WRITE: c_int = 2;
const MAP_PRIVATE: c_int = 2;
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const MAP_ANONYMOUS: c_int = 0x800;
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
const MAP_ANONYMOUS: c_int = 0x20;
/// `MADV_HUGEPAGE` (asm-generic; the architectures rootseal builds for share it).
const MADV_HUGEPAGE: c_int = 14;

/// The size of a page: the unit of every mapping, and the alignment direct I/O needs at
/// most.
pub(crate) const PAGE_BYTES: usize = 4096;
/// A PMD-sized transparent huge page with 4 KiB pages (x86-64, arm64, riscv64). Where the
/// huge page is larger the alignment is only wasted address space, never wrong.
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// Zero-filled, page-aligned anonymous memory, unmapped on drop. Only its own length is
/// mapped (the alignment slack is given back), so the address space it takes is bounded
/// by what was asked for.
#[derive(Debug)]
pub(crate) struct Pages {
    start: NonNull<u8>,
    len: usize,
}

// SAFETY: `Pages` owns its mapping exclusively, like a `Box<[u8]>`; shared references
// only read it.
unsafe impl Send for Pages {}
// SAFETY: as above: `&Pages` gives only `&[u8]`.
unsafe impl Sync for Pages {}

impl Pages {
    /// `len` bytes rounded up to whole pages, all zero. Fails when the address space is
    /// exhausted (`ulimit -v`) or `len` is too large to round, never aborts.
    pub(crate) fn new(len: usize) -> io::Result<Pages> {
        let too_large = || io::Error::new(io::ErrorKind::OutOfMemory, format!("a buffer of {len} bytes is too large"));
        let len = len.max(1).checked_next_multiple_of(PAGE_BYTES).ok_or_else(too_large)?;
        let huge = len >= HUGE_PAGE_BYTES;
        let reserve = if huge { len.checked_add(HUGE_PAGE_BYTES).ok_or_else(too_large)? } else { len };
        // SAFETY: a new private anonymous mapping: no address hint, no file; it aliases
        // nothing, and the result is checked before use.
        let base =
            unsafe { mmap(std::ptr::null_mut(), reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) };
        if base as isize == -1 {
            let os = io::Error::last_os_error();
            return Err(io::Error::new(os.kind(), format!("mapping a read buffer of {reserve} bytes: {os}")));
        }
        let base = base.cast::<u8>();
        let lead = if huge { (HUGE_PAGE_BYTES - base as usize % HUGE_PAGE_BYTES) % HUGE_PAGE_BYTES } else { 0 };
        let trail = reserve - lead - len;
        // SAFETY: `lead + len + trail == reserve`, so every pointer and length below stays
        // inside the mapping just made; the slack before and after `start..start + len`
        // is page-aligned (base, len and the huge alignment all are) and nothing uses it.
        let start = unsafe {
            let start = base.add(lead);
            if lead > 0 {
                munmap(base.cast(), lead);
            }
            if trail > 0 {
                munmap(start.add(len).cast(), trail);
            }
            if huge {
                // A hint: without it (THP off) the pages are simply small ones.
                madvise(start.cast(), len, MADV_HUGEPAGE);
            }
            start
        };
        let start = NonNull::new(start).ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        Ok(Pages { start, len })
    }

    /// The bytes, all of them (whole pages).
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `start..start + len` is mapped readable and writable for as long as
        // `self` lives, anonymous memory is initialised (zero), and `&self` excludes a
        // `&mut` borrow.
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }

    /// The bytes, writable.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes this the only borrow.
        unsafe { std::slice::from_raw_parts_mut(self.start.as_ptr(), self.len) }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, exactly; no borrow of it outlives `self`.
        unsafe { munmap(self.start.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_buffers_are_whole_zero_pages() {
        let mut pages = Pages::new(5000).unwrap();
        assert_eq!(pages.bytes().len(), 8192);
        assert_eq!(pages.bytes().as_ptr() as usize % PAGE_BYTES, 0);
        assert!(pages.bytes().iter().all(|&b| b == 0));
        pages.bytes_mut()[8191] = 7;
        assert_eq!(pages.bytes()[8191], 7);
    }

    #[test]
    fn large_buffers_start_at_a_huge_page() {
        let pages = Pages::new(HUGE_PAGE_BYTES + PAGE_BYTES).unwrap();
        assert_eq!(pages.bytes().as_ptr() as usize % HUGE_PAGE_BYTES, 0);
        assert_eq!(pages.bytes().len(), HUGE_PAGE_BYTES + PAGE_BYTES);
    }

    #[test]
    fn an_impossible_size_is_an_error() {
        assert!(Pages::new(usize::MAX).is_err());
        assert!(Pages::new(usize::MAX / 2).is_err());
    }
}

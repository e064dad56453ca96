//! The C ABI. This module (and nothing else in the crate) contains `unsafe` code.
//!
//! Conventions, as in rustls-ffi and libfsverity:
//! - every entry point runs inside `boundary`: a Rust panic comes back as
//!   `ROOTSEAL_STATUS_PANIC` and the process carries on;
//! - pointers are checked for NULL before use;
//! - out-params are written only on success;
//! - `_free(NULL)` is a no-op;
//! - params structs carry a `version` and reserved fields that must be zero;
//! - the last error message of the calling thread is kept for [`rootseal_last_error`].

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

mod blkdev;
pub mod gpt;
pub mod hash;
pub mod io;
/// cbindgen:ignore
pub(crate) mod openssl_sys_ext;
pub mod sig;
pub mod status;
pub mod verity;
pub mod verity_range;
pub mod verity_table;
pub mod version;

pub(crate) use blkdev::logical_block_size;
use status::rootseal_status;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// A failed call: the status and the detailed message kept for `rootseal_last_error`.
pub(crate) struct Failure {
    status: rootseal_status,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: rootseal_status, message: impl Into<String>) -> Self {
        Failure { status, message: message.into() }
    }
}

impl From<crate::verity::Error> for Failure {
    fn from(err: crate::verity::Error) -> Self {
        Failure { status: (&err).into(), message: err.to_string() }
    }
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = text);
}

/// Runs one entry point body: clears the thread's last error, catches panics, and turns
/// a [`Failure`] into its status while recording the message.
pub(crate) fn boundary(body: impl FnOnce() -> Result<rootseal_status, Failure>) -> rootseal_status {
    set_last_error("");
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error: {what}"));
            rootseal_status::Panic
        }
    }
}

/// Returns the detailed message of the last failed call on this thread, or an empty
/// string. The pointer stays valid until the next rootseal call on the same thread;
/// never free it.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_last_error() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().as_ptr())
}

/// Checks the `version` and reserved fields of a params struct.
pub(crate) fn check_params(what: &str, version: u32, expected: u32, reserved_zero: bool) -> Result<(), Failure> {
    if version != expected {
        return Err(Failure::new(
            rootseal_status::UnsupportedParamsVersion,
            format!("{what} version {version} is not {expected}"),
        ));
    }
    if !reserved_zero {
        return Err(Failure::new(rootseal_status::ReservedNotZero, format!("{what}: reserved fields must be zero")));
    }
    Ok(())
}

pub(crate) fn null(what: &str) -> Failure {
    Failure::new(rootseal_status::NullParameter, format!("{what} is NULL"))
}

/// Borrows a NUL-terminated path.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn path_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a std::path::Path, Failure> {
    use std::os::unix::ffi::OsStrExt;
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

/// Borrows `len` bytes; NULL is allowed only for `len == 0`.
///
/// # Safety
/// `ptr` must be NULL or valid for reads of `len` bytes for the duration of the call.
pub(crate) unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and valid for `len` bytes per this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Maps a file read-only. Kept here because `Mmap::map` is `unsafe`: the mapping is
/// undefined behaviour only if the file is truncated while mapped. rootseal never
/// truncates, and treats the mapped bytes as untrusted input whatever they contain.
pub(crate) fn map_readonly(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // A block device's metadata length is 0, so the length is given explicitly.
    let len = usize::try_from(crate::io::device_size(file)?).map_err(std::io::Error::other)?;
    // No MAP_POPULATE: it maps every page on this one thread before any hashing starts
    // (about 50 ms per GiB here) and would make the whole image resident; faulting pages
    // in from the worker threads overlaps with hashing, and `release_mapped` drops them.
    // SAFETY: see above; the map's lifetime is tied to the MappedFile that owns it.
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Drops a range of a read-only file mapping from the resident set (`MADV_DONTNEED`).
/// Failure only costs memory, so it is ignored.
pub(crate) fn release_mapped(map: &memmap2::Mmap, offset: usize, len: usize) {
    if offset.checked_add(len).is_none_or(|end| end > map.len()) {
        return;
    }
    // SAFETY: on a shared, read-only file mapping DONTNEED only drops page-table entries;
    // the next access faults the same page-cache bytes back in, so slices other threads
    // hold into the range stay valid and see unchanged contents.
    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
}

#[cfg(feature = "test-panic")]
/// Test-only: panics inside the boundary, to prove a panic comes back as
/// `ROOTSEAL_STATUS_PANIC`. Present only when built with the `test-panic` feature.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_test_panic() -> rootseal_status {
    boundary(|| panic!("rootseal_test_panic was called"))
}

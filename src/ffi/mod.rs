//! The outbound C ABI: every `rootseal_*` symbol of `include/rootseal.h`, and nothing
//! else. The library's own bindings to the system live in `crate::sys`.
//!
//! Conventions, as in rustls-ffi and libfsverity:
//! - every entry point runs inside the one `boundary` (operations) or `query`
//!   (accessors, `_free`, descriptions): a Rust panic comes back as
//!   `ROOTSEAL_STATUS_PANIC` (or the function's neutral value) and the process carries on;
//! - pointers are checked for NULL before use;
//! - out-params are written only on success;
//! - `_free(NULL)` is a no-op;
//! - params structs carry a `version` and reserved fields that must be zero;
//! - the last error message of the calling thread is kept for [`rootseal_last_error`].
//!
//! Process-wide state exists only here, for the C setters that predate per-call engines
//! (see [`engine`]); the Rust API has none.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

pub mod algorithm;
mod callback;
pub mod engine;
pub mod gpt;
pub mod hash;
pub mod io;
pub mod kernel;
pub mod sig;
pub mod status;
pub mod verity;
pub mod verity_fec;
pub mod verity_range;
pub mod verity_reader;
pub mod verity_table;
pub mod version;

use status::rootseal_status;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// A failed call: the status and the detailed message kept for `rootseal_last_error`.
#[derive(Debug)]
pub struct Failure {
    status: rootseal_status,
    message: String,
}

impl Failure {
    /// The status the call returns.
    pub fn status(&self) -> rootseal_status {
        self.status
    }

    pub(crate) fn new(status: rootseal_status, message: impl Into<String>) -> Self {
        Failure { status, message: message.into() }
    }
}

/// Every library error becomes a failure with its status from the one map in
/// [`status`] and its message.
impl<E: std::error::Error> From<E> for Failure
where
    for<'a> &'a E: Into<rootseal_status>,
{
    fn from(err: E) -> Self {
        Failure { status: (&err).into(), message: err.to_string() }
    }
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = text);
}

/// What an entry point hands back when its body fails or panics.
pub(crate) trait Returned {
    /// The value for a failure with `status`: the status itself for functions that
    /// return one, a neutral value (nothing, 0, NULL, an empty string) for the others.
    fn on_failure(status: rootseal_status) -> Self;
}

impl Returned for rootseal_status {
    fn on_failure(status: rootseal_status) -> Self {
        status
    }
}

impl Returned for () {
    fn on_failure(_: rootseal_status) -> Self {}
}

impl Returned for usize {
    fn on_failure(_: rootseal_status) -> Self {
        0
    }
}

impl Returned for u32 {
    fn on_failure(_: rootseal_status) -> Self {
        0
    }
}

impl Returned for *const u64 {
    fn on_failure(_: rootseal_status) -> Self {
        std::ptr::null()
    }
}

impl Returned for *const u8 {
    fn on_failure(_: rootseal_status) -> Self {
        std::ptr::null()
    }
}

impl Returned for *const c_char {
    fn on_failure(_: rootseal_status) -> Self {
        c"".as_ptr()
    }
}

/// The one panic boundary. Runs an entry point body, catches panics, and turns a
/// [`Failure`] into the function's failure value while recording the message as the
/// thread's last error. With `clear_last_error` the previous message is dropped first;
/// accessors and descriptions pass false so that a caller can still read the message
/// of the call they are looking into.
fn run_guarded<T: Returned>(clear_last_error: bool, body: impl FnOnce() -> Result<T, Failure>) -> T {
    if clear_last_error {
        set_last_error("");
    }
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            T::on_failure(failure.status)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error: {what}"));
            T::on_failure(rootseal_status::Panic)
        }
    }
}

/// The boundary of an operation: it starts with an empty last error.
pub(crate) fn boundary<T: Returned>(body: impl FnOnce() -> Result<T, Failure>) -> T {
    run_guarded(true, body)
}

/// The boundary of an accessor, a `_free` or a description: the last error of the call
/// before is kept (it is only replaced when this one fails).
pub(crate) fn query<T: Returned>(body: impl FnOnce() -> Result<T, Failure>) -> T {
    run_guarded(false, body)
}

/// Returns the detailed message of the last failed call on this thread, or an empty
/// string. The pointer stays valid until the next rootseal call on the same thread;
/// never free it.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_last_error() -> *const c_char {
    query(|| Ok(LAST_ERROR.with(|slot| slot.borrow().as_ptr())))
}

/// Checks the `version` and reserved fields of a params struct: the one check every
/// versioned struct of the ABI goes through.
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

#[cfg(feature = "test-panic")]
/// Test-only: panics inside the boundary, to prove a panic comes back as
/// `ROOTSEAL_STATUS_PANIC`. Present only when built with the `test-panic` feature.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_test_panic() -> rootseal_status {
    boundary(|| panic!("rootseal_test_panic was called"))
}

//! C entry points for the hashing backend and FIPS mode of the calls without an engine
//! (the process default, see [`super::engine`]).

use super::engine;
use super::sig::rootseal_sig_context;
use super::status::rootseal_status;
use super::{boundary, null};
use crate::verity;

/// Forces every later format and verify in this process that takes no engine onto one of
/// the `ROOTSEAL_HASH_BACKEND_*` backends (`ROOTSEAL_HASH_BACKEND_AUTO` undoes it). It
/// takes precedence over the `ROOTSEAL_HASH_BACKEND` environment variable. A backend the
/// CPU cannot run gives `ROOTSEAL_STATUS_VERITY_HASH_BACKEND_UNAVAILABLE` and changes
/// nothing. Algorithms a backend does not implement (SHA-NI has no SHA-512; only
/// SHA-256 and SHA-512 have fast paths) use the portable code. Calls given an engine
/// (`rootseal_verity_engine_*`) are not affected.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_hash_backend_force(backend: u32) -> rootseal_status {
    boundary(|| {
        engine::set_backend(None, backend)?;
        Ok(rootseal_status::Ok)
    })
}

/// Writes to `*available_out` whether this CPU can run `backend` (true for
/// `ROOTSEAL_HASH_BACKEND_AUTO`).
///
/// # Safety
/// `available_out` must be NULL or valid for a write of one `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_hash_backend_available(backend: u32, available_out: *mut bool) -> rootseal_status {
    boundary(|| {
        if available_out.is_null() {
            return Err(null("available_out"));
        }
        let available = engine::backend_of(backend)?.is_none_or(verity::HashBackend::is_available);
        // SAFETY: non-NULL and valid for a write, per this function's contract.
        unsafe { available_out.write(available) };
        Ok(rootseal_status::Ok)
    })
}

/// Puts verity hashing in this process into FIPS mode: every later format and verify
/// without an engine computes all its digests in the FIPS provider of `context` (made
/// with `rootseal_sig_context_new_fips`), whatever backend is forced; NULL leaves FIPS
/// mode. Calls given an engine are not affected (see `rootseal_verity_engine_use_fips`).
/// The library keeps its own reference, so `context` may be freed afterwards. A context
/// that is not in FIPS mode gives `ROOTSEAL_STATUS_INVALID_ARGUMENT` and changes nothing.
///
/// # Safety
/// `context` must be NULL or a live context from `rootseal_sig_context_new*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_use_fips(context: *const rootseal_sig_context) -> rootseal_status {
    boundary(|| {
        // SAFETY: NULL or a live context, per this function's contract.
        unsafe { engine::use_fips(None, context) }?;
        Ok(rootseal_status::Ok)
    })
}

//! Who computes a verity call's digests, for C callers: a [`rootseal_verity_engine`]
//! that the caller holds and passes to the `rootseal_verity_engine_*` calls, or the
//! process default that the older calls without an engine use.
//!
//! The process default is the only process-wide mode in the library, and it exists only
//! for the C setters `rootseal_hash_backend_force` and `rootseal_verity_use_fips`. It
//! starts from the `ROOTSEAL_HASH_BACKEND` environment variable, read once, on first
//! use. Engines never look at it: two users in one process, each with an engine, cannot
//! change each other's mode.

use super::sig::rootseal_sig_context;
use super::status::rootseal_status;
use super::{Failure, boundary, null, query};
use crate::verity::{HASH_BACKEND_ENV, HashBackend, HashChoice};
use std::sync::{OnceLock, RwLock};

/// Backend numbers for `rootseal_hash_backend_force`: the automatic choice (the
/// `ROOTSEAL_HASH_BACKEND` environment variable if set, else the fastest the CPU runs).
pub const ROOTSEAL_HASH_BACKEND_AUTO: u32 = 0;
/// AVX-512 multi-buffer SHA-256 (16 lanes) and SHA-512 (8 lanes).
pub const ROOTSEAL_HASH_BACKEND_AVX512: u32 = 1;
/// x86 SHA extensions, SHA-256 messages interleaved.
pub const ROOTSEAL_HASH_BACKEND_SHANI: u32 = 2;
/// Portable code (the Rust `sha2` crate), available everywhere.
pub const ROOTSEAL_HASH_BACKEND_PORTABLE: u32 = 3;
/// OpenSSL's EVP digests in the default library context (in FIPS mode, the FIPS one).
pub const ROOTSEAL_HASH_BACKEND_OPENSSL: u32 = 4;

/// A verity engine: the hashing backend (or FIPS mode) for the calls it is passed to.
/// Opaque; create it with [`rootseal_verity_engine_new`] and free it with
/// [`rootseal_verity_engine_free`]. Changing it while another thread runs a call with it
/// is safe: that call keeps the choice it started with.
pub struct rootseal_verity_engine {
    hashing: RwLock<HashChoice>,
}

impl rootseal_verity_engine {
    /// The backend and FIPS mode calls given this engine use.
    pub fn hashing(&self) -> HashChoice {
        self.hashing.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, change: impl FnOnce(&mut HashChoice)) {
        change(&mut self.hashing.write().unwrap_or_else(|p| p.into_inner()));
    }
}

/// The backend a `ROOTSEAL_HASH_BACKEND_*` number names; None for AUTO.
pub(crate) fn backend_of(number: u32) -> Result<Option<HashBackend>, Failure> {
    match number {
        ROOTSEAL_HASH_BACKEND_AUTO => Ok(None),
        ROOTSEAL_HASH_BACKEND_AVX512 => Ok(Some(HashBackend::Avx512)),
        ROOTSEAL_HASH_BACKEND_SHANI => Ok(Some(HashBackend::ShaNi)),
        ROOTSEAL_HASH_BACKEND_PORTABLE => Ok(Some(HashBackend::Portable)),
        ROOTSEAL_HASH_BACKEND_OPENSSL => Ok(Some(HashBackend::OpenSsl)),
        other => Err(Failure::new(rootseal_status::InvalidArgument, format!("unknown hash backend number {other}"))),
    }
}

/// The engine of the calls that take none.
fn process_default() -> &'static rootseal_verity_engine {
    static DEFAULT: OnceLock<rootseal_verity_engine> = OnceLock::new();
    DEFAULT.get_or_init(|| rootseal_verity_engine { hashing: RwLock::new(HashChoice::default()) })
}

/// The backend named by `ROOTSEAL_HASH_BACKEND`, read once. An unknown name is kept as
/// the error every call without a forced backend then reports.
fn environment_backend() -> Result<Option<HashBackend>, Failure> {
    static FROM_ENV: OnceLock<Result<Option<HashBackend>, String>> = OnceLock::new();
    let parsed = FROM_ENV.get_or_init(|| match std::env::var(HASH_BACKEND_ENV) {
        Ok(name) if !name.trim().is_empty() => HashBackend::from_name(&name).map(Some).map_err(|e| e.to_string()),
        _ => Ok(None),
    });
    parsed.clone().map_err(|message| Failure::new(rootseal_status::InvalidArgument, message))
}

/// What the calls without an engine hash with: the process default, whose backend (if
/// none was forced) comes from the environment. Public for tests of the C setters.
pub fn default_hashing() -> Result<HashChoice, Failure> {
    let mut hashing = process_default().hashing();
    if hashing.backend.is_none() {
        hashing.backend = environment_backend()?;
    }
    Ok(hashing)
}

/// The hashing choice of `engine`, or the process default when it is NULL.
///
/// # Safety
/// `engine` must be NULL or a live engine.
pub(crate) unsafe fn hashing_of(engine: *const rootseal_verity_engine) -> Result<HashChoice, Failure> {
    // SAFETY: NULL or live per the contract above; only read.
    match unsafe { engine.as_ref() } {
        Some(engine) => Ok(engine.hashing()),
        None => default_hashing(),
    }
}

/// Sets the backend of `engine`, or of the process default when `engine` is NULL.
pub(crate) fn set_backend(engine: Option<&rootseal_verity_engine>, backend: u32) -> Result<(), Failure> {
    let backend = backend_of(backend)?;
    if let Some(backend) = backend {
        backend.check_available()?;
    }
    engine.unwrap_or(process_default()).update(|hashing| hashing.backend = backend);
    Ok(())
}

/// Puts `engine` (or the process default) into FIPS mode with `context`, or out of it.
///
/// # Safety
/// `context` must be NULL or a live context.
pub(crate) unsafe fn use_fips(
    engine: Option<&rootseal_verity_engine>,
    context: *const rootseal_sig_context,
) -> Result<(), Failure> {
    // SAFETY: NULL or live per the contract above; only read.
    let fips = unsafe { context.as_ref() }.map(|c| c.inner.clone());
    HashChoice { backend: None, fips: fips.clone() }.check()?;
    engine.unwrap_or(process_default()).update(|hashing| hashing.fips = fips);
    Ok(())
}

/// Creates an engine with the automatic choice: the fastest backend this CPU runs, not
/// in FIPS mode. It does not follow the process default or `ROOTSEAL_HASH_BACKEND`.
/// `*engine_out` is written only on success; free the engine with
/// `rootseal_verity_engine_free`.
///
/// # Safety
/// `engine_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_new(engine_out: *mut *mut rootseal_verity_engine) -> rootseal_status {
    boundary(|| {
        if engine_out.is_null() {
            return Err(null("engine_out"));
        }
        let engine = Box::new(rootseal_verity_engine { hashing: RwLock::new(HashChoice::default()) });
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { engine_out.write(Box::into_raw(engine)) };
        Ok(rootseal_status::Ok)
    })
}

/// Makes `engine` hash with one of the `ROOTSEAL_HASH_BACKEND_*` backends
/// (`ROOTSEAL_HASH_BACKEND_AUTO` goes back to the fastest). A backend the CPU cannot run
/// gives `ROOTSEAL_STATUS_VERITY_HASH_BACKEND_UNAVAILABLE` and changes nothing.
///
/// # Safety
/// `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_set_backend(
    engine: *const rootseal_verity_engine,
    backend: u32,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: NULL or live per the contract above.
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        set_backend(Some(engine), backend)?;
        Ok(rootseal_status::Ok)
    })
}

/// Puts `engine` into FIPS mode: every digest of the calls it is passed to is computed
/// by the FIPS provider of `context` (from `rootseal_sig_context_new_fips`), whatever
/// its backend. NULL leaves FIPS mode. The engine keeps its own reference, so `context`
/// may be freed afterwards. A context that is not in FIPS mode gives
/// `ROOTSEAL_STATUS_INVALID_ARGUMENT` and changes nothing.
///
/// # Safety
/// `engine` must be NULL or a live engine; `context` NULL or a live context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_use_fips(
    engine: *const rootseal_verity_engine,
    context: *const rootseal_sig_context,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: NULL or live per the contract above.
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        // SAFETY: as above.
        unsafe { use_fips(Some(engine), context) }?;
        Ok(rootseal_status::Ok)
    })
}

/// Frees an engine. NULL is a no-op; freeing twice is a caller bug.
///
/// # Safety
/// `engine` must be NULL or an engine from this library not yet freed, and no call may
/// be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_free(engine: *mut rootseal_verity_engine) {
    query(|| {
        if !engine.is_null() {
            // SAFETY: it came from Box::into_raw in rootseal_verity_engine_new and is freed once.
            drop(unsafe { Box::from_raw(engine) });
        }
        Ok(())
    })
}

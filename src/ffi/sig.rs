//! C entry points for payload signatures: a crypto context (default or FIPS), a trust
//! store, and verification of detached signatures, CrAU payloads and root-hash PKCS#7.

use super::io::{CallbackDevice, rootseal_io};
use super::status::rootseal_status;
use super::{Failure, boundary, bytes_arg, check_params, null, path_arg, query};
use crate::crypto::{CryptoContext, HashAlgorithm};
use crate::sig::{self, OmahaCheck, Padding, PayloadVerified, Policy, Scheme, TrustStore};
use std::ffi::{CStr, c_char};
use std::path::Path;
use std::sync::Arc;

/// Current version of [`rootseal_sig_params`].
pub const ROOTSEAL_SIG_PARAMS_VERSION: u32 = 1;
/// Current version of [`rootseal_omaha_check`].
pub const ROOTSEAL_OMAHA_CHECK_VERSION: u32 = 1;

/// `rootseal_sig_params.policy`: RSA ≥ 2048, ECDSA P-256/384/521, Ed25519; SHA-256/384/512.
pub const ROOTSEAL_SIG_POLICY_DEFAULT: u32 = 0;
/// `rootseal_sig_params.policy`: FIPS-approved only (Ed25519 only if the provider approves it).
pub const ROOTSEAL_SIG_POLICY_FIPS: u32 = 1;
/// `rootseal_sig_params.padding`: not known. With `digest` 0 too, SHA-256 PKCS#1 v1.5 is
/// tried first, then every other allowed scheme; with a digest given, PKCS#1 v1.5.
pub const ROOTSEAL_SIG_PADDING_AUTO: u32 = 0;
/// `rootseal_sig_params.padding`: RSASSA-PKCS1-v1_5.
pub const ROOTSEAL_SIG_PADDING_PKCS1: u32 = 1;
/// `rootseal_sig_params.padding`: RSASSA-PSS, any salt length.
pub const ROOTSEAL_SIG_PADDING_PSS: u32 = 2;

/// `rootseal_omaha_check.flags`: check the whole file's size.
pub const ROOTSEAL_OMAHA_CHECK_SIZE: u32 = 1 << 0;
/// `rootseal_omaha_check.flags`: check the whole file's SHA-256.
pub const ROOTSEAL_OMAHA_CHECK_SHA256: u32 = 1 << 1;

/// Where signature checks run: OpenSSL's default context, or a private one with the FIPS
/// provider. Opaque; free with [`rootseal_sig_context_free`]. Thread-safe; trust stores
/// keep it alive, so it may be freed before them.
pub struct rootseal_sig_context {
    pub(super) inner: Arc<CryptoContext>,
}

/// A set of trusted public keys and certificates, bound to one context. Opaque; free with
/// [`rootseal_trust_store_free`]. Adding keys needs exclusive access; verifying may run
/// from several threads at once.
pub struct rootseal_trust_store {
    inner: TrustStore,
}

/// How a detached signature is checked: zero it, set `version`, and set what you need.
#[repr(C)]
pub struct rootseal_sig_params {
    /// Must be `ROOTSEAL_SIG_PARAMS_VERSION`.
    pub version: u32,
    /// `ROOTSEAL_SIG_POLICY_*`.
    pub policy: u32,
    /// The digest, as a `ROOTSEAL_HASH_*` number. SHA-1 is always refused. 0 with
    /// `padding` 0: detect the scheme (see `ROOTSEAL_SIG_PADDING_AUTO`); 0 otherwise: SHA-256.
    pub digest: u32,
    /// `ROOTSEAL_SIG_PADDING_*` for RSA keys.
    pub padding: u32,
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// What the update server announced about a payload file.
#[repr(C)]
pub struct rootseal_omaha_check {
    /// Must be `ROOTSEAL_OMAHA_CHECK_VERSION`.
    pub version: u32,
    /// `ROOTSEAL_OMAHA_CHECK_*` flags saying which fields to check.
    pub flags: u32,
    /// The whole file's size in bytes.
    pub size: u64,
    /// The whole file's SHA-256.
    pub sha256: [u8; 32],
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// Who verified. Written only on success.
#[repr(C)]
pub struct rootseal_sig_result {
    /// SHA-256 of the matching key's DER SubjectPublicKeyInfo.
    pub fingerprint: [u8; 32],
    /// The `ROOTSEAL_SIG_POLICY_*` applied (root-hash checks: FIPS in a FIPS context).
    pub policy: u32,
    /// Payloads: index of the verifying signature; otherwise 0.
    pub signature_index: u32,
    /// Payloads: that signature's version field, or -1 when absent; otherwise -1.
    pub signature_version: i64,
    /// NUL-terminated name of the OpenSSL provider that checked the signature ("fips",
    /// "default"); empty for root-hash checks.
    pub provider: [c_char; 32],
    /// Reserved for future fields; set to zero.
    pub reserved: [u64; 4],
}

/// What a context runs on. Written only on success.
#[repr(C)]
pub struct rootseal_fips_status {
    /// 1 when checks run inside the FIPS provider, else 0.
    pub active: u32,
    /// NUL-terminated provider name ("OpenSSL FIPS Provider"), empty when not active.
    pub provider_name: [c_char; 64],
    /// NUL-terminated provider version ("3.6.3"), empty when not active.
    pub provider_version: [c_char; 32],
    /// Reserved for future fields; set to zero.
    pub reserved: [u64; 4],
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(rootseal_status::InvalidArgument, message)
}

/// Copies `text` into a fixed C string buffer, truncating, always NUL-terminated.
fn fill(buf: &mut [c_char], text: &str) {
    let n = text.len().min(buf.len().saturating_sub(1));
    for (dst, src) in buf.iter_mut().zip(text.as_bytes()[..n].iter()) {
        *dst = *src as c_char;
    }
    buf[n] = 0;
}

fn empty_result(policy: Policy, fingerprint: sig::Fingerprint, provider: &str) -> rootseal_sig_result {
    let mut result = rootseal_sig_result {
        fingerprint: fingerprint.0,
        policy: if policy == Policy::Fips { ROOTSEAL_SIG_POLICY_FIPS } else { ROOTSEAL_SIG_POLICY_DEFAULT },
        signature_index: 0,
        signature_version: -1,
        provider: [0; 32],
        reserved: [0; 4],
    };
    fill(&mut result.provider, provider);
    result
}

/// # Safety
/// `out` must be NULL or writable.
unsafe fn store_result(out: *mut rootseal_sig_result, result: rootseal_sig_result) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { out.write(result) };
    }
}

/// # Safety
/// `params` must be NULL or point to a readable `rootseal_sig_params`.
unsafe fn scheme_from(params: *const rootseal_sig_params) -> Result<(Option<Scheme>, Policy), Failure> {
    if params.is_null() {
        return Err(null("params"));
    }
    // SAFETY: non-NULL and readable per the contract above.
    let p = unsafe { &*params };
    check_params("params", p.version, ROOTSEAL_SIG_PARAMS_VERSION, p.reserved.iter().all(|&r| r == 0))?;
    let policy = match p.policy {
        ROOTSEAL_SIG_POLICY_DEFAULT => Policy::Default,
        ROOTSEAL_SIG_POLICY_FIPS => Policy::Fips,
        other => return Err(invalid(format!("policy {other} is unknown"))),
    };
    use super::algorithm::{ROOTSEAL_HASH_DEFAULT, algorithm_of_number};
    let digest = match (p.digest, algorithm_of_number(p.digest)) {
        (ROOTSEAL_HASH_DEFAULT, _) => HashAlgorithm::Sha256,
        (_, Some(digest)) if sig::SIGNATURE_DIGESTS.contains(&digest) => digest,
        (other, _) => return Err(invalid(format!("digest {other} is not usable for signatures"))),
    };
    let padding = match p.padding {
        ROOTSEAL_SIG_PADDING_AUTO | ROOTSEAL_SIG_PADDING_PKCS1 => Padding::Pkcs1,
        ROOTSEAL_SIG_PADDING_PSS => Padding::Pss,
        other => return Err(invalid(format!("padding {other} is unknown"))),
    };
    let auto = p.digest == ROOTSEAL_HASH_DEFAULT && p.padding == ROOTSEAL_SIG_PADDING_AUTO;
    Ok(((!auto).then_some(Scheme { digest, padding }), policy))
}

/// # Safety
/// `store` must be NULL or a live store from this library.
unsafe fn store_arg<'a>(store: *const rootseal_trust_store) -> Result<&'a TrustStore, Failure> {
    if store.is_null() {
        return Err(null("store"));
    }
    // SAFETY: non-NULL and live per the contract above.
    Ok(unsafe { &(*store).inner })
}

/// Creates a context on OpenSSL's default library context (no FIPS). The caller owns
/// `*context_out` and frees it with `rootseal_sig_context_free`.
///
/// # Safety
/// `context_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_context_new(context_out: *mut *mut rootseal_sig_context) -> rootseal_status {
    boundary(|| {
        if context_out.is_null() {
            return Err(null("context_out"));
        }
        let boxed = Box::new(rootseal_sig_context { inner: Arc::new(CryptoContext::default_provider()) });
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { context_out.write(Box::into_raw(boxed)) };
        Ok(rootseal_status::Ok)
    })
}

/// Creates a context running the OpenSSL FIPS provider in a private library context,
/// from the OpenSSL config at `config_path` (NULL: the `ROOTSEAL_FIPS_CONFIG` environment
/// variable). The process's default context is not changed. Fails with
/// `ROOTSEAL_STATUS_SIG_FIPS_UNAVAILABLE` when the provider cannot be loaded or fails its
/// self-test; there is no fallback. The caller owns `*context_out` and frees it with
/// `rootseal_sig_context_free`.
///
/// # Safety
/// `config_path` must be NULL or NUL-terminated; `context_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_context_new_fips(
    config_path: *const c_char,
    context_out: *mut *mut rootseal_sig_context,
) -> rootseal_status {
    boundary(|| {
        if context_out.is_null() {
            return Err(null("context_out"));
        }
        let config = if config_path.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated per the contract above.
            Some(unsafe { path_arg(config_path, "config_path") }?)
        };
        let ctx = CryptoContext::fips(config)?;
        let boxed = Box::new(rootseal_sig_context { inner: Arc::new(ctx) });
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { context_out.write(Box::into_raw(boxed)) };
        Ok(rootseal_status::Ok)
    })
}

/// Reports whether `context` runs on the FIPS provider, and which one.
///
/// # Safety
/// `context` must be NULL or live; `status_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_fips_status(
    context: *const rootseal_sig_context,
    status_out: *mut rootseal_fips_status,
) -> rootseal_status {
    boundary(|| {
        if context.is_null() {
            return Err(null("context"));
        }
        if status_out.is_null() {
            return Err(null("status_out"));
        }
        // SAFETY: non-NULL and live per the contract above.
        let status = unsafe { &(*context).inner }.status();
        let mut out =
            rootseal_fips_status { active: 0, provider_name: [0; 64], provider_version: [0; 32], reserved: [0; 4] };
        if let Some(provider) = status.provider {
            out.active = 1;
            fill(&mut out.provider_name, &provider.name);
            fill(&mut out.provider_version, &provider.version);
        }
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { status_out.write(out) };
        Ok(rootseal_status::Ok)
    })
}

/// Frees a context. NULL is a no-op. Trust stores made from it stay usable.
///
/// # Safety
/// `context` must be NULL or a context from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_context_free(context: *mut rootseal_sig_context) {
    query(|| {
        if !context.is_null() {
            // SAFETY: it came from Box::into_raw in a _new function and is freed once.
            drop(unsafe { Box::from_raw(context) });
        }
        Ok(())
    })
}

/// Creates an empty trust store whose keys live in `context`. The caller owns
/// `*store_out` and frees it with `rootseal_trust_store_free`.
///
/// # Safety
/// `context` must be NULL or live; `store_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_trust_store_new(
    context: *const rootseal_sig_context,
    store_out: *mut *mut rootseal_trust_store,
) -> rootseal_status {
    boundary(|| {
        if context.is_null() {
            return Err(null("context"));
        }
        if store_out.is_null() {
            return Err(null("store_out"));
        }
        // SAFETY: non-NULL and live per the contract above.
        let ctx = unsafe { &(*context).inner }.clone();
        let boxed = Box::new(rootseal_trust_store { inner: TrustStore::new(ctx) });
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { store_out.write(Box::into_raw(boxed)) };
        Ok(rootseal_status::Ok)
    })
}

/// Adds the keys or certificates in `len` bytes of PEM (one or more blocks) or DER.
/// Nothing is added unless all of it decodes. Private keys are refused.
///
/// # Safety
/// `store` must be NULL or live and not used by another thread during the call; `bytes`
/// must be readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_trust_store_add_key(
    store: *mut rootseal_trust_store,
    bytes: *const u8,
    len: usize,
) -> rootseal_status {
    boundary(|| {
        if store.is_null() {
            return Err(null("store"));
        }
        // SAFETY: per the contract above.
        let bytes = unsafe { bytes_arg(bytes, len, "bytes") }?;
        // SAFETY: non-NULL, live and exclusively ours per the contract above.
        unsafe { &mut (*store).inner }.add_bytes(bytes, "memory")?;
        Ok(rootseal_status::Ok)
    })
}

/// Adds the keys or certificates in the file at `path`. A missing file is an error.
///
/// # Safety
/// As [`rootseal_trust_store_add_key`]; `path` must be NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_trust_store_add_key_file(
    store: *mut rootseal_trust_store,
    path: *const c_char,
) -> rootseal_status {
    boundary(|| {
        if store.is_null() {
            return Err(null("store"));
        }
        // SAFETY: per the contract above.
        let path = unsafe { path_arg(path, "path") }?;
        // SAFETY: non-NULL, live and exclusively ours per the contract above.
        unsafe { &mut (*store).inner }.add_file(path)?;
        Ok(rootseal_status::Ok)
    })
}

/// Number of keys in the store (0 for NULL). Never fails.
///
/// # Safety
/// `store` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_trust_store_len(store: *const rootseal_trust_store) -> usize {
    // SAFETY: NULL or live per the contract above.
    query(|| Ok(unsafe { store.as_ref() }.map_or(0, |s| s.inner.len())))
}

/// Frees a store. NULL is a no-op.
///
/// # Safety
/// `store` must be NULL or a store from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_trust_store_free(store: *mut rootseal_trust_store) {
    query(|| {
        if !store.is_null() {
            // SAFETY: it came from Box::into_raw in rootseal_trust_store_new and is freed once.
            drop(unsafe { Box::from_raw(store) });
        }
        Ok(())
    })
}

/// Verifies a detached signature over the file at `path` (read once with `pread`, never
/// mapped, so a file truncated meanwhile cannot raise SIGBUS in the caller) under any
/// trusted key the policy allows. `ROOTSEAL_STATUS_SIG_INVALID` when no key verifies it,
/// `ROOTSEAL_STATUS_SIG_POLICY_REFUSED` when the policy allows no key or the signature
/// uses a refused digest, `ROOTSEAL_STATUS_SIG_FILE_CHANGED` when the file changed while
/// it was read.
///
/// # Safety
/// `store` live, `params` readable, `path` NUL-terminated, `signature` readable for
/// `signature_len` bytes, `result_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_file(
    store: *const rootseal_trust_store,
    params: *const rootseal_sig_params,
    path: *const c_char,
    signature: *const u8,
    signature_len: usize,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (store, (scheme, policy)) = unsafe { (store_arg(store)?, scheme_from(params)?) };
        // SAFETY: as above.
        let (path, signature) = unsafe { (path_arg(path, "path")?, bytes_arg(signature, signature_len, "signature")?) };
        let v = match scheme {
            Some(scheme) => store.verify_file(path, signature, scheme, policy)?,
            None => store.verify_file_auto(path, signature, policy)?,
        };
        // SAFETY: as above.
        unsafe { store_result(result_out, empty_result(policy, v.fingerprint, &v.provider)) };
        Ok(rootseal_status::Ok)
    })
}

/// As [`rootseal_sig_verify_file`], over `data_len` bytes in memory.
///
/// # Safety
/// As [`rootseal_sig_verify_file`]; `data` readable for `data_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_buffer(
    store: *const rootseal_trust_store,
    params: *const rootseal_sig_params,
    data: *const u8,
    data_len: usize,
    signature: *const u8,
    signature_len: usize,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (store, (scheme, policy)) = unsafe { (store_arg(store)?, scheme_from(params)?) };
        // SAFETY: as above.
        let (data, signature) =
            unsafe { (bytes_arg(data, data_len, "data")?, bytes_arg(signature, signature_len, "signature")?) };
        let v = match scheme {
            Some(scheme) => store.verify_bytes(data, signature, scheme, policy)?,
            None => store.verify_bytes_auto(data, signature, policy)?,
        };
        // SAFETY: as above.
        unsafe { store_result(result_out, empty_result(policy, v.fingerprint, &v.provider)) };
        Ok(rootseal_status::Ok)
    })
}

/// As [`rootseal_sig_verify_file`], over the bytes a caller's callbacks read: `data`
/// needs `read` and `size` (the signed bytes are `0..size`), read once in bounded chunks
/// on the calling thread. A failing or short callback gives
/// `ROOTSEAL_STATUS_CALLBACK_FAILED`, never a verdict.
///
/// # Safety
/// As [`rootseal_sig_verify_file`]; `data` NULL or a valid `rootseal_io` whose callbacks
/// honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_io(
    store: *const rootseal_trust_store,
    params: *const rootseal_sig_params,
    data: *const rootseal_io,
    signature: *const u8,
    signature_len: usize,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (store, (scheme, policy)) = unsafe { (store_arg(store)?, scheme_from(params)?) };
        // SAFETY: as above.
        let (data, signature) = unsafe {
            (CallbackDevice::from_ptr(data, "data", false)?, bytes_arg(signature, signature_len, "signature")?)
        };
        let v = store.verify_reader(&data, Path::new("the data callbacks"), signature, scheme, policy)?;
        // SAFETY: as above.
        unsafe { store_result(result_out, empty_result(policy, v.fingerprint, &v.provider)) };
        Ok(rootseal_status::Ok)
    })
}

/// The scheme and policy of a payload check, whose scheme is fixed.
///
/// # Safety
/// `params` NULL or readable.
unsafe fn payload_policy(params: *const rootseal_sig_params) -> Result<Policy, Failure> {
    // SAFETY: per this function's contract.
    let (scheme, policy) = unsafe { scheme_from(params)? };
    if scheme.is_some() {
        return Err(invalid("payload signatures are always SHA-256 PKCS#1 v1.5: leave digest and padding 0"));
    }
    Ok(policy)
}

/// The Omaha values to check; NULL checks none.
///
/// # Safety
/// `omaha` NULL or readable.
unsafe fn omaha_from(omaha: *const rootseal_omaha_check) -> Result<OmahaCheck, Failure> {
    // SAFETY: NULL or readable per this function's contract.
    let Some(o) = (unsafe { omaha.as_ref() }) else {
        return Ok(OmahaCheck::default());
    };
    if o.version != ROOTSEAL_OMAHA_CHECK_VERSION {
        return Err(Failure::new(
            rootseal_status::UnsupportedParamsVersion,
            format!("omaha version {} is not {ROOTSEAL_OMAHA_CHECK_VERSION}", o.version),
        ));
    }
    if o.reserved.iter().any(|&r| r != 0) {
        return Err(Failure::new(rootseal_status::ReservedNotZero, "omaha.reserved must be zero"));
    }
    if o.flags & !(ROOTSEAL_OMAHA_CHECK_SIZE | ROOTSEAL_OMAHA_CHECK_SHA256) != 0 {
        return Err(invalid(format!("unknown omaha flags {:#x}", o.flags)));
    }
    Ok(OmahaCheck {
        size: (o.flags & ROOTSEAL_OMAHA_CHECK_SIZE != 0).then_some(o.size),
        sha256: (o.flags & ROOTSEAL_OMAHA_CHECK_SHA256 != 0).then_some(o.sha256),
    })
}

/// Writes a payload check's result.
///
/// # Safety
/// `result_out` NULL or writable.
unsafe fn store_payload_result(result_out: *mut rootseal_sig_result, policy: Policy, v: &PayloadVerified) {
    let mut result = empty_result(policy, v.fingerprint, &v.provider);
    result.signature_index = u32::try_from(v.signature_index).unwrap_or(u32::MAX);
    result.signature_version = v.signature_version.map_or(-1, i64::from);
    // SAFETY: per this function's contract.
    unsafe { store_result(result_out, result) };
}

/// As [`rootseal_sig_verify_payload`], over a payload the caller's callbacks read
/// (`read` and `size` are required; the payload is `0..size`), on the calling thread. A
/// failing or short callback gives `ROOTSEAL_STATUS_CALLBACK_FAILED`, never a verdict.
///
/// # Safety
/// As [`rootseal_sig_verify_payload`]; `payload` NULL or a valid `rootseal_io` whose
/// callbacks honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_payload_io(
    store: *const rootseal_trust_store,
    params: *const rootseal_sig_params,
    payload: *const rootseal_io,
    omaha: *const rootseal_omaha_check,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (store, policy, check, payload) = unsafe {
            (
                store_arg(store)?,
                payload_policy(params)?,
                omaha_from(omaha)?,
                CallbackDevice::from_ptr(payload, "payload", false)?,
            )
        };
        let v = store.verify_payload_reader(&payload, Path::new("the payload callbacks"), check, policy)?;
        // SAFETY: as above.
        unsafe { store_payload_result(result_out, policy, &v) };
        Ok(rootseal_status::Ok)
    })
}

/// Verifies a CrAU update payload file: structure, the optional Omaha size and SHA-256
/// (`omaha` may be NULL), and its RSA PKCS#1 v1.5 SHA-256 signatures, accepting any
/// signature under any trusted key. Only `params.policy` is used; `digest` and `padding`
/// must be 0 (the scheme is fixed: SHA-256, PKCS#1 v1.5).
///
/// # Safety
/// As [`rootseal_sig_verify_file`]; `omaha` NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_payload(
    store: *const rootseal_trust_store,
    params: *const rootseal_sig_params,
    path: *const c_char,
    omaha: *const rootseal_omaha_check,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (store, policy, check, path) =
            unsafe { (store_arg(store)?, payload_policy(params)?, omaha_from(omaha)?, path_arg(path, "path")?) };
        let v = store.verify_payload(path, check, policy)?;
        // SAFETY: as above.
        unsafe { store_payload_result(result_out, policy, &v) };
        Ok(rootseal_status::Ok)
    })
}

/// As [`rootseal_sig_verify_payload`], for a payload the caller already holds in memory
/// (`payload_len` bytes at `payload`), with no file access: for callers with their own
/// storage layer.
///
/// # Safety
/// As [`rootseal_sig_verify_buffer`] for `payload`; `omaha` NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_payload_buffer(
    store: *const rootseal_trust_store,
    params: *const rootseal_sig_params,
    payload: *const u8,
    payload_len: usize,
    omaha: *const rootseal_omaha_check,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (store, policy, check, payload) = unsafe {
            (
                store_arg(store)?,
                payload_policy(params)?,
                omaha_from(omaha)?,
                bytes_arg(payload, payload_len, "payload")?,
            )
        };
        let v = store.verify_payload_bytes(payload, check, policy)?;
        // SAFETY: as above.
        unsafe { store_payload_result(result_out, policy, &v) };
        Ok(rootseal_status::Ok)
    })
}

/// Verifies a detached DER PKCS#7 root-hash signature over `root_hash_hex` (checked as
/// the lowercase hex text the kernel sees) against the store's certificates.
///
/// # Safety
/// `store` live, `root_hash_hex` NUL-terminated, `signature` readable for
/// `signature_len` bytes, `result_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_sig_verify_root_hash(
    store: *const rootseal_trust_store,
    root_hash_hex: *const c_char,
    signature: *const u8,
    signature_len: usize,
    result_out: *mut rootseal_sig_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let store = unsafe { store_arg(store) }?;
        if root_hash_hex.is_null() {
            return Err(null("root_hash_hex"));
        }
        // SAFETY: non-NULL and NUL-terminated per the contract above.
        let text = unsafe { CStr::from_ptr(root_hash_hex) }.to_str().map_err(|_| invalid("root hash is not UTF-8"))?;
        // SAFETY: as above.
        let signature = unsafe { bytes_arg(signature, signature_len, "signature") }?;
        let v = store.verify_root_hash(text, signature)?;
        // SAFETY: as above.
        unsafe { store_result(result_out, empty_result(v.policy, v.fingerprint, "")) };
        Ok(rootseal_status::Ok)
    })
}

//! OpenSSL 3 calls that the `openssl` crate does not wrap, behind small safe functions.
//!
//! The signature code needs every key, digest and verify context created inside a chosen
//! `OSSL_LIB_CTX` (the private FIPS one, or the default one when it is `None`). The
//! crate's safe API always uses the default context for these, so the `_ex` variants are
//! declared here. Nothing outside `crate::sys` sees a raw pointer.

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl::error::ErrorStack;
use openssl::lib_ctx::LibCtxRef;
use openssl::md_ctx::{MdCtx, MdCtxRef};
use openssl::pkey::{PKey, PKeyRef, Public};
use openssl::stack::Stack;
use openssl::x509::{X509, X509Ref};
use openssl_sys as sys;
use std::ffi::{CStr, CString, c_char, c_int, c_long, c_uint, c_void};
use std::path::Path;

/// `OSSL_PARAM` from `<openssl/core.h>`; only used to read provider name and version.
#[repr(C)]
struct OsslParam {
    key: *const c_char,
    data_type: c_uint,
    data: *mut c_void,
    data_size: usize,
    return_size: usize,
}

const OSSL_PARAM_UTF8_PTR: c_uint = 6;
const RSA_PSS_SALTLEN_AUTO: c_int = -2;

unsafe extern "C" {
    fn OSSL_LIB_CTX_load_config(ctx: *mut sys::OSSL_LIB_CTX, config_file: *const c_char) -> c_int;
    fn OSSL_PROVIDER_available(ctx: *mut sys::OSSL_LIB_CTX, name: *const c_char) -> c_int;
    fn OSSL_PROVIDER_get0_name(prov: *const sys::OSSL_PROVIDER) -> *const c_char;
    fn OSSL_PROVIDER_get_params(prov: *const sys::OSSL_PROVIDER, params: *mut OsslParam) -> c_int;
    fn d2i_PUBKEY_ex(
        out: *mut *mut sys::EVP_PKEY,
        input: *mut *const u8,
        length: c_long,
        libctx: *mut sys::OSSL_LIB_CTX,
        propq: *const c_char,
    ) -> *mut sys::EVP_PKEY;
    fn EVP_DigestVerifyInit_ex(
        ctx: *mut sys::EVP_MD_CTX,
        pctx: *mut *mut sys::EVP_PKEY_CTX,
        mdname: *const c_char,
        libctx: *mut sys::OSSL_LIB_CTX,
        props: *const c_char,
        pkey: *mut sys::EVP_PKEY,
        params: *const c_void,
    ) -> c_int;
    fn EVP_PKEY_CTX_new_from_pkey(
        libctx: *mut sys::OSSL_LIB_CTX,
        pkey: *mut sys::EVP_PKEY,
        propq: *const c_char,
    ) -> *mut sys::EVP_PKEY_CTX;
    fn EVP_PKEY_CTX_get0_provider(ctx: *const sys::EVP_PKEY_CTX) -> *const sys::OSSL_PROVIDER;
    fn EVP_MD_get0_provider(md: *const sys::EVP_MD) -> *const sys::OSSL_PROVIDER;
    fn EVP_PKEY_get_group_name(
        pkey: *const sys::EVP_PKEY,
        name: *mut c_char,
        name_size: usize,
        name_len: *mut usize,
    ) -> c_int;
    fn X509_get_X509_PUBKEY(cert: *const sys::X509) -> *mut c_void;
    fn i2d_X509_PUBKEY(key: *const c_void, out: *mut *mut u8) -> c_int;
    fn X509_new_ex(libctx: *mut sys::OSSL_LIB_CTX, propq: *const c_char) -> *mut sys::X509;
    fn CMS_is_detached(cms: *mut sys::CMS_ContentInfo) -> c_int;
    fn CMS_get0_eContentType(cms: *mut sys::CMS_ContentInfo) -> *const sys::ASN1_OBJECT;
    fn CMS_get0_SignerInfos(cms: *mut sys::CMS_ContentInfo) -> *mut sys::OPENSSL_STACK;
    fn CMS_SignerInfo_get0_algs(
        si: *mut c_void,
        pk: *mut *mut sys::EVP_PKEY,
        signer: *mut *mut sys::X509,
        pdig: *mut *mut sys::X509_ALGOR,
        psig: *mut *mut sys::X509_ALGOR,
    );
    fn CMS_SignerInfo_cert_cmp(si: *mut c_void, cert: *mut sys::X509) -> c_int;
    fn CMS_SignerInfo_set1_signer_cert(si: *mut c_void, signer: *mut sys::X509);
    fn CMS_SignerInfo_verify(si: *mut c_void) -> c_int;
    fn CMS_SignerInfo_verify_content(si: *mut c_void, chain: *mut sys::BIO) -> c_int;
    fn CMS_signed_get_attr_count(si: *const c_void) -> c_int;
    fn CMS_dataInit(cms: *mut sys::CMS_ContentInfo, icont: *mut sys::BIO) -> *mut sys::BIO;
    fn CMS_get1_certs(cms: *mut sys::CMS_ContentInfo) -> *mut sys::stack_st_X509;
    fn BIO_pop(bio: *mut sys::BIO) -> *mut sys::BIO;
    fn BIO_free(bio: *mut sys::BIO) -> c_int;
    fn d2i_X509_AUX(a: *mut *mut sys::X509, pp: *mut *const u8, length: c_long) -> *mut sys::X509;
    fn CMS_ContentInfo_new_ex(libctx: *mut sys::OSSL_LIB_CTX, propq: *const c_char) -> *mut sys::CMS_ContentInfo;
}

fn libctx_ptr(ctx: Option<&LibCtxRef>) -> *mut sys::OSSL_LIB_CTX {
    ctx.map_or(std::ptr::null_mut(), |c| c.as_ptr())
}

fn c_string(text: &str) -> CString {
    // Every caller passes names and property strings from this crate: none contain NUL.
    CString::new(text).unwrap_or_default()
}

fn opt_ptr(text: &Option<CString>) -> *const c_char {
    text.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Loads an OpenSSL config file into `ctx` only (never the default context). The error
/// is OpenSSL's, read with [`drain_errors_lossy`]: config errors quote the file's name
/// and its lines byte for byte.
pub(crate) fn load_config(ctx: &LibCtxRef, path: &Path) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| "the path contains a NUL byte".to_string())?;
    // SAFETY: ctx is a live library context and path a NUL-terminated string; both
    // outlive the call, which copies what it keeps.
    let ok = unsafe { OSSL_LIB_CTX_load_config(ctx.as_ptr(), path.as_ptr()) };
    if ok == 1 { Ok(()) } else { Err(drain_errors_lossy()) }
}

/// Drains the calling thread's OpenSSL error queue into one line of text.
/// `ErrorStack::get` (openssl 0.10.82) panics when an entry's data is not UTF-8, so
/// errors that can quote caller bytes are read here, with invalid UTF-8 replaced.
pub(crate) fn drain_errors_lossy() -> String {
    let mut entries = Vec::new();
    loop {
        let (mut file, mut line, mut func, mut data, mut flags) =
            (std::ptr::null(), 0, std::ptr::null(), std::ptr::null(), 0);
        // SAFETY: every out-pointer is a live local. The strings written belong to the
        // queue entry and are only read before the next call reuses it.
        let code = unsafe { sys::ERR_get_error_all(&mut file, &mut line, &mut func, &mut data, &mut flags) };
        if code == 0 {
            break;
        }
        // SAFETY: NULL or a static NUL-terminated string.
        let reason = unsafe { sys::ERR_reason_error_string(code) };
        let mut entry = if reason.is_null() {
            format!("error:{code:08X}")
        } else {
            // SAFETY: non-NULL, static and NUL-terminated.
            unsafe { CStr::from_ptr(reason) }.to_string_lossy().into_owned()
        };
        if flags & sys::ERR_TXT_STRING != 0 && !data.is_null() {
            // SAFETY: with ERR_TXT_STRING, data is a NUL-terminated string of the entry.
            let data = unsafe { CStr::from_ptr(data) }.to_string_lossy();
            if !data.is_empty() {
                entry = format!("{entry} ({data})");
            }
        }
        entries.push(entry);
    }
    if entries.is_empty() { "no OpenSSL error recorded".into() } else { join_distinct(entries) }
}

/// Empties the calling thread's OpenSSL error queue, so that the next error message
/// holds only what the next call reports.
pub(crate) fn clear_errors() {
    let _ = ErrorStack::get();
}

/// Joins error texts with ", ", each distinct text once, in order of first appearance;
/// a text seen more than once says how often. The FIPS provider's decoders, tried one
/// after the other, otherwise fill one line with the same error many times.
pub(crate) fn join_distinct(entries: impl IntoIterator<Item = String>) -> String {
    let mut distinct: Vec<(String, usize)> = Vec::new();
    for entry in entries {
        match distinct.iter_mut().find(|(text, _)| *text == entry) {
            Some((_, count)) => *count += 1,
            None => distinct.push((entry, 1)),
        }
    }
    let shown: Vec<String> = distinct
        .into_iter()
        .map(|(text, count)| if count == 1 { text } else { format!("{text} ({count} times)") })
        .collect();
    shown.join(", ")
}

/// One line for an OpenSSL error stack: each entry as OpenSSL prints it without the
/// source file and line (which differ between otherwise equal entries), each distinct
/// entry once (see [`join_distinct`]).
pub(crate) fn error_text(stack: &ErrorStack) -> String {
    let entries = stack.errors().iter().map(|e| {
        let mut text = format!("error:{:08X}:{}", e.code(), e.library().unwrap_or("unknown library"));
        if let Some(function) = e.function() {
            text.push(':');
            text.push_str(function);
        }
        text.push(':');
        text.push_str(e.reason().unwrap_or("unknown reason"));
        if let Some(data) = e.data().filter(|d| !d.is_empty()) {
            text.push(':');
            text.push_str(data);
        }
        text
    });
    let text = join_distinct(entries);
    if text.is_empty() { "no OpenSSL error recorded".into() } else { text }
}

/// Whether the provider `name` is loaded and activated in `ctx` (None: the default context).
pub(crate) fn provider_available(ctx: Option<&LibCtxRef>, name: &str) -> bool {
    let name = c_string(name);
    // SAFETY: a NULL ctx means the default context; name is NUL-terminated.
    unsafe { OSSL_PROVIDER_available(libctx_ptr(ctx), name.as_ptr()) == 1 }
}

/// Whether `ctx`'s default property query includes `fips=yes`.
pub(crate) fn fips_properties_enabled(ctx: Option<&LibCtxRef>) -> bool {
    // SAFETY: a NULL ctx means the default context; the call only reads it.
    unsafe { sys::EVP_default_properties_is_fips_enabled(libctx_ptr(ctx)) == 1 }
}

/// Name of the provider that implements a fetched digest ("fips", "default").
pub(crate) fn digest_provider_name(md: &openssl::md::MdRef) -> String {
    // SAFETY: md is a live fetched digest; only its provider pointer is read, and the
    // provider outlives the digest that holds a reference to it.
    provider_name(unsafe { EVP_MD_get0_provider(md.as_ptr()) })
}

/// Name, version and build string a provider reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderParams {
    pub name: String,
    pub version: String,
    pub build: String,
}

/// Asks the already-activated provider `name` in `ctx` for its name and version.
/// Returns None when it is not available. Never loads a provider that is not active.
pub(crate) fn provider_params(ctx: &LibCtxRef, name: &str) -> Option<ProviderParams> {
    if !provider_available(Some(ctx), name) {
        return None;
    }
    let cname = c_string(name);
    // SAFETY: the provider is active in ctx, so this only takes a reference on it; the
    // handle is released with OSSL_PROVIDER_unload below, which drops that reference.
    let prov = unsafe { sys::OSSL_PROVIDER_load(ctx.as_ptr(), cname.as_ptr()) };
    if prov.is_null() {
        return None;
    }
    let mut values: [*const c_char; 3] = [std::ptr::null(); 3];
    let keys = [c"name", c"version", c"buildinfo"];
    let mut params: Vec<OsslParam> = keys
        .iter()
        .zip(values.iter_mut())
        .map(|(key, value)| OsslParam {
            key: key.as_ptr(),
            data_type: OSSL_PARAM_UTF8_PTR,
            data: (value as *mut *const c_char).cast(),
            data_size: std::mem::size_of::<*const c_char>(),
            return_size: usize::MAX,
        })
        .collect();
    params.push(OsslParam {
        key: std::ptr::null(),
        data_type: 0,
        data: std::ptr::null_mut(),
        data_size: 0,
        return_size: 0,
    });
    // SAFETY: prov is a live handle; params is an OSSL_PARAM array ending in the all-zero
    // entry, each UTF8_PTR entry pointing at a pointer slot in `values`, which outlives the call.
    let ok = unsafe { OSSL_PROVIDER_get_params(prov, params.as_mut_ptr()) };
    let text = |p: *const c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: the provider returned a pointer to its own static NUL-terminated string.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    let result =
        (ok == 1).then(|| ProviderParams { name: text(values[0]), version: text(values[1]), build: text(values[2]) });
    // SAFETY: releases the reference taken by OSSL_PROVIDER_load above; the strings were
    // copied into owned Strings first.
    unsafe { sys::OSSL_PROVIDER_unload(prov) };
    result
}

/// Whether a signature algorithm can be fetched from `ctx` with property query `propq`
/// (for instance, whether any loaded provider offers "ED25519" with "fips=yes").
pub(crate) fn signature_fetchable(ctx: Option<&LibCtxRef>, algorithm: &str, propq: &str) -> bool {
    let (algorithm, propq) = (c_string(algorithm), c_string(propq));
    // SAFETY: the strings are NUL-terminated; a NULL ctx means the default context.
    let sig = unsafe { sys::EVP_SIGNATURE_fetch(libctx_ptr(ctx), algorithm.as_ptr(), propq.as_ptr()) };
    let found = !sig.is_null();
    if found {
        // SAFETY: sig came from EVP_SIGNATURE_fetch and is freed once.
        unsafe { sys::EVP_SIGNATURE_free(sig) };
    } else {
        // A failed fetch leaves errors on the thread's queue; this was only a question.
        let _ = ErrorStack::get();
    }
    found
}

/// Why a DER SubjectPublicKeyInfo was not decoded.
#[derive(Debug)]
pub(crate) enum SpkiError {
    /// OpenSSL could not decode it (malformed, or no provider in the context knows the type).
    Decode(ErrorStack),
    /// It decoded, but this many bytes follow it. They are refused: the key's fingerprint
    /// would otherwise be taken over bytes that are not part of the key.
    Trailing(usize),
}

impl std::fmt::Display for SpkiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpkiError::Decode(stack) => f.write_str(&error_text(stack)),
            SpkiError::Trailing(n) => write!(f, "{n} byte(s) follow the DER SubjectPublicKeyInfo"),
        }
    }
}

/// Decodes a DER SubjectPublicKeyInfo into a key that belongs to `ctx`. The input must be
/// exactly one SubjectPublicKeyInfo, with nothing after it.
pub(crate) fn public_key_from_der(
    ctx: Option<&LibCtxRef>,
    propq: Option<&str>,
    der: &[u8],
) -> Result<PKey<Public>, SpkiError> {
    let len = c_long::try_from(der.len()).map_err(|_| SpkiError::Decode(ErrorStack::get()))?;
    clear_errors();
    let propq = propq.map(c_string);
    let mut input = der.as_ptr();
    // SAFETY: input points at `len` readable bytes; out is NULL so a new key is
    // allocated; on success the returned key is owned by the PKey below, and `input` is
    // advanced past the bytes decoded (never past the end).
    let key = unsafe { d2i_PUBKEY_ex(std::ptr::null_mut(), &mut input, len, libctx_ptr(ctx), opt_ptr(&propq)) };
    if key.is_null() {
        return Err(SpkiError::Decode(ErrorStack::get()));
    }
    // SAFETY: key is a fresh, owned EVP_PKEY.
    let key = unsafe { PKey::from_ptr(key) };
    let used = (input as usize).wrapping_sub(der.as_ptr() as usize);
    match der.len().checked_sub(used) {
        Some(0) => Ok(key),
        Some(rest) => Err(SpkiError::Trailing(rest)),
        None => Err(SpkiError::Decode(ErrorStack::get())),
    }
}

/// An RSA key's public exponent, or None for other key types.
pub(crate) fn rsa_public_exponent(key: &PKeyRef<Public>) -> Option<openssl::bn::BigNum> {
    let mut bn: *mut sys::BIGNUM = std::ptr::null_mut();
    // SAFETY: key is live; on success `bn` receives a newly allocated BIGNUM that the
    // BigNum below owns and frees.
    let ok = unsafe { sys::EVP_PKEY_get_bn_param(key.as_ptr(), c"e".as_ptr(), &mut bn) };
    if ok != 1 || bn.is_null() {
        let _ = ErrorStack::get();
        return None;
    }
    // SAFETY: bn is a fresh, owned BIGNUM.
    Some(unsafe { openssl::bn::BigNum::from_ptr(bn) })
}

/// Whether `key` is of the named type ("RSA", "RSA-PSS", "EC", "ED25519", ...).
pub(crate) fn key_is_a(key: &PKeyRef<Public>, name: &str) -> bool {
    let name = c_string(name);
    // SAFETY: key is live and name NUL-terminated.
    unsafe { sys::EVP_PKEY_is_a(key.as_ptr(), name.as_ptr()) == 1 }
}

/// The curve name of an EC key ("prime256v1", "secp384r1", ...), if it has one.
pub(crate) fn key_group_name(key: &PKeyRef<Public>) -> Option<String> {
    let mut buf = [0u8; 80];
    let mut len = 0usize;
    // SAFETY: buf is writable for its length, and len receives the name length.
    let ok = unsafe { EVP_PKEY_get_group_name(key.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    if ok != 1 {
        let _ = ErrorStack::get();
        return None;
    }
    std::str::from_utf8(&buf[..len.min(buf.len())]).ok().map(str::to_string)
}

/// The DER SubjectPublicKeyInfo of a certificate, as stored (the key is not decoded).
pub(crate) fn cert_spki_der(cert: &X509Ref) -> Result<Vec<u8>, ErrorStack> {
    // SAFETY: cert is live; the returned X509_PUBKEY is owned by it and only read here.
    let spki = unsafe { X509_get_X509_PUBKEY(cert.as_ptr()) };
    if spki.is_null() {
        return Err(ErrorStack::get());
    }
    // SAFETY: with a NULL output pointer i2d only returns the encoded length.
    let len = unsafe { i2d_X509_PUBKEY(spki, std::ptr::null_mut()) };
    let Ok(len) = usize::try_from(len) else {
        return Err(ErrorStack::get());
    };
    let mut out = vec![0u8; len];
    let mut cursor = out.as_mut_ptr();
    // SAFETY: out has exactly the `len` bytes i2d reported it will write.
    let written = unsafe { i2d_X509_PUBKEY(spki, &mut cursor) };
    if usize::try_from(written).ok() != Some(len) {
        return Err(ErrorStack::get());
    }
    Ok(out)
}

/// Decodes OpenSSL's "trusted certificate" (a `TRUSTED CERTIFICATE` PEM block): a DER
/// certificate, optionally followed by its trust settings (`X509_CERT_AUX`). Returns the
/// certificate and how many bytes of `der` were decoded, so the caller can refuse a tail.
pub(crate) fn trusted_cert_from_der(der: &[u8]) -> Result<(X509, usize), ErrorStack> {
    let len = c_long::try_from(der.len()).map_err(|_| ErrorStack::get())?;
    clear_errors();
    let mut input = der.as_ptr();
    // SAFETY: input points at `len` readable bytes; a NULL output pointer makes OpenSSL
    // allocate a new certificate, owned by the X509 below; `input` is advanced past the
    // certificate and its trust settings only on success, and never past the end.
    let cert = unsafe { d2i_X509_AUX(std::ptr::null_mut(), &mut input, len) };
    if cert.is_null() {
        return Err(ErrorStack::get());
    }
    // SAFETY: cert is a fresh, owned X509.
    let cert = unsafe { X509::from_ptr(cert) };
    let used = (input as usize).wrapping_sub(der.as_ptr() as usize);
    if used > der.len() {
        return Err(ErrorStack::get());
    }
    Ok((cert, used))
}

/// The name of the provider behind a provider object, or "" when there is none.
fn provider_name(prov: *const sys::OSSL_PROVIDER) -> String {
    if prov.is_null() {
        return String::new();
    }
    // SAFETY: prov is live; its name is a NUL-terminated string it owns.
    let name = unsafe { OSSL_PROVIDER_get0_name(prov) };
    if name.is_null() {
        return String::new();
    }
    // SAFETY: checked non-NULL above; copied before the provider could go away.
    unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
}

/// How an RSA signature is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaPad {
    Pkcs1,
    /// PSS with any salt length (MGF1 with the signature digest).
    Pss,
    /// Whatever the key allows: for an RSA-PSS key, its own restrictions (digest, salt
    /// length) apply, and setting a padding or salt length could only conflict with them.
    KeyDefault,
}

/// A public-key operation context for `key`, from `ctx` and `propq`.
fn pkey_ctx_in(
    ctx: Option<&LibCtxRef>,
    propq: Option<&str>,
    key: &PKeyRef<Public>,
) -> Result<openssl::pkey_ctx::PkeyCtx<Public>, ErrorStack> {
    let propq = propq.map(c_string);
    // SAFETY: key is live (the new context takes its own reference); ctx NULL means the
    // default context; the returned EVP_PKEY_CTX is owned by the PkeyCtx below.
    let raw = unsafe { EVP_PKEY_CTX_new_from_pkey(libctx_ptr(ctx), key.as_ptr(), opt_ptr(&propq)) };
    if raw.is_null() {
        return Err(ErrorStack::get());
    }
    // SAFETY: raw is a fresh, owned EVP_PKEY_CTX.
    Ok(unsafe { openssl::pkey_ctx::PkeyCtx::from_ptr(raw) })
}

/// One-shot verification of a whole message, for schemes without a separate digest
/// (Ed25519), in `ctx`. Returns whether it verifies and the provider that checked it.
pub(crate) fn verify_message(
    ctx: Option<&LibCtxRef>,
    propq: Option<&str>,
    key: &PKeyRef<Public>,
    data: &[u8],
    signature: &[u8],
) -> Result<(bool, String), ErrorStack> {
    let mut md_ctx = MdCtx::new()?;
    let propq = propq.map(c_string);
    let mut pkey_ctx: *mut sys::EVP_PKEY_CTX = std::ptr::null_mut();
    // SAFETY: md_ctx is a fresh EVP_MD_CTX, key a live EVP_PKEY (up-referenced by the
    // call), strings NUL-terminated or NULL; pkey_ctx receives a pointer owned by md_ctx.
    let ok = unsafe {
        EVP_DigestVerifyInit_ex(
            md_ctx.as_ptr(),
            &mut pkey_ctx,
            std::ptr::null(),
            libctx_ptr(ctx),
            opt_ptr(&propq),
            key.as_ptr(),
            std::ptr::null(),
        )
    };
    if ok != 1 || pkey_ctx.is_null() {
        return Err(ErrorStack::get());
    }
    // SAFETY: pkey_ctx is live (owned by md_ctx); only its provider pointer is read.
    let provider = provider_name(unsafe { EVP_PKEY_CTX_get0_provider(pkey_ctx) });
    let valid = MdCtxRef::digest_verify(&mut md_ctx, data, signature).unwrap_or(false);
    // A wrong signature is an answer, not a failure: drop the queued reasons.
    let _ = ErrorStack::get();
    Ok((valid, provider))
}

/// Verifies a signature over an already computed digest, in `ctx`: RSA with the given
/// padding, or ECDSA when `rsa_padding` is None. Returns whether it verifies and the name
/// of the provider that checked it. Every failure leaves the thread's error queue empty.
pub(crate) fn verify_digest(
    ctx: Option<&LibCtxRef>,
    propq: Option<&str>,
    key: &PKeyRef<Public>,
    md: &openssl::md::MdRef,
    digest: &[u8],
    signature: &[u8],
    rsa_padding: Option<RsaPad>,
) -> Result<(bool, String), ErrorStack> {
    let mut pkey_ctx = pkey_ctx_in(ctx, propq, key)?;
    pkey_ctx.verify_init()?;
    match rsa_padding {
        Some(RsaPad::Pkcs1) => pkey_ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1)?,
        Some(RsaPad::Pss) => {
            pkey_ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS)?;
            pkey_ctx.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::custom(RSA_PSS_SALTLEN_AUTO))?;
        }
        Some(RsaPad::KeyDefault) | None => {}
    }
    pkey_ctx.set_signature_md(md)?;
    // SAFETY: pkey_ctx is live and initialised; only its provider pointer is read.
    let provider = provider_name(unsafe { EVP_PKEY_CTX_get0_provider(pkey_ctx.as_ptr()) });
    let valid = pkey_ctx.verify(digest, signature).unwrap_or(false);
    let _ = ErrorStack::get();
    Ok((valid, provider))
}

/// The RSA public-key operation on `signature` (signature^e mod n), in `ctx`: with
/// `pkcs1` the PKCS#1 v1.5 padding is checked and removed (what remains is the DER
/// DigestInfo), otherwise the raw encoded message comes back. Only used to find out which
/// digest a signature was made with; verification itself is [`verify_digest`].
pub(crate) fn rsa_recover(
    ctx: Option<&LibCtxRef>,
    propq: Option<&str>,
    key: &PKeyRef<Public>,
    signature: &[u8],
    pkcs1: bool,
) -> Result<Vec<u8>, ErrorStack> {
    let result = (|| {
        let mut pkey_ctx = pkey_ctx_in(ctx, propq, key)?;
        pkey_ctx.verify_recover_init()?;
        let padding = if pkcs1 { openssl::rsa::Padding::PKCS1 } else { openssl::rsa::Padding::NONE };
        pkey_ctx.set_rsa_padding(padding)?;
        let mut out = vec![0u8; pkey_ctx.verify_recover(signature, None)?];
        let len = pkey_ctx.verify_recover(signature, Some(&mut out))?;
        out.truncate(len);
        Ok(out)
    })();
    let _ = ErrorStack::get();
    result
}

/// The name of the provider that implements a fetched digest ("fips", "default").
pub(crate) fn md_provider(md: &openssl::md::MdRef) -> String {
    // SAFETY: md is a live fetched EVP_MD; only its provider pointer is read.
    provider_name(unsafe { EVP_MD_get0_provider(md.as_ptr()) })
}

/// Decodes a DER certificate so that its key belongs to `ctx`.
fn cert_from_der_in(ctx: Option<&LibCtxRef>, propq: &Option<CString>, der: &[u8]) -> Result<X509, ErrorStack> {
    let len = c_long::try_from(der.len()).map_err(|_| ErrorStack::get())?;
    // SAFETY: allocates an empty certificate bound to ctx (NULL ctx: the default one).
    let mut cert = unsafe { X509_new_ex(libctx_ptr(ctx), opt_ptr(propq)) };
    if cert.is_null() {
        return Err(ErrorStack::get());
    }
    let mut input = der.as_ptr();
    // SAFETY: decodes into the object `cert` points at; on failure OpenSSL frees it and
    // sets the pointer to NULL, which is checked below before anything else frees it.
    let decoded = unsafe { sys::d2i_X509(&mut cert, &mut input, len) };
    if decoded.is_null() {
        if !cert.is_null() {
            // SAFETY: still owned by us after a failed decode that did not free it.
            unsafe { sys::X509_free(cert) };
        }
        return Err(ErrorStack::get());
    }
    // SAFETY: decoded is the owned, fully decoded certificate.
    Ok(unsafe { X509::from_ptr(decoded) })
}

/// What became of one signer of a CMS/PKCS#7 SignedData in [`cms_verify_signers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignerCheck {
    /// Its signature verified under the trusted certificate with this index.
    Trusted(usize),
    /// Its signature verified under a certificate the message carries, which is not
    /// among the trusted ones.
    Untrusted,
    /// No certificate, trusted or carried, names this signer: its signature cannot be
    /// checked (the kernel skips such a signer with -ENOKEY).
    NoCertificate,
    /// A certificate names this signer, but the signature does not verify under it.
    Invalid,
}

/// Decodes a DER CMS/PKCS#7 object bound to `ctx`, or None when it is not one.
fn cms_from_der_in(
    ctx: Option<&LibCtxRef>,
    propq: &Option<CString>,
    der: &[u8],
) -> Result<(*mut sys::CMS_ContentInfo, bool), ErrorStack> {
    let len = c_long::try_from(der.len()).map_err(|_| ErrorStack::get())?;
    // SAFETY: allocates an empty CMS object bound to ctx.
    let mut cms = unsafe { CMS_ContentInfo_new_ex(libctx_ptr(ctx), opt_ptr(propq)) };
    if cms.is_null() {
        return Err(ErrorStack::get());
    }
    let mut input = der.as_ptr();
    // SAFETY: as for d2i_X509 above: decode in place; on failure OpenSSL frees and NULLs.
    let decoded = unsafe { sys::d2i_CMS_ContentInfo(&mut cms, &mut input, len) };
    if decoded.is_null() {
        if !cms.is_null() {
            // SAFETY: still owned by us.
            unsafe { sys::CMS_ContentInfo_free(cms) };
        }
        return Err(ErrorStack::get());
    }
    Ok((decoded, input != der.as_ptr_range().end))
}

/// Checks every signer of a detached DER CMS/PKCS#7 SignedData over `content`, the way
/// the kernel checks dm-verity root-hash signatures (`pkcs7_verify` then
/// `pkcs7_validate_trust`): each signer's certificate is looked up among `trusted` (DER
/// certificates, preferred) and then among the certificates the message carries, and its
/// signature is checked under it. No chain building, no validity periods. Digests and
/// signatures run in `ctx`.
///
/// None: the message is well-formed DER but not a detached signature over id-data, or
/// bytes follow it (the kernel refuses the first two, and a tail would make the signature
/// file malleable).
pub(crate) fn cms_verify_signers(
    ctx: Option<&LibCtxRef>,
    propq: Option<&str>,
    signature_der: &[u8],
    trusted: &[&[u8]],
    content: &[u8],
) -> Result<Option<Vec<SignerCheck>>, ErrorStack> {
    let propq = propq.map(c_string);
    let trusted: Vec<X509> = trusted.iter().map(|der| cert_from_der_in(ctx, &propq, der)).collect::<Result<_, _>>()?;
    let content_len = c_int::try_from(content.len()).map_err(|_| ErrorStack::get())?;
    let (cms, trailing) = cms_from_der_in(ctx, &propq, signature_der)?;
    // From here on `cms` is owned by this function and freed exactly once, at the end.
    let result = (|| {
        // The kernel refuses a signature that carries its own content ("Data already
        // supplied") and content types other than id-data.
        // SAFETY: cms is live; the calls only read it, and the content-type object they
        // return is borrowed from it, not freed.
        let (detached, data_type) = unsafe { (CMS_is_detached(cms), sys::OBJ_obj2nid(CMS_get0_eContentType(cms))) };
        if detached != 1 || data_type != sys::NID_pkcs7_data || trailing {
            return Ok(None);
        }
        // SAFETY: cms is live; the stack is owned by it and only read here.
        let infos = unsafe { CMS_get0_SignerInfos(cms) };
        if infos.is_null() {
            return Ok(Some(Vec::new()));
        }
        // SAFETY: cms is live; CMS_get1_certs returns a new stack (or NULL) holding its
        // own references on the certificates, owned and freed by the Stack below.
        let carried_ptr = unsafe { CMS_get1_certs(cms) };
        let carried: Option<Stack<X509>> = if carried_ptr.is_null() {
            let _ = ErrorStack::get();
            None
        } else {
            // SAFETY: a fresh, owned stack of owned certificates.
            Some(unsafe { Stack::from_ptr(carried_ptr) })
        };
        // SAFETY: content is readable for content_len bytes and outlives the BIO, which
        // is read-only and freed (as the end of the chain) below.
        let content_bio = unsafe { sys::BIO_new_mem_buf(content.as_ptr().cast(), content_len) };
        if content_bio.is_null() {
            return Err(ErrorStack::get());
        }
        // SAFETY: cms is live and content_bio a fresh BIO. The returned chain holds one
        // digest BIO per signer digest in front of content_bio; it is freed below.
        let chain = unsafe { CMS_dataInit(cms, content_bio) };
        if chain.is_null() {
            // SAFETY: not taken over by a chain: ours to free.
            unsafe { sys::BIO_free_all(content_bio) };
            return Err(ErrorStack::get());
        }
        let mut buf = [0u8; 256];
        loop {
            // SAFETY: chain is live; buf is writable for its length.
            let n = unsafe { sys::BIO_read(chain, buf.as_mut_ptr().cast(), buf.len() as c_int) };
            if n <= 0 {
                break;
            }
        }
        // SAFETY: infos is a live stack owned by cms.
        let count = unsafe { sys::OPENSSL_sk_num(infos.cast_const()) };
        let mut checks = Vec::new();
        for i in 0..count {
            // SAFETY: i is in range; the signer info is owned by cms.
            let si = unsafe { sys::OPENSSL_sk_value(infos.cast_const(), i) };
            // Trusted certificates first, so a carried copy with the same issuer and
            // serial but another key never stands in for a trusted one.
            let candidates = trusted
                .iter()
                .enumerate()
                .map(|(index, cert)| (Some(index), &**cert))
                .chain(carried.iter().flat_map(|stack| stack.iter()).map(|cert| (None, cert)));
            let mut check = SignerCheck::NoCertificate;
            for (index, cert) in candidates {
                // SAFETY: si and cert are live; the call only compares identifiers.
                if unsafe { CMS_SignerInfo_cert_cmp(si, cert.as_ptr()) } != 0 {
                    continue;
                }
                // SAFETY: si and cert are live; set1 takes its own reference on the
                // certificate (and its key). The verify calls read the signer info,
                // and the chain after it was read to the end (they copy its digests).
                let valid = unsafe {
                    CMS_SignerInfo_set1_signer_cert(si, cert.as_ptr());
                    let attributes_ok = CMS_signed_get_attr_count(si) < 0 || CMS_SignerInfo_verify(si) == 1;
                    attributes_ok && CMS_SignerInfo_verify_content(si, chain) == 1
                };
                if valid {
                    check = index.map_or(SignerCheck::Untrusted, SignerCheck::Trusted);
                    break;
                }
                check = SignerCheck::Invalid;
            }
            checks.push(check);
        }
        // Frees the digest BIOs and then content_bio, the end of the chain.
        let mut bio = chain;
        while !bio.is_null() {
            // SAFETY: bio is the live head of what is left of the chain; BIO_pop
            // unlinks it and returns the rest, then it is freed once.
            unsafe {
                let next = BIO_pop(bio);
                BIO_free(bio);
                bio = next;
            }
        }
        Ok(Some(checks))
    })();
    // SAFETY: cms is owned by this function and freed once; the signer infos hold their
    // own references on the certificates set into them.
    unsafe { sys::CMS_ContentInfo_free(cms) };
    let _ = ErrorStack::get();
    result
}

/// The digest algorithm (as a NID) of every signer of a DER CMS/PKCS#7 SignedData. Only
/// parses; no cryptography runs, so no library context is involved.
pub(crate) fn cms_signer_digests(signature_der: &[u8]) -> Result<Vec<c_int>, ErrorStack> {
    let cms = openssl::cms::CmsContentInfo::from_der(signature_der)?;
    // SAFETY: cms is live; the stack and its entries are owned by it and only read here.
    let infos = unsafe { CMS_get0_SignerInfos(cms.as_ptr()) };
    if infos.is_null() {
        let _ = ErrorStack::get();
        return Ok(Vec::new());
    }
    // SAFETY: infos is a live stack owned by cms.
    let count = unsafe { sys::OPENSSL_sk_num(infos) };
    let mut nids = Vec::new();
    for i in 0..count {
        let mut digest: *mut sys::X509_ALGOR = std::ptr::null_mut();
        // SAFETY: i is in range; every out-pointer but the digest one is NULL, which the
        // call allows; the returned algorithm is owned by the signer info.
        unsafe {
            let info = sys::OPENSSL_sk_value(infos, i);
            CMS_SignerInfo_get0_algs(
                info,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut digest,
                std::ptr::null_mut(),
            );
        }
        if digest.is_null() {
            nids.push(0);
            continue;
        }
        let mut object: *const sys::ASN1_OBJECT = std::ptr::null();
        // SAFETY: digest is live (owned by cms); only the object pointer is requested.
        let nid = unsafe {
            sys::X509_ALGOR_get0(&mut object, std::ptr::null_mut(), std::ptr::null_mut(), digest);
            if object.is_null() { 0 } else { sys::OBJ_obj2nid(object) }
        };
        nids.push(nid);
    }
    Ok(nids)
}

#[cfg(test)]
mod tests {
    use super::join_distinct;

    /// Issue 15 item 14: each distinct entry once, in order of first appearance, with a count.
    #[test]
    fn repeated_errors_are_named_once_with_a_count() {
        let entries = ["a", "b", "a", "c", "a", "b"].map(String::from);
        assert_eq!(join_distinct(entries), "a (3 times), b (2 times), c");
        assert_eq!(join_distinct(["only".to_string()]), "only");
        assert_eq!(join_distinct(Vec::<String>::new()), "");
    }
}

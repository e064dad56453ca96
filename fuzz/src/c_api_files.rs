//! The C entry points the `c_api` sequences reach through kind 14: those that take file
//! paths, the payload checks (file and buffer), the FIPS context constructor, and the
//! process-wide hashing switches, which every input resets when it ends.
//!
//! Every path lies inside one scratch directory of this process, so no input can reach
//! a real disk: a file holding input bytes, a missing file, the directory itself, or a
//! name from the input (never containing '/', always prefixed, so never "." or "..").
//! The invariants are those of `c_api` (no panic, failed calls leave out-params alone
//! and set a message), plus: a file given as data or disk never changes size, and
//! verity format never writes its data file.

use super::c_api::{Out, Session, after_call, patched_hash_device, reserved, root_hash, verity_params, version};
use super::input::Input;
use super::verity_verify;
use rootseal::ffi::engine::*;
use rootseal::ffi::gpt::*;
use rootseal::ffi::hash::*;
use rootseal::ffi::sig::*;
use rootseal::ffi::status::rootseal_status;
use rootseal::ffi::verity::*;
use rootseal::ffi::version::{rootseal_abi_version, rootseal_version};
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

/// This process's scratch directory, made when first needed after each input's cleanup.
fn scratch() -> &'static Path {
    let dir = SCRATCH.get_or_init(|| std::env::temp_dir().join(format!("rootseal-fuzz-c-api-{}", std::process::id())));
    std::fs::create_dir_all(dir).expect("a scratch directory");
    dir
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("scratch paths have no NUL")
}

/// A path argument: NULL, or a path inside the scratch directory. `file` names the file
/// that holds `contents` when the input picks it.
fn path_arg(input: &mut Input, file: &str, contents: &[u8]) -> Option<CString> {
    let path = match input.byte() % 6 {
        0 => return None,
        1 => scratch().join("missing"),
        2 => scratch().to_path_buf(),
        3 => {
            let name: Vec<u8> =
                input.short_slice().iter().map(|&b| if b == b'/' || b == 0 { b'_' } else { b }).collect();
            scratch().join(OsStr::from_bytes(&[b"f-".as_slice(), &name].concat()))
        }
        _ => {
            let path = scratch().join(file);
            std::fs::write(&path, contents).expect("scratch file written");
            path
        }
    };
    Some(c_path(&path))
}

fn ptr_of(path: &Option<CString>) -> *const std::ffi::c_char {
    path.as_ref().map_or(ptr::null(), |p| p.as_ptr())
}

/// File sizes before a call, to show afterwards that no data file or disk grew or shrank.
fn size_of_file(path: &Option<CString>) -> Option<u64> {
    let path = path.as_ref()?;
    std::fs::metadata(OsStr::from_bytes(path.to_bytes())).ok().filter(|m| m.is_file()).map(|m| m.len())
}

fn sig_params(input: &mut Input) -> rootseal_sig_params {
    rootseal_sig_params {
        version: version(input, ROOTSEAL_SIG_PARAMS_VERSION),
        policy: u32::from(input.byte() % 3),
        digest: u32::from(input.byte() % 7),
        padding: u32::from(input.byte() % 4),
        reserved: [reserved(input), 0, 0, 0],
    }
}

fn omaha_check(input: &mut Input) -> rootseal_omaha_check {
    let mut sha256 = [0u8; 32];
    sha256[..8].copy_from_slice(&input.u64().to_le_bytes());
    rootseal_omaha_check {
        version: version(input, ROOTSEAL_OMAHA_CHECK_VERSION),
        flags: u32::from(input.byte() % 8),
        size: if input.byte() & 1 != 0 { input.u64() } else { u64::from(input.u16()) },
        sha256,
        reserved: [reserved(input), 0, 0, 0],
    }
}

/// Undoes `rootseal_hash_backend_force` and `rootseal_verity_use_fips` and removes the
/// scratch files, so one input never changes how the next one runs.
pub(super) fn reset_process_state() {
    if let Some(dir) = SCRATCH.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
    assert_eq!(rootseal_hash_backend_force(ROOTSEAL_HASH_BACKEND_AUTO), rootseal_status::Ok);
    // SAFETY: NULL leaves FIPS mode.
    assert_eq!(unsafe { rootseal_verity_use_fips(ptr::null()) }, rootseal_status::Ok);
}

pub(super) fn step(session: &mut Session, input: &mut Input, kind: u8, disk: &[u8]) {
    match input.byte() % 7 {
        0 => gpt_open_path(session, input, kind, disk),
        1 => {
            let key = file_contents(input);
            let path = path_arg(input, "key", key);
            let store = if kind & 0x80 != 0 { ptr::null_mut() } else { session.store };
            // SAFETY: NULL or the live store; NULL or a NUL-terminated path.
            let status = unsafe { rootseal_trust_store_add_key_file(store, ptr_of(&path)) };
            after_call("rootseal_trust_store_add_key_file", status, true);
            // SAFETY: NULL or the live store.
            let len = unsafe { rootseal_trust_store_len(store) };
            assert!(store.is_null() || len > 0 || status != rootseal_status::Ok, "a key file added no key");
        }
        2 => sig_file(session, input),
        3 => payload(session, input),
        4 => verity_paths(input, kind),
        5 => fips(session, input),
        _ => {
            let backend = if input.byte() & 1 != 0 { input.u32() } else { u32::from(input.byte() % 6) };
            let mut available = Out::<bool>::new();
            let out_ptr = if kind & 0x40 != 0 { ptr::null_mut() } else { available.ptr() };
            // SAFETY: NULL or a writable bool.
            let status = unsafe { rootseal_hash_backend_available(backend, out_ptr) };
            after_call("rootseal_hash_backend_available", status, available.untouched());
            let status = rootseal_hash_backend_force(backend);
            after_call("rootseal_hash_backend_force", status, true);
            // SAFETY: a static NUL-terminated string.
            let version_text = unsafe { CStr::from_ptr(rootseal_version()) };
            assert!(!version_text.to_bytes().is_empty());
            assert_eq!(rootseal_abi_version(), rootseal::ffi::version::ROOTSEAL_ABI_VERSION);
        }
    }
}

/// Bytes for a file: a few hundred, sometimes up to 64 KiB.
fn file_contents<'a>(input: &mut Input<'a>) -> &'a [u8] {
    let len = input.u16();
    input.take(usize::from(if len & 1 != 0 { len } else { len % 512 }))
}

fn gpt_open_path(session: &mut Session, input: &mut Input, kind: u8, disk: &[u8]) {
    // SAFETY: NULL or a live handle, replaced below.
    unsafe { rootseal_gpt_close(session.gpt) };
    session.gpt = ptr::null_mut();
    session.gpt_device = None;
    let path = path_arg(input, "disk.img", disk);
    let flags = input.byte();
    let params = rootseal_gpt_open_params {
        version: version(input, ROOTSEAL_GPT_OPEN_PARAMS_VERSION),
        block_size: [0, 512, 4096, 1024][usize::from(flags & 3)],
        flags: u32::from(flags >> 2 & 3),
        reserved0: reserved(input) as u32,
        reserved: [reserved(input), 0, 0, 0],
    };
    let params_ptr = if kind & 0x40 != 0 { ptr::null() } else { &params as *const _ };
    let mut out = Out::<*mut rootseal_gpt>::new();
    // SAFETY: NULL or NUL-terminated path; NULL or live params; a writable out.
    let status = unsafe { rootseal_gpt_open_path(ptr_of(&path), params_ptr, out.ptr()) };
    after_call("rootseal_gpt_open_path", status, out.untouched());
    if status == rootseal_status::Ok {
        // SAFETY: written on success; later steps drive the file-backed handle.
        session.gpt = unsafe { out.0.assume_init() };
    }
}

fn sig_file(session: &Session, input: &mut Input) {
    let params = sig_params(input);
    let data = file_contents(input);
    let path = path_arg(input, "signed", data);
    let signature_len = usize::from(input.u16() % 1024);
    let signature = input.take(signature_len);
    let mut out = Out::<rootseal_sig_result>::new();
    // SAFETY: the live store and params; NULL or a NUL-terminated path; a valid slice.
    let status = unsafe {
        rootseal_sig_verify_file(session.store, &params, ptr_of(&path), signature.as_ptr(), signature.len(), out.ptr())
    };
    after_call("rootseal_sig_verify_file", status, out.untouched());
}

/// A CrAU payload check, from a file or from memory, with or without Omaha's figures.
fn payload(session: &Session, input: &mut Input) {
    let flags = input.byte();
    let params = sig_params(input);
    let omaha = omaha_check(input);
    let omaha_ptr = if flags & 1 != 0 { ptr::null() } else { &omaha as *const _ };
    let bytes = file_contents(input);
    let mut out = Out::<rootseal_sig_result>::new();
    let (name, status) = if flags & 2 != 0 {
        let path = path_arg(input, "payload", bytes);
        // SAFETY: the live store and params; NULL or a NUL-terminated path; NULL or live omaha.
        let status =
            unsafe { rootseal_sig_verify_payload(session.store, &params, ptr_of(&path), omaha_ptr, out.ptr()) };
        ("rootseal_sig_verify_payload", status)
    } else {
        let bytes_ptr = if flags & 4 != 0 { ptr::null() } else { bytes.as_ptr() };
        // SAFETY: the live store and params; NULL or `bytes`; NULL or live omaha.
        let status = unsafe {
            rootseal_sig_verify_payload_buffer(session.store, &params, bytes_ptr, bytes.len(), omaha_ptr, out.ptr())
        };
        ("rootseal_sig_verify_payload_buffer", status)
    };
    after_call(name, status, out.untouched());
}

/// verity format and verify by path: the fixed data image (or input bytes) as the data
/// file, a patched hash device as the hash file.
fn verity_paths(input: &mut Input, kind: u8) {
    // Bit 0: input bytes as data; bit 1: format, not verify; bit 2: the second geometry.
    let flags = input.byte();
    let geometry = &verity_verify::geometries()[usize::from(flags & 4 != 0)];
    let salt = input.short_slice().to_vec();
    let params = verity_params(input, kind, &salt);
    let data_bytes = if flags & 1 != 0 { file_contents(input) } else { verity_verify::data() };
    let data_path = path_arg(input, "data", data_bytes);
    let hash_bytes = patched_hash_device(input, geometry);
    let hash_path = path_arg(input, "hash", &hash_bytes);
    let data_size = size_of_file(&data_path);
    if flags & 2 == 0 {
        let root = root_hash(input, kind, geometry);
        let mut out = Out::<*mut rootseal_verity_report>::new();
        // SAFETY: live params; NULL or NUL-terminated paths; root valid for its length.
        let status = unsafe {
            rootseal_verity_verify(
                &params,
                ptr_of(&data_path),
                ptr_of(&hash_path),
                root.as_ptr(),
                root.len(),
                out.ptr(),
            )
        };
        super::c_api::check_report("rootseal_verity_verify", status, out);
    } else {
        let mut out = Out::<rootseal_verity_result>::new();
        // SAFETY: live params; NULL or NUL-terminated paths; a writable out.
        let status = unsafe { rootseal_verity_format(&params, ptr_of(&data_path), ptr_of(&hash_path), out.ptr()) };
        after_call("rootseal_verity_format", status, out.untouched());
    }
    // The data and hash paths may name the same file; only a distinct data file is fixed.
    if data_path != hash_path {
        assert_eq!(size_of_file(&data_path), data_size, "verity changed the data file's size");
    }
}

/// The FIPS context constructor with a config file that is missing, made of input bytes,
/// or (when `ROOTSEAL_FIPS_CONFIG` names one) real; a context that loads may replace the
/// session's, with a new store, and may put verity hashing into FIPS mode.
fn fips(session: &mut Session, input: &mut Input) {
    let flags = input.byte();
    let contents = file_contents(input);
    let file = path_arg(input, "openssl.cnf", contents);
    let config = match std::env::var_os("ROOTSEAL_FIPS_CONFIG") {
        Some(real) if flags & 1 != 0 => Some(c_path(Path::new(&real))),
        _ => file,
    };
    let mut out = Out::<*mut rootseal_sig_context>::new();
    let out_ptr = if flags & 2 != 0 { ptr::null_mut() } else { out.ptr() };
    // SAFETY: NULL or a NUL-terminated path; NULL or a writable out.
    let status = unsafe { rootseal_sig_context_new_fips(ptr_of(&config), out_ptr) };
    after_call("rootseal_sig_context_new_fips", status, out.untouched());
    let context = if status == rootseal_status::Ok {
        // SAFETY: written on success.
        unsafe { out.0.assume_init() }
    } else {
        session.context
    };
    let mut fips_status = Out::<rootseal_fips_status>::new();
    let status_ptr = if flags & 4 != 0 { ptr::null_mut() } else { fips_status.ptr() };
    // SAFETY: NULL or a live context; NULL or a writable out.
    let status = unsafe { rootseal_sig_fips_status(context, status_ptr) };
    after_call("rootseal_sig_fips_status", status, fips_status.untouched());
    if flags & 8 != 0 {
        // SAFETY: a live context (the library keeps its own reference).
        let status = unsafe { rootseal_verity_use_fips(context) };
        after_call("rootseal_verity_use_fips", status, true);
    }
    if context == session.context {
        return;
    }
    if flags & 16 == 0 {
        // SAFETY: the new context, not used again.
        unsafe { rootseal_sig_context_free(context) };
        return;
    }
    let mut store = Out::<*mut rootseal_trust_store>::new();
    // SAFETY: a live context and a writable out.
    let status = unsafe { rootseal_trust_store_new(context, store.ptr()) };
    after_call("rootseal_trust_store_new", status, store.untouched());
    assert_eq!(status, rootseal_status::Ok, "a store on a FIPS context");
    // SAFETY: the old store and context are replaced and not used again; the new ones
    // go to the session, which frees them.
    unsafe {
        rootseal_trust_store_free(session.store);
        rootseal_sig_context_free(session.context);
        session.store = store.0.assume_init();
    }
    session.context = context;
}

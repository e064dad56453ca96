//! The C entry points that choose the hashing backend and FIPS mode: the process default
//! of the calls without an engine (`rootseal_hash_backend_force`,
//! `rootseal_verity_use_fips`), and per-call engines that the default never touches.

#[path = "common/memory_io.rs"]
mod memory_io;
mod sig_support;

use memory_io::MemoryIo;

use rootseal::ffi::engine::*;
use rootseal::ffi::hash::*;
use rootseal::ffi::sig::{rootseal_sig_context_free, rootseal_sig_context_new, rootseal_sig_context_new_fips};
use rootseal::ffi::status::rootseal_status;
use rootseal::ffi::verity::*;
use rootseal::verity::{self, HashBackend};
use std::ptr;

const NUMBERS: [(u32, HashBackend); 4] = [
    (ROOTSEAL_HASH_BACKEND_AVX512, HashBackend::Avx512),
    (ROOTSEAL_HASH_BACKEND_SHANI, HashBackend::ShaNi),
    (ROOTSEAL_HASH_BACKEND_PORTABLE, HashBackend::Portable),
    (ROOTSEAL_HASH_BACKEND_OPENSSL, HashBackend::OpenSsl),
];

fn available(number: u32) -> bool {
    let mut out = false;
    // SAFETY: `out` is a valid bool.
    assert_eq!(unsafe { rootseal_hash_backend_available(number, &mut out) }, rootseal_status::Ok);
    out
}

fn default_backend() -> Option<HashBackend> {
    default_hashing().unwrap().backend
}

fn default_provider() -> Option<String> {
    let hashing = default_hashing().unwrap();
    let hasher = verity::SaltedMultiHasher::new(verity::HashAlgorithm::Sha256, b"", &hashing).unwrap();
    hasher.provider().map(str::to_string)
}

/// The process default is one state, so its two checks run in this one test, in order.
#[test]
fn the_process_default_through_the_c_setters() {
    forcing_through_the_c_abi();
    fips_mode_through_the_c_abi();
}

fn forcing_through_the_c_abi() {
    assert!(available(ROOTSEAL_HASH_BACKEND_AUTO));
    for (number, backend) in NUMBERS {
        assert_eq!(available(number), backend.is_available(), "{backend}");
        let status = rootseal_hash_backend_force(number);
        if backend.is_available() {
            assert_eq!(status, rootseal_status::Ok);
            assert_eq!(default_backend(), Some(backend));
        } else {
            assert_eq!(status, rootseal_status::VerityHashBackendUnavailable);
        }
    }
    assert_eq!(rootseal_hash_backend_force(ROOTSEAL_HASH_BACKEND_PORTABLE), rootseal_status::Ok);
    // An unknown number is refused and leaves the forced backend alone.
    assert_eq!(rootseal_hash_backend_force(99), rootseal_status::InvalidArgument);
    assert_eq!(default_backend(), Some(HashBackend::Portable));
    let mut out = true;
    // SAFETY: `out` is a valid bool.
    assert_eq!(unsafe { rootseal_hash_backend_available(99, &mut out) }, rootseal_status::InvalidArgument);
    assert!(out, "out-param untouched on failure");
    // SAFETY: NULL is allowed and refused.
    assert_eq!(
        unsafe { rootseal_hash_backend_available(ROOTSEAL_HASH_BACKEND_AUTO, ptr::null_mut()) },
        rootseal_status::NullParameter
    );
    assert_eq!(rootseal_hash_backend_force(ROOTSEAL_HASH_BACKEND_AUTO), rootseal_status::Ok);
    if std::env::var_os(verity::HASH_BACKEND_ENV).is_none() {
        assert_eq!(default_backend(), None);
    }
}

/// FIPS mode through the C ABI: a default context is refused and changes nothing; a
/// FIPS context turns it on and outlives the caller's handle; NULL turns it off.
fn fips_mode_through_the_c_abi() {
    let config = std::ffi::CString::new(sig_support::fips_config().to_str().unwrap()).unwrap();
    // SAFETY: contexts come from the constructors and are freed once each.
    unsafe {
        let (mut plain, mut fips) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(rootseal_sig_context_new(&mut plain), rootseal_status::Ok);
        assert_eq!(rootseal_sig_context_new_fips(config.as_ptr(), &mut fips), rootseal_status::Ok);
        assert_eq!(rootseal_verity_use_fips(plain), rootseal_status::InvalidArgument);
        assert!(default_hashing().unwrap().fips.is_none());
        assert_eq!(rootseal_verity_use_fips(fips), rootseal_status::Ok);
        rootseal_sig_context_free(fips);
        rootseal_sig_context_free(plain);
        assert_eq!(default_provider().as_deref(), Some("fips"), "the library kept its own reference");
        assert_eq!(rootseal_verity_use_fips(ptr::null()), rootseal_status::Ok);
        assert!(default_hashing().unwrap().fips.is_none());
        if std::env::var_os(verity::HASH_BACKEND_ENV).is_none() {
            assert_eq!(default_provider(), None);
        }
    }
}

/// Formats 16 blocks through callbacks over memory with `engine` and returns the root
/// hash; NULL uses the process default.
fn format_in_memory(engine: *const rootseal_verity_engine) -> (rootseal_status, Vec<u8>) {
    let data = MemoryIo::new(vec![0x42; 16 * 4096]);
    let hash = MemoryIo::new(vec![0; 2 * 4096]);
    // SAFETY: zeroed params are valid C params once the version is set.
    let mut params: rootseal_verity_params = unsafe { std::mem::zeroed() };
    params.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    params.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK | ROOTSEAL_VERITY_NO_SALT;
    // SAFETY: zeroed plain data.
    let mut result: rootseal_verity_result = unsafe { std::mem::zeroed() };
    // SAFETY: every pointer is valid for the call, and the devices outlive it.
    let status =
        unsafe { rootseal_verity_engine_format_io(engine, &params, &data.as_io(), &hash.as_io(), &mut result) };
    (status, result.root_hash[..result.root_hash_size as usize].to_vec())
}

/// Engines carry their own backend and FIPS mode; the process default neither changes
/// them nor is changed by them.
#[test]
fn engines_are_independent_of_each_other_and_of_the_process_default() {
    let config = std::ffi::CString::new(sig_support::fips_config().to_str().unwrap()).unwrap();
    // SAFETY: every handle comes from its constructor and is freed once.
    unsafe {
        let (mut plain, mut fips_engine, mut fips) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        assert_eq!(rootseal_verity_engine_new(&mut plain), rootseal_status::Ok);
        assert_eq!(rootseal_verity_engine_new(&mut fips_engine), rootseal_status::Ok);
        assert_eq!(rootseal_sig_context_new_fips(config.as_ptr(), &mut fips), rootseal_status::Ok);
        assert_eq!(rootseal_verity_engine_use_fips(fips_engine, fips), rootseal_status::Ok);
        rootseal_sig_context_free(fips);
        assert_eq!(rootseal_verity_engine_set_backend(plain, ROOTSEAL_HASH_BACKEND_PORTABLE), rootseal_status::Ok);
        assert_eq!((*plain).hashing().backend, Some(HashBackend::Portable));
        assert!((*plain).hashing().fips.is_none(), "one engine's FIPS mode is its own");
        assert!((*fips_engine).hashing().fips.is_some());
        assert_eq!(rootseal_verity_engine_set_backend(plain, 99), rootseal_status::InvalidArgument);
        assert_eq!(rootseal_verity_engine_set_backend(ptr::null(), 0), rootseal_status::NullParameter);
        assert_eq!(rootseal_verity_engine_use_fips(ptr::null(), ptr::null()), rootseal_status::NullParameter);

        // All three hash the same tree, whoever computes the digests.
        let (status, plain_root) = format_in_memory(plain);
        assert_eq!(status, rootseal_status::Ok);
        let (status, fips_root) = format_in_memory(fips_engine);
        assert_eq!(status, rootseal_status::Ok);
        assert_eq!(plain_root, fips_root);
        assert_eq!(plain_root.len(), 32);

        rootseal_verity_engine_free(plain);
        rootseal_verity_engine_free(fips_engine);
        rootseal_verity_engine_free(ptr::null_mut());
        let mut unused: *mut rootseal_verity_engine = ptr::null_mut();
        assert_eq!(rootseal_verity_engine_new(ptr::null_mut()), rootseal_status::NullParameter);
        assert!(unused.is_null());
        assert_eq!(rootseal_verity_engine_new(&mut unused), rootseal_status::Ok);
        rootseal_verity_engine_free(unused);
    }
}

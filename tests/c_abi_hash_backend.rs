//! The C entry points that force a hashing backend. A separate test binary, because
//! forcing is process-wide and would race with tests that rely on the automatic choice.

mod sig_support;

use rootseal::ffi::hash::*;
use rootseal::ffi::sig::{rootseal_sig_context_free, rootseal_sig_context_new, rootseal_sig_context_new_fips};
use rootseal::ffi::status::rootseal_status;
use rootseal::verity::{self, HashBackend};

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

#[test]
fn forcing_through_the_c_abi() {
    assert!(available(ROOTSEAL_HASH_BACKEND_AUTO));
    for (number, backend) in NUMBERS {
        assert_eq!(available(number), backend.is_available(), "{backend}");
        let status = rootseal_hash_backend_force(number);
        if backend.is_available() {
            assert_eq!(status, rootseal_status::Ok);
            assert_eq!(verity::forced_hash_backend().unwrap(), Some(backend));
        } else {
            assert_eq!(status, rootseal_status::VerityHashBackendUnavailable);
        }
    }
    assert_eq!(rootseal_hash_backend_force(ROOTSEAL_HASH_BACKEND_PORTABLE), rootseal_status::Ok);
    // An unknown number is refused and leaves the forced backend alone.
    assert_eq!(rootseal_hash_backend_force(99), rootseal_status::InvalidArgument);
    assert_eq!(verity::forced_hash_backend().unwrap(), Some(HashBackend::Portable));
    let mut out = true;
    // SAFETY: `out` is a valid bool.
    assert_eq!(unsafe { rootseal_hash_backend_available(99, &mut out) }, rootseal_status::InvalidArgument);
    assert!(out, "out-param untouched on failure");
    // SAFETY: NULL is allowed and refused.
    assert_eq!(
        unsafe { rootseal_hash_backend_available(ROOTSEAL_HASH_BACKEND_AUTO, std::ptr::null_mut()) },
        rootseal_status::NullParameter
    );
    assert_eq!(rootseal_hash_backend_force(ROOTSEAL_HASH_BACKEND_AUTO), rootseal_status::Ok);
    if std::env::var_os(verity::HASH_BACKEND_ENV).is_none() {
        assert_eq!(verity::forced_hash_backend().unwrap(), None);
    }
}

/// FIPS mode through the C ABI: a default context is refused and changes nothing; a
/// FIPS context turns it on and outlives the caller's handle; NULL turns it off.
#[test]
fn fips_mode_through_the_c_abi() {
    let config = std::ffi::CString::new(sig_support::fips_config().to_str().unwrap()).unwrap();
    let hasher = || verity::SaltedMultiHasher::new(verity::HashAlgorithm::Sha256, b"").unwrap();
    // SAFETY: contexts come from the constructors and are freed once each.
    unsafe {
        let (mut plain, mut fips) = (std::ptr::null_mut(), std::ptr::null_mut());
        assert_eq!(rootseal_sig_context_new(&mut plain), rootseal_status::Ok);
        assert_eq!(rootseal_sig_context_new_fips(config.as_ptr(), &mut fips), rootseal_status::Ok);
        assert_eq!(rootseal_verity_use_fips(plain), rootseal_status::InvalidArgument);
        assert!(verity::fips_provider().is_none());
        assert_eq!(rootseal_verity_use_fips(fips), rootseal_status::Ok);
        rootseal_sig_context_free(fips);
        rootseal_sig_context_free(plain);
        assert_eq!(hasher().provider(), Some("fips"), "the library kept its own reference");
        assert_eq!(rootseal_verity_use_fips(std::ptr::null()), rootseal_status::Ok);
        assert!(verity::fips_provider().is_none());
        assert_eq!(hasher().provider(), None);
    }
}

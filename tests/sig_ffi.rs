//! The signature part of the C ABI contract from Rust: pinned status numbers with
//! descriptions, and NULL handling of the constructors.

use rootseal::ffi::sig::*;
use rootseal::ffi::status::{rootseal_status as S, rootseal_strerror};
use std::ffi::CStr;

/// Renumbering a status breaks every C caller compiled against an older header.
#[test]
fn signature_status_numbers_are_pinned() {
    let pinned = [
        (S::SigInvalid, 300),
        (S::SigPolicyRefused, 301),
        (S::SigEmptyTrustStore, 302),
        (S::SigInvalidKey, 303),
        (S::SigMalformedSignature, 304),
        (S::SigFipsUnavailable, 305),
        (S::SigInvalidPayload, 306),
        (S::SigPayloadMismatch, 307),
        (S::SigCryptoFailure, 308),
        (S::SigFileChanged, 309),
    ];
    let mut texts = std::collections::HashSet::new();
    for (status, number) in pinned {
        assert_eq!(status as i32, number, "{status:?}");
        // SAFETY: strerror returns a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(rootseal_strerror(number)) }.to_str().unwrap();
        assert!(text.starts_with("signature: "), "{status:?}: {text:?}");
        assert!(texts.insert(text), "{status:?} shares its description");
    }
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(rootseal_strerror(310)) };
    assert_eq!(unknown.to_str().unwrap(), "unknown status");
}

#[test]
fn constructors_check_their_pointers_and_free_accepts_null() {
    // SAFETY: NULL out-params are the case under test; the library checks them.
    unsafe {
        assert_eq!(rootseal_sig_context_new(std::ptr::null_mut()), S::NullParameter);
        assert_eq!(rootseal_sig_context_new_fips(std::ptr::null(), std::ptr::null_mut()), S::NullParameter);
        let mut store = std::ptr::null_mut();
        assert_eq!(rootseal_trust_store_new(std::ptr::null(), &mut store), S::NullParameter);
        assert!(store.is_null(), "out-param written on failure");
        let mut ctx = std::ptr::null_mut();
        assert_eq!(rootseal_sig_context_new(&mut ctx), S::Ok);
        assert_eq!(rootseal_trust_store_new(ctx, &mut store), S::Ok);
        assert_eq!(rootseal_trust_store_add_key(store, std::ptr::null(), 5), S::NullParameter);
        assert_eq!(rootseal_trust_store_add_key(store, b"".as_ptr(), 0), S::SigInvalidKey);
        assert_eq!(rootseal_trust_store_len(store), 0);
        rootseal_trust_store_free(store);
        rootseal_sig_context_free(ctx);
        rootseal_trust_store_free(std::ptr::null_mut());
        rootseal_sig_context_free(std::ptr::null_mut());
    }
}

//! The signature part of the C ABI contract from Rust: NULL handling of the
//! constructors. (The status numbers are pinned in contract.rs.)

use rootseal::ffi::sig::*;
use rootseal::ffi::status::rootseal_status as S;

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

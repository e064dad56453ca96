//! PEM/DER key and certificate loading: the trust store's parser, and the private-key
//! and certificate parsing of root-hash signing.
//!
//! Input: byte 0 bit 0 picks the trust store (the rest is a key file) or signing (the
//! rest is split at a u16 into certificate and private key).

use super::input::Input;
use rootseal::crypto::CryptoContext;
use rootseal::sig::{Policy, TrustStore, sign_root_hash};
use std::sync::{Arc, OnceLock};

fn context() -> Arc<CryptoContext> {
    static CONTEXT: OnceLock<Arc<CryptoContext>> = OnceLock::new();
    CONTEXT.get_or_init(|| Arc::new(CryptoContext::default_provider())).clone()
}

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    if control & 1 == 0 {
        let key_file = input.rest();
        let mut store = TrustStore::new(context());
        match store.add_bytes(key_file, "fuzz") {
            Ok(fingerprints) => {
                assert!(!fingerprints.is_empty(), "a key file was accepted with no key in it");
                assert!((1..=fingerprints.len()).contains(&store.len()));
                for key in store.keys() {
                    assert!(fingerprints.contains(&key.fingerprint()));
                    let _ = key.key_type().to_string();
                }
                // A signature made of the key file's own bytes never verifies.
                let verdict = store.verify_bytes_auto(b"rootseal fuzzing", key_file, Policy::Default);
                assert!(verdict.is_err(), "arbitrary bytes verified as a signature");
            }
            Err(e) => {
                assert!(store.is_empty(), "a refused key file left keys behind: {e}");
            }
        }
    } else {
        let split = usize::from(input.u16());
        let rest = input.rest();
        let (cert, key) = rest.split_at(split.min(rest.len()));
        let root_hash = "4392c3a0b7fd1e2a8b5b0ee8eb9e6ed4ec64c5fd2b7ad9a3ab2c4c3bd1b1b5d7";
        if let Ok(signature) = sign_root_hash(root_hash, cert, key) {
            assert!(!signature.is_empty());
        }
    }
}

//! The CrAU update payload parser and verifier, over arbitrary files, with one trusted
//! RSA key (the seeds carry payloads it signed, made by `examples/write_seeds.rs`
//! --new-key). Nothing but a correctly signed payload may verify.
//!
//! Input: byte 0 bit 0 adds the Omaha size check (the real size), bit 1 uses the FIPS
//! policy; the rest is the payload file.

use super::input::Input;
use rootseal::crypto::CryptoContext;
use rootseal::sig::{OmahaCheck, Policy, TrustStore};
use std::sync::{Arc, OnceLock};

/// The public half of the key the payload seeds are signed with.
pub const PUBLIC_KEY: &[u8] = include_bytes!("../keys/payload-test.pub.pem");

/// A trust store holding [`PUBLIC_KEY`].
pub fn store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
        store.add_bytes(PUBLIC_KEY, "payload-test.pub.pem").expect("the test key loads");
        store
    })
}

/// A file the payload is written to: the verifier maps files, as update_engine does.
fn scratch_path() -> std::path::PathBuf {
    let thread = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    std::env::temp_dir().join(format!("rootseal-fuzz-{}-{thread}.crau", std::process::id()))
}

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    let payload = input.rest();
    let path = scratch_path();
    std::fs::write(&path, payload).expect("writing the scratch payload");
    let omaha = OmahaCheck { size: (control & 1 != 0).then_some(payload.len() as u64), sha256: None };
    let policy = if control & 2 != 0 { Policy::Fips } else { Policy::Default };
    let result = store().verify_payload(&path, omaha, policy);
    let _ = std::fs::remove_file(&path);
    if let Ok(verified) = result {
        assert_eq!(verified.fingerprint, store().keys()[0].fingerprint());
        assert!(matches!(verified.format_version, 1 | 2));
        assert!(verified.signature_index < verified.signature_count);
        assert!(verified.signed_bytes < payload.len() as u64, "the signature covers more than the file");
        assert_eq!(&payload[..4], b"CrAU");
    }
}

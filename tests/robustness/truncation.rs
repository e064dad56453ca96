//! A file truncated (or grown) while it is being verified gives an error, or a correct
//! result when the change came after the read, and the process survives: a memory-mapped
//! read would die of SIGBUS here, taking a C host process with it.

use crate::sig_support;

use rootseal::crypto::CryptoContext;
use rootseal::sig::{Error, OmahaCheck, Policy, Scheme, TrustStore};
use sig_support::crau::build_payload;
use sig_support::*;
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const BIG: u64 = 1 << 30;

/// Runs `verify` while another thread changes the file's length to `new_len` after
/// `delay`; returns the verification result.
fn while_resizing<T>(path: &Path, new_len: u64, delay: Duration, verify: impl FnOnce() -> T) -> T {
    let file = OpenOptions::new().write(true).open(path).unwrap();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            std::thread::sleep(delay);
            file.set_len(new_len).unwrap();
        });
        verify()
    })
}

#[test]
fn a_file_truncated_or_grown_during_verification_is_an_error_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "rsa:2048");
    let other = genkey(d, "other", "ec:P-256");
    // 1 GiB of zeros, sparse: quick to create and to restore, slow enough to hash that
    // the change lands mid-read.
    let data = d.join("big");
    std::fs::File::create(&data).unwrap().set_len(BIG).unwrap();
    let sig = d.join("big.sig");
    sign(&key, "sha256", false, &data, &sig);
    let signature = std::fs::read(&sig).unwrap();
    let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    store.add_file(&other.public).unwrap();
    store.add_file(&key.public).unwrap();
    store.verify_file(&data, &signature, Scheme::default(), Policy::Default).unwrap();

    let mut changed = 0;
    for (round, new_len) in [4096, BIG / 2, 0, BIG + 4096, 4096, BIG / 3].into_iter().enumerate() {
        let auto = round % 2 == 1;
        let result = while_resizing(&data, new_len, Duration::from_millis(30), || {
            if auto {
                store.verify_file_auto(&data, &signature, Policy::Default)
            } else {
                store.verify_file(&data, &signature, Scheme::default(), Policy::Default)
            }
        });
        match result {
            Err(Error::FileChanged { detail, .. }) => {
                changed += 1;
                assert!(detail.contains("ended at byte") || detail.contains("size went from"), "{detail}");
            }
            // The change came after the whole read: the answer is about the original bytes.
            Ok(v) => assert_eq!(v.fingerprint.to_string(), fingerprint(&key.public)),
            // On a loaded machine the change can come before the file is even opened: the
            // signature then rightly does not cover the new contents.
            Err(Error::BadSignature { .. }) => {}
            Err(other) => panic!("round {round}: expected FileChanged or a valid result, got {other}"),
        }
        std::fs::OpenOptions::new().write(true).open(&data).unwrap().set_len(0).unwrap();
        std::fs::OpenOptions::new().write(true).open(&data).unwrap().set_len(BIG).unwrap();
    }
    assert!(changed > 0, "no round changed the file mid-read: the test proves nothing");
    store.verify_file(&data, &signature, Scheme::default(), Policy::Default).unwrap();

    // The command survives too: exit code 2, or 0 if the read had finished, or 1 if the
    // change came before the file was opened (a slow start on a loaded machine). Never a
    // signal.
    let out = while_resizing(&data, 4096, Duration::from_millis(30), || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rootseal"))
            .args(["sign", "verify", "--key", s(&key.public), "--sig", s(&sig), s(&data), "--json"])
            .output()
            .unwrap()
    });
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "killed or wrong exit: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if code == Some(2) {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains("changed while reading"), "{v}");
    }
}

#[test]
fn a_payload_truncated_during_verification_is_an_error_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "rsa:2048");
    let payload = build_payload(d, "p", 1, &vec![0u8; 192 << 20], &[&key], 256);
    let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    store.add_file(&key.public).unwrap();
    store.verify_payload(&payload.path, OmahaCheck::default(), Policy::Default).unwrap();
    let mut changed = 0;
    for delay in [5, 10, 20, 40] {
        let result = while_resizing(&payload.path, 1 << 20, Duration::from_millis(delay), || {
            store.verify_payload(&payload.path, OmahaCheck::default(), Policy::Default)
        });
        match result {
            Err(Error::FileChanged { .. }) => changed += 1,
            Ok(_) => {}
            // Truncated before the header was read: the layout no longer fits the file.
            Err(Error::InvalidPayload(_)) => {}
            Err(other) => panic!("delay {delay} ms: {other}"),
        }
        std::fs::write(&payload.path, &payload.bytes).unwrap();
    }
    assert!(changed > 0, "no round changed the payload mid-read");
}

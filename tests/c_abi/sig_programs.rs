//! Compiles tests/c/sig_smoke.c as strict C99 against the committed header, links it
//! against the static and the shared library, runs it (also under valgrind) on inputs the
//! openssl CLI made, and checks the fingerprint it printed against openssl's.

use crate::c_support;
use crate::sig_support;

use c_support::{VALGRIND, compile, run, wrapped};
use sig_support::crau::build_payload;
use sig_support::*;
use std::path::Path;

/// Every input the C program reads, made with the openssl CLI. Returns the key's
/// fingerprint as openssl computes it.
fn fixtures(dir: &Path) -> String {
    let key = genkey(dir, "key", "rsa:2048");
    std::fs::copy(&key.private, dir.join("key.pem")).unwrap();
    let cert = self_signed_cert(dir, &key, "signer");
    std::fs::copy(&cert, dir.join("cert.pem")).unwrap();
    let data = dir.join("data.bin");
    std::fs::write(&data, (0..3u32 << 18).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>()).unwrap();
    sign(&key, "sha256", false, &data, &dir.join("data.sig"));
    sign(&key, "sha512", true, &data, &dir.join("data-pss512.sig"));
    let payload = build_payload(dir, "payload", 1, &vec![9u8; 100_000], &[&key], 256);
    std::fs::rename(&payload.path, dir.join("payload.crau")).unwrap();
    openssl(&["dgst", "-sha256", "-binary", "-out", s(&dir.join("payload.sha256")), s(&dir.join("payload.crau"))]);
    let root = "0a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899";
    std::fs::write(dir.join("roothash.txt"), root).unwrap();
    std::fs::write(dir.join("roothash-nl.txt"), format!("{root}\n")).unwrap();
    for (input, output) in [("roothash.txt", "roothash.p7s"), ("roothash-nl.txt", "roothash-nl.p7s")] {
        cms_sign(s(&cert), s(&key.private), s(&dir.join(input)), s(&dir.join(output)), &[]);
    }
    fingerprint(&key.public)
}

fn compile_and_run(static_link: bool, wrapper: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile("sig_smoke.c", static_link, dir.path());

    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    let expected_fingerprint = fixtures(&inputs);
    let out = run(wrapped(&exe, wrapper).arg(&inputs).arg(fips_config()).env_remove("ROOTSEAL_FIPS_CONFIG"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    print!("{stdout}");
    let printed = stdout.lines().find_map(|l| l.strip_prefix("fingerprint ")).expect("C test printed a fingerprint");
    assert_eq!(printed, expected_fingerprint, "C API fingerprint differs from openssl's");
    assert!(stdout.contains(" 0 failed"), "C checks failed:\n{stdout}");
}

#[test]
fn c_sig_smoke_against_static_library() {
    compile_and_run(true, &[]);
}

#[test]
fn c_sig_smoke_against_shared_library() {
    compile_and_run(false, &[]);
}

/// Under valgrind: no invalid access and no definite or indirect leak on any path the C
/// test takes, FIPS context and error paths included.
#[test]
fn c_sig_smoke_is_memory_clean_under_valgrind() {
    compile_and_run(true, &VALGRIND);
}

/// Issue 15 item 2 inside a C host: under `ulimit -v 262144`, an Ed25519 key, a 64-byte
/// garbage signature (S below the group order, so it could be Ed25519's) and a file of
/// MAX_ED25519_FILE bytes make `rootseal_sig_verify_file` return
/// ROOTSEAL_STATUS_SIG_OUT_OF_MEMORY; the host keeps running (it printed its summary and
/// exited 0), where the infallible allocation used to abort it.
#[test]
fn c_host_survives_an_ed25519_message_too_large_for_its_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exe = compile("sig_smoke.c", true, d);
    let ed = genkey(d, "ed", "ed25519");
    let big = d.join("big");
    std::fs::File::create(&big).unwrap().set_len(rootseal::sig::MAX_ED25519_FILE).unwrap();
    let garbage = crate::sig_support::plausible_ed25519_signature();
    let sig = d.join("garbage.sig");
    std::fs::write(&sig, garbage).unwrap();
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 262144 && exec \"$0\" \"$@\""])
        .arg(&exe)
        .arg("--ed25519-big")
        .args([&ed.public, &sig, &big])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(" 0 failed") && stdout.contains("not enough memory"), "{stdout}");
}

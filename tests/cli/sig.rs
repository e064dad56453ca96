//! The signature subcommands of the `rootseal` binary: exit codes (0 valid, 1 invalid or
//! refused, 2 bad usage or input), JSON naming the matching key and the policy, and
//! FIPS mode through --fips-config and ROOTSEAL_FIPS_CONFIG.

use crate::common;
use crate::sig_support;

use common::describe;
use sig_support::crau::build_payload;
use sig_support::*;
use std::path::Path;
use std::process::{Command, Output};

fn rootseal(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(args)
        .env_remove("ROOTSEAL_FIPS_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn expect(out: &Output, code: i32) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null)
}

#[test]
fn sign_verify_exit_codes_json_and_fips() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("image");
    std::fs::write(&data, vec![7u8; 3 << 20]).unwrap();
    let old = genkey(d, "old", "ec:P-256");
    let new = genkey(d, "new", "rsa:2048");
    let weak = genkey(d, "weak", "rsa:1024");
    let sig = d.join("image.sig");
    sign(&new, "sha256", true, &data, &sig);
    let weak_sig = d.join("weak.sig");
    sign(&weak, "sha256", false, &data, &weak_sig);
    let config = fips_config();
    let config = config.to_str().unwrap();

    let base = [
        "sign",
        "verify",
        "--key",
        s(&old.public),
        "--key",
        s(&new.public),
        "--sig",
        s(&sig),
        "--digest",
        "sha256",
        "--padding",
        "pss",
    ];
    let v = expect(&rootseal(&[&base[..], &[s(&data), "--json"]].concat(), &[]), 0);
    assert_eq!(v["fingerprint"], fingerprint(&new.public));
    assert_eq!((v["policy"].as_str(), v["provider"].as_str()), (Some("default"), Some("default")));

    let v = expect(&rootseal(&[&base[..], &[s(&data), "--json", "--fips-config", config]].concat(), &[]), 0);
    assert_eq!(
        (v["policy"].as_str(), v["provider"].as_str(), v["fips"].as_bool()),
        (Some("fips"), Some("fips"), Some(true))
    );
    let v = expect(
        &rootseal(&[&base[..], &[s(&data), "--json", "--fips"]].concat(), &[("ROOTSEAL_FIPS_CONFIG", config)]),
        0,
    );
    assert_eq!(v["provider"], "fips");
    assert_eq!(v["fingerprint"], fingerprint(&new.public));
    // --fips with no config anywhere is bad usage, never a silent non-FIPS check.
    expect(&rootseal(&[&base[..], &[s(&data), "--fips"]].concat(), &[]), 2);

    let tampered = d.join("tampered");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[2 << 20] ^= 1;
    std::fs::write(&tampered, bytes).unwrap();
    let v = expect(&rootseal(&[&base[..], &[s(&tampered), "--json"]].concat(), &[]), 1);
    assert_eq!(v["valid"], false);
    // Told PKCS#1 v1.5, a PSS signature is invalid; not told, rootseal finds PSS.
    let told =
        ["sign", "verify", "--key", s(&new.public), "--sig", s(&sig), "--digest", "sha256", "--padding", "pkcs1"];
    expect(&rootseal(&[&told[..], &[s(&data)]].concat(), &[]), 1);
    // --padding alone would fix the digest behind the user's back: bad usage.
    let padding_only = ["sign", "verify", "--key", s(&new.public), "--sig", s(&sig), "--padding", "pss", s(&data)];
    expect(&rootseal(&padding_only, &[]), 2);
    let v =
        expect(&rootseal(&["sign", "verify", "--key", s(&new.public), "--sig", s(&sig), s(&data), "--json"], &[]), 0);
    assert_eq!(v["scheme"], "RSA-2048 PSS SHA-256");
    let v = expect(
        &rootseal(&["sign", "verify", "--key", s(&weak.public), "--sig", s(&weak_sig), s(&data), "--json"], &[]),
        1,
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("2048"), "{v}");
    assert_eq!(v["policy"], "default");
    // No key at all, a missing key file, a private key, a missing file: bad input.
    expect(&rootseal(&["sign", "verify", "--sig", s(&sig), s(&data)], &[]), 2);
    expect(&rootseal(&["sign", "verify", "--key", s(&d.join("nope.pem")), "--sig", s(&sig), s(&data)], &[]), 2);
    let out = rootseal(&["sign", "verify", "--key", s(&new.private), "--sig", s(&sig), s(&data)], &[]);
    expect(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("private key"), "{}", describe(&out));
    expect(&rootseal(&["sign", "verify", "--key", s(&new.public), "--sig", s(&sig), s(&d.join("missing"))], &[]), 2);
    // A certificate as `openssl x509 -text` prints it (text, then PEM) is a trust anchor
    // too, and a DER SubjectPublicKeyInfo as well.
    let cert = self_signed_cert(d, &new, "new");
    let text_cert = d.join("new.txt.pem");
    std::fs::write(&text_cert, openssl(&["x509", "-in", s(&cert), "-text"])).unwrap();
    let der_key = d.join("new.pub.der");
    openssl(&["pkey", "-pubin", "-in", s(&new.public), "-outform", "DER", "-out", s(&der_key)]);
    for key in [&text_cert, &der_key] {
        let v = expect(&rootseal(&["sign", "verify", "--key", s(key), "--sig", s(&sig), s(&data), "--json"], &[]), 0);
        assert_eq!(v["fingerprint"], fingerprint(&new.public), "{}", key.display());
    }
}

#[test]
fn payload_verify_with_omaha_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "rsa:2048");
    let p = build_payload(d, "p", 1, &vec![3u8; 1 << 20], &[&key], 256);
    let hex = String::from_utf8(openssl(&["dgst", "-sha256", "-r", s(&p.path)])).unwrap();
    let hex = hex.split_whitespace().next().unwrap().to_string();
    let size = p.bytes.len().to_string();
    let config = fips_config();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> =
            ["payload", "verify", "--key", s(&key.public), s(&p.path), "--json"].map(String::from).to_vec();
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        rootseal(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[])
    };
    let v = expect(&run(&["--size", &size, "--sha256", &hex, "--fips-config", config.to_str().unwrap()]), 0);
    assert_eq!(v["fingerprint"], fingerprint(&key.public));
    assert_eq!((v["policy"].as_str(), v["provider"].as_str()), (Some("fips"), Some("fips")));
    assert_eq!((v["sha256_checked"].as_bool(), v["signature_version"].as_u64()), (Some(true), Some(2)));
    let wrong_size = (p.bytes.len() + 1).to_string();
    expect(&run(&["--size", &wrong_size]), 1);
    // Another digest: the first hex digit changed (replacing the first two with "00"
    // changed nothing for one payload in 256, whose digest starts with "00").
    let other = format!("{}{}", if hex.starts_with('0') { '1' } else { '0' }, &hex[1..]);
    expect(&run(&["--sha256", &other]), 1);
    expect(&run(&["--sha256", "xyz"]), 2);
    let not_payload = d.join("not-a-payload");
    std::fs::write(&not_payload, b"hello").unwrap();
    expect(&rootseal(&["payload", "verify", "--key", s(&key.public), s(&not_payload)], &[]), 2);
}

#[test]
fn roothash_sign_and_verify_round_trip_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "ec:P-256");
    let cert = self_signed_cert(d, &key, "verity-signer");
    let root = "4392a5e5fcd0e6d5b26e1a3a3b3d3c9f4a80ee60f1b4a53a85a58a1bbc0e1f29";
    let sig = d.join("root.p7s");
    expect(&rootseal(&["roothash", "sign", "--cert", s(&cert), "--key", s(&key.private), root, "-o", s(&sig)], &[]), 0);
    let text = d.join("root.txt");
    std::fs::write(&text, root).unwrap();
    cms_verify(s(&sig), s(&text), s(&cert));
    let config = fips_config();
    let v = expect(
        &rootseal(
            &[
                "roothash",
                "verify",
                "--cert",
                s(&cert),
                "--sig",
                s(&sig),
                root,
                "--json",
                "--fips-config",
                config.to_str().unwrap(),
            ],
            &[],
        ),
        0,
    );
    assert_eq!(v["signed_text"], root);
    assert_eq!(v["fips"], true);
    assert_eq!(v["policy"], "fips");
    // A signature over the hash plus newline, made by openssl, is refused.
    let nl = d.join("nl.txt");
    std::fs::write(&nl, format!("{root}\n")).unwrap();
    let nl_sig = d.join("nl.p7s");
    cms_sign(s(&cert), s(&key.private), s(&nl), s(&nl_sig), &[]);
    expect(&rootseal(&["roothash", "verify", "--cert", s(&cert), "--sig", s(&nl_sig), root], &[]), 1);
    expect(&rootseal(&["roothash", "verify", "--cert", s(&cert), "--sig", s(&sig), "not-hex"], &[]), 2);
    expect(&rootseal(&["roothash", "verify", "--sig", s(&sig), root], &[]), 2);
}

#[test]
fn fips_status_reports_the_provider_or_fails() {
    let config = fips_config();
    let v = expect(&rootseal(&["fips", "status", "--json", "--fips-config", config.to_str().unwrap()], &[]), 0);
    assert_eq!(v["provider"], "OpenSSL FIPS Provider");
    assert_eq!(v["version"], "3.6.3");
    assert_eq!(v["default_context_fips"], false);
    let v = expect(&rootseal(&["fips", "status", "--json"], &[("ROOTSEAL_FIPS_CONFIG", config.to_str().unwrap())]), 0);
    assert_eq!(v["active"], true);
    let v = expect(&rootseal(&["fips", "status", "--json"], &[]), 1);
    assert_eq!(v["active"], false);
    let missing = Path::new("/nonexistent/fips.cnf");
    expect(&rootseal(&["fips", "status", "--fips-config", missing.to_str().unwrap()], &[]), 1);
}

/// A character device (or pipe) reads as length 0; a signature over empty data must
/// never validate whatever streams through it.
#[test]
fn non_regular_files_are_refused_not_taken_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "rsa:2048");
    let empty = d.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let sig = d.join("empty.sig");
    sign(&key, "sha256", false, &empty, &sig);
    let base = ["sign", "verify", "--key", s(&key.public), "--sig", s(&sig)];
    expect(&rootseal(&[&base[..], &[s(&empty)]].concat(), &[]), 0);
    for device in ["/dev/null", "/dev/zero"] {
        let out = rootseal(&[&base[..], &[device]].concat(), &[]);
        assert_eq!(out.status.code(), Some(2), "{device}: {}", describe(&out));
    }
    // Keys and signatures from a character device are refused before any read (an endless
    // device, or a FIFO with no writer, would otherwise be read or waited on)...
    let root = "ab".repeat(32);
    for args in [
        &["sign", "verify", "--key", "/dev/zero", "--sig", s(&sig), s(&empty)][..],
        &["sign", "verify", "--key", s(&key.public), "--sig", "/dev/zero", s(&empty)],
        &["roothash", "verify", "--cert", s(&key.public), "--sig", "/dev/zero", &root],
    ] {
        let out = rootseal(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"), "{}", describe(&out));
    }
    // ...and regular files are still cut off at their size cap, read no further.
    let huge_key = d.join("huge.pem");
    std::fs::File::create(&huge_key).unwrap().set_len((4 << 20) + 1).unwrap();
    let huge_sig = d.join("huge.sig");
    std::fs::File::create(&huge_sig).unwrap().set_len((64 << 10) + 1).unwrap();
    for args in [
        &["sign", "verify", "--key", s(&huge_key), "--sig", s(&sig), s(&empty)][..],
        &["sign", "verify", "--key", s(&key.public), "--sig", s(&huge_sig), s(&empty)],
        &["roothash", "verify", "--cert", s(&key.public), "--sig", s(&huge_sig), &root],
    ] {
        let out = rootseal(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"), "{}", describe(&out));
    }
}

/// With --json, every exit code comes with one JSON object on stdout: valid (0), invalid
/// or refused (1), and bad input (2), which used to print nothing.
#[test]
fn json_output_for_every_outcome_and_policy_refusals_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    std::fs::write(&data, b"json".repeat(1000)).unwrap();
    let key = genkey(d, "k", "rsa:2048");
    let sig = d.join("sig");
    sign(&key, "sha256", false, &data, &sig);
    let sha1_sig = d.join("sha1.sig");
    sign(&key, "sha1", false, &data, &sha1_sig);
    let verify = |extra: &[&str], sig: &Path| {
        rootseal(&[&["sign", "verify", "--json", "--sig", s(sig)][..], extra, &[s(&data)]].concat(), &[])
    };
    let v = expect(&verify(&["--key", s(&key.public)], &sig), 0);
    assert_eq!(v["valid"], true);
    // SHA-1 found by auto-detection: refused by policy, exit 1, the reason in the JSON.
    let v = expect(&verify(&["--key", s(&key.public)], &sha1_sig), 1);
    assert_eq!(v["valid"], false);
    assert!(v["error"]["message"].as_str().unwrap().contains("refused by the default policy"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("SHA-1"), "{v}");
    // Bad input, exit 2, still one JSON object.
    for (extra, needle) in [
        (vec!["--key", "/nonexistent/key.pem"], "cannot read"),
        (vec!["--key", s(&key.private)], "private key"),
        (vec!["--key", s(&key.public), "--digest", "md5"], "unknown digest"),
        (vec!["--key", s(&key.public), "--fips"], "FIPS"),
    ] {
        let v = expect(&verify(&extra, &sig), 2);
        assert_eq!(v["valid"], false, "{extra:?}");
        assert!(v["error"]["message"].as_str().unwrap().contains(needle), "{extra:?}: {v}");
    }
    let v = expect(&rootseal(&["payload", "verify", "--json", "--key", s(&key.public), s(&data)], &[]), 2);
    assert!(v["error"]["message"].as_str().unwrap().contains("CrAU"), "{v}");
    let v =
        expect(&rootseal(&["roothash", "verify", "--json", "--cert", s(&key.public), "--sig", s(&sig), "xyz"], &[]), 2);
    assert_eq!(v["valid"], false);

    // An RSA key with e = 3 (made by openssl) is refused by the fips policy: exit 1.
    let e3 = d.join("e3.key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-pkeyopt",
        "rsa_keygen_pubexp:3",
        "-out",
        s(&e3),
    ]);
    let e3_pub = d.join("e3.pub.pem");
    openssl(&["pkey", "-in", s(&e3), "-pubout", "-out", s(&e3_pub)]);
    let e3_pair = KeyPair { private: e3, public: e3_pub.clone() };
    let e3_sig = d.join("e3.sig");
    sign(&e3_pair, "sha256", false, &data, &e3_sig);
    expect(&verify(&["--key", s(&e3_pub)], &e3_sig), 0);
    let v = expect(&verify(&["--key", s(&e3_pub), "--policy", "fips"], &e3_sig), 1);
    assert!(v["error"]["message"].as_str().unwrap().contains("FIPS 186-5"), "{v}");
    assert_eq!(v["policy"], "fips");
}

/// Issue 15 item 2: with an Ed25519 key trusted, a 64-byte garbage signature must not let
/// the file's size decide memory use, and an allocation that fails must be an error, not
/// an abort. Under `ulimit -v 262144` (256 MiB of address space), a file of
/// MAX_ED25519_FILE bytes cannot be gathered: the command exits 2 with a message, never
/// SIGABRT. A garbage signature whose S is not below the group order (which openssl
/// refuses too) never gathers the file at all: it is simply a bad signature (exit 1).
#[test]
fn ed25519_trust_never_aborts_on_a_large_file_under_a_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ed = genkey(d, "ed", "ed25519");
    let big = d.join("big");
    std::fs::File::create(&big).unwrap().set_len(rootseal::sig::MAX_ED25519_FILE).unwrap();
    // R anything, S = 1 (below the order): a signature that could be Ed25519's.
    let plausible = plausible_ed25519_signature();
    // S = 2^256 - 1: not below the order.
    let impossible = [0xffu8; 64];
    let limited = |sig: &Path| {
        let out = Command::new("sh")
            .args(["-c", "ulimit -v 262144 && exec \"$0\" \"$@\"", env!("CARGO_BIN_EXE_rootseal")])
            .args(["sign", "verify", "--key", s(&ed.public), "--sig", s(sig), s(&big)])
            .env_remove("ROOTSEAL_FIPS_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("memory allocation"), "{}", describe(&out));
        (out.status.code(), stderr, describe(&out))
    };
    let plausible_sig = d.join("plausible.sig");
    std::fs::write(&plausible_sig, plausible).unwrap();
    let (code, stderr, described) = limited(&plausible_sig);
    assert_eq!(code, Some(2), "{described}");
    assert!(stderr.contains("rootseal: error:") && stderr.contains("not enough memory"), "{described}");

    let impossible_sig = d.join("impossible.sig");
    std::fs::write(&impossible_sig, impossible).unwrap();
    let (code, stderr, described) = limited(&impossible_sig);
    assert_eq!(code, Some(1), "{described}");
    assert!(stderr.contains("does not verify"), "{described}");

    // Both are garbage to openssl as well (on a small file).
    let small = d.join("small");
    std::fs::write(&small, b"data").unwrap();
    for sig in [&plausible_sig, &impossible_sig] {
        assert!(!openssl_verifies(&ed, "none", false, &small, sig, &[]), "{}", sig.display());
        let out = rootseal(&["sign", "verify", "--key", s(&ed.public), "--sig", s(sig), s(&small)], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    }
}

/// Issue 15 item 12: messages count trusted keys, not (signature, key) pairs; a signature
/// whose length fits no key still counts the keys; and the keys the policy refused are
/// named, with why. Signatures are made by openssl (build_payload, `openssl dgst -sign`).
#[test]
fn failure_messages_count_keys_and_name_the_keys_the_policy_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let signers: Vec<KeyPair> = (0..3).map(|i| genkey(d, &format!("signer{i}"), "rsa:2048")).collect();
    let trusted = genkey(d, "trusted", "rsa:2048");
    let weak = genkey(d, "weak", "rsa:1024");
    let ed = genkey(d, "ed", "ed25519");
    let big = genkey(d, "big", "rsa:3072");
    let refs: Vec<&KeyPair> = signers.iter().collect();
    let three = build_payload(d, "three", 1, &vec![9u8; 4096], &refs, 256);
    let long = build_payload(d, "long", 1, &vec![9u8; 4096], &[&big], 384);
    let keys = ["--key", s(&trusted.public), "--key", s(&weak.public), "--key", s(&ed.public)];
    let stderr_of = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let weak_fp = fingerprint(&weak.public);
    let ed_fp = fingerprint(&ed.public);

    // Three signatures, one allowed RSA key: "1 trusted key(s)", not 3.
    for payload in [&three.path, &long.path] {
        let out = rootseal(&[&["payload", "verify"][..], &keys, &[s(payload)]].concat(), &[]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let err = stderr_of(&out);
        assert!(err.contains("any of the 1 trusted key(s)"), "{}: {err}", payload.display());
        assert!(err.contains(&weak_fp) && err.contains("RSA-1024 is refused"), "{err}");
        assert!(err.contains(&ed_fp) && err.contains("payload signatures are RSA"), "{err}");
    }

    // A detached signature of a length no key has (RSA-3072 against RSA-2048 and Ed25519).
    let data = d.join("data");
    std::fs::write(&data, b"signed bytes").unwrap();
    let sig = d.join("data.sig");
    sign(&big, "sha256", false, &data, &sig);
    assert_eq!(std::fs::read(&sig).unwrap().len(), 384);
    let out = rootseal(&[&["sign", "verify"][..], &keys, &["--sig", s(&sig), s(&data)]].concat(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr_of(&out);
    assert!(err.contains("any of the 2 trusted key(s)"), "{err}");
    assert!(err.contains(&weak_fp) && err.contains("RSA-1024 is refused"), "{err}");
    assert!(!err.contains("of the 0 trusted"), "{err}");
}

/// Issue 15 item 14: in a FIPS context, a key error names each OpenSSL error once. The
/// FIPS provider (newer than libcrypto) leaves "invalid provider functions" on the error
/// queue for every algorithm it skips; that used to fill the line a dozen times, in the
/// error about an unrelated key.
#[test]
fn fips_key_errors_name_each_openssl_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    std::fs::write(&data, b"data").unwrap();
    let sig = d.join("sig");
    std::fs::write(&sig, [1u8; 256]).unwrap();
    // Not DER at all, and a SEQUENCE header with garbage in it.
    let garbage = d.join("garbage.der");
    std::fs::write(&garbage, (0..300u32).map(|i| (i * 37 % 251) as u8 | 0x80).collect::<Vec<u8>>()).unwrap();
    let sequence = d.join("sequence.der");
    std::fs::write(&sequence, [&[0x30u8, 0x82, 0x01, 0x00][..], &[0x42; 256]].concat()).unwrap();
    let config = fips_config();
    for key in [&garbage, &sequence] {
        let out = rootseal(
            &["sign", "verify", "--fips-config", config.to_str().unwrap(), "--key", s(key), "--sig", s(&sig), s(&data)],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(stderr.contains("invalid key"), "{stderr}");
        assert!(!stderr.contains("invalid provider functions"), "an earlier call's errors: {stderr}");
        // Within the key's reason and within the certificate's, every OpenSSL error entry
        // ("error:XXXXXXXX:...") appears once.
        let message = stderr.split_once("rootseal: error:").map_or(stderr.as_str(), |(_, m)| m);
        let mut checked = 0;
        for part in message.split(" nor a certificate (") {
            let entries: Vec<&str> =
                part.split("error:").skip(1).map(|e| e.split([',', ')']).next().unwrap()).collect();
            for (i, entry) in entries.iter().enumerate() {
                assert!(!entries[i + 1..].contains(entry), "{entry:?} repeated in {stderr}");
            }
            checked += entries.len();
        }
        assert!(checked > 0, "{stderr}");
    }
}

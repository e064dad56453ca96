//! CrAU update payloads built the way update_engine's signer builds them: header,
//! manifest with the signature fields and the dummy noop operation, data, and a
//! `Signatures` blob whose RSA signatures the openssl CLI makes (`dgst -sha256 -sign`,
//! and `pkeyutl -sign -pkeyopt digest:sha256` over the hash as core_sign_update does).
//! The protobufs are encoded by hand here, independently of rootseal's prost structs.

use crate::sig_support;

use rootseal::crypto::CryptoContext;
use rootseal::sig::{Error, OmahaCheck, Policy, TrustStore, parse_sha256_text};
use sig_support::crau::build_payload;
use sig_support::*;
use std::sync::Arc;

fn store(ctx: &Arc<CryptoContext>, keys: &[&KeyPair]) -> TrustStore {
    let mut store = TrustStore::new(ctx.clone());
    for k in keys {
        store.add_file(&k.public).unwrap();
    }
    store
}

fn contexts() -> Vec<Arc<CryptoContext>> {
    vec![Arc::new(CryptoContext::default_provider()), Arc::new(CryptoContext::fips(Some(&fips_config())).unwrap())]
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect()
}

#[test]
fn signed_v1_payloads_verify_with_one_or_two_signatures_and_report_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = genkey(dir.path(), "old", "rsa:2048");
    let new = genkey(dir.path(), "new", "rsa:2048");
    let one = build_payload(dir.path(), "one", 1, &data(300_000), &[&new], 256);
    let two = build_payload(dir.path(), "two", 1, &data(5 << 20), &[&old, &new], 256);
    // The single-signature blob has update_engine's exact 264-byte shape.
    assert_eq!(&one.bytes[one.bytes.len() - 264..][..8], &[0x0a, 0x85, 0x02, 0x08, 0x02, 0x12, 0x80, 0x02]);
    for ctx in contexts() {
        let provider = if ctx.is_fips() { "fips" } else { "default" };
        let v = store(&ctx, &[&new]).verify_payload(&one.path, OmahaCheck::default(), Policy::Fips).unwrap();
        assert_eq!(v.fingerprint.to_string(), fingerprint(&new.public));
        assert_eq!((v.signature_index, v.signature_version, v.signature_count), (0, Some(2), 1));
        assert_eq!(v.signed_bytes, one.bytes.len() as u64 - 264);
        assert_eq!(v.provider, provider);

        // Key rotation: a store holding only the old key accepts via signature version 1,
        // a store holding only the new key via version 2.
        let v = store(&ctx, &[&old]).verify_payload(&two.path, OmahaCheck::default(), Policy::Default).unwrap();
        assert_eq!((v.signature_index, v.signature_version, v.signature_count), (0, Some(1), 2));
        assert_eq!(v.fingerprint.to_string(), fingerprint(&old.public));
        let v = store(&ctx, &[&new]).verify_payload(&two.path, OmahaCheck::default(), Policy::Default).unwrap();
        assert_eq!((v.signature_index, v.signature_version), (1, Some(2)));
        assert_eq!(v.format_version, 1);
        assert_eq!(v.provider, provider);
    }
}

#[test]
fn version_2_payloads_check_the_metadata_signature_and_the_payload_signature_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = genkey(dir.path(), "k", "rsa:3072");
    let p = build_payload(dir.path(), "v2", 2, &data(70_000), &[&key], 384);
    for ctx in contexts() {
        let v = store(&ctx, &[&key]).verify_payload(&p.path, OmahaCheck::default(), Policy::Fips).unwrap();
        assert_eq!(v.format_version, 2);
        // signed = everything but the metadata signature and the payload signature blob
        let blob = 3 + 2 + 3 + 384;
        assert_eq!(v.signed_bytes, (p.bytes.len() - 2 * blob) as u64);
    }
    // The metadata signature is not covered by the payload signature, so it is checked
    // on its own: one flipped byte in it fails the payload.
    let manifest_size = u64::from_be_bytes(p.bytes[12..20].try_into().unwrap()) as usize;
    let meta_sig_size = u32::from_be_bytes(p.bytes[20..24].try_into().unwrap()) as usize;
    let mut bytes = p.bytes.clone();
    bytes[24 + manifest_size + meta_sig_size - 1] ^= 1;
    let tampered = dir.path().join("v2-tampered-metadata-signature");
    std::fs::write(&tampered, bytes).unwrap();
    for ctx in contexts() {
        let e = store(&ctx, &[&key]).verify_payload(&tampered, OmahaCheck::default(), Policy::Fips).unwrap_err();
        assert!(matches!(e, Error::BadSignature { tried: 1, .. }), "{e}");
    }
    // A metadata signature size near 4 GiB is refused from the header, before any
    // hashing or copying (the file is sparse: nothing is really that large).
    let mut bytes = p.bytes.clone();
    bytes[20..24].copy_from_slice(&u32::MAX.to_be_bytes());
    let huge = dir.path().join("v2-huge-metadata-signature");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(5 << 30).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, &bytes, 0).unwrap();
    let e = store(&contexts()[0], &[&key]).verify_payload(&huge, OmahaCheck::default(), Policy::Fips).unwrap_err();
    assert!(e.to_string().contains("metadata signature size 4294967295 exceeds"), "{e}");
}

#[test]
fn tampered_truncated_extended_and_untrusted_payloads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = genkey(dir.path(), "k", "rsa:2048");
    let stranger = genkey(dir.path(), "stranger", "rsa:2048");
    let weak = genkey(dir.path(), "weak", "rsa:1024");
    let p = build_payload(dir.path(), "p", 1, &data(100_000), &[&key], 256);
    let weak_payload = build_payload(dir.path(), "weak", 1, &data(1000), &[&weak], 128);
    let variant = |name: &str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = p.bytes.clone();
        edit(&mut bytes);
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let flipped_data = variant("flipped", &|b| b[50_000] ^= 1);
    let flipped_sig = variant("flipped-sig", &|b| {
        let n = b.len();
        b[n - 1] ^= 1
    });
    let trailing = variant("trailing", &|b| b.push(0));
    let truncated = variant("truncated", &|b| b.truncate(b.len() - 1));
    let bad_magic = variant("magic", &|b| b[0] = b'X');
    let huge_manifest = variant("huge", &|b| b[12..20].copy_from_slice(&u64::MAX.to_be_bytes()));
    for ctx in contexts() {
        let s = store(&ctx, &[&key]);
        for (path, want) in
            [(&flipped_data, "bad"), (&flipped_sig, "bad"), (&trailing, "layout"), (&truncated, "layout")]
        {
            let e = s.verify_payload(path, OmahaCheck::default(), Policy::Default).unwrap_err();
            match want {
                "bad" => assert!(matches!(e, Error::BadSignature { .. }), "{}: {e}", path.display()),
                _ => assert!(e.to_string().contains("must end the file"), "{}: {e}", path.display()),
            }
        }
        for path in [&bad_magic, &huge_manifest] {
            let e = s.verify_payload(path, OmahaCheck::default(), Policy::Default).unwrap_err();
            assert!(matches!(e, Error::InvalidPayload(_)), "{}: {e}", path.display());
        }
        let e = store(&ctx, &[&stranger]).verify_payload(&p.path, OmahaCheck::default(), Policy::Default).unwrap_err();
        assert!(matches!(e, Error::BadSignature { tried: 1, .. }), "stranger: {e}");
        let e =
            TrustStore::new(ctx.clone()).verify_payload(&p.path, OmahaCheck::default(), Policy::Default).unwrap_err();
        assert!(matches!(e, Error::EmptyTrustStore), "{e}");
        // The RSA-1024 payload is well-formed and its signature is valid (openssl made it),
        // but both policies refuse the key.
        let e = store(&ctx, &[&weak]).verify_payload(&weak_payload.path, OmahaCheck::default(), Policy::Default);
        assert!(matches!(e, Err(Error::PolicyRefused { .. })), "{e:?}");
    }
}

#[test]
fn omaha_size_and_sha256_are_checked_in_hex_and_base64() {
    let dir = tempfile::tempdir().unwrap();
    let key = genkey(dir.path(), "k", "rsa:2048");
    let p = build_payload(dir.path(), "p", 1, &data(200_000), &[&key], 256);
    let hex = String::from_utf8(openssl(&["dgst", "-sha256", "-r", s(&p.path)])).unwrap();
    let hex = hex.split_whitespace().next().unwrap().to_string();
    let bin = dir.path().join("sha.bin");
    openssl(&["dgst", "-sha256", "-binary", "-out", s(&bin), s(&p.path)]);
    let b64 = String::from_utf8(openssl(&["base64", "-A", "-in", s(&bin)])).unwrap();
    assert_eq!(parse_sha256_text(&hex).unwrap(), parse_sha256_text(&b64).unwrap());
    let size = p.bytes.len() as u64;
    for ctx in contexts() {
        let s = store(&ctx, &[&key]);
        for text in [&hex, &b64] {
            let check = OmahaCheck { size: Some(size), sha256: Some(parse_sha256_text(text).unwrap()) };
            s.verify_payload(&p.path, check, Policy::Fips).unwrap();
        }
        let mut wrong = parse_sha256_text(&hex).unwrap();
        wrong[31] ^= 1;
        let e = s.verify_payload(&p.path, OmahaCheck { size: None, sha256: Some(wrong) }, Policy::Fips).unwrap_err();
        assert!(matches!(e, Error::PayloadMismatch { what: "sha256", .. }), "{e}");
        let e = s.verify_payload(&p.path, OmahaCheck { size: Some(size + 1), sha256: None }, Policy::Fips).unwrap_err();
        assert!(matches!(e, Error::PayloadMismatch { what: "size", .. }), "{e}");
    }
}

/// A payload in memory gets exactly the verdict of the same bytes in a file, for valid,
/// tampered and malformed payloads alike.
#[test]
fn payloads_in_memory_get_the_verdict_of_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = genkey(dir.path(), "k", "rsa:2048");
    let v1 = build_payload(dir.path(), "v1", 1, &data(3 << 20), &[&key], 256);
    let v2 = build_payload(dir.path(), "v2", 2, &data(100_000), &[&key], 256);
    let mut cases = vec![v1.bytes.clone(), v2.bytes.clone()];
    for at in [0usize, 30, v1.bytes.len() / 2, v1.bytes.len() - 1] {
        let mut bytes = v1.bytes.clone();
        bytes[at] ^= 0x10;
        cases.push(bytes);
    }
    cases.push(v1.bytes[..v1.bytes.len() - 1].to_vec());
    cases.push(Vec::new());
    let sha = |b: &[u8]| -> [u8; 32] { openssl::sha::sha256(b) };
    for ctx in contexts() {
        let s = store(&ctx, &[&key]);
        for (i, bytes) in cases.iter().enumerate() {
            let path = dir.path().join(format!("case{i}"));
            std::fs::write(&path, bytes).unwrap();
            let omaha = OmahaCheck { size: Some(bytes.len() as u64), sha256: Some(sha(&v1.bytes)) };
            let from_file = s.verify_payload(&path, omaha, Policy::Fips).map(|v| (v.fingerprint, v.signature_index));
            let in_memory =
                s.verify_payload_bytes(bytes, omaha, Policy::Fips).map(|v| (v.fingerprint, v.signature_index));
            assert_eq!(format!("{in_memory:?}"), format!("{from_file:?}"), "case {i}");
            assert_eq!(in_memory.is_ok(), i == 0, "case {i}: {in_memory:?}");
        }
    }
}

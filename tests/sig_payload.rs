//! CrAU update payloads built the way update_engine's signer builds them: header,
//! manifest with the signature fields and the dummy noop operation, data, and a
//! `Signatures` blob whose RSA signatures the openssl CLI makes (`dgst -sha256 -sign`,
//! and `pkeyutl -sign -pkeyopt digest:sha256` over the hash as core_sign_update does).
//! The protobufs are encoded by hand here, independently of rootseal's prost structs.

mod sig_support;

use rootseal::sig::{CryptoContext, Error, OmahaCheck, Policy, TrustStore, parse_sha256_text};
use sig_support::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn field_varint(tag: u64, value: u64, out: &mut Vec<u8>) {
    varint(tag << 3, out);
    varint(value, out);
}

fn field_bytes(tag: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint((tag << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// `Signatures { repeated Signature { version = 1; data = 2; } }`.
fn signatures_blob(sigs: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (version, data) in sigs {
        let mut sig = Vec::new();
        field_varint(1, u64::from(*version), &mut sig);
        field_bytes(2, data, &mut sig);
        field_bytes(1, &sig, &mut out);
    }
    out
}

/// The manifest fields update_engine's signer writes: block size, the dummy REPLACE noop
/// op over the signature blob at a sparse-hole extent, signatures_offset/size, and the
/// new partition info.
fn manifest(data_len: u64, sig_size: u64) -> Vec<u8> {
    let mut extent = Vec::new();
    field_varint(1, u64::MAX, &mut extent);
    field_varint(2, sig_size.div_ceil(4096), &mut extent);
    let mut op = Vec::new();
    field_varint(1, 0, &mut op);
    field_varint(2, data_len, &mut op);
    field_varint(3, sig_size, &mut op);
    field_bytes(6, &extent, &mut op);
    let mut info = Vec::new();
    field_varint(1, data_len, &mut info);
    field_bytes(2, &[0xab; 32], &mut info);
    let mut m = Vec::new();
    field_bytes(2, &op, &mut m);
    field_varint(3, 4096, &mut m);
    field_varint(4, data_len, &mut m);
    field_varint(5, sig_size, &mut m);
    field_bytes(9, &info, &mut m);
    m
}

struct Built {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Builds and signs a payload. `signers` get versions 3-N..=2 as core_sign_update assigns.
/// Version 2 payloads carry a metadata signature too, excluded from the payload hash.
fn build_payload(dir: &Path, name: &str, major: u64, data: &[u8], signers: &[&KeyPair], modulus: usize) -> Built {
    let placeholder: Vec<(u32, Vec<u8>)> = (0..signers.len()).map(|i| (i as u32, vec![0u8; modulus])).collect();
    let sig_size = signatures_blob(&placeholder).len() as u64;
    let m = manifest(data.len() as u64, sig_size);
    let mut head = b"CrAU".to_vec();
    head.extend_from_slice(&major.to_be_bytes());
    head.extend_from_slice(&(m.len() as u64).to_be_bytes());
    let sign_file = |bytes: &[u8], tag: &str, i: usize, key: &KeyPair| -> Vec<u8> {
        let input = dir.join(format!("{name}.{tag}{i}.in"));
        let sig = dir.join(format!("{name}.{tag}{i}.sig"));
        std::fs::write(&input, bytes).unwrap();
        if i.is_multiple_of(2) {
            openssl(&["dgst", "-sha256", "-sign", s(&key.private), "-out", s(&sig), s(&input)]);
        } else {
            // core_sign_update's path: sign the 32-byte hash with pkeyutl.
            let hash = dir.join(format!("{name}.{tag}{i}.hash"));
            openssl(&["dgst", "-sha256", "-binary", "-out", s(&hash), s(&input)]);
            openssl(&[
                "pkeyutl",
                "-sign",
                "-inkey",
                s(&key.private),
                "-pkeyopt",
                "digest:sha256",
                "-pkeyopt",
                "rsa_padding_mode:pkcs1",
                "-in",
                s(&hash),
                "-out",
                s(&sig),
            ]);
        }
        std::fs::read(sig).unwrap()
    };
    let versioned = |sigs: Vec<Vec<u8>>| -> Vec<(u32, Vec<u8>)> {
        let n = sigs.len() as u32;
        sigs.into_iter().enumerate().map(|(i, s)| (3 - n + i as u32, s)).collect()
    };
    let mut metadata_signature = Vec::new();
    if major == 2 {
        let mut metadata = head.clone();
        metadata.extend_from_slice(&[0u8; 4]); // size patched below, once known
        let meta_sig_len = signatures_blob(&placeholder[..1]).len() as u32;
        metadata[20..24].copy_from_slice(&meta_sig_len.to_be_bytes());
        metadata.extend_from_slice(&m);
        metadata_signature = signatures_blob(&versioned(vec![sign_file(&metadata, "meta", 0, signers[0])]));
        assert_eq!(metadata_signature.len() as u32, meta_sig_len);
        head.extend_from_slice(&meta_sig_len.to_be_bytes());
    }
    let mut signed = head.clone();
    signed.extend_from_slice(&m);
    signed.extend_from_slice(data);
    let sigs: Vec<Vec<u8>> = signers.iter().enumerate().map(|(i, k)| sign_file(&signed, "payload", i, k)).collect();
    let blob = signatures_blob(&versioned(sigs));
    assert_eq!(blob.len() as u64, sig_size);
    let mut bytes = head;
    bytes.extend_from_slice(&m);
    bytes.extend_from_slice(&metadata_signature);
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(&blob);
    let path = dir.join(format!("{name}.crau"));
    std::fs::write(&path, &bytes).unwrap();
    Built { path, bytes }
}

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
fn version_2_payloads_verify_without_the_metadata_signature_bytes() {
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
        assert!(matches!(e, Error::BadSignature { tried: 1 }), "stranger: {e}");
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

//! CrAU payloads built the way update_engine's signer builds them, with the protobufs
//! encoded by hand here, independently of rootseal's prost structs.

use super::{KeyPair, openssl, s};
use std::path::{Path, PathBuf};

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

pub fn field_varint(tag: u64, value: u64, out: &mut Vec<u8>) {
    varint(tag << 3, out);
    varint(value, out);
}

pub fn field_bytes(tag: u64, bytes: &[u8], out: &mut Vec<u8>) {
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

pub struct Built {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Builds and signs a payload. `signers` get versions 3-N..=2 as core_sign_update assigns.
/// Version 2 payloads carry a metadata signature too, excluded from the payload hash.
pub fn build_payload(dir: &Path, name: &str, major: u64, data: &[u8], signers: &[&KeyPair], modulus: usize) -> Built {
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

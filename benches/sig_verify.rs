//! Throughput of detached-signature verification over a file (read once with `pread`;
//! one pass computes every digest the trusted keys need), in the default library context.
//!
//! ```text
//! cargo bench --bench sig_verify                 # full run
//! cargo bench --bench sig_verify -- --test       # smoke mode: every case once
//! ROOTSEAL_BENCH_MIB=1024 cargo bench --bench sig_verify
//! ```
//!
//! Cases: RSA-2048 PKCS#1 v1.5 with SHA-256 and SHA-512, ECDSA P-256 SHA-256 and Ed25519
//! (up to its in-memory limit), and two trusted RSA-2048 keys (rotation: the first does
//! not match) with the scheme given and auto-detected, over a page-cached file of
//! `ROOTSEAL_BENCH_MIB` MiB (default 64). Two keys must cost what one costs. The signature
//! itself costs microseconds, so these are hashing numbers; the side-by-side comparison
//! with `openssl dgst -sha256 -verify` is benches/compare-openssl-verify.sh.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use rootseal::crypto::CryptoContext;
use rootseal::crypto::HashAlgorithm;
use rootseal::sig::{MAX_ED25519_FILE, Padding, Policy, Scheme, TrustStore};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_MIB: usize = 64;

fn file_bytes() -> usize {
    let mib = std::env::var("ROOTSEAL_BENCH_MIB").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&m| m > 0);
    mib.unwrap_or(DEFAULT_MIB) << 20
}

fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        data.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    data.truncate(len);
    data
}

fn sign(key: &PKey<Private>, digest: Option<MessageDigest>, data: &[u8]) -> Vec<u8> {
    let mut signer = match digest {
        Some(md) => Signer::new(md, key).unwrap(),
        None => Signer::new_without_digest(key).unwrap(),
    };
    signer.sign_oneshot_to_vec(data).unwrap()
}

fn bench(c: &mut Criterion) {
    let len = file_bytes();
    let data = pseudo_random(len);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    std::fs::write(&path, &data).unwrap();

    let rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let ec =
        PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap();
    let ed = PKey::generate_ed25519().unwrap();
    let sha256 = Scheme { digest: HashAlgorithm::Sha256, padding: Padding::Pkcs1 };
    let sha512 = Scheme { digest: HashAlgorithm::Sha512, padding: Padding::Pkcs1 };
    let cases = [
        ("rsa2048-sha256", &rsa, Some(MessageDigest::sha256()), sha256),
        ("rsa2048-sha512", &rsa, Some(MessageDigest::sha512()), sha512),
        ("p256-sha256", &ec, Some(MessageDigest::sha256()), sha256),
        ("ed25519", &ed, None, sha256),
    ];

    let mut group = c.benchmark_group("verify_file");
    group.throughput(Throughput::Bytes(len as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, key, digest, scheme) in cases {
        if digest.is_none() && len as u64 > MAX_ED25519_FILE {
            continue; // Ed25519 holds the whole file in memory, up to its limit
        }
        let signature = sign(key, digest, &data);
        let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
        store.add_bytes(&key.public_key_to_pem().unwrap(), name).unwrap();
        store.verify_file(&path, &signature, scheme, Policy::Default).expect("the bench signature verifies");
        group.bench_with_input(BenchmarkId::from_parameter(name), &signature, |b, signature| {
            b.iter(|| black_box(store.verify_file(&path, signature, scheme, Policy::Default).unwrap()))
        });
    }

    // Key rotation: the old key first, the signing key second.
    let old = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    store.add_bytes(&old.public_key_to_pem().unwrap(), "old").unwrap();
    store.add_bytes(&rsa.public_key_to_pem().unwrap(), "new").unwrap();
    let signature = sign(&rsa, Some(MessageDigest::sha256()), &data);
    store.verify_file_auto(&path, &signature, Policy::Default).expect("the bench signature verifies");
    group.bench_function("2keys-rsa2048-sha256", |b| {
        b.iter(|| black_box(store.verify_file(&path, &signature, sha256, Policy::Default).unwrap()))
    });
    group.bench_function("2keys-rsa2048-sha256-auto", |b| {
        b.iter(|| black_box(store.verify_file_auto(&path, &signature, Policy::Default).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

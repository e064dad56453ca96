//! Keys beyond the acceptance matrix, each made by the openssl CLI: RSA e = 3 under the
//! fips policy, RSA-PSS keys with and without parameters, a key the FIPS provider cannot
//! load next to a good one, key-order independence, all-or-nothing bundles and DER with
//! trailing bytes.

use crate::sig_support;

use rootseal::crypto::CryptoContext;
use rootseal::crypto::HashAlgorithm;
use rootseal::sig::{Error, Padding, Policy, Scheme, TrustStore};
use sig_support::*;
use std::path::Path;
use std::sync::Arc;

fn contexts() -> [Arc<CryptoContext>; 2] {
    [Arc::new(CryptoContext::default_provider()), Arc::new(CryptoContext::fips(Some(&fips_config())).unwrap())]
}

fn store_of(ctx: &Arc<CryptoContext>, keys: &[&Path]) -> TrustStore {
    let mut store = TrustStore::new(ctx.clone());
    for key in keys {
        store.add_file(key).unwrap();
    }
    store
}

fn data_file(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::write(&data, b"signed payload bytes\n".repeat(5000)).unwrap();
    data
}

fn genkey_with(dir: &Path, name: &str, args: &[&str]) -> KeyPair {
    let private = dir.join(format!("{name}.key.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    openssl(&[&["genpkey", "-out", s(&private)][..], args].concat());
    openssl(&["pkey", "-in", s(&private), "-pubout", "-out", s(&public)]);
    KeyPair { private, public }
}

/// FIPS 186-5 wants an odd e with 2^16 < e < 2^256; openssl (and its FIPS provider)
/// still verify with e = 3, and so does rootseal's default policy.
#[test]
fn rsa_exponent_3_is_refused_by_the_fips_policy_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey_with(
        d,
        "e3",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_pubexp:3"],
    );
    let data = data_file(d);
    let sig = d.join("sig");
    sign(&key, "sha256", false, &data, &sig);
    assert!(openssl_verifies(&key, "sha256", false, &data, &sig, &[]));
    let signature = std::fs::read(&sig).unwrap();
    for ctx in contexts() {
        let store = store_of(&ctx, &[&key.public]);
        let v = store.verify_file(&data, &signature, Scheme::default(), Policy::Default).unwrap();
        assert_eq!(v.fingerprint.to_string(), fingerprint(&key.public));
        for result in [
            store.verify_file(&data, &signature, Scheme::default(), Policy::Fips),
            store.verify_file_auto(&data, &signature, Policy::Fips),
        ] {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::PolicyRefused { .. }), "{err}");
            assert!(err.to_string().contains("exponent 3"), "{err}");
        }
    }
    // The usual e = 65537 passes the fips policy.
    let normal = genkey(d, "normal", "rsa:2048");
    sign(&normal, "sha256", false, &data, &sig);
    let store = store_of(&contexts()[1], &[&normal.public]);
    store.verify_file(&data, &std::fs::read(&sig).unwrap(), Scheme::default(), Policy::Fips).unwrap();
}

/// RSA-PSS keys (id-RSASSA-PSS), with restrictions and without: their signatures verify
/// whether or not the caller names the scheme, and a wrong digest is refused.
#[test]
fn rsa_pss_keys_verify_their_own_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let restricted = genkey_with(
        d,
        "pss-restricted",
        &[
            "-algorithm",
            "RSA-PSS",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-pkeyopt",
            "rsa_pss_keygen_md:sha256",
            "-pkeyopt",
            "rsa_pss_keygen_saltlen:32",
        ],
    );
    let open = genkey_with(d, "pss-open", &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let data = data_file(d);
    for (key, digest) in [(&restricted, "sha256"), (&open, "sha256"), (&open, "sha512")] {
        let sig = d.join(format!("{}.{digest}.sig", key.public.file_name().unwrap().to_str().unwrap()));
        // Plain `openssl dgst -sign`: the key itself makes it PSS.
        sign(key, digest, false, &data, &sig);
        assert!(openssl_verifies(key, digest, false, &data, &sig, &[]));
        let signature = std::fs::read(&sig).unwrap();
        let alg = rootseal::sig::parse_signature_digest(digest).unwrap();
        for ctx in contexts() {
            let what = format!("{} {digest} fips={}", key.public.display(), ctx.is_fips());
            let store = store_of(&ctx, &[&key.public]);
            for padding in [Padding::Pss, Padding::Pkcs1] {
                let scheme = Scheme { digest: alg, padding };
                let v = store
                    .verify_file(&data, &signature, scheme, Policy::Fips)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(v.scheme.starts_with("RSA-PSS-2048 PSS"), "{what}: {}", v.scheme);
            }
            let v =
                store.verify_file_auto(&data, &signature, Policy::Fips).unwrap_or_else(|e| panic!("{what} auto: {e}"));
            assert_eq!(v.scheme, format!("RSA-PSS-2048 PSS {}", alg.label()), "{what}");
            assert_eq!(v.provider, if ctx.is_fips() { "fips" } else { "default" });
            // Another digest than the one signed (or than the key allows) is refused.
            let wrong = Scheme { digest: HashAlgorithm::Sha384, padding: Padding::Pss };
            let err = store.verify_file(&data, &signature, wrong, Policy::Fips).unwrap_err();
            assert!(matches!(err, Error::BadSignature { tried: 1, .. }), "{what}: {err}");
            let mut tampered = std::fs::read(&data).unwrap();
            tampered[3] ^= 1;
            let err = store.verify_bytes_auto(&tampered, &signature, Policy::Fips).unwrap_err();
            assert!(matches!(err, Error::BadSignature { .. }), "{what}: {err}");
        }
    }
}

/// A (key, scheme) pair the provider will not set up (here a SHA-512 check against an
/// RSA-PSS key restricted to SHA-256) does not stop the other keys being tried, in
/// either order.
#[test]
fn the_result_does_not_depend_on_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let restricted = genkey_with(
        d,
        "pss",
        &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_pss_keygen_md:sha256"],
    );
    let signer = genkey(d, "signer", "rsa:2048");
    let data = data_file(d);
    let sig = d.join("sig");
    sign(&signer, "sha512", true, &data, &sig);
    let signature = std::fs::read(&sig).unwrap();
    let scheme = Scheme { digest: HashAlgorithm::Sha512, padding: Padding::Pss };
    for ctx in contexts() {
        for order in [[&restricted.public, &signer.public], [&signer.public, &restricted.public]] {
            let store = store_of(&ctx, &[order[0], order[1]]);
            let v = store.verify_file_auto(&data, &signature, Policy::Default).unwrap();
            assert_eq!(v.fingerprint.to_string(), fingerprint(&signer.public));
            let v = store.verify_file(&data, &signature, scheme, Policy::Default).unwrap();
            assert_eq!(v.fingerprint.to_string(), fingerprint(&signer.public));
        }
    }
}

/// In FIPS mode a secp256k1 key (which the FIPS provider does not implement) is refused
/// by policy, and the good P-256 key next to it still verifies.
#[test]
fn a_key_the_fips_provider_cannot_load_is_refused_and_the_others_are_tried() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k1 = genkey(d, "k1", "ec:secp256k1");
    let p256 = genkey(d, "p256", "ec:P-256");
    let data = data_file(d);
    let sig = d.join("sig");
    sign(&p256, "sha256", false, &data, &sig);
    let signature = std::fs::read(&sig).unwrap();
    let fips = contexts()[1].clone();
    let store = store_of(&fips, &[&k1.public, &p256.public]);
    assert_eq!(store.len(), 2);
    assert!(store.keys()[0].unusable_reason().unwrap().contains("FIPS provider cannot load"));
    let v = store.verify_file(&data, &signature, Scheme::default(), Policy::Fips).unwrap();
    assert_eq!(v.fingerprint.to_string(), fingerprint(&p256.public));
    assert_eq!(v.provider, "fips");
    let v = store.verify_file_auto(&data, &signature, Policy::Default).unwrap();
    assert_eq!(v.fingerprint.to_string(), fingerprint(&p256.public));
    // Alone, it is a policy refusal that names the reason.
    let k1_sig = d.join("k1.sig");
    sign(&k1, "sha256", false, &data, &k1_sig);
    let err = store_of(&fips, &[&k1.public])
        .verify_file_auto(&data, &std::fs::read(&k1_sig).unwrap(), Policy::Default)
        .unwrap_err();
    assert!(matches!(&err, Error::PolicyRefused { reasons, .. } if reasons.contains("FIPS provider")), "{err}");
}

/// A bundle with a bad second block leaves the store as it was.
#[test]
fn adding_a_bundle_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = genkey(d, "good", "rsa:2048");
    let other = genkey(d, "other", "rsa:2048");
    let cert = self_signed_cert(d, &other, "other");
    let cert_der = d.join("other.crt.der");
    openssl(&["x509", "-in", s(&cert), "-outform", "DER", "-out", s(&cert_der)]);
    // Break the RSA key inside the certificate (the modulus INTEGER tag becomes an
    // OCTET STRING): the certificate still parses, its key does not.
    let mut der = std::fs::read(&cert_der).unwrap();
    let marker = [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01];
    let at = der.windows(marker.len()).position(|w| w == marker).expect("an RSA-2048 key in the certificate");
    der[at + 4] = 0x04;
    let broken_cert =
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", openssl::base64::encode_block(&der));
    let bundle = [std::fs::read(&good.public).unwrap(), broken_cert.into_bytes()].concat();
    for ctx in contexts() {
        let mut store = TrustStore::new(ctx.clone());
        let err = store.add_bytes(&bundle, "bundle").unwrap_err();
        assert!(matches!(err, Error::InvalidKey { .. }), "{err}");
        assert!(err.to_string().contains("block 2"), "{err}");
        assert_eq!(store.len(), 0, "the good first key must not have been added");
        // A store that already holds keys keeps exactly those.
        store.add_file(&other.public).unwrap();
        store.add_bytes(&bundle, "bundle").unwrap_err();
        assert_eq!(store.len(), 1);
        assert_eq!(store.keys()[0].fingerprint().to_string(), fingerprint(&other.public));
    }
}

/// A DER key followed by other bytes is refused (its fingerprint would cover them), as
/// is a DER certificate with a tail; the exact DER is accepted with openssl's fingerprint.
#[test]
fn der_with_trailing_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "ec:P-256");
    let der = d.join("k.der");
    openssl(&["pkey", "-pubin", "-in", s(&key.public), "-outform", "DER", "-out", s(&der)]);
    let exact = std::fs::read(&der).unwrap();
    let cert = self_signed_cert(d, &key, "k");
    let cert_der = d.join("k.crt.der");
    openssl(&["x509", "-in", s(&cert), "-outform", "DER", "-out", s(&cert_der)]);
    let cert_bytes = std::fs::read(&cert_der).unwrap();
    for ctx in contexts() {
        let mut store = TrustStore::new(ctx.clone());
        for (bytes, what) in [
            ([exact.as_slice(), b"\0"].concat(), "key"),
            ([exact.as_slice(), &exact].concat(), "key"),
            ([cert_bytes.as_slice(), b"junk"].concat(), "certificate"),
        ] {
            let err = store.add_bytes(&bytes, "der").unwrap_err();
            assert!(err.to_string().contains("follow the DER"), "{what}: {err}");
        }
        assert_eq!(store.len(), 0);
        let added = store.add_bytes(&exact, "der").unwrap();
        assert_eq!(added[0].to_string(), fingerprint(&key.public));
        store.add_bytes(&cert_bytes, "der").unwrap();
        assert_eq!(store.len(), 1, "the certificate carries the same key");
    }
}

/// Only a 64-byte signature can be Ed25519's. A trusted Ed25519 key must not make an
/// RSA check gather the file in memory, nor turn "does not verify" over a file too large
/// for Ed25519 into an input error.
#[test]
fn an_ed25519_key_is_left_out_unless_the_signature_could_be_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let ed = genkey(dir.path(), "ed", "ed25519");
    let rsa = genkey(dir.path(), "rsa", "rsa:2048");
    let other = genkey(dir.path(), "other", "rsa:2048");
    // Sparse, and larger than MAX_ED25519_FILE.
    let big = dir.path().join("big");
    std::fs::File::create(&big).unwrap().set_len(rootseal::sig::MAX_ED25519_FILE + 4096).unwrap();
    let sig = dir.path().join("big.sig");
    sign(&other, "sha256", false, &big, &sig);
    let signature = std::fs::read(&sig).unwrap();
    let store = store_of(&contexts()[0], &[&ed.public, &rsa.public]);
    let err = store.verify_file_auto(&big, &signature, Policy::Default).unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    sign(&rsa, "sha256", false, &big, &sig);
    let verified = store.verify_file_auto(&big, &std::fs::read(&sig).unwrap(), Policy::Default).unwrap();
    assert_eq!(verified.fingerprint.to_string(), fingerprint(&rsa.public));
}

/// Encodings the openssl CLI writes that a careful user may hand over as trust anchors:
/// a TRUSTED CERTIFICATE (trust settings after the certificate), a DER PKCS#1 RSA key,
/// and a DER certificate whose subject happens to contain "-----BEGIN ". A DER private
/// key is refused as a private key.
#[test]
fn openssl_cli_encodings_load_as_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "rsa:2048");
    let want = fingerprint(&key.public);
    let data = data_file(d);
    let sig = d.join("sig");
    sign(&key, "sha256", false, &data, &sig);
    let signature = std::fs::read(&sig).unwrap();

    let cert = self_signed_cert(d, &key, "anchor");
    let trusted = d.join("trusted.pem");
    openssl(&["x509", "-in", s(&cert), "-trustout", "-addtrust", "anyExtendedKeyUsage", "-out", s(&trusted)]);
    let pkcs1_der = d.join("pkcs1.der");
    openssl(&["rsa", "-pubin", "-in", s(&key.public), "-RSAPublicKey_out", "-outform", "DER", "-out", s(&pkcs1_der)]);
    let begin_der = d.join("begin.der");
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        s(&key.private),
        "-subj",
        "/CN=-----BEGIN X",
        "-days",
        "2",
        "-outform",
        "DER",
        "-out",
        s(&begin_der),
    ]);
    for file in [&trusted, &pkcs1_der, &begin_der] {
        let mut store = TrustStore::new(contexts()[0].clone());
        let added = store.add_file(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(added.iter().map(|f| f.to_string()).collect::<Vec<_>>(), vec![want.clone()], "{}", file.display());
        let verified = store.verify_file_auto(&data, &signature, Policy::Default).unwrap();
        assert_eq!(verified.fingerprint.to_string(), want);
    }

    let private_der = d.join("private.der");
    openssl(&["pkey", "-in", s(&key.private), "-outform", "DER", "-out", s(&private_der)]);
    let err = TrustStore::new(contexts()[0].clone()).add_file(&private_der).unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }) && err.to_string().contains("private key"), "{err}");
}

/// Issue 15 item 2: an Ed25519 signature is only a candidate when its S is below the
/// group order L, decided before the file is gathered. OpenSSL refuses S + L (the same
/// signature, not reduced) and so must rootseal, while the reduced one verifies.
#[test]
fn an_ed25519_signature_with_s_not_below_the_order_is_refused_like_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ed = genkey(d, "ed", "ed25519");
    let data = data_file(d);
    let sig = d.join("sig");
    sign(&ed, "none", false, &data, &sig);
    let good = std::fs::read(&sig).unwrap();
    // L, little-endian.
    let order: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut unreduced = good.clone();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(unreduced[32 + i]) + u16::from(order[i]) + carry;
        unreduced[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S < L < 2^253, so S + L fits in 32 bytes");
    let unreduced_sig = d.join("unreduced.sig");
    std::fs::write(&unreduced_sig, &unreduced).unwrap();
    assert!(openssl_verifies(&ed, "none", false, &data, &sig, &[]));
    assert!(!openssl_verifies(&ed, "none", false, &data, &unreduced_sig, &[]));
    let store = store_of(&contexts()[0], &[&ed.public]);
    let verified = store.verify_file_auto(&data, &good, Policy::Default).unwrap();
    assert_eq!(verified.fingerprint.to_string(), fingerprint(&ed.public));
    let err = store.verify_file_auto(&data, &unreduced, Policy::Default).unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    let err = store.verify_bytes_auto(&std::fs::read(&data).unwrap(), &unreduced, Policy::Default).unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
}

/// Issue 15 item 9: trailing bytes are refused in every encoding, not only SPKI and
/// CERTIFICATE: a PKCS#1 `RSA PUBLIC KEY` (PEM and DER) with junk after the DER, and a
/// `TRUSTED CERTIFICATE` with junk after its trust settings (or instead of them). The
/// files come from `openssl rsa -RSAPublicKey_out` and `openssl x509 -trustout`; the
/// untouched ones load with openssl's fingerprint.
#[test]
fn pkcs1_keys_and_trusted_certificates_with_trailing_bytes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = genkey(d, "k", "rsa:2048");
    let want = fingerprint(&key.public);
    let pkcs1_der = d.join("pkcs1.der");
    openssl(&["rsa", "-pubin", "-in", s(&key.public), "-RSAPublicKey_out", "-outform", "DER", "-out", s(&pkcs1_der)]);
    let pkcs1_pem = d.join("pkcs1.pem");
    openssl(&["rsa", "-pubin", "-in", s(&key.public), "-RSAPublicKey_out", "-out", s(&pkcs1_pem)]);
    let cert = self_signed_cert(d, &key, "anchor");
    let trusted = d.join("trusted.pem");
    openssl(&["x509", "-in", s(&cert), "-trustout", "-addtrust", "anyExtendedKeyUsage", "-out", s(&trusted)]);
    let pem = |label: &str, der: &[u8]| {
        let body = openssl::base64::encode_block(der);
        let lines: Vec<String> = body.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n")).into_bytes()
    };
    let der_of = |pem_file: &Path| {
        let text = std::fs::read_to_string(pem_file).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        openssl::base64::decode_block(&body).unwrap()
    };
    let pkcs1 = std::fs::read(&pkcs1_der).unwrap();
    assert_eq!(der_of(&pkcs1_pem), pkcs1, "openssl wrote the same key twice");
    let trusted_der = der_of(&trusted);
    let cert_der = der_of(&cert);
    assert!(trusted_der.len() > cert_der.len() && trusted_der.starts_with(&cert_der));

    for ctx in contexts() {
        // The files as openssl wrote them load, as the same key.
        for file in [&pkcs1_der, &pkcs1_pem, &trusted] {
            let mut store = TrustStore::new(ctx.clone());
            let added = store.add_file(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(added[0].to_string(), want, "{}", file.display());
        }
        let junk_after_settings = [trusted_der.as_slice(), b"junk"].concat();
        let junk_instead_of_settings = [cert_der.as_slice(), b"junk"].concat();
        let second_settings = [trusted_der.as_slice(), &trusted_der[cert_der.len()..]].concat();
        for (bytes, what, needle) in [
            ([pkcs1.as_slice(), b"\0"].concat(), "PKCS#1 DER + NUL", "follow the DER PKCS#1"),
            ([pkcs1.as_slice(), &pkcs1].concat(), "PKCS#1 DER twice", "follow the DER PKCS#1"),
            (
                pem("RSA PUBLIC KEY", &[pkcs1.as_slice(), b"junk"].concat()),
                "PKCS#1 PEM + junk",
                "follow the DER PKCS#1",
            ),
            (pem("TRUSTED CERTIFICATE", &junk_after_settings), "trusted + junk", "follow the DER certificate"),
            (pem("TRUSTED CERTIFICATE", &second_settings), "trusted + settings twice", "follow the DER certificate"),
            (pem("TRUSTED CERTIFICATE", &junk_instead_of_settings), "cert + junk", "not a trusted certificate"),
        ] {
            let mut store = TrustStore::new(ctx.clone());
            let err = store.add_bytes(&bytes, what).unwrap_err();
            assert!(matches!(err, Error::InvalidKey { .. }), "{what}: {err}");
            assert!(err.to_string().contains(needle), "{what}: {err}");
            assert_eq!(store.len(), 0, "{what}");
        }
    }
}

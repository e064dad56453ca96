//! dm-verity root-hash signatures against the openssl CLI: `openssl cms` and
//! `openssl smime` sign the root hash veritysetup printed (as the kernel expects it:
//! lowercase hex, no newline), rootseal verifies; rootseal signs, `openssl cms -verify`
//! checks.

use crate::sig_support;

use rootseal::crypto::CryptoContext;
use rootseal::sig::{Error, TrustStore, sign_root_hash};
use sig_support::*;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn veritysetup_root_hash(dir: &Path) -> String {
    let data = dir.join("data.img");
    std::fs::write(&data, vec![0x42u8; 1 << 20]).unwrap();
    let out = Command::new("veritysetup")
        .args(["format", "--no-superblock"])
        .arg(&data)
        .arg(dir.join("hash.img"))
        .output()
        .expect("veritysetup (cryptsetup-bin) must be installed");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().find_map(|l| l.strip_prefix("Root hash:")).unwrap().trim().to_string()
}

fn contexts() -> Vec<Arc<CryptoContext>> {
    vec![Arc::new(CryptoContext::default_provider()), Arc::new(CryptoContext::fips(Some(&fips_config())).unwrap())]
}

#[test]
fn openssl_cms_and_smime_signatures_verify_and_a_newline_breaks_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = veritysetup_root_hash(dir.path());
    assert_eq!(root.len(), 64);
    let key = genkey(dir.path(), "signer", "rsa:2048");
    let cert = self_signed_cert(dir.path(), &key, "signer");
    let other_key = genkey(dir.path(), "other", "ec:P-256");
    let other_cert = self_signed_cert(dir.path(), &other_key, "other");

    let text = dir.path().join("roothash.txt");
    std::fs::write(&text, &root).unwrap();
    let with_newline = dir.path().join("roothash.nl.txt");
    std::fs::write(&with_newline, format!("{root}\n")).unwrap();
    let cms_sig = dir.path().join("cms.p7s");
    let smime_sig = dir.path().join("smime.p7s");
    let nl_sig = dir.path().join("nl.p7s");
    let embedded_sig = dir.path().join("embedded.p7s");
    let common = ["-binary", "-noattr", "-nocerts", "-outform", "DER", "-signer", s(&cert), "-inkey", s(&key.private)];
    cms_sign(s(&cert), s(&key.private), s(&text), s(&cms_sig), &[]);
    openssl(&[&["smime", "-sign"][..], &common, &["-in", s(&text), "-out", s(&smime_sig)]].concat());
    cms_sign(s(&cert), s(&key.private), s(&with_newline), s(&nl_sig), &[]);
    cms_sign(s(&cert), s(&key.private), s(&text), s(&embedded_sig), &["-nodetach"]);
    let foreign_type_sig = dir.path().join("foreign-type.p7s");
    cms_sign(s(&cert), s(&key.private), s(&text), s(&foreign_type_sig), &["-econtent_type", "1.2.3.4"]);
    let mut trailing = std::fs::read(&cms_sig).unwrap();
    trailing.extend_from_slice(b"TRAILINGJUNK");

    let fp = fingerprint(&cert_pubkey(dir.path(), &cert));
    for ctx in contexts() {
        let mut store = TrustStore::new(ctx.clone());
        store.add_file(&other_cert).unwrap();
        store.add_file(&cert).unwrap();
        for sig in [&cms_sig, &smime_sig] {
            let v = store.verify_root_hash(&root, &std::fs::read(sig).unwrap()).unwrap();
            assert_eq!(v.fingerprint.to_string(), fp, "{}", sig.display());
            assert_eq!(v.signed_text, root);
        }
        // Upper-case input is checked as the lowercase text the kernel sees.
        store.verify_root_hash(&root.to_uppercase(), &std::fs::read(&cms_sig).unwrap()).unwrap();
        let e = store.verify_root_hash(&root, &std::fs::read(&nl_sig).unwrap()).unwrap_err();
        assert!(matches!(e, Error::BadSignature { tried: 2, .. }), "newline: {e}");
        let e = store.verify_root_hash(&root, &std::fs::read(&embedded_sig).unwrap()).unwrap_err();
        assert!(matches!(e, Error::BadSignature { .. }), "content embedded (the kernel refuses it too): {e}");
        // The kernel accepts only id-data content, and the DER must end the file.
        let e = store.verify_root_hash(&root, &std::fs::read(&foreign_type_sig).unwrap()).unwrap_err();
        assert!(matches!(e, Error::BadSignature { .. }), "content type 1.2.3.4: {e}");
        let e = store.verify_root_hash(&root, &trailing).unwrap_err();
        assert!(matches!(e, Error::BadSignature { .. }), "trailing bytes: {e}");
        let mut other_root = root.clone().into_bytes();
        other_root[0] = if other_root[0] == b'0' { b'1' } else { b'0' };
        let e = store.verify_root_hash(std::str::from_utf8(&other_root).unwrap(), &std::fs::read(&cms_sig).unwrap());
        assert!(matches!(e, Err(Error::BadSignature { .. })), "other root: {e:?}");

        let mut wrong = TrustStore::new(ctx.clone());
        wrong.add_file(&other_cert).unwrap();
        let e = wrong.verify_root_hash(&root, &std::fs::read(&cms_sig).unwrap()).unwrap_err();
        assert!(matches!(e, Error::BadSignature { tried: 1, .. }), "{e}");
        let e = TrustStore::new(ctx.clone()).verify_root_hash(&root, &std::fs::read(&cms_sig).unwrap()).unwrap_err();
        assert!(matches!(e, Error::EmptyTrustStore), "{e}");
        let e = store.verify_root_hash(&root, b"not der").unwrap_err();
        assert!(matches!(e, Error::InvalidSignature(_)), "{e}");
    }
}

fn cert_pubkey(dir: &Path, cert: &Path) -> std::path::PathBuf {
    let out = dir.join(format!("{}.pub.pem", cert.file_name().unwrap().to_str().unwrap()));
    openssl(&["x509", "-in", s(cert), "-pubkey", "-noout", "-out", s(&out)]);
    out
}

#[test]
fn rootseal_signatures_verify_with_openssl_cms_and_are_detached_without_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let root = veritysetup_root_hash(dir.path());
    let key = genkey(dir.path(), "signer", "rsa:3072");
    let cert = self_signed_cert(dir.path(), &key, "signer");
    let sig = sign_root_hash(&root, &std::fs::read(&cert).unwrap(), &std::fs::read(&key.private).unwrap()).unwrap();
    let sig_path = dir.path().join("roothash.p7s");
    std::fs::write(&sig_path, &sig).unwrap();
    let text = dir.path().join("roothash.txt");
    std::fs::write(&text, &root).unwrap();
    // openssl checks it over the exact text, trusting only the given certificate.
    cms_verify(s(&sig_path), s(&text), s(&cert));
    // Detached (no content), no signed attributes, no embedded certificate.
    let dump =
        String::from_utf8(openssl(&["cms", "-cmsout", "-print", "-inform", "DER", "-in", s(&sig_path)])).unwrap();
    let dump = dump.split_whitespace().collect::<Vec<_>>().join(" ");
    for field in ["eContent: <ABSENT>", "signedAttrs: <ABSENT>", "certificates: <ABSENT>"] {
        assert!(dump.contains(field), "{field} missing in {dump}");
    }
    // PKCS#1 v1.5 is deterministic: the bytes equal `openssl cms -sign -binary -noattr -nocerts`.
    let reference = dir.path().join("reference.p7s");
    cms_sign(s(&cert), s(&key.private), s(&text), s(&reference), &[]);
    assert_eq!(std::fs::read(&reference).unwrap(), sig, "rootseal's PKCS#7 differs from openssl's");
    for ctx in contexts() {
        let mut store = TrustStore::new(ctx);
        store.add_file(&cert).unwrap();
        store.verify_root_hash(&root, &sig).unwrap();
    }
    // Digests other than SHA-256/384/512 are refused by policy, although openssl itself
    // verifies such signatures: MD5 and SHA-1.
    for md in ["md5", "sha1"] {
        let weak_digest_sig = dir.path().join(format!("{md}.p7s"));
        cms_sign(s(&cert), s(&key.private), s(&text), s(&weak_digest_sig), &["-md", md]);
        cms_verify(s(&weak_digest_sig), s(&text), s(&cert));
        let bytes = std::fs::read(&weak_digest_sig).unwrap();
        for ctx in contexts() {
            let mut store = TrustStore::new(ctx.clone());
            store.add_file(&cert).unwrap();
            let e = store.verify_root_hash(&root, &bytes).unwrap_err();
            assert!(matches!(e, Error::PolicyRefused { .. }), "{md} in fips={}: {e}", ctx.is_fips());
        }
    }
    // The SHA-384 and SHA-512 signatures the policy allows verify in both contexts.
    for md in ["sha384", "sha512"] {
        let sig = dir.path().join(format!("{md}.p7s"));
        cms_sign(s(&cert), s(&key.private), s(&text), s(&sig), &["-md", md]);
        for ctx in contexts() {
            let mut store = TrustStore::new(ctx);
            store.add_file(&cert).unwrap();
            store.verify_root_hash(&root, &std::fs::read(&sig).unwrap()).unwrap();
        }
    }
    // A certificate whose key the policy refuses (RSA-1024) is not even tried, and
    // rootseal will not make such a signature in the first place.
    let weak = genkey(dir.path(), "weak", "rsa:1024");
    let weak_cert = self_signed_cert(dir.path(), &weak, "weak");
    let root_file = dir.path().join("root.txt");
    std::fs::write(&root_file, &root).unwrap();
    let weak_sig = dir.path().join("weak.p7s");
    cms_sign(s(&weak_cert), s(&weak.private), s(&root_file), s(&weak_sig), &[]);
    let mut store = TrustStore::new(contexts().remove(0));
    store.add_file(&weak_cert).unwrap();
    let e = store.verify_root_hash(&root, &std::fs::read(&weak_sig).unwrap()).unwrap_err();
    assert!(matches!(e, Error::PolicyRefused { .. }), "{e}");
    let e = sign_root_hash(&root, &std::fs::read(&weak_cert).unwrap(), &std::fs::read(&weak.private).unwrap());
    assert!(matches!(&e, Err(Error::PolicyRefused { reasons, .. }) if reasons.contains("1024")), "{e:?}");
    // In a bundle, the first certificate signs, so it is the one the policy judges.
    let bundle = [std::fs::read(&weak_cert).unwrap(), std::fs::read(&cert).unwrap()].concat();
    let e = sign_root_hash(&root, &bundle, &std::fs::read(&weak.private).unwrap());
    assert!(matches!(&e, Err(Error::PolicyRefused { reasons, .. }) if reasons.contains("1024")), "{e:?}");
    let e = sign_root_hash(&format!("{root}zz"), &std::fs::read(&cert).unwrap(), &std::fs::read(&key.private).unwrap());
    assert!(matches!(e, Err(Error::InvalidArgument(_))), "{e:?}");
}

/// Issue 15 item 11: a root-hash PKCS#7 with two signers, made by `openssl cms -sign`
/// with two `-signer`/`-inkey` pairs, is checked as the kernel checks it: every signature
/// that can be checked must verify, and at least one signer must be a trusted
/// certificate. One trusted certificate no longer has to cover every signer, so a key
/// rotation signs with the old and the new key and devices trusting either accept it.
#[test]
fn two_signers_each_must_verify_and_one_must_be_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = veritysetup_root_hash(d);
    let old = genkey(d, "old", "rsa:2048");
    let old_cert = self_signed_cert(d, &old, "old");
    let new = genkey(d, "new", "ec:P-256");
    let new_cert = self_signed_cert(d, &new, "new");
    let stranger = genkey(d, "stranger", "rsa:2048");
    let stranger_cert = self_signed_cert(d, &stranger, "stranger");
    let text = d.join("roothash.txt");
    std::fs::write(&text, &root).unwrap();
    let both = |out: &Path, extra: &[&str]| {
        let mut args = vec!["cms", "-sign", "-binary", "-noattr", "-outform", "DER", "-in", s(&text), "-out", s(out)];
        args.extend_from_slice(extra);
        args.extend(["-signer", s(&old_cert), "-inkey", s(&old.private)]);
        args.extend(["-signer", s(&new_cert), "-inkey", s(&new.private)]);
        openssl(&args);
        std::fs::read(out).unwrap()
    };
    let bare = both(&d.join("bare.p7s"), &["-nocerts"]);
    let carried = both(&d.join("carried.p7s"), &[]);
    // The last signer's signature ends the DER (no unsigned attributes): flip its last byte.
    let mut corrupted = carried.clone();
    *corrupted.last_mut().unwrap() ^= 1;
    let corrupted_path = d.join("corrupted.p7s");
    std::fs::write(&corrupted_path, &corrupted).unwrap();
    let bundle = d.join("both.pem");
    let certs = [std::fs::read(&old_cert).unwrap(), std::fs::read(&new_cert).unwrap()].concat();
    std::fs::write(&bundle, certs).unwrap();
    // openssl agrees that both signatures verify, and that the corrupted one does not.
    cms_verify(s(&d.join("carried.p7s")), s(&text), s(&bundle));
    let openssl_accepts = |sig: &Path| {
        Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in", s(sig), "-content", s(&text)])
            .args(["-certfile", s(&bundle), "-nointern", "-noverify", "-out", "/dev/null"])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!openssl_accepts(&corrupted_path));

    let fp_old = fingerprint(&cert_pubkey(d, &old_cert));
    let fp_new = fingerprint(&cert_pubkey(d, &new_cert));
    for ctx in contexts() {
        let store_of = |certs: &[&std::path::PathBuf]| {
            let mut store = TrustStore::new(ctx.clone());
            for cert in certs {
                store.add_file(cert).unwrap();
            }
            store
        };
        // Either key alone is enough, with or without the certificates in the message:
        // the other signer is checked under its carried certificate, or skipped when
        // no certificate names it (as the kernel skips it).
        for sig in [&bare, &carried] {
            for (cert, fp) in [(&old_cert, &fp_old), (&new_cert, &fp_new)] {
                let v = store_of(&[cert]).verify_root_hash(&root, sig).unwrap();
                assert_eq!(&v.fingerprint.to_string(), fp);
            }
            store_of(&[&old_cert, &new_cert]).verify_root_hash(&root, sig).unwrap();
        }
        // A signer whose signature does not verify fails the whole signature, whichever
        // certificate is trusted.
        for certs in [&[&old_cert, &new_cert][..], &[&old_cert], &[&new_cert]] {
            let e = store_of(certs).verify_root_hash(&root, &corrupted).unwrap_err();
            assert!(matches!(e, Error::RootHashRejected(_)), "{e}");
            assert!(e.to_string().contains("of 2 does not verify"), "{e}");
            assert_eq!(e.class(), rootseal::ErrorClass::CheckFailed);
        }
        // Valid signatures, but no signer is trusted.
        for sig in [&bare, &carried] {
            let e = store_of(&[&stranger_cert]).verify_root_hash(&root, sig).unwrap_err();
            assert!(matches!(e, Error::RootHashRejected(_)), "{e}");
            assert!(e.to_string().contains("no signer is one of the 1 trusted certificate(s)"), "{e}");
        }
        // Another root hash: nothing verifies.
        let mut other = root.clone().into_bytes();
        other[0] = if other[0] == b'0' { b'1' } else { b'0' };
        let e = store_of(&[&old_cert]).verify_root_hash(std::str::from_utf8(&other).unwrap(), &carried).unwrap_err();
        assert!(e.is_rejection(), "{e}");
    }
}

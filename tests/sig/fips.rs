//! FIPS mode: the provider built by scripts/build-fips-provider.sh runs in a private
//! library context, says who it is, does the work, refuses what it does not implement,
//! leaves the process's default context alone, and a broken provider means no
//! verification at all.

use crate::sig_support;

use openssl::hash::{MessageDigest, hash};
use rootseal::crypto::{CryptoContext, HashAlgorithm, default_context_is_fips};
use rootseal::sig::{Policy, Scheme, TrustStore};
use sig_support::*;
use std::sync::Arc;

#[test]
fn fips_context_reports_the_provider_and_leaves_the_default_context_untouched() {
    // The default context is usable for non-FIPS algorithms before...
    assert!(!default_context_is_fips());
    let md5_before = hash(MessageDigest::md5(), b"abc").expect("MD5 works in the default context");

    let ctx = CryptoContext::fips(Some(&fips_config())).unwrap();
    let status = ctx.status();
    assert!(status.active && ctx.is_fips());
    let provider = status.provider.unwrap();
    assert_eq!(provider.name, "OpenSSL FIPS Provider");
    assert_eq!(provider.version, "3.6.3");
    assert_eq!(status.config.as_deref(), Some(fips_config().as_path()));

    // ...and after: no fips=yes default, MD5 (which FIPS lacks) still there, same value.
    assert!(!default_context_is_fips());
    assert_eq!(&*hash(MessageDigest::md5(), b"abc").unwrap(), &*md5_before);
    assert_eq!(hex(&md5_before), "900150983cd24fb0d6963f7d28e17f72");

    let default_ctx = CryptoContext::default_provider();
    assert!(!default_ctx.is_fips());
    assert_eq!(default_ctx.status().provider, None);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_fips_provider_does_the_work_and_the_default_provider_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let key = genkey(dir.path(), "k", "ec:P-384");
    let data = dir.path().join("d");
    std::fs::write(&data, b"x".repeat(10_000)).unwrap();
    let sig = dir.path().join("s");
    sign(&key, "sha384", false, &data, &sig);
    let scheme = Scheme { digest: HashAlgorithm::Sha384, ..Scheme::default() };
    let signature = std::fs::read(&sig).unwrap();
    for (ctx, provider) in
        [(CryptoContext::fips(Some(&fips_config())).unwrap(), "fips"), (CryptoContext::default_provider(), "default")]
    {
        let mut store = TrustStore::new(Arc::new(ctx));
        store.add_file(&key.public).unwrap();
        let v = store.verify_file(&data, &signature, scheme, Policy::Fips).unwrap();
        assert_eq!(v.provider, provider);
    }
    assert!(!default_context_is_fips());
}

/// The config must activate base next to fips: without it no key can be decoded, and
/// every check would fail later as if the key were bad. A directory is not a config.
#[test]
fn a_config_without_the_base_provider_or_a_directory_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fips_config()).unwrap();
    let without_base: String =
        good.lines().filter(|l| l.trim() != "base = base_sect").map(|l| format!("{l}\n")).collect();
    assert_ne!(without_base, good, "the config names the base provider");
    let config = dir.path().join("no-base.cnf");
    std::fs::write(&config, without_base).unwrap();
    let err = CryptoContext::fips(Some(&config)).unwrap_err();
    assert!(
        matches!(err, rootseal::crypto::Error::FipsUnavailable(_)) && err.to_string().contains("base provider"),
        "{err}"
    );

    let err = CryptoContext::fips(Some(dir.path())).unwrap_err();
    assert!(err.to_string().contains("is not a regular file"), "{err}");
}

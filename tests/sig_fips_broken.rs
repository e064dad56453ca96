//! FIPS mode with a broken provider. This is its own test binary on purpose: a FIPS
//! module whose self-test fails enters its error state for the whole process (that
//! state is global in fips.so), so it would poison every other FIPS test running in the
//! same process. That is also why rootseal never retries or falls back.

mod sig_support;

use rootseal::crypto::Error;
use rootseal::crypto::{CryptoContext, default_context_is_fips};
use sig_support::*;

#[test]
fn a_provider_failing_its_self_test_or_a_missing_config_means_no_verification() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fips_config()).unwrap();
    let include =
        good.lines().find_map(|l| l.strip_prefix(".include ")).expect("config includes fipsmodule.cnf").trim();
    let module_cnf = std::fs::read_to_string(include).unwrap();

    // A fipsmodule.cnf whose module MAC does not match the module: the integrity
    // self-test fails, the provider does not activate.
    let tampered_mac: String = module_cnf
        .lines()
        .map(|l| match l.strip_prefix("module-mac = ") {
            Some(mac) => format!("module-mac = {}{}\n", if mac.starts_with('0') { '1' } else { '0' }, &mac[1..]),
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(tampered_mac, module_cnf);
    let bad_module_cnf = dir.path().join("fipsmodule.cnf");
    std::fs::write(&bad_module_cnf, tampered_mac).unwrap();
    let bad_config = dir.path().join("openssl-fips.cnf");
    std::fs::write(&bad_config, good.replace(include, bad_module_cnf.to_str().unwrap())).unwrap();
    let e = CryptoContext::fips(Some(&bad_config)).unwrap_err();
    assert!(matches!(e, Error::FipsUnavailable(_)), "{e}");

    // A config that activates only the default provider is not FIPS mode either.
    let not_fips = dir.path().join("default-only.cnf");
    std::fs::write(&not_fips, "openssl_conf = init\n[init]\nproviders = p\n[p]\ndefault = d\n[d]\nactivate = 1\n")
        .unwrap();
    let e = CryptoContext::fips(Some(&not_fips)).unwrap_err();
    assert!(matches!(e, Error::FipsUnavailable(_)), "{e}");

    let e = CryptoContext::fips(Some(&dir.path().join("missing.cnf"))).unwrap_err();
    assert!(matches!(e, Error::FipsUnavailable(_)), "{e}");
    assert!(!default_context_is_fips());
}

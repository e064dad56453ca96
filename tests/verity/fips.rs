//! Verity hashing in FIPS mode: every digest comes from the OpenSSL FIPS provider built
//! by scripts/build-fips-provider.sh, and the trees are still byte-identical to
//! `veritysetup format`'s, for both hash types and every algorithm veritysetup offers.
//!
//! FIPS mode is a value each call carries (`RunOptions::hashing`), so the tests here run
//! side by side, in FIPS mode and out of it, without seeing each other's mode.

use crate::common;
use crate::sig_support;

use common::{describe, parse_root_hash, pseudo_random, veritysetup};
use rootseal::crypto::{CryptoContext, default_context_is_fips};
use rootseal::verity::{self, HashBackend, HashChoice, RunOptions, VerityOptions};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// FIPS mode: every digest from the FIPS provider of a fresh context.
fn fips_mode() -> HashChoice {
    let context = CryptoContext::fips(Some(&sig_support::fips_config())).expect("the FIPS provider loads");
    HashChoice { backend: None, fips: Some(Arc::new(context)) }
}

/// Every core, in FIPS mode.
fn in_fips_mode() -> RunOptions<'static> {
    RunOptions { hashing: fips_mode(), ..Default::default() }
}

fn veritysetup_format(data: &Path, hash: &Path, flags: &[&str]) -> String {
    let out =
        Command::new(veritysetup()).arg("format").args([data, hash]).args(flags).env("LC_ALL", "C").output().unwrap();
    assert!(out.status.success(), "veritysetup format {flags:?}: {}", describe(&out));
    parse_root_hash(&out.stdout)
}

/// One thread, in FIPS mode.
fn single_thread() -> RunOptions<'static> {
    RunOptions { threads: Some(1), ..in_fips_mode() }
}

#[test]
fn fips_mode_trees_match_veritysetup_for_every_algorithm_and_hash_type() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // 300 blocks of 4 KiB: three tree levels with sha512 and 512-byte hash blocks.
    std::fs::write(&data, pseudo_random(7, 300 * 4096)).unwrap();
    let salt = "5a".repeat(32);
    let mut checked = 0;
    for algorithm in ["sha1", "sha256", "sha512", "sha384", "sha224"] {
        for hash_type in ["1", "0"] {
            for hash_block in ["4096", "512"] {
                let flags = [
                    "--hash",
                    algorithm,
                    "--format",
                    hash_type,
                    "--hash-block-size",
                    hash_block,
                    "--salt",
                    &salt,
                    "--uuid",
                    "3f1a9c2e-7b4d-4e6f-8a0b-c1d2e3f40516",
                ];
                let what = format!("{algorithm} type {hash_type} hash block {hash_block}");
                let theirs = dir.path().join("theirs");
                let ours = dir.path().join("ours");
                // Neither tool truncates a hash file: start both from nothing.
                for file in [&theirs, &ours] {
                    let _ = std::fs::remove_file(file);
                }
                let expected = veritysetup_format(&data, &theirs, &flags);

                let opts = VerityOptions {
                    hash_algorithm: Some(verity::HashAlgorithm::from_name(algorithm).unwrap()),
                    hash_type: Some(verity::HashType::from_u32(hash_type.parse().unwrap()).unwrap()),
                    hash_block_size: Some(hash_block.parse().unwrap()),
                    salt: Some(verity::parse_salt(&salt).unwrap()),
                    uuid: Some(rootseal::text::Uuid::parse("3f1a9c2e-7b4d-4e6f-8a0b-c1d2e3f40516").unwrap()),
                    ..VerityOptions::default()
                };
                let outcome = verity::format_paths(&data, &ours, &opts, &in_fips_mode()).unwrap();
                assert_eq!(outcome.hashed_by.backend, HashBackend::OpenSsl, "{what}");
                assert_eq!(outcome.hashed_by.provider.as_deref(), Some("fips"), "{what}: the FIPS provider hashed");
                assert_eq!(rootseal::text::encode_hex(&outcome.root_hash), expected, "{what}: root hash");
                assert!(std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(), "{what}: hash device bytes");

                let report = verity::verify_paths(&data, &theirs, &opts, &outcome.root_hash, &single_thread()).unwrap();
                assert!(report.is_intact(), "{what}: verify of veritysetup's tree");
                assert_eq!(report.hashed_by.provider.as_deref(), Some("fips"), "{what}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 20);
    assert!(!default_context_is_fips(), "the process's default OpenSSL context stays as it was");
}

#[test]
fn fips_mode_verify_names_the_corrupted_block() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hash = dir.path().join("hash");
    let mut bytes = pseudo_random(11, 64 * 4096);
    std::fs::write(&data, &bytes).unwrap();
    let root = veritysetup_format(&data, &hash, &["--salt", "-"]);
    let root = rootseal::text::decode_hex(&root).unwrap();
    bytes[37 * 4096 + 5] ^= 0x40;
    std::fs::write(&data, &bytes).unwrap();
    let report = verity::verify_paths(&data, &hash, &VerityOptions::default(), &root, &in_fips_mode()).unwrap();
    assert_eq!(report.corrupted_data_blocks, vec![37]);
    assert_eq!(report.hashed_by.provider.as_deref(), Some("fips"));
}

#[test]
fn forced_backends_give_way_to_fips_mode() {
    let fips = fips_mode();
    for backend in HashBackend::available() {
        let choice = HashChoice { backend: Some(backend), ..fips.clone() };
        let hasher = verity::SaltedMultiHasher::new(verity::HashAlgorithm::Sha256, b"salt", &choice).unwrap();
        assert_eq!((hasher.backend(), hasher.provider()), (HashBackend::OpenSsl, Some("fips")), "forced {backend}");
    }
}

#[test]
fn a_context_without_fips_is_refused() {
    let not_fips = HashChoice { backend: None, fips: Some(Arc::new(CryptoContext::default_provider())) };
    let err = not_fips.check().unwrap_err();
    assert!(err.to_string().contains("FIPS crypto context"), "{err}");
    let refused = verity::SaltedMultiHasher::new(verity::HashAlgorithm::Sha256, b"", &not_fips).unwrap_err();
    assert!(refused.to_string().contains("FIPS crypto context"), "{refused}");
    let hasher = verity::SaltedMultiHasher::new(verity::HashAlgorithm::Sha256, b"", &HashChoice::default()).unwrap();
    assert_ne!(hasher.backend(), HashBackend::OpenSsl, "outside FIPS mode OpenSSL is never chosen automatically");
}

#[test]
fn fips_mode_in_one_call_leaves_other_calls_alone() {
    // One thread formats in FIPS mode while another does the same without: each call's
    // digests come from the provider its own options name.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, pseudo_random(5, 64 * 4096)).unwrap();
    let opts = VerityOptions { salt: Some(vec![]), no_superblock: true, ..Default::default() };
    let fips = fips_mode();
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|i| {
                let (data, hash, opts, fips) = (&data, dir.path().join(format!("hash{i}")), &opts, &fips);
                scope.spawn(move || {
                    let hashing = if i % 2 == 0 { fips.clone() } else { HashChoice::default() };
                    let run = RunOptions { threads: Some(1), hashing, ..Default::default() };
                    (i, verity::format_paths(data, &hash, opts, &run).unwrap())
                })
            })
            .collect();
        for run in runs {
            let (i, outcome) = run.join().unwrap();
            let provider = outcome.hashed_by.provider.as_deref();
            assert_eq!(provider == Some("fips"), i % 2 == 0, "run {i}: {:?}", outcome.hashed_by);
        }
    });
}

#[test]
fn cli_format_and_verify_with_fips_use_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, pseudo_random(3, 40 * 4096)).unwrap();
    let expected = veritysetup_format(&data, &dir.path().join("theirs"), &["--salt", "-", "--hash", "sha512"]);
    let hash = dir.path().join("ours");
    let config = sig_support::fips_config();
    let rootseal = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rootseal")).args(args).output().unwrap();
        assert!(out.status.success(), "rootseal {args:?}: {}", describe(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let (d, h, c) = (data.to_str().unwrap(), hash.to_str().unwrap(), config.to_str().unwrap());
    let formatted =
        rootseal(&["verity", "format", d, h, "--salt", "-", "--hash", "sha512", "--fips-config", c, "--json"]);
    assert_eq!(formatted["root_hash"], expected.as_str());
    assert_eq!(formatted["hashed_by"]["backend"], "openssl");
    assert_eq!(formatted["hashed_by"]["provider"], "fips");
    let verified = rootseal(&["verity", "verify", d, h, &expected, "--fips-config", c, "--json"]);
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["hashed_by"]["provider"], "fips");

    // A config that cannot be loaded stops the command before anything is written.
    let out = Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(["verity", "format", d, "/nonexistent-dir/never", "--fips-config", "/nonexistent.cnf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.cnf"), "{}", describe(&out));
}

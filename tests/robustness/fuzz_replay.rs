//! Replays every committed fuzz seed and regression input through the same checks the
//! fuzz targets run (fuzz/src, included by path), so `cargo test` on stable covers them
//! without libFuzzer; and checks the fuzz fixtures against the real tools: the template
//! GPT disks with `sgdisk -v`, the reference verity trees with `veritysetup format`.
//!
//! `cargo test --test robustness -- --ignored write_seeds` rewrites the seed corpora
//! (and the payload test key, whose private half is thrown away).

use crate::common;
use crate::gpt_support;
use crate::sig_support;

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_checks;

use fuzz_checks::{TARGETS, gpt_image, verity_verify};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_input_passes_its_check() {
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let seeds = files_in(&fuzz_dir().join("seeds").join(target));
        assert!(!seeds.is_empty(), "{target} has no seed corpus");
        for input in seeds.iter().chain(&files_in(&fuzz_dir().join("regressions").join(target))) {
            let bytes = std::fs::read(input).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| check(&bytes)) {
                let what =
                    panic.downcast_ref::<String>().cloned().or(panic.downcast_ref::<&str>().map(|s| s.to_string()));
                panic!("{target}: {} fails: {}", input.display(), what.unwrap_or_default());
            }
            replayed += 1;
        }
    }
    println!("fuzz replay: {replayed} inputs");
}

#[test]
fn seed_corpora_stay_under_one_mib() {
    let total: u64 = TARGETS
        .iter()
        .flat_map(|(target, _)| files_in(&fuzz_dir().join("seeds").join(target)))
        .map(|p| p.metadata().unwrap().len())
        .sum();
    assert!(total < 1 << 20, "seed corpora hold {total} bytes");
}

/// The template disks the GPT targets start from are what `sgdisk` accepts as valid,
/// at both block sizes (4096 through a loop device, which gives sgdisk the sector size).
#[test]
fn gpt_templates_pass_sgdisk_verify() {
    let dir = tempfile::tempdir().unwrap();
    for block_size in [512, 4096] {
        let path = dir.path().join(format!("template-{block_size}.img"));
        std::fs::write(&path, gpt_image::template(block_size)).unwrap();
        let lo = gpt_support::Loop::attach(&path, block_size);
        let out = gpt_support::run("sgdisk", &["-v", &lo.0]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("No problems found"), "{block_size}: {text}");
        let out = gpt_support::run_ok("sgdisk", &["-i", "4", &lo.0]);
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(text.contains("5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6"), "{text}");
        assert!(text.contains("attribute flags: 1012000000000004"), "{text}");
    }
}

/// The reference trees of the verity_verify target are veritysetup's, byte for byte.
#[test]
fn verity_reference_trees_match_veritysetup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, verity_verify::data()).unwrap();
    for (n, geometry) in verity_verify::geometries().iter().enumerate() {
        let hash = dir.path().join(format!("hash{n}"));
        let o = &geometry.options;
        let mut args = vec![
            "format".to_string(),
            format!("--hash={}", o.hash_algorithm.unwrap().name()),
            format!("--format={}", o.hash_type.unwrap().as_u32()),
            format!("--data-block-size={}", o.data_block_size.unwrap()),
            format!("--hash-block-size={}", o.hash_block_size.unwrap()),
            format!("--salt={}", rootseal::verity::encode_hex(o.salt.as_deref().unwrap())),
        ];
        match o.uuid {
            Some(_) => args.push(format!("--uuid={}", geometry.config.superblock_uuid.unwrap())),
            None => args.push("--no-superblock".into()),
        }
        args.extend([data.display().to_string(), hash.display().to_string()]);
        let out = std::process::Command::new(common::veritysetup()).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", common::describe(&out));
        assert_eq!(common::parse_root_hash(&out.stdout), rootseal::verity::encode_hex(&geometry.root_hash));
        let written = std::fs::read(&hash).unwrap();
        assert!(written.len() >= geometry.checked_len);
        assert!(written[..geometry.checked_len] == geometry.hash_device[..geometry.checked_len], "geometry {n}");
    }
}

fn write_seed(target: &str, name: &str, bytes: &[u8]) {
    let dir = fuzz_dir().join("seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn with_control(control: u8, body: &[u8]) -> Vec<u8> {
    [&[control][..], body].concat()
}

/// Rewrites fuzz/seeds/ and fuzz/keys/payload-test.pub.pem.
#[test]
#[ignore]
fn write_seeds() {
    use sig_support::*;
    let geometries = verity_verify::geometries();
    let superblock = &geometries[1].hash_device[..512];
    write_seed("verity_superblock", "sha512-chromeos", &with_control(0, superblock));
    write_seed("verity_superblock", "with-options", &with_control(0x1e, superblock));
    write_seed("verity_superblock", "at-512", &with_control(1, &[&[0u8; 512][..], superblock].concat()));

    write_seed("verity_verify", "sha256-plain", &with_control(0, &geometries[0].hash_device));
    write_seed("verity_verify", "sha512-superblock", &with_control(1, &geometries[1].hash_device));
    write_seed("verity_verify", "patched-leaf", &with_control(2, &[0x10, 0x02, 0x01]));
    write_seed("verity_verify", "patched-superblock", &with_control(3, &[0x48, 0x00, 0x02, 0x00, 0x06, 0x80]));

    write_seed("gpt_read", "template-512", &with_control(0, &gpt_image::template(512)));
    write_seed("gpt_read", "template-4096", &with_control(1, &gpt_image::template(4096)));
    // Patch mode: an attribute byte of the primary array, then CRCs fixed.
    write_seed("gpt_read", "patched-512", &with_control(6, &[1, 0x36, 0x05, 0, 0x40]));
    write_seed("gpt_read", "grown-4096", &with_control(7, &[3, 5, 0, 0]));
    write_seed("gpt_read", "primary-header-cut", &with_control(2, &[0, 0x10, 0x02, 0, 2, 0xff, 0xff]));

    // set, prioritize, next, mark-update, mark-good, invalidate, repair, damage + next.
    let ops = [0, 7, 3, 2, 4, 1, 3, 1, 0, 2, 0, 3, 3, 0, 4, 4, 0, 5, 4, 6, 1, 7, 0, 0, 0, 1, 2, 0, 7, 2, 9, 0, 1, 2, 0];
    write_seed("gpt_ops", "sequence-512", &with_control(0, &ops));
    write_seed("gpt_ops", "sequence-4096", &with_control(1, &ops));
    let mut words = Vec::new();
    for i in 0..8u64 {
        words.extend_from_slice(&(0x0123_4567_89ab_cdefu64.rotate_left(8 * i as u32)).to_le_bytes());
    }
    write_seed("gpt_ops", "odd-attributes", &with_control(2, &[&words[..], &ops[..]].concat()));

    let dir = tempfile::tempdir().unwrap();
    let key = genkey(dir.path(), "payload-test", "rsa:2048");
    std::fs::copy(&key.public, fuzz_dir().join("keys/payload-test.pub.pem")).unwrap();
    for major in [1, 2] {
        let built = crau::build_payload(dir.path(), &format!("v{major}"), major, b"payload data", &[&key], 256);
        write_seed("crau_payload", &format!("signed-v{major}"), &with_control(1, &built.bytes));
    }

    let public_pem = std::fs::read(&key.public).unwrap();
    write_seed("keys", "rsa-spki-pem", &with_control(0, &public_pem));
    let der = openssl(&["pkey", "-pubin", "-in", s(&key.public), "-outform", "DER"]);
    write_seed("keys", "rsa-spki-der", &with_control(0, &der));
    let pkcs1 = openssl(&["rsa", "-pubin", "-in", s(&key.public), "-RSAPublicKey_out"]);
    write_seed("keys", "rsa-pkcs1-pem", &with_control(0, &pkcs1));
    let ec = genkey(dir.path(), "ec", "ec:P-256");
    let cert = std::fs::read(self_signed_cert(dir.path(), &ec, "fuzz")).unwrap();
    write_seed("keys", "ec-cert-and-rsa-key", &with_control(0, &[&cert[..], &public_pem[..]].concat()));
    let private = std::fs::read(&ec.private).unwrap();
    let split = (cert.len() as u16).to_le_bytes();
    write_seed("keys", "sign-cert-key", &with_control(1, &[&split[..], &cert[..], &private[..]].concat()));

    write_c_api_seeds();
}

/// Rewrites only the `c_api` seeds (no key changes).
#[test]
#[ignore]
fn write_c_api_seeds() {
    // open, state, partition, set, prioritize, next, mark, invalidate, repair, verity
    // verify and format, a key, a buffer signature, strerror, a root-hash signature, close.
    let calls: Vec<u8> = [
        &[0u8, 1, 0, 1, 1, 1, 1, 1][..],
        &[1],
        &[2, 3, 0, 0, 0],
        &[3, 1, 7, 5, 2, 1, 1, 1, 1, 3],
        &[4, 1, 1, 3, 0, 0, 1],
        &[5, 1, 1],
        &[6, 2, 3],
        &[0x46, 1, 4],
        &[7, 5],
        &[8, 1],
        &verity_call(10, &[0]),
        &verity_call(10, &[1, 1, 1, 16, 0, 32, 0, 1]),
        &verity_call(11, &[0, 0, 1, 0, 0, 1, 1, 1, 2, 0, 2, 0]),
        &[12, 0, 4, 1, 2, 3, 4],
        &[13, 1, 0, 3, 1, 1, 3, b'a', b'b', b'c', 8, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[14, 0xf9, 0xff, 0xff, 0xff],
        &[15, 4, b'a', b'b', b'c', b'd', 4, 0, 1, 2, 3, 4],
        &[9],
        &[1],
    ]
    .concat();
    write_seed("c_api", "every-call-512", &with_control(0, &calls));
    write_seed("c_api", "every-call-4096", &with_control(1, &calls));

    // Kind 14 with bit 4: open a disk file, state, repair, a key file, a file signature,
    // a payload file and buffer, verity verify and format by path, the portable backend
    // and a verify on it, a FIPS context (real when ROOTSEAL_FIPS_CONFIG is set) replacing
    // the session's, and a buffer signature in it.
    let verity_by_path =
        |flags: u8, hash_path: u8| [&[0x1e, 4, flags][..], &GEOMETRY_0, &[4, 0, 0x20, 0, hash_path]].concat();
    let payload = |flags: u8| {
        // Sig params, Omaha figures, 16 bytes of payload, and a path when from a file.
        let path: &[u8] = if flags & 2 != 0 { &[4] } else { &[] };
        [&[0x1e, 3, flags, 1, 0, 0, 0, 1][..], &[0; 8], &[1, 1, 0, 16, 0, 1, 16, 0], b"CrAU", &[0; 12], path].concat()
    };
    let file_calls: Vec<u8> = [
        &[0x1e, 0, 4, 1, 1, 1, 1][..],
        &[1],
        &[8, 1],
        &[0x1e, 1, 4, 0, 1, 2, 3, 4, 4],
        &[0x1e, 2, 1, 1, 3, 1, 1, 3, 0, b'a', b'b', b'c', 4, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8],
        &payload(2),
        &payload(1),
        &verity_by_path(0, 4),
        &verity_by_path(2, 1),
        &[0x1e, 6, 0, 3],
        &verity_call(10, &[0]),
        &[0x1e, 5, 0x19, 4, 0, 1, 2, 3, 4, 4],
        &[13, 1, 0, 3, 1, 1, 3, b'a', b'b', b'c', 8, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    write_seed("c_api", "file-calls-512", &with_control(0, &file_calls));
}

/// Geometry 0 of the verity_verify target as `c_api` reads it: the salt (length, 8 ×
/// 0x5a), then params version 1, sha256, 512-byte blocks, no superblock, 40 data blocks,
/// hash offset 0, no UUID, reserved fields zero.
const GEOMETRY_0: [u8; 19] = [8, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 1, 3, 1, 1, 2, 0, 1, 0, 0, 1];

/// A `c_api` verity call (kind 10 verify, 11 format) with geometry 0's real parameters
/// and its hash device on unfailing callback devices, then `tail` (the range or
/// kernel-table bytes).
fn verity_call(kind: u8, tail: &[u8]) -> Vec<u8> {
    [&[kind][..], &GEOMETRY_0, &[0, 0, 0x20, 0, 0], tail].concat()
}

/// The payload seeds are signed by the target's trusted key, so the fuzzer starts from
/// payloads that verify, not from ones refused at the first check.
#[test]
fn payload_seeds_verify() {
    let dir = tempfile::tempdir().unwrap();
    for seed in files_in(&fuzz_dir().join("seeds/crau_payload")) {
        let path = dir.path().join("payload");
        std::fs::write(&path, &std::fs::read(&seed).unwrap()[1..]).unwrap();
        let verdict = fuzz_checks::crau_payload::store().verify_payload(
            &path,
            rootseal::sig::OmahaCheck::default(),
            rootseal::sig::Policy::Default,
        );
        assert!(verdict.is_ok(), "{}: {verdict:?}", seed.display());
    }
}

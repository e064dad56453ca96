//! Replays every committed fuzz seed and regression input through the same checks the
//! fuzz targets run (fuzz/src, included by path), so `cargo test` on stable covers them
//! without libFuzzer; and checks the fuzz fixtures against the real tools: the template
//! GPT disks with `sgdisk -v`, the reference verity trees with `veritysetup format`.
//!
//! `scripts/write-fuzz-seeds.sh` rewrites the seed corpora (fuzz/examples/write_seeds.rs).

use crate::common;
use crate::gpt_support;

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
            format!("--salt={}", rootseal::text::encode_hex(o.salt.as_deref().unwrap())),
        ];
        match o.uuid {
            Some(_) => args.push(format!("--uuid={}", geometry.config.superblock_uuid.unwrap())),
            None => args.push("--no-superblock".into()),
        }
        args.extend([data.display().to_string(), hash.display().to_string()]);
        let out = std::process::Command::new(common::veritysetup()).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", common::describe(&out));
        assert_eq!(common::parse_root_hash(&out.stdout), rootseal::text::encode_hex(&geometry.root_hash));
        let written = std::fs::read(&hash).unwrap();
        assert!(written.len() >= geometry.checked_len);
        assert!(written[..geometry.checked_len] == geometry.hash_device[..geometry.checked_len], "geometry {n}");
    }
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

//! `verity::verify_range` on trees made by the real veritysetup: a byte flipped inside
//! the range (data, or a hash block on the range's path to the root) is named; one
//! outside it is not seen, while `veritysetup verify` of the whole image rejects both, so
//! the damage is real. Covers hash types 0 and 1, SHA-1/256/512, several block sizes, a
//! superblock or none, and ranges that start and end inside blocks.

use crate::common;
use common::{describe, parse_root_hash, pseudo_random, veritysetup};
use rootseal::text::decode_hex;
use rootseal::verity::{self, HashType, VerityOptions};
use std::path::Path;
use std::process::Command;

struct Case {
    flags: &'static [&'static str],
    data_block: u64,
    hash_block: u64,
    digest: u64,
    superblock: bool,
    chromeos: bool,
}

const CASES: [Case; 4] = [
    Case { flags: &[], data_block: 4096, hash_block: 4096, digest: 32, superblock: true, chromeos: false },
    Case {
        flags: &["--hash=sha512", "--data-block-size=1024", "--hash-block-size=1024", "--no-superblock", "--salt=abcd"],
        data_block: 1024,
        hash_block: 1024,
        digest: 64,
        superblock: false,
        chromeos: false,
    },
    Case {
        flags: &["--format=0", "--hash=sha1", "--hash-block-size=512", "--no-superblock", "--salt=00ff"],
        data_block: 4096,
        hash_block: 512,
        digest: 20,
        superblock: false,
        chromeos: true,
    },
    Case {
        flags: &["--hash=sha256", "--data-block-size=512", "--hash-block-size=2048"],
        data_block: 512,
        hash_block: 2048,
        digest: 32,
        superblock: true,
        chromeos: false,
    },
];

const DATA_BLOCKS: u64 = 3000;

fn vs(args: &[&str], data: &Path, hash: &Path, root: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(veritysetup());
    cmd.args(args).arg(data).arg(hash);
    if let Some(root) = root {
        cmd.arg(root);
    }
    cmd.output().expect("veritysetup runs")
}

fn options(case: &Case) -> VerityOptions {
    if case.superblock {
        return VerityOptions::default();
    }
    let salt = case.flags.iter().find_map(|f| f.strip_prefix("--salt=")).unwrap();
    VerityOptions {
        hash_algorithm: Some(match case.digest {
            20 => verity::HashAlgorithm::Sha1,
            32 => verity::HashAlgorithm::Sha256,
            _ => verity::HashAlgorithm::Sha512,
        }),
        hash_type: case.chromeos.then_some(HashType::ChromeOs),
        data_block_size: Some(case.data_block as u32),
        hash_block_size: Some(case.hash_block as u32),
        salt: Some(decode_hex(salt).unwrap()),
        no_superblock: true,
        ..Default::default()
    }
}

/// Leaf hash block (absolute hash-block number) holding the digest of `data_block`,
/// from the format notes: levels stored top first after the superblock.
fn leaf_of(case: &Case, data_block: u64) -> u64 {
    // Type 1 slots are digests padded to a power of two; type 0 packs the digests and
    // uses the largest power of two that fits.
    let per = if case.chromeos {
        1u64 << (case.hash_block / case.digest).ilog2()
    } else {
        case.hash_block / case.digest.next_power_of_two()
    };
    let mut sizes = vec![DATA_BLOCKS.div_ceil(per)];
    while *sizes.last().unwrap() > 1 {
        sizes.push(sizes.last().unwrap().div_ceil(per));
    }
    let above: u64 = sizes[1..].iter().sum();
    // The 512-byte superblock takes a whole hash block.
    let start = if case.superblock { 512u64.div_ceil(case.hash_block) } else { 0 };
    start + above + data_block / per
}

#[test]
fn range_verification_sees_damage_under_the_range_only() {
    let dir = tempfile::tempdir().unwrap();
    for (n, case) in CASES.iter().enumerate() {
        let data_path = dir.path().join(format!("data{n}.img"));
        let hash_path = dir.path().join(format!("hash{n}.img"));
        let data = pseudo_random(n as u64 + 11, (DATA_BLOCKS * case.data_block) as usize);
        std::fs::write(&data_path, &data).unwrap();
        let out = vs(&[&["format"][..], case.flags].concat(), &data_path, &hash_path, None);
        assert!(out.status.success(), "{}", describe(&out));
        let root_hex = parse_root_hash(&out.stdout);
        let root = decode_hex(&root_hex).unwrap();
        let tree = std::fs::read(&hash_path).unwrap();
        let opts = options(case);
        let verify_flags = [&["verify"][..], case.flags].concat();

        // Blocks 1000..1400, starting and ending inside a block.
        let bs = case.data_block;
        let range = 1000 * bs + 7..1400 * bs - 3;
        let intact =
            verity::verify_range(&data, &tree, false, &opts, &root, range.clone(), &Default::default()).unwrap();
        assert!(intact.is_intact(), "case {n}: {intact:?}");

        for (block, inside) in [(1000u64, true), (1399, true), (1200, true), (999, false), (1400, false), (2999, false)]
        {
            let mut damaged = data.clone();
            damaged[(block * bs + bs / 2) as usize] ^= 0x10;
            std::fs::write(&data_path, &damaged).unwrap();
            let vs_verdict = vs(&verify_flags, &data_path, &hash_path, Some(&root_hex));
            assert!(!vs_verdict.status.success(), "case {n}: veritysetup accepted damaged block {block}");
            let report =
                verity::verify_range(&damaged, &tree, false, &opts, &root, range.clone(), &Default::default()).unwrap();
            let expect: &[u64] = if inside { &[block] } else { &[] };
            assert_eq!(report.corrupted_data_blocks, expect, "case {n}: data block {block}");
            assert!(report.corrupted_hash_blocks.is_empty(), "case {n}: data block {block}");
        }
        std::fs::write(&data_path, &data).unwrap();

        // A leaf hash block on the path is blamed; the last leaf, off the path, is not.
        for (data_block, inside) in [(1200u64, true), (DATA_BLOCKS - 1, false)] {
            let leaf = leaf_of(case, data_block);
            let mut damaged = tree.clone();
            damaged[(leaf * case.hash_block + 1) as usize] ^= 0x01;
            std::fs::write(&hash_path, &damaged).unwrap();
            let vs_verdict = vs(&verify_flags, &data_path, &hash_path, Some(&root_hex));
            assert!(!vs_verdict.status.success(), "case {n}: veritysetup accepted damaged hash block {leaf}");
            let report =
                verity::verify_range(&data, &damaged, false, &opts, &root, range.clone(), &Default::default()).unwrap();
            let expect: &[u64] = if inside { &[leaf] } else { &[] };
            assert_eq!(report.corrupted_hash_blocks, expect, "case {n}: hash block {leaf}");
            assert!(report.corrupted_data_blocks.is_empty(), "case {n}");
        }
        std::fs::write(&hash_path, &tree).unwrap();
    }
}

/// `rootseal verity verify --range`: the verdict on a veritysetup image with one
/// damaged block follows the range, in the exit code and the listing.
#[test]
fn cli_range_option_follows_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, hash_path) = (dir.path().join("data.img"), dir.path().join("hash.img"));
    let mut data = pseudo_random(5, 1000 * 4096);
    std::fs::write(&data_path, &data).unwrap();
    let out = vs(&["format"], &data_path, &hash_path, None);
    assert!(out.status.success(), "{}", describe(&out));
    let root = parse_root_hash(&out.stdout);
    data[600 * 4096 + 1] ^= 4;
    std::fs::write(&data_path, &data).unwrap();
    let rootseal = |range: &str, json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rootseal"));
        cmd.args(["verity", "verify"]).arg(&data_path).arg(&hash_path).arg(&root).args(["--range", range]);
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let before = rootseal(&format!("0:{}", 600 * 4096), false);
    assert!(before.status.success(), "{}", describe(&before));
    assert!(String::from_utf8_lossy(&before.stdout).contains("bytes 0..2457600 (600 data blocks) intact"));
    let across = rootseal(&format!("{}:8192", 599 * 4096 + 100), false);
    assert_eq!(across.status.code(), Some(1), "{}", describe(&across));
    assert!(String::from_utf8_lossy(&across.stdout).contains("corrupted data block 600\n"), "{}", describe(&across));
    let json = rootseal("2457600:1", true);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["corrupted_data_blocks"], serde_json::json!([600]));
    assert_eq!(value["range"], serde_json::json!({ "offset": 2457600, "length": 1 }));
    for bad in ["5", "1:0", "0:4096001", "18446744073709551615:2"] {
        let out = rootseal(bad, false);
        assert!(!out.status.success() && out.status.code() != Some(1), "{bad}: {}", describe(&out));
    }
}

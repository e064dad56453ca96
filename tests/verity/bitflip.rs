//! The bit-flip campaign: on small trees made by veritysetup, for each geometry (sha256
//! and sha512; 512-byte and 4 KiB blocks; hash types 0 and 1; with and without a
//! superblock), every bit of one data block, one leaf hash block and the top hash block
//! is flipped in turn, and one random bit of every other block. Each flip in data or
//! tree must fail verification and name exactly the flipped block. Each flip in a
//! superblock field that describes the tree must give an error or a mismatch; only the
//! UUID and the bytes veritysetup ignores (padding, unused salt, the algorithm field
//! after its NUL) may verify, and they never change what is verified.
//!
//! With 4 KiB blocks a two-level tree needs 65 to 129 data blocks (hundreds of KiB per
//! verify), too slow to flip 32768 bits three times over in `cargo test`: there every bit
//! of a data block and of the single hash block is flipped on a two-block image, and one
//! random bit of every block on a two-level image.

use crate::common;

use common::Rng;
use rootseal::verity::{self, HashAlgorithm, RunOptions, VerifyReport, VerityOptions};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

struct Image {
    data: Vec<u8>,
    hash: Vec<u8>,
    root: Vec<u8>,
    opts: VerityOptions,
    block_size: usize,
    salt_len: usize,
    name: String,
}

fn make(algorithm: HashAlgorithm, block_size: u32, hash_type: u32, superblock: bool, blocks: usize) -> Image {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, hash_path) = (dir.path().join("data"), dir.path().join("hash"));
    let data = common::pseudo_random(blocks as u64 * 31 + u64::from(block_size), blocks * block_size as usize);
    std::fs::write(&data_path, &data).unwrap();
    let salt = "5a17".repeat(8);
    let mut cmd = Command::new(common::veritysetup());
    cmd.args(["format", &format!("--hash={}", algorithm.name()), &format!("--format={hash_type}")])
        .arg(format!("--data-block-size={block_size}"))
        .arg(format!("--hash-block-size={block_size}"))
        .arg(format!("--salt={salt}"));
    if !superblock {
        cmd.arg("--no-superblock");
    }
    let out = cmd.arg(&data_path).arg(&hash_path).output().unwrap();
    assert!(out.status.success(), "{}", common::describe(&out));
    let root = verity::parse_root_hash(&common::parse_root_hash(&out.stdout), algorithm).unwrap();
    // Without a superblock the verifier is given the parameters; with one, nothing.
    let opts = if superblock {
        VerityOptions::default()
    } else {
        VerityOptions {
            hash_algorithm: Some(algorithm),
            hash_type: Some(verity::HashType::from_u32(hash_type).unwrap()),
            data_block_size: Some(block_size),
            hash_block_size: Some(block_size),
            salt: Some(rootseal::text::decode_hex(&salt).unwrap()),
            no_superblock: true,
            ..Default::default()
        }
    };
    let name =
        format!("{}/{block_size}/type {hash_type}/{}", algorithm.name(), if superblock { "sb" } else { "no sb" });
    Image {
        hash: std::fs::read(&hash_path).unwrap(),
        data,
        root,
        opts,
        block_size: block_size as usize,
        salt_len: salt.len() / 2,
        name,
    }
}

impl Image {
    fn verify(&self) -> verity::Result<VerifyReport> {
        let run = RunOptions { threads: Some(1), progress: None, ..Default::default() };
        verity::verify(&self.data, &self.hash, false, &self.opts, &self.root, &run)
    }

    /// Hash blocks of the tree, in hash-device block numbers: (first, leaf, top).
    fn tree_blocks(&self) -> (u64, u64, u64) {
        let report = self.verify().unwrap();
        assert!(report.is_intact(), "{}: the untouched image does not verify", self.name);
        let layout = report.config.validate().unwrap();
        let levels = layout.levels();
        (layout.hash_start_block(), levels[0].start_block, levels.last().unwrap().start_block)
    }
}

#[derive(Default)]
struct Counts {
    tried: AtomicU64,
    detected: AtomicU64,
    /// Superblock flips in the UUID or bytes veritysetup ignores, which verify.
    ignored: AtomicU64,
}

/// Flips `bits` of data block `block` (or hash block, `in_hash`), one at a time; each
/// must be reported as exactly that block.
fn flip_block(image: &mut Image, in_hash: bool, block: u64, bits: &[usize], counts: &Counts) {
    let at = block as usize * image.block_size;
    for &bit in bits {
        let (byte, mask) = (at + bit / 8, 1u8 << (bit % 8));
        let target = if in_hash { &mut image.hash } else { &mut image.data };
        target[byte] ^= mask;
        let report = image.verify();
        let target = if in_hash { &mut image.hash } else { &mut image.data };
        target[byte] ^= mask;
        let report = report.unwrap_or_else(|e| panic!("{}: bit {bit} of block {block}: {e}", image.name));
        let (named, other) = if in_hash {
            (&report.corrupted_hash_blocks, &report.corrupted_data_blocks)
        } else {
            (&report.corrupted_data_blocks, &report.corrupted_hash_blocks)
        };
        let kind = if in_hash { "hash" } else { "data" };
        assert!(
            named == &[block] && other.is_empty(),
            "{}: bit {bit} of {kind} block {block}: reported data {:?}, hash {:?}",
            image.name,
            report.corrupted_data_blocks,
            report.corrupted_hash_blocks
        );
        counts.tried.fetch_add(1, Ordering::Relaxed);
        counts.detected.fetch_add(1, Ordering::Relaxed);
    }
}

/// Byte ranges of the superblock that do not describe the tree.
fn ignored_superblock_bytes(image: &Image) -> Vec<std::ops::Range<usize>> {
    let name_len = image.hash[32..64].iter().position(|&b| b == 0).unwrap();
    vec![16..32, 32 + name_len + 1..64, 82..88, 88 + image.salt_len..512]
}

fn flip_superblock(image: &mut Image, counts: &Counts) {
    let ignored = ignored_superblock_bytes(image);
    for bit in 0..512 * 8 {
        let (byte, mask) = (bit / 8, 1u8 << (bit % 8));
        image.hash[byte] ^= mask;
        let result = image.verify();
        image.hash[byte] ^= mask;
        let caught = match &result {
            Err(_) => true,
            Ok(report) => !report.is_intact(),
        };
        counts.tried.fetch_add(1, Ordering::Relaxed);
        if caught {
            counts.detected.fetch_add(1, Ordering::Relaxed);
        } else {
            // A letter's case in the algorithm name names the same algorithm.
            let case_only = (32..64).contains(&byte) && mask == 0x20 && image.hash[byte].is_ascii_alphabetic();
            let ignored = case_only || ignored.iter().any(|r| r.contains(&byte));
            assert!(ignored, "{}: superblock bit {bit} verified", image.name);
            counts.ignored.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One random bit in every data block and every hash block.
fn flip_every_block(image: &mut Image, rng: &mut Rng, counts: &Counts) {
    let (first, _, _) = image.tree_blocks();
    let bits = image.block_size as u64 * 8;
    for block in 0..(image.data.len() / image.block_size) as u64 {
        flip_block(image, false, block, &[rng.below(bits) as usize], counts);
    }
    for block in first..(image.hash.len() / image.block_size) as u64 {
        flip_block(image, true, block, &[rng.below(bits) as usize], counts);
    }
}

fn campaign(algorithm: HashAlgorithm, block_size: u32, hash_type: u32, superblock: bool, counts: &Counts) {
    let mut rng = Rng::new(u64::from(block_size) ^ u64::from(hash_type) << 20 ^ u64::from(superblock) << 30);
    let digests_per_block = block_size as usize / algorithm.digest_size();
    let every_bit: Vec<usize> = (0..block_size as usize * 8).collect();
    if block_size == 512 {
        // Two levels: 2.5 leaf blocks' worth of data blocks.
        let mut image = make(algorithm, block_size, hash_type, superblock, digests_per_block * 5 / 2);
        let (_, leaf, top) = image.tree_blocks();
        assert_ne!(leaf, top, "{}: one level only", image.name);
        flip_block(&mut image, false, 1, &every_bit, counts);
        flip_block(&mut image, true, leaf, &every_bit, counts);
        flip_block(&mut image, true, top, &every_bit, counts);
        flip_every_block(&mut image, &mut rng, counts);
        if superblock {
            flip_superblock(&mut image, counts);
        }
    } else {
        let mut small = make(algorithm, block_size, hash_type, superblock, 2);
        let (_, leaf, top) = small.tree_blocks();
        assert_eq!(leaf, top);
        flip_block(&mut small, false, 1, &every_bit, counts);
        flip_block(&mut small, true, top, &every_bit, counts);
        if superblock {
            flip_superblock(&mut small, counts);
        }
        let mut two_level = make(algorithm, block_size, hash_type, superblock, digests_per_block + 1);
        let (_, leaf, top) = two_level.tree_blocks();
        assert_ne!(leaf, top, "{}: one level only", two_level.name);
        flip_every_block(&mut two_level, &mut rng, counts);
    }
}

#[test]
fn every_flip_in_data_tree_or_superblock_is_caught() {
    let counts = Counts::default();
    let mut geometries = Vec::new();
    for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
        for block_size in [512, 4096] {
            for hash_type in [0, 1] {
                for superblock in [false, true] {
                    geometries.push((algorithm, block_size, hash_type, superblock));
                }
            }
        }
    }
    // Two workers: the images are independent.
    let (even, odd): (Vec<_>, Vec<_>) = geometries.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    std::thread::scope(|s| {
        for half in [even, odd] {
            let counts = &counts;
            s.spawn(move || {
                for (_, &(algorithm, block_size, hash_type, superblock)) in half {
                    campaign(algorithm, block_size, hash_type, superblock, counts);
                }
            });
        }
    });
    let (tried, detected, ignored) =
        (counts.tried.into_inner(), counts.detected.into_inner(), counts.ignored.into_inner());
    let summary = format!(
        "verity bit-flip campaign: {tried} flips tried, {detected} detected, {ignored} in superblock bytes that \
         do not describe the tree (UUID, padding, unused salt) verified unchanged data (16 geometries)"
    );
    println!("{summary}");
    eprintln!("{summary}");
    assert_eq!(detected + ignored, tried);
    assert!(tried > 100_000, "only {tried} flips");
}

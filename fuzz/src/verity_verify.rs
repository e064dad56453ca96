//! Verity verify over an arbitrary hash device for a fixed small data image: no panic,
//! never "intact" unless the parameters and every tree byte are the real ones, and
//! always "intact" when they are.
//!
//! Input: byte 0 bit 0 picks the geometry (see [`geometries`]); bit 1 picks patch mode,
//! where the rest of the input is a list of (u16 offset, xor byte) patches applied to
//! the real hash device (so the fuzzer works near valid trees, where the interesting
//! checks are); otherwise the rest is the hash device itself.

use super::input::Input;
use rootseal::io::MemoryDevice;
use rootseal::text::Uuid;
use rootseal::verity::{self, HashAlgorithm, HashType, RunOptions, VerityConfig, VerityOptions};
use std::sync::OnceLock;

/// The data image: 40 blocks of 512 bytes, enough for two tree levels with 16 digests
/// per hash block.
pub const DATA_BLOCKS: u64 = 40;
const DATA_BLOCK_SIZE: u32 = 512;

/// One tree of the data image, built once.
pub struct Geometry {
    /// The options veritysetup gets too (see the replay test).
    pub options: VerityOptions,
    /// The hash device as `format` writes it.
    pub hash_device: Vec<u8>,
    /// The tree's parameters.
    pub config: VerityConfig,
    /// Bytes of the hash device that verify reads: superblock (if any) and tree.
    pub checked_len: usize,
    /// The root hash.
    pub root_hash: Vec<u8>,
}

/// The data image, deterministic (xorshift) so the replay test can hand it to veritysetup.
pub fn data() -> &'static Vec<u8> {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..DATA_BLOCKS * u64::from(DATA_BLOCK_SIZE))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    })
}

/// Geometry 0: sha256, 512-byte hash blocks, type 1, no superblock. Geometry 1: sha512,
/// 1024-byte hash blocks, type 0 (Chrome OS), with a superblock.
pub fn geometries() -> &'static [Geometry; 2] {
    static TREES: OnceLock<[Geometry; 2]> = OnceLock::new();
    TREES.get_or_init(|| {
        let plain = VerityOptions {
            hash_algorithm: Some(HashAlgorithm::Sha256),
            hash_type: Some(HashType::Normal),
            data_block_size: Some(DATA_BLOCK_SIZE),
            hash_block_size: Some(512),
            salt: Some(vec![0x5a; 8]),
            no_superblock: true,
            ..Default::default()
        };
        let with_superblock = VerityOptions {
            hash_algorithm: Some(HashAlgorithm::Sha512),
            hash_type: Some(HashType::ChromeOs),
            hash_block_size: Some(1024),
            salt: Some(vec![1, 2, 3, 4]),
            no_superblock: false,
            uuid: Some(Uuid(*b"rootseal-fuzzing")),
            ..plain.clone()
        };
        [plain, with_superblock].map(|options| {
            let hash = MemoryDevice::default();
            let built = verity::format(data(), &hash, false, &options, &RunOptions::default())
                .expect("the reference tree builds");
            let checked_len = usize::try_from(built.layout.hash_end_bytes().expect("small tree")).expect("small");
            Geometry {
                options,
                hash_device: hash.into_inner(),
                config: built.config,
                checked_len,
                root_hash: built.root_hash,
            }
        })
    })
}

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    let geometry = &geometries()[usize::from(control & 1)];
    let device = if control & 2 != 0 {
        let mut device = geometry.hash_device.clone();
        while !input.is_empty() {
            let at = usize::from(input.u16()) % device.len();
            device[at] ^= input.byte();
        }
        device
    } else {
        input.rest().to_vec()
    };
    // Options as a verifier has them: explicit for the plain tree, none but the offset
    // with a superblock (everything else comes from it).
    let opts = if geometry.options.no_superblock {
        geometry.options.clone()
    } else {
        VerityOptions { hash_offset: 0, ..Default::default() }
    };
    let run = RunOptions { threads: Some(1), progress: None, ..Default::default() };
    let result = verity::verify(data(), &device, false, &opts, &geometry.root_hash, &run);
    let unchanged = device.get(..geometry.checked_len) == Some(&geometry.hash_device[..geometry.checked_len]);
    match result {
        Ok(report) => {
            let layout = report.config.validate().expect("verify only reports on a valid layout");
            assert!(report.corrupted_data_blocks.iter().all(|&b| b < report.config.data_blocks));
            assert!(
                report
                    .corrupted_hash_blocks
                    .iter()
                    .all(|&b| b >= layout.hash_start_block() && b < layout.hash_end_block()),
                "a corrupted hash block outside the tree: {:?}",
                report.corrupted_hash_blocks
            );
            if report.is_intact() {
                let mut config = report.config.clone();
                config.superblock_uuid = geometry.config.superblock_uuid;
                assert_eq!(config, geometry.config, "intact under parameters other than the real ones");
                let tree = usize::try_from(layout.hash_start_block() * u64::from(config.hash_block_size)).unwrap();
                assert!(
                    device[tree..geometry.checked_len] == geometry.hash_device[tree..geometry.checked_len],
                    "verify says intact, but the tree differs from the real one"
                );
            } else {
                assert!(!unchanged, "the real tree was reported corrupt");
            }
        }
        Err(e) => assert!(!unchanged, "the real tree was refused: {e}"),
    }
}

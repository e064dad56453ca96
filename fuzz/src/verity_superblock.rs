//! The verity superblock parser, on its own and through the device path that reads it
//! at an offset and checks it against explicit options.
//!
//! Input: byte 0 picks the offset the superblock is read at (0 or 512) and which
//! explicit options accompany it; the rest is the hash device.

use super::input::Input;
use rootseal::verity::{self, HashAlgorithm, VerityOptions, superblock};

/// Byte ranges of the fields `decode` takes verbatim: signature, version, hash type,
/// UUID; block sizes, data block count and salt size.
const VERBATIM: [std::ops::Range<usize>; 2] = [0..32, 64..82];

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    let device = input.rest().to_vec();

    if let Ok(config) = superblock::decode(&device, 0) {
        // A superblock that parses describes a tree rootseal can lay out or refuses
        // cleanly, and encodes back to the same fields.
        let _ = config.validate();
        let encoded = superblock::encode(&config).expect("a decoded superblock encodes");
        for range in VERBATIM {
            assert_eq!(encoded[range.clone()], device[range.clone()], "field bytes {range:?} changed in a round trip");
        }
        assert_eq!(&encoded[88..88 + config.salt.len()], &device[88..88 + config.salt.len()], "salt changed");
        assert_eq!(superblock::decode(&encoded, 0).expect("re-encoded superblock parses"), config);
        assert!(config.salt.len() <= 256 && config.data_blocks > 0);
    }

    let offset = if control & 1 == 0 { 0 } else { 512 };
    let opts = VerityOptions {
        hash_offset: offset,
        hash_algorithm: (control & 2 != 0).then_some(HashAlgorithm::Sha256),
        data_block_size: (control & 4 != 0).then_some(4096),
        data_blocks: (control & 8 != 0).then_some(u64::from(control >> 4)),
        ..Default::default()
    };
    let data_size = u64::from(control) << 12;
    if let Ok((config, _)) = verity::resolve_existing_config(&device, &opts, data_size) {
        assert_eq!(config.hash_offset, offset);
        assert!(opts.data_blocks.is_none_or(|n| n == config.data_blocks), "an explicit option was overridden");
        let _ = config.validate().map(|layout| layout.hash_end_bytes());
    }
}

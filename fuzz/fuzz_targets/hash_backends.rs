//! Every hashing backend this CPU runs against the `sha2` crate, on arbitrary salts,
//! message lengths and message counts.
//!
//! Input layout: byte 0 picks the algorithm (bit 0) and the message count (1 + bits
//! 1..6, so up to 64 messages); byte 1 is the salt length (0..=255; 256 when bit 7 of
//! byte 0 is set), cut short when the input is; then the salt; the rest is cut into equal-length messages (the
//! remainder is dropped).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rootseal::verity::{HashAlgorithm, HashBackend, SaltedMultiHasher};
use sha2::Digest;

fuzz_target!(|input: &[u8]| {
    let [control, salt_len, rest @ ..] = input else { return };
    let algorithm = if control & 1 == 0 { HashAlgorithm::Sha256 } else { HashAlgorithm::Sha512 };
    let count = 1 + ((control >> 1) & 0x3f) as usize;
    let salt_len = if control & 0x80 != 0 { 256 } else { *salt_len as usize }.min(rest.len());
    let (salt, body) = rest.split_at(salt_len);
    let len = body.len() / count;
    let messages: Vec<&[u8]> = (0..count).map(|i| &body[i * len..(i + 1) * len]).collect();
    let expected: Vec<u8> = messages
        .iter()
        .flat_map(|m| match algorithm {
            HashAlgorithm::Sha256 => sha2::Sha256::new().chain_update(salt).chain_update(m).finalize().to_vec(),
            _ => sha2::Sha512::new().chain_update(salt).chain_update(m).finalize().to_vec(),
        })
        .collect();
    for backend in HashBackend::available() {
        let hasher = SaltedMultiHasher::with_backend(algorithm, salt, backend).expect("available backend");
        let mut out = vec![0u8; expected.len()];
        hasher.digest_many(&messages, &mut out).expect("equal lengths, room for every digest");
        assert!(out == expected, "{backend} differs from sha2: {algorithm}, salt {salt_len}, {count} x {len} bytes");
    }
});

//! Every hashing backend this CPU runs, forced in turn, against the `sha2` crate:
//! `H(salt || message)` for message lengths 0 to 5000, the salt lengths that straddle
//! block boundaries, every message count from 1 to 40 (full and partial lane groups),
//! and messages at odd addresses, for SHA-256 and SHA-512.

use rootseal::verity::{self, HashAlgorithm, HashBackend, SaltedMultiHasher};
use sha2::Digest;
use std::process::Command;

const SALT_LENGTHS: [usize; 7] = [0, 1, 31, 32, 33, 64, 256];
const MAX_LEN: usize = 5000;
const MAX_COUNT: usize = 40;
const ALGORITHMS: [HashAlgorithm; 2] = [HashAlgorithm::Sha256, HashAlgorithm::Sha512];

/// Deterministic, incompressible bytes (xorshift64*).
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn reference(algorithm: HashAlgorithm, salt: &[u8], message: &[u8]) -> Vec<u8> {
    match algorithm {
        HashAlgorithm::Sha256 => sha2::Sha256::new().chain_update(salt).chain_update(message).finalize().to_vec(),
        HashAlgorithm::Sha512 => sha2::Sha512::new().chain_update(salt).chain_update(message).finalize().to_vec(),
        other => panic!("no reference for {other}"),
    }
}

/// `count` messages of `len` bytes from `pool`, each at its own misalignment: message
/// `i` starts `1 + (i * 5 + shift) % 63` bytes past a 64-byte boundary.
fn messages(pool: &[u8], len: usize, count: usize, shift: usize) -> Vec<&[u8]> {
    let stride = (len + 64).next_multiple_of(64);
    (0..count)
        .map(|i| {
            let start = i * stride + 1 + (i * 5 + shift) % 63;
            &pool[start..start + len]
        })
        .collect()
}

struct Case<'a> {
    algorithm: HashAlgorithm,
    salt: &'a [u8],
    messages: Vec<&'a [u8]>,
}

impl Case<'_> {
    fn expected(&self) -> Vec<u8> {
        self.messages.iter().flat_map(|m| reference(self.algorithm, self.salt, m)).collect()
    }

    fn check(&self, hasher: &SaltedMultiHasher, expected: &[u8]) {
        // One spare digest slot: the backend must not write past the messages' digests.
        let size = hasher.digest_size();
        let mut out = vec![0xeeu8; expected.len() + size];
        hasher.digest_many(&self.messages, &mut out).unwrap();
        let len = self.messages.first().map_or(0, |m| m.len());
        assert!(
            out[..expected.len()] == *expected,
            "{} {:?}: salt {} bytes, {} messages of {len} bytes differ from sha2",
            self.algorithm,
            hasher.backend(),
            self.salt.len(),
            self.messages.len()
        );
        assert!(out[expected.len()..].iter().all(|&b| b == 0xee), "wrote past the last digest");
    }
}

/// The hashers to compare, one per (available backend, algorithm, salt). A backend that
/// does not implement an algorithm hands it to the portable code, which is compared too.
fn hashers(salt: &[u8]) -> Vec<(HashAlgorithm, SaltedMultiHasher)> {
    let backends = HashBackend::available();
    assert!(backends.contains(&HashBackend::Portable));
    ALGORITHMS
        .into_iter()
        .flat_map(|algorithm| {
            backends.iter().map(move |&backend| {
                let hasher = SaltedMultiHasher::with_backend(algorithm, salt, backend).unwrap();
                if backend.implements(algorithm) {
                    assert_eq!(hasher.backend(), backend);
                }
                (algorithm, hasher)
            })
        })
        .collect()
}

/// Every length from 0 to 5000; the count cycles through 1..=40 and the salt through
/// the seven lengths, so each length meets one salt and one count.
#[test]
fn every_length_matches_sha2() {
    let pool = pseudo_random(MAX_COUNT * (MAX_LEN + 128), 1);
    let salts: Vec<Vec<u8>> = SALT_LENGTHS.iter().map(|&n| pseudo_random(n, n as u64 + 7)).collect();
    let all: Vec<_> = salts.iter().map(|salt| hashers(salt)).collect();
    for len in 0..=MAX_LEN {
        let which = len % SALT_LENGTHS.len();
        let count = 1 + len % MAX_COUNT;
        for algorithm in ALGORITHMS {
            let case = Case { algorithm, salt: &salts[which], messages: messages(&pool, len, count, len) };
            let expected = case.expected();
            for (_, hasher) in all[which].iter().filter(|(a, _)| *a == algorithm) {
                case.check(hasher, &expected);
            }
        }
    }
}

/// Lengths at the block and padding boundaries of both algorithms, with every salt
/// length and every count from 1 to 40.
#[test]
fn boundary_lengths_every_salt_and_count_match_sha2() {
    const LENGTHS: [usize; 24] =
        [0, 1, 31, 32, 33, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 191, 192, 255, 256, 257, 1000, 4096];
    let pool = pseudo_random(MAX_COUNT * (MAX_LEN + 128), 2);
    for &salt_len in &SALT_LENGTHS {
        let salt = pseudo_random(salt_len, salt_len as u64 + 99);
        let all = hashers(&salt);
        for len in LENGTHS {
            for count in 1..=MAX_COUNT {
                for algorithm in ALGORITHMS {
                    let case = Case { algorithm, salt: &salt, messages: messages(&pool, len, count, count + len) };
                    let expected = case.expected();
                    for (_, hasher) in all.iter().filter(|(a, _)| *a == algorithm) {
                        case.check(hasher, &expected);
                    }
                }
            }
        }
    }
}

/// Every salt length the superblock allows (0 to 256), for 4 KiB blocks.
#[test]
fn every_salt_length_matches_sha2() {
    let pool = pseudo_random(40 * (4096 + 128), 3);
    for salt_len in 0..=256 {
        let salt = pseudo_random(salt_len, salt_len as u64);
        let count = 1 + salt_len % MAX_COUNT;
        for (algorithm, hasher) in hashers(&salt) {
            let case = Case { algorithm, salt: &salt, messages: messages(&pool, 4096, count, salt_len) };
            case.check(&hasher, &case.expected());
        }
    }
}

#[test]
fn no_messages_write_nothing() {
    for (_, hasher) in hashers(b"salt") {
        let mut out = [0xeeu8; 8];
        hasher.digest_many(&[], &mut out).unwrap();
        assert_eq!(out, [0xee; 8]);
    }
}

#[test]
fn unequal_lengths_and_short_buffers_are_errors() {
    for (_, hasher) in hashers(b"salt") {
        let mut out = vec![0u8; 4 * 64];
        let unequal: [&[u8]; 2] = [b"abc", b"abcd"];
        assert!(matches!(hasher.digest_many(&unequal, &mut out), Err(verity::Error::InvalidParameter(_))));
        let equal: [&[u8]; 2] = [b"abc", b"abd"];
        let mut short = vec![0u8; 2 * hasher.digest_size() - 1];
        assert!(matches!(hasher.digest_many(&equal, &mut short), Err(verity::Error::InvalidParameter(_))));
    }
}

#[test]
fn backend_names_round_trip_and_unknown_names_are_errors() {
    for backend in HashBackend::ALL {
        assert_eq!(HashBackend::from_name(backend.name()).unwrap(), backend);
        assert_eq!(HashBackend::from_name(&backend.name().to_uppercase()).unwrap(), backend);
    }
    assert!(matches!(HashBackend::from_name("sse9"), Err(verity::Error::UnknownHashBackend(_))));
    assert!(HashBackend::Portable.is_available());
}

/// The automatic choice is an available backend that implements the algorithm, the
/// same one every time in a process.
#[test]
fn automatic_choice_is_an_available_implementing_backend() {
    for algorithm in HashAlgorithm::ALL {
        let fastest = verity::fastest_hash_backend(algorithm);
        assert!(fastest.is_available() && fastest.implements(algorithm), "{algorithm}: {fastest}");
        assert_eq!(verity::fastest_hash_backend(algorithm), fastest);
        match algorithm {
            HashAlgorithm::Sha256 => {}
            // No SIMD kernel: OpenSSL's assembly, which is faster than the sha2 crate's.
            HashAlgorithm::Sha384 | HashAlgorithm::Sha512 => {
                assert!(matches!(fastest, HashBackend::Avx512 | HashBackend::OpenSsl), "{algorithm}: {fastest}")
            }
            _ => assert_eq!(fastest, HashBackend::Portable),
        }
        if std::env::var_os(verity::HASH_BACKEND_ENV).is_none() {
            assert_eq!(
                SaltedMultiHasher::new(algorithm, b"", &Default::default()).unwrap().backend(),
                fastest,
                "{algorithm}"
            );
        }
    }
}

fn rootseal_with_backend(backend: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(args)
        .env(verity::HASH_BACKEND_ENV, backend)
        .env("LC_ALL", "C")
        .output()
        .unwrap()
}

/// Through the CLI: every available backend builds the same tree; an unknown name is a
/// clear error, not a silent fallback.
#[test]
fn environment_variable_selects_the_backend_and_rejects_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, pseudo_random(333 * 4096, 5)).unwrap();
    let data = data.to_str().unwrap();
    let uuid = "5a5a5a5a-1234-4bcd-8ef0-0123456789ab";
    for algorithm in ["sha256", "sha512"] {
        let mut trees = Vec::new();
        for backend in HashBackend::available() {
            let hash = dir.path().join(format!("{algorithm}-{backend}"));
            let path = hash.to_str().unwrap();
            let args = ["verity", "format", data, path, "--hash", algorithm, "--salt", "ab", "--uuid", uuid];
            let out = rootseal_with_backend(backend.name(), &args);
            assert!(out.status.success(), "{backend}: {}", String::from_utf8_lossy(&out.stderr));
            trees.push((backend, std::fs::read(&hash).unwrap()));
        }
        assert!(trees.windows(2).all(|w| w[0].1 == w[1].1), "{algorithm}: the backends' hash files differ");
    }
    let hash = dir.path().join("bogus");
    let out = rootseal_with_backend("sse9", &["verity", "format", data, hash.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown hash backend") && stderr.contains("sse9"), "{stderr}");
    assert!(!hash.exists(), "nothing is written when the backend is refused");
}

/// A backend the CPU lacks is refused with an error naming it (on a CPU that has every
/// backend, there is nothing to refuse and the test only checks that forcing works).
#[test]
fn forcing_an_unavailable_backend_is_an_error() {
    for backend in HashBackend::ALL {
        let made = SaltedMultiHasher::with_backend(HashAlgorithm::Sha256, b"", backend);
        if backend.is_available() {
            assert!(made.is_ok());
        } else {
            let err = made.unwrap_err();
            assert!(matches!(err, verity::Error::HashBackendUnavailable { .. }), "{err}");
            assert!(err.to_string().contains(backend.name()));
        }
    }
}

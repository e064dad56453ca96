//! The `ROOTSEAL_HASH_*` numbers of the C ABI: one table for verity params, verity
//! results and signature params alike.

use super::Failure;
use super::status::rootseal_status;
use crate::crypto::HashAlgorithm;

/// Hash algorithm numbers for `rootseal_verity_params.hash_algorithm`.
pub const ROOTSEAL_HASH_DEFAULT: u32 = 0;
/// SHA-1 (legacy images only).
pub const ROOTSEAL_HASH_SHA1: u32 = 1;
/// SHA-224.
pub const ROOTSEAL_HASH_SHA224: u32 = 2;
/// SHA-256 (the default).
pub const ROOTSEAL_HASH_SHA256: u32 = 3;
/// SHA-384.
pub const ROOTSEAL_HASH_SHA384: u32 = 4;
/// SHA-512.
pub const ROOTSEAL_HASH_SHA512: u32 = 5;

/// The one table of `ROOTSEAL_HASH_*` numbers, for verity params, verity results and
/// signature params alike.
const HASH_NUMBERS: [(u32, HashAlgorithm); 5] = [
    (ROOTSEAL_HASH_SHA1, HashAlgorithm::Sha1),
    (ROOTSEAL_HASH_SHA224, HashAlgorithm::Sha224),
    (ROOTSEAL_HASH_SHA256, HashAlgorithm::Sha256),
    (ROOTSEAL_HASH_SHA384, HashAlgorithm::Sha384),
    (ROOTSEAL_HASH_SHA512, HashAlgorithm::Sha512),
];

/// The algorithm a `ROOTSEAL_HASH_*` number names; None for `ROOTSEAL_HASH_DEFAULT` and
/// for numbers that name nothing.
pub(super) fn algorithm_of_number(number: u32) -> Option<HashAlgorithm> {
    HASH_NUMBERS.iter().find(|(n, _)| *n == number).map(|&(_, algorithm)| algorithm)
}

pub(super) fn algorithm_from_number(value: u32) -> Result<Option<HashAlgorithm>, Failure> {
    if value == ROOTSEAL_HASH_DEFAULT {
        return Ok(None);
    }
    algorithm_of_number(value).map(Some).ok_or_else(|| {
        Failure::new(rootseal_status::VerityUnsupportedAlgorithm, format!("hash algorithm number {value} is unknown"))
    })
}

pub(super) fn algorithm_number(algorithm: HashAlgorithm) -> u32 {
    HASH_NUMBERS.iter().find(|(_, a)| *a == algorithm).map_or(ROOTSEAL_HASH_DEFAULT, |&(number, _)| number)
}

//! The C ABI contract from Rust: pinned status numbers, strerror, params validation and
//! out-params untouched on failure.

use rootseal::ffi::status::{rootseal_status as S, rootseal_strerror};
use rootseal::ffi::verity::*;
use std::ffi::{CStr, CString};

/// Renumbering a status breaks every C caller compiled against an older header.
#[test]
fn status_numbers_are_pinned() {
    let pinned = [
        (S::Ok, 0),
        (S::NullParameter, 1),
        (S::InvalidArgument, 2),
        (S::UnsupportedParamsVersion, 3),
        (S::ReservedNotZero, 4),
        (S::BufferTooSmall, 5),
        (S::Io, 6),
        (S::Panic, 7),
        (S::CallbackFailed, 8),
        (S::Busy, 9),
        (S::VerityCorrupted, 100),
        (S::VerityInvalidBlockSize, 101),
        (S::VerityInvalidSalt, 102),
        (S::VerityUnsupportedAlgorithm, 103),
        (S::VerityMisalignedOffset, 104),
        (S::VerityNoDataBlocks, 105),
        (S::VerityDataTooShort, 106),
        (S::VerityHashDeviceTooSmall, 107),
        (S::VerityAreasOverlap, 108),
        (S::VerityTooManyLevels, 109),
        (S::VerityOverflow, 110),
        (S::VerityNoSuperblock, 111),
        (S::VerityCorruptSuperblock, 112),
        (S::VerityConflictsWithSuperblock, 113),
        (S::VerityRootHashLength, 114),
        (S::VerityUnsupportedHashType, 115),
        (S::VerityHashBackendUnavailable, 116),
        (S::VerityDigestFailure, 117),
        (S::VerityFecUnrepairable, 118),
        (S::VerityFecInvalidParams, 119),
        (S::VerityFecDeviceTooSmall, 120),
        (S::VerityFecBackendUnavailable, 121),
        (S::VerityFileChanged, 122),
        (S::VerityRootHashMismatch, 123),
        (S::VerityNotAKernel, 124),
        (S::VerityUsrHashSlotInUse, 125),
        (S::VerityNoUsrHash, 126),
        (S::GptNoGpt, 200),
        (S::GptNoValidGpt, 201),
        (S::GptNeedsRepair, 202),
        (S::GptCannotRepair, 203),
        (S::GptInvalidBlockSize, 204),
        (S::GptNoSuchPartition, 205),
        (S::GptUnusedPartition, 206),
        (S::GptWrongType, 207),
        (S::GptValueOutOfRange, 208),
        (S::GptNoBootableSlot, 209),
        (S::GptInvalidGuid, 210),
        (S::GptSlotNotFound, 211),
        (S::SigInvalid, 300),
        (S::SigPolicyRefused, 301),
        (S::SigEmptyTrustStore, 302),
        (S::SigInvalidKey, 303),
        (S::SigMalformedSignature, 304),
        (S::SigFipsUnavailable, 305),
        (S::SigInvalidPayload, 306),
        (S::SigPayloadMismatch, 307),
        (S::SigCryptoFailure, 308),
        (S::SigFileChanged, 309),
        (S::SigOutOfMemory, 310),
    ];
    let mut texts = std::collections::HashSet::new();
    for (status, number) in pinned {
        assert_eq!(status as i32, number, "{status:?}");
        // SAFETY: strerror returns a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(rootseal_strerror(number)) }.to_str().unwrap();
        assert!(!text.is_empty() && text != "unknown status", "{status:?} has no description");
        assert!(texts.insert(text), "{status:?} shares its description");
        let block = match number {
            100..=199 => "verity: ",
            200..=299 => "gpt: ",
            300..=399 => "signature: ",
            _ => "",
        };
        assert!(text.starts_with(block), "{status:?}: {text:?} does not name its block");
    }
    // SAFETY: as above.
    let unknown = unsafe { CStr::from_ptr(rootseal_strerror(-1)) };
    assert_eq!(unknown.to_str().unwrap(), "unknown status");
}

/// A directory with an 8-block data file, and the C paths of it and of a hash file
/// that does not exist yet.
fn fixture() -> (tempfile::TempDir, CString, CString) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, vec![1u8; 8 * 4096]).unwrap();
    let c_path = |name: &str| CString::new(dir.path().join(name).to_str().unwrap()).unwrap();
    let (data_c, hash_c) = (c_path("data"), c_path("hash"));
    (dir, data_c, hash_c)
}

fn params() -> rootseal_verity_params {
    rootseal_verity_params {
        version: ROOTSEAL_VERITY_PARAMS_VERSION,
        hash_algorithm: 0,
        data_block_size: 0,
        hash_block_size: 0,
        flags: ROOTSEAL_VERITY_NO_SUPERBLOCK | ROOTSEAL_VERITY_NO_SALT,
        threads: 0,
        data_blocks: 0,
        hash_offset: 0,
        salt: std::ptr::null(),
        salt_size: 0,
        uuid: [0; 16],
        reserved: [0; 8],
    }
}

#[test]
fn bad_params_are_refused_and_write_nothing() {
    let (dir, data_c, hash_c) = fixture();
    let hash = dir.path().join("hash");

    type Mutation = Box<dyn Fn(&mut rootseal_verity_params)>;
    let cases: Vec<(&str, Mutation, S)> = vec![
        ("version 0", Box::new(|p| p.version = 0), S::UnsupportedParamsVersion),
        ("first reserved word", Box::new(|p| p.reserved[0] = 1), S::ReservedNotZero),
        ("last reserved word", Box::new(|p| p.reserved[7] = 1), S::ReservedNotZero),
        ("unknown flag", Box::new(|p| p.flags |= 1 << 20), S::InvalidArgument),
        (
            "salt too long",
            Box::new(|p| {
                p.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK;
                p.salt = [0u8; 300].as_ptr();
                p.salt_size = 257;
            }),
            S::VerityInvalidSalt,
        ),
        (
            "salt NULL with a size",
            Box::new(|p| {
                p.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK;
                p.salt_size = 4;
            }),
            S::NullParameter,
        ),
        ("block size 256", Box::new(|p| p.hash_block_size = 256), S::VerityInvalidBlockSize),
        ("hash offset 100", Box::new(|p| p.hash_offset = 100), S::VerityMisalignedOffset),
        ("too many data blocks", Box::new(|p| p.data_blocks = 9), S::VerityDataTooShort),
        ("overflowing data blocks", Box::new(|p| p.data_blocks = u64::MAX / 2), S::VerityOverflow),
    ];
    for (name, mutate, expected) in cases {
        let mut p = params();
        mutate(&mut p);
        let mut result = std::mem::MaybeUninit::new(filled_result(0xAA));
        // SAFETY: all pointers are valid for the call.
        let status = unsafe { rootseal_verity_format(&p, data_c.as_ptr(), hash_c.as_ptr(), result.as_mut_ptr()) };
        assert_eq!(status, expected, "{name}");
        // SAFETY: initialised above; the call must not have touched it.
        let after = unsafe { result.assume_init() };
        assert!(
            after.root_hash.iter().all(|&b| b == 0xAA) && after.data_blocks == u64::from_ne_bytes([0xAA; 8]),
            "{name}: out-param written"
        );
        assert!(!hash.exists(), "{name}: the hash file was created");
    }
}

fn filled_result(fill: u8) -> rootseal_verity_result {
    rootseal_verity_result {
        root_hash: [fill; 64],
        root_hash_size: u32::from_ne_bytes([fill; 4]),
        hash_algorithm: u32::from_ne_bytes([fill; 4]),
        salt: [fill; 256],
        salt_size: u32::from_ne_bytes([fill; 4]),
        hash_type: u32::from_ne_bytes([fill; 4]),
        uuid: [fill; 16],
        data_block_size: u32::from_ne_bytes([fill; 4]),
        hash_block_size: u32::from_ne_bytes([fill; 4]),
        data_blocks: u64::from_ne_bytes([fill; 8]),
        hash_offset: u64::from_ne_bytes([fill; 8]),
        hash_start_block: u64::from_ne_bytes([fill; 8]),
        hash_blocks: u64::from_ne_bytes([fill; 8]),
        reserved: [u64::from_ne_bytes([fill; 8]); 8],
    }
}

/// Sizes are checked before a slice is made from a caller's pointer: a garbage size
/// with a dangling pointer is refused without reading.
#[test]
fn oversized_lengths_are_refused_before_reading() {
    let (_dir, data_c, hash_c) = fixture();
    let dangling = std::ptr::NonNull::<u8>::dangling().as_ptr() as *const u8;

    let mut p = params();
    p.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK;
    p.salt = dangling;
    p.salt_size = usize::MAX;
    // SAFETY: the library must not dereference the salt pointer for this size.
    let status = unsafe { rootseal_verity_format(&p, data_c.as_ptr(), hash_c.as_ptr(), std::ptr::null_mut()) };
    assert_eq!(status, S::VerityInvalidSalt);

    let p = params();
    // SAFETY: the library must not dereference the root hash pointer for this size.
    let status = unsafe {
        rootseal_verity_verify(&p, data_c.as_ptr(), hash_c.as_ptr(), dangling, usize::MAX, std::ptr::null_mut())
    };
    assert_eq!(status, S::VerityRootHashLength);
}

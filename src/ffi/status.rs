//! The C status codes and the one place where Rust errors map onto them.
//!
//! Numbers are grouped by domain (1–99 generic, 100s verity, 200s GPT, 300s
//! signatures) and are never reused: a retired code stays here, commented "reserved".

use crate::{gpt, verity};
use std::ffi::{CStr, c_char};

/// Status returned by every rootseal entry point. 0 is success; each other value has a
/// fixed meaning, listed with [`rootseal_strerror`]. C code receives it as an `int32_t`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rootseal_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// An argument is out of range or malformed.
    InvalidArgument = 2,
    /// A params struct has a `version` this library does not know.
    UnsupportedParamsVersion = 3,
    /// A reserved field of a params struct is not zero.
    ReservedNotZero = 4,
    /// A caller-provided output buffer is too small.
    BufferTooSmall = 5,
    /// An operating-system I/O call failed.
    Io = 6,
    /// A Rust panic was caught at the boundary; the process is intact but the operation
    /// did not complete. Please report it.
    Panic = 7,
    /// A caller-supplied I/O callback reported an error or a short transfer.
    CallbackFailed = 8,
    /// Verification completed and found corrupted blocks.
    VerityCorrupted = 100,
    /// A data or hash block size is not a power of two from 512 to 524288.
    VerityInvalidBlockSize = 101,
    /// The salt is malformed or longer than 256 bytes.
    VerityInvalidSalt = 102,
    /// The hash algorithm is not supported.
    VerityUnsupportedAlgorithm = 103,
    /// The hash offset breaks an alignment rule.
    VerityMisalignedOffset = 104,
    /// There are no data blocks to protect.
    VerityNoDataBlocks = 105,
    /// The data device is shorter than the data area.
    VerityDataTooShort = 106,
    /// The hash device is smaller than the tree needs.
    VerityHashDeviceTooSmall = 107,
    /// Data and hash areas overlap on a shared device.
    VerityAreasOverlap = 108,
    /// The tree would exceed 63 levels.
    VerityTooManyLevels = 109,
    /// Size or offset arithmetic overflows 64 bits.
    VerityOverflow = 110,
    /// No verity superblock at the hash offset.
    VerityNoSuperblock = 111,
    /// The superblock is present but invalid.
    VerityCorruptSuperblock = 112,
    /// A parameter disagrees with the superblock.
    VerityConflictsWithSuperblock = 113,
    /// The root hash has the wrong length for the algorithm.
    VerityRootHashLength = 114,
    /// The hash type is neither 0 nor 1.
    VerityUnsupportedHashType = 115,
    /// A forced hash backend (`ROOTSEAL_HASH_BACKEND`, `rootseal_hash_backend_force`)
    /// that this CPU cannot run.
    VerityHashBackendUnavailable = 116,
    /// OpenSSL could not compute a verity digest (the OpenSSL backend or FIPS mode).
    VerityDigestFailure = 117,
    /// No GPT signature where a primary or backup header would be.
    GptNoGpt = 200,
    /// Neither GPT copy is valid.
    GptNoValidGpt = 201,
    /// One GPT copy is invalid and the operation needs both; repair first.
    GptNeedsRepair = 202,
    /// A copy cannot be rebuilt where it has to go.
    GptCannotRepair = 203,
    /// The logical block size is not 512 or 4096, or disagrees with the device.
    GptInvalidBlockSize = 204,
    /// The partition number is outside the entry array.
    GptNoSuchPartition = 205,
    /// The partition entry is unused.
    GptUnusedPartition = 206,
    /// The partition is not of the participating type.
    GptWrongType = 207,
    /// A priority, tries or maximum priority is out of range.
    GptValueOutOfRange = 208,
    /// No partition can be booted (none with priority > 0 and tries left or successful).
    GptNoBootableSlot = 209,
    /// A GUID string is malformed.
    GptInvalidGuid = 210,
    /// The Flatcar slots or the partition device could not be resolved.
    GptSlotNotFound = 211,
    /// The signature does not verify under any trusted key.
    SigInvalid = 300,
    /// The policy refuses every trusted key for this scheme (weak key, SHA-1, unapproved).
    SigPolicyRefused = 301,
    /// The trust store holds no key; nothing is ever accepted without one.
    SigEmptyTrustStore = 302,
    /// A key or certificate could not be decoded (or is a private key).
    SigInvalidKey = 303,
    /// A signature is malformed (empty, too long, not DER).
    SigMalformedSignature = 304,
    /// FIPS mode was asked for and the FIPS provider is unavailable or failed its self-test.
    SigFipsUnavailable = 305,
    /// An update payload is malformed.
    SigInvalidPayload = 306,
    /// An update payload's size or SHA-256 differs from the announced value.
    SigPayloadMismatch = 307,
    /// OpenSSL failed for a reason other than a wrong signature.
    SigCryptoFailure = 308,
    /// The file changed (was truncated, grown or rewritten) while it was being read.
    SigFileChanged = 309,
}

impl rootseal_status {
    /// Every code, for `rootseal_strerror` and the numbering test.
    pub(crate) const ALL: [rootseal_status; 49] = [
        Self::Ok,
        Self::NullParameter,
        Self::InvalidArgument,
        Self::UnsupportedParamsVersion,
        Self::ReservedNotZero,
        Self::BufferTooSmall,
        Self::Io,
        Self::Panic,
        Self::CallbackFailed,
        Self::VerityCorrupted,
        Self::VerityInvalidBlockSize,
        Self::VerityInvalidSalt,
        Self::VerityUnsupportedAlgorithm,
        Self::VerityMisalignedOffset,
        Self::VerityNoDataBlocks,
        Self::VerityDataTooShort,
        Self::VerityHashDeviceTooSmall,
        Self::VerityAreasOverlap,
        Self::VerityTooManyLevels,
        Self::VerityOverflow,
        Self::VerityNoSuperblock,
        Self::VerityCorruptSuperblock,
        Self::VerityConflictsWithSuperblock,
        Self::VerityRootHashLength,
        Self::VerityUnsupportedHashType,
        Self::VerityHashBackendUnavailable,
        Self::VerityDigestFailure,
        Self::GptNoGpt,
        Self::GptNoValidGpt,
        Self::GptNeedsRepair,
        Self::GptCannotRepair,
        Self::GptInvalidBlockSize,
        Self::GptNoSuchPartition,
        Self::GptUnusedPartition,
        Self::GptWrongType,
        Self::GptValueOutOfRange,
        Self::GptNoBootableSlot,
        Self::GptInvalidGuid,
        Self::GptSlotNotFound,
        Self::SigInvalid,
        Self::SigPolicyRefused,
        Self::SigEmptyTrustStore,
        Self::SigInvalidKey,
        Self::SigMalformedSignature,
        Self::SigFipsUnavailable,
        Self::SigInvalidPayload,
        Self::SigPayloadMismatch,
        Self::SigCryptoFailure,
        Self::SigFileChanged,
    ];

    /// Static description of the code.
    pub fn description(self) -> &'static CStr {
        match self {
            Self::Ok => c"success",
            Self::NullParameter => c"a required pointer argument was NULL",
            Self::InvalidArgument => c"invalid argument",
            Self::UnsupportedParamsVersion => c"unsupported params struct version",
            Self::ReservedNotZero => c"a reserved field is not zero",
            Self::BufferTooSmall => c"output buffer too small",
            Self::Io => c"I/O error",
            Self::Panic => c"internal error (panic caught at the library boundary)",
            Self::CallbackFailed => c"an I/O callback failed or transferred too few bytes",
            Self::VerityCorrupted => c"verity: corrupted blocks found",
            Self::VerityInvalidBlockSize => c"verity: invalid block size",
            Self::VerityInvalidSalt => c"verity: invalid salt",
            Self::VerityUnsupportedAlgorithm => c"verity: unsupported hash algorithm",
            Self::VerityMisalignedOffset => c"verity: misaligned hash offset",
            Self::VerityNoDataBlocks => c"verity: no data blocks",
            Self::VerityDataTooShort => c"verity: data device too short",
            Self::VerityHashDeviceTooSmall => c"verity: hash device too small",
            Self::VerityAreasOverlap => c"verity: data area overlaps hash area",
            Self::VerityTooManyLevels => c"verity: too many tree levels",
            Self::VerityOverflow => c"verity: size arithmetic overflow",
            Self::VerityNoSuperblock => c"verity: no superblock at the hash offset",
            Self::VerityCorruptSuperblock => c"verity: corrupt superblock",
            Self::VerityConflictsWithSuperblock => c"verity: parameter conflicts with the superblock",
            Self::VerityRootHashLength => c"verity: root hash has the wrong length",
            Self::VerityUnsupportedHashType => c"verity: unsupported hash type",
            Self::VerityHashBackendUnavailable => c"verity: hash backend not available on this CPU",
            Self::VerityDigestFailure => c"verity: OpenSSL digest failed",
            Self::GptNoGpt => c"gpt: no GPT found",
            Self::GptNoValidGpt => c"gpt: neither GPT copy is valid",
            Self::GptNeedsRepair => c"gpt: one GPT copy is invalid; repair first",
            Self::GptCannotRepair => c"gpt: cannot repair",
            Self::GptInvalidBlockSize => c"gpt: unsupported or mismatched logical block size",
            Self::GptNoSuchPartition => c"gpt: no such partition",
            Self::GptUnusedPartition => c"gpt: partition entry is unused",
            Self::GptWrongType => c"gpt: partition is not of the participating type",
            Self::GptValueOutOfRange => c"gpt: value out of range",
            Self::GptNoBootableSlot => c"gpt: no bootable partition",
            Self::GptInvalidGuid => c"gpt: invalid GUID",
            Self::GptSlotNotFound => c"gpt: slot not found",
            Self::SigInvalid => c"signature: does not verify under any trusted key",
            Self::SigPolicyRefused => c"signature: refused by policy",
            Self::SigEmptyTrustStore => c"signature: the trust store is empty",
            Self::SigInvalidKey => c"signature: invalid key or certificate",
            Self::SigMalformedSignature => c"signature: malformed signature",
            Self::SigFipsUnavailable => c"signature: FIPS provider unavailable",
            Self::SigInvalidPayload => c"signature: invalid update payload",
            Self::SigPayloadMismatch => c"signature: payload size or SHA-256 mismatch",
            Self::SigCryptoFailure => c"signature: OpenSSL failure",
            Self::SigFileChanged => c"signature: the file changed while it was read",
        }
    }
}

impl From<&verity::Error> for rootseal_status {
    fn from(err: &verity::Error) -> Self {
        use verity::Error as E;
        match err {
            E::InvalidBlockSize { .. } | E::HashBlockTooSmall { .. } => Self::VerityInvalidBlockSize,
            E::SaltTooLong { .. } => Self::VerityInvalidSalt,
            E::InvalidHex { what, .. } if *what == "salt" => Self::VerityInvalidSalt,
            E::InvalidHex { .. } | E::InvalidUuid(_) | E::InvalidParameter(_) | E::UnknownHashBackend(_) => {
                Self::InvalidArgument
            }
            E::HashBackendUnavailable { .. } => Self::VerityHashBackendUnavailable,
            E::Digest(_) => Self::VerityDigestFailure,
            E::UnsupportedAlgorithm(_) => Self::VerityUnsupportedAlgorithm,
            E::UnsupportedHashType(_) => Self::VerityUnsupportedHashType,
            E::MisalignedHashOffset { .. } => Self::VerityMisalignedOffset,
            E::NoDataBlocks { .. } => Self::VerityNoDataBlocks,
            E::DataTooShort { .. } => Self::VerityDataTooShort,
            E::HashDeviceTooSmall { .. } => Self::VerityHashDeviceTooSmall,
            E::AreasOverlap { .. } => Self::VerityAreasOverlap,
            E::TooManyLevels { .. } => Self::VerityTooManyLevels,
            E::Overflow(_) => Self::VerityOverflow,
            E::NoSuperblock { .. } => Self::VerityNoSuperblock,
            E::CorruptSuperblock(_) => Self::VerityCorruptSuperblock,
            E::ConflictsWithSuperblock { .. } => Self::VerityConflictsWithSuperblock,
            E::RootHashLength { .. } => Self::VerityRootHashLength,
            E::Io { source, .. } if super::io::is_callback_error(source) => Self::CallbackFailed,
            E::Io { .. } => Self::Io,
        }
    }
}

/// Returns a static, NUL-terminated description of `status`. Never NULL and never to
/// be freed; unknown codes give "unknown status". Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_strerror(status: i32) -> *const c_char {
    rootseal_status::ALL.iter().find(|s| **s as i32 == status).map_or(c"unknown status", |s| s.description()).as_ptr()
}

impl From<&gpt::Error> for rootseal_status {
    fn from(err: &gpt::Error) -> Self {
        use gpt::Error as E;
        match err {
            E::Io { source, .. } | E::Write { source, .. } if super::io::is_callback_error(source) => {
                Self::CallbackFailed
            }
            E::Io { .. } | E::Write { .. } | E::Locked(_) => Self::Io,
            E::InvalidBlockSize(_) | E::BlockSizeMismatch { .. } => Self::GptInvalidBlockSize,
            E::NoGpt => Self::GptNoGpt,
            E::NoValidGpt { .. } => Self::GptNoValidGpt,
            E::NeedsRepair { .. } => Self::GptNeedsRepair,
            E::CannotRepair(_) => Self::GptCannotRepair,
            E::InvalidGuid(_) => Self::GptInvalidGuid,
            E::NoSuchPartition { .. } => Self::GptNoSuchPartition,
            E::UnusedPartition(_) => Self::GptUnusedPartition,
            E::WrongType { .. } | E::NotParticipating(_) => Self::GptWrongType,
            E::FriendsWithoutTarget => Self::InvalidArgument,
            E::ValueOutOfRange { .. } => Self::GptValueOutOfRange,
            E::NoBootableSlot(_) => Self::GptNoBootableSlot,
            E::Slot(_) => Self::GptSlotNotFound,
        }
    }
}

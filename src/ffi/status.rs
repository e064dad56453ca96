//! The C status codes and the one place where Rust errors map onto them.
//!
//! Numbers are grouped by domain (1–99 generic, 100s verity, 200s GPT, 300s
//! signatures) and are never reused: a retired code stays here, commented "reserved".

use crate::verity;
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
}

impl rootseal_status {
    /// Every code, for `rootseal_strerror` and the numbering test.
    pub(crate) const ALL: [rootseal_status; 26] = [
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

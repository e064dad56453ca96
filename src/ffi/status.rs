//! The C status codes and the one place where Rust errors map onto them.
//!
//! Numbers are grouped by domain (1–99 generic, 100s verity, 200s GPT, 300s
//! signatures) and are never reused: a retired code stays here, commented "reserved".
//! The enum is the one definition of the list: `build.rs` reads it and generates
//! `rootseal_status::ALL`, [`rootseal_status::COUNT`] and the `rootseal_strerror` texts
//! (the `strerror:` line of each variant).

use crate::verity::fec::FecError;
use crate::{gpt, sig, verity};
use std::ffi::{CStr, c_char};

/// Status returned by every rootseal entry point. 0 is success; each other value has a
/// fixed meaning, listed with [`rootseal_strerror`]. C code receives it as an `int32_t`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rootseal_status {
    /// Success.
    ///
    /// strerror: "success"
    Ok = 0,
    /// A required pointer argument was NULL.
    ///
    /// strerror: "a required pointer argument was NULL"
    NullParameter = 1,
    /// An argument is out of range or malformed.
    ///
    /// strerror: "invalid argument"
    InvalidArgument = 2,
    /// A params struct has a `version` this library does not know.
    ///
    /// strerror: "unsupported params struct version"
    UnsupportedParamsVersion = 3,
    /// A reserved field of a params struct is not zero.
    ///
    /// strerror: "a reserved field is not zero"
    ReservedNotZero = 4,
    /// A caller-provided output buffer is too small.
    ///
    /// strerror: "output buffer too small"
    BufferTooSmall = 5,
    /// An operating-system I/O call failed.
    ///
    /// strerror: "I/O error"
    Io = 6,
    /// A Rust panic was caught at the boundary; the process is intact but the operation
    /// did not complete. Please report it.
    ///
    /// strerror: "internal error (panic caught at the library boundary)"
    Panic = 7,
    /// A caller-supplied I/O callback reported an error or a short transfer.
    ///
    /// strerror: "an I/O callback failed or transferred too few bytes"
    CallbackFailed = 8,
    /// The handle is in use by a call that has not returned: a callback called back
    /// into the handle it serves, or two threads used one handle at once.
    ///
    /// strerror: "the handle is busy (re-entered from its own callback, or shared between threads)"
    Busy = 9,
    /// Verification completed and found corrupted blocks.
    ///
    /// strerror: "verity: corrupted blocks found"
    VerityCorrupted = 100,
    /// A data or hash block size is not a power of two from 512 to 524288.
    ///
    /// strerror: "verity: invalid block size"
    VerityInvalidBlockSize = 101,
    /// The salt is malformed or longer than 256 bytes.
    ///
    /// strerror: "verity: invalid salt"
    VerityInvalidSalt = 102,
    /// The hash algorithm is not supported.
    ///
    /// strerror: "verity: unsupported hash algorithm"
    VerityUnsupportedAlgorithm = 103,
    /// The hash offset breaks an alignment rule.
    ///
    /// strerror: "verity: misaligned hash offset"
    VerityMisalignedOffset = 104,
    /// There are no data blocks to protect.
    ///
    /// strerror: "verity: no data blocks"
    VerityNoDataBlocks = 105,
    /// The data device is shorter than the data area.
    ///
    /// strerror: "verity: data device too short"
    VerityDataTooShort = 106,
    /// The hash device is smaller than the tree needs.
    ///
    /// strerror: "verity: hash device too small"
    VerityHashDeviceTooSmall = 107,
    /// Data and hash areas overlap on a shared device.
    ///
    /// strerror: "verity: data area overlaps hash area"
    VerityAreasOverlap = 108,
    /// The tree would exceed 63 levels.
    ///
    /// strerror: "verity: too many tree levels"
    VerityTooManyLevels = 109,
    /// Size or offset arithmetic overflows 64 bits.
    ///
    /// strerror: "verity: size arithmetic overflow"
    VerityOverflow = 110,
    /// No verity superblock at the hash offset.
    ///
    /// strerror: "verity: no superblock at the hash offset"
    VerityNoSuperblock = 111,
    /// The superblock is present but invalid.
    ///
    /// strerror: "verity: corrupt superblock"
    VerityCorruptSuperblock = 112,
    /// A parameter disagrees with the superblock.
    ///
    /// strerror: "verity: parameter conflicts with the superblock"
    VerityConflictsWithSuperblock = 113,
    /// The root hash has the wrong length for the algorithm.
    ///
    /// strerror: "verity: root hash has the wrong length"
    VerityRootHashLength = 114,
    /// The hash type is neither 0 nor 1.
    ///
    /// strerror: "verity: unsupported hash type"
    VerityUnsupportedHashType = 115,
    /// A forced hash backend (`ROOTSEAL_HASH_BACKEND`, `rootseal_hash_backend_force`)
    /// that this CPU cannot run.
    ///
    /// strerror: "verity: hash backend not available on this CPU"
    VerityHashBackendUnavailable = 116,
    /// OpenSSL could not compute a verity digest (the OpenSSL backend or FIPS mode).
    ///
    /// strerror: "verity: OpenSSL digest failed"
    VerityDigestFailure = 117,
    /// FEC cannot repair every damaged block: some codeword has more bad blocks than
    /// parity bytes. Nothing was written; the report lists the blocks.
    ///
    /// strerror: "verity: FEC cannot repair every damaged block"
    VerityFecUnrepairable = 118,
    /// The FEC parameters are invalid: roots outside 2–24, data and hash block sizes
    /// that differ, a parity offset that is not a whole number of blocks, or a parity
    /// area that ends before the tree it covers.
    ///
    /// strerror: "verity: invalid FEC parameters"
    VerityFecInvalidParams = 119,
    /// The FEC device is smaller than the parity area.
    ///
    /// strerror: "verity: FEC device too small for the parity area"
    VerityFecDeviceTooSmall = 120,
    /// A forced FEC encoder backend (`rootseal_fec_params.backend`) that this CPU
    /// cannot run.
    ///
    /// strerror: "verity: FEC backend not available on this CPU"
    VerityFecBackendUnavailable = 121,
    /// The data or hash file changed (was truncated, grown or rewritten) while format or
    /// verify read it, so no root hash or report is given.
    ///
    /// strerror: "verity: the file changed while it was read"
    VerityFileChanged = 122,
    /// Every block matches the tree, but the tree's root hash is not the one given: a
    /// wrong root hash, not a corrupt image.
    /// `rootseal_verity_report_tree_root_hash` gives the tree's own root hash.
    ///
    /// strerror: "verity: root hash mismatch (the tree is intact, its root hash is another)"
    VerityRootHashMismatch = 123,
    /// A kernel image without the magic of an x86-64 bzImage or an arm64 Image (or not
    /// the format given), or too short for its usr hash slot.
    ///
    /// strerror: "verity: not an x86-64 bzImage or arm64 Image"
    VerityNotAKernel = 124,
    /// The kernel image's usr hash slot holds bytes that are neither zero nor a hash;
    /// the force flag overwrites them.
    ///
    /// strerror: "verity: the kernel's usr hash slot holds other data"
    VerityUsrHashSlotInUse = 125,
    /// The kernel image holds no usr hash: its slot is zero or not 64 characters of
    /// `[0-9a-f]`, so GRUB adds nothing to the command line.
    ///
    /// strerror: "verity: the kernel image holds no usr hash"
    VerityNoUsrHash = 126,
    /// No GPT signature where a primary or backup header would be.
    ///
    /// strerror: "gpt: no GPT found"
    GptNoGpt = 200,
    /// Neither GPT copy is valid.
    ///
    /// strerror: "gpt: neither GPT copy is valid"
    GptNoValidGpt = 201,
    /// One GPT copy is invalid and the operation needs both; repair first.
    ///
    /// strerror: "gpt: one GPT copy is invalid; repair first"
    GptNeedsRepair = 202,
    /// A copy cannot be rebuilt where it has to go.
    ///
    /// strerror: "gpt: cannot repair"
    GptCannotRepair = 203,
    /// The logical block size is not 512 or 4096, or disagrees with the device.
    ///
    /// strerror: "gpt: unsupported or mismatched logical block size"
    GptInvalidBlockSize = 204,
    /// The partition number is outside the entry array.
    ///
    /// strerror: "gpt: no such partition"
    GptNoSuchPartition = 205,
    /// The partition entry is unused.
    ///
    /// strerror: "gpt: partition entry is unused"
    GptUnusedPartition = 206,
    /// The partition is not of the participating type.
    ///
    /// strerror: "gpt: partition is not of the participating type"
    GptWrongType = 207,
    /// A priority, tries or maximum priority is out of range.
    ///
    /// strerror: "gpt: value out of range"
    GptValueOutOfRange = 208,
    /// No partition can be booted (none with priority > 0 and tries left or successful).
    ///
    /// strerror: "gpt: no bootable partition"
    GptNoBootableSlot = 209,
    /// A GUID string is malformed.
    ///
    /// strerror: "gpt: invalid GUID"
    GptInvalidGuid = 210,
    /// The Flatcar slots or the partition device could not be resolved.
    ///
    /// strerror: "gpt: slot not found"
    GptSlotNotFound = 211,
    /// The signature does not verify under any trusted key.
    ///
    /// strerror: "signature: does not verify under any trusted key"
    SigInvalid = 300,
    /// The policy refuses every trusted key for this scheme (weak key, SHA-1, unapproved).
    ///
    /// strerror: "signature: refused by policy"
    SigPolicyRefused = 301,
    /// The trust store holds no key; nothing is ever accepted without one.
    ///
    /// strerror: "signature: the trust store is empty"
    SigEmptyTrustStore = 302,
    /// A key or certificate could not be decoded (or is a private key).
    ///
    /// strerror: "signature: invalid key or certificate"
    SigInvalidKey = 303,
    /// A signature is malformed (empty, too long, not DER).
    ///
    /// strerror: "signature: malformed signature"
    SigMalformedSignature = 304,
    /// FIPS mode was asked for and the FIPS provider is unavailable or failed its self-test.
    ///
    /// strerror: "signature: FIPS provider unavailable"
    SigFipsUnavailable = 305,
    /// An update payload is malformed.
    ///
    /// strerror: "signature: invalid update payload"
    SigInvalidPayload = 306,
    /// An update payload's size or SHA-256 differs from the announced value.
    ///
    /// strerror: "signature: payload size or SHA-256 mismatch"
    SigPayloadMismatch = 307,
    /// OpenSSL failed for a reason other than a wrong signature.
    ///
    /// strerror: "signature: OpenSSL failure"
    SigCryptoFailure = 308,
    /// The file changed (was truncated, grown or rewritten) while it was being read.
    ///
    /// strerror: "signature: the file changed while it was read"
    SigFileChanged = 309,
    /// A buffer whose size the input decides (an Ed25519 message, a payload manifest)
    /// could not be allocated. Nothing aborts: the call returns this instead.
    ///
    /// strerror: "signature: not enough memory"
    SigOutOfMemory = 310,
}

// `ALL`, `COUNT` and `description()`, generated by build.rs from the enum above.
include!(concat!(env!("OUT_DIR"), "/status_table.rs"));

impl From<&verity::Error> for rootseal_status {
    fn from(err: &verity::Error) -> Self {
        use verity::Error as E;
        match err {
            E::InvalidBlockSize { .. } | E::HashBlockTooSmall { .. } => Self::VerityInvalidBlockSize,
            E::SaltTooLong { .. } => Self::VerityInvalidSalt,
            E::InvalidHex { what: verity::HexInput::Salt, .. } => Self::VerityInvalidSalt,
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
            E::Io { source, .. } if super::callback::is_callback_error(source) => Self::CallbackFailed,
            E::Io { source, .. } if crate::io::ChangedWhileReading::of(source).is_some() => Self::VerityFileChanged,
            E::Io { .. } => Self::Io,
        }
    }
}

impl From<&FecError> for rootseal_status {
    fn from(err: &FecError) -> Self {
        use FecError as E;
        match err {
            E::Tree(inner) => inner.into(),
            E::InvalidRoots(_)
            | E::InvalidBlockSize(_)
            | E::NoDataBlocks
            | E::CoverageEndsBeforeTree { .. }
            | E::BlockSizesDiffer { .. }
            | E::MisalignedOffset { .. } => Self::VerityFecInvalidParams,
            E::AreasOverlap { .. } => Self::VerityAreasOverlap,
            E::Overflow(_) => Self::VerityOverflow,
            E::InputTooShort { which: "data", .. } => Self::VerityDataTooShort,
            E::InputTooShort { .. } => Self::VerityHashDeviceTooSmall,
            E::OutputTooSmall { .. } | E::ParityTooShort { .. } => Self::VerityFecDeviceTooSmall,
            E::Uncorrectable { .. } => Self::VerityFecUnrepairable,
            E::UnknownBackend(_) | E::OutOfRange { .. } | E::BufferSize { .. } | E::InvalidErasure(_) => {
                Self::InvalidArgument
            }
            E::BackendUnavailable { .. } => Self::VerityFecBackendUnavailable,
            E::Io { source, .. } if super::callback::is_callback_error(source) => Self::CallbackFailed,
            E::Io { source, .. } if crate::io::ChangedWhileReading::of(source).is_some() => Self::VerityFileChanged,
            E::Io { .. } => Self::Io,
        }
    }
}

impl From<&crate::verity::usrhash::UsrHashError> for rootseal_status {
    fn from(err: &crate::verity::usrhash::UsrHashError) -> Self {
        use crate::verity::usrhash::UsrHashError as E;
        match err {
            E::NotAKernel | E::WrongArch { .. } | E::TooShort { .. } => Self::VerityNotAKernel,
            E::SlotInUse { .. } => Self::VerityUsrHashSlotInUse,
            E::InvalidHash(_) => Self::InvalidArgument,
            E::Io { .. } => Self::Io,
        }
    }
}

/// Returns a static, NUL-terminated description of `status` (the "strerror" line of each
/// status above). Never NULL and never to be freed; unknown codes give "unknown
/// status". Thread-safe; the thread's last error is left as it is.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_strerror(status: i32) -> *const c_char {
    super::query(|| {
        let known = rootseal_status::ALL.iter().find(|s| **s as i32 == status);
        Ok(known.map_or(c"unknown status", |s| s.description()).as_ptr())
    })
}

impl From<&gpt::Error> for rootseal_status {
    fn from(err: &gpt::Error) -> Self {
        use gpt::Error as E;
        match err {
            E::Io { source, .. } | E::Write { source, .. } if super::callback::is_callback_error(source) => {
                Self::CallbackFailed
            }
            E::Io { .. } | E::Write { .. } | E::Locked(_) => Self::Io,
            // The boot library's; the host reads into its own memory through rootseal_io.
            E::Device(_) => Self::CallbackFailed,
            E::ScratchTooSmall { .. } => Self::BufferTooSmall,
            E::InvalidBlockSize(_) | E::BlockSizeMismatch { .. } => Self::GptInvalidBlockSize,
            E::NoGpt => Self::GptNoGpt,
            E::NoValidGpt { .. } => Self::GptNoValidGpt,
            E::NeedsRepair { .. } => Self::GptNeedsRepair,
            E::CannotRepair(_) => Self::GptCannotRepair,
            E::InvalidGuid(_) => Self::GptInvalidGuid,
            E::NoSuchPartition { .. } => Self::GptNoSuchPartition,
            E::UnusedPartition(_) => Self::GptUnusedPartition,
            E::WrongType { .. } | E::NotParticipating(_) => Self::GptWrongType,
            E::FriendsWithoutTarget | E::NothingToSet => Self::InvalidArgument,
            E::ValueOutOfRange { .. } => Self::GptValueOutOfRange,
            E::NoBootableSlot(_) => Self::GptNoBootableSlot,
            E::Slot(_) => Self::GptSlotNotFound,
        }
    }
}

impl From<&sig::Error> for rootseal_status {
    fn from(err: &sig::Error) -> Self {
        use sig::Error as E;
        match err {
            E::BadSignature { .. } | E::RootHashRejected(_) => Self::SigInvalid,
            E::PolicyRefused { .. } => Self::SigPolicyRefused,
            E::EmptyTrustStore => Self::SigEmptyTrustStore,
            E::InvalidKey { .. } => Self::SigInvalidKey,
            E::InvalidSignature(_) => Self::SigMalformedSignature,
            E::FipsUnavailable(_) | E::FipsConfigMissing => Self::SigFipsUnavailable,
            E::InvalidPayload(_) => Self::SigInvalidPayload,
            E::PayloadMismatch { .. } => Self::SigPayloadMismatch,
            E::InvalidArgument(_) => Self::InvalidArgument,
            E::OpenSsl { .. } => Self::SigCryptoFailure,
            E::FileChanged { .. } => Self::SigFileChanged,
            E::OutOfMemory { .. } => Self::SigOutOfMemory,
            E::Io { source, .. } if super::callback::is_callback_error(source) => Self::CallbackFailed,
            E::Io { .. } => Self::Io,
        }
    }
}

/// Creating a crypto context fails only for FIPS reasons.
impl From<&crate::crypto::Error> for rootseal_status {
    fn from(err: &crate::crypto::Error) -> Self {
        match err {
            crate::crypto::Error::FipsUnavailable(_) | crate::crypto::Error::FipsConfigMissing => {
                Self::SigFipsUnavailable
            }
        }
    }
}

//! Errors of the dm-verity module.

use alloc::string::String;
use core::fmt;
#[cfg(not(rootseal_freestanding))]
use std::io;

/// Everything that can stop a verity operation before it reaches a verdict.
///
/// A corrupted image is not an error: verification returns a [`super::VerifyReport`]
/// that lists the bad blocks. These variants are for input that cannot be processed at
/// all, and every one of them is raised before anything is written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A block size is not a power of two between 512 B and 512 KiB.
    #[error("{which} block size {size} is invalid: it must be a power of two from 512 to 524288 bytes")]
    InvalidBlockSize {
        /// `"data"` or `"hash"`.
        which: &'static str,
        /// The rejected size.
        size: u64,
    },
    /// The salt is longer than the 256 bytes the superblock can hold.
    #[error("salt is {len} bytes long; at most 256 bytes are allowed")]
    SaltTooLong {
        /// Its length.
        len: usize,
    },
    /// Text that should be hex (salt, root hash) is not.
    #[error("invalid {what}: {reason}")]
    InvalidHex {
        /// What was being parsed.
        what: HexInput,
        /// Why it was rejected.
        reason: String,
    },
    /// A UUID is not in the 8-4-4-4-12 hex form.
    #[error("invalid UUID {0:?}: expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")]
    InvalidUuid(String),
    /// A hash algorithm rootseal does not implement.
    #[error("unsupported hash algorithm {0:?}: use sha256, sha512, sha384, sha224 or sha1")]
    UnsupportedAlgorithm(String),
    /// A hash type other than 0 (Chrome OS) or 1 (normal).
    #[error("unsupported hash type {0}: only 0 (Chrome OS) and 1 (normal) exist")]
    UnsupportedHashType(u32),
    /// The hash offset breaks an alignment rule.
    #[error("hash offset {offset} must be a multiple of {alignment} bytes{why}")]
    MisalignedHashOffset {
        /// The offset in bytes.
        offset: u64,
        /// The required alignment.
        alignment: u64,
        /// Extra explanation, empty or starting with a separator.
        why: &'static str,
    },
    /// `data_blocks` is zero, or the data device holds less than one block.
    #[error("no data blocks to protect: the data area must hold at least one {block_size}-byte block")]
    NoDataBlocks {
        /// The data block size.
        block_size: u32,
    },
    /// The data device is shorter than `data_blocks × data_block_size`.
    #[error("data device is too short: {needed} bytes are needed for the data blocks, it has {actual}")]
    DataTooShort {
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        actual: u64,
    },
    /// The hash device cannot hold the superblock and tree.
    #[error("hash device is too small: {needed} bytes are needed, it has {actual}")]
    HashDeviceTooSmall {
        /// Bytes needed (from offset 0).
        needed: u64,
        /// Bytes present.
        actual: u64,
    },
    /// Data and hash share one device and their areas overlap.
    #[error("data area (ends at byte {data_end}) overlaps the hash area (starts at byte {hash_start})")]
    AreasOverlap {
        /// End of the data area in bytes.
        data_end: u64,
        /// Start of the hash area (superblock or tree) in bytes.
        hash_start: u64,
    },
    /// The tree would need more levels than dm-verity allows.
    #[error("the hash tree would need {levels} levels; dm-verity allows at most 63")]
    TooManyLevels {
        /// Levels needed.
        levels: u32,
    },
    /// The hash block cannot hold two digests, which the kernel requires.
    #[error("hash block size {hash_block_size} is too small for {digest_size}-byte digests")]
    HashBlockTooSmall {
        /// Hash block size.
        hash_block_size: u32,
        /// Digest size.
        digest_size: usize,
    },
    /// A size or offset does not fit in 64 bits.
    #[error("size arithmetic overflows 64 bits while computing {0}")]
    Overflow(&'static str),
    /// The bytes at the hash offset are not a verity superblock.
    #[error("no verity superblock at offset {offset}: signature bytes are {found:02x?}")]
    NoSuperblock {
        /// Where it was looked for.
        offset: u64,
        /// The 8 bytes found there.
        found: [u8; 8],
    },
    /// The superblock is present but one of its fields is invalid.
    #[error("verity superblock is corrupt: {0}")]
    CorruptSuperblock(String),
    /// An explicit parameter disagrees with the superblock.
    #[error("{field} {given} conflicts with the superblock, which says {stored}")]
    ConflictsWithSuperblock {
        /// Parameter name.
        field: &'static str,
        /// Value given by the caller.
        given: String,
        /// Value in the superblock.
        stored: String,
    },
    /// The root hash has the wrong length for the algorithm.
    #[error("root hash is {given} bytes long; {algorithm} needs {expected}")]
    RootHashLength {
        /// Algorithm name.
        algorithm: &'static str,
        /// Expected length in bytes.
        expected: usize,
        /// Given length in bytes.
        given: usize,
    },
    /// A hash backend name that does not exist (see [`super::HashBackend::name`]).
    #[error("unknown hash backend {0:?}: use avx512, shani, portable or openssl")]
    UnknownHashBackend(String),
    /// A forced hash backend this CPU cannot run.
    #[error("hash backend {backend} is not available on this CPU: {reason}")]
    HashBackendUnavailable {
        /// The backend's name.
        backend: &'static str,
        /// What the CPU lacks.
        reason: &'static str,
    },
    /// OpenSSL could not compute a digest (the OpenSSL backend, FIPS mode).
    #[error("OpenSSL digest failed: {0}")]
    Digest(String),
    /// A parameter that makes no sense in this operation.
    #[error("{0}")]
    InvalidParameter(String),
    /// An I/O failure, with what was being done.
    #[cfg(not(rootseal_freestanding))]
    #[error("{context}: {source}")]
    Io {
        /// What was being read or written.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// What kind of failure this is. A corrupted image is not an error (verify reports
    /// it), so every error here is bad input or failed I/O.
    #[cfg(not(rootseal_freestanding))]
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            Error::Io { .. } => crate::ErrorClass::Io,
            _ => crate::ErrorClass::BadInput,
        }
    }

    #[cfg(not(rootseal_freestanding))]
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

/// Which hex input [`Error::InvalidHex`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexInput {
    /// The salt.
    Salt,
    /// A root hash argument.
    RootHash,
    /// A root hash file.
    RootHashFile,
}

impl fmt::Display for HexInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HexInput::Salt => "salt",
            HexInput::RootHash => "root hash",
            HexInput::RootHashFile => "root hash file",
        })
    }
}

/// Result alias for this module.
pub type Result<T> = core::result::Result<T, Error>;

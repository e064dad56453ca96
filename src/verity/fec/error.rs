//! Errors of the FEC module. The geometry and codec variants carry only numbers, so
//! the pure modules keep to `core`; only [`FecError::Io`] needs `std`.

/// Everything that stops FEC geometry, encoding or decoding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FecError {
    /// Roots (parity bytes per codeword) outside 2..=24.
    #[error("FEC roots {0} is out of range: dm-verity allows 2 to 24 parity bytes per codeword")]
    InvalidRoots(u32),
    /// A block size that is not a power of two between 512 bytes and 512 KiB.
    #[error("FEC block size {0} is invalid: it must be a power of two from 512 to 524288 bytes")]
    InvalidBlockSize(u64),
    /// No data blocks: the FEC stream must start with at least one.
    #[error("FEC needs at least one data block")]
    NoDataBlocks,
    /// The covered end of the hash device lies inside the first hash-tree block or
    /// before it, but not at zero (which covers no hash blocks).
    #[error(
        "the FEC coverage of the hash device ends at block {end_block}, before the hash tree starts at block {hash_start_block}"
    )]
    CoverageEndsBeforeTree {
        /// Whole blocks up to the covered end.
        end_block: u64,
        /// The first hash-tree block.
        hash_start_block: u64,
    },
    /// A size or offset computed from the parameters does not fit in 64 bits (or, for
    /// a buffer, in memory).
    #[error("{0} overflows")]
    Overflow(&'static str),
    /// A round, symbol, lane or block index beyond the geometry.
    #[error("{what} {value} is out of range (limit {limit})")]
    OutOfRange {
        /// What was indexed.
        what: &'static str,
        /// The index given.
        value: u64,
        /// The first invalid value.
        limit: u64,
    },
    /// A buffer handed to the codec has the wrong length.
    #[error("{what} has {actual} bytes, expected {expected}")]
    BufferSize {
        /// Which buffer.
        what: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// An erasure position repeated or beyond the 255 symbols of a codeword.
    #[error("erasure position {0} is repeated or not below 255")]
    InvalidErasure(usize),
    /// The errors and erasures exceed what the code can correct
    /// (`2 · errors + erasures ≤ roots`), as far as the decoder can tell.
    #[error("the codeword has more errors than {roots} parity bytes can correct")]
    Uncorrectable {
        /// Parity bytes per codeword.
        roots: u32,
    },
    /// A backend name that does not exist.
    #[error("unknown FEC backend {0:?}: use gfni, gfni-avx2, avx512, avx2 or portable")]
    UnknownBackend(std::string::String),
    /// A backend the CPU cannot run.
    #[error("FEC backend {backend} is not available: {reason}")]
    BackendUnavailable {
        /// The backend's name.
        backend: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// An input device ends before the part of the stream it must hold.
    #[error("the {which} device holds {actual} bytes but the FEC stream covers it up to byte {needed}")]
    InputTooShort {
        /// `"data"` or `"hash"`.
        which: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        actual: u64,
    },
    /// The output device is smaller than the parity area.
    #[error("the FEC device holds {actual} bytes but the parity area ends at byte {needed}")]
    OutputTooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        actual: u64,
    },
    /// The tree part of a format or verify with FEC failed.
    #[error(transparent)]
    Tree(#[from] crate::verity::Error),
    /// FEC needs data and hash blocks of one size.
    #[error("data block size {data} and hash block size {hash} differ: FEC needs them to be equal")]
    BlockSizesDiffer {
        /// Data block size.
        data: u32,
        /// Hash block size.
        hash: u32,
    },
    /// The FEC offset is not a whole number of blocks (the kernel table counts it in
    /// blocks, `fec_start`).
    #[error("FEC offset {offset} must be a multiple of the block size {block_size}")]
    MisalignedOffset {
        /// The offset in bytes.
        offset: u64,
        /// The block size.
        block_size: u32,
    },
    /// Two areas of one device overlap (data, hash tree, parity).
    #[error(
        "{first} area (bytes {first_start}..{first_end}) overlaps the {second} area (bytes {second_start}..{second_end})"
    )]
    AreasOverlap {
        /// The first area's name.
        first: &'static str,
        /// Its start.
        first_start: u64,
        /// Its end.
        first_end: u64,
        /// The second area's name.
        second: &'static str,
        /// Its start.
        second_start: u64,
        /// Its end.
        second_end: u64,
    },
    /// The parity device holds less than the parity area (verify, repair, table).
    #[error("the FEC device holds {actual} bytes but its parity area ends at byte {needed}")]
    ParityTooShort {
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        actual: u64,
    },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What failed.
        context: std::string::String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl FecError {
    /// What kind of failure this is: bad input or failed I/O (damage beyond repair
    /// is a report, not an error).
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            FecError::Io { .. } => crate::ErrorClass::Io,
            FecError::Tree(e) => e.class(),
            _ => crate::ErrorClass::BadInput,
        }
    }

    pub(crate) fn io(context: impl Into<std::string::String>, source: std::io::Error) -> Self {
        FecError::Io { context: context.into(), source }
    }
}

/// Result with a [`FecError`].
pub type Result<T, E = FecError> = core::result::Result<T, E>;

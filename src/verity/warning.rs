//! Things worth telling the user that do not stop an operation.

use core::fmt;

/// Something worth telling the user that does not stop the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// SHA-1 trees are for verifying legacy images only.
    Sha1Legacy,
    /// The data device size is not a multiple of the block size; its tail is not covered.
    UncoveredTail {
        /// Bytes after the last whole block.
        bytes: u64,
    },
    /// The kernel refuses data blocks larger than the page size.
    DataBlockExceedsPageSize {
        /// The data block size.
        size: u32,
    },
    /// Not one digest of the top hash block matches its child: the tree was probably
    /// built with another salt, algorithm, hash type or block size.
    NothingMatches,
    /// The hash device ends before the tree start the kernel table names. Only possible
    /// for a single data block (an empty tree), which veritysetup writes the same way;
    /// the kernel refuses such a table with "Hash device is too small".
    HashDeviceShorterThanTable {
        /// Bytes the kernel wants.
        needed: u64,
        /// Bytes there are.
        actual: u64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Sha1Legacy => f.write_str("sha1 is not collision resistant; use it only to verify legacy images"),
            Warning::UncoveredTail { bytes } => write!(
                f,
                "the data size is not a multiple of the data block size: its last {bytes} bytes are not covered by the tree"
            ),
            Warning::DataBlockExceedsPageSize { size } => write!(
                f,
                "the kernel cannot activate a device whose data block size ({size}) exceeds the page size (4096)"
            ),
            Warning::NothingMatches => f.write_str(
                "no digest in the top hash block matches: the salt, hash algorithm, hash type or block sizes are probably not the ones the tree was built with",
            ),
            Warning::HashDeviceShorterThanTable { needed, actual } => write!(
                f,
                "the hash device has {actual} bytes but the kernel table needs {needed}; extend it before activation"
            ),
        }
    }
}

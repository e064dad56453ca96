//! The details inside [`Fault`](super::Fault) and [`Error`](super::Error): plain data
//! with the numbers that explain them, so that rejecting a copy or refusing a write never
//! allocates (the boot library builds the same code without a heap). Pure logic.

use super::guid::Guid;
use core::fmt;

/// A broken layout rule of one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutFault {
    /// A header or array LBA times the block size does not fit in 64 bits.
    LbaOverflow(u64),
    /// FirstUsableLBA is above LastUsableLBA.
    UsableInverted {
        /// FirstUsableLBA.
        first_usable: u64,
        /// LastUsableLBA.
        last_usable: u64,
    },
    /// LastUsableLBA is not on the disk.
    UsableBeyondDisk {
        /// LastUsableLBA.
        last_usable: u64,
        /// Blocks on the disk.
        blocks: u64,
    },
    /// The primary's entry array is not between its header and FirstUsableLBA.
    PrimaryArrayMisplaced {
        /// PartitionEntryLBA.
        entries_lba: u64,
        /// First LBA after the array.
        array_end: u64,
        /// FirstUsableLBA.
        first_usable: u64,
    },
    /// The primary's AlternateLBA lies inside the usable area.
    AlternateInsideUsable {
        /// AlternateLBA.
        alternate_lba: u64,
        /// LastUsableLBA.
        last_usable: u64,
    },
    /// The backup's entry array is not between LastUsableLBA and its header.
    BackupArrayMisplaced {
        /// PartitionEntryLBA.
        entries_lba: u64,
        /// First LBA after the array.
        array_end: u64,
        /// LastUsableLBA.
        last_usable: u64,
    },
    /// The backup's FirstUsableLBA would overlap the primary header.
    FirstUsableOverlapsPrimary(u64),
}

impl fmt::Display for LayoutFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LayoutFault::LbaOverflow(lba) => write!(f, "LBA {lba} overflows"),
            LayoutFault::UsableInverted { first_usable, last_usable } => {
                write!(f, "FirstUsableLBA {first_usable} is above LastUsableLBA {last_usable}")
            }
            LayoutFault::UsableBeyondDisk { last_usable, blocks } => {
                write!(f, "LastUsableLBA {last_usable} is beyond the disk ({blocks} blocks)")
            }
            LayoutFault::PrimaryArrayMisplaced { entries_lba, array_end, first_usable } => write!(
                f,
                "entry array at LBA {entries_lba}..{array_end} is not between the header and FirstUsableLBA \
                 {first_usable}"
            ),
            LayoutFault::AlternateInsideUsable { alternate_lba, last_usable } => {
                write!(f, "AlternateLBA {alternate_lba} is not after LastUsableLBA {last_usable}")
            }
            LayoutFault::BackupArrayMisplaced { entries_lba, array_end, last_usable } => write!(
                f,
                "entry array at LBA {entries_lba}..{array_end} is not between LastUsableLBA {last_usable} and the \
                 header"
            ),
            LayoutFault::FirstUsableOverlapsPrimary(first_usable) => {
                write!(f, "FirstUsableLBA {first_usable} overlaps the primary header")
            }
        }
    }
}

/// The rule a used partition entry breaks (cgpt's entry checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryProblem {
    /// StartingLBA is after EndingLBA.
    Inverted {
        /// StartingLBA.
        first_lba: u64,
        /// EndingLBA.
        last_lba: u64,
    },
    /// The partition is not inside the usable area.
    OutsideUsable {
        /// StartingLBA.
        first_lba: u64,
        /// EndingLBA.
        last_lba: u64,
        /// FirstUsableLBA.
        first_usable: u64,
        /// LastUsableLBA.
        last_usable: u64,
    },
    /// It overlaps the partition with this number.
    Overlaps(u32),
    /// It has the unique GUID of the partition with this number.
    DuplicateGuid(u32),
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EntryProblem::Inverted { first_lba, last_lba } => {
                write!(f, "starts at LBA {first_lba} after it ends at {last_lba}")
            }
            EntryProblem::OutsideUsable { first_lba, last_lba, first_usable, last_usable } => {
                write!(f, "LBA {first_lba}..={last_lba} is outside the usable range {first_usable}..={last_usable}")
            }
            EntryProblem::Overlaps(other) => write!(f, "overlaps partition {other}"),
            EntryProblem::DuplicateGuid(other) => write!(f, "has the same unique GUID as partition {other}"),
        }
    }
}

/// The first way two copies that are each valid disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// A numeric header field.
    Field {
        /// The field's name in the UEFI specification.
        name: &'static str,
        /// The primary's value.
        primary: u64,
        /// The backup's value.
        backup: u64,
    },
    /// The disk GUID.
    DiskGuid {
        /// The primary's.
        primary: Guid,
        /// The backup's.
        backup: Guid,
    },
    /// The header bytes after the 92 defined ones.
    ReservedBytes,
    /// The entry arrays (with equal CRC fields).
    EntryArrays,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Difference::Field { name, primary, backup } => write!(f, "{name} {backup} differs from {primary}"),
            Difference::DiskGuid { primary, backup } => write!(f, "disk GUID {backup} differs from {primary}"),
            Difference::ReservedBytes => f.write_str("reserved header bytes differ"),
            Difference::EntryArrays => f.write_str("entry arrays differ"),
        }
    }
}

/// Why a copy cannot be written where it has to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepairBlocker {
    /// The disk has no room for a backup at its end.
    DiskTooSmall {
        /// Blocks on the disk.
        blocks: u64,
    },
    /// A backup at the new end would cut a partition (a shrunk disk).
    PartitionCut {
        /// The partition.
        index: u32,
        /// Its EndingLBA.
        last_lba: u64,
        /// Blocks on the disk.
        blocks: u64,
        /// Where the backup array would start.
        entries_lba: u64,
    },
    /// No room for the backup entry array before its header.
    NoRoomForBackupArray {
        /// The backup header's LBA.
        backup_lba: u64,
    },
    /// The primary entry array does not fit before FirstUsableLBA.
    PrimaryArrayDoesNotFit {
        /// Blocks of the array.
        array_blocks: u64,
        /// Where it starts.
        entries_lba: u64,
        /// FirstUsableLBA.
        first_usable: u64,
    },
}

impl fmt::Display for RepairBlocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RepairBlocker::DiskTooSmall { blocks } => {
                write!(f, "the disk ({blocks} blocks) is too small for a backup GPT at its end")
            }
            RepairBlocker::PartitionCut { index, last_lba, blocks, entries_lba } => write!(
                f,
                "partition {index} ends at LBA {last_lba}, but the disk ({blocks} blocks) now needs LBA \
                 {entries_lba}..{} for the backup GPT; the partition would be cut",
                blocks.saturating_sub(1)
            ),
            RepairBlocker::NoRoomForBackupArray { backup_lba } => {
                write!(f, "no room for the backup entry array before LBA {backup_lba}")
            }
            RepairBlocker::PrimaryArrayDoesNotFit { array_blocks, entries_lba, first_usable } => write!(
                f,
                "the primary entry array ({array_blocks} blocks at LBA {entries_lba}) does not fit before \
                 FirstUsableLBA {first_usable}"
            ),
        }
    }
}

/// The device call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceCall {
    /// Asking for the size.
    Size,
    /// Reading the protective MBR at LBA 0.
    Mbr,
    /// Reading bytes.
    Read {
        /// Bytes asked for.
        len: usize,
        /// At this byte offset.
        offset: u64,
    },
    /// Writing one part of a copy.
    Write(&'static str),
    /// Flushing.
    Flush,
}

impl fmt::Display for DeviceCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DeviceCall::Size => f.write_str("reading the disk size"),
            DeviceCall::Mbr => f.write_str("reading LBA 0"),
            DeviceCall::Read { len, offset } => write!(f, "reading {len} bytes at offset {offset}"),
            DeviceCall::Write(what) => write!(f, "writing the {what}"),
            DeviceCall::Flush => f.write_str("flushing the disk"),
        }
    }
}

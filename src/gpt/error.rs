//! Errors of the GPT module, and the reasons a single GPT copy is rejected.

use super::Guid;
use super::reasons::{DeviceCall, Difference, EntryProblem, LayoutFault, RepairBlocker};
use alloc::string::String;
#[cfg(not(rootseal_freestanding))]
use std::io;

/// Which of the two GPT copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Which {
    /// The header at LBA 1 and its entry array.
    Primary,
    /// The header at the end of the disk and its entry array.
    Backup,
}

impl core::fmt::Display for Which {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Which::Primary => "primary",
            Which::Backup => "backup",
        })
    }
}

/// Why one GPT copy (header plus entry array) is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// The device is too small to hold the header where it should be.
    #[error("LBA {lba} is beyond the end of the disk ({blocks} blocks)")]
    OutsideDisk {
        /// The header's LBA.
        lba: u64,
        /// Blocks on the disk.
        blocks: u64,
    },
    /// No `EFI PART` signature.
    #[error("no \"EFI PART\" signature")]
    Signature,
    /// The primary header's signature is `IGNOREME` (Chrome OS `cgpt legacy -p`): the
    /// primary is deliberately absent, the backup is used, and the primary is never
    /// written.
    #[error("ignored on purpose (\"IGNOREME\" signature, as `cgpt legacy -p` writes)")]
    Ignored,
    /// A revision other than 1.0.
    #[error("revision {0:#010x} is not 0x00010000")]
    Revision(u32),
    /// HeaderSize outside 92..=block size.
    #[error("header size {size} is outside 92..={block_size}")]
    HeaderSize {
        /// The claimed size.
        size: u32,
        /// The logical block size.
        block_size: u32,
    },
    /// The header CRC does not match.
    #[error("header CRC {stored:#010x} does not match the computed {computed:#010x}")]
    HeaderCrc {
        /// Stored value.
        stored: u32,
        /// Computed value.
        computed: u32,
    },
    /// The reserved field at offset 20 is not zero.
    #[error("reserved header field is {0:#x}, not 0")]
    Reserved(u32),
    /// MyLBA is not where the header was read.
    #[error("MyLBA is {stored}, but the header was read at LBA {actual}")]
    MyLba {
        /// Stored value.
        stored: u64,
        /// Where it was read.
        actual: u64,
    },
    /// AlternateLBA does not point at the other copy.
    #[error("AlternateLBA is {stored}, expected {expected}")]
    AlternateLba {
        /// Stored value.
        stored: u64,
        /// The other header's LBA.
        expected: u64,
    },
    /// Entry size is not 128 × 2^n (up to 4096).
    #[error("partition entry size {0} is not 128 × 2^n bytes (at most 4096)")]
    EntrySize(u32),
    /// The entry array is empty, below the UEFI minimum of 16 KiB or above rootseal's
    /// 4 MiB cap.
    #[error("partition entry array of {count} × {size} bytes is outside 16 KiB..=4 MiB")]
    EntryArraySize {
        /// NumberOfPartitionEntries.
        count: u32,
        /// SizeOfPartitionEntry.
        size: u32,
    },
    /// A layout rule about LBAs is broken.
    #[error("bad layout: {0}")]
    Layout(LayoutFault),
    /// The entry array CRC does not match the header.
    #[error("entry array CRC {computed:#010x} does not match the header's {stored:#010x}")]
    ArrayCrc {
        /// The header's value.
        stored: u32,
        /// Computed over the array on disk.
        computed: u32,
    },
    /// The array matches the other copy's header, not its own: a write of this header
    /// was interrupted (cgpt's rule for distrusting the primary).
    #[error("entry array matches the other header's CRC, not its own: an update of this copy was interrupted")]
    InterruptedUpdate,
    /// A partition entry breaks a rule (cgpt's entry checks).
    #[error("partition {index}: {problem}")]
    Entry {
        /// 1-based partition number.
        index: u32,
        /// The rule it breaks.
        problem: EntryProblem,
    },
    /// Both copies are valid on their own but disagree; the primary wins.
    #[error("out of sync with the primary: {0}")]
    OutOfSync(Difference),
    /// The copy could not be read.
    #[error("read failed: {0}")]
    Io(String),
}

/// Everything that stops a GPT operation. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O call failed.
    #[cfg(not(rootseal_freestanding))]
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A write or flush failed part way through an operation. The copy being written may
    /// be torn; the other one is intact, so the disk still reads as the old or the new
    /// table and `repair` finishes the job.
    #[cfg(not(rootseal_freestanding))]
    #[error("{context}: {source}")]
    Write {
        /// What was being written.
        context: String,
        /// The OS or callback error.
        #[source]
        source: io::Error,
    },
    /// Another process holds the disk's lock.
    #[error("{0} is locked by another process (timed out after 10 s)")]
    Locked(String),
    /// A logical block size other than 512 or 4096.
    #[error("logical block size {0} is not supported: use 512 or 4096")]
    InvalidBlockSize(u32),
    /// The caller asked for a block size the device does not have.
    #[error("the device has {device}-byte logical blocks, but {requested} was requested")]
    BlockSizeMismatch {
        /// From BLKSSZGET.
        device: u32,
        /// From the caller.
        requested: u32,
    },
    /// No GPT signature anywhere it could be.
    #[error("no GPT found: no \"EFI PART\" signature at LBA 1 or at the last LBA (for the logical block size in use)")]
    NoGpt,
    /// Neither copy is valid.
    #[error("no valid GPT: primary: {primary}; backup: {backup}")]
    NoValidGpt {
        /// Why the primary was rejected.
        primary: Fault,
        /// Why the backup was rejected.
        backup: Fault,
    },
    /// One copy is invalid and the operation needs both, as `cgpt add` does.
    #[error("the {which} GPT is invalid ({reason}); run `rootseal gpt repair` first")]
    NeedsRepair {
        /// The bad copy.
        which: Which,
        /// Why.
        reason: Fault,
    },
    /// Repair cannot rebuild a copy where it has to go.
    #[error("cannot repair: {0}")]
    CannotRepair(RepairBlocker),
    /// The caller's memory cannot hold the entry arrays (the boot library's scratch).
    #[error("the memory given is too small: reading this GPT needs {needed} bytes")]
    ScratchTooSmall {
        /// Bytes needed.
        needed: u64,
    },
    /// A device callback failed (the boot library's I/O; the host reports [`Error::Io`]).
    #[error("{0}: the device callback failed")]
    Device(DeviceCall),
    /// A text GUID is malformed.
    #[error("invalid GUID {0:?}: expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")]
    InvalidGuid(String),
    /// A partition number outside 1..=NumberOfPartitionEntries.
    #[error("partition {index} does not exist: the table has entries 1..={count}")]
    NoSuchPartition {
        /// 1-based partition number.
        index: u32,
        /// NumberOfPartitionEntries.
        count: u32,
    },
    /// The entry is unused (zero type GUID).
    #[error("partition {0} is unused")]
    UnusedPartition(u32),
    /// The partition is not of the type the operation manages.
    #[error("partition {index} has type {actual}, not {expected}")]
    WrongType {
        /// 1-based partition number.
        index: u32,
        /// The participating type.
        expected: Guid,
        /// The entry's type.
        actual: Guid,
    },
    /// A prioritize target that is not among the participating partitions.
    #[error("partition {0} does not take part in prioritizing")]
    NotParticipating(u32),
    /// `-f` was given without `-i`.
    #[error("friends (-f) needs a target partition (-i)")]
    FriendsWithoutTarget,
    /// A priority, tries or maximum out of range. Never clamped.
    #[error("{field} {value} is out of range 0..={max}")]
    ValueOutOfRange {
        /// Which value.
        field: &'static str,
        /// The rejected value.
        value: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A `set` that names none of priority, tries and successful.
    #[error("nothing to set: give at least one of priority, tries and successful (-P, -T, -S)")]
    NothingToSet,
    /// `next` found nothing to boot.
    #[error("no bootable partition of type {0}: none has priority > 0 with tries left or marked successful")]
    NoBootableSlot(Guid),
    /// A Flatcar slot was not found or is ambiguous.
    #[error("{0}")]
    Slot(String),
}

impl Error {
    /// What kind of failure this is: a usable table in a state the operation cannot
    /// work with (nothing to boot, a copy to repair first, a repair that cannot be done)
    /// and a write that failed part way are failed operations; a disk that cannot be
    /// read is an I/O failure; everything else (no GPT, no valid copy, a wrong partition
    /// or value) is bad input.
    #[cfg(not(rootseal_freestanding))]
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            Error::NoBootableSlot(_)
            | Error::NeedsRepair { .. }
            | Error::CannotRepair(_)
            | Error::Write { .. }
            | Error::Locked(_) => crate::ErrorClass::CheckFailed,
            Error::Io { .. } | Error::Device(_) => crate::ErrorClass::Io,
            _ => crate::ErrorClass::BadInput,
        }
    }

    #[cfg(not(rootseal_freestanding))]
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

impl Error {
    /// The table could not be written back (no room for a copy, a failed write): what
    /// gptprio's fallback covers. The table on disk is as it was read or half written,
    /// which the write order keeps readable.
    pub fn is_unwritable(&self) -> bool {
        match self {
            Error::CannotRepair(_) | Error::Device(_) => true,
            #[cfg(not(rootseal_freestanding))]
            Error::Write { .. } => true,
            _ => false,
        }
    }
}

/// Result alias for the GPT module.
pub type Result<T, E = Error> = core::result::Result<T, E>;

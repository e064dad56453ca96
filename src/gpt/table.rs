//! The validated table: the trusted header and entries of a GPT, and how each of its two
//! copies fared. Pure data; [`super::read()`] fills it from a disk and
//! [`super::GptDisk`] writes it back.

use super::entries::EntryArray;
use super::error::{Fault, Which};
use super::header::Header;
use super::pmbr::{MBR_BYTES, Pmbr};
use alloc::vec::Vec;

/// How one copy fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyState {
    /// Where its header was looked for.
    pub header_lba: u64,
    /// `None` when valid, otherwise why it is not trusted.
    pub fault: Option<Fault>,
}

impl CopyState {
    /// True when the copy passed every check.
    pub fn is_valid(&self) -> bool {
        self.fault.is_none()
    }
}

/// A GPT as read from a disk: the trusted header and entries plus the state of each
/// copy. Operations change it in memory; [`super::GptDisk`] writes it back. The entry
/// arrays live in `B`: `Vec`s on the host, the caller's scratch in the boot library.
#[derive(Debug, Clone)]
pub struct Gpt<B = Vec<u8>> {
    pub(super) block_size: u32,
    pub(super) blocks: u64,
    pub(super) pmbr: Pmbr,
    pub(super) mbr_sector: [u8; MBR_BYTES],
    pub(super) primary: CopyState,
    pub(super) backup: CopyState,
    /// The header of the trusted copy.
    pub(super) header: Header,
    /// The entries of the trusted copy, with any in-memory changes.
    pub(super) entries: EntryArray<B>,
    /// The trusted copy.
    pub(super) source: Which,
    /// Headers of the copies as they are on disk, when valid.
    pub(super) on_disk: [Option<(Header, EntryArray<B>)>; 2],
}

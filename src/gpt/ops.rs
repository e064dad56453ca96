//! The A/B operations on an in-memory table. Pure logic: nothing here reads or writes a
//! device; [`super::GptDisk`] does that around these calls.

use super::attrs::{AttrChange, Attributes};
use super::entries::{Partition, PartitionEntry};
use super::error::{Error, Fault, Result, Which};
use super::guid::Guid;
use super::next;
use super::pmbr::Pmbr;
use super::prioritize::{PrioritizeRequest, Renumbering};
use super::table::{CopyState, Gpt};
use alloc::vec::Vec;

impl<B: AsRef<[u8]>> Gpt<B> {
    /// Logical block size in bytes.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }
    /// Number of logical blocks on the disk.
    pub fn block_count(&self) -> u64 {
        self.blocks
    }
    /// The disk GUID.
    pub fn disk_guid(&self) -> Guid {
        self.header.disk_guid
    }
    /// State of the protective MBR.
    pub fn pmbr(&self) -> &Pmbr {
        &self.pmbr
    }
    /// State of the primary or backup copy.
    pub fn copy_state(&self, which: Which) -> &CopyState {
        match which {
            Which::Primary => &self.primary,
            Which::Backup => &self.backup,
        }
    }
    /// The copy the table was taken from.
    pub fn source(&self) -> Which {
        self.source
    }
    /// The trusted header.
    pub fn header(&self) -> &super::header::Header {
        &self.header
    }
    /// True when the primary header is `IGNOREME` (cgpt `legacy -p`): it is never
    /// written, and repair keeps it.
    pub fn primary_ignored(&self) -> bool {
        self.primary.fault == Some(Fault::Ignored)
    }
    /// True when the backup header is not at the last LBA (the disk has grown).
    pub fn backup_misplaced(&self) -> bool {
        self.backup.header_lba != self.blocks - 1
    }
    /// Used partitions in table order.
    pub fn partitions(&self) -> Vec<Partition> {
        self.entries.partitions().collect()
    }
    /// The entry at 1-based `index`, which must be in use.
    pub fn partition(&self, index: u32) -> Result<Partition> {
        self.entries.used(index)
    }
    /// Entry `index` without its name (no allocation), which must be in use.
    pub fn used_entry(&self, index: u32) -> Result<PartitionEntry> {
        self.entries.used_entry(index)
    }
    /// The entry array bytes of the trusted copy.
    pub fn entry_bytes(&self) -> &[u8] {
        self.entries.bytes()
    }

    /// The first invalid copy, as the error `cgpt add` gives for it.
    pub fn require_both_valid(&self) -> Result<()> {
        for (which, state) in [(Which::Primary, &self.primary), (Which::Backup, &self.backup)] {
            if let Some(reason) = state.fault.as_ref().filter(|f| **f != Fault::Ignored) {
                return Err(Error::NeedsRepair { which, reason: reason.clone() });
            }
        }
        Ok(())
    }

    fn participant(&self, index: u32, type_guid: Guid) -> Result<PartitionEntry> {
        let partition = self.entries.used_entry(index)?;
        if partition.type_guid != type_guid {
            return Err(Error::WrongType { index, expected: type_guid, actual: partition.type_guid });
        }
        Ok(partition)
    }

    /// The used entries of type `type_guid`, as `(number, attributes)`.
    fn participants(&self, type_guid: Guid) -> impl Iterator<Item = (u32, Attributes)> + Clone + '_ {
        self.entries.used_entries().filter(move |p| p.type_guid == type_guid).map(|p| (p.index, p.attributes))
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Gpt<B> {
    /// Applies one attribute change to partition `index` (no type check).
    pub fn apply_change(&mut self, index: u32, change: &AttrChange) -> Result<()> {
        change.validate()?;
        let word = change.apply(self.entries.used_entry(index)?.attributes)?;
        self.entries.set_attributes(index, word)
    }

    /// `cgpt prioritize` over the partitions of `type_guid`.
    pub fn apply_prioritize(&mut self, request: &PrioritizeRequest, type_guid: Guid) -> Result<()> {
        request.validate()?;
        if let Some(target) = request.target {
            self.participant(target, type_guid)?;
        }
        let slots = self.participants(type_guid).map(|(index, word)| (index, word.priority()));
        let renumbering = Renumbering::new(slots, request)?;
        for index in 1..=self.entries.count() {
            let entry = self.entries.entry(index)?;
            if entry.type_guid.is_zero() || entry.type_guid != type_guid {
                continue;
            }
            let word = entry.attributes.with_priority(renumbering.priority(index, entry.attributes.priority()))?;
            self.entries.set_attributes(index, word)?;
        }
        Ok(())
    }

    /// gptprio.next: chooses the partition to boot and uses up one of its tries.
    /// Returns it (after the change) and whether anything changed.
    pub fn apply_next(&mut self, type_guid: Guid) -> Result<(PartitionEntry, bool)> {
        let (index, word) = next::choose(self.participants(type_guid)).ok_or(Error::NoBootableSlot(type_guid))?;
        let changed = match next::consume_try(word) {
            Some(after) => {
                self.entries.set_attributes(index, after)?;
                true
            }
            None => false,
        };
        Ok((self.entries.used_entry(index)?, changed))
    }

    /// The slot to boot when no try can be recorded (the table cannot be written):
    /// the best one marked successful, which needs no try.
    pub fn choose_without_write(&self, type_guid: Guid) -> Option<PartitionEntry> {
        let candidates = self.participants(type_guid).filter(|(_, word)| word.successful());
        let (index, _) = next::choose(candidates)?;
        self.entries.used_entry(index).ok()
    }

    /// Flatcar post-install on a freshly written slot: S=0 T=1, then prioritize it.
    pub fn apply_mark_update(&mut self, index: u32, type_guid: Guid) -> Result<()> {
        self.mark(index, type_guid, false, 1)
    }

    /// Flatcar's setgoodroot after a good boot: S=1 T=0, then prioritize it.
    pub fn apply_mark_good(&mut self, index: u32, type_guid: Guid) -> Result<()> {
        self.mark(index, type_guid, true, 0)
    }

    fn mark(&mut self, index: u32, type_guid: Guid, successful: bool, tries: u8) -> Result<()> {
        self.participant(index, type_guid)?;
        self.apply_change(index, &AttrChange { priority: None, tries: Some(tries), successful: Some(successful) })?;
        self.apply_prioritize(&PrioritizeRequest { target: Some(index), ..Default::default() }, type_guid)
    }

    /// The attribute word of a used entry.
    pub fn attributes(&self, index: u32) -> Result<Attributes> {
        Ok(self.entries.used(index)?.attributes)
    }
}

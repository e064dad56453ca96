//! The crash-safe writer. Both copies are built in memory from the trusted copy, then
//! written one whole copy at a time (entry array, header, flush), starting with the copy
//! the reader does not currently trust. A power cut therefore always leaves one copy
//! that a reader takes and that holds either the complete old or the complete new
//! table:
//!
//! - while the first copy is being written, the trusted copy is untouched;
//! - once it is complete and flushed, it is valid and holds the new table, so a torn
//!   write of the second copy only costs that copy.
//!
//! With a valid primary this is the UEFI and libfdisk order (backup first). With a
//! broken primary the primary goes first: writing the backup first would put the only
//! valid copy at risk.

use super::error::{Error, Result, Which};
use super::header::Header;
use super::pmbr::{self, MBR_BYTES, PmbrFix};
use super::reasons::{DeviceCall, RepairBlocker};
use super::table::Gpt;

/// The disk as the writer sees it.
pub trait GptSink {
    /// What a failed call reports.
    type Error;
    /// Writes all of `bytes` at byte `offset`.
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> core::result::Result<(), Self::Error>;
    /// Makes every write before it durable.
    fn flush(&mut self) -> core::result::Result<(), Self::Error>;
    /// The error the write stops with.
    fn write_error(&self, err: Self::Error, call: DeviceCall) -> Error;
}

/// What one write of a plan puts on the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The (new) entry array.
    Entries,
    /// The target header of this copy.
    Header(Which),
    /// The repaired protective MBR.
    Pmbr,
}

/// One I/O call of a write plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Write `part` at byte `offset`.
    Write {
        /// Byte offset on the device.
        offset: u64,
        /// What is written.
        part: Part,
        /// For error messages.
        what: &'static str,
    },
    /// Make everything before it durable.
    Flush,
}

/// The most steps a plan has: two copies of (array, header, flush), then the MBR and a flush.
const MAX_STEPS: usize = 8;

/// The I/O calls that bring a disk to an in-memory table, with the headers and MBR they
/// write, in fixed memory.
#[derive(Debug, Clone)]
pub struct Plan {
    steps: [Step; MAX_STEPS],
    len: usize,
    headers: [Header; 2],
    pmbr: Option<[u8; MBR_BYTES]>,
}

impl Plan {
    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps[..self.len]
    }

    /// True when the disk already holds the table in both copies.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, step: Step) {
        self.steps[self.len] = step;
        self.len += 1;
    }
}

/// What a write should also fix.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fixes {
    /// Move the backup to the last LBA if the disk has grown.
    pub relocate_backup: bool,
    /// How far LBA 0 may be fixed.
    pub pmbr: PmbrFix,
}

impl<B: AsRef<[u8]>> Gpt<B> {
    /// The two headers the table should have after the write.
    fn target_headers(&self, fixes: Fixes) -> Result<[Header; 2]> {
        let bs = self.block_size;
        let array_blocks = self.header.array_blocks(bs);
        let cannot = |why: RepairBlocker| Err(Error::CannotRepair(why));
        let mut common = self.header.clone();
        common.entries_crc = self.entries.crc();

        let mut backup_lba = self.backup.header_lba;
        let mut backup_entries_lba = self.on_disk[1].as_ref().map(|(h, _)| h.entries_lba);
        let last_lba = self.blocks - 1;
        // A backup beyond the end of a shrunk disk can only be written at the new end.
        if (fixes.relocate_backup || backup_lba > last_lba) && backup_lba != last_lba {
            backup_lba = last_lba;
            let entries_lba = last_lba.checked_sub(array_blocks).filter(|&lba| lba > common.first_usable);
            let Some(entries_lba) = entries_lba else {
                return cannot(RepairBlocker::DiskTooSmall { blocks: self.blocks });
            };
            // A shrunk disk, as `sgdisk -e` treats it: the usable area ends before the
            // new backup array, which every partition must still fit in.
            if let Some(cut) = self.entries.used_entries().find(|p| p.last_lba >= entries_lba) {
                return cannot(RepairBlocker::PartitionCut {
                    index: cut.index,
                    last_lba: cut.last_lba,
                    blocks: self.blocks,
                    entries_lba,
                });
            }
            backup_entries_lba = Some(entries_lba);
            // As Flatcar's cgpt and `sgdisk -e` do: the new space becomes usable.
            common.last_usable = entries_lba - 1;
        }
        let backup_entries_lba = match backup_entries_lba {
            Some(lba) => lba,
            None => match backup_lba.checked_sub(array_blocks).filter(|&lba| lba > common.last_usable) {
                Some(lba) => lba,
                None => return cannot(RepairBlocker::NoRoomForBackupArray { backup_lba }),
            },
        };
        let primary_entries_lba = self.on_disk[0].as_ref().map_or(2, |(h, _)| h.entries_lba);
        if primary_entries_lba + array_blocks > common.first_usable {
            return cannot(RepairBlocker::PrimaryArrayDoesNotFit {
                array_blocks,
                entries_lba: primary_entries_lba,
                first_usable: common.first_usable,
            });
        }
        let primary =
            Header { my_lba: 1, alternate_lba: backup_lba, entries_lba: primary_entries_lba, ..common.clone() };
        let backup = Header { my_lba: backup_lba, alternate_lba: 1, entries_lba: backup_entries_lba, ..common };
        Ok([primary, backup])
    }

    /// The protective MBR `fix` would write, if any.
    pub(crate) fn pmbr_repair(&self, fix: PmbrFix) -> Option<[u8; MBR_BYTES]> {
        pmbr::repaired(&self.mbr_sector, self.blocks, fix)
    }

    /// The I/O calls that bring the disk to this in-memory table. Empty when the disk
    /// already holds it in both copies.
    pub(crate) fn plan(&self, fixes: Fixes) -> Result<Plan> {
        let headers = self.target_headers(fixes)?;
        let bs = u64::from(self.block_size);
        let order = match self.source {
            Which::Primary => [Which::Backup, Which::Primary],
            Which::Backup => [Which::Primary, Which::Backup],
        };
        let mut plan = Plan { steps: [Step::Flush; MAX_STEPS], len: 0, headers, pmbr: self.pmbr_repair(fixes.pmbr) };
        for which in order {
            let slot = which as usize;
            let header = &plan.headers[slot];
            // cgpt never writes an IGNOREME primary, and neither do we. The backup is
            // then rewritten in place, as cgpt does: there is no other copy to keep.
            if which == Which::Primary && self.primary_ignored() {
                continue;
            }
            if self.on_disk[slot].as_ref().is_some_and(|(h, e)| h == header && *e == self.entries) {
                continue;
            }
            let what = match which {
                Which::Primary => ["primary entry array", "primary header"],
                Which::Backup => ["backup entry array", "backup header"],
            };
            let (array_offset, header_offset) = (header.entries_lba * bs, header.my_lba * bs);
            plan.push(Step::Write { offset: array_offset, part: Part::Entries, what: what[0] });
            plan.push(Step::Write { offset: header_offset, part: Part::Header(which), what: what[1] });
            plan.push(Step::Flush);
        }
        if plan.pmbr.is_some() {
            plan.push(Step::Write { offset: 0, part: Part::Pmbr, what: "protective MBR" });
            plan.push(Step::Flush);
        }
        Ok(plan)
    }

    /// Runs `plan` on `sink`, stopping at the first failure.
    pub(crate) fn apply<K: GptSink>(&self, plan: &Plan, sink: &mut K) -> Result<()> {
        let mut block = [0u8; 4096];
        for step in plan.steps() {
            let (offset, part, what) = match *step {
                Step::Write { offset, part, what } => (offset, part, what),
                Step::Flush => {
                    sink.flush().map_err(|e| sink.write_error(e, DeviceCall::Flush))?;
                    continue;
                }
            };
            let bytes: &[u8] = match part {
                Part::Entries => self.entries.bytes(),
                Part::Header(which) => {
                    let block = &mut block[..self.block_size as usize];
                    plan.headers[which as usize].write_block(block);
                    block
                }
                Part::Pmbr => plan.pmbr.as_ref().map_or(&[][..], |sector| &sector[..]),
            };
            sink.write_at(offset, bytes).map_err(|e| sink.write_error(e, DeviceCall::Write(what)))?;
        }
        Ok(())
    }
}

/// What [`Gpt::next_and_commit`] chose and did.
#[derive(Debug)]
pub struct NextOutcome {
    /// The partition to boot, with its attributes as they now are on disk.
    pub chosen: super::entries::PartitionEntry,
    /// True when the table was written (a try was used).
    pub written: bool,
    /// Why the try could not be recorded, when `chosen` is the fallback: the best slot
    /// marked successful, booted with nothing written.
    pub fallback: Option<Error>,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Gpt<B> {
    /// Writes this table to `sink` crash-safely; true when anything was written.
    pub(crate) fn commit<K: GptSink>(&self, fixes: Fixes, sink: &mut K) -> Result<bool> {
        let plan = self.plan(fixes)?;
        self.apply(&plan, sink)?;
        Ok(!plan.is_empty())
    }

    /// gptprio.next on a table just read: choose, use up a try, and write only when it
    /// changed, repairing a bad copy on the way. When the try cannot be recorded (no
    /// room for a copy, a failed write), the best slot marked successful boots instead,
    /// as GRUB boots with the table it has.
    pub fn next_and_commit<K: GptSink>(&mut self, type_guid: super::Guid, sink: &mut K) -> Result<NextOutcome> {
        // Chosen before the try is used: the fallback if it cannot be recorded.
        let without_write = self.choose_without_write(type_guid);
        let (chosen, changed) = self.apply_next(type_guid)?;
        if !changed {
            return Ok(NextOutcome { chosen, written: false, fallback: None });
        }
        match self.commit(Fixes::default(), sink) {
            Ok(written) => Ok(NextOutcome { chosen, written, fallback: None }),
            Err(err) if err.is_unwritable() => match without_write {
                Some(chosen) => Ok(NextOutcome { chosen, written: false, fallback: Some(err) }),
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    /// Flatcar's post-install (`good == false`: S=0 T=1) or setgoodroot (`good`: S=1
    /// T=0) on partition `index`, then prioritize it; writes with repair (a bad copy
    /// rebuilt, the backup moved to the end of a grown disk, a broken protective MBR
    /// replaced). True when anything was written.
    pub fn mark_and_commit<K: GptSink>(
        &mut self,
        index: u32,
        type_guid: super::Guid,
        good: bool,
        sink: &mut K,
    ) -> Result<bool> {
        match good {
            true => self.apply_mark_good(index, type_guid)?,
            false => self.apply_mark_update(index, type_guid)?,
        }
        self.commit(Fixes { relocate_backup: true, pmbr: PmbrFix::Repair }, sink)
    }

    /// A change that needs both copies valid (set, prioritize), then a plain write.
    pub fn edit_and_commit<K: GptSink>(
        &mut self,
        change: impl FnOnce(&mut Self) -> Result<()>,
        sink: &mut K,
    ) -> Result<bool> {
        self.require_both_valid()?;
        change(self)?;
        self.commit(Fixes::default(), sink)
    }
}

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
use super::table::Gpt;
use crate::io::BlockWrite;

/// One I/O call of a write plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write `bytes` at byte `offset`.
    Write {
        /// Byte offset on the device.
        offset: u64,
        /// What is written.
        bytes: Vec<u8>,
        /// For error messages.
        what: &'static str,
    },
    /// Make everything before it durable.
    Flush,
}

/// What a write should also fix.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Fixes {
    /// Move the backup to the last LBA if the disk has grown.
    pub relocate_backup: bool,
    /// How far LBA 0 may be fixed.
    pub pmbr: PmbrFix,
}

impl Gpt {
    /// The two headers the table should have after the write.
    fn target_headers(&self, fixes: Fixes) -> Result<[Header; 2]> {
        let bs = self.block_size;
        let array_blocks = self.header.array_blocks(bs);
        let cannot = |what: String| Err(Error::CannotRepair(what));
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
                return cannot(format!("the disk ({} blocks) is too small for a backup GPT at its end", self.blocks));
            };
            // A shrunk disk, as `sgdisk -e` treats it: the usable area ends before the
            // new backup array, which every partition must still fit in.
            if let Some(cut) = self.entries.partitions().find(|p| p.last_lba >= entries_lba) {
                return cannot(format!(
                    "partition {} ends at LBA {}, but the disk ({} blocks) now needs LBA {entries_lba}..{last_lba} \
                     for the backup GPT; the partition would be cut",
                    cut.index, cut.last_lba, self.blocks
                ));
            }
            backup_entries_lba = Some(entries_lba);
            // As Flatcar's cgpt and `sgdisk -e` do: the new space becomes usable.
            common.last_usable = entries_lba - 1;
        }
        let backup_entries_lba = match backup_entries_lba {
            Some(lba) => lba,
            None => match backup_lba.checked_sub(array_blocks).filter(|&lba| lba > common.last_usable) {
                Some(lba) => lba,
                None => return cannot(format!("no room for the backup entry array before LBA {backup_lba}")),
            },
        };
        let primary_entries_lba = self.on_disk[0].as_ref().map_or(2, |(h, _)| h.entries_lba);
        if primary_entries_lba + array_blocks > common.first_usable {
            return cannot(format!(
                "the primary entry array ({array_blocks} blocks at LBA {primary_entries_lba}) does not fit before \
                 FirstUsableLBA {}",
                common.first_usable
            ));
        }
        let primary =
            Header { my_lba: 1, alternate_lba: backup_lba, entries_lba: primary_entries_lba, ..common.clone() };
        let backup = Header { my_lba: backup_lba, alternate_lba: 1, entries_lba: backup_entries_lba, ..common };
        Ok([primary, backup])
    }

    /// The protective MBR `fix` would write, if any.
    pub(super) fn pmbr_repair(&self, fix: PmbrFix) -> Option<Vec<u8>> {
        pmbr::repaired(&self.mbr_sector[..MBR_BYTES.min(self.mbr_sector.len())], self.blocks, fix)
    }

    /// The I/O calls that bring the disk to this in-memory table. Empty when the disk
    /// already holds it in both copies.
    pub(super) fn plan(&self, fixes: Fixes) -> Result<Vec<Step>> {
        let headers = self.target_headers(fixes)?;
        let bs = u64::from(self.block_size);
        let copy_steps = |which: Which| -> Vec<Step> {
            let slot = which as usize;
            let header = &headers[slot];
            // cgpt never writes an IGNOREME primary, and neither do we. The backup is
            // then rewritten in place, as cgpt does: there is no other copy to keep.
            if which == Which::Primary && self.primary_ignored() {
                return Vec::new();
            }
            if self.on_disk[slot].as_ref().is_some_and(|(h, e)| h == header && *e == self.entries) {
                return Vec::new();
            }
            let what = match which {
                Which::Primary => ["primary entry array", "primary header"],
                Which::Backup => ["backup entry array", "backup header"],
            };
            vec![
                Step::Write { offset: header.entries_lba * bs, bytes: self.entries.bytes().to_vec(), what: what[0] },
                Step::Write { offset: header.my_lba * bs, bytes: header.to_block(self.block_size), what: what[1] },
                Step::Flush,
            ]
        };
        let order = match self.source {
            Which::Primary => [Which::Backup, Which::Primary],
            Which::Backup => [Which::Primary, Which::Backup],
        };
        let mut steps: Vec<Step> = order.into_iter().flat_map(copy_steps).collect();
        if let Some(bytes) = self.pmbr_repair(fixes.pmbr) {
            steps.extend([Step::Write { offset: 0, bytes, what: "protective MBR" }, Step::Flush]);
        }
        Ok(steps)
    }
}

/// Runs a plan, stopping at the first failure.
pub(super) fn apply(dev: &dyn BlockWrite, steps: &[Step]) -> Result<()> {
    for step in steps {
        match step {
            Step::Write { offset, bytes, what } => dev
                .write_at(*offset, bytes)
                .map_err(|source| Error::Write { context: format!("writing the {what}"), source })?,
            Step::Flush => {
                dev.flush().map_err(|source| Error::Write { context: "flushing the disk".into(), source })?
            }
        }
    }
    Ok(())
}

//! The strict reader: both copies are read and checked on their own, then against each
//! other. A valid primary wins; a valid backup is the fallback.

use super::entries::EntryArray;
use super::error::{Error, Fault, Result, Which};
use super::header::{Header, SIGNATURE_IGNORED};
use super::pmbr::{MBR_BYTES, Pmbr};
use super::table::{CopyState, Gpt};
use crate::io::BlockRead;

/// One copy read in full: header and entry array, each checked.
type ReadCopy = std::result::Result<(Header, EntryArray), Fault>;

fn read_block(dev: &dyn BlockRead, lba: u64, block_size: u32) -> std::result::Result<Vec<u8>, Fault> {
    let offset = lba.checked_mul(block_size.into()).ok_or(Fault::Layout(format!("LBA {lba} overflows")))?;
    let mut scratch = Vec::new();
    let view = dev.read_view(offset, block_size as usize, &mut scratch).map_err(|e| Fault::Io(e.to_string()))?;
    Ok(view.to_vec())
}

/// Parses and checks a header without reading its array.
fn read_header(dev: &dyn BlockRead, which: Which, lba: u64, block_size: u32, blocks: u64) -> ReadHeader {
    if lba >= blocks {
        return Err(Fault::OutsideDisk { lba, blocks });
    }
    let header = Header::parse(&read_block(dev, lba, block_size)?, lba)?;
    header.check_layout(which, block_size, blocks)?;
    Ok(header)
}
type ReadHeader = std::result::Result<Header, Fault>;

fn read_array(dev: &dyn BlockRead, header: &Header, block_size: u32) -> ReadCopy {
    // Both bounded by `check_layout` and the 4 MiB cap.
    let offset = header.entries_lba * u64::from(block_size);
    let mut scratch = Vec::new();
    let bytes = dev
        .read_view(offset, header.array_bytes() as usize, &mut scratch)
        .map_err(|e| Fault::Io(e.to_string()))?
        .to_vec();
    let entries = EntryArray::new(bytes, header.entry_size);
    let computed = entries.crc();
    if computed != header.entries_crc {
        return Err(Fault::ArrayCrc { stored: header.entries_crc, computed });
    }
    entries.check(header.first_usable, header.last_usable)?;
    Ok((header.clone(), entries))
}

/// cgpt's rule: an array that fails its own header's CRC but matches the other header's
/// means this copy's header was written and its array was not.
fn explain(copy: ReadCopy, other: Option<&Header>) -> ReadCopy {
    match copy {
        Err(Fault::ArrayCrc { computed, .. }) if other.is_some_and(|h| h.entries_crc == computed) => {
            Err(Fault::InterruptedUpdate)
        }
        other => other,
    }
}

/// Reads both copies from a disk with `block_size`-byte logical blocks.
pub fn read(dev: &dyn BlockRead, block_size: u32) -> Result<Gpt> {
    if block_size != 512 && block_size != 4096 {
        return Err(Error::InvalidBlockSize(block_size));
    }
    let size = dev.size().map_err(|e| Error::io("reading the disk size", e))?;
    let blocks = size / u64::from(block_size);
    if blocks < 3 {
        return Err(Error::NoGpt);
    }
    let mut scratch = Vec::new();
    let mbr_sector = dev.read_view(0, MBR_BYTES, &mut scratch).map_err(|e| Error::io("reading LBA 0", e))?.to_vec();

    let primary_block = read_block(dev, 1, block_size);
    let primary_header = match &primary_block {
        // As cgpt: the primary is absent on purpose; only the backup counts.
        Ok(block) if block.starts_with(&SIGNATURE_IGNORED) => Err(Fault::Ignored),
        _ => read_header(dev, Which::Primary, 1, block_size, blocks),
    };
    // The backup is where a trustworthy primary says; otherwise at the last LBA.
    let last_lba = blocks - 1;
    let mut backup_lba = primary_header.as_ref().map_or(last_lba, |h| h.alternate_lba);
    let mut backup_header = read_header(dev, Which::Backup, backup_lba, block_size, blocks);
    // A backup being moved to the end of a grown disk can overwrite the old one before
    // the primary points at the new one: then the new one is at the last LBA.
    if backup_header.is_err()
        && backup_lba != last_lba
        && let Ok(header) = read_header(dev, Which::Backup, last_lba, block_size, blocks)
    {
        (backup_lba, backup_header) = (last_lba, Ok(header));
    }
    let primary = primary_header.clone().and_then(|h| read_array(dev, &h, block_size));
    let backup = backup_header.clone().and_then(|h| read_array(dev, &h, block_size));
    let mut primary = explain(primary, backup_header.as_ref().ok());
    let backup = explain(backup, primary_header.as_ref().ok());

    let backup = match (&mut primary, backup) {
        (Ok((ph, pe)), Ok((bh, be))) => match ph.table_difference(&bh) {
            Some(diff) => Err(Fault::OutOfSync(diff)),
            None if pe != &be => Err(Fault::OutOfSync("entry arrays differ".into())),
            None => Ok((bh, be)),
        },
        (_, backup) => backup,
    };

    let state = |lba, copy: &ReadCopy| CopyState { header_lba: lba, fault: copy.as_ref().err().cloned() };
    let primary_state = state(1, &primary);
    let backup_state = state(backup_lba, &backup);
    let (source, (header, entries)) = match (&primary, &backup) {
        (Ok(copy), _) => (Which::Primary, copy.clone()),
        (Err(_), Ok(copy)) => (Which::Backup, copy.clone()),
        (Err(Fault::Signature), Err(Fault::Signature)) => return Err(Error::NoGpt),
        (Err(p), Err(b)) => return Err(Error::NoValidGpt { primary: p.clone(), backup: b.clone() }),
    };
    Ok(Gpt {
        block_size,
        blocks,
        pmbr: Pmbr::check(&mbr_sector),
        mbr_sector,
        primary: primary_state,
        backup: backup_state,
        header,
        entries,
        source,
        on_disk: [primary.ok(), backup.ok()],
    })
}

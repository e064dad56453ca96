//! The strict reader: both copies are read and checked on their own, then against each
//! other. A valid primary wins; a valid backup is the fallback.
//!
//! It reads through [`GptSource`] and keeps the entry arrays in [`ArrayMemory`], so the
//! host (a file or block device, `Vec`s) and the boot library (callbacks, the caller's
//! scratch) run this same code; nothing here allocates.

use super::entries::EntryArray;
use super::error::{Error, Fault, Result, Which};
use super::header::{Header, MAX_ENTRY_SIZE, SIGNATURE, SIGNATURE_IGNORED};
use super::pmbr::{MBR_BYTES, Pmbr};
use super::reasons::{DeviceCall, Difference, LayoutFault};
use super::table::{CopyState, Gpt};

/// The largest logical block the readers handle.
const MAX_BLOCK: usize = MAX_ENTRY_SIZE as usize;

/// The disk as the reader sees it.
pub trait GptSource {
    /// What a failed call reports.
    type Error;
    /// The size in bytes.
    fn size(&mut self) -> core::result::Result<u64, Self::Error>;
    /// Fills `buf` from byte `offset`; running out of disk is an error.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> core::result::Result<(), Self::Error>;
    /// A failed read of one copy: that copy is not trusted.
    fn copy_fault(&self, err: Self::Error) -> Fault;
    /// A failed call no copy can do without (the size, LBA 0): the read stops.
    fn disk_error(&self, err: Self::Error, call: DeviceCall) -> Error;
}

/// Where the reader keeps entry arrays and its sort order.
pub trait ArrayMemory {
    /// One buffer.
    type Array: AsRef<[u8]> + AsMut<[u8]>;
    /// A buffer of exactly `len` bytes, or `None` when the memory is used up.
    fn take(&mut self, len: usize) -> Option<Self::Array>;
}

/// One copy read in full: header and entry array, each checked.
type ReadCopy<A> = core::result::Result<(Header, EntryArray<A>), Fault>;
type ReadHeader = core::result::Result<Header, Fault>;

/// Bytes of [`ArrayMemory`] a read takes, given the headers that parsed: both entry
/// arrays, the working copy of the larger, and the sort order of the longer.
pub fn memory_needed(headers: [Option<&Header>; 2]) -> u64 {
    let arrays = headers.iter().flatten().map(|h| h.array_bytes());
    let largest = arrays.clone().max().unwrap_or(0);
    let longest = headers.iter().flatten().map(|h| u64::from(h.entry_count)).max().unwrap_or(0);
    // Each array is at most 4 MiB (checked by the parser): no overflow.
    arrays.sum::<u64>() + largest + 4 * longest
}

struct Reader<'a, S, M> {
    source: &'a mut S,
    memory: &'a mut M,
    block_size: u32,
    blocks: u64,
    block: [u8; MAX_BLOCK],
}

impl<S: GptSource, M: ArrayMemory> Reader<'_, S, M> {
    fn read_block(&mut self, lba: u64) -> core::result::Result<&[u8], Fault> {
        let bs = self.block_size as usize;
        let offset = lba.checked_mul(self.block_size.into()).ok_or(Fault::Layout(LayoutFault::LbaOverflow(lba)))?;
        match self.source.read_exact_at(offset, &mut self.block[..bs]) {
            Ok(()) => Ok(&self.block[..bs]),
            Err(err) => Err(self.source.copy_fault(err)),
        }
    }

    /// Parses and checks a header without reading its array.
    fn read_header(&mut self, which: Which, lba: u64) -> ReadHeader {
        if lba >= self.blocks {
            return Err(Fault::OutsideDisk { lba, blocks: self.blocks });
        }
        let header = Header::parse(self.read_block(lba)?, lba)?;
        header.check_layout(which, self.block_size, self.blocks)?;
        Ok(header)
    }

    fn take(&mut self, len: u64, needed: u64) -> Result<M::Array> {
        usize::try_from(len).ok().and_then(|len| self.memory.take(len)).ok_or(Error::ScratchTooSmall { needed })
    }

    /// Reads and checks the array `header` points at. Only running out of memory stops
    /// the read; everything else is this copy's fault.
    fn read_array(&mut self, header: &Header, order: &mut [u8], needed: u64) -> Result<ReadCopy<M::Array>> {
        let mut bytes = self.take(header.array_bytes(), needed)?;
        // Both bounded by `check_layout` and the 4 MiB cap.
        let offset = header.entries_lba * u64::from(self.block_size);
        if let Err(err) = self.source.read_exact_at(offset, bytes.as_mut()) {
            return Ok(Err(self.source.copy_fault(err)));
        }
        let entries = EntryArray::new(bytes, header.entry_size);
        let computed = entries.crc();
        if computed != header.entries_crc {
            return Ok(Err(Fault::ArrayCrc { stored: header.entries_crc, computed }));
        }
        Ok(entries.check(header.first_usable, header.last_usable, order).map(|()| (header.clone(), entries)))
    }
}

/// cgpt's rule: an array that fails its own header's CRC but matches the other header's
/// means this copy's header was written and its array was not.
fn explain<A>(copy: ReadCopy<A>, other: Option<&Header>) -> ReadCopy<A> {
    match copy {
        Err(Fault::ArrayCrc { computed, .. }) if other.is_some_and(|h| h.entries_crc == computed) => {
            Err(Fault::InterruptedUpdate)
        }
        other => other,
    }
}

/// Reads both copies from a disk with `block_size`-byte logical blocks, the arrays into
/// `memory` (at most [`memory_needed`] bytes of it).
pub fn read_table<S: GptSource, M: ArrayMemory>(
    source: &mut S,
    memory: &mut M,
    block_size: u32,
) -> Result<Gpt<M::Array>> {
    if block_size != 512 && block_size != 4096 {
        return Err(Error::InvalidBlockSize(block_size));
    }
    let size = source.size().map_err(|e| source.disk_error(e, DeviceCall::Size))?;
    let blocks = size / u64::from(block_size);
    if blocks < 3 {
        return Err(Error::NoGpt);
    }
    let mut mbr_sector = [0u8; MBR_BYTES];
    if let Err(err) = source.read_exact_at(0, &mut mbr_sector) {
        return Err(source.disk_error(err, DeviceCall::Mbr));
    }
    let mut reader = Reader { source, memory, block_size, blocks, block: [0; MAX_BLOCK] };

    let primary_header = match reader.read_block(1) {
        // As cgpt: the primary is absent on purpose; only the backup counts.
        Ok(block) if block.starts_with(&SIGNATURE_IGNORED) => Err(Fault::Ignored),
        _ => reader.read_header(Which::Primary, 1),
    };
    // The backup is where a trustworthy primary says; otherwise at the last LBA.
    let last_lba = blocks - 1;
    let mut backup_lba = primary_header.as_ref().map_or(last_lba, |h| h.alternate_lba);
    let mut backup_header = reader.read_header(Which::Backup, backup_lba);
    // A backup being moved to the end of a grown disk can overwrite the old one before
    // the primary points at the new one: then the new one is at the last LBA.
    if backup_header.is_err()
        && backup_lba != last_lba
        && let Ok(header) = reader.read_header(Which::Backup, last_lba)
    {
        (backup_lba, backup_header) = (last_lba, Ok(header));
    }
    let headers = [primary_header.as_ref().ok(), backup_header.as_ref().ok()];
    let needed = memory_needed(headers);
    let longest = headers.iter().flatten().map(|h| u64::from(h.entry_count)).max().unwrap_or(0);
    let mut order = reader.take(4 * longest, needed)?;
    let mut read_copy = |header: &ReadHeader| match header {
        Ok(h) => reader.read_array(h, order.as_mut(), needed),
        Err(fault) => Ok(Err(fault.clone())),
    };
    let primary = read_copy(&primary_header)?;
    let backup = read_copy(&backup_header)?;
    let mut primary = explain(primary, backup_header.as_ref().ok());
    let backup = explain(backup, primary_header.as_ref().ok());

    let backup = match (&mut primary, backup) {
        (Ok((ph, pe)), Ok((bh, be))) => match ph.table_difference(&bh) {
            Some(diff) => Err(Fault::OutOfSync(diff)),
            None if *pe != be => Err(Fault::OutOfSync(Difference::EntryArrays)),
            None => Ok((bh, be)),
        },
        (_, backup) => backup,
    };

    let state = |lba, copy: &ReadCopy<M::Array>| CopyState { header_lba: lba, fault: copy.as_ref().err().cloned() };
    let primary_state = state(1, &primary);
    let backup_state = state(backup_lba, &backup);
    let (source, (header, trusted)) = match (&primary, &backup) {
        (Ok(copy), _) => (Which::Primary, copy),
        (Err(_), Ok(copy)) => (Which::Backup, copy),
        (Err(Fault::Signature), Err(Fault::Signature)) => return Err(Error::NoGpt),
        (Err(p), Err(b)) => return Err(Error::NoValidGpt { primary: p.clone(), backup: b.clone() }),
    };
    let mut entries = EntryArray::new(reader.take(trusted.bytes().len() as u64, needed)?, header.entry_size);
    entries.copy_from(trusted);
    let header = header.clone();
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

/// The logical block size of a disk whose callbacks do not say: the size (512, then
/// 4096) at which a valid header sits at LBA 1 or at the last LBA; failing that, the
/// one at which an `EFI PART` signature does.
pub fn detect_block_size<S: GptSource>(source: &mut S) -> Result<u32> {
    let size = source.size().map_err(|e| source.disk_error(e, DeviceCall::Size))?;
    let mut block = [0u8; MAX_BLOCK];
    // A failing read is an error, never "no GPT": a failing disk must not look blank.
    fn read<'b, S: GptSource>(source: &mut S, block: &'b mut [u8], offset: u64, len: usize) -> Result<&'b [u8]> {
        match source.read_exact_at(offset, &mut block[..len]) {
            Ok(()) => Ok(&block[..len]),
            Err(e) => Err(source.disk_error(e, DeviceCall::Read { len, offset })),
        }
    }
    let places = |bs: u64| {
        let blocks = size / bs;
        if blocks >= 3 { [Some(1), Some(blocks - 1)] } else { [None, None] }
    };
    for bs in [512u64, 4096] {
        for lba in places(bs).into_iter().flatten() {
            if Header::parse(read(source, &mut block, lba * bs, bs as usize)?, lba).is_ok() {
                return Ok(bs as u32);
            }
        }
    }
    for bs in [512u64, 4096] {
        for lba in places(bs).into_iter().flatten() {
            if read(source, &mut block, lba * bs, SIGNATURE.len())? == SIGNATURE {
                return Ok(bs as u32);
            }
        }
    }
    Err(Error::NoGpt)
}

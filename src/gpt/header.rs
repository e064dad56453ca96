//! The GPT header: parsing with the checks in an order that never trusts a size before
//! the CRC has vouched for it, layout rules, and serialisation. Pure logic.

use super::error::{Fault, Which};
use super::guid::Guid;
use super::reasons::{Difference, LayoutFault};
use alloc::{vec, vec::Vec};

/// `EFI PART`.
pub(crate) const SIGNATURE: [u8; 8] = *b"EFI PART";
/// The signature Chrome OS writes over a primary header that must be ignored.
pub const SIGNATURE_IGNORED: [u8; 8] = *b"IGNOREME";
/// Revision 1.0.
pub(crate) const REVISION: u32 = 0x0001_0000;
/// The defined part of the header; HeaderSize is at least this.
pub(crate) const HEADER_FIELDS: u32 = 92;
/// The smallest entry array UEFI allows.
pub(crate) const MIN_ARRAY_BYTES: u64 = 16 * 1024;
/// rootseal's cap on the entry array (as libfdisk's): a CRC-valid header claiming 2^31
/// entries is refused before anything is allocated.
pub(crate) const MAX_ARRAY_BYTES: u64 = 4 * 1024 * 1024;
/// The largest entry size accepted.
pub(crate) const MAX_ENTRY_SIZE: u32 = 4096;

/// A parsed, CRC-checked GPT header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// HeaderSize (92 by every writer; larger values are kept, with their bytes).
    pub header_size: u32,
    /// Where this header lives.
    pub my_lba: u64,
    /// Where the other header lives.
    pub alternate_lba: u64,
    /// First LBA partitions may use.
    pub first_usable: u64,
    /// Last LBA partitions may use (inclusive).
    pub last_usable: u64,
    /// The disk GUID.
    pub disk_guid: Guid,
    /// Where this copy's entry array starts.
    pub entries_lba: u64,
    /// NumberOfPartitionEntries (slots, used or not).
    pub entry_count: u32,
    /// SizeOfPartitionEntry.
    pub entry_size: u32,
    /// CRC32 of the entry array.
    pub entries_crc: u32,
    /// Bytes 92..HeaderSize: reserved, covered by the CRC, carried through.
    pub extra: HeaderExtra,
}

/// Most bytes a header can carry after the 92 defined ones (HeaderSize is at most the
/// 4096-byte block).
pub(crate) const MAX_EXTRA_BYTES: usize = 4096 - HEADER_FIELDS as usize;

/// Header bytes 92..HeaderSize, in a fixed array so a header never needs a heap.
#[derive(Clone)]
pub struct HeaderExtra {
    len: u16,
    bytes: [u8; MAX_EXTRA_BYTES],
}

impl HeaderExtra {
    /// Copies `bytes`, which the parser has bounded by the block size.
    ///
    /// # Panics
    /// If `bytes` is longer than 4004 (4096 - 92) bytes.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut extra = HeaderExtra { len: bytes.len() as u16, bytes: [0; MAX_EXTRA_BYTES] };
        extra.bytes[..bytes.len()].copy_from_slice(bytes);
        extra
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl Default for HeaderExtra {
    fn default() -> Self {
        HeaderExtra::from_slice(&[])
    }
}

impl PartialEq for HeaderExtra {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for HeaderExtra {}

impl core::fmt::Debug for HeaderExtra {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn header_crc(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[..16]);
    hasher.update(&[0; 4]);
    hasher.update(&bytes[20..]);
    hasher.finalize()
}

/// Ceiling division for block counts.
pub(crate) fn blocks_for(bytes: u64, block_size: u32) -> u64 {
    bytes.div_ceil(u64::from(block_size))
}

impl Header {
    /// Parses the header in `block` (one logical block) read at `lba`.
    pub fn parse(block: &[u8], lba: u64) -> Result<Header, Fault> {
        // HeaderSize never exceeds the largest block size the readers use, so the extra
        // bytes always fit in a HeaderExtra.
        let block_size = u32::try_from(block.len()).unwrap_or(u32::MAX).min(MAX_ENTRY_SIZE);
        if block.len() < HEADER_FIELDS as usize || block[..8] != SIGNATURE {
            return Err(Fault::Signature);
        }
        let revision = u32_at(block, 8);
        if revision != REVISION {
            return Err(Fault::Revision(revision));
        }
        let header_size = u32_at(block, 12);
        if !(HEADER_FIELDS..=block_size).contains(&header_size) {
            return Err(Fault::HeaderSize { size: header_size, block_size });
        }
        let bytes = &block[..header_size as usize];
        let stored = u32_at(bytes, 16);
        let computed = header_crc(bytes);
        if stored != computed {
            return Err(Fault::HeaderCrc { stored, computed });
        }
        let reserved = u32_at(bytes, 20);
        if reserved != 0 {
            return Err(Fault::Reserved(reserved));
        }
        let header = Header {
            header_size,
            my_lba: u64_at(bytes, 24),
            alternate_lba: u64_at(bytes, 32),
            first_usable: u64_at(bytes, 40),
            last_usable: u64_at(bytes, 48),
            disk_guid: Guid::from_disk_bytes(bytes[56..72].try_into().expect("16 bytes")),
            entries_lba: u64_at(bytes, 72),
            entry_count: u32_at(bytes, 80),
            entry_size: u32_at(bytes, 84),
            entries_crc: u32_at(bytes, 88),
            // At most block size - 92 <= MAX_EXTRA_BYTES: header_size <= block_size <= 4096 here.
            extra: HeaderExtra::from_slice(bytes.get(HEADER_FIELDS as usize..).unwrap_or_default()),
        };
        if header.my_lba != lba {
            return Err(Fault::MyLba { stored: header.my_lba, actual: lba });
        }
        let size = header.entry_size;
        if !(128..=MAX_ENTRY_SIZE).contains(&size) || !size.is_power_of_two() {
            return Err(Fault::EntrySize(size));
        }
        if !(MIN_ARRAY_BYTES..=MAX_ARRAY_BYTES).contains(&header.array_bytes()) {
            return Err(Fault::EntryArraySize { count: header.entry_count, size });
        }
        Ok(header)
    }

    /// Bytes in the entry array. Both factors are u32, so the u64 product cannot
    /// overflow; `parse` caps it at `MAX_ARRAY_BYTES` (4 MiB).
    pub fn array_bytes(&self) -> u64 {
        u64::from(self.entry_count) * u64::from(self.entry_size)
    }

    /// Blocks the entry array occupies.
    pub fn array_blocks(&self, block_size: u32) -> u64 {
        blocks_for(self.array_bytes(), block_size)
    }

    /// Checks where this copy's pieces lie on a disk of `blocks` blocks.
    pub fn check_layout(&self, which: Which, block_size: u32, blocks: u64) -> Result<(), Fault> {
        let bad = |what: LayoutFault| Err(Fault::Layout(what));
        let array_end = self
            .entries_lba
            .checked_add(self.array_blocks(block_size))
            .ok_or(Fault::Layout(LayoutFault::LbaOverflow(self.entries_lba)))?;
        if self.first_usable > self.last_usable {
            return bad(LayoutFault::UsableInverted { first_usable: self.first_usable, last_usable: self.last_usable });
        }
        if self.last_usable >= blocks {
            return bad(LayoutFault::UsableBeyondDisk { last_usable: self.last_usable, blocks });
        }
        match which {
            Which::Primary => {
                if self.entries_lba < 2 || array_end > self.first_usable {
                    return bad(LayoutFault::PrimaryArrayMisplaced {
                        entries_lba: self.entries_lba,
                        array_end,
                        first_usable: self.first_usable,
                    });
                }
                // A backup beyond the end (a shrunk disk) costs the backup, not this copy.
                if self.alternate_lba <= self.last_usable {
                    return bad(LayoutFault::AlternateInsideUsable {
                        alternate_lba: self.alternate_lba,
                        last_usable: self.last_usable,
                    });
                }
            }
            Which::Backup => {
                if self.alternate_lba != 1 {
                    return Err(Fault::AlternateLba { stored: self.alternate_lba, expected: 1 });
                }
                if self.entries_lba <= self.last_usable || array_end > self.my_lba {
                    return bad(LayoutFault::BackupArrayMisplaced {
                        entries_lba: self.entries_lba,
                        array_end,
                        last_usable: self.last_usable,
                    });
                }
                if self.first_usable < 2 {
                    return bad(LayoutFault::FirstUsableOverlapsPrimary(self.first_usable));
                }
            }
        }
        Ok(())
    }

    /// The first field in which two copies disagree, ignoring the ones that differ by
    /// design (MyLBA, AlternateLBA, PartitionEntryLBA, the header CRC).
    pub fn table_difference(&self, other: &Header) -> Option<Difference> {
        let fields: [(&'static str, u64, u64); 6] = [
            ("HeaderSize", self.header_size.into(), other.header_size.into()),
            ("FirstUsableLBA", self.first_usable, other.first_usable),
            ("LastUsableLBA", self.last_usable, other.last_usable),
            ("NumberOfPartitionEntries", self.entry_count.into(), other.entry_count.into()),
            ("SizeOfPartitionEntry", self.entry_size.into(), other.entry_size.into()),
            ("PartitionEntryArrayCRC32", self.entries_crc.into(), other.entries_crc.into()),
        ];
        if let Some(&(name, primary, backup)) = fields.iter().find(|(_, a, b)| a != b) {
            return Some(Difference::Field { name, primary, backup });
        }
        if self.disk_guid != other.disk_guid {
            return Some(Difference::DiskGuid { primary: self.disk_guid, backup: other.disk_guid });
        }
        (self.extra != other.extra).then_some(Difference::ReservedBytes)
    }

    /// The header as one logical block, CRC filled in and the rest zero.
    pub fn to_block(&self, block_size: u32) -> Vec<u8> {
        let mut block = vec![0u8; block_size as usize];
        self.write_block(&mut block);
        block
    }

    /// Serialises the header, with its CRC, into `block` (one logical block, zeroed
    /// past HeaderSize): what [`to_block`](Self::to_block) returns, in caller memory.
    ///
    /// # Panics
    /// If `block` is shorter than HeaderSize (a parsed header fits its block).
    pub fn write_block(&self, block: &mut [u8]) {
        block.fill(0);
        block[..8].copy_from_slice(&SIGNATURE);
        block[8..12].copy_from_slice(&REVISION.to_le_bytes());
        block[12..16].copy_from_slice(&self.header_size.to_le_bytes());
        block[24..32].copy_from_slice(&self.my_lba.to_le_bytes());
        block[32..40].copy_from_slice(&self.alternate_lba.to_le_bytes());
        block[40..48].copy_from_slice(&self.first_usable.to_le_bytes());
        block[48..56].copy_from_slice(&self.last_usable.to_le_bytes());
        block[56..72].copy_from_slice(&self.disk_guid.to_disk_bytes());
        block[72..80].copy_from_slice(&self.entries_lba.to_le_bytes());
        block[80..84].copy_from_slice(&self.entry_count.to_le_bytes());
        block[84..88].copy_from_slice(&self.entry_size.to_le_bytes());
        block[88..92].copy_from_slice(&self.entries_crc.to_le_bytes());
        let end = self.header_size as usize;
        block[HEADER_FIELDS as usize..end].copy_from_slice(self.extra.as_slice());
        let crc = header_crc(&block[..end]);
        block[16..20].copy_from_slice(&crc.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            header_size: 92,
            my_lba: 1,
            alternate_lba: 2047,
            first_usable: 34,
            last_usable: 2014,
            disk_guid: Guid::FLATCAR_USR,
            entries_lba: 2,
            entry_count: 128,
            entry_size: 128,
            entries_crc: 0x1234_5678,
            extra: HeaderExtra::default(),
        }
    }

    #[test]
    fn round_trips_and_checks_layout() {
        let header = sample();
        let block = header.to_block(512);
        assert_eq!(Header::parse(&block, 1).unwrap(), header);
        header.check_layout(Which::Primary, 512, 2048).unwrap();
        assert!(matches!(Header::parse(&block, 2047), Err(Fault::MyLba { stored: 1, actual: 2047 })));
    }

    #[test]
    fn larger_header_sizes_keep_their_bytes() {
        let header =
            Header { header_size: 120, extra: HeaderExtra::from_slice(&(0..28).collect::<Vec<u8>>()), ..sample() };
        let block = header.to_block(512);
        assert_eq!(Header::parse(&block, 1).unwrap(), header);
    }

    #[test]
    fn huge_entry_count_is_refused_after_the_crc_not_allocated() {
        let header = Header { entry_count: 0x7fff_ffff, ..sample() };
        let block = header.to_block(512);
        assert!(matches!(Header::parse(&block, 1), Err(Fault::EntryArraySize { count: 0x7fff_ffff, .. })));
    }

    #[test]
    fn every_rule_has_its_reason() {
        let block = sample().to_block(512);
        let mut bad_crc = block.clone();
        bad_crc[60] ^= 1;
        assert!(matches!(Header::parse(&bad_crc, 1), Err(Fault::HeaderCrc { .. })));
        let mut bad_size = block.clone();
        bad_size[12..16].copy_from_slice(&600u32.to_le_bytes());
        assert!(matches!(Header::parse(&bad_size, 1), Err(Fault::HeaderSize { size: 600, block_size: 512 })));
        for (size, count) in [(192, 128), (64, 256), (128, 16)] {
            let header = Header { entry_size: size, entry_count: count, ..sample() };
            assert!(Header::parse(&header.to_block(512), 1).is_err(), "{size} x {count}");
        }
        let inside = Header { alternate_lba: 2000, ..sample() };
        assert!(matches!(inside.check_layout(Which::Primary, 512, 2048), Err(Fault::Layout(_))));
        let overlapping = Header { first_usable: 20, ..sample() };
        assert!(matches!(overlapping.check_layout(Which::Primary, 512, 2048), Err(Fault::Layout(_))));
    }
}

//! The partition entry array, kept as the exact bytes read from disk so that reserved
//! bytes, unused slots and the on-disk stride survive every write. Pure logic.

use super::attrs::Attributes;
use super::error::{Error, Fault};
use super::guid::Guid;
use alloc::{format, string::String, vec::Vec};

const ATTRIBUTES_AT: usize = 48;

/// One used or unused partition entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1-based partition number, as in cgpt, sgdisk and the kernel.
    pub index: u32,
    /// PartitionTypeGUID.
    pub type_guid: Guid,
    /// UniquePartitionGUID (PARTUUID).
    pub unique_guid: Guid,
    /// StartingLBA.
    pub first_lba: u64,
    /// EndingLBA (inclusive).
    pub last_lba: u64,
    /// The attribute word.
    pub attributes: Attributes,
    /// The UTF-16LE name, up to its first NUL.
    pub name: String,
}

/// The entry array of one GPT copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryArray {
    bytes: Vec<u8>,
    entry_size: usize,
}

fn guid_at(b: &[u8], at: usize) -> Guid {
    Guid::from_disk_bytes(b[at..at + 16].try_into().expect("16 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl EntryArray {
    /// Wraps the array bytes; `bytes.len()` is a whole number of `entry_size` entries.
    pub fn new(bytes: Vec<u8>, entry_size: u32) -> Self {
        debug_assert!(entry_size >= 128 && bytes.len().is_multiple_of(entry_size as usize));
        EntryArray { bytes, entry_size: entry_size as usize }
    }

    /// The raw bytes, as written to disk.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// CRC32 of the whole array, unused slots included.
    pub fn crc(&self) -> u32 {
        crc32fast::hash(&self.bytes)
    }

    /// Number of slots.
    pub fn count(&self) -> u32 {
        (self.bytes.len() / self.entry_size) as u32
    }

    fn slot(&self, index: u32) -> Result<&[u8], Error> {
        let count = self.count();
        if index == 0 || index > count {
            return Err(Error::NoSuchPartition { index, count });
        }
        let at = (index as usize - 1) * self.entry_size;
        Ok(&self.bytes[at..at + 128])
    }

    /// The entry at 1-based `index`, used or not.
    pub fn get(&self, index: u32) -> Result<Partition, Error> {
        let raw = self.slot(index)?;
        let units: Vec<u16> = raw[56..128].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let len = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        Ok(Partition {
            index,
            type_guid: guid_at(raw, 0),
            unique_guid: guid_at(raw, 16),
            first_lba: u64_at(raw, 32),
            last_lba: u64_at(raw, 40),
            attributes: Attributes(u64_at(raw, ATTRIBUTES_AT)),
            name: String::from_utf16_lossy(&units[..len]),
        })
    }

    /// The entry at `index`, which must be in use.
    pub fn used(&self, index: u32) -> Result<Partition, Error> {
        let partition = self.get(index)?;
        if partition.type_guid.is_zero() {
            return Err(Error::UnusedPartition(index));
        }
        Ok(partition)
    }

    /// Every used entry, in table order.
    pub fn partitions(&self) -> impl Iterator<Item = Partition> + '_ {
        (1..=self.count()).filter_map(|i| self.get(i).ok()).filter(|p| !p.type_guid.is_zero())
    }

    /// Overwrites the attribute word of `index` and nothing else.
    pub fn set_attributes(&mut self, index: u32, word: Attributes) -> Result<(), Error> {
        self.slot(index)?;
        let at = (index as usize - 1) * self.entry_size + ATTRIBUTES_AT;
        self.bytes[at..at + 8].copy_from_slice(&word.0.to_le_bytes());
        Ok(())
    }

    /// cgpt's entry rules: each used entry starts before it ends and lies inside the
    /// usable range, no two overlap, and PARTUUIDs are unique. O(n log n), so a 4 MiB
    /// array of hostile entries costs milliseconds.
    pub fn check(&self, first_usable: u64, last_usable: u64) -> Result<(), Fault> {
        let fault = |index: u32, problem: String| Fault::Entry { index, problem };
        let used: Vec<Partition> = self.partitions().collect();
        for p in &used {
            if p.first_lba > p.last_lba {
                return Err(fault(p.index, format!("starts at LBA {} after it ends at {}", p.first_lba, p.last_lba)));
            }
            if p.first_lba < first_usable || p.last_lba > last_usable {
                return Err(fault(
                    p.index,
                    format!(
                        "LBA {}..={} is outside the usable range {first_usable}..={last_usable}",
                        p.first_lba, p.last_lba
                    ),
                ));
            }
        }
        let mut by_start: Vec<&Partition> = used.iter().collect();
        by_start.sort_by_key(|p| p.first_lba);
        if let Some(pair) = by_start.windows(2).find(|w| w[1].first_lba <= w[0].last_lba) {
            return Err(fault(pair[1].index, format!("overlaps partition {}", pair[0].index)));
        }
        let mut by_guid: Vec<&Partition> = used.iter().collect();
        by_guid.sort_by_key(|p| p.unique_guid);
        if let Some(pair) = by_guid.windows(2).find(|w| w[1].unique_guid == w[0].unique_guid) {
            return Err(fault(pair[1].index, format!("has the same unique GUID as partition {}", pair[0].index)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array_with(entries: &[(u64, u64, u8)], entry_size: u32) -> EntryArray {
        let mut bytes = vec![0u8; 128 * entry_size as usize];
        for (i, &(first, last, tag)) in entries.iter().enumerate() {
            let at = i * entry_size as usize;
            bytes[at..at + 16].copy_from_slice(&Guid::FLATCAR_USR.to_disk_bytes());
            bytes[at + 16] = tag;
            bytes[at + 32..at + 40].copy_from_slice(&first.to_le_bytes());
            bytes[at + 40..at + 48].copy_from_slice(&last.to_le_bytes());
            bytes[at + 56] = b'A';
        }
        EntryArray::new(bytes, entry_size)
    }

    #[test]
    fn attribute_writes_touch_eight_bytes_only() {
        let mut array = array_with(&[(34, 99, 1), (100, 199, 2)], 256);
        let before = array.bytes().to_vec();
        array.set_attributes(2, Attributes(0x0012_0000_0000_0000)).unwrap();
        let changed: Vec<usize> = (0..before.len()).filter(|&i| before[i] != array.bytes()[i]).collect();
        assert_eq!(changed, [256 + 54]);
        assert_eq!(array.get(2).unwrap().attributes.priority(), 2);
        assert_eq!(array.get(1).unwrap().name, "A");
    }

    #[test]
    fn entry_rules() {
        array_with(&[(34, 99, 1), (100, 199, 2)], 128).check(34, 1000).unwrap();
        let overlap = array_with(&[(34, 100, 1), (100, 199, 2)], 128).check(34, 1000).unwrap_err();
        assert!(matches!(overlap, Fault::Entry { index: 2, .. }), "{overlap}");
        let dup = array_with(&[(34, 99, 1), (100, 199, 1)], 128).check(34, 1000).unwrap_err();
        assert!(dup.to_string().contains("unique GUID"), "{dup}");
        assert!(array_with(&[(34, 2000, 1)], 128).check(34, 1000).is_err());
        assert!(array_with(&[(50, 40, 1)], 128).check(34, 1000).is_err());
    }

    #[test]
    fn indexes_are_one_based_and_bounded() {
        let array = array_with(&[(34, 99, 1)], 128);
        assert!(matches!(array.get(0), Err(Error::NoSuchPartition { index: 0, count: 128 })));
        assert!(matches!(array.get(129), Err(Error::NoSuchPartition { .. })));
        assert!(matches!(array.used(2), Err(Error::UnusedPartition(2))));
    }
}

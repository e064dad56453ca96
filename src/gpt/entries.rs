//! The partition entry array, kept as the exact bytes read from disk so that reserved
//! bytes, unused slots and the on-disk stride survive every write. Pure logic.

use super::attrs::Attributes;
use super::error::{Error, Fault};
use super::guid::Guid;
use super::reasons::EntryProblem;
use alloc::{string::String, vec::Vec};

const ATTRIBUTES_AT: usize = 48;

/// The fields of one partition entry that the A/B logic needs (no name, so reading one
/// never allocates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionEntry {
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
}

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

/// The entry array of one GPT copy: the bytes in a `Vec` on the host, in the caller's
/// scratch memory in the boot library.
#[derive(Debug, Clone)]
pub struct EntryArray<B = Vec<u8>> {
    bytes: B,
    entry_size: usize,
}

impl<B: AsRef<[u8]>, C: AsRef<[u8]>> PartialEq<EntryArray<C>> for EntryArray<B> {
    fn eq(&self, other: &EntryArray<C>) -> bool {
        self.entry_size == other.entry_size && self.bytes.as_ref() == other.bytes.as_ref()
    }
}

impl<B: AsRef<[u8]>> Eq for EntryArray<B> {}

fn guid_at(b: &[u8], at: usize) -> Guid {
    Guid::from_disk_bytes(b[at..at + 16].try_into().expect("16 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl<B: AsRef<[u8]>> EntryArray<B> {
    /// Wraps the bytes of an array of `entry_size`-byte entries.
    pub fn new(bytes: B, entry_size: u32) -> Self {
        debug_assert!(entry_size >= 128 && bytes.as_ref().len().is_multiple_of(entry_size as usize));
        EntryArray { bytes, entry_size: entry_size as usize }
    }

    /// The exact bytes, as they go to disk.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// CRC32 of the whole array.
    pub fn crc(&self) -> u32 {
        crc32fast::hash(self.bytes())
    }

    /// Number of entry slots.
    pub fn count(&self) -> u32 {
        (self.bytes().len() / self.entry_size) as u32
    }

    fn slot(&self, index: u32) -> Result<&[u8], Error> {
        let count = self.count();
        if index == 0 || index > count {
            return Err(Error::NoSuchPartition { index, count });
        }
        let at = (index as usize - 1) * self.entry_size;
        Ok(&self.bytes()[at..at + 128])
    }

    /// Entry `index` (1-based) without its name, used or not.
    pub fn entry(&self, index: u32) -> Result<PartitionEntry, Error> {
        let raw = self.slot(index)?;
        Ok(PartitionEntry {
            index,
            type_guid: guid_at(raw, 0),
            unique_guid: guid_at(raw, 16),
            first_lba: u64_at(raw, 32),
            last_lba: u64_at(raw, 40),
            attributes: Attributes(u64_at(raw, ATTRIBUTES_AT)),
        })
    }

    /// Entry `index`, refusing an unused one.
    pub fn used_entry(&self, index: u32) -> Result<PartitionEntry, Error> {
        let entry = self.entry(index)?;
        if entry.type_guid.is_zero() {
            return Err(Error::UnusedPartition(index));
        }
        Ok(entry)
    }

    /// The used entries in index order, without names.
    pub fn used_entries(&self) -> impl Iterator<Item = PartitionEntry> + Clone + '_ {
        (1..=self.count()).filter_map(|i| self.entry(i).ok()).filter(|p| !p.type_guid.is_zero())
    }

    /// Entry `index` (1-based) with its name, used or not.
    pub fn get(&self, index: u32) -> Result<Partition, Error> {
        let entry = self.entry(index)?;
        let raw = self.slot(index)?;
        let units: Vec<u16> = raw[56..128].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let len = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        Ok(Partition {
            index,
            type_guid: entry.type_guid,
            unique_guid: entry.unique_guid,
            first_lba: entry.first_lba,
            last_lba: entry.last_lba,
            attributes: entry.attributes,
            name: String::from_utf16_lossy(&units[..len]),
        })
    }

    /// Entry `index` with its name, refusing an unused one.
    pub fn used(&self, index: u32) -> Result<Partition, Error> {
        self.used_entry(index)?;
        self.get(index)
    }

    /// The used partitions with their names, in index order.
    pub fn partitions(&self) -> impl Iterator<Item = Partition> + '_ {
        self.used_entries().filter_map(|p| self.get(p.index).ok())
    }

    /// cgpt's entry rules: used entries inside the usable area, not inverted, not
    /// overlapping, unique GUIDs distinct. `order` is the caller's memory for the sort
    /// (four bytes per entry slot, any alignment), so checking never allocates.
    pub fn check(&self, first_usable: u64, last_usable: u64, order: &mut [u8]) -> Result<(), Fault> {
        let fault = |index: u32, problem: EntryProblem| Fault::Entry { index, problem };
        let mut used = 0;
        for p in self.used_entries() {
            if p.first_lba > p.last_lba {
                return Err(fault(p.index, EntryProblem::Inverted { first_lba: p.first_lba, last_lba: p.last_lba }));
            }
            if p.first_lba < first_usable || p.last_lba > last_usable {
                let (first_lba, last_lba) = (p.first_lba, p.last_lba);
                return Err(fault(
                    p.index,
                    EntryProblem::OutsideUsable { first_lba, last_lba, first_usable, last_usable },
                ));
            }
            order[4 * used..4 * used + 4].copy_from_slice(&p.index.to_le_bytes());
            used += 1;
        }
        let order = &mut order.as_chunks_mut::<4>().0[..used];
        // Reading an entry cannot fail for an index found above.
        let at = |index: &[u8; 4]| self.entry(u32::from_le_bytes(*index)).expect("a used index");
        let pair_of = |w: &[[u8; 4]]| (u32::from_le_bytes(w[1]), u32::from_le_bytes(w[0]));
        // The index breaks ties, so the pair reported is the one a stable sort finds.
        order.sort_unstable_by_key(|i| (at(i).first_lba, at(i).index));
        if let Some(w) = order.windows(2).find(|w| at(&w[1]).first_lba <= at(&w[0]).last_lba) {
            let (index, other) = pair_of(w);
            return Err(fault(index, EntryProblem::Overlaps(other)));
        }
        order.sort_unstable_by_key(|i| (at(i).unique_guid, at(i).index));
        if let Some(w) = order.windows(2).find(|w| at(&w[1]).unique_guid == at(&w[0]).unique_guid) {
            let (index, other) = pair_of(w);
            return Err(fault(index, EntryProblem::DuplicateGuid(other)));
        }
        Ok(())
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> EntryArray<B> {
    /// Sets the attribute word of entry `index`, touching no other byte.
    pub fn set_attributes(&mut self, index: u32, word: Attributes) -> Result<(), Error> {
        self.slot(index)?;
        let at = (index as usize - 1) * self.entry_size + ATTRIBUTES_AT;
        self.bytes.as_mut()[at..at + 8].copy_from_slice(&word.0.to_le_bytes());
        Ok(())
    }

    /// Copies the bytes of `source` (same size) into this array.
    pub fn copy_from<C: AsRef<[u8]>>(&mut self, source: &EntryArray<C>) {
        self.bytes.as_mut().copy_from_slice(source.bytes());
        self.entry_size = source.entry_size;
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
        array_with(&[(34, 99, 1), (100, 199, 2)], 128).check(34, 1000, &mut [0; 512]).unwrap();
        let overlap = array_with(&[(34, 100, 1), (100, 199, 2)], 128).check(34, 1000, &mut [0; 512]).unwrap_err();
        assert!(matches!(overlap, Fault::Entry { index: 2, .. }), "{overlap}");
        let dup = array_with(&[(34, 99, 1), (100, 199, 1)], 128).check(34, 1000, &mut [0; 512]).unwrap_err();
        assert!(dup.to_string().contains("unique GUID"), "{dup}");
        assert!(array_with(&[(34, 2000, 1)], 128).check(34, 1000, &mut [0; 512]).is_err());
        assert!(array_with(&[(50, 40, 1)], 128).check(34, 1000, &mut [0; 512]).is_err());
    }

    #[test]
    fn indexes_are_one_based_and_bounded() {
        let array = array_with(&[(34, 99, 1)], 128);
        assert!(matches!(array.get(0), Err(Error::NoSuchPartition { index: 0, count: 128 })));
        assert!(matches!(array.get(129), Err(Error::NoSuchPartition { .. })));
        assert!(matches!(array.used(2), Err(Error::UnusedPartition(2))));
    }
}

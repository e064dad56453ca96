//! Small GPT disks built byte by byte (the replay test checks them with `sgdisk -v`),
//! and a CRC fixer so the fuzzer gets past the checksums to the checks behind them.

use rootseal::gpt::Guid;

/// One used partition entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// 1-based slot.
    pub index: u32,
    /// PartitionTypeGUID.
    pub type_guid: Guid,
    /// First and last LBA.
    pub lbas: (u64, u64),
    /// The attribute word.
    pub attributes: u64,
}

/// The Linux filesystem data type, for partitions that never take part in A/B.
pub const LINUX_DATA: Guid = Guid::from_disk_bytes([
    0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4,
]);

/// Entries and blocks of the template: 128 entries of 128 bytes (16 KiB, the UEFI
/// minimum), so 32 or 4 blocks of entry array.
pub const ENTRY_COUNT: u32 = 128;
const ENTRY_SIZE: u32 = 128;

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The layout of a Flatcar-like disk, with a gap at slot 8 as on Flatcar: EFI, BIOS
/// boot, USR-A, USR-B, a third USR slot, two data partitions and ROOT; two blocks each.
/// USR-A is good (P1 S1), USR-B freshly installed (P2 T1), the third slot unused (P0).
pub fn flatcar_entries(first_usable: u64) -> Vec<Entry> {
    let kinds = [
        (1, LINUX_DATA, 0x0000_0000_0000_0001), // "required" bit, not A/B
        (2, LINUX_DATA, 0),
        (3, Guid::FLATCAR_USR, 0x0101_0000_0000_0000),
        (4, Guid::FLATCAR_USR, 0x1012_0000_0000_0004), // with read-only and legacy-boot bits
        (5, Guid::FLATCAR_USR, 0),
        (6, LINUX_DATA, 0),
        (7, Guid::CHROMEOS_KERNEL, 0x0011_0000_0000_0000),
        (9, LINUX_DATA, 0x8000_0000_0000_0000),
    ];
    kinds
        .iter()
        .enumerate()
        .map(|(n, &(index, type_guid, attributes))| {
            let first = first_usable + 2 * n as u64;
            Entry { index, type_guid, lbas: (first, first + 1), attributes }
        })
        .collect()
}

/// Blocks of a template disk: headers, two arrays, the partitions and a little slack.
pub fn template_blocks(block_size: u32) -> u64 {
    let array_blocks = u64::from(ENTRY_COUNT * ENTRY_SIZE).div_ceil(u64::from(block_size));
    2 + 2 * array_blocks + 1 + 20
}

/// A valid disk: protective MBR, both headers and arrays, the Flatcar-like entries.
pub fn template(block_size: u32) -> Vec<u8> {
    build(block_size, template_blocks(block_size), &flatcar_entries(first_usable(block_size)))
}

/// FirstUsableLBA of a template disk.
pub fn first_usable(block_size: u32) -> u64 {
    2 + u64::from(ENTRY_COUNT * ENTRY_SIZE).div_ceil(u64::from(block_size))
}

/// A disk of `blocks` blocks holding `entries`, as `sgdisk` lays it out.
pub fn build(block_size: u32, blocks: u64, entries: &[Entry]) -> Vec<u8> {
    let bs = block_size as usize;
    let array_bytes = (ENTRY_COUNT * ENTRY_SIZE) as usize;
    let array_blocks = array_bytes.div_ceil(bs) as u64;
    let mut disk = vec![0u8; blocks as usize * bs];
    // Protective MBR: one 0xEE record covering the disk.
    let record = &mut disk[446..462];
    record[1..4].copy_from_slice(&[0, 2, 0]);
    record[4] = 0xee;
    record[5..8].copy_from_slice(&[0xff; 3]);
    put_u32(record, 8, 1);
    put_u32(record, 12, u32::try_from(blocks - 1).unwrap_or(u32::MAX));
    disk[510..512].copy_from_slice(&[0x55, 0xaa]);

    let mut array = vec![0u8; array_bytes];
    for (n, e) in entries.iter().enumerate() {
        let at = (e.index as usize - 1) * ENTRY_SIZE as usize;
        let slot = &mut array[at..at + ENTRY_SIZE as usize];
        slot[..16].copy_from_slice(&e.type_guid.to_disk_bytes());
        slot[16..32].copy_from_slice(&[0x10 + n as u8; 16]);
        put_u64(slot, 32, e.lbas.0);
        put_u64(slot, 40, e.lbas.1);
        put_u64(slot, 48, e.attributes);
        for (i, unit) in format!("part{}", e.index).encode_utf16().enumerate() {
            slot[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
        }
    }
    let last_lba = blocks - 1;
    let backup_array = last_lba - array_blocks;
    for (my, alternate, entries_lba) in [(1, last_lba, 2), (last_lba, 1, backup_array)] {
        let at = entries_lba as usize * bs;
        disk[at..at + array_bytes].copy_from_slice(&array);
        let h = &mut disk[my as usize * bs..my as usize * bs + 92];
        h[..8].copy_from_slice(b"EFI PART");
        put_u32(h, 8, 0x0001_0000);
        put_u32(h, 12, 92);
        put_u64(h, 24, my);
        put_u64(h, 32, alternate);
        put_u64(h, 40, 2 + array_blocks);
        put_u64(h, 48, backup_array - 1);
        h[56..72].copy_from_slice(b"rootseal-fuzzing");
        put_u64(h, 72, entries_lba);
        put_u32(h, 80, ENTRY_COUNT);
        put_u32(h, 84, ENTRY_SIZE);
    }
    fix_crcs(&mut disk, block_size);
    disk
}

/// Recomputes the array CRC and then the header CRC of every header with a signature
/// at LBA 1 or the last LBA, where the sizes it claims fit the disk. Anything else in
/// the headers is left as it is, however wrong.
pub fn fix_crcs(disk: &mut [u8], block_size: u32) {
    let bs = block_size as usize;
    let blocks = disk.len() / bs;
    if blocks < 3 {
        return;
    }
    for lba in [1, blocks - 1] {
        let at = lba * bs;
        if disk[at..at + 8] != *b"EFI PART" {
            continue;
        }
        let header_size = get_u32(disk, at + 12) as usize;
        let array_lba = get_u64(disk, at + 72);
        let array_bytes = u64::from(get_u32(disk, at + 80)) * u64::from(get_u32(disk, at + 84));
        let array = array_lba
            .checked_mul(block_size.into())
            .and_then(|start| Some(start..start.checked_add(array_bytes)?))
            .filter(|range| range.end <= disk.len() as u64 && array_bytes <= 4 << 20);
        if let Some(range) = array {
            let crc = crc32fast::hash(&disk[range.start as usize..range.end as usize]);
            put_u32(disk, at + 88, crc);
        }
        if (92..=bs).contains(&header_size) {
            put_u32(disk, at + 16, 0);
            let crc = crc32fast::hash(&disk[at..at + header_size]);
            put_u32(disk, at + 16, crc);
        }
    }
}

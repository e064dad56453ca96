//! The strict reader on damaged and unusual disks made from sgdisk images: every case
//! gets a precise reason and never a panic or a huge allocation, and what rootseal
//! writes back is accepted by sgdisk and cgpt.

use crate::gpt_support;

use gpt_support::*;
use rootseal::gpt::{self, BlockSize, Error, Fault, GptDisk, Which};
use rootseal::io::MemoryDevice;

fn flatcar_image(block_size: u32) -> Vec<u8> {
    let dir = scratch_dir();
    let path = dir.path().join("disk.img");
    disk(DiskSpec::flatcar(block_size), &path);
    std::fs::read(path).unwrap()
}

/// Rewrites both headers with `edit` and fixes their CRCs, so only the edit is wrong.
fn edit_headers(image: &mut [u8], block_size: usize, edit: impl Fn(&mut [u8])) {
    let backup_lba = u64::from_le_bytes(image[block_size + 32..block_size + 40].try_into().unwrap()) as usize;
    for lba in [1, backup_lba] {
        let header = &mut image[lba * block_size..(lba + 1) * block_size];
        edit(header);
        fix_header_crc(header);
    }
}

fn read(image: Vec<u8>, block_size: u32) -> gpt::Result<gpt::Gpt> {
    gpt::read(&MemoryDevice::new(image), block_size)
}

#[test]
fn huge_entry_count_with_valid_crcs_is_refused_without_allocating() {
    let mut image = flatcar_image(512);
    edit_headers(&mut image, 512, |h| h[80..84].copy_from_slice(&0x7fff_ffffu32.to_le_bytes()));
    match read(image, 512) {
        Err(Error::NoValidGpt {
            primary: Fault::EntryArraySize { count, .. },
            backup: Fault::EntryArraySize { .. },
        }) => {
            assert_eq!(count, 0x7fff_ffff)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn larger_header_size_is_valid_and_kept() {
    let mut image = flatcar_image(512);
    edit_headers(&mut image, 512, |h| h[12..16].copy_from_slice(&120u32.to_le_bytes()));
    let table = read(image.clone(), 512).unwrap();
    assert_eq!(table.header().header_size, 120);
    let disk = GptDisk::new(MemoryDevice::new(image), BlockSize::Fixed(512)).unwrap();
    disk.mark_update(4, gpt::Guid::FLATCAR_USR).unwrap();
    let after = disk.into_device().into_inner();
    assert_eq!(u32::from_le_bytes(after[512 + 12..512 + 16].try_into().unwrap()), 120);
    let dir = scratch_dir();
    let path = dir.path().join("120.img");
    std::fs::write(&path, after).unwrap();
    assert_sgdisk_accepts(&path, 512);
    assert_cgpt_accepts(&path, 512);
}

#[test]
fn arrays_below_the_uefi_minimum_and_odd_entry_sizes_are_refused_with_reasons() {
    for (count, size) in [(16u32, 128u32), (128, 192), (128, 64)] {
        let mut image = flatcar_image(512);
        edit_headers(&mut image, 512, |h| {
            h[80..84].copy_from_slice(&count.to_le_bytes());
            h[84..88].copy_from_slice(&size.to_le_bytes());
        });
        let err = read(image, 512).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::NoValidGpt { .. }), "{count}x{size}: {text}");
        assert!(text.contains("entry"), "{text}");
    }
}

#[test]
fn a_missing_primary_falls_back_to_the_backup_and_is_detected_at_both_block_sizes() {
    for bs in [512usize, 4096] {
        let mut image = flatcar_image(bs as u32);
        image[bs..2 * bs].fill(0);
        let disk = GptDisk::new(MemoryDevice::new(image), BlockSize::Detect).unwrap();
        assert_eq!(disk.block_size() as usize, bs);
        let table = disk.read().unwrap();
        assert_eq!(table.source(), Which::Backup);
        assert_eq!(table.copy_state(Which::Primary).fault, Some(Fault::Signature));
        assert_eq!(table.partitions().len(), USED.len());
    }
}

#[test]
fn truncated_and_tiny_images_are_errors_not_panics() {
    let image = flatcar_image(512);
    for len in [0, 100, 1024, 600 * 512, image.len() - 512, image.len() - 1] {
        let result = read(image[..len].to_vec(), 512);
        assert!(result.is_err() || len >= image.len() - 512, "{len}: {result:?}");
    }
    // A cut that loses only the backup: the primary still reads, with the reason.
    let shrunk = image[..image.len() - 4096].to_vec();
    let table = read(shrunk.clone(), 512).unwrap();
    assert!(matches!(table.copy_state(Which::Backup).fault, Some(Fault::OutsideDisk { .. })));
    // A write would need the backup where the partitions are: refused, nothing written.
    let disk = GptDisk::new(MemoryDevice::new(shrunk.clone()), BlockSize::Fixed(512)).unwrap();
    assert!(matches!(disk.mark_good(3, gpt::Guid::FLATCAR_USR), Err(Error::CannotRepair(_))));
    assert!(disk.into_device().into_inner() == shrunk);
}

#[test]
fn an_overlapping_or_duplicate_entry_invalidates_the_copy() {
    let mut image = flatcar_image(512);
    // Partition 4 starts inside partition 3, in both arrays.
    edit_entries(&mut image, 512, |array| {
        let start3 = u64::from_le_bytes(array[2 * 128 + 32..2 * 128 + 40].try_into().unwrap());
        array[3 * 128 + 32..3 * 128 + 40].copy_from_slice(&(start3 + 1).to_le_bytes());
    });
    let err = read(image, 512).unwrap_err().to_string();
    assert!(err.contains("partition 4: overlaps partition 3"), "{err}");
}

/// An image written to a bigger disk: the backup is found where the primary says,
/// reported as misplaced, and repair moves it to the end as Flatcar's cgpt does.
#[test]
fn grown_disk_backup_is_moved_by_repair() {
    let mut image = flatcar_image(512);
    let old_len = image.len();
    image.resize(old_len + (4 << 20), 0);
    let disk = GptDisk::new(MemoryDevice::new(image), BlockSize::Fixed(512)).unwrap();
    let table = disk.read().unwrap();
    assert!(table.backup_misplaced() && table.copy_state(Which::Backup).is_valid());
    let old_last_usable = table.header().last_usable;
    let report = disk.repair(false).unwrap();
    assert!(report.backup_moved && !report.primary_rebuilt && !report.backup_rebuilt);
    let table = disk.read().unwrap();
    assert!(!table.backup_misplaced());
    assert_eq!(table.copy_state(Which::Backup).header_lba, table.block_count() - 1);
    assert_eq!(table.header().last_usable, table.block_count() - 34);
    assert!(table.header().last_usable > old_last_usable);
    let dir = scratch_dir();
    let path = dir.path().join("grown.img");
    std::fs::write(&path, disk.into_device().into_inner()).unwrap();
    assert_sgdisk_accepts(&path, 512);
    assert_cgpt_accepts(&path, 512);
}

/// Issue 15 item 16: a broken protective MBR is reported; plain edits never write
/// LBA 0, and repair (also the one inside mark-good, as Flatcar's scripts run `cgpt
/// repair` first) rebuilds sgdisk's protective MBR byte for byte, as Flatcar's cgpt does.
#[test]
fn a_broken_protective_mbr_is_reported_and_rewritten_by_repair() {
    let mut image = flatcar_image(512);
    let original = image[..512].to_vec();
    image[510] = 0;
    let disk = GptDisk::new(MemoryDevice::new(image), BlockSize::Fixed(512)).unwrap();
    assert!(!disk.read().unwrap().pmbr().is_valid());
    disk.set(3, gpt::AttrChange { priority: Some(2), tries: Some(2), ..Default::default() }).unwrap();
    assert!(disk.next(gpt::Guid::FLATCAR_USR).unwrap().written);
    assert!(!disk.read().unwrap().pmbr().is_valid(), "LBA 0 written by a plain edit");
    disk.mark_good(3, gpt::Guid::FLATCAR_USR).unwrap();
    assert!(disk.read().unwrap().pmbr().is_valid());
    assert!(!disk.repair(false).unwrap().pmbr_rewritten, "nothing left to fix");
    let image = disk.into_device().into_inner();
    // sgdisk's own protective MBR, rebuilt byte for byte.
    assert_eq!(image[..512], original[..]);
}

#[test]
fn flatcar_slots_by_label_and_by_type() {
    let table = read(flatcar_image(512), 512).unwrap();
    let slots = gpt::FlatcarSlots::find(&table, gpt::Guid::FLATCAR_USR).unwrap();
    assert_eq!((slots.a.index, slots.b.index), (3, 4));
    assert_eq!(slots.a.unique_guid.to_string(), gpt::USR_A_PARTUUID);
    assert_eq!(slots.other(3).unwrap().index, 4);
    assert_eq!(slots.other(4).unwrap().index, 3);
    assert!(matches!(slots.other(9), Err(Error::Slot(_))));
    // Our template has a third usr-type slot (5), so without the labels the type alone
    // is ambiguous and must be refused rather than guessed.
    let mut image = flatcar_image(512);
    edit_entries(&mut image, 512, |array| {
        for i in [2usize, 3] {
            array[i * 128 + 56..i * 128 + 128].fill(0);
        }
    });
    let table = read(image, 512).unwrap();
    let err = gpt::FlatcarSlots::find(&table, gpt::Guid::FLATCAR_USR).unwrap_err();
    assert!(err.to_string().contains("3 partitions of type"), "{err}");
}

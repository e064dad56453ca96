//! The GPT reader over arbitrary disk images with 512- and 4096-byte blocks, and
//! `repair` over whatever it accepts.
//!
//! Input: byte 0 bit 0 picks the block size; bit 1 patch mode, where the rest is a list
//! of edits to a valid template disk (see [`edit`]), otherwise the rest is the image;
//! bit 2 recomputes the CRCs afterwards (so the checks behind them are reached);
//! bit 3 lets repair rewrite the protective MBR.
//!
//! Invariants: the reader never panics; what it accepts is a table whose partitions lie
//! in the usable range of the disk; repair either refuses without writing or leaves two
//! valid copies of exactly the table the reader saw, and a second repair has nothing
//! left to do.

use super::gpt_image;
use super::input::Input;
use rootseal::gpt::{self, BlockSize, Gpt, GptDisk, Which};
use rootseal::io::{BlockRead, MemoryDevice};

/// One edit: kind byte, then for 0 a u24 offset and a short slice written there, for 1
/// a u24 offset and a byte XORed there, for 2 a new length (u24 × 16 bytes), for 3 an
/// appended number of blocks.
fn edit(image: &mut Vec<u8>, input: &mut Input, block_size: u32) {
    let kind = input.byte() % 4;
    let offset = (input.u16() as usize | (input.byte() as usize) << 16) % image.len().max(1);
    match kind {
        0 => {
            let bytes = input.short_slice();
            let end = (offset + bytes.len()).min(image.len());
            image[offset..end].copy_from_slice(&bytes[..end - offset]);
        }
        1 => {
            if let Some(b) = image.get_mut(offset) {
                *b ^= input.byte();
            }
        }
        2 => image.truncate(offset / 16 * 16),
        _ => image.resize(image.len() + (offset % 64) * block_size as usize, 0),
    }
}

/// The parts of a table a repair must keep: the entries and the fields that say what
/// the disk is (not where the copies are).
fn table_of(gpt: &Gpt) -> (Vec<u8>, gpt::Guid, u64, u32, u32) {
    let h = gpt.header();
    (gpt.entry_bytes().to_vec(), h.disk_guid, h.first_usable, h.entry_count, h.entry_size)
}

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    let block_size = if control & 1 == 0 { 512 } else { 4096 };
    let mut image = if control & 2 != 0 {
        let mut image = gpt_image::template(block_size);
        while !input.is_empty() {
            edit(&mut image, &mut input, block_size);
        }
        image
    } else {
        input.rest().to_vec()
    };
    if control & 4 != 0 {
        gpt_image::fix_crcs(&mut image, block_size);
    }
    check_image(&image, block_size, control & 8 != 0);
}

/// The reader's and repair's invariants on one image.
pub fn check_image(image: &[u8], block_size: u32, fix_pmbr: bool) {
    // Detection reads at both block sizes whatever the image holds.
    if let Ok(disk) = GptDisk::new(image.to_vec(), BlockSize::Detect) {
        let _ = disk.read();
    }
    let Ok(table) = gpt::read(&image.to_vec(), block_size) else { return };
    let h = table.header();
    assert!(table.copy_state(table.source()).is_valid(), "the trusted copy is not valid");
    assert!(h.first_usable <= h.last_usable && h.last_usable < table.block_count());
    for p in table.partitions() {
        assert!(
            h.first_usable <= p.first_lba && p.first_lba <= p.last_lba && p.last_lba <= h.last_usable,
            "partition {} at {}..={} is outside the usable range {}..={}",
            p.index,
            p.first_lba,
            p.last_lba,
            h.first_usable,
            h.last_usable
        );
    }

    let disk = GptDisk::new(MemoryDevice::new(image.to_vec()), BlockSize::Fixed(block_size)).expect("valid size");
    match disk.repair(fix_pmbr) {
        Ok(_) => {
            let repaired = disk.read().expect("a repaired disk reads");
            assert!(repaired.copy_state(Which::Primary).is_valid(), "primary invalid after repair");
            assert!(repaired.copy_state(Which::Backup).is_valid(), "backup invalid after repair");
            assert!(!repaired.backup_misplaced(), "backup not at the end after repair");
            assert!(table_of(&repaired) == table_of(&table), "repair changed the table");
            assert!(!disk.repair(fix_pmbr).expect("a second repair").changed(), "a second repair changed something");
        }
        Err(gpt::Error::CannotRepair(_)) => {}
        Err(e) => panic!("repair of a readable disk failed: {e}"),
    }
    assert_eq!(disk.device().size().unwrap(), image.len() as u64, "repair changed the disk size");
    // A refused repair writes nothing; an accepted one writes only GPT structures, so
    // partition contents are untouched.
    let after = disk.into_device().into_inner();
    for p in table.partitions() {
        let range = p.first_lba as usize * block_size as usize..(p.last_lba as usize + 1) * block_size as usize;
        assert!(after[range.clone()] == image[range], "repair wrote inside partition {}", p.index);
    }
}

//! rootseal against the real `cgpt` (vboot-utils) and `sgdisk`: random sequences of set,
//! prioritize, mark-update, mark-good and invalidate run on twin copies of sgdisk-made
//! Flatcar-like disks, one with cgpt and one with rootseal, and the resulting images
//! must be byte-identical. Debian's cgpt only prioritizes Chrome OS kernel partitions,
//! so these disks use the kernel type for the slots and rootseal gets `--type` for it.
//!
//! Disks cgpt cannot read (256 entries, 256-byte entries) are compared attribute by
//! attribute with a 128-entry twin that cgpt did handle, and checked with sgdisk or
//! sfdisk.

use crate::gpt_support;

use gpt_support::*;
use rootseal::gpt::{self, AttrChange, BlockSize, GptDisk, Guid, PrioritizeRequest};
use rootseal::io::FileDevice;
use std::path::Path;

fn random_op(rng: &mut Rng) -> Op {
    let nibble = |rng: &mut Rng| rng.chance(60).then(|| rng.below(16) as u8);
    match rng.below(10) {
        0..=3 => {
            let index = if rng.chance(70) { rng.pick(&SLOTS) } else { rng.pick(&USED) };
            let (mut priority, tries, successful) = (nibble(rng), nibble(rng), rng.chance(50).then(|| rng.chance(50)));
            if priority.is_none() && tries.is_none() && successful.is_none() {
                priority = Some(rng.below(16) as u8);
            }
            Op::Set { index, priority, tries, successful }
        }
        4..=6 => {
            let target = rng.chance(80).then(|| rng.pick(&SLOTS));
            let friends = target.is_some() && rng.chance(40);
            let max = rng.chance(40).then(|| 1 + rng.below(15) as u8);
            Op::Prioritize { target, friends, max }
        }
        7 => Op::MarkUpdate(rng.pick(&SLOTS)),
        8 => Op::MarkGood(rng.pick(&SLOTS)),
        _ => Op::Invalidate(rng.pick(&SLOTS)),
    }
}

fn with_rootseal(disk: &GptDisk<FileDevice>, op: Op, slot_type: Guid) {
    let result = match op {
        Op::Set { index, priority, tries, successful } => {
            disk.set(index, AttrChange { priority, tries, successful }).map(|_| ())
        }
        Op::Prioritize { target, friends, max } => {
            disk.prioritize(PrioritizeRequest { target, friends, max_priority: max }, slot_type).map(|_| ())
        }
        Op::MarkUpdate(index) => disk.mark_update(index, slot_type).map(|_| ()),
        Op::MarkGood(index) => disk.mark_good(index, slot_type).map(|_| ()),
        Op::Invalidate(index) => disk.invalidate(index).map(|_| ()),
    };
    result.unwrap_or_else(|e| panic!("rootseal {op:?} failed: {e}"));
}

fn open(image: &Path, block_size: u32) -> GptDisk<FileDevice> {
    gpt::open_path(image, BlockSize::Fixed(block_size), true).unwrap()
}

/// Runs `sequences` random op sequences on twin disks and requires identical images
/// after every step.
fn cgpt_twins(spec: DiskSpec, sequences: u64, steps: usize, seed: u64) -> usize {
    let dir = scratch_dir();
    let (ours, theirs) = (dir.path().join("rootseal.img"), dir.path().join("cgpt.img"));
    let slot_type: Guid = spec.slot_type.parse().unwrap();
    let mut compared = 0;
    for sequence in 0..sequences {
        let mut rng = Rng::new(seed + sequence);
        disk(spec, &theirs);
        // A random starting state, set by cgpt itself.
        for &slot in &SLOTS {
            let (p, t, s) = (rng.below(16).to_string(), rng.below(16).to_string(), rng.below(2).to_string());
            let out = cgpt(&theirs, spec.block_size, &["add", "-i", &slot.to_string(), "-P", &p, "-T", &t, "-S", &s]);
            assert!(out.status.success(), "{}", describe(&out));
        }
        std::fs::copy(&theirs, &ours).unwrap();
        let mut history = Vec::new();
        for _ in 0..steps {
            let op = random_op(&mut rng);
            history.push(op);
            with_cgpt(&theirs, spec.block_size, op);
            with_rootseal(&open(&ours, spec.block_size), op, slot_type);
            let (a, b) = (std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
            if a != b {
                let first = a.iter().zip(&b).position(|(x, y)| x != y).unwrap();
                panic!("{spec:?} seed {}: images differ at byte {first} after {history:?}", seed + sequence);
            }
            compared += 1;
        }
        let [(ph, pe), (bh, be)] = raw_copies(&std::fs::read(&ours).unwrap(), spec.block_size);
        assert_eq!(pe, be, "primary and backup arrays differ");
        assert_ne!(ph, bh);
        assert_sgdisk_accepts(&ours, spec.block_size);
        assert_cgpt_accepts(&ours, spec.block_size);
    }
    compared
}

#[test]
fn random_sequences_match_cgpt_on_512_byte_blocks() {
    let steps = cgpt_twins(DiskSpec::kernel(512, 128), 12, 14, 0x5eed_0512);
    eprintln!("{steps} steps compared with cgpt byte for byte");
}

#[test]
fn random_sequences_match_cgpt_on_4096_byte_blocks() {
    let steps = cgpt_twins(DiskSpec::kernel(4096, 128), 4, 10, 0x5eed_4096);
    eprintln!("{steps} steps compared with cgpt byte for byte");
}

/// Disks cgpt refuses (it wants exactly 128 entries of 128 bytes): the same sequence
/// runs on the odd disk with rootseal and on a standard twin with cgpt, and every
/// attribute word must agree; nothing else in the array may change.
fn odd_disk_against_cgpt_twin(spec: DiskSpec, seed: u64, verify: impl Fn(&Path)) {
    let dir = scratch_dir();
    let (odd, twin) = (dir.path().join("odd.img"), dir.path().join("twin.img"));
    let slot_type: Guid = spec.slot_type.parse().unwrap();
    let entry_size = if spec.wide_entries { 256 } else { 128 };
    for sequence in 0..4 {
        disk(spec, &odd);
        disk(DiskSpec::kernel(spec.block_size, 128), &twin);
        let [(_, before), _] = raw_copies(&std::fs::read(&odd).unwrap(), spec.block_size);
        let mut rng = Rng::new(seed + sequence);
        for _ in 0..10 {
            let op = random_op(&mut rng);
            with_cgpt(&twin, spec.block_size, op);
            with_rootseal(&open(&odd, spec.block_size), op, slot_type);
        }
        let [(_, ours), (_, ours_backup)] = raw_copies(&std::fs::read(&odd).unwrap(), spec.block_size);
        let [(_, theirs), _] = raw_copies(&std::fs::read(&twin).unwrap(), spec.block_size);
        assert_eq!(ours, ours_backup, "primary and backup arrays differ");
        for n in USED {
            assert_eq!(
                attr_word(&ours, entry_size, n),
                attr_word(&theirs, 128, n),
                "{spec:?}: partition {n} attributes differ from cgpt's"
            );
        }
        let mut expected = before.clone();
        for n in USED {
            let at = (n as usize - 1) * entry_size + 48;
            expected[at..at + 8].copy_from_slice(&ours[at..at + 8]);
        }
        assert_eq!(ours, expected, "bytes other than attribute words changed");
        verify(&odd);
    }
}

#[test]
fn two_hundred_fifty_six_entries_match_cgpt_attributes() {
    let spec = DiskSpec::kernel(512, 256);
    odd_disk_against_cgpt_twin(spec, 0x256, |image| assert_sgdisk_accepts(image, 512));
}

#[test]
fn wide_entries_match_cgpt_attributes_and_sfdisk_reads_them() {
    let spec = DiskSpec { wide_entries: true, ..DiskSpec::kernel(512, 128) };
    odd_disk_against_cgpt_twin(spec, 0x1256, |image| {
        let out = run_ok("sfdisk", &["--json", image.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\"name\":\"USR-B\"") || text.contains("\"name\": \"USR-B\""), "{text}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("corrupt"), "{}", describe(&out));
    });
}

#[test]
fn wide_entries_keep_their_reserved_bytes_on_4096_byte_blocks() {
    let spec = DiskSpec { wide_entries: true, ..DiskSpec::kernel(4096, 128) };
    odd_disk_against_cgpt_twin(spec, 0x4256, |image| {
        let table = GptDisk::new(FileDevice::open_rw(image).unwrap(), BlockSize::Detect).unwrap().read().unwrap();
        assert_eq!(table.block_size(), 4096);
        assert!(table.copy_state(gpt::Which::Backup).is_valid());
    });
}

/// The Flatcar lifecycle with the usr type, against the values cgpt gives on a
/// kernel-type twin and the rules of GRUB gptprio (no GRUB binary to run here: its
/// effect on the twin is `cgpt add -T tries-1`).
#[test]
fn flatcar_update_cycle_matches_cgpt_and_gptprio() {
    for block_size in [512, 4096] {
        let dir = scratch_dir();
        let (ours, twin) = (dir.path().join("flatcar.img"), dir.path().join("twin.img"));
        disk(DiskSpec::flatcar(block_size), &ours);
        disk(DiskSpec::kernel(block_size, 128), &twin);
        let usr = Guid::FLATCAR_USR;
        let rootseal = open(&ours, block_size);
        let (a, b) = (3, 4);
        // Image build: USR-A P1 S1 T0, USR-B untouched.
        rootseal.set(a, AttrChange { priority: Some(1), tries: Some(0), successful: Some(true) }).unwrap();
        cgpt(&twin, block_size, &["add", "-i", "3", "-P", "1", "-S", "1", "-T", "0"]);
        let words = |image: &Path| {
            let [(_, entries), _] = raw_copies(&std::fs::read(image).unwrap(), block_size);
            [attr_word(&entries, 128, a), attr_word(&entries, 128, b)]
        };
        assert_eq!(words(&ours), [0x0101_0000_0000_0000, 0]);

        // Install to B.
        rootseal.mark_update(b, usr).unwrap();
        with_cgpt(&twin, block_size, Op::MarkUpdate(b));
        assert_eq!(words(&ours), words(&twin));
        assert_eq!(words(&ours), [0x0101_0000_0000_0000, 0x0012_0000_0000_0000]);

        // First boot: gptprio picks B and uses its only try before booting it.
        let boot = rootseal.next(usr).unwrap();
        assert_eq!((boot.partition.index, boot.written), (b, true));
        assert_eq!(boot.partition.unique_guid.to_string(), "e03dd35c-7c2d-4a47-b3fe-27f15780a57c");
        cgpt(&twin, block_size, &["add", "-i", "4", "-T", "0"]);
        assert_eq!(words(&ours), words(&twin));
        assert_eq!(words(&ours), [0x0101_0000_0000_0000, 0x0002_0000_0000_0000]);

        // Failure path: B never got marked good, so the next boot falls back to A and
        // nothing is written.
        let before = std::fs::read(&ours).unwrap();
        let boot = rootseal.next(usr).unwrap();
        assert_eq!((boot.partition.index, boot.written), (a, false));
        assert_eq!(std::fs::read(&ours).unwrap(), before, "a boot without a try to use must not write");

        // Success path instead: B came up and was blessed.
        rootseal.mark_good(b, usr).unwrap();
        with_cgpt(&twin, block_size, Op::MarkGood(b));
        assert_eq!(words(&ours), words(&twin));
        assert_eq!(words(&ours), [0x0101_0000_0000_0000, 0x0102_0000_0000_0000]);
        let boot = rootseal.next(usr).unwrap();
        assert_eq!((boot.partition.index, boot.written), (b, false));
        assert_sgdisk_accepts(&ours, block_size);
    }
}

/// cgpt's own recovery: corrupt one copy, and rootseal's repair must give the bytes
/// `cgpt repair` gives.
#[test]
fn repair_matches_cgpt_repair() {
    let dir = scratch_dir();
    let (ours, theirs) = (dir.path().join("ours.img"), dir.path().join("theirs.img"));
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 3] = [
        ("primary header disk GUID byte", |img| img[512 + 60] ^= 0x40),
        ("primary entry array name byte", |img| img[1024 + 2 * 128 + 60] ^= 1),
        ("backup header CRC", |img| {
            let last = img.len() - 512;
            img[last + 16] ^= 0xff
        }),
    ];
    for (what, damage) in damages {
        disk(DiskSpec::kernel(512, 128), &ours);
        let mut image = std::fs::read(&ours).unwrap();
        damage(&mut image);
        std::fs::write(&ours, &image).unwrap();
        std::fs::write(&theirs, &image).unwrap();
        let report = open(&ours, 512).repair(false).unwrap();
        assert!(report.primary_rebuilt || report.backup_rebuilt, "{what}: nothing repaired");
        let out = cgpt(&theirs, 512, &["repair"]);
        assert!(out.status.success(), "{}", describe(&out));
        assert!(std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(), "{what}: differs from cgpt repair");
        assert_cgpt_accepts(&ours, 512);
    }
}

/// Issue 15 item 15, vboot's IGNOREME case: after `cgpt legacy -p` the primary header
/// says IGNOREME. cgpt then uses the backup, never writes the primary (header or
/// entries) and `cgpt repair` keeps it. A run of 21 prioritize steps (with attribute
/// changes between them), then a mark-update and a repair, must leave images
/// byte-identical to cgpt's after every step.
#[test]
fn ignoreme_primary_matches_cgpt_byte_for_byte() {
    let spec = DiskSpec::kernel(512, 128);
    let slot_type: Guid = spec.slot_type.parse().unwrap();
    let dir = scratch_dir();
    let (ours, theirs) = (dir.path().join("rootseal.img"), dir.path().join("cgpt.img"));
    disk(spec, &theirs);
    for (slot, p) in [(3, "1"), (4, "2"), (5, "2")] {
        let out = cgpt(&theirs, 512, &["add", "-i", &slot.to_string(), "-P", p, "-S", "1"]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    let out = cgpt(&theirs, 512, &["legacy", "-p"]);
    assert!(out.status.success(), "{}", describe(&out));
    let pristine = std::fs::read(&theirs).unwrap();
    assert_eq!(&pristine[512..520], b"IGNOREME");
    std::fs::copy(&theirs, &ours).unwrap();
    let primary_area = |image: &[u8]| image[512..34 * 512].to_vec();

    let prioritize = |target: Option<u32>, friends: bool, max: Option<u8>| Op::Prioritize { target, friends, max };
    let set = |index: u32, priority: u8| Op::Set { index, priority: Some(priority), tries: None, successful: None };
    let steps = [
        prioritize(Some(3), false, None),
        prioritize(Some(4), false, None),
        prioritize(Some(5), false, None),
        prioritize(Some(4), true, None),
        prioritize(None, false, None),
        prioritize(Some(3), false, Some(3)),
        prioritize(Some(5), true, Some(2)),
        set(3, 15),
        prioritize(Some(4), false, None),
        prioritize(None, false, Some(1)),
        set(5, 7),
        prioritize(Some(3), true, None),
        prioritize(Some(5), false, Some(15)),
        set(4, 0),
        prioritize(Some(4), false, None),
        prioritize(Some(3), false, Some(4)),
        set(3, 9),
        set(5, 9),
        prioritize(Some(3), true, None),
        prioritize(Some(5), true, Some(6)),
        prioritize(None, false, None),
        prioritize(Some(4), false, Some(14)),
        prioritize(Some(5), false, None),
        prioritize(Some(3), false, None),
        prioritize(Some(4), true, Some(1)),
        prioritize(None, false, Some(7)),
        Op::MarkUpdate(4),
    ];
    assert_eq!(steps.iter().filter(|op| matches!(op, Op::Prioritize { .. })).count(), 21);
    for (i, op) in steps.into_iter().enumerate() {
        with_cgpt(&theirs, 512, op);
        with_rootseal(&open(&ours, 512), op, slot_type);
        let (a, b) = (std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
        assert!(a == b, "step {i} ({op:?}): images differ from cgpt's");
        assert_eq!(primary_area(&a), primary_area(&pristine), "step {i}: the primary area was written");
    }
    let before = std::fs::read(&ours).unwrap();
    let out = cgpt(&theirs, 512, &["repair"]);
    assert!(out.status.success(), "{}", describe(&out));
    let report = open(&ours, 512).repair(false).unwrap();
    assert!(!report.primary_rebuilt, "{report:?}");
    let (a, b) = (std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
    assert!(a == b && a == before, "repair must keep the IGNOREME primary, as cgpt does");
    let gpt = open(&ours, 512).read().unwrap();
    assert!(gpt.primary_ignored() && gpt.copy_state(gpt::Which::Backup).is_valid());
}

//! Sequences of GPT operations on a valid disk, with arbitrary attribute words.
//!
//! Input: byte 0 bit 0 picks the block size; bit 1 reads eight u64 attribute words for
//! the template's used entries first. Then operations, one kind byte each (see
//! [`Op::read`]), including damage to one copy so the repairing paths run too.
//!
//! Invariants after every operation: a failed or no-op operation writes nothing; a
//! writing one leaves two valid copies; no entry byte outside the A/B bits (48–56) ever
//! changes; and the A/B fields change exactly as cgpt and gptprio define.

use super::gpt_image::{self, LINUX_DATA};
use super::input::Input;
use rootseal::gpt::{self, AttrChange, Attributes, BlockSize, Gpt, GptDisk, Guid, PrioritizeRequest, Which};
use rootseal::io::{BlockRead, BlockWrite, MemoryDevice};
use std::collections::BTreeMap;

/// The A/B bits: priority, tries, successful.
const AB_BITS: u64 = 0x1ff << 48;
const TYPES: [Guid; 3] = [Guid::FLATCAR_USR, Guid::CHROMEOS_KERNEL, LINUX_DATA];

#[derive(Debug)]
enum Op {
    Set(u32, AttrChange),
    Prioritize(PrioritizeRequest, Guid),
    Next(Guid),
    Mark {
        index: u32,
        type_guid: Guid,
        good: bool,
    },
    Invalidate(u32),
    Repair(bool),
    /// Flip one byte of a header's CRC-covered bytes or of an entry array.
    Damage {
        which: u8,
        offset: u16,
        xor: u8,
    },
}

impl Op {
    fn read(input: &mut Input) -> Op {
        let kind = input.byte();
        // Indexes 0..=10 reach unused, missing and out-of-range slots too.
        let index = |input: &mut Input| u32::from(input.byte() % 11);
        let type_guid = |input: &mut Input| TYPES[usize::from(input.byte()) % TYPES.len()];
        match kind % 8 {
            0 => {
                let (fields, priority, tries) = (input.byte(), input.byte(), input.byte());
                Op::Set(
                    index(input),
                    AttrChange {
                        priority: (fields & 1 != 0).then_some(priority % 17),
                        tries: (fields & 2 != 0).then_some(tries % 17),
                        successful: (fields & 4 != 0).then_some(fields & 8 != 0),
                    },
                )
            }
            1 => {
                let (target, flags, max) = (input.byte() % 11, input.byte(), input.byte() % 17);
                let request = PrioritizeRequest {
                    target: (target != 0).then_some(u32::from(target)),
                    friends: flags & 1 != 0,
                    max_priority: (flags & 2 != 0).then_some(max),
                };
                Op::Prioritize(request, type_guid(input))
            }
            2 => Op::Next(type_guid(input)),
            3 | 4 => Op::Mark { index: index(input), type_guid: type_guid(input), good: kind % 8 == 4 },
            5 => Op::Invalidate(index(input)),
            6 => Op::Repair(input.byte() & 1 != 0),
            _ => Op::Damage { which: input.byte() % 4, offset: input.u16(), xor: input.byte() | 1 },
        }
    }
}

/// Used entries: index → (type, attribute word).
fn words(table: &Gpt) -> BTreeMap<u32, (Guid, Attributes)> {
    table.partitions().into_iter().map(|p| (p.index, (p.type_guid, p.attributes))).collect()
}

/// The entry array with the A/B bits cleared.
fn without_ab_bits(table: &Gpt) -> Vec<u8> {
    let mut bytes = table.entry_bytes().to_vec();
    let size = table.header().entry_size as usize;
    for entry in bytes.chunks_exact_mut(size) {
        let word = u64::from_le_bytes(entry[48..56].try_into().expect("8 bytes")) & !AB_BITS;
        entry[48..56].copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

fn snapshot(device: &MemoryDevice) -> Vec<u8> {
    let mut scratch = Vec::new();
    let size = device.size().expect("memory size") as usize;
    device.read_view(0, size, &mut scratch).expect("whole device").to_vec()
}

fn damage(device: &MemoryDevice, block_size: u32, which: u8, offset: u16, xor: u8) {
    let bs = u64::from(block_size);
    let last = device.size().expect("memory size") / bs - 1;
    let array_bytes = u64::from(gpt_image::ENTRY_COUNT) * 128;
    let array_blocks = array_bytes.div_ceil(bs);
    let at = match which {
        0 => bs + u64::from(offset) % 92,
        1 => 2 * bs + u64::from(offset) % array_bytes,
        2 => last * bs + u64::from(offset) % 92,
        _ => (last - array_blocks) * bs + u64::from(offset) % array_bytes,
    };
    let mut scratch = Vec::new();
    let byte = device.read_view(at, 1, &mut scratch).expect("inside the disk")[0];
    device.write_at(at, &[byte ^ xor]).expect("memory write");
}

/// Checks `prioritize` (alone, or inside mark) among the partitions of `type_guid`:
/// `moved` went on top; the rest kept their order and their zeros.
fn check_prioritized(
    before: &BTreeMap<u32, (Guid, Attributes)>,
    after: &BTreeMap<u32, (Guid, Attributes)>,
    type_guid: Guid,
    moved: &[u32],
    max: u8,
) {
    let p = |m: &BTreeMap<u32, (Guid, Attributes)>, i: u32| m[&i].1.priority();
    let members: Vec<u32> = before.iter().filter(|(_, (t, _))| *t == type_guid).map(|(&i, _)| i).collect();
    let top = members.iter().map(|&i| p(after, i)).max().unwrap_or(0);
    for &i in &members {
        let (old, new) = (p(before, i), p(after, i));
        assert!(new <= max, "partition {i}: priority {new} above the maximum {max}");
        if moved.contains(&i) {
            assert!(new == top && new >= 1, "moved partition {i} is not on top: {new} < {top}");
        } else if old == 0 {
            assert_eq!(new, 0, "partition {i} left rotation-less state 0");
        } else {
            assert!(new >= 1, "partition {i} dropped out of rotation");
        }
        for &j in &members {
            if moved.contains(&i) || moved.contains(&j) || p(before, j) == 0 {
                continue;
            }
            if old > p(before, j) {
                assert!(new >= p(after, j), "order of {i} and {j} reversed");
            }
            if old == p(before, j) {
                assert_eq!(new, p(after, j), "group of {i} and {j} split");
            }
        }
    }
}

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    let block_size = if control & 1 == 0 { 512 } else { 4096 };
    let mut entries = gpt_image::flatcar_entries(gpt_image::first_usable(block_size));
    if control & 2 != 0 {
        for entry in &mut entries {
            entry.attributes = input.u64();
        }
    }
    let image = gpt_image::build(block_size, gpt_image::template_blocks(block_size), &entries);
    let disk = GptDisk::new(MemoryDevice::new(image), BlockSize::Fixed(block_size)).expect("valid block size");
    let fixed_bytes = without_ab_bits(&disk.read().expect("the template reads"));

    while !input.is_empty() {
        let op = Op::read(&mut input);
        let before_bytes = snapshot(disk.device());
        let before = disk.read();
        let outcome: Result<bool, gpt::Error> = match &op {
            Op::Set(index, change) => disk.set(*index, *change).map(|w| w.0),
            Op::Prioritize(request, type_guid) => disk.prioritize(*request, *type_guid).map(|w| w.0),
            Op::Next(type_guid) => disk.next(*type_guid).map(|n| n.written),
            Op::Mark { index, type_guid, good: true } => disk.mark_good(*index, *type_guid).map(|w| w.0),
            Op::Mark { index, type_guid, good: false } => disk.mark_update(*index, *type_guid).map(|w| w.0),
            Op::Invalidate(index) => disk.invalidate(*index).map(|w| w.0),
            Op::Repair(fix_pmbr) => disk.repair(*fix_pmbr).map(|r| r.changed()),
            Op::Damage { which, offset, xor } => {
                damage(disk.device(), block_size, *which, *offset, *xor);
                continue;
            }
        };
        let after_bytes = snapshot(disk.device());
        let written = match &outcome {
            Ok(written) => *written,
            Err(_) => false,
        };
        if !written {
            assert!(after_bytes == before_bytes, "{op:?} wrote although it {outcome:?}");
            continue;
        }
        let after = disk.read().expect("a written disk reads");
        assert!(after.copy_state(Which::Primary).is_valid(), "{op:?}: primary invalid after the write");
        assert!(after.copy_state(Which::Backup).is_valid(), "{op:?}: backup invalid after the write");
        assert!(without_ab_bits(&after) == fixed_bytes, "{op:?} changed bits outside the A/B fields");
        let before = words(&before.expect("the disk read before a successful operation"));
        check_semantics(&op, &before, &words(&after));
    }
}

/// What each successful operation must have done to the A/B fields.
fn check_semantics(op: &Op, before: &BTreeMap<u32, (Guid, Attributes)>, after: &BTreeMap<u32, (Guid, Attributes)>) {
    let unchanged_except = |skip: &[u32]| {
        for (i, word) in before {
            if !skip.contains(i) {
                assert_eq!(after[i], *word, "{op:?} changed partition {i}");
            }
        }
    };
    let tries_and_flag_kept = |skip: &[u32]| {
        for (i, (_, word)) in before {
            let new = after[i].1;
            if !skip.contains(i) {
                assert_eq!((new.tries(), new.successful()), (word.tries(), word.successful()), "{op:?}: {i}");
            }
        }
    };
    match *op {
        Op::Set(index, change) => {
            let (old, new) = (before[&index].1, after[&index].1);
            assert_eq!(new.priority(), change.priority.unwrap_or(old.priority()));
            assert_eq!(new.tries(), change.tries.unwrap_or(old.tries()));
            assert_eq!(new.successful(), change.successful.unwrap_or(old.successful()));
            unchanged_except(&[index]);
        }
        Op::Invalidate(index) => {
            let (old, new) = (before[&index].1, after[&index].1);
            assert_eq!((new.priority(), new.tries(), new.successful()), (0, old.tries(), old.successful()));
            unchanged_except(&[index]);
        }
        Op::Next(type_guid) => {
            // gptprio: the highest priority among bootable slots, lowest number on a tie.
            let chosen = before
                .iter()
                .filter(|(_, (t, w))| *t == type_guid && w.priority() > 0 && (w.tries() > 0 || w.successful()))
                .max_by_key(|(i, (_, w))| (w.priority(), std::cmp::Reverse(**i)))
                .map(|(&i, _)| i)
                .expect("next wrote, so something was bootable");
            let (old, new) = (before[&chosen].1, after[&chosen].1);
            assert!(old.tries() > 0 && new.tries() == old.tries() - 1, "next on {chosen}: {old:?} -> {new:?}");
            assert_eq!(new.0 & !(0xf << 52), old.0 & !(0xf << 52));
            unchanged_except(&[chosen]);
        }
        Op::Prioritize(request, type_guid) => {
            let moved: Vec<u32> = match request.target {
                Some(t) if request.friends => before
                    .iter()
                    .filter(|(_, (g, w))| *g == type_guid && w.priority() == before[&t].1.priority())
                    .map(|(&i, _)| i)
                    .collect(),
                Some(t) => vec![t],
                None => Vec::new(),
            };
            tries_and_flag_kept(&[]);
            let others: Vec<u32> = before.iter().filter(|(_, (g, _))| *g != type_guid).map(|(&i, _)| i).collect();
            for i in others {
                assert_eq!(after[&i], before[&i], "prioritize changed partition {i} of another type");
            }
            check_prioritized(before, after, type_guid, &moved, request.max_priority.unwrap_or(15));
        }
        Op::Mark { index, type_guid, good } => {
            let new = after[&index].1;
            let expected = if good { (0, true) } else { (1, false) };
            assert_eq!((new.tries(), new.successful()), expected, "{op:?}");
            tries_and_flag_kept(&[index]);
            // The priorities as prioritize saw them: the target's tries and flag set first.
            check_prioritized(before, after, type_guid, &[index], 15);
        }
        Op::Repair(_) => unchanged_except(&[]),
        Op::Damage { .. } => {}
    }
}

//! The power-cut harness. Every writing operation is first run on a recording device;
//! then, for every crash point, the disk is rebuilt as it would be after a power cut
//! there, and the reader must see either the complete old table or the complete new
//! one — never a mix, never "no valid GPT". A repair of the crashed disk must then keep
//! exactly the table the reader saw.
//!
//! Crash points, on disks with 512- and 4096-byte blocks:
//! - after each write call;
//! - inside each write call: at every 512-byte boundary it spans, and torn at several
//!   byte offsets inside every sector;
//! - a flush that was never done: any subset of the write calls since the last flush
//!   reached the disk (a volatile cache persists them in any order), and also any
//!   subset with one more of them torn at each 512-byte boundary.

use crate::gpt_support;

use gpt_support::*;
use rootseal::gpt::{self, AttrChange, BlockSize, Gpt, GptDisk, Guid, PrioritizeRequest};
use rootseal::io::{BlockRead, BlockWrite};
use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

const SECTOR: u64 = 512;

#[derive(Debug, Clone)]
enum Call {
    Write(u64, Vec<u8>),
    Flush,
}

/// A disk image as a shared base plus the 512-byte sectors written since, so thousands
/// of crash states cost no copies of the image. Records every call.
#[derive(Clone)]
struct OverlayDevice {
    base: Arc<Vec<u8>>,
    sectors: Arc<Mutex<BTreeMap<u64, Vec<u8>>>>,
    log: Arc<Mutex<Vec<Call>>>,
}

impl OverlayDevice {
    fn new(base: Arc<Vec<u8>>) -> Self {
        OverlayDevice { base, sectors: Default::default(), log: Default::default() }
    }

    fn sector(&self, n: u64) -> Vec<u8> {
        if let Some(s) = self.sectors.lock().unwrap().get(&n) {
            return s.clone();
        }
        let at = (n * SECTOR) as usize;
        self.base[at..at + SECTOR as usize].to_vec()
    }

    /// Applies `data` at `offset`, sector by sector (a torn write passes a prefix).
    fn put(&self, offset: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let at = offset + done as u64;
            let (n, within) = (at / SECTOR, (at % SECTOR) as usize);
            let take = (SECTOR as usize - within).min(data.len() - done);
            let mut sector = self.sector(n);
            sector[within..within + take].copy_from_slice(&data[done..done + take]);
            self.sectors.lock().unwrap().insert(n, sector);
            done += take;
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.log.lock().unwrap().clone()
    }
}

impl BlockRead for OverlayDevice {
    fn size(&self) -> io::Result<u64> {
        Ok(self.base.len() as u64)
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        if offset + len as u64 > self.base.len() as u64 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "past the end"));
        }
        scratch.clear();
        let mut at = offset;
        while at < offset + len as u64 {
            let sector = self.sector(at / SECTOR);
            let within = (at % SECTOR) as usize;
            let take = (SECTOR as usize - within).min((offset + len as u64 - at) as usize);
            scratch.extend_from_slice(&sector[within..within + take]);
            at += take as u64;
        }
        Ok(scratch)
    }
}

impl BlockWrite for OverlayDevice {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.log.lock().unwrap().push(Call::Write(offset, data.to_vec()));
        self.put(offset, data);
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        self.log.lock().unwrap().push(Call::Flush);
        Ok(())
    }
    fn capacity(&self) -> io::Result<Option<u64>> {
        Ok(Some(self.base.len() as u64))
    }
}

/// The table a reader takes, without the fields that only say where things are.
fn table_of(gpt: &Gpt) -> (Vec<u8>, Guid, u64, u64) {
    let h = gpt.header();
    (gpt.entry_bytes().to_vec(), h.disk_guid, h.first_usable, h.last_usable)
}

type Operation = fn(&GptDisk<OverlayDevice>);

/// One crash point: the calls that reached the disk whole, and a prefix of one more.
struct CrashState {
    what: String,
    applied: Vec<usize>,
    partial: Option<(usize, usize)>,
}

fn state(what: String, applied: Vec<usize>, partial: Option<(usize, usize)>) -> CrashState {
    CrashState { what, applied, partial }
}

type Damage = fn(&mut Vec<u8>, usize);

/// Every crash state of a recorded call list.
fn crash_states(calls: &[Call]) -> Vec<CrashState> {
    let mut states = Vec::new();
    let writes: Vec<usize> = (0..calls.len()).filter(|&i| matches!(calls[i], Call::Write(..))).collect();
    // A cut after each call, and torn writes inside each sector of each call.
    for (k, &i) in writes.iter().enumerate() {
        let before: Vec<usize> = writes[..k].to_vec();
        states.push(state(format!("cut before write {k}"), before.clone(), None));
        let Call::Write(_, data) = &calls[i] else { unreachable!() };
        for sector_start in (0..data.len()).step_by(SECTOR as usize) {
            for tear in [1, 92, SECTOR as usize / 2, SECTOR as usize - 1] {
                states.push(state(
                    format!("write {k} torn at byte {}", sector_start + tear),
                    before.clone(),
                    Some((i, sector_start + tear)),
                ));
            }
        }
        // A cut at every 512-byte boundary of a multi-sector write (a 4096-byte block
        // need not reach the disk whole either).
        for boundary in (SECTOR as usize..data.len()).step_by(SECTOR as usize) {
            states.push(state(format!("write {k} cut after byte {boundary}"), before.clone(), Some((i, boundary))));
        }
    }
    states.push(state("after the last call".into(), writes.clone(), None));
    // Reordering inside a flush epoch: any subset of its writes reached the disk.
    let mut epoch_start = 0;
    let mut flushed: Vec<usize> = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        if matches!(call, Call::Flush) {
            let epoch: Vec<usize> = (epoch_start..i).filter(|j| matches!(calls[*j], Call::Write(..))).collect();
            for mask in 0u32..(1 << epoch.len()) {
                let mut applied = flushed.clone();
                applied.extend(epoch.iter().enumerate().filter(|(b, _)| mask >> b & 1 == 1).map(|(_, &j)| j));
                states.push(state(format!("epoch ending at call {i}, subset {mask:#b}"), applied.clone(), None));
                // One of the writes left out was in flight: torn at each sector boundary.
                for (b, &torn) in epoch.iter().enumerate().filter(|(b, _)| mask >> b & 1 == 0) {
                    let Call::Write(_, data) = &calls[torn] else { unreachable!() };
                    for cut in (SECTOR as usize..data.len()).step_by(SECTOR as usize).chain([1]) {
                        states.push(state(
                            format!("epoch ending at call {i}, subset {mask:#b}, write {b} torn at byte {cut}"),
                            applied.clone(),
                            Some((torn, cut)),
                        ));
                    }
                }
            }
            flushed.extend(epoch);
            epoch_start = i + 1;
        }
    }
    states
}

/// Runs `operation` at every crash point; returns how many were checked.
fn crash_test(name: &str, image: Vec<u8>, block_size: u32, operation: Operation) -> usize {
    let base = Arc::new(image);
    let old = gpt::read(&OverlayDevice::new(base.clone()), block_size).expect("old state readable");
    let recorder = OverlayDevice::new(base.clone());
    operation(&GptDisk::new(recorder.clone(), BlockSize::Fixed(block_size)).unwrap());
    let calls = recorder.calls();
    let new = gpt::read(&recorder, block_size).expect("new state readable");
    let (old_table, new_table) = (table_of(&old), table_of(&new));
    let states = crash_states(&calls);
    for CrashState { what, applied, partial } in &states {
        let crashed = OverlayDevice::new(base.clone());
        for &i in applied {
            if let Call::Write(offset, data) = &calls[i] {
                crashed.put(*offset, data);
            }
        }
        if let Some((i, len)) = *partial
            && let Call::Write(offset, data) = &calls[i]
        {
            crashed.put(*offset, &data[..len.min(data.len())]);
        }
        let seen = gpt::read(&crashed, block_size)
            .unwrap_or_else(|e| panic!("{name}: {what}: no valid GPT after the crash: {e}"));
        let table = table_of(&seen);
        assert!(table == old_table || table == new_table, "{name}: {what}: the reader sees a mix of old and new");
        let disk = GptDisk::new(crashed.clone(), BlockSize::Fixed(block_size)).unwrap();
        disk.repair(false).unwrap_or_else(|e| panic!("{name}: {what}: repair after the crash failed: {e}"));
        let repaired = disk.read().unwrap();
        assert!(
            repaired.copy_state(gpt::Which::Primary).is_valid() && repaired.copy_state(gpt::Which::Backup).is_valid()
        );
        let mut kept = table_of(&repaired);
        // Repair may legitimately grow LastUsable when it moves the backup.
        kept.3 = table.3;
        assert!(kept == table, "{name}: {what}: repair changed the table the reader saw");
    }
    assert!(!calls.is_empty(), "{name}: the operation wrote nothing");
    states.len()
}

fn image(spec: DiskSpec) -> Vec<u8> {
    let dir = scratch_dir();
    let path = dir.path().join("disk.img");
    disk(spec, &path);
    let mut bytes = std::fs::read(&path).unwrap();
    // Start from a realistic state: A good (P1 S1), B freshly installed (P2 T1).
    edit_entries(&mut bytes, spec.block_size, |array| {
        array[2 * 128 + 48..2 * 128 + 56].copy_from_slice(&0x0101_0000_0000_0000u64.to_le_bytes());
        array[3 * 128 + 48..3 * 128 + 56].copy_from_slice(&0x0012_0000_0000_0000u64.to_le_bytes());
    });
    bytes
}

fn damaged(spec: DiskSpec, damage: impl Fn(&mut Vec<u8>, usize)) -> Vec<u8> {
    let mut bytes = image(spec);
    damage(&mut bytes, spec.block_size as usize);
    bytes
}

const USR: Guid = Guid::FLATCAR_USR;

fn operations() -> Vec<(&'static str, Operation)> {
    vec![
        ("set", |d| {
            assert!(d.set(4, AttrChange { priority: Some(5), tries: Some(3), successful: Some(true) }).unwrap().0)
        }),
        ("prioritize", |d| {
            assert!(d.prioritize(PrioritizeRequest { target: Some(3), ..Default::default() }, USR).unwrap().0)
        }),
        ("next", |d| assert!(d.next(USR).unwrap().written)),
        ("mark-update", |d| assert!(d.mark_update(3, USR).unwrap().0)),
        ("mark-good", |d| assert!(d.mark_good(4, USR).unwrap().0)),
        ("invalidate", |d| assert!(d.invalidate(4).unwrap().0)),
    ]
}

#[test]
fn every_crash_point_leaves_the_old_or_the_new_table() {
    let mut total = 0;
    let mut per_block_size = Vec::new();
    for block_size in [512, 4096] {
        let before = total;
        let spec = DiskSpec::flatcar(block_size);
        let healthy = image(spec);
        for (name, operation) in operations() {
            total += crash_test(&format!("{name}/{block_size}"), healthy.clone(), block_size, operation);
        }
        let damages: [(&str, Damage); 8] = [
            ("primary header", |b, bs| b[bs + 60] ^= 1),
            ("primary array", |b, bs| b[2 * bs + 200] ^= 1),
            ("backup header", |b, bs| {
                let last = b.len() - bs;
                b[last + 70] ^= 1
            }),
            ("grown disk", |b, _| b.resize(b.len() + (1 << 20), 0)),
            // Growth smaller than the entry array: the moved backup's array lands on
            // the old backup header.
            ("disk grown by 1 block", |b, bs| b.resize(b.len() + bs, 0)),
            ("disk grown by 3 blocks", |b, bs| b.resize(b.len() + 3 * bs, 0)),
            ("disk grown by 8 blocks", |b, bs| b.resize(b.len() + 8 * bs, 0)),
            ("disk grown by 32 blocks", |b, bs| b.resize(b.len() + 32 * bs, 0)),
        ];
        for (what, damage) in damages {
            let broken = damaged(spec, damage);
            total += crash_test(&format!("repair {what}/{block_size}"), broken.clone(), block_size, |d| {
                assert!(d.repair(false).unwrap().changed())
            });
            // Operations that repair as they go, started from the damaged disk.
            total += crash_test(&format!("mark-update on {what}/{block_size}"), broken.clone(), block_size, |d| {
                assert!(d.mark_update(3, USR).unwrap().0)
            });
            total += crash_test(&format!("next on {what}/{block_size}"), broken, block_size, |d| {
                assert!(d.next(USR).unwrap().written)
            });
        }
        per_block_size.push(format!("{} with {block_size}-byte blocks", total - before));
    }
    let summary = format!("gpt power-cut harness: {total} crash points checked ({})", per_block_size.join(", "));
    println!("{summary}");
    eprintln!("{summary}");
    assert!(total > 10_000, "only {total} crash points");
}

/// The harness must catch a writer that interleaves the copies, as Flatcar's cgpt does
/// (primary header, backup header, primary array, backup array): after the two headers
/// and before the arrays, neither copy is valid (case T5).
#[test]
fn the_harness_catches_an_interleaved_writer() {
    let block_size = 512;
    let base = Arc::new(image(DiskSpec::flatcar(block_size)));
    let recorder = OverlayDevice::new(base.clone());
    GptDisk::new(recorder.clone(), BlockSize::Fixed(block_size)).unwrap().mark_good(4, USR).unwrap();
    let writes: Vec<(u64, Vec<u8>)> = recorder
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Write(o, d) => Some((o, d)),
            Call::Flush => None,
        })
        .collect();
    // Our order is backup array, backup header, primary array, primary header.
    assert_eq!(writes.len(), 4);
    assert!(writes[0].1.len() > writes[1].1.len() && writes[1].0 > writes[3].0, "unexpected order");
    let crashed = OverlayDevice::new(base);
    for (offset, data) in [&writes[3], &writes[1]] {
        crashed.put(*offset, data);
    }
    assert!(matches!(gpt::read(&crashed, block_size), Err(gpt::Error::NoValidGpt { .. })));
}

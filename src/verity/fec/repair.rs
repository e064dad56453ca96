//! Checking parity and repairing images with it, in userspace.
//!
//! The hash tree says which blocks are bad; they are the erasures of every codeword of
//! their round, so a round with up to `roots` bad blocks decodes exactly (twice what
//! unknown errors would allow). Every repaired block is checked against the tree before
//! anything is written: the repairs are laid over the image in memory and the whole
//! tree verified through them; blocks that the repaired hash blocks reveal as bad too
//! join the erasures, and the round is decoded again. Only when the whole image
//! verifies is anything written, one block per write, data and tree first, then the
//! parity blocks that do not match the repaired image, then a flush. A power cut leaves
//! each block old or new, every new one correct, so a second run finishes the job.

use super::error::{FecError, Result};
use super::image::FecPlacement;
use super::layout::Source;
use super::{EncodeOptions, decode, encode};
use crate::io::{BlockDevice, BlockRead, BlockWrite};
use crate::verity::{RunOptions, TreeLayout, VerifyReport, VerityOptions, verify};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// What a parity check or a repair found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// The tree verification of the image as it was.
    pub before: VerifyReport,
    /// Data blocks that were bad and that FEC repairs (or repaired), by index.
    pub repairable_data_blocks: Vec<u64>,
    /// Hash blocks (hash-block units from the start of the hash device) likewise.
    pub repairable_hash_blocks: Vec<u64>,
    /// Data blocks that stay bad: their codewords are beyond the code's capability.
    pub unrepairable_data_blocks: Vec<u64>,
    /// Hash blocks that stay bad.
    pub unrepairable_hash_blocks: Vec<u64>,
    /// Parity blocks (block index from the start of the parity area) that do not match
    /// the parity of the (repaired) image; empty when some blocks are unrepairable,
    /// since the parity cannot be judged then.
    pub parity_mismatch_blocks: Vec<u64>,
    /// True when blocks were written (a repair that was not a dry run, with something
    /// to do and everything repairable).
    pub written: bool,
}

impl RepairReport {
    /// True when nothing was damaged: tree and parity all match.
    pub fn is_intact(&self) -> bool {
        self.before.is_intact() && self.parity_mismatch_blocks.is_empty()
    }

    /// True when every damaged block (data, tree, parity) can be repaired. A wrong root
    /// hash (the tree intact, its root another) is nothing FEC can repair.
    pub fn is_repairable(&self) -> bool {
        self.unrepairable_data_blocks.is_empty()
            && self.unrepairable_hash_blocks.is_empty()
            && self.before.root_hash_mismatch.is_none()
    }
}

/// A read-only view of a device with some blocks replaced.
struct Overlay<'a> {
    base: &'a dyn BlockRead,
    block_size: u64,
    /// Block-aligned byte offset → replacement block.
    blocks: BTreeMap<u64, Vec<u8>>,
}

impl BlockRead for Overlay<'_> {
    fn size(&self) -> std::io::Result<u64> {
        self.base.size()
    }

    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> std::io::Result<&'a [u8]> {
        let end = offset.saturating_add(len as u64);
        let first = offset - offset % self.block_size;
        let mut patches = self.blocks.range(first..end).peekable();
        if patches.peek().is_none() {
            return self.base.read_view(offset, len, scratch);
        }
        let mut copy = Vec::new();
        let bytes = self.base.read_view(offset, len, &mut copy)?.to_vec();
        *scratch = bytes;
        for (&at, block) in patches {
            let from = at.max(offset);
            let to = (at + block.len() as u64).min(end);
            if from < to {
                scratch[(from - offset) as usize..(to - offset) as usize]
                    .copy_from_slice(&block[(from - at) as usize..(to - at) as usize]);
            }
        }
        Ok(&scratch[..])
    }
}

/// A parity "writer" that compares what the encoder produces with the stored parity
/// and keeps the blocks that differ.
struct ParityComparer<'a> {
    stored: &'a dyn BlockRead,
    area_start: u64,
    block_size: u64,
    /// Parity block index → the correct contents.
    mismatched: Mutex<BTreeMap<u64, Vec<u8>>>,
}

impl BlockWrite for ParityComparer<'_> {
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut scratch = Vec::new();
        let stored = self.stored.read_view(offset, data.len(), &mut scratch)?;
        let bs = self.block_size as usize;
        let first = (offset - self.area_start) / self.block_size;
        for (k, (ours, theirs)) in data.chunks(bs).zip(stored.chunks(bs)).enumerate() {
            if ours != theirs {
                let mut map = self.mismatched.lock().unwrap_or_else(|p| p.into_inner());
                map.insert(first + k as u64, ours.to_vec());
            }
        }
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn capacity(&self) -> std::io::Result<Option<u64>> {
        Ok(None)
    }
}

/// Where a stream block is, and the device block number the tree report uses for it.
fn stream_of_report(placement: &FecPlacement, report: &VerifyReport) -> BTreeSet<u64> {
    let layout = &placement.layout;
    let mut bad: BTreeSet<u64> = report.corrupted_data_blocks.iter().copied().collect();
    for &h in &report.corrupted_hash_blocks {
        if let Some(rel) = h.checked_sub(layout.hash_start_block())
            && rel < layout.hash_blocks()
        {
            bad.insert(layout.data_blocks() + rel);
        }
    }
    bad
}

/// Decodes round `round` with `bad` stream blocks as erasures. Returns the repaired
/// blocks (stream block → contents) for the erased blocks and any other block the
/// decoder corrected, or None when a codeword is beyond capability.
fn decode_round(
    placement: &FecPlacement,
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    fec: &dyn BlockRead,
    round: u64,
    bad: &BTreeSet<u64>,
) -> Result<Option<BTreeMap<u64, Vec<u8>>>> {
    let layout = &placement.layout;
    let bs = layout.block_size() as usize;
    let roots = layout.roots() as usize;
    let rsn = layout.rsn();
    let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(rsn as usize);
    let mut erasures = Vec::new();
    let mut stream = Vec::with_capacity(rsn as usize);
    for symbol in 0..rsn {
        let block = layout.stream_block(round, symbol)?;
        stream.push(block);
        if bad.contains(&block) {
            erasures.push(symbol as usize);
        }
        blocks.push(match layout.locate(block) {
            Source::Data(offset) => super::image::read_vec(data, offset, bs, "data device")?,
            Source::Hash(offset) => super::image::read_vec(hash, offset, bs, "hash device")?,
            Source::Zero => vec![0; bs],
        });
    }
    if erasures.len() > roots {
        return Ok(None);
    }
    let parity_at = placement.offset + layout.parity_offset(round, 0)?;
    let parity = super::image::read_vec(fec, parity_at, bs * roots, "FEC device")?;
    let mut changed: BTreeSet<usize> = erasures.iter().copied().collect();
    let mut word = [0u8; 255];
    for lane in 0..bs {
        for (w, b) in word.iter_mut().zip(&blocks) {
            *w = b[lane];
        }
        word[rsn as usize..].copy_from_slice(&parity[lane * roots..(lane + 1) * roots]);
        let before = word;
        match decode(layout.roots(), &mut word, &erasures) {
            Ok(_) => {}
            Err(FecError::Uncorrectable { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        for (symbol, (&new, &old)) in word.iter().zip(&before).enumerate().take(rsn as usize) {
            if new != old {
                if layout.locate(stream[symbol]) == Source::Zero {
                    // Zero padding is known; a "correction" there is a miscorrection.
                    return Ok(None);
                }
                changed.insert(symbol);
                blocks[symbol][lane] = new;
            }
        }
    }
    Ok(Some(
        changed
            .into_iter()
            .filter(|&s| layout.locate(stream[s]) != Source::Zero)
            .map(|s| (stream[s], blocks[s].clone()))
            .collect(),
    ))
}

/// The stream blocks of round `round` that the tree cannot vouch for because a bad
/// hash block in `bad` lies above them: every descendant of a bad hash block.
fn suspects(placement: &FecPlacement, tree: &TreeLayout, bad: &BTreeSet<u64>, round: u64) -> BTreeSet<u64> {
    let layout = &placement.layout;
    let rounds = layout.rounds();
    let levels = tree.levels();
    let hpb = tree.hashes_per_block();
    let stream_of = |tier: usize, index: u64| -> u64 {
        if tier == 0 {
            index
        } else {
            layout.data_blocks() + levels[tier - 1].start_block + index - layout.hash_start_block()
        }
    };
    let count = |tier: usize| if tier == 0 { layout.data_blocks() } else { levels[tier - 1].blocks };
    let mut found = BTreeSet::new();
    for &block in bad.range(layout.data_blocks()..) {
        let number = layout.hash_start_block() + (block - layout.data_blocks());
        let Some(level) = levels.iter().position(|l| (l.start_block..l.start_block + l.blocks).contains(&number))
        else {
            continue;
        };
        let index = number - levels[level].start_block;
        // Tier t: 0 = data, t = level t − 1 of the tree.
        let mut range = index..index + 1;
        for tier in (0..=level).rev() {
            let end = range.end.saturating_mul(hpb).min(count(tier));
            range = range.start.saturating_mul(hpb).min(end)..end;
            // The indices whose stream block falls in this round.
            let first = stream_of(tier, range.start);
            let skip = (round + rounds - first % rounds) % rounds;
            let mut i = range.start + skip;
            while i < range.end {
                found.insert(stream_of(tier, i));
                i += rounds;
            }
        }
    }
    found
}

/// The split of stream blocks into data-block indices and hash-block numbers.
fn split_blocks(placement: &FecPlacement, blocks: impl Iterator<Item = u64>) -> (Vec<u64>, Vec<u64>) {
    let layout = &placement.layout;
    let (mut data, mut hash) = (Vec::new(), Vec::new());
    for b in blocks {
        if b < layout.data_blocks() {
            data.push(b);
        } else {
            hash.push(layout.hash_start_block() + (b - layout.data_blocks()));
        }
    }
    (data, hash)
}

/// Checks the parity of an image and works out which damaged blocks it repairs;
/// with `write`, repairs them in place (see the module notes for the order). A repair
/// that cannot fix every damaged block writes nothing: the report then lists the
/// blocks that cannot be repaired, and [`RepairReport::written`] is false.
///
/// `placement` comes from [`super::existing_placement`]; `same_device` says that data
/// and hash are one device, as for [`crate::verity::verify`].
#[allow(clippy::too_many_arguments)]
pub fn repair(
    data: &dyn BlockDevice,
    hash: &dyn BlockDevice,
    fec: &dyn BlockDevice,
    same_device: bool,
    opts: &VerityOptions,
    root_hash: &[u8],
    placement: &FecPlacement,
    run: &RunOptions<'_>,
    write: bool,
) -> Result<RepairReport> {
    let report = check(data, hash, fec, same_device, opts, root_hash, placement, run)?;
    if !write || report.0.is_intact() && report.0.parity_mismatch_blocks.is_empty() {
        return Ok(report.0);
    }
    let (mut outcome, fixes, parity) = report;
    if !outcome.is_repairable() {
        return Ok(outcome);
    }
    let layout = &placement.layout;
    for (block, bytes) in &fixes {
        let (device, offset, what): (&dyn BlockDevice, u64, &str) = match layout.locate(*block) {
            Source::Data(offset) => (data, offset, "data"),
            Source::Hash(offset) => (hash, offset, "hash"),
            Source::Zero => continue,
        };
        device
            .write_at(offset, bytes)
            .map_err(|e| FecError::io(format!("writing the repaired {what} block at offset {offset}"), e))?;
    }
    data.flush().map_err(|e| FecError::io("flushing the data device", e))?;
    hash.flush().map_err(|e| FecError::io("flushing the hash device", e))?;
    let bs = layout.block_size() as u64;
    for (index, bytes) in &parity {
        let offset = placement.offset + index * bs;
        fec.write_at(offset, bytes).map_err(|e| FecError::io(format!("writing FEC parity at offset {offset}"), e))?;
    }
    fec.flush().map_err(|e| FecError::io("flushing the FEC device", e))?;
    outcome.written = true;
    Ok(outcome)
}

type Fixes = BTreeMap<u64, Vec<u8>>;

/// The analysis behind [`repair`]: the report, the repaired blocks by stream block,
/// and the correct contents of the mismatched parity blocks.
#[allow(clippy::too_many_arguments)]
fn check(
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    fec: &dyn BlockRead,
    same_device: bool,
    opts: &VerityOptions,
    root_hash: &[u8],
    placement: &FecPlacement,
    run: &RunOptions<'_>,
) -> Result<(RepairReport, Fixes, Fixes)> {
    let layout = &placement.layout;
    let fec_size = fec.size().map_err(|e| FecError::io("reading the FEC device size", e))?;
    if fec_size < placement.parity_end() {
        return Err(FecError::ParityTooShort { needed: placement.parity_end(), actual: fec_size });
    }
    let before = verify(data, hash, same_device, opts, root_hash, run)?;
    let tree = before.config.validate()?;
    let bs = layout.block_size() as u64;
    let mut bad = stream_of_report(placement, &before);
    let mut fixes: Fixes = BTreeMap::new();
    let mut failed_rounds: BTreeSet<u64> = BTreeSet::new();
    let mut remaining: BTreeSet<u64> = bad.clone();
    let mut data_overlay = Overlay { base: data, block_size: bs, blocks: BTreeMap::new() };
    let mut hash_overlay = Overlay { base: hash, block_size: bs, blocks: BTreeMap::new() };
    // Each pass can reveal the blocks under a repaired hash block; the tree is at most
    // 63 levels deep.
    for _ in 0..70 {
        if bad.is_empty() {
            break;
        }
        let rounds: BTreeSet<u64> = bad.iter().map(|&b| b % layout.rounds()).collect();
        fixes.clear();
        failed_rounds.clear();
        for round in rounds {
            let mut decoded = decode_round(placement, data, hash, fec, round, &bad)?;
            if decoded.is_none() {
                // Blocks under a bad hash block may be bad too, unseen: try them as
                // erasures as well, when there is room.
                let mut wider = suspects(placement, &tree, &bad, round);
                if !wider.is_empty() {
                    wider.extend(bad.iter().filter(|&&b| b % layout.rounds() == round));
                    if wider.len() <= layout.roots() as usize {
                        decoded = decode_round(placement, data, hash, fec, round, &wider)?;
                    }
                }
            }
            match decoded {
                Some(blocks) => fixes.extend(blocks),
                None => {
                    failed_rounds.insert(round);
                }
            }
        }
        data_overlay.blocks.clear();
        hash_overlay.blocks.clear();
        for (block, bytes) in &fixes {
            match layout.locate(*block) {
                Source::Data(offset) => data_overlay.blocks.insert(offset, bytes.clone()),
                Source::Hash(offset) => hash_overlay.blocks.insert(offset, bytes.clone()),
                Source::Zero => None,
            };
        }
        let after = verify(&data_overlay, &hash_overlay, same_device, opts, root_hash, run)?;
        remaining = stream_of_report(placement, &after);
        let new: Vec<u64> = remaining.difference(&bad).copied().collect();
        if remaining.is_empty() || new.is_empty() {
            break;
        }
        bad.extend(new);
    }
    // A round that failed leaves all of its bad blocks bad, whatever the tree sees
    // below them.
    for &b in &bad {
        if failed_rounds.contains(&(b % layout.rounds())) {
            remaining.insert(b);
        }
    }
    // Only blocks the tree covers are ever written (it vouches for nothing else:
    // trailing bytes of the hash device are in the stream but not in the tree).
    let covered_end = layout.data_blocks() + tree.hash_blocks();
    fixes.retain(|block, _| *block < covered_end && !remaining.contains(block));
    let repaired: BTreeSet<u64> = fixes.keys().copied().collect();
    let (repairable_data_blocks, repairable_hash_blocks) = split_blocks(placement, repaired.iter().copied());
    let (unrepairable_data_blocks, unrepairable_hash_blocks) = split_blocks(placement, remaining.iter().copied());

    let mut parity_fixes = BTreeMap::new();
    if remaining.is_empty() {
        let comparer = ParityComparer {
            stored: fec,
            area_start: placement.offset,
            block_size: bs,
            mismatched: Mutex::new(BTreeMap::new()),
        };
        let options = EncodeOptions { backend: None, threads: run.threads, window_rounds: None };
        encode(&data_overlay, &hash_overlay, layout, &comparer, placement.offset, &options)?;
        parity_fixes = comparer.mismatched.into_inner().unwrap_or_else(|p| p.into_inner());
    }
    let report = RepairReport {
        before,
        repairable_data_blocks,
        repairable_hash_blocks,
        unrepairable_data_blocks,
        unrepairable_hash_blocks,
        parity_mismatch_blocks: parity_fixes.keys().copied().collect(),
        written: false,
    };
    Ok((report, fixes, parity_fixes))
}

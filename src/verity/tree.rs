//! The one tree walk behind both format and verify (libcryptsetup's
//! `create_or_verify` idea): the geometry and padding rules cannot drift apart.
//!
//! Each level is cut into runs of children. Worker threads take runs from a shared
//! counter, hash them, and either write the resulting hash-level bytes (build) or
//! compare them with the stored ones (verify). Memory stays at a few run buffers per
//! thread whatever the image size; the lower level is read back from the hash device.

use super::error::{Error, Result};
use super::hasher::{BlockHasher, SlotPlacement};
use super::layout::TreeLayout;
use super::params::HashType;
use super::stream::{self, Feed};
use crate::io::{BlockRead, BlockWrite};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Input bytes one worker hashes per run: large enough to amortise the bookkeeping,
/// small enough that two threads balance well on a few hundred MiB.
const RUN_INPUT_BYTES: u64 = 2 << 20;

/// Bytes one worker reads into its buffer and hashes at a time: the window stays in the
/// core's cache between the read and the hashing.
const READ_BYTES: u64 = 256 << 10;

/// Progress callback: `(bytes hashed so far, total bytes to hash)`. Calls come from the
/// worker threads one at a time; the count never decreases, and the last call gives the
/// total (the data plus the tree levels read back).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

pub(crate) struct Walk<'a> {
    pub layout: &'a TreeLayout,
    pub hasher: BlockHasher<'a>,
    pub data_block_size: u32,
    pub threads: usize,
    pub progress: Option<Progress<'a>>,
}

/// What a verification walk found.
#[derive(Debug)]
pub(crate) struct Mismatches {
    /// The blamed blocks, by tier: `tiers[0]` data blocks, `tiers[t]` (t ≥ 1) blocks of
    /// hash level t-1. A block is in its tier when its digest differs from its parent's
    /// slot (or from the root hash, for the top block), or its padding is not zero, while
    /// every block above it checked out. Indexes are within the tier, sorted and unique.
    ///
    /// The walk goes top down, so a mismatch under an already blamed block is never
    /// recorded: memory follows the size of the report, not of the damage.
    pub tiers: Vec<Vec<u64>>,
    /// How many children of the top hash block mismatched, blamed or not.
    pub top_children_mismatched: u64,
    /// True when the top hash block's padding is not zero.
    pub top_padding_bad: bool,
    /// The digest of the stored top hash block (of data block 0 when there is no
    /// tree): the root hash the stored tree has.
    pub stored_root: Vec<u8>,
    /// log2 of the digests per hash block, to find a block's ancestors.
    bits: u32,
}

/// Counts the hashed bytes over every worker and level, and reports them in order:
/// a report never shows fewer bytes than one before it, and the last one shows the
/// total.
struct Tally<'a> {
    done: AtomicU64,
    /// The largest count reported so far; reports are made under this lock.
    reported: Mutex<u64>,
    total: u64,
    progress: Option<Progress<'a>>,
}

impl Tally<'_> {
    fn add(&self, bytes: u64) {
        let so_far = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(progress) = self.progress {
            let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
            if so_far > *reported {
                *reported = so_far;
                progress(so_far, self.total);
            }
        }
    }
}

struct LevelInput<'a> {
    children: &'a dyn BlockRead,
    base: u64,
    child_size: usize,
}

enum Sink<'a> {
    Write(&'a dyn BlockWrite),
    /// Compare with the stored bytes; record only mismatches under trusted blocks.
    Compare(&'a Mismatches),
}

#[derive(Default)]
struct LevelFindings {
    bad_children: Vec<u64>,
    bad_padding: Vec<u64>,
    mismatched_children: u64,
}

impl Walk<'_> {
    /// The bytes the level walk hashes: the data, and every hash level but the top as
    /// the children of the level above (the top block is hashed once more, for the root,
    /// outside the walk).
    fn total_input_bytes(&self) -> u64 {
        let levels = self.layout.levels();
        let below_top: u64 = levels.iter().take(levels.len().saturating_sub(1)).map(|l| l.blocks).sum();
        let data = if levels.is_empty() { 0 } else { self.layout.data_blocks * self.data_block_size as u64 };
        data.saturating_add(below_top * self.layout.hash_block_size as u64)
    }

    fn tally(&self) -> Tally<'_> {
        Tally {
            done: AtomicU64::new(0),
            reported: Mutex::new(0),
            total: self.total_input_bytes(),
            progress: self.progress,
        }
    }

    fn level_input<'d>(&self, level: usize, data: &'d dyn BlockRead, hash: &'d dyn BlockRead) -> LevelInput<'d> {
        if level == 0 {
            LevelInput { children: data, base: 0, child_size: self.data_block_size as usize }
        } else {
            let below = self.layout.levels()[level - 1];
            LevelInput {
                children: hash,
                base: below.start_block * self.layout.hash_block_size as u64,
                child_size: self.layout.hash_block_size as usize,
            }
        }
    }

    /// Builds every level into `sink`, bottom up, and returns the root hash.
    pub fn build(&self, data: &dyn BlockRead, hash: &dyn BlockRead, sink: &dyn BlockWrite) -> Result<Vec<u8>> {
        let done = self.tally();
        for level in 0..self.layout.levels().len() {
            let input = self.level_input(level, data, hash);
            self.process_level(level, &input, hash, &Sink::Write(sink), &done)?;
        }
        self.root_hash(data, hash)
    }

    /// Recomputes every level from the stored bytes below it and compares, from the
    /// root down, so that each level knows which blocks above it are trusted.
    pub fn verify(&self, data: &dyn BlockRead, hash: &dyn BlockRead, root: &[u8]) -> Result<Mismatches> {
        let levels = self.layout.levels().len();
        let mut found = Mismatches {
            tiers: vec![Vec::new(); levels + 1],
            top_children_mismatched: 0,
            top_padding_bad: false,
            stored_root: self.root_hash(data, hash)?,
            bits: self.layout.hashes_per_block_bits,
        };
        if found.stored_root != root {
            found.tiers[levels].push(0);
        }
        let done = self.tally();
        for level in (0..levels).rev() {
            let input = self.level_input(level, data, hash);
            let level_found = self.process_level(level, &input, hash, &Sink::Compare(&found), &done)?;
            if level + 1 == levels {
                found.top_children_mismatched = level_found.mismatched_children;
                found.top_padding_bad = !level_found.bad_padding.is_empty();
            }
            // Bad padding blames a block of the level above, which may in turn make some
            // of this level's recorded children unjudgeable.
            for block in level_found.bad_padding {
                if found.trusted_above(level + 1, block) {
                    let tier = &mut found.tiers[level + 1];
                    if let Err(at) = tier.binary_search(&block) {
                        tier.insert(at, block);
                    }
                }
            }
            let mut children = level_found.bad_children;
            children.sort_unstable();
            children.dedup();
            children.retain(|&child| found.trusted_above(level, child));
            found.tiers[level] = children;
        }
        Ok(found)
    }

    fn root_hash(&self, data: &dyn BlockRead, hash: &dyn BlockRead) -> Result<Vec<u8>> {
        let mut scratch = Vec::new();
        let block = match self.layout.levels().last() {
            // A single data block has no tree: the root is that block's digest.
            None => data
                .read_view(0, self.data_block_size as usize, &mut scratch)
                .map_err(|e| Error::io("reading data block 0", e))?,
            Some(top) => {
                let size = self.layout.hash_block_size;
                hash.read_view(top.start_block * size as u64, size as usize, &mut scratch)
                    .map_err(|e| Error::io(format!("reading the top hash block {}", top.start_block), e))?
            }
        };
        self.hasher.digest_one(block)
    }

    fn run_length(&self, child_size: usize) -> u64 {
        let per_block = self.layout.hashes_per_block();
        let children = (RUN_INPUT_BYTES / child_size as u64).max(1);
        // Whole hash blocks per run keep writes block-aligned where the level allows.
        if children >= per_block { children / per_block * per_block } else { children }
    }

    fn process_level(
        &self,
        level: usize,
        input: &LevelInput<'_>,
        stored: &dyn BlockRead,
        sink: &Sink<'_>,
        done: &Tally<'_>,
    ) -> Result<LevelFindings> {
        let children = self.layout.children_of(level);
        let run = self.run_length(input.child_size);
        let runs = children.div_ceil(run);
        let workers = (self.threads.max(1) as u64).min(runs) as usize;
        let shared = LevelShared {
            runs,
            next_run: AtomicU64::new(0),
            finished_runs: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            first_error: Mutex::new(None),
            findings: Mutex::new(LevelFindings::default()),
        };
        let run_range = |index: u64| {
            let first = index * run;
            (first, (first + run).min(children))
        };
        let run_bytes = |index: u64| {
            let (first, last) = run_range(index);
            (input.base + first * input.child_size as u64, ((last - first) as usize) * input.child_size)
        };
        let work = |feed: Option<&Feed>| {
            let mut worker = RunWorker::new(self, level, input);
            while !shared.failed.load(Ordering::Relaxed) {
                let (index, prefetched) = match feed {
                    None => match shared.next_run.fetch_add(1, Ordering::Relaxed) {
                        index if index < runs => (index, None),
                        _ => break,
                    },
                    Some(feed) => match feed.next() {
                        Some((index, chunk)) => (index, Some(chunk)),
                        None => break,
                    },
                };
                let (first, last) = run_range(index);
                let processed = match prefetched {
                    None => worker.process(first, last, None, stored, sink),
                    Some(Ok(bytes)) => worker.process(first, last, Some(&bytes), stored, sink),
                    Some(Err(e)) => Err(worker.read_error(run_bytes(index).0, e)),
                };
                if let Err(err) = processed {
                    shared.fail(err);
                    break;
                }
                shared.finished_runs.fetch_add(1, Ordering::Relaxed);
                done.add((last - first) * input.child_size as u64);
            }
            let mut all = shared.findings.lock().unwrap_or_else(|p| p.into_inner());
            all.bad_children.append(&mut worker.findings.bad_children);
            all.bad_padding.append(&mut worker.findings.bad_padding);
            all.mismatched_children += worker.findings.mismatched_children;
        };
        let on_workers = |feed: Option<&Feed>| {
            if workers <= 1 {
                // One worker runs on the caller's thread: callback devices rely on that.
                work(feed);
            } else {
                std::thread::scope(|scope| {
                    // The caller's thread works too; if the system refuses more threads,
                    // the ones that started (at least this one) take every run.
                    for _ in 1..workers {
                        if std::thread::Builder::new().spawn_scoped(scope, || work(feed)).is_err() {
                            break;
                        }
                    }
                    work(feed);
                });
            }
        };
        // Only the data is streamed: the hash levels are a small fraction of it, and a
        // verify reads each one twice (as children, then as stored bytes), so they are
        // better kept in the page cache.
        let whole = input.base..input.base + children * input.child_size as u64;
        let streamed = level == 0
            && input.children.is_cold(whole)
            && stream::with_reader(input.children, runs, &run_bytes, (workers + 2).min(MAX_STREAM_BUFFERS), |feed| {
                on_workers(Some(feed))
            })
            .is_some();
        if !streamed {
            on_workers(None);
        }
        shared.into_findings()
    }
}

/// Hash bytes written back to the device at a time during a format.
const WRITEBACK_BYTES: u64 = 1 << 20;

/// Buffers of cold data read ahead, at most: 32 MiB, enough to keep 14 workers fed.
const MAX_STREAM_BUFFERS: usize = 16;

/// What the workers of one level share.
struct LevelShared {
    runs: u64,
    next_run: AtomicU64,
    finished_runs: AtomicU64,
    failed: AtomicBool,
    first_error: Mutex<Option<Error>>,
    findings: Mutex<LevelFindings>,
}

impl LevelShared {
    fn fail(&self, err: Error) {
        self.failed.store(true, Ordering::Relaxed);
        self.first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(err);
    }

    /// The findings, or the first error; a level some of whose runs were never hashed
    /// (a reader that stopped without saying why) is an error, never a result.
    fn into_findings(self) -> Result<LevelFindings> {
        if let Some(err) = self.first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(err);
        }
        let finished = self.finished_runs.into_inner();
        if finished != self.runs {
            return Err(Error::io(
                "reading the data",
                std::io::Error::other(format!("only {finished} of {} runs were read", self.runs)),
            ));
        }
        Ok(self.findings.into_inner().unwrap_or_else(|p| p.into_inner()))
    }
}

/// One thread's buffers for hashing runs of one level.
struct RunWorker<'w> {
    walk: &'w Walk<'w>,
    level: usize,
    input: &'w LevelInput<'w>,
    input_scratch: Vec<u8>,
    stored_scratch: Vec<u8>,
    out: Vec<u8>,
    findings: LevelFindings,
}

impl<'w> RunWorker<'w> {
    fn new(walk: &'w Walk<'w>, level: usize, input: &'w LevelInput<'w>) -> Self {
        RunWorker {
            walk,
            level,
            input,
            input_scratch: Vec::new(),
            stored_scratch: Vec::new(),
            out: Vec::new(),
            findings: LevelFindings::default(),
        }
    }

    fn hash_type(&self) -> HashType {
        self.walk.hasher.hash_type
    }

    fn read_error(&self, offset: u64, e: std::io::Error) -> Error {
        let what = if self.level == 0 { "data" } else { "hash" };
        Error::io(format!("reading {what} blocks at byte offset {offset}"), e)
    }

    /// Hashes children `first..last` into the bytes of the level they own, from
    /// `prefetched` (their bytes, read ahead) or read here.
    fn process(
        &mut self,
        first: u64,
        last: u64,
        prefetched: Option<&[u8]>,
        stored: &dyn BlockRead,
        sink: &Sink<'_>,
    ) -> Result<()> {
        let layout = self.walk.layout;
        let hash_type = self.hash_type();
        let level_base = layout.levels()[self.level].start_block * layout.hash_block_size as u64;
        let lo = layout.slot_offset(self.level, self.hash_type(), first);
        let hi = layout.slot_offset(self.level, self.hash_type(), last);
        self.out.clear();
        self.out.resize((hi - lo) as usize, 0);

        // The run is read in windows of READ_BYTES into this worker's buffer and each
        // window is hashed at once, while it is still in the core's cache.
        let child_size = self.input.child_size;
        let per_read = (READ_BYTES / child_size as u64).max(1);
        let mut start = first;
        while start < last {
            let end = (start + per_read).min(last);
            let offset = self.input.base + start * child_size as u64;
            let len = ((end - start) as usize) * child_size;
            let blocks = match prefetched {
                Some(run) => {
                    let at = ((start - first) as usize) * child_size;
                    &run[at..at + len]
                }
                None => match self.input.children.read_view(offset, len, &mut self.input_scratch) {
                    Ok(blocks) => blocks,
                    Err(e) => return Err(self.read_error(offset, e)),
                },
            };
            let placement = SlotPlacement {
                slot_size: layout.slot_size(hash_type),
                per_block: layout.hashes_per_block() as usize,
                hash_block_size: layout.hash_block_size as usize,
                first_slot: (start % layout.hashes_per_block()) as usize,
            };
            let at = (layout.slot_offset(self.level, hash_type, start) - lo) as usize;
            self.walk.hasher.digest_run(blocks, child_size, &mut self.out[at..], placement)?;
            start = end;
        }

        match sink {
            Sink::Write(target) => {
                let at = level_base + lo;
                target
                    .write_at(at, &self.out)
                    .map_err(|e| Error::io(format!("writing hash blocks at byte offset {at}"), e))?;
                // Each window the write reaches the end of goes to the device now, while the
                // walk goes on, rather than all of it in the final flush (5-9 ms per GiB
                // of data here, 2-4% of a format).
                let end = at + self.out.len() as u64;
                if at / WRITEBACK_BYTES != end / WRITEBACK_BYTES {
                    let window = end / WRITEBACK_BYTES * WRITEBACK_BYTES - WRITEBACK_BYTES;
                    target.start_writeback(window, WRITEBACK_BYTES);
                }
                Ok(())
            }
            Sink::Compare(above) => {
                let at = level_base + lo;
                let on_disk = stored
                    .read_view(at, self.out.len(), &mut self.stored_scratch)
                    .map_err(|e| Error::io(format!("reading hash blocks at byte offset {at}"), e))?;
                if on_disk != self.out.as_slice() {
                    let diff = Self::classify(layout, hash_type, self.level, lo, on_disk, &self.out);
                    self.findings.mismatched_children += diff.bad_children.len() as u64;
                    let level = self.level;
                    self.findings
                        .bad_children
                        .extend(diff.bad_children.into_iter().filter(|&c| above.trusted_above(level, c)));
                    self.findings.bad_padding.extend(diff.bad_padding);
                }
                Ok(())
            }
        }
    }

    /// Sorts each differing byte into "a child's digest differs" or "padding of a
    /// stored hash block is not zero".
    fn classify(
        layout: &TreeLayout,
        hash_type: HashType,
        level: usize,
        lo: u64,
        on_disk: &[u8],
        expected: &[u8],
    ) -> LevelFindings {
        let block = layout.hash_block_size as u64;
        let slot_size = layout.slot_size(hash_type) as u64;
        let per_block = layout.hashes_per_block();
        let children = layout.children_of(level);
        let mut found = LevelFindings::default();
        for (k, _) in on_disk.iter().zip(expected).enumerate().filter(|(_, (a, b))| a != b) {
            let pos = lo + k as u64;
            let (hash_block, within) = (pos / block, pos % block);
            let slot = within / slot_size;
            let child = hash_block * per_block + slot;
            let in_digest = slot < per_block && within % slot_size < layout.digest_size as u64 && child < children;
            let (list, value) =
                if in_digest { (&mut found.bad_children, child) } else { (&mut found.bad_padding, hash_block) };
            if list.last() != Some(&value) {
                list.push(value);
            }
        }
        found
    }
}

impl Mismatches {
    /// True when no block above `(tier, index)` is blamed.
    fn trusted_above(&self, tier: usize, index: u64) -> bool {
        let bits = self.bits;
        let top = self.tiers.len() - 1;
        (tier + 1..=top).all(|up| {
            let shift = bits.saturating_mul((up - tier) as u32);
            let ancestor = index.checked_shr(shift).unwrap_or(0);
            self.tiers[up].binary_search(&ancestor).is_err()
        })
    }

    /// The blamed blocks as (data block indexes, absolute hash block numbers). Below a
    /// failed hash block nothing can be judged, so a single flipped bit names exactly
    /// one block.
    pub fn blame(&self, layout: &TreeLayout) -> (Vec<u64>, Vec<u64>) {
        let mut data = Vec::new();
        let mut hash = Vec::new();
        for (tier, bad) in self.tiers.iter().enumerate() {
            for &index in bad.iter().filter(|&&i| self.trusted_above(tier, i)) {
                if tier == 0 {
                    data.push(index);
                } else {
                    hash.push(layout.levels()[tier - 1].start_block + index);
                }
            }
        }
        (data, hash)
    }
}

//! Whole-image FEC generation: reads the covered stream through [`BlockRead`], encodes
//! every round with a [`BatchEncoder`] on every core, and writes the parity area
//! through [`BlockWrite`], in bounded memory.
//!
//! Work is handed out in *windows* of consecutive rounds. Round n needs block
//! `i·rounds + n` of every column i, so a window n0..n1 needs, per column, the
//! contiguous stream blocks `i·rounds + n0 .. i·rounds + n1`: one read per column (two
//! where the column crosses from the data area into the hash area, none past the end
//! of the stream, which is zeros), instead of one read per block.
//!
//! Within a window the columns are read [`COLUMNS_PER_READ`] at a time, and each
//! round's codewords are continued through those rows ([`BatchEncoder::resume_rows`]):
//! between reads a worker keeps only the shift-register state of its window's rounds
//! (their parity, planar), so the input it holds at once is a few hundred KiB that
//! stays in L2 while it is encoded, whatever the image size. At the end of the window
//! the state is transposed to the file layout and written with one call (a window's
//! parity is one contiguous range of the parity area).
//!
//! Memory per worker: the window's state and parity (2 · window · roots · block_size,
//! at most about 2 MiB), and for sources that copy (`pread`) the input of one read
//! group (`COLUMNS_PER_READ · window · block_size`, about 512 KiB).

use super::backend::{BatchEncoder, FecBackend, transpose_planes};
use super::error::{FecError, Result};
use super::layout::{FecLayout, Source};
use crate::io::{BlockRead, BlockWrite};
use core::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How to run [`encode`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EncodeOptions {
    /// The backend, or `None` for the fastest this CPU runs.
    pub backend: Option<FecBackend>,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Rounds per unit of work; `None` picks at most 512 KiB of input per read group
    /// and 1 MiB of state per window (8 rounds of 4 KiB blocks). Capped at 64 MiB of
    /// state.
    pub window_rounds: Option<u64>,
}

/// What [`encode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOutcome {
    /// The backend that encoded.
    pub backend: FecBackend,
    /// Bytes of parity written (the whole parity area).
    pub parity_bytes: u64,
    /// Worker threads used.
    pub threads: usize,
}

/// Columns (message rows) read and encoded together: enough rows per call for the
/// kernels' tiles, few enough that their input stays in L2.
pub(crate) const COLUMNS_PER_READ: usize = 16;

/// Budget for one read group's input when the caller does not choose the window.
const READ_GROUP_BYTES: u64 = 512 << 10;

/// Budget for a window's shift-register state when the caller does not choose.
const STATE_BYTES: u64 = 1 << 20;

/// Most state a caller's window may ask for.
const MAX_WINDOW_BYTES: u64 = 64 << 20;

/// One column's input for a window: up to three runs (data, hash, zeros).
struct ColumnRun<'a> {
    blocks: Range<u64>,
    /// The run's bytes; `None` for zeros.
    bytes: Option<&'a [u8]>,
}

/// Generates the parity of `layout` and writes it to `out` at `parity_offset`.
///
/// `data` is read from offset 0 (the data area), `hash` from the first tree block to
/// the covered end ([`super::FecParams::hash_covered_end`]). Both must be at least that
/// long. The parity area must not overlap what is read, which the caller arranges (it
/// knows whether devices are the same); when `out` has a fixed capacity, the area must
/// fit in it. Nothing is written before these checks pass. The output is not flushed:
/// that is the caller's, once everything it writes is written. The parity is
/// byte-identical to `veritysetup format --fec-device`.
///
/// Sources that copy (`pread`, [`crate::io::FileDevice`]) measured faster here than a
/// memory map: the copies land in small, reused buffers that stay in cache, while a
/// map pays page-table set-up and teardown for every page.
pub fn encode(
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    layout: &FecLayout,
    out: &dyn BlockWrite,
    parity_offset: u64,
    options: &EncodeOptions,
) -> Result<EncodeOutcome> {
    let bs = layout.block_size() as u64;
    let data_end = layout.data_blocks() * bs;
    let hash_end = (layout.hash_start_block() + layout.hash_blocks()) * bs;
    let data_size = data.size().map_err(|e| FecError::io("reading the data device size", e))?;
    if data_size < data_end {
        return Err(FecError::InputTooShort { which: "data", needed: data_end, actual: data_size });
    }
    if layout.hash_blocks() > 0 {
        let hash_size = hash.size().map_err(|e| FecError::io("reading the hash device size", e))?;
        if hash_size < hash_end {
            return Err(FecError::InputTooShort { which: "hash", needed: hash_end, actual: hash_size });
        }
    }
    let parity_end = layout.parity_end(parity_offset)?;
    if let Some(capacity) = out.capacity().map_err(|e| FecError::io("reading the FEC device size", e))?
        && capacity < parity_end
    {
        return Err(FecError::OutputTooSmall { needed: parity_end, actual: capacity });
    }

    let encoder = BatchEncoder::new(layout.roots(), options.backend)?;
    let rounds = layout.rounds();
    let round_state = state_bytes(bs as usize, layout.roots() as usize) as u64;
    let window = options
        .window_rounds
        .unwrap_or_else(|| {
            let by_input = READ_GROUP_BYTES / (COLUMNS_PER_READ as u64 * bs);
            let by_state = STATE_BYTES / round_state;
            by_input.min(by_state)
        })
        // A caller's window is capped so that its buffers stay allocatable.
        .min(MAX_WINDOW_BYTES / round_state)
        .clamp(1, rounds.max(1));
    // With at least one round, both buffers are below MAX_WINDOW_BYTES or one round.
    let window_parity = usize::try_from(window * layout.round_parity_bytes())
        .map_err(|_| FecError::Overflow("the parity buffer of a window"))?;
    usize::try_from(window * round_state).map_err(|_| FecError::Overflow("the state of a window"))?;
    let units = rounds.div_ceil(window);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = options.threads.unwrap_or(cores).clamp(1, cores).min(units.max(1) as usize);

    let next_unit = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<FecError>> = Mutex::new(None);
    let worker = Worker { data, hash, layout, out, parity_offset, encoder: &encoder };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut buffers = WorkerBuffers::new(layout, window as usize, window_parity);
                loop {
                    let unit = next_unit.fetch_add(1, Ordering::Relaxed);
                    if unit >= units || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let start = unit * window;
                    if let Err(e) = worker.run(start..(start + window).min(rounds), &mut buffers) {
                        failed.store(true, Ordering::Relaxed);
                        let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert(e);
                        break;
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(EncodeOutcome { backend: encoder.backend(), parity_bytes: layout.parity_bytes(), threads })
}

/// What every worker shares.
struct Worker<'a> {
    data: &'a dyn BlockRead,
    hash: &'a dyn BlockRead,
    layout: &'a FecLayout,
    out: &'a dyn BlockWrite,
    parity_offset: u64,
    encoder: &'a BatchEncoder,
}

/// One worker's memory, reused for every window.
struct WorkerBuffers {
    /// Per column of a read group: buffers for its data run and its hash run (used
    /// only by sources that copy, such as `pread`).
    scratch: Vec<[Vec<u8>; 2]>,
    /// The window's shift-register state, planar per round.
    state: Vec<u8>,
    /// The window's parity in the file layout.
    parity: Vec<u8>,
    zeros: Vec<u8>,
}

/// Padding between the state planes of a round.
const STATE_PAD: usize = 64;

/// Bytes of one round's planar state: `roots` planes `block_size + STATE_PAD` apart.
fn state_bytes(block_size: usize, roots: usize) -> usize {
    (block_size + STATE_PAD) * roots
}

impl WorkerBuffers {
    fn new(layout: &FecLayout, window: usize, parity_bytes: usize) -> Self {
        let (bs, roots) = (layout.block_size() as usize, layout.roots() as usize);
        WorkerBuffers {
            scratch: (0..COLUMNS_PER_READ).map(|_| [Vec::new(), Vec::new()]).collect(),
            state: vec![0; window * state_bytes(bs, roots)],
            parity: vec![0; parity_bytes],
            zeros: vec![0; layout.block_size() as usize],
        }
    }
}

impl Worker<'_> {
    /// Reads, encodes and writes rounds `rounds`.
    fn run(&self, rounds: Range<u64>, buffers: &mut WorkerBuffers) -> Result<()> {
        let layout = self.layout;
        let bs = layout.block_size() as usize;
        let roots = layout.roots() as usize;
        let round_parity = bs * roots;
        // Planes one cache line more than a block apart: 4 KiB apart they would share
        // cache sets.
        let stride = bs + STATE_PAD;
        let round_state = state_bytes(bs, roots);
        let count = (rounds.end - rounds.start) as usize;
        let WorkerBuffers { scratch, state, parity, zeros } = buffers;
        let state = &mut state[..count * round_state];
        state.fill(0);

        let rsn = layout.rsn() as usize;
        for first in (0..rsn).step_by(COLUMNS_PER_READ) {
            let columns = first..(first + COLUMNS_PER_READ).min(rsn);
            let mut runs: [[Option<ColumnRun<'_>>; 3]; COLUMNS_PER_READ] = Default::default();
            for ((symbol, [data_buf, hash_buf]), column_runs) in
                columns.clone().zip(scratch.iter_mut()).zip(runs.iter_mut())
            {
                let mut data_buf = Some(data_buf);
                let mut hash_buf = Some(hash_buf);
                for (slot, segment) in
                    column_runs.iter_mut().zip(layout.column_segments(symbol as u32, rounds.clone())?)
                {
                    let len = (segment.blocks.end - segment.blocks.start) as usize * bs;
                    let bytes = match segment.source {
                        Source::Zero => None,
                        Source::Data(offset) => {
                            let buf = data_buf.take().ok_or(FecError::Overflow("the data runs of a column"))?;
                            Some(self.data.read_view(offset, len, buf).map_err(|e| {
                                FecError::io(format!("reading {len} bytes of the data device at offset {offset}"), e)
                            })?)
                        }
                        Source::Hash(offset) => {
                            let buf = hash_buf.take().ok_or(FecError::Overflow("the hash runs of a column"))?;
                            Some(self.hash.read_view(offset, len, buf).map_err(|e| {
                                FecError::io(format!("reading {len} bytes of the hash device at offset {offset}"), e)
                            })?)
                        }
                    };
                    *slot = Some(ColumnRun { blocks: segment.blocks, bytes });
                }
            }

            // Continue every round of the window through this group's rows.
            let group = columns.len();
            let mut rows: [&[u8]; COLUMNS_PER_READ] = [&[]; COLUMNS_PER_READ];
            for (index, round) in rounds.clone().enumerate() {
                for ((row, symbol), column_runs) in rows.iter_mut().zip(columns.clone()).zip(&runs) {
                    let block = symbol as u64 * layout.rounds() + round;
                    let run = column_runs
                        .iter()
                        .flatten()
                        .find(|r| r.blocks.contains(&block))
                        .ok_or(FecError::Overflow("a column run"))?;
                    *row = match run.bytes {
                        None => zeros.as_slice(),
                        Some(bytes) => {
                            let at = (block - run.blocks.start) as usize * bs;
                            &bytes[at..at + bs]
                        }
                    };
                }
                let planes = &mut state[index * round_state..(index + 1) * round_state];
                self.encoder.resume_rows(&rows[..group], bs, planes, stride)?;
            }
        }

        let parity = &mut parity[..count * round_parity];
        for (planes, out) in state.chunks_exact(round_state).zip(parity.chunks_exact_mut(round_parity)) {
            transpose_planes(layout.roots(), planes, stride, bs, out)?;
        }
        let offset = self.parity_offset + rounds.start * round_parity as u64;
        self.out
            .write_at(offset, parity)
            .map_err(|e| FecError::io(format!("writing FEC parity at offset {offset}"), e))?;
        Ok(())
    }
}

//! Cold data, read ahead of the hashing. When a level's input is not in memory, the
//! walk's workers do not read it themselves: parallel readers of one device fight its
//! read-ahead, and a worker that reads then hashes leaves the device idle while it
//! hashes. Instead [`READERS`] threads read the runs in order, with large uncached reads
//! ([`BlockRead::read_uncached`]: `O_DIRECT` on files and block devices) into a few
//! page-aligned buffers, and the workers hash each run as it arrives and hand its buffer
//! back. The device then sees one sequential stream, as `dd iflag=direct` gives it, with
//! the next request already queued while one completes, and memory stays at the buffers
//! however large the image.

use crate::io::{BlockRead, PageBuf};
use std::io;
use std::ops::Deref;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// The byte range of one run: `(offset, length)`.
pub(crate) type RunBytes<'a> = &'a (dyn Fn(u64) -> (u64, usize) + Sync);

/// One run's bytes, lent to a worker; the buffer goes back to the reader when dropped.
pub(crate) struct Chunk<'f> {
    buf: Option<PageBuf>,
    free: &'f SyncSender<PageBuf>,
}

impl Deref for Chunk<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.buf.as_ref().map_or(&[], PageBuf::bytes)
    }
}

impl Drop for Chunk<'_> {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            // The reader may have stopped already; then the buffer is simply freed.
            let _ = self.free.send(buf);
        }
    }
}

/// The workers' end: runs in the order they were read, each with its bytes or the error
/// that stopped the reader.
pub(crate) struct Feed {
    filled: Mutex<Receiver<(u64, io::Result<PageBuf>)>>,
    free: SyncSender<PageBuf>,
}

impl Feed {
    /// The next run, or `None` when every run was handed out or the reader stopped.
    pub(crate) fn next(&self) -> Option<(u64, io::Result<Chunk<'_>>)> {
        let (index, read) = self.filled.lock().unwrap_or_else(|p| p.into_inner()).recv().ok()?;
        Some((index, read.map(|buf| Chunk { buf: Some(buf), free: &self.free })))
    }
}

/// Reads in flight at once: while one completes and its thread waits for a core (busy
/// hashing), the device already works on the next, so it never idles.
const READERS: usize = 2;

/// Runs `body` with a [`Feed`] of runs `0..count` of `source` (`run_bytes` gives each
/// one's range, run 0 the longest), read in order by [`READERS`] threads of their own
/// into up to `buffers` buffers allocated here. `None`, without calling `body`, when no
/// reader thread can be started or fewer than [`READERS`] buffers can be mapped (a tight
/// `ulimit -v`): the caller then reads as usual, through windows far smaller than a run.
pub(crate) fn with_reader<R>(
    source: &dyn BlockRead,
    count: u64,
    run_bytes: RunBytes<'_>,
    buffers: usize,
    body: impl FnOnce(&Feed) -> R,
) -> Option<R> {
    // Both channels hold every buffer, so no send ever blocks, and neither allocates
    // after this: the buffers are allocated here, on the caller's thread, and the reader
    // threads allocate nothing, so they never get an allocator arena of their own (64 MiB
    // of address space each with glibc; the caller may run under `ulimit -v`).
    let buffers = buffers.max(READERS);
    let (filled_tx, filled_rx) = sync_channel(buffers);
    let (free_tx, free_rx) = sync_channel(buffers);
    let longest = run_bytes(0).1;
    let mut mapped = 0;
    while mapped < buffers {
        let Ok(buf) = PageBuf::with_capacity(longest) else { break };
        let _ = free_tx.send(buf);
        mapped += 1;
    }
    if mapped < READERS {
        return None;
    }
    let shared = Readers {
        source,
        count,
        run_bytes,
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        free: Mutex::new(free_rx),
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..READERS {
            let filled = filled_tx.clone();
            let reader = || shared.read_in_order(filled);
            if std::thread::Builder::new().name("rootseal-read".into()).spawn_scoped(scope, reader).is_ok() {
                started += 1;
            }
        }
        drop(filled_tx);
        let feed = Feed { filled: Mutex::new(filled_rx), free: free_tx };
        let result = (started > 0).then(|| body(&feed));
        // Dropping the workers' end wakes a reader waiting for a buffer: it stops.
        shared.stop.store(true, Ordering::Relaxed);
        drop(feed);
        result
    })
}

/// What the reader threads share: the next run to read, and the free buffers.
struct Readers<'a> {
    source: &'a dyn BlockRead,
    count: u64,
    run_bytes: RunBytes<'a>,
    next: AtomicU64,
    stop: AtomicBool,
    free: Mutex<Receiver<PageBuf>>,
}

impl Readers<'_> {
    fn read_in_order(&self, filled: SyncSender<(u64, io::Result<PageBuf>)>) {
        while !self.stop.load(Ordering::Relaxed) {
            // A buffer first, then a run: runs are then taken in the order they are read.
            let Ok(mut buf) = self.free.lock().unwrap_or_else(|p| p.into_inner()).recv() else {
                return;
            };
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            if index >= self.count || self.stop.load(Ordering::Relaxed) {
                return;
            }
            let (offset, len) = (self.run_bytes)(index);
            let read = self.source.read_uncached(offset, len, &mut buf).map(|()| buf);
            if read.is_err() {
                // The error is handed out; the other readers stop at their next run.
                self.stop.store(true, Ordering::Relaxed);
            }
            if filled.send((index, read)).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_run_arrives_once_with_its_bytes() {
        let source: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let run = |index: u64| (index * 4096, if index == 24 { 100_000 - 24 * 4096 } else { 4096 });
        let mut seen = with_reader(&source, 25, &run, 3, |feed| {
            let mut seen = Vec::new();
            while let Some((index, chunk)) = feed.next() {
                let chunk = chunk.unwrap();
                let (offset, len) = run(index);
                assert_eq!(&*chunk, &source[offset as usize..offset as usize + len]);
                seen.push(index);
            }
            seen
        })
        .unwrap();
        // Two readers: a run may overtake the one before it.
        seen.sort_unstable();
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_read_is_handed_out_and_stops_the_reader() {
        let source = vec![0u8; 10 * 4096];
        // Run 3 reaches past the end.
        let run = |index: u64| (index * 4096, if index == 3 { 40 * 4096 } else { 4096 });
        let (ok, failed) = with_reader(&source, 10, &run, 2, |feed| {
            let (mut ok, mut failed) = (BTreeSet::new(), Vec::new());
            while let Some((index, chunk)) = feed.next() {
                match chunk {
                    Ok(_) => ok.insert(index),
                    Err(_) => {
                        failed.push(index);
                        true
                    }
                };
            }
            (ok, failed)
        })
        .unwrap();
        // The other reader may finish the run after the failed one before it stops.
        assert!(ok.is_superset(&BTreeSet::from([0, 1, 2])) && !ok.contains(&3), "{ok:?}");
        assert_eq!(failed, vec![3]);
    }

    #[test]
    fn buffers_that_cannot_be_mapped_leave_the_reading_to_the_caller() {
        let source = vec![0u8; 4096];
        // No address space holds a run this long: not one buffer can be mapped.
        let run = |index: u64| (index * 4096, usize::MAX / 4);
        let called = with_reader(&source, 1, &run, 3, |_| ());
        assert_eq!(called, None);
    }

    #[test]
    fn workers_that_stop_early_do_not_hang_the_reader() {
        let source = vec![0u8; 64 * 4096];
        let run = |index: u64| (index * 4096, 4096);
        // Keep two chunks and stop: the reader is left waiting for a buffer.
        let taken = with_reader(&source, 64, &run, 2, |feed| {
            let first = feed.next().unwrap().0;
            let second = feed.next().unwrap().0;
            (first, second)
        });
        assert_eq!(taken, Some((0, 1)));
    }
}

//! dm-verity hash trees, byte-identical to cryptsetup's `veritysetup`.
//!
//! [`format()`] builds a tree (and optionally the 512-byte superblock) for a data device;
//! [`verify()`] recomputes it and names every corrupted data and hash block;
//! [`verify_range`] checks only the blocks under a byte range, as a bootloader checking
//! the kernel it loads would; [`kernel_table`]
//! prints the `dmsetup` table line. Both work over the [`crate::io`] traits, and
//! [`format_paths`] / [`verify_paths`] wrap them for files and block devices (read with
//! `pread` in bounded windows, hashed on every core). [`usrhash`] reads and writes the
//! root hash Flatcar stores in the kernel image for its GRUB.
//!
//! ```
//! use rootseal::io::MemoryDevice;
//! use rootseal::verity::{self, RunOptions, VerityOptions};
//!
//! let data = vec![0x5au8; 64 * 4096];
//! let hash = MemoryDevice::default();
//! let opts = VerityOptions { salt: Some(vec![]), no_superblock: true, ..Default::default() };
//! let built = verity::format(&data, &hash, false, &opts, &RunOptions::default()).unwrap();
//! let report = verity::verify(&data, &hash, false, &opts, &built.root_hash, &RunOptions::default()).unwrap();
//! assert!(report.is_intact());
//! ```

mod backend;
mod config;
mod device;
mod error;
mod evp;
pub mod fec;
mod files;
mod hasher;
pub mod layout;
mod params;
mod range;
pub mod range_walk;
mod roothash;
mod stream;
pub mod superblock;
mod table;
mod tree;
pub mod usrhash;
mod usrhash_file;
pub mod verified_read;
mod verified_reader;
mod warning;

pub use backend::{HASH_BACKEND_ENV, HashBackend, HashChoice, HashedBy, SaltedMultiHasher, fastest_hash_backend};
pub use config::{TreeRandomness, resolve_existing_config_with, resolve_new_config};
pub use device::{read_superblock, resolve_existing_config};
pub use error::{Error, HexInput, Result};
pub use files::{
    config_from_paths, format_paths, read_paths, table_config_from_paths, verify_paths, verify_range_paths,
};
pub use layout::{Level, TreeLayout};
pub use params::{
    DEFAULT_BLOCK_SIZE, DEFAULT_SALT_SIZE, HashAlgorithm, HashType, MAX_BLOCK_SIZE, MAX_SALT_SIZE, MIN_BLOCK_SIZE,
    SUPERBLOCK_SIZE, VerityConfig, VerityOptions, check_digest_length, parse_hash_algorithm, parse_salt, parse_uuid,
};
pub use range::verify_range;
pub use roothash::{check_root_hash_file_target, parse_root_hash, read_root_hash_file, write_root_hash_file};
pub use table::{CorruptionMode, FecTable, TableOptions, kernel_table};
pub use tree::Progress;
pub use usrhash_file::{KernelUsrHash, read_usrhash_path, write_usrhash_path};
pub use verified_reader::{CorruptBlock, VerifiedReader};
pub use warning::Warning;

use crate::io::{BlockDevice, BlockRead};
use device::{check_devices, device_size, invalidate_old_superblock, prepare_verify};
use hasher::{BlockHasher, SaltedDigests};

/// How to run a walk: thread count, progress callback, and who computes the digests.
#[derive(Clone, Default)]
pub struct RunOptions<'a> {
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Called with `(bytes hashed, total bytes)` as work completes, from worker threads.
    pub progress: Option<Progress<'a>>,
    /// The hashing backend, or FIPS mode; the default is the fastest backend.
    pub hashing: HashChoice,
}

impl RunOptions<'_> {
    /// The requested count, capped at the number of cores: more threads than cores only
    /// cost memory (each holds a few MiB of run buffers).
    fn thread_count(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.threads.unwrap_or(cores).clamp(1, cores)
    }
}

/// The result of [`format()`].
#[derive(Debug, Clone)]
pub struct FormatOutcome {
    /// The parameters used, with the generated salt and UUID filled in.
    pub config: VerityConfig,
    /// Where the tree went.
    pub layout: TreeLayout,
    /// The root hash.
    pub root_hash: Vec<u8>,
    /// What computed the digests.
    pub hashed_by: HashedBy,
    /// Things the caller should tell the user.
    pub warnings: Vec<Warning>,
}

/// The result of [`verify()`]: which blocks are corrupt, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The parameters verified against (from the superblock when there is one).
    pub config: VerityConfig,
    /// Data blocks whose digest does not match a trusted hash block, by index.
    pub corrupted_data_blocks: Vec<u64>,
    /// Hash blocks that do not match a trusted parent (or the root hash, for the top
    /// block), or whose padding is not zero. Numbered like the kernel's "metadata
    /// block": hash-block units from the start of the hash device.
    pub corrupted_hash_blocks: Vec<u64>,
    /// `Some(stored root hash)` when every block matches the tree but the tree's root
    /// hash is not the one given: a wrong root hash, not a corrupt image. The block
    /// lists are then empty. Only a full [`verify()`] tells this case apart, and only
    /// for a tree with at least one hash level.
    pub root_hash_mismatch: Option<Vec<u8>>,
    /// What computed the digests.
    pub hashed_by: HashedBy,
    /// Things the caller should tell the user.
    pub warnings: Vec<Warning>,
}

impl VerifyReport {
    /// True when every block matched and the root hash is the one given.
    pub fn is_intact(&self) -> bool {
        self.corrupted_data_blocks.is_empty()
            && self.corrupted_hash_blocks.is_empty()
            && self.root_hash_mismatch.is_none()
    }
}

/// Builds the tree for `data` on `hash`. Everything is validated before the first
/// write. `same_device` says that data and hash are one device (the areas must then
/// not overlap). A salt or UUID the options leave open is drawn from the OS.
pub fn format(
    data: &dyn BlockRead,
    hash: &dyn BlockDevice,
    same_device: bool,
    opts: &VerityOptions,
    run: &RunOptions<'_>,
) -> Result<FormatOutcome> {
    let data_size = device_size(data, "data")?;
    let (config, warnings) = resolve_new_config(opts, data_size, &TreeRandomness::from_os()?)?;
    format_config(data, hash, same_device, config, warnings, run)
}

/// [`format()`] with the configuration already resolved.
pub(crate) fn format_config(
    data: &dyn BlockRead,
    hash: &dyn BlockDevice,
    same_device: bool,
    config: VerityConfig,
    mut warnings: Vec<Warning>,
    run: &RunOptions<'_>,
) -> Result<FormatOutcome> {
    let data_size = device_size(data, "data")?;
    let layout = config.validate()?;
    check_devices(&config, &layout, data_size, same_device)?;
    let needed = layout.hash_end_bytes()?;
    if let Some(capacity) = hash.capacity().map_err(|e| Error::io("reading the hash device size", e))?
        && capacity < needed
    {
        return Err(Error::HashDeviceTooSmall { needed, actual: capacity });
    }

    // The backend is chosen (and a forced one checked) before anything is written.
    let (multi, hashed_by) =
        SaltedMultiHasher::for_tree(config.hash_algorithm, config.hash_type, &config.salt, &run.hashing)?;
    let hasher = block_hasher(&config, multi.as_ref());
    if config.superblock_uuid.is_some() {
        invalidate_old_superblock(hash, config.hash_offset)?;
    }
    let walk = tree::Walk {
        layout: &layout,
        hasher,
        data_block_size: config.data_block_size,
        threads: run.thread_count(),
        progress: run.progress,
    };
    let root_hash = walk.build(data, hash, hash)?;
    // No tree is described as valid for data that changed while it was read.
    unchanged(data, "data")?;

    // The superblock goes last, so an interrupted format never looks like a valid one.
    // Its 512 bytes are written as veritysetup writes them: a read-modify-write of one
    // I/O block (the hash block, at most 4096 bytes), so the rest of that block keeps
    // what the hash device held, and a file that ended inside it now ends after it.
    if config.superblock_uuid.is_some() {
        hash.write_at(config.hash_offset, &superblock::encode(&config)?)
            .map_err(|e| Error::io(format!("writing the superblock at offset {}", config.hash_offset), e))?;
        let io_block = u64::from(config.hash_block_size.min(4096));
        let block_end = (config.hash_offset.checked_add(SUPERBLOCK_SIZE))
            .and_then(|end| end.checked_next_multiple_of(io_block))
            .ok_or(Error::Overflow("the superblock block"))?;
        grow_to(hash, block_end)?;
    }
    hash.flush().map_err(|e| Error::io("flushing the hash device", e))?;
    let written = device_size(hash, "hash")?;
    if written < needed {
        warnings.push(Warning::HashDeviceShorterThanTable { needed, actual: written });
    }
    Ok(FormatOutcome { config, layout, root_hash, hashed_by, warnings })
}

/// Grows a hash file that ends before `end` with zeros up to it; bytes already there
/// stay, and a device of fixed size is left alone. Used for the block around the
/// superblock, so the gap is less than one I/O block.
fn grow_to(hash: &dyn BlockDevice, end: u64) -> Result<()> {
    if hash.capacity().map_err(|e| Error::io("reading the hash device size", e))?.is_some() {
        return Ok(());
    }
    let size = device_size(hash, "hash")?;
    if size >= end {
        return Ok(());
    }
    let gap = usize::try_from(end - size).map_err(|_| Error::Overflow("the superblock block"))?;
    hash.write_at(size, &vec![0; gap]).map_err(|e| Error::io(format!("growing the hash device to {end} bytes"), e))
}

/// Fails with the source's "changed while reading" error when it changed since it was
/// opened (a file truncated, grown or rewritten under the walk).
pub(crate) fn unchanged(source: &dyn BlockRead, what: &str) -> Result<()> {
    source.check_unchanged().map_err(|e| Error::io(format!("reading the {what} device"), e))
}

/// The block hasher of `config`, over the backend `multi` (None: the portable code).
fn block_hasher<'a>(config: &'a VerityConfig, multi: Option<&'a SaltedMultiHasher>) -> BlockHasher<'a> {
    BlockHasher::new(config.hash_algorithm, config.hash_type, &config.salt, multi.map(|m| m as &dyn SaltedDigests))
}

/// Recomputes the tree of `data` and compares it with `hash` and `root_hash`.
/// Corruption is reported in the [`VerifyReport`], not as an error.
pub fn verify(
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    same_device: bool,
    opts: &VerityOptions,
    root_hash: &[u8],
    run: &RunOptions<'_>,
) -> Result<VerifyReport> {
    let (config, layout, mut warnings) = prepare_verify(data, hash, same_device, opts, root_hash)?;
    let (multi, hashed_by) =
        SaltedMultiHasher::for_tree(config.hash_algorithm, config.hash_type, &config.salt, &run.hashing)?;
    let walk = tree::Walk {
        layout: &layout,
        hasher: block_hasher(&config, multi.as_ref()),
        data_block_size: config.data_block_size,
        threads: run.thread_count(),
        progress: run.progress,
    };
    let found = walk.verify(data, hash, root_hash)?;
    unchanged(data, "data")?;
    unchanged(hash, "hash")?;
    let (corrupted_data_blocks, mut corrupted_hash_blocks) = found.blame(&layout);
    let mut root_hash_mismatch = None;
    if let Some(top) = layout.levels().last()
        && corrupted_hash_blocks == [top.start_block]
        && corrupted_data_blocks.is_empty()
    {
        let children = layout.children_of(layout.levels().len() - 1);
        if found.top_children_mismatched == 0 && !found.top_padding_bad {
            // Every block checks out against the stored tree: the given root is wrong,
            // the image is not corrupt.
            corrupted_hash_blocks.clear();
            root_hash_mismatch = Some(found.stored_root);
        } else if found.top_children_mismatched == children {
            warnings.push(Warning::NothingMatches);
        }
    }
    Ok(VerifyReport { config, corrupted_data_blocks, corrupted_hash_blocks, root_hash_mismatch, hashed_by, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{BlockWrite, MemoryDevice};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A memory device whose writes start failing after a number of calls.
    struct FailingDevice {
        inner: MemoryDevice,
        writes_left: AtomicUsize,
    }

    impl BlockRead for FailingDevice {
        fn size(&self) -> std::io::Result<u64> {
            self.inner.size()
        }
        fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> std::io::Result<&'a [u8]> {
            self.inner.read_view(offset, len, scratch)
        }
    }

    impl BlockWrite for FailingDevice {
        fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            let allowed = self.writes_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            match allowed {
                Ok(_) => self.inner.write_at(offset, data),
                Err(_) => Err(std::io::Error::other("simulated power cut")),
            }
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn capacity(&self) -> std::io::Result<Option<u64>> {
            Ok(None)
        }
    }

    /// An interrupted re-format must not leave the old superblock looking valid over a
    /// half-rewritten tree.
    #[test]
    fn interrupted_reformat_invalidates_the_old_superblock() {
        let data = vec![0x3cu8; 512 * 4096];
        let opts = VerityOptions { salt: Some(vec![1; 32]), ..Default::default() };
        let first = MemoryDevice::default();
        format(&data, &first, false, &opts, &RunOptions::default()).unwrap();
        assert!(read_superblock(&first, 0).is_ok());

        // Only the write that clears the old signature gets through.
        let device = FailingDevice { inner: MemoryDevice::new(first.into_inner()), writes_left: AtomicUsize::new(1) };
        let other = VerityOptions { salt: Some(vec![2; 32]), ..opts };
        assert!(matches!(format(&data, &device, false, &other, &RunOptions::default()), Err(Error::Io { .. })));
        assert!(matches!(read_superblock(&device, 0), Err(Error::NoSuperblock { .. })));
    }

    /// Progress counts exactly the bytes hashed (the data and the leaf level read back
    /// for the top block), never goes backwards with two workers, and ends at the total.
    #[test]
    fn progress_is_monotonic_and_ends_at_the_bytes_hashed() {
        // 16384 data blocks: 128 leaf blocks under one top block.
        let data = vec![0x5au8; 16384 * 4096];
        let opts = VerityOptions { salt: Some(vec![7; 32]), ..Default::default() };
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |done: u64, total: u64| seen.lock().unwrap().push((done, total));
        let run = RunOptions { threads: Some(2), progress: Some(&record), ..Default::default() };
        let hash = MemoryDevice::default();
        let outcome = format(&data, &hash, false, &opts, &run).unwrap();
        let expected_total = 16384 * 4096 + 128 * 4096;
        let format_calls = std::mem::take(&mut *seen.lock().unwrap());
        verify(&data, &hash, false, &opts, &outcome.root_hash, &run).unwrap();
        let verify_calls = std::mem::take(&mut *seen.lock().unwrap());
        for calls in [format_calls, verify_calls] {
            assert!(calls.len() > 2, "{calls:?}");
            assert!(calls.iter().all(|&(_, total)| total == expected_total), "{calls:?}");
            assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "progress went backwards: {calls:?}");
            assert_eq!(calls.last().unwrap().0, expected_total);
        }
    }
    /// A memory source that says it is cold, counting how its bytes were read, and
    /// failing the uncached read of one offset if asked.
    struct ColdMemory {
        bytes: Vec<u8>,
        uncached_reads: AtomicUsize,
        uncached_bytes: AtomicUsize,
        fail_at: Option<u64>,
    }

    impl ColdMemory {
        fn new(bytes: Vec<u8>, fail_at: Option<u64>) -> Self {
            ColdMemory { bytes, uncached_reads: AtomicUsize::new(0), uncached_bytes: AtomicUsize::new(0), fail_at }
        }
    }

    impl BlockRead for ColdMemory {
        fn size(&self) -> std::io::Result<u64> {
            self.bytes.size()
        }
        fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> std::io::Result<&'a [u8]> {
            self.bytes.read_view(offset, len, scratch)
        }
        fn is_cold(&self, _: std::ops::Range<u64>) -> bool {
            true
        }
        fn read_uncached(&self, offset: u64, len: usize, buf: &mut crate::io::PageBuf) -> std::io::Result<()> {
            if self.fail_at == Some(offset) {
                return Err(std::io::Error::other("simulated media error"));
            }
            self.uncached_reads.fetch_add(1, Ordering::Relaxed);
            self.uncached_bytes.fetch_add(len, Ordering::Relaxed);
            buf.region(len)?[..len].copy_from_slice(&self.bytes[offset as usize..offset as usize + len]);
            buf.set_len(len);
            Ok(())
        }
    }

    /// Cold data is streamed (every data byte read once, uncached, in runs) and gives the
    /// same tree and the same verdicts as warm data, on one worker and on four; a failed
    /// uncached read is an error, never a result.
    #[test]
    fn cold_data_streams_to_the_same_tree_and_verdicts() {
        // 5000 blocks: nine full runs of 512 blocks (2 MiB) and a short one.
        let mut bytes: Vec<u8> = (0..5000u32 * 4096).map(|i| (i.wrapping_mul(2654435761) >> 9) as u8).collect();
        // No superblock: its UUID would be a new random one each time.
        let opts = VerityOptions { salt: Some(vec![9; 32]), no_superblock: true, ..Default::default() };
        let warm_hash = MemoryDevice::default();
        let warm = format(&bytes, &warm_hash, false, &opts, &RunOptions::default()).unwrap();
        let warm_hash = warm_hash.into_inner();
        for threads in [1, 4] {
            let run = RunOptions { threads: Some(threads), ..Default::default() };
            let cold = ColdMemory::new(bytes.clone(), None);
            let hash = MemoryDevice::default();
            let built = format(&cold, &hash, false, &opts, &run).unwrap();
            assert_eq!(built.root_hash, warm.root_hash);
            assert_eq!(cold.uncached_reads.load(Ordering::Relaxed), 10);
            assert_eq!(cold.uncached_bytes.load(Ordering::Relaxed), bytes.len());
            let hash = hash.into_inner();
            assert!(hash == warm_hash, "the streamed tree differs");
            assert!(verify(&cold, &hash, false, &opts, &built.root_hash, &run).unwrap().is_intact());

            bytes[4321 * 4096 + 7] ^= 0x10;
            let flipped = ColdMemory::new(bytes.clone(), None);
            let report = verify(&flipped, &hash, false, &opts, &built.root_hash, &run).unwrap();
            assert_eq!(report.corrupted_data_blocks, vec![4321]);
            bytes[4321 * 4096 + 7] ^= 0x10;

            let failing = ColdMemory::new(bytes.clone(), Some(2 << 20));
            let err = verify(&failing, &hash, false, &opts, &built.root_hash, &run).unwrap_err();
            assert!(err.to_string().contains("simulated media error"), "{err}");
            let err = format(&failing, &MemoryDevice::default(), false, &opts, &run).unwrap_err();
            assert!(err.to_string().contains("simulated media error"), "{err}");
        }
    }
}

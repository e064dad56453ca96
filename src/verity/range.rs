//! Verification of a byte range of the data only, the way the kernel checks a block on
//! read and a bootloader checks the kernel image it loads: each data block's digest is
//! compared with its slot in a leaf hash block, which is trusted only once its own
//! digest matches its slot in its parent, up to the root hash. Only the hash blocks on
//! those paths are read, so the cost follows the range, not the image.
//!
//! A hash block's digest covers every byte of it, padding and unused slots included, so
//! this walk catches everything the full top-down [`super::verify()`] catches under the
//! range; it just blames a damaged padding byte on the block that holds it.

use super::device::prepare_verify;
use super::error::{Error, Result};
use super::hasher::{BlockHasher, SlotPlacement};
use super::range_walk::{PathMemory, PathSource, PathWalk, Verdict, scratch_bytes};
use super::verified_read::DataSource;
use super::{HashChoice, SaltedMultiHasher, VerifyReport, VerityOptions, block_hasher};
use crate::io::BlockRead;
use std::ops::Range;

/// Data bytes read and digested per call: a few backend groups, little memory.
const CHUNK_BYTES: u64 = 1 << 20;

/// The host's blocks and digests for the shared walk (and the verified reader): reads
/// through the I/O engine, digests with the tree's backend, and collects the corrupt
/// hash blocks.
pub(super) struct HostPath<'a> {
    pub hasher: BlockHasher<'a>,
    pub data: &'a dyn BlockRead,
    pub hash: &'a dyn BlockRead,
    pub read_scratch: Vec<u8>,
    pub corrupted_hash_blocks: Vec<u64>,
}

impl DataSource for HostPath<'_> {
    fn read_data_block(&mut self, number: u64, buf: &mut [u8]) -> Result<()> {
        let size = buf.len();
        let bytes = self
            .data
            .read_view(number * size as u64, size, &mut self.read_scratch)
            .map_err(|e| Error::io(format!("reading data block {number}"), e))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

impl PathSource for HostPath<'_> {
    type Error = Error;

    fn read_hash_block(&mut self, number: u64, buf: &mut [u8]) -> Result<()> {
        let size = buf.len();
        let bytes = self
            .hash
            .read_view(number * size as u64, size, &mut self.read_scratch)
            .map_err(|e| Error::io(format!("reading hash block {number}"), e))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }

    fn digest(&mut self, block: &[u8], out: &mut [u8]) -> Result<()> {
        self.hasher.digest_into(block, out)
    }

    fn corrupt_hash_block(&mut self, number: u64) {
        self.corrupted_hash_blocks.push(number);
    }
}

/// Verifies the data blocks that overlap the byte range `bytes` of the data device
/// against the tree on `hash` and `root_hash`, reading only those blocks and the hash
/// blocks on their paths to the root. The parameters come from `opts` and the
/// superblock exactly as for [`super::verify()`], whose checks run first.
///
/// The range must be non-empty and lie inside the data area (`data_blocks` ×
/// `data_block_size`), else [`Error::InvalidParameter`]. Corruption under the range is
/// reported in the [`VerifyReport`], never as an error; damage outside it is not seen.
/// Runs on the calling thread.
pub fn verify_range(
    data: &dyn BlockRead,
    hash: &dyn BlockRead,
    same_device: bool,
    opts: &VerityOptions,
    root_hash: &[u8],
    bytes: Range<u64>,
    hashing: &HashChoice,
) -> Result<VerifyReport> {
    let (config, layout, warnings) = prepare_verify(data, hash, same_device, opts, root_hash)?;
    let area = config.data_area_bytes()?;
    if bytes.start >= bytes.end || bytes.end > area {
        return Err(Error::InvalidParameter(format!(
            "the range {}..{} is empty or not inside the data area of {area} bytes",
            bytes.start, bytes.end
        )));
    }
    let block_size = config.data_block_size as u64;
    let blocks = bytes.start / block_size..bytes.end.div_ceil(block_size);
    let (multi, hashed_by) =
        SaltedMultiHasher::for_tree(config.hash_algorithm, config.hash_type, &config.salt, hashing)?;
    let hasher = block_hasher(&config, multi.as_ref());
    let mut source = HostPath { hasher, data, hash, read_scratch: Vec::new(), corrupted_hash_blocks: Vec::new() };
    let mut path_blocks = vec![0u8; scratch_bytes(&layout).ok_or(Error::Overflow("the hash path size"))?];
    let mut memory = PathMemory::new(&layout, &mut path_blocks).ok_or(Error::Overflow("the hash path size"))?;
    let mut path = PathWalk::new(&layout, config.hash_type, root_hash)
        .ok_or_else(|| Error::InvalidParameter("the root hash does not fit the tree".into()))?;

    let digest_size = layout.digest_size;
    let per_chunk = (CHUNK_BYTES / block_size).max(1);
    let mut corrupted_data_blocks = Vec::new();
    let mut scratch = Vec::new();
    let mut digests = Vec::new();
    let mut first = blocks.start;
    while first < blocks.end {
        let count = per_chunk.min(blocks.end - first);
        let run = data
            .read_view(first * block_size, (count * block_size) as usize, &mut scratch)
            .map_err(|e| Error::io(format!("reading data blocks {first}..{}", first + count), e))?;
        digests.clear();
        digests.resize(count as usize * digest_size, 0);
        let placement = SlotPlacement {
            slot_size: digest_size,
            per_block: count as usize,
            hash_block_size: count as usize * digest_size,
            first_slot: 0,
        };
        source.hasher.digest_run(run, block_size as usize, &mut digests, placement)?;
        for (i, digest) in digests.chunks_exact(digest_size).enumerate() {
            let block = first + i as u64;
            if path.verdict(&mut memory, &mut source, block, digest)? == Verdict::Corrupt {
                corrupted_data_blocks.push(block);
            }
        }
        first += count;
    }
    super::unchanged(data, "data")?;
    super::unchanged(hash, "hash")?;
    let mut corrupted_hash_blocks = source.corrupted_hash_blocks;
    corrupted_hash_blocks.sort_unstable();
    Ok(VerifyReport {
        config,
        corrupted_data_blocks,
        corrupted_hash_blocks,
        root_hash_mismatch: None,
        hashed_by,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemoryDevice;
    use crate::verity::{RunOptions, format, verify};

    fn image(blocks: usize) -> Vec<u8> {
        (0..blocks * 4096).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect()
    }

    /// Every single-byte flip, in data or tree, seen by the range walk exactly as the
    /// full walk sees it restricted to the range (a blamed hash block hides its subtree).
    #[test]
    fn agrees_with_the_full_walk_under_the_range() {
        // 1 KiB hash blocks hold 32 SHA-256 slots: 3 levels for 2000 blocks.
        let data = image(2000);
        let opts = VerityOptions { salt: Some(vec![9; 32]), hash_block_size: Some(1024), ..Default::default() };
        let hash = MemoryDevice::default();
        let built = format(&data, &hash, false, &opts, &RunOptions::default()).unwrap();
        let tree = hash.into_inner();
        let range = 700 * 4096 + 100..1100 * 4096 - 5;
        let mut flips = vec![];
        for block in [0u64, 699, 700, 1000, 1099, 1100, 1999] {
            flips.push((false, block as usize * 4096 + 17));
        }
        for hash_block in 1..(tree.len() / 1024) {
            flips.push((true, hash_block * 1024 + 3));
        }
        for (in_tree, at) in flips {
            let (mut d, mut t) = (data.clone(), tree.clone());
            if in_tree {
                t[at] ^= 0x40
            } else {
                d[at] ^= 0x40
            }
            let t = MemoryDevice::new(t);
            let full = verify(&d, &t, false, &opts, &built.root_hash, &RunOptions::default()).unwrap();
            let part =
                verify_range(&d, &t, false, &opts, &built.root_hash, range.clone(), &HashChoice::default()).unwrap();
            let in_range: Vec<u64> =
                full.corrupted_data_blocks.iter().copied().filter(|b| (700..1100).contains(b)).collect();
            assert_eq!(part.corrupted_data_blocks, in_range, "flip at {at} (tree: {in_tree})");
            if !in_tree {
                assert!(part.corrupted_hash_blocks.is_empty());
            } else if part.corrupted_hash_blocks.is_empty() {
                // The damaged hash block is not on the range's paths.
                assert!(part.is_intact(), "flip at {at}");
            } else {
                assert_eq!(part.corrupted_hash_blocks, full.corrupted_hash_blocks, "flip at {at}");
            }
        }
    }

    #[test]
    fn refuses_empty_and_out_of_area_ranges() {
        let data = image(8);
        let opts = VerityOptions { salt: Some(vec![]), ..Default::default() };
        let hash = MemoryDevice::default();
        let built = format(&data, &hash, false, &opts, &RunOptions::default()).unwrap();
        // Built from bounds, as a caller's arithmetic would: empty, reversed, too long.
        for (start, end) in [(5, 5), (9, 3), (0, 8 * 4096 + 1)] {
            let range = start..end;
            let err =
                verify_range(&data, &hash, false, &opts, &built.root_hash, range, &HashChoice::default()).unwrap_err();
            assert!(matches!(err, Error::InvalidParameter(_)), "{err}");
        }
        let whole =
            verify_range(&data, &hash, false, &opts, &built.root_hash, 0..8 * 4096, &HashChoice::default()).unwrap();
        assert!(whole.is_intact());
    }

    #[test]
    fn single_block_image_checks_the_root_hash() {
        let mut data = image(1);
        let opts = VerityOptions { salt: Some(vec![1]), no_superblock: true, ..Default::default() };
        let hash = MemoryDevice::default();
        let built = format(&data, &hash, false, &opts, &RunOptions::default()).unwrap();
        assert!(
            verify_range(&data, &hash, false, &opts, &built.root_hash, 0..1, &HashChoice::default())
                .unwrap()
                .is_intact()
        );
        data[4095] ^= 1;
        let report =
            verify_range(&data, &hash, false, &opts, &built.root_hash, 4000..4096, &HashChoice::default()).unwrap();
        assert_eq!(report.corrupted_data_blocks, [0]);
    }
}

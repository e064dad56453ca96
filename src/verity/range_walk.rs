//! The leaf-to-root walk of range verification, with memory from the caller: the core
//! the host's [`super::verify_range`] and the boot library's
//! `rootseal_boot_verity_verify_range` both run.
//!
//! A data block is judged by its slot in a leaf hash block, which is trusted only once
//! its own digest matches its slot in its parent, up to the root hash. One hash block per
//! level is held (in the caller's scratch buffer); data blocks are visited in increasing
//! order, so each hash block on the range's paths is read and judged once. Allocates
//! nothing.

use super::layout::{HashType, MAX_LEVELS, TreeLayout};

/// Largest digest of any algorithm (SHA-512).
const MAX_DIGEST: usize = 64;

/// Whether a hash block on the current path can be used to judge its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Its digest matches its trusted parent's slot (or the root hash).
    Trusted,
    /// It, or a block above it, is corrupt: nothing under it can be judged.
    Untrusted,
}

/// What the walk needs from its caller: hash blocks and digests.
pub trait PathSource {
    /// The caller's error.
    type Error;
    /// Reads hash block `number` (hash-block units from the start of the hash device)
    /// into `buf`, which is exactly one hash block long.
    fn read_hash_block(&mut self, number: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
    /// Writes the digest of `block` (salted as the tree is) into `out`, exactly one
    /// digest long.
    fn digest(&mut self, block: &[u8], out: &mut [u8]) -> Result<(), Self::Error>;
    /// Called once for each hash block whose digest does not match.
    fn corrupt_hash_block(&mut self, number: u64);
}

/// Bytes of scratch a walk over `layout` needs: one hash block per level. None when
/// that does not fit in memory.
pub fn scratch_bytes(layout: &TreeLayout) -> Option<usize> {
    (layout.hash_block_size as usize).checked_mul(layout.levels().len())
}

/// The hash blocks held on the current path.
pub struct PathWalk<'a> {
    layout: &'a TreeLayout,
    root_hash: &'a [u8],
    slot_size: usize,
    held: [Option<(u64, Standing)>; MAX_LEVELS as usize],
    blocks: &'a mut [u8],
}

impl<'a> PathWalk<'a> {
    /// A walk over `layout` towards `root_hash` (which must be one digest long) holding
    /// its hash blocks in `scratch`. None when `scratch` is shorter than
    /// [`scratch_bytes`] or the root hash has the wrong length.
    pub fn new(
        layout: &'a TreeLayout,
        hash_type: HashType,
        root_hash: &'a [u8],
        scratch: &'a mut [u8],
    ) -> Option<Self> {
        let needed = scratch_bytes(layout)?;
        if scratch.len() < needed || root_hash.len() != layout.digest_size || layout.digest_size > MAX_DIGEST {
            return None;
        }
        Some(PathWalk {
            layout,
            root_hash,
            slot_size: layout.slot_size(hash_type),
            held: [None; MAX_LEVELS as usize],
            blocks: &mut scratch[..needed],
        })
    }

    fn block_of(&self, level: usize) -> core::ops::Range<usize> {
        let size = self.layout.hash_block_size as usize;
        level * size..(level + 1) * size
    }

    /// The standing of block `index` of `level`, reading and judging it (and, first, its
    /// ancestors) unless it is the one already held for that level.
    pub fn judge<S: PathSource>(&mut self, source: &mut S, level: usize, index: u64) -> Result<Standing, S::Error> {
        if let Some((held, standing)) = self.held[level]
            && held == index
        {
            return Ok(standing);
        }
        let levels = self.layout.levels();
        let top = level + 1 == levels.len();
        let parent = if top {
            Standing::Trusted
        } else {
            self.judge(source, level + 1, index >> self.layout.hashes_per_block_bits)?
        };
        if parent == Standing::Untrusted {
            // Nothing under a corrupt block can be judged, so it is not even read.
            self.held[level] = Some((index, Standing::Untrusted));
            return Ok(Standing::Untrusted);
        }
        let number = levels[level].start_block + index;
        let range = self.block_of(level);
        // Nothing is held for this level while its buffer is being replaced.
        self.held[level] = None;
        source.read_hash_block(number, &mut self.blocks[range.clone()])?;
        let mut digest = [0u8; MAX_DIGEST];
        let digest = &mut digest[..self.layout.digest_size];
        source.digest(&self.blocks[range], digest)?;
        let expected = if top { self.root_hash } else { self.slot(level + 1, index) };
        let standing = if *digest == *expected {
            Standing::Trusted
        } else {
            source.corrupt_hash_block(number);
            Standing::Untrusted
        };
        self.held[level] = Some((index, standing));
        Ok(standing)
    }

    /// The stored digest of child `child` in the block of `level` held on the path.
    fn slot(&self, level: usize, child: u64) -> &[u8] {
        let within = (child & (self.layout.hashes_per_block() - 1)) as usize * self.slot_size;
        let start = self.block_of(level).start + within;
        &self.blocks[start..start + self.layout.digest_size]
    }

    /// Whether data block `block`, whose digest is `digest`, is intact: its slot in the
    /// tree holds that digest (for a one-block image, the root hash is it), or it lies
    /// under a corrupt hash block, which takes the blame instead.
    pub fn data_block_intact<S: PathSource>(
        &mut self,
        source: &mut S,
        block: u64,
        digest: &[u8],
    ) -> Result<bool, S::Error> {
        if self.layout.levels().is_empty() {
            return Ok(digest == self.root_hash);
        }
        Ok(match self.judge(source, 0, block >> self.layout.hashes_per_block_bits)? {
            Standing::Trusted => digest == self.slot(0, block),
            Standing::Untrusted => true,
        })
    }
}

//! The leaf-to-root walk of range verification, with memory from the caller: the core
//! the host's [`super::verify_range`] and [`super::VerifiedReader`] and the boot library's
//! range verification and verified reader all run.
//!
//! A data block is judged by its slot in a leaf hash block, which is trusted only once
//! its own digest matches its slot in its parent, up to the root hash. One verified hash
//! block per level is held in the caller's memory (the path of the last block judged):
//! data blocks visited in increasing order read and judge each hash block once, and a
//! random read re-reads only the levels where its path leaves the held one. Allocates
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

/// What the tree says of one data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Its digest is the one in its slot.
    Intact,
    /// Its digest is not.
    Corrupt,
    /// A hash block on its path is corrupt (the number, in hash-block units): the block
    /// cannot be judged.
    UnderCorruptHashBlock(u64),
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

/// Bytes of memory a walk over `layout` needs: one hash block per level. None when that
/// does not fit in memory.
pub fn scratch_bytes(layout: &TreeLayout) -> Option<usize> {
    (layout.hash_block_size as usize).checked_mul(layout.levels().len())
}

/// The caller's memory for the held hash blocks, checked to be large enough.
pub struct PathMemory<'a> {
    layout: &'a TreeLayout,
    blocks: &'a mut [u8],
}

impl<'a> PathMemory<'a> {
    /// `scratch` for a walk over `layout`, or None when it is shorter than
    /// [`scratch_bytes`].
    pub fn new(layout: &'a TreeLayout, scratch: &'a mut [u8]) -> Option<Self> {
        let needed = scratch_bytes(layout)?;
        let blocks = scratch.get_mut(..needed)?;
        Some(PathMemory { layout, blocks })
    }

    /// Bytes of one digest of the tree.
    pub fn digest_size(&self) -> usize {
        self.layout.digest_size
    }

    fn block_of(&self, level: usize) -> core::ops::Range<usize> {
        let size = self.layout.hash_block_size as usize;
        level * size..(level + 1) * size
    }

    /// Which memory this is, so that a walk never trusts blocks it did not put there.
    fn identity(&self) -> (usize, usize) {
        (self.blocks.as_ptr() as usize, self.blocks.len())
    }
}

/// The state of a walk: the root hash and which hash block each level holds, and
/// whether it was trusted. The blocks themselves live in a [`PathMemory`].
pub struct PathWalk {
    root_hash: [u8; MAX_DIGEST],
    digest_size: usize,
    slot_size: usize,
    held: [Option<(u64, Standing)>; MAX_LEVELS as usize],
    memory: (usize, usize),
}

impl PathWalk {
    /// A walk over `layout` towards `root_hash`. None when the root hash is not one
    /// digest long.
    pub fn new(layout: &TreeLayout, hash_type: HashType, root_hash: &[u8]) -> Option<Self> {
        let digest_size = layout.digest_size;
        if root_hash.len() != digest_size || digest_size > MAX_DIGEST {
            return None;
        }
        let mut root = [0u8; MAX_DIGEST];
        root[..digest_size].copy_from_slice(root_hash);
        Some(PathWalk {
            root_hash: root,
            digest_size,
            slot_size: layout.slot_size(hash_type),
            held: [None; MAX_LEVELS as usize],
            memory: (0, 0),
        })
    }

    /// Forgets every held block unless `memory` is the memory they were read into.
    fn adopt(&mut self, memory: &PathMemory<'_>) {
        if memory.identity() != self.memory {
            self.held = [None; MAX_LEVELS as usize];
            self.memory = memory.identity();
        }
    }

    /// The standing of block `index` of `level`, reading and judging it (and, first, its
    /// ancestors) unless it is the one already held for that level.
    pub fn judge<S: PathSource>(
        &mut self,
        memory: &mut PathMemory<'_>,
        source: &mut S,
        level: usize,
        index: u64,
    ) -> Result<Standing, S::Error> {
        self.adopt(memory);
        if let Some((held, standing)) = self.held[level]
            && held == index
        {
            return Ok(standing);
        }
        let layout = memory.layout;
        let top = level + 1 == layout.levels().len();
        let parent = if top {
            Standing::Trusted
        } else {
            self.judge(memory, source, level + 1, index >> layout.hashes_per_block_bits)?
        };
        if parent == Standing::Untrusted {
            // Nothing under a corrupt block can be judged, so it is not even read.
            self.held[level] = Some((index, Standing::Untrusted));
            return Ok(Standing::Untrusted);
        }
        let number = layout.levels()[level].start_block + index;
        let range = memory.block_of(level);
        // Nothing is held for this level while its buffer is being replaced.
        self.held[level] = None;
        source.read_hash_block(number, &mut memory.blocks[range.clone()])?;
        let mut digest = [0u8; MAX_DIGEST];
        let digest = &mut digest[..self.digest_size];
        source.digest(&memory.blocks[range], digest)?;
        let matches = if top {
            *digest == self.root_hash[..self.digest_size]
        } else {
            *digest == *self.slot(memory, level + 1, index)
        };
        let standing = if matches {
            Standing::Trusted
        } else {
            source.corrupt_hash_block(number);
            Standing::Untrusted
        };
        self.held[level] = Some((index, standing));
        Ok(standing)
    }

    /// The stored digest of child `child` in the block of `level` held on the path.
    fn slot<'m>(&self, memory: &'m PathMemory<'_>, level: usize, child: u64) -> &'m [u8] {
        let within = (child & (memory.layout.hashes_per_block() - 1)) as usize * self.slot_size;
        let start = memory.block_of(level).start + within;
        &memory.blocks[start..start + self.digest_size]
    }

    /// What the tree says of data block `block`, whose digest is `digest` (for a
    /// one-block image, the root hash is that digest).
    pub fn verdict<S: PathSource>(
        &mut self,
        memory: &mut PathMemory<'_>,
        source: &mut S,
        block: u64,
        digest: &[u8],
    ) -> Result<Verdict, S::Error> {
        let layout = memory.layout;
        let intact = |ok: bool| if ok { Verdict::Intact } else { Verdict::Corrupt };
        if layout.levels().is_empty() {
            return Ok(intact(*digest == self.root_hash[..self.digest_size]));
        }
        let leaf = block >> layout.hashes_per_block_bits;
        Ok(match self.judge(memory, source, 0, leaf)? {
            Standing::Trusted => intact(digest == self.slot(memory, 0, block)),
            Standing::Untrusted => Verdict::UnderCorruptHashBlock(self.corrupt_on_path(layout, leaf)),
        })
    }

    /// The highest corrupt hash block on the held path of leaf `leaf` (the one that takes
    /// the blame).
    fn corrupt_on_path(&self, layout: &TreeLayout, leaf: u64) -> u64 {
        let levels = layout.levels();
        let mut blamed = levels[0].start_block + leaf;
        let mut index = leaf;
        for (level, info) in levels.iter().enumerate() {
            match self.held[level] {
                Some((held, Standing::Untrusted)) if held == index => blamed = info.start_block + index,
                _ => {}
            }
            index >>= layout.hashes_per_block_bits;
        }
        blamed
    }
}

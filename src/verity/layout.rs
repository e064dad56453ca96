//! Tree geometry: a pure function of digest size, hash block size, data block count and
//! the first hash block. No I/O, so it can be tested and fuzzed on its own.

use super::error::{Error, Result};

/// The dm-verity hash format ("version" in the kernel table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashType {
    /// Type 0, the original Chrome OS format: `H(block || salt)`, digests packed.
    ChromeOs = 0,
    /// Type 1, the normal format: `H(salt || block)`, digest slots padded to a power of two.
    Normal = 1,
}

impl HashType {
    /// Maps the on-disk / table number to the type.
    pub fn from_u32(value: u32) -> Result<Self> {
        match value {
            0 => Ok(HashType::ChromeOs),
            1 => Ok(HashType::Normal),
            other => Err(Error::UnsupportedHashType(other)),
        }
    }

    /// The on-disk / table number.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }
}

/// Most levels the kernel and veritysetup accept.
pub const MAX_LEVELS: u32 = 63;

/// One level of the tree, counted from the leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// First hash block of the level on the hash device, in hash-block units.
    pub start_block: u64,
    /// Number of hash blocks in the level.
    pub blocks: u64,
}

/// Where every level of a tree lives. Built only by [`TreeLayout::new`], which checks
/// every invariant the accessors rely on.
///
/// It allocates nothing (the levels live in a fixed table), so the boot library builds
/// one on its stack.
#[derive(Clone, PartialEq, Eq)]
pub struct TreeLayout {
    pub(crate) digest_size: usize,
    pub(crate) hash_block_size: u32,
    pub(crate) data_blocks: u64,
    pub(crate) hashes_per_block_bits: u32,
    pub(crate) hash_start_block: u64,
    level_table: [Level; MAX_LEVELS as usize],
    level_count: usize,
}

impl core::fmt::Debug for TreeLayout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TreeLayout")
            .field("digest_size", &self.digest_size)
            .field("hash_block_size", &self.hash_block_size)
            .field("data_blocks", &self.data_blocks)
            .field("hashes_per_block_bits", &self.hashes_per_block_bits)
            .field("hash_start_block", &self.hash_start_block)
            .field("levels", &self.levels())
            .finish()
    }
}

impl TreeLayout {
    /// Computes the geometry exactly as libcryptsetup's `hash_levels` and the kernel's
    /// `verity_ctr` do, with every sum and product checked.
    pub fn new(digest_size: usize, hash_block_size: u32, data_blocks: u64, hash_start_block: u64) -> Result<Self> {
        if data_blocks == 0 {
            return Err(Error::NoDataBlocks { block_size: hash_block_size });
        }
        let per_block = hash_block_size as usize / digest_size.max(1);
        if digest_size == 0 || per_block < 2 {
            return Err(Error::HashBlockTooSmall { hash_block_size, digest_size });
        }
        let bits = per_block.ilog2();

        let mut level_count = 0u32;
        while bits * level_count < 64 && ((data_blocks - 1) >> (bits * level_count)) != 0 {
            level_count += 1;
        }
        if level_count > MAX_LEVELS {
            return Err(Error::TooManyLevels { levels: level_count });
        }

        let level_count = level_count as usize;
        let mut level_table = [Level { start_block: 0, blocks: 0 }; MAX_LEVELS as usize];
        let mut children = data_blocks;
        for level in &mut level_table[..level_count] {
            children = children.div_ceil(1u64 << bits);
            level.blocks = children;
        }
        // Stored top level first: each level starts after every level above it.
        let mut next = hash_start_block;
        for level in level_table[..level_count].iter_mut().rev() {
            level.start_block = next;
            next = next.checked_add(level.blocks).ok_or(Error::Overflow("the hash area size"))?;
        }
        let layout = TreeLayout {
            digest_size,
            hash_block_size,
            data_blocks,
            hashes_per_block_bits: bits,
            hash_start_block,
            level_table,
            level_count,
        };
        layout.hash_end_bytes()?;
        Ok(layout)
    }

    /// Digest size in bytes.
    pub fn digest_size(&self) -> usize {
        self.digest_size
    }

    /// Hash block size in bytes.
    pub fn hash_block_size(&self) -> u32 {
        self.hash_block_size
    }

    /// Number of data blocks covered.
    pub fn data_blocks(&self) -> u64 {
        self.data_blocks
    }

    /// First hash block of the tree (the top level), in hash-block units: the kernel
    /// table's `<hash_start_block>`.
    pub fn hash_start_block(&self) -> u64 {
        self.hash_start_block
    }

    /// The levels: `levels()[0]` holds the digests of the data blocks, the last entry is
    /// the single top block. Empty for a single data block.
    pub fn levels(&self) -> &[Level] {
        &self.level_table[..self.level_count]
    }

    /// log2 of the digests per hash block.
    pub fn hashes_per_block_bits(&self) -> u32 {
        self.hashes_per_block_bits
    }

    /// Digests per hash block.
    pub fn hashes_per_block(&self) -> u64 {
        1u64 << self.hashes_per_block_bits
    }

    /// Total hash blocks in the tree, not counting the superblock.
    pub fn hash_blocks(&self) -> u64 {
        self.levels().iter().map(|l| l.blocks).sum()
    }

    /// First hash block after the tree.
    pub fn hash_end_block(&self) -> u64 {
        self.hash_start_block + self.hash_blocks()
    }

    /// Byte offset just past the tree on the hash device: the size it needs.
    pub fn hash_end_bytes(&self) -> Result<u64> {
        self.hash_start_block
            .checked_add(self.hash_blocks())
            .and_then(|b| b.checked_mul(self.hash_block_size as u64))
            .ok_or(Error::Overflow("the hash device size"))
    }

    /// Byte distance between digest slots in a hash block.
    pub fn slot_size(&self, hash_type: HashType) -> usize {
        match hash_type {
            HashType::Normal => self.digest_size.next_power_of_two(),
            HashType::ChromeOs => self.digest_size,
        }
    }

    /// Byte offset, relative to the start of its level, of the slot for child `index`.
    /// `index == children` gives the end of the level, so that `[slot(a), slot(b))` is
    /// exactly the bytes a run of children `a..b` owns, padding included.
    pub fn slot_offset(&self, level: usize, hash_type: HashType, index: u64) -> u64 {
        let block = self.hash_block_size as u64;
        if index >= self.children_of(level) {
            return self.levels()[level].blocks * block;
        }
        let within = index & (self.hashes_per_block() - 1);
        (index >> self.hashes_per_block_bits) * block + within * self.slot_size(hash_type) as u64
    }

    /// Number of children (data blocks for level 0, hash blocks of the level below
    /// otherwise) that level `level` hashes.
    pub fn children_of(&self, level: usize) -> u64 {
        if level == 0 { self.data_blocks } else { self.levels()[level - 1].blocks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(layout: &TreeLayout) -> Vec<u64> {
        layout.levels().iter().rev().map(|l| l.blocks).collect()
    }

    #[test]
    fn worked_examples_from_the_format_notes() {
        let cases: [(u64, &[u64]); 5] =
            [(1, &[]), (256, &[1, 2]), (16_385, &[1, 2, 129]), (262_144, &[1, 16, 2048]), (260_094, &[1, 16, 2032])];
        for (blocks, expect) in cases {
            let layout = TreeLayout::new(32, 4096, blocks, 1).unwrap();
            assert_eq!(sizes(&layout), expect, "{blocks} data blocks");
        }
    }

    #[test]
    fn top_level_is_stored_first() {
        let layout = TreeLayout::new(32, 4096, 16_385, 1).unwrap();
        assert_eq!(layout.levels()[2].start_block, 1);
        assert_eq!(layout.levels()[1].start_block, 2);
        assert_eq!(layout.levels()[0].start_block, 4);
        assert_eq!(layout.hash_end_block(), 133);
    }

    #[test]
    fn sha1_type1_uses_32_byte_slots_and_128_per_block() {
        let layout = TreeLayout::new(20, 4096, 1000, 0).unwrap();
        assert_eq!(layout.hashes_per_block(), 128);
        assert_eq!(layout.slot_size(HashType::Normal), 32);
        assert_eq!(layout.slot_size(HashType::ChromeOs), 20);
        assert_eq!(layout.slot_offset(0, HashType::ChromeOs, 129), 4096 + 20);
    }

    #[test]
    fn rejects_zero_blocks_and_overflow() {
        assert!(matches!(TreeLayout::new(32, 4096, 0, 0), Err(Error::NoDataBlocks { .. })));
        assert!(matches!(TreeLayout::new(32, 4096, 10, u64::MAX), Err(Error::Overflow(_))));
        // 2^64 blocks need far more hash bytes than 64 bits can address.
        assert!(matches!(TreeLayout::new(64, 512, u64::MAX, 0), Err(Error::Overflow(_))));
        let deep = TreeLayout::new(64, 512, u64::MAX / 4096, 0).unwrap();
        assert_eq!(deep.levels().len(), 18);
        assert!(matches!(TreeLayout::new(64, 64, 10, 0), Err(Error::HashBlockTooSmall { .. })));
    }
}

//! Random-access reads of a verity-protected image, verified as the kernel verifies them:
//! every data block a read touches is digested and judged against the tree before any of
//! its bytes are handed out. The core of the host's [`super::VerifiedReader`] and of the
//! boot library's verified reader; allocates nothing.
//!
//! What is cached, in the caller's memory: the verified hash blocks of the last path
//! ([`PathMemory`], one per level), so consecutive reads judge each hash block once, and
//! the last verified data block, so small reads inside one block digest it once.

use super::layout::{HashType, TreeLayout};
use super::range_walk::{PathMemory, PathSource, PathWalk, Verdict};

/// What a verified read needs besides the hash blocks: the data blocks.
pub trait DataSource: PathSource {
    /// Reads data block `number` into `buf`, exactly one data block long.
    fn read_data_block(&mut self, number: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// Why a verified read returned no bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFault<E> {
    /// Reading or digesting failed.
    Source(E),
    /// The data block's digest is not the one in the tree.
    CorruptDataBlock(u64),
    /// A hash block on the data block's path is corrupt, so it cannot be trusted.
    CorruptHashBlock {
        /// The data block read.
        data_block: u64,
        /// The corrupt hash block, in hash-block units on the hash device.
        hash_block: u64,
    },
}

/// The state of a verified reader; the memory it reads into comes with each call.
pub struct VerifiedBlocks {
    walk: PathWalk,
    data_block_size: u32,
    data_blocks: u64,
    /// The data block that the caller's block buffer holds, verified, and which buffer.
    held: Option<(u64, usize)>,
}

impl VerifiedBlocks {
    /// A reader of the `data_blocks` blocks of `data_block_size` bytes under `layout`,
    /// towards `root_hash`. None when the root hash is not one digest long.
    pub fn new(layout: &TreeLayout, hash_type: HashType, root_hash: &[u8], data_block_size: u32) -> Option<Self> {
        Some(VerifiedBlocks {
            walk: PathWalk::new(layout, hash_type, root_hash)?,
            data_block_size,
            data_blocks: layout.data_blocks,
            held: None,
        })
    }

    /// Bytes readable: the data area.
    pub fn len(&self) -> u64 {
        self.data_blocks.saturating_mul(u64::from(self.data_block_size))
    }

    /// True when there is nothing to read (never, for a valid tree).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `buf.len()` bytes at `offset` of the data area into `buf`, verifying
    /// every block it touches; `block` (one data block long) is where each block is read
    /// and judged. Returns the bytes read: 0 at or past the end, fewer than asked when a
    /// later block fails (the next read starting there returns its fault). A block that
    /// fails gives none of its bytes.
    pub fn read_at<S: DataSource>(
        &mut self,
        memory: &mut PathMemory<'_>,
        block: &mut [u8],
        source: &mut S,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, ReadFault<S::Error>> {
        let size = u64::from(self.data_block_size);
        let end = self.len().min(offset.saturating_add(buf.len() as u64));
        let mut done = 0usize;
        let mut at = offset;
        while at < end {
            let number = at / size;
            if let Err(fault) = self.load(memory, block, source, number) {
                return if done > 0 { Ok(done) } else { Err(fault) };
            }
            let within = (at % size) as usize;
            let n = ((end - at) as usize).min(block.len() - within);
            buf[done..done + n].copy_from_slice(&block[within..within + n]);
            done += n;
            at += n as u64;
        }
        Ok(done)
    }

    /// Makes `block` hold data block `number`, verified.
    fn load<S: DataSource>(
        &mut self,
        memory: &mut PathMemory<'_>,
        block: &mut [u8],
        source: &mut S,
        number: u64,
    ) -> Result<(), ReadFault<S::Error>> {
        if self.held == Some((number, block.as_ptr() as usize)) {
            return Ok(());
        }
        self.held = None;
        source.read_data_block(number, block).map_err(ReadFault::Source)?;
        let mut digest = [0u8; 64];
        let digest = &mut digest[..memory.digest_size()];
        source.digest(block, digest).map_err(ReadFault::Source)?;
        match self.walk.verdict(memory, source, number, digest).map_err(ReadFault::Source)? {
            Verdict::Intact => {
                self.held = Some((number, block.as_ptr() as usize));
                Ok(())
            }
            Verdict::Corrupt => Err(ReadFault::CorruptDataBlock(number)),
            Verdict::UnderCorruptHashBlock(hash_block) => {
                Err(ReadFault::CorruptHashBlock { data_block: number, hash_block })
            }
        }
    }
}

//! [`VerifiedReader`]: `std::io::Read + Seek` over a verity-protected image, each block
//! verified against the tree before its bytes are returned, as the kernel reads through
//! dm-verity. A host tool reads files out of an image this way without device-mapper.

use super::device::prepare_verify;
use super::error::{Error, Result};
use super::layout::TreeLayout;
use super::range::HostPath;
use super::range_walk::{PathMemory, scratch_bytes};
use super::verified_read::{ReadFault, VerifiedBlocks};
use super::{HashChoice, SaltedMultiHasher, VerityConfig, VerityOptions, block_hasher};
use crate::io::BlockRead;
use std::io::{self, Read, Seek, SeekFrom};

/// The error inside an [`io::Error`] (kind `InvalidData`) when a read touches a block the
/// tree refuses. No byte of that block was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptBlock {
    /// The data block read.
    pub data_block: u64,
    /// The corrupt hash block on its path (hash-block units on the hash device), when the
    /// tree is what is damaged; None when the data block itself does not match.
    pub hash_block: Option<u64>,
}

impl std::fmt::Display for CorruptBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.hash_block {
            None => write!(f, "data block {} does not match the verity tree", self.data_block),
            Some(hash) => write!(f, "data block {} lies under corrupt hash block {hash}", self.data_block),
        }
    }
}

impl std::error::Error for CorruptBlock {}

impl CorruptBlock {
    /// The corrupt block an I/O error reports, if it is one.
    pub fn of(err: &io::Error) -> Option<&CorruptBlock> {
        err.get_ref().and_then(|inner| inner.downcast_ref::<CorruptBlock>())
    }
}

/// Reads a verity-protected data device through its tree: every block read is digested
/// and judged, leaf to root, against the root hash given. The verified hash blocks of the
/// last path and the last data block are kept, so sequential reads hash each block once.
///
/// It owns its devices: pass `&FileReader`s to borrow them (`&T` is a [`BlockRead`]).
pub struct VerifiedReader<D: BlockRead, H: BlockRead> {
    data: D,
    hash: H,
    config: VerityConfig,
    layout: TreeLayout,
    multi: Option<SaltedMultiHasher>,
    blocks: VerifiedBlocks,
    path_memory: Vec<u8>,
    block: Vec<u8>,
    /// The read buffer, kept between reads.
    read_scratch: Vec<u8>,
    position: u64,
}

impl<D: BlockRead, H: BlockRead> VerifiedReader<D, H> {
    /// A reader of `data` verified against the tree on `hash` and `root_hash`; the
    /// parameters come from `opts` and the superblock exactly as for
    /// [`super::verify()`], whose checks run first.
    pub fn new(
        data: D,
        hash: H,
        same_device: bool,
        opts: &VerityOptions,
        root_hash: &[u8],
        hashing: &HashChoice,
    ) -> Result<Self> {
        let (config, layout, _warnings) = prepare_verify(&data, &hash, same_device, opts, root_hash)?;
        let (multi, _) = SaltedMultiHasher::for_tree(config.hash_algorithm, config.hash_type, &config.salt, hashing)?;
        let blocks = VerifiedBlocks::new(&layout, config.hash_type, root_hash, config.data_block_size)
            .ok_or_else(|| Error::InvalidParameter("the root hash does not fit the tree".into()))?;
        let path_memory = vec![0u8; scratch_bytes(&layout).ok_or(Error::Overflow("the hash path size"))?];
        let block = vec![0u8; config.data_block_size as usize];
        Ok(VerifiedReader {
            data,
            hash,
            config,
            layout,
            multi,
            blocks,
            path_memory,
            block,
            read_scratch: Vec::new(),
            position: 0,
        })
    }

    /// Bytes of the data area (`data_blocks × data_block_size`).
    pub fn len(&self) -> u64 {
        self.blocks.len()
    }

    /// True for an empty data area (never, for a valid tree).
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Reads up to `buf.len()` bytes at `offset`, verified (see [`Read::read`] for the
    /// counts). A block the tree refuses is a [`CorruptBlock`] error.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut memory = PathMemory::new(&self.layout, &mut self.path_memory)
            .ok_or_else(|| io::Error::other("the hash path memory is too small"))?;
        let mut source = HostPath {
            hasher: block_hasher(&self.config, self.multi.as_ref()),
            data: &self.data,
            hash: &self.hash,
            read_scratch: std::mem::take(&mut self.read_scratch),
            corrupted_hash_blocks: Vec::new(),
        };
        let outcome = self.blocks.read_at(&mut memory, &mut self.block, &mut source, offset, buf);
        self.read_scratch = source.read_scratch;
        outcome.map_err(|fault| match fault {
            ReadFault::Source(err) => io::Error::other(err),
            ReadFault::CorruptDataBlock(data_block) => {
                io::Error::new(io::ErrorKind::InvalidData, CorruptBlock { data_block, hash_block: None })
            }
            ReadFault::CorruptHashBlock { data_block, hash_block } => {
                io::Error::new(io::ErrorKind::InvalidData, CorruptBlock { data_block, hash_block: Some(hash_block) })
            }
        })
    }
}

impl<D: BlockRead, H: BlockRead> Read for VerifiedReader<D, H> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(self.position, buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl<D: BlockRead, H: BlockRead> Seek for VerifiedReader<D, H> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len().checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek to a negative or overflowing position"))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemoryDevice;
    use crate::verity::{RunOptions, format};

    fn image(blocks: usize) -> Vec<u8> {
        (0..blocks * 4096).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect()
    }

    fn built(data: &[u8], opts: &VerityOptions) -> (Vec<u8>, Vec<u8>) {
        let hash = MemoryDevice::default();
        let built = format(&data, &hash, false, opts, &RunOptions::default()).unwrap();
        (hash.into_inner(), built.root_hash)
    }

    #[test]
    fn reads_every_byte_in_odd_pieces_and_seeks() {
        let data = image(300);
        let opts = VerityOptions { salt: Some(vec![3; 16]), hash_block_size: Some(1024), ..Default::default() };
        let (tree, root) = built(&data, &opts);
        let mut reader =
            VerifiedReader::new(&data[..], &tree[..], false, &opts, &root, &HashChoice::default()).unwrap();
        let mut out = Vec::new();
        let mut piece = vec![0u8; 1237];
        loop {
            let n = reader.read(&mut piece).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&piece[..n]);
        }
        assert_eq!(out, data);
        reader.seek(SeekFrom::Start(4096 * 200 - 3)).unwrap();
        let mut six = [0u8; 6];
        reader.read_exact(&mut six).unwrap();
        assert_eq!(six, data[4096 * 200 - 3..4096 * 200 + 3]);
        assert_eq!(reader.seek(SeekFrom::End(0)).unwrap(), data.len() as u64);
        assert_eq!(reader.read(&mut six).unwrap(), 0);
        assert!(reader.seek(SeekFrom::Current(-(data.len() as i64) - 1)).is_err());
    }

    #[test]
    fn a_corrupt_block_is_refused_with_its_number_and_no_bytes() {
        let mut data = image(300);
        let opts = VerityOptions { salt: Some(vec![]), ..Default::default() };
        let (mut tree, root) = built(&data, &opts);
        data[4096 * 150 + 9] ^= 1;
        let mut reader =
            VerifiedReader::new(&data[..], &tree[..], false, &opts, &root, &HashChoice::default()).unwrap();
        // A read that reaches the block stops before it; the next one fails.
        let mut buf = vec![0u8; 4096 * 3];
        reader.seek(SeekFrom::Start(4096 * 148)).unwrap();
        assert_eq!(reader.read(&mut buf).unwrap(), 4096 * 2);
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(CorruptBlock::of(&err), Some(&CorruptBlock { data_block: 150, hash_block: None }));
        assert_eq!(reader.read_at(4096 * 151, &mut buf[..10]).unwrap(), 10);

        // Damage in a leaf hash block: its data blocks are refused, and it is named.
        data[4096 * 150 + 9] ^= 1;
        let leaf_start = tree.len() - 4096 * 3;
        tree[leaf_start + 4096 + 7] ^= 1; // the second leaf: data blocks 128..256
        let mut reader =
            VerifiedReader::new(&data[..], &tree[..], false, &opts, &root, &HashChoice::default()).unwrap();
        assert_eq!(reader.read_at(0, &mut buf).unwrap(), buf.len());
        let err = reader.read_at(4096 * 130, &mut buf).unwrap_err();
        let found = CorruptBlock::of(&err).unwrap();
        assert_eq!(found.data_block, 130);
        assert_eq!(found.hash_block, Some((leaf_start / 4096 + 1) as u64));
    }
}

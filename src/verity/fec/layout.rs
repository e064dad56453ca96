//! FEC geometry: which bytes each codeword covers and where its parity goes. A pure
//! function of a few numbers, every product and sum checked, since they come from disk
//! or the command line.
//!
//! The covered *stream* is the data area (`data_blocks` blocks from offset 0 of the
//! data device) followed by the hash device from block `hash_start_block` (the first
//! tree block; the superblock is not covered) up to a *covered end*: the end of the
//! hash device when the parity goes to another device, or the parity offset when it
//! shares the hash device. Like cryptsetup, only whole blocks up to that end count.
//! The stream is `fec_blocks` blocks long, seen as `rsn = 255 − roots` columns of
//! `rounds = ⌈fec_blocks / rsn⌉` consecutive blocks, zero-extended at the end.
//! Codeword (round n, byte b) takes byte b of stream block `i·rounds + n` as message
//! symbol i; its `roots` parity bytes sit at `(n·block_size + b)·roots` from the start
//! of the parity area.

#![deny(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use super::error::{FecError, Result};
use super::rs::{CODEWORD_LEN, check_roots};
use core::ops::Range;

/// Smallest block size dm-verity allows.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const MIN_BLOCK_SIZE: u32 = 512;
/// Largest block size dm-verity allows.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const MAX_BLOCK_SIZE: u32 = 512 * 1024;

/// The numbers FEC geometry depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecParams {
    /// Data blocks covered by the tree (the data area).
    pub data_blocks: u64,
    /// Block size; FEC requires data and hash blocks of the same size.
    pub block_size: u32,
    /// First block of the tree on the hash device (the kernel table's `hash_start_block`).
    pub hash_start_block: u64,
    /// Covered end of the hash device, in bytes: the hash device's size when the parity
    /// goes to a different device, the parity offset when it goes to the hash device.
    pub hash_covered_end: u64,
    /// Parity bytes per codeword, 2..=24.
    pub roots: u32,
}

/// Where a stream block's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The data device at this byte offset.
    Data(u64),
    /// The hash device at this byte offset.
    Hash(u64),
    /// Past the end of the stream: zeros.
    Zero,
}

/// A run of consecutive stream blocks that come from one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Where the first block comes from (the others follow contiguously).
    pub source: Source,
    /// The stream blocks of the run.
    pub blocks: Range<u64>,
}

/// The validated geometry. Built only by [`FecLayout::new`], so every accessor's
/// arithmetic is known not to overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecLayout {
    block_size: u32,
    roots: u32,
    data_blocks: u64,
    hash_start_block: u64,
    hash_blocks: u64,
    fec_blocks: u64,
    rounds: u64,
}

fn overflow(what: &'static str) -> FecError {
    FecError::Overflow(what)
}

impl FecLayout {
    /// Checks the parameters and computes the geometry as cryptsetup's
    /// `VERITY_FEC_blocks` and `FEC_process_inputs` do.
    pub fn new(params: &FecParams) -> Result<Self> {
        let FecParams { data_blocks, block_size, hash_start_block, hash_covered_end, roots } = *params;
        check_roots(roots)?;
        if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&block_size) || !block_size.is_power_of_two() {
            return Err(FecError::InvalidBlockSize(block_size as u64));
        }
        if data_blocks == 0 {
            return Err(FecError::NoDataBlocks);
        }
        let bs = block_size as u64;
        // cryptsetup: whole blocks to the covered end, minus the blocks before the tree;
        // a covered end below one block covers nothing (a single-block image has an
        // empty tree, and its hash device may hold nothing or the superblock only).
        let end_block = hash_covered_end / bs;
        let hash_blocks = if end_block == 0 {
            0
        } else {
            end_block
                .checked_sub(hash_start_block)
                .ok_or(FecError::CoverageEndsBeforeTree { end_block, hash_start_block })?
        };
        let fec_blocks = data_blocks.checked_add(hash_blocks).ok_or(overflow("the FEC block count"))?;
        let rsn = (CODEWORD_LEN as u64) - roots as u64;
        let rounds = fec_blocks.div_ceil(rsn);
        let layout = FecLayout { block_size, roots, data_blocks, hash_start_block, hash_blocks, fec_blocks, rounds };
        // Everything the accessors compute is bounded by these.
        data_blocks.checked_mul(bs).ok_or(overflow("the data area size"))?;
        hash_start_block
            .checked_add(hash_blocks)
            .and_then(|end| end.checked_mul(bs))
            .ok_or(overflow("the hash area end"))?;
        rounds.checked_mul(rsn).and_then(|b| b.checked_mul(bs)).ok_or(overflow("the interleaved stream size"))?;
        layout.parity_bytes_checked()?;
        Ok(layout)
    }

    fn parity_bytes_checked(&self) -> Result<u64> {
        self.rounds
            .checked_mul(self.roots as u64)
            .and_then(|b| b.checked_mul(self.block_size as u64))
            .ok_or(overflow("the FEC area size"))
    }

    /// Block size.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }
    /// Parity bytes per codeword.
    pub fn roots(&self) -> u32 {
        self.roots
    }
    /// Message symbols per codeword, `255 − roots`: the number of columns.
    pub fn rsn(&self) -> u32 {
        CODEWORD_LEN as u32 - self.roots
    }
    /// Data blocks covered.
    pub fn data_blocks(&self) -> u64 {
        self.data_blocks
    }
    /// First covered block of the hash device.
    pub fn hash_start_block(&self) -> u64 {
        self.hash_start_block
    }
    /// Hash-device blocks covered.
    pub fn hash_blocks(&self) -> u64 {
        self.hash_blocks
    }
    /// Covered blocks in all: the kernel table's `fec_blocks`.
    pub fn fec_blocks(&self) -> u64 {
        self.fec_blocks
    }
    /// Interleaving rounds: codewords per byte position, blocks per column.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }
    /// Size of the parity area in blocks (`rounds · roots`), veritysetup's "FEC blocks".
    pub fn parity_blocks(&self) -> u64 {
        self.rounds * self.roots as u64
    }
    /// Size of the parity area in bytes.
    pub fn parity_bytes(&self) -> u64 {
        self.rounds * self.roots as u64 * self.block_size as u64
    }
    /// Parity bytes of one round (`block_size · roots`), contiguous in the parity area.
    pub fn round_parity_bytes(&self) -> u64 {
        self.roots as u64 * self.block_size as u64
    }
    /// End of the parity area on its device, for a given parity offset.
    pub fn parity_end(&self, parity_offset: u64) -> Result<u64> {
        parity_offset.checked_add(self.parity_bytes()).ok_or(overflow("the FEC area end"))
    }

    /// The stream block that is message symbol `symbol` of round `round`'s codewords.
    pub fn stream_block(&self, round: u64, symbol: u32) -> Result<u64> {
        self.check_round(round)?;
        self.check_symbol(symbol)?;
        Ok(symbol as u64 * self.rounds + round)
    }

    /// The (round, symbol) whose codewords hold stream block `block`.
    pub fn codeword_of(&self, block: u64) -> Result<(u64, u32)> {
        let limit = self.rounds * self.rsn() as u64;
        if block >= limit {
            return Err(FecError::OutOfRange { what: "stream block", value: block, limit });
        }
        Ok((block % self.rounds, (block / self.rounds) as u32))
    }

    /// Where stream block `block` lives.
    pub fn locate(&self, block: u64) -> Source {
        let bs = self.block_size as u64;
        if block < self.data_blocks {
            Source::Data(block * bs)
        } else if block < self.fec_blocks {
            Source::Hash((self.hash_start_block + (block - self.data_blocks)) * bs)
        } else {
            Source::Zero
        }
    }

    /// Offset, from the start of the parity area, of the `roots` parity bytes of
    /// codeword (`round`, `lane`).
    pub fn parity_offset(&self, round: u64, lane: u32) -> Result<u64> {
        self.check_round(round)?;
        if lane >= self.block_size {
            return Err(FecError::OutOfRange { what: "lane", value: lane as u64, limit: self.block_size as u64 });
        }
        Ok((round * self.block_size as u64 + lane as u64) * self.roots as u64)
    }

    /// The stream blocks of column `symbol` for rounds `rounds`, split into at most three
    /// runs by source (data, hash, zeros), in order. This is what a reader fetches for a
    /// window of rounds: one contiguous read per run.
    pub fn column_segments(&self, symbol: u32, rounds: Range<u64>) -> Result<impl Iterator<Item = Segment> + use<>> {
        self.check_symbol(symbol)?;
        if rounds.start > rounds.end || rounds.end > self.rounds {
            return Err(FecError::OutOfRange { what: "round range end", value: rounds.end, limit: self.rounds + 1 });
        }
        let first = symbol as u64 * self.rounds + rounds.start;
        let end = symbol as u64 * self.rounds + rounds.end;
        let cuts = [first, self.data_blocks.clamp(first, end), self.fec_blocks.clamp(first, end), end];
        let layout = *self;
        Ok((0..3).filter_map(move |k| {
            let blocks = cuts[k]..cuts[k + 1];
            (!blocks.is_empty()).then(|| Segment { source: layout.locate(blocks.start), blocks })
        }))
    }

    fn check_round(&self, round: u64) -> Result<()> {
        if round < self.rounds {
            Ok(())
        } else {
            Err(FecError::OutOfRange { what: "round", value: round, limit: self.rounds })
        }
    }

    fn check_symbol(&self, symbol: u32) -> Result<()> {
        if symbol < self.rsn() {
            Ok(())
        } else {
            Err(FecError::OutOfRange { what: "symbol", value: symbol as u64, limit: self.rsn() as u64 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(data_blocks: u64, hash_start_block: u64, hash_covered_end: u64, roots: u32) -> FecParams {
        FecParams { data_blocks, block_size: 4096, hash_start_block, hash_covered_end, roots }
    }

    /// The worked sizes of the format notes.
    #[test]
    fn worked_examples() {
        // 256 data blocks, superblock + 3 tree blocks in a separate hash file.
        let l = FecLayout::new(&params(256, 1, 4 * 4096, 2)).unwrap();
        assert_eq!((l.hash_blocks(), l.fec_blocks(), l.rounds()), (3, 259, 2));
        assert_eq!(l.parity_bytes(), 16384);
        let l = FecLayout::new(&params(256, 1, 4 * 4096, 24)).unwrap();
        assert_eq!((l.rounds(), l.parity_blocks()), (2, 48));
        // 1 GiB: 262144 data blocks, 2065 tree blocks after the superblock block.
        let l = FecLayout::new(&params(262_144, 1, 2066 * 4096, 2)).unwrap();
        assert_eq!((l.fec_blocks(), l.rounds(), l.parity_blocks()), (264_209, 1045, 2090));
        assert_eq!(l.parity_bytes(), 8_560_640);
        // One file: data blocks 0..256, superblock in 256, tree 257..260, FEC at 260.
        let l = FecLayout::new(&params(256, 257, 260 * 4096, 2)).unwrap();
        assert_eq!(l.fec_blocks(), 259);
    }

    #[test]
    fn coverage_rules() {
        // Partial trailing block of the hash device: not covered.
        let l = FecLayout::new(&params(10, 1, 3 * 4096 + 100, 2)).unwrap();
        assert_eq!(l.hash_blocks(), 2);
        // Nothing or less than a block: no hash blocks, whatever the tree start.
        for end in [0, 512, 4095] {
            assert_eq!(FecLayout::new(&params(1, 1, end, 2)).unwrap().hash_blocks(), 0);
        }
        // The end exactly at the tree start: none.
        assert_eq!(FecLayout::new(&params(1, 3, 3 * 4096, 2)).unwrap().hash_blocks(), 0);
        assert!(matches!(
            FecLayout::new(&params(1, 3, 2 * 4096, 2)),
            Err(FecError::CoverageEndsBeforeTree { end_block: 2, hash_start_block: 3 })
        ));
    }

    #[test]
    fn bad_parameters_are_errors_not_panics() {
        assert!(matches!(FecLayout::new(&params(0, 1, 0, 2)), Err(FecError::NoDataBlocks)));
        assert!(matches!(FecLayout::new(&params(1, 1, 0, 1)), Err(FecError::InvalidRoots(1))));
        assert!(matches!(FecLayout::new(&params(1, 1, 0, 25)), Err(FecError::InvalidRoots(25))));
        for bs in [0, 256, 1000, 4097, 1 << 20] {
            let p = FecParams { block_size: bs, ..params(1, 1, 0, 2) };
            assert!(matches!(FecLayout::new(&p), Err(FecError::InvalidBlockSize(_))));
        }
        for p in [
            params(u64::MAX, 0, 0, 2),
            params(u64::MAX / 4096, 0, 0, 2),
            params(1 << 40, 0, u64::MAX, 2),
            params(u64::MAX - 5, 0, 4096 * 10, 24),
        ] {
            assert!(matches!(FecLayout::new(&p), Err(FecError::Overflow(_))), "{p:?}");
        }
        assert!(matches!(
            FecLayout::new(&params(1, u64::MAX - 1, u64::MAX, 2)),
            Err(FecError::CoverageEndsBeforeTree { .. })
        ));
        // Large but representable.
        let l = FecLayout::new(&params(1 << 40, 1, 4096 * 1000, 24)).unwrap();
        assert_eq!(l.parity_bytes(), l.rounds() * 24 * 4096);
    }

    #[test]
    fn mapping_is_the_interleave_and_its_inverse() {
        let l = FecLayout::new(&params(1000, 1, 30 * 4096, 3)).unwrap();
        assert_eq!((l.fec_blocks(), l.rsn(), l.rounds()), (1029, 252, 5));
        for round in 0..l.rounds() {
            for symbol in 0..l.rsn() {
                let block = l.stream_block(round, symbol).unwrap();
                assert_eq!(block, symbol as u64 * 5 + round);
                assert_eq!(l.codeword_of(block).unwrap(), (round, symbol));
            }
        }
        assert_eq!(l.locate(0), Source::Data(0));
        assert_eq!(l.locate(999), Source::Data(999 * 4096));
        assert_eq!(l.locate(1000), Source::Hash(4096));
        assert_eq!(l.locate(1028), Source::Hash(29 * 4096));
        assert_eq!(l.locate(1029), Source::Zero);
        assert_eq!(l.parity_offset(1, 2).unwrap(), (4096 + 2) * 3);
        assert!(l.stream_block(5, 0).is_err());
        assert!(l.stream_block(0, 252).is_err());
        assert!(l.parity_offset(0, 4096).is_err());
        assert!(l.codeword_of(5 * 252).is_err());
        // The RS-offset form of the format notes: offset o ↦ byte o/rsn + (o%rsn)·rounds·bs.
        for o in [0u64, 1, 251, 252, 253, 5000, 5 * 252 * 4096 - 1] {
            let (round, byte, symbol) = (o / 252 / 4096, o / 252 % 4096, (o % 252) as u32);
            let expected = o / 252 + (o % 252) * 5 * 4096;
            assert_eq!(l.stream_block(round, symbol).unwrap() * 4096 + byte, expected);
        }
    }

    #[test]
    fn column_segments_split_by_source() {
        let l = FecLayout::new(&params(1000, 1, 30 * 4096, 3)).unwrap();
        // Column 199 covers blocks 995..1000 (data), column 200 1000..1005 (hash).
        let segs: Vec<_> = l.column_segments(199, 2..5).unwrap().collect();
        assert_eq!(segs, [Segment { source: Source::Data(997 * 4096), blocks: 997..1000 }]);
        let segs: Vec<_> = l.column_segments(205, 0..5).unwrap().collect();
        assert_eq!(
            segs,
            [
                Segment { source: Source::Hash(26 * 4096), blocks: 1025..1029 },
                Segment { source: Source::Zero, blocks: 1029..1030 }
            ]
        );
        let l = FecLayout::new(&params(3, 1, 2 * 4096, 2)).unwrap();
        // One round: every column one block; block 3 is the hash block, then zeros.
        assert_eq!(l.rounds(), 1);
        let all: Vec<_> = (0..l.rsn()).flat_map(|i| l.column_segments(i, 0..1).unwrap()).collect();
        assert_eq!(all.len(), 253);
        assert_eq!(all[3].source, Source::Hash(4096));
        assert!(all[4..].iter().all(|s| s.source == Source::Zero));
        assert_eq!(l.column_segments(0, 0..0).unwrap().count(), 0);
        assert!(l.column_segments(0, 0..2).is_err());
        assert!(l.column_segments(253, 0..1).is_err());
    }
}

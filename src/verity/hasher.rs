//! Salted block digests: `H(salt || block)` for type 1, `H(block || salt)` for type 0.

use super::params::{HashAlgorithm, HashType};
use sha2::Digest;

/// Algorithm, format and salt: everything that decides a block's digest.
#[derive(Debug, Clone)]
pub(crate) struct BlockHasher<'a> {
    pub algorithm: HashAlgorithm,
    pub hash_type: HashType,
    pub salt: &'a [u8],
}

/// Where digests go inside a run of hash-level bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotPlacement {
    /// Bytes from one digest slot to the next.
    pub slot_size: usize,
    /// Digests per hash block.
    pub per_block: usize,
    /// Hash block size in bytes.
    pub hash_block_size: usize,
    /// Slot, within its hash block, of the first digest of the run.
    pub first_slot: usize,
}

impl SlotPlacement {
    /// Byte offset of the `i`-th digest of the run, from the run's first slot.
    fn offset(&self, i: usize) -> usize {
        let slot = self.first_slot + i;
        (slot / self.per_block) * self.hash_block_size + (slot % self.per_block) * self.slot_size
            - self.first_slot * self.slot_size
    }
}

impl BlockHasher<'_> {
    /// Digests each `block_size` chunk of `blocks` into `out` at the slots `placement`
    /// gives. `out` must already be zeroed where padding belongs.
    pub fn digest_run(&self, blocks: &[u8], block_size: usize, out: &mut [u8], placement: SlotPlacement) {
        match self.algorithm {
            HashAlgorithm::Sha1 => self.run::<sha1::Sha1>(blocks, block_size, out, placement),
            HashAlgorithm::Sha224 => self.run::<sha2::Sha224>(blocks, block_size, out, placement),
            #[cfg(target_arch = "x86_64")]
            HashAlgorithm::Sha256 if self.hash_type == HashType::Normal => {
                match crate::simd::sha256_ni::Salted::new(self.salt) {
                    // Four SHA-NI streams interleaved: one is bound by instruction latency.
                    Some(salted) => Self::run_lanes::<4, 32>(
                        blocks,
                        block_size,
                        out,
                        placement,
                        |group| salted.digest_n(std::array::from_fn(|l| &group[l * block_size..][..block_size])),
                        |block| salted.digest_n::<1>([block])[0],
                    ),
                    None => self.run::<sha2::Sha256>(blocks, block_size, out, placement),
                }
            }
            HashAlgorithm::Sha256 => self.run::<sha2::Sha256>(blocks, block_size, out, placement),
            HashAlgorithm::Sha384 => self.run::<sha2::Sha384>(blocks, block_size, out, placement),
            #[cfg(target_arch = "x86_64")]
            HashAlgorithm::Sha512 if self.hash_type == HashType::Normal => {
                match crate::simd::sha512_avx512::Salted512::new(self.salt) {
                    // Eight AVX-512 lanes; the last few blocks go through sha2.
                    Some(salted) => {
                        let salted_ctx = sha2::Sha512::new_with_prefix(self.salt);
                        Self::run_lanes::<8, 64>(
                            blocks,
                            block_size,
                            out,
                            placement,
                            |group| salted.digest8(group),
                            |block| salted_ctx.clone().chain_update(block).finalize().into(),
                        )
                    }
                    None => self.run::<sha2::Sha512>(blocks, block_size, out, placement),
                }
            }
            HashAlgorithm::Sha512 => self.run::<sha2::Sha512>(blocks, block_size, out, placement),
        }
    }

    fn run<D: Digest + Clone>(&self, blocks: &[u8], block_size: usize, out: &mut [u8], placement: SlotPlacement) {
        let digest_size = self.algorithm.digest_size();
        // Cloning a context that has absorbed the salt is cheaper than re-hashing it.
        let salted = D::new_with_prefix(self.salt);
        for (i, block) in blocks.chunks_exact(block_size).enumerate() {
            let at = placement.offset(i);
            let digest = match self.hash_type {
                HashType::Normal => salted.clone().chain_update(block).finalize(),
                HashType::ChromeOs => D::new().chain_update(block).chain_update(self.salt).finalize(),
            };
            out[at..at + digest_size].copy_from_slice(&digest);
        }
    }

    /// Places the digests of a run computed `LANES` blocks at a time by `group`, with
    /// `single` for the last blocks that do not fill a group.
    #[cfg(target_arch = "x86_64")]
    fn run_lanes<const LANES: usize, const SIZE: usize>(
        blocks: &[u8],
        block_size: usize,
        out: &mut [u8],
        placement: SlotPlacement,
        group: impl Fn(&[u8]) -> [[u8; SIZE]; LANES],
        single: impl Fn(&[u8]) -> [u8; SIZE],
    ) {
        let mut next = 0;
        let mut put = |digest: [u8; SIZE]| {
            let at = placement.offset(next);
            out[at..at + SIZE].copy_from_slice(&digest);
            next += 1;
        };
        let mut groups = blocks.chunks_exact(block_size * LANES);
        for digests in (&mut groups).map(group) {
            digests.into_iter().for_each(&mut put);
        }
        groups.remainder().chunks_exact(block_size).map(single).for_each(put);
    }

    /// The digest of one block.
    pub fn digest_one(&self, block: &[u8]) -> Vec<u8> {
        let size = self.algorithm.digest_size();
        let mut out = vec![0u8; size];
        let placement = SlotPlacement { slot_size: size, per_block: 1, hash_block_size: size, first_slot: 0 };
        self.digest_run(block, block.len(), &mut out, placement);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_goes_first_for_type1_and_last_for_type0() {
        let block = [7u8; 512];
        let salt = [1u8, 2, 3];
        let normal = BlockHasher { algorithm: HashAlgorithm::Sha256, hash_type: HashType::Normal, salt: &salt };
        let chromeos = BlockHasher { hash_type: HashType::ChromeOs, ..normal.clone() };
        let mut pre = salt.to_vec();
        pre.extend_from_slice(&block);
        let mut post = block.to_vec();
        post.extend_from_slice(&salt);
        assert_eq!(normal.digest_one(&block), sha2::Sha256::digest(&pre).to_vec());
        assert_eq!(chromeos.digest_one(&block), sha2::Sha256::digest(&post).to_vec());
    }

    /// The interleaved SHA-256 and multi-buffer SHA-512 paths agree with the generic one
    /// for every salt length class, block size and lane remainder.
    #[test]
    fn fast_paths_match_the_generic_digests() {
        let data: Vec<u8> = (0..13 * 4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
            for salt_len in [0usize, 1, 32, 63, 64, 65, 127, 128, 200, 256] {
                let salt: Vec<u8> = (0..salt_len).map(|i| (i * 7 + 1) as u8).collect();
                let hasher = BlockHasher { algorithm, hash_type: HashType::Normal, salt: &salt };
                for block_size in [512usize, 1024, 4096] {
                    for count in [1usize, 3, 4, 7, 8, 9, 13] {
                        let blocks = &data[..count * block_size];
                        let size = algorithm.digest_size();
                        let placement = SlotPlacement {
                            slot_size: size,
                            per_block: count,
                            hash_block_size: size * count,
                            first_slot: 0,
                        };
                        let mut fast = vec![0u8; size * count];
                        hasher.digest_run(blocks, block_size, &mut fast, placement);
                        let mut generic = vec![0u8; size * count];
                        match algorithm {
                            HashAlgorithm::Sha256 => {
                                hasher.run::<sha2::Sha256>(blocks, block_size, &mut generic, placement)
                            }
                            _ => hasher.run::<sha2::Sha512>(blocks, block_size, &mut generic, placement),
                        }
                        assert_eq!(fast, generic, "{algorithm:?} salt {salt_len} block {block_size} count {count}");
                    }
                }
            }
        }
    }
}

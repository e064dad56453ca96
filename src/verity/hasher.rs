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
            HashAlgorithm::Sha256 => self.run::<sha2::Sha256>(blocks, block_size, out, placement),
            HashAlgorithm::Sha384 => self.run::<sha2::Sha384>(blocks, block_size, out, placement),
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
}

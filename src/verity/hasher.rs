//! Salted block digests: `H(salt || block)` for type 1, `H(block || salt)` for type 0.
//!
//! Pure logic: which backend computes the digests is decided elsewhere (`backend.rs`)
//! and handed in as a [`SaltedDigests`].

use super::error::Result;
use super::params::{HashAlgorithm, HashType};
use alloc::vec;
use alloc::vec::Vec;
use sha2::Digest;

/// Computes `H(salt || message)` (or `H(message || salt)`, as the backend was built) for
/// many messages of one length: the one operation every hashing backend provides.
pub(crate) trait SaltedDigests: Send + Sync {
    /// Writes the digest of each message to consecutive digest-size chunks of `out`.
    /// The caller guarantees equal lengths and a large enough `out`. Only OpenSSL can fail.
    fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()>;

    /// The OpenSSL provider that computes the digests, for an OpenSSL backend.
    fn provider(&self) -> Option<&str> {
        None
    }
}

/// Algorithm, format and salt: everything that decides a block's digest, plus the
/// backend that computes the digests.
pub(crate) struct BlockHasher<'a> {
    pub algorithm: HashAlgorithm,
    pub hash_type: HashType,
    pub salt: &'a [u8],
    /// None for hash type 0 outside OpenSSL, which `chromeos_run` hashes.
    multi: Option<&'a dyn SaltedDigests>,
}

/// Blocks handed to the backend per call: a multiple of every backend's lane count,
/// many enough that its prefetching runs ahead, few enough that the digests fit in a
/// small stack buffer (16 KiB).
const GROUP: usize = 256;

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

impl<'a> BlockHasher<'a> {
    /// A hasher whose digests `multi` computes: with the salt in front for hash type 1,
    /// behind for type 0. Without `multi` the portable code computes them.
    pub fn new(
        algorithm: HashAlgorithm,
        hash_type: HashType,
        salt: &'a [u8],
        multi: Option<&'a dyn SaltedDigests>,
    ) -> Self {
        BlockHasher { algorithm, hash_type, salt, multi }
    }

    /// Digests each `block_size` chunk of `blocks` into `out` at the slots `placement`
    /// gives. `out` must already be zeroed where padding belongs.
    pub fn digest_run(&self, blocks: &[u8], block_size: usize, out: &mut [u8], placement: SlotPlacement) -> Result<()> {
        let Some(multi) = self.multi else {
            self.chromeos_run(blocks, block_size, out, placement);
            return Ok(());
        };
        let size = self.algorithm.digest_size();
        let mut digests = [0u8; GROUP * 64];
        for (g, group) in blocks.chunks(GROUP * block_size).enumerate() {
            let mut messages: [&[u8]; GROUP] = [&[]; GROUP];
            let count = group.len() / block_size;
            for (slot, block) in messages.iter_mut().zip(group.chunks_exact(block_size)) {
                *slot = block;
            }
            multi.digest_all(&messages[..count], &mut digests)?;
            for (i, digest) in digests.chunks_exact(size).take(count).enumerate() {
                let at = placement.offset(g * GROUP + i);
                out[at..at + size].copy_from_slice(digest);
            }
        }
        Ok(())
    }

    /// Hash type 0, `H(block || salt)`: always the portable code.
    fn chromeos_run(&self, blocks: &[u8], block_size: usize, out: &mut [u8], placement: SlotPlacement) {
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
    pub fn digest_one(&self, block: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.algorithm.digest_size()];
        self.digest_into(block, &mut out)?;
        Ok(out)
    }

    /// The digest of one block into `out`, which holds exactly one digest. Allocates
    /// nothing (the boot library's path).
    pub fn digest_into(&self, block: &[u8], out: &mut [u8]) -> Result<()> {
        let size = out.len();
        let placement = SlotPlacement { slot_size: size, per_block: 1, hash_block_size: size, first_slot: 0 };
        self.digest_run(block, block.len(), out, placement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_goes_first_for_type1_and_last_for_type0() {
        let block = [7u8; 512];
        let salt = [1u8, 2, 3];
        let normal = BlockHasher::new(HashAlgorithm::Sha256, HashType::Normal, &salt, None);
        let chromeos = BlockHasher::new(HashAlgorithm::Sha256, HashType::ChromeOs, &salt, None);
        let mut pre = salt.to_vec();
        pre.extend_from_slice(&block);
        let mut post = block.to_vec();
        post.extend_from_slice(&salt);
        assert_eq!(normal.digest_one(&block).unwrap(), sha2::Sha256::digest(&pre).to_vec());
        assert_eq!(chromeos.digest_one(&block).unwrap(), sha2::Sha256::digest(&post).to_vec());
    }

    /// The interleaved SHA-256 and multi-buffer SHA-512 paths agree with the generic one
    /// for every salt length class, block size and lane remainder.
    #[test]
    fn fast_paths_match_the_generic_digests() {
        let data: Vec<u8> = (0..13 * 4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
            for salt_len in [0usize, 1, 32, 63, 64, 65, 127, 128, 200, 256] {
                let salt: Vec<u8> = (0..salt_len).map(|i| (i * 7 + 1) as u8).collect();
                let fast = crate::verity::SaltedMultiHasher::new(algorithm, &salt, &Default::default()).unwrap();
                let hasher = BlockHasher::new(algorithm, HashType::Normal, &salt, Some(&fast));
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
                        hasher.digest_run(blocks, block_size, &mut fast, placement).unwrap();
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

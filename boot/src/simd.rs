//! The SHA-NI kernel of the host library (the same files), built only after CPUID says
//! the CPU has it and XGETBV says the firmware enabled the SSE register state
//! (`src/simd/cpu.rs`); otherwise the portable code runs. The AVX-512 kernels are not
//! in the boot library: firmware rarely enables the ZMM state, and SHA-NI covers the
//! machines that have them.

#![allow(unsafe_code, dead_code)]

#[path = "../../src/simd/cpu.rs"]
pub(crate) mod cpu;
#[path = "../../src/simd/lanes.rs"]
pub(crate) mod lanes;
#[path = "../../src/simd/sha256_ni.rs"]
pub(crate) mod sha256_ni;
#[path = "../../src/simd/sha2_common.rs"]
mod sha2_common;
pub(crate) use sha2_common::*;

use crate::crypto::HashAlgorithm;
use crate::verity::error::Result;
use crate::verity::hasher::SaltedDigests;
use crate::verity::layout::HashType;
use lanes::SaltedLanes;
use sha256_ni::ShaNi;

/// Messages the SHA-NI kernel interleaves (the host's choice too).
const STREAMS: usize = 4;

/// SHA-256 with the salt in front, on SHA-NI.
pub(crate) struct ShaNiSalted(SaltedLanes<ShaNi, STREAMS>);

impl ShaNiSalted {
    /// The kernel for a tree of `algorithm` and `hash_type` salted with `salt`, when this
    /// CPU and firmware can run it: SHA-256, salt first (format 1).
    pub(crate) fn for_tree(algorithm: HashAlgorithm, hash_type: HashType, salt: &[u8]) -> Option<Self> {
        if algorithm != HashAlgorithm::Sha256 || hash_type != HashType::Normal {
            return None;
        }
        Some(ShaNiSalted(SaltedLanes::new(ShaNi::new()?, salt)))
    }
}

impl SaltedDigests for ShaNiSalted {
    fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        self.0.digest_all(messages, out);
        Ok(())
    }
}

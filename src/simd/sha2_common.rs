//! What the SHA kernels share: the SHA-256 constants, big-endian digest output and the
//! prefetch hint. Compiled by the boot library too (boot/src/simd.rs), with
//! `lanes.rs`, `sha256_ni.rs` and `cpu.rs`.

/// SHA-256 round constants (FIPS 180-4, 4.2.2).
pub(crate) const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];
/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
pub(crate) const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Writes state words as the big-endian digest bytes (`out` holds the digest size).
pub(crate) fn words_be<W: Copy + BigEndian>(state: &[W; 8], out: &mut [u8]) {
    let size = W::SIZE;
    for (word, chunk) in state.iter().zip(out.chunks_exact_mut(size)) {
        word.put_be(chunk);
    }
}

/// A state word that can be written big-endian.
pub(crate) trait BigEndian {
    const SIZE: usize;
    fn put_be(self, out: &mut [u8]);
}

impl BigEndian for u32 {
    const SIZE: usize = 4;
    fn put_be(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_be_bytes());
    }
}

impl BigEndian for u64 {
    const SIZE: usize = 8;
    fn put_be(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_be_bytes());
    }
}

/// How many blocks ahead of the one being compressed each lane's data is prefetched.
pub(crate) const PREFETCH_BLOCKS: usize = 4;

/// Asks for each lane's bytes at `offset` to be brought into the cache: many sequential
/// streams in lockstep are more than the hardware prefetchers follow, and the loads of
/// one block wait for the whole compression of the previous one. `prefetcht0` touches
/// no vector register, so it mixes with either SSE or AVX-512 code.
#[inline]
#[target_feature(enable = "sse")]
pub(crate) fn prefetch_ahead<const N: usize>(ptrs: &[*const u8; N], offset: usize) {
    for p in ptrs {
        // A prefetch is a hint that never faults, whatever the address; the pointer is
        // formed with wrapping arithmetic and never dereferenced.
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(offset).cast());
    }
}

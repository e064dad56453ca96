//! N-way interleaved SHA-256 with the x86 SHA extensions, for many equal-length
//! messages sharing a salt prefix (dm-verity format 1). One SHA-NI stream is bound by
//! the latency of `sha256rnds2`; interleaving independent messages fills the pipeline.
#![allow(unsafe_op_in_unsafe_fn)]
use core::arch::x86_64::*;

use super::{SHA256_IV as IV, SHA256_K as K};

/// # Safety
/// Needs SSSE3 and SSE4.1; only called from `compress_n`, which enables them.
#[inline(always)]
unsafe fn load_state(s: &[u32; 8]) -> (__m128i, __m128i) {
    let p = s.as_ptr() as *const __m128i;
    let dcba = _mm_loadu_si128(p);
    let efgh = _mm_loadu_si128(p.add(1));
    let cdab = _mm_shuffle_epi32(dcba, 0xB1);
    let efgh = _mm_shuffle_epi32(efgh, 0x1B);
    (_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0))
}
/// # Safety
/// As for `load_state`.
#[inline(always)]
unsafe fn store_state(abef: __m128i, cdgh: __m128i, s: &mut [u32; 8]) {
    let feba = _mm_shuffle_epi32(abef, 0x1B);
    let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    let p = s.as_mut_ptr() as *mut __m128i;
    _mm_storeu_si128(p, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(p.add(1), _mm_alignr_epi8(dchg, feba, 8));
}

/// Compresses `count` 64-byte blocks of each of N messages (block j of lane l at
/// ptrs[l] + 64 j) into states, all lanes in lockstep.
///
/// # Safety
/// The CPU must have SHA, SSSE3 and SSE4.1, and every `ptrs[l]` must be readable for
/// `64 * count` bytes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn compress_n<const N: usize>(states: &mut [[u32; 8]; N], ptrs: [*const u8; N], count: usize) {
    let mask = _mm_set_epi64x(0x0C0D_0E0F_0809_0A0Bu64 as i64, 0x0405_0607_0001_0203u64 as i64);
    let mut abef = [_mm_setzero_si128(); N];
    let mut cdgh = [_mm_setzero_si128(); N];
    for l in 0..N {
        (abef[l], cdgh[l]) = load_state(&states[l]);
    }
    for j in 0..count {
        super::prefetch_ahead(&ptrs, 64 * (j + super::PREFETCH_BLOCKS));
        let save_a = abef;
        let save_c = cdgh;
        let w_load = |l: usize, q: usize| {
            _mm_shuffle_epi8(_mm_loadu_si128((ptrs[l].add(64 * j) as *const __m128i).add(q)), mask)
        };
        let mut w: [[__m128i; 4]; N] = core::array::from_fn(|l| core::array::from_fn(|q| w_load(l, q)));
        // 16 groups of 4 rounds; w[l][i % 4] holds W[4i..4i+4].
        macro_rules! group {
            ($i:expr) => {{
                let kv = _mm_loadu_si128(K.as_ptr().add(4 * $i) as *const __m128i);
                for l in 0..N {
                    if $i >= 4 {
                        let (v0, v1, v2, v3) =
                            (w[l][$i % 4], w[l][($i + 1) % 4], w[l][($i + 2) % 4], w[l][($i + 3) % 4]);
                        let t1 = _mm_sha256msg1_epu32(v0, v1);
                        let t2 = _mm_alignr_epi8(v3, v2, 4);
                        w[l][$i % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(t1, t2), v3);
                    }
                }
                let mut t = [_mm_setzero_si128(); N];
                for l in 0..N {
                    t[l] = _mm_add_epi32(w[l][$i % 4], kv);
                    cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], t[l]);
                }
                for l in 0..N {
                    abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(t[l], 0x0E));
                }
            }};
        }
        group!(0);
        group!(1);
        group!(2);
        group!(3);
        group!(4);
        group!(5);
        group!(6);
        group!(7);
        group!(8);
        group!(9);
        group!(10);
        group!(11);
        group!(12);
        group!(13);
        group!(14);
        group!(15);
        for l in 0..N {
            abef[l] = _mm_add_epi32(abef[l], save_a[l]);
            cdgh[l] = _mm_add_epi32(cdgh[l], save_c[l]);
        }
    }
    for l in 0..N {
        store_state(abef[l], cdgh[l], &mut states[l]);
    }
}

/// The SHA-NI kernel. Only [`ShaNi::new`] builds one, after checking the CPU features
/// `compress_n` needs.
#[derive(Clone, Copy)]
pub(crate) struct ShaNi(());

impl ShaNi {
    /// `None` when the CPU lacks the SHA extensions (or SSSE3/SSE4.1), or the SSE
    /// register state is not enabled (CPUID and XGETBV, [`super::cpu`]: the same check
    /// in the host library and in firmware).
    pub(crate) fn new() -> Option<Self> {
        super::cpu::sha_ni_usable().then_some(ShaNi(()))
    }
}

// SAFETY: a `ShaNi` exists only after `ShaNi::new` found the features `compress_n` needs.
unsafe impl<const N: usize> super::lanes::Kernel<N> for ShaNi {
    type Word = u32;
    const BLOCK: usize = 64;
    const LENGTH_BYTES: usize = 8;
    const DIGEST: usize = 32;
    const IV: [u32; 8] = IV;

    unsafe fn compress(&self, states: &mut [[u32; 8]; N], ptrs: [*const u8; N], count: usize) {
        // SAFETY: the CPU features are present (see above); the caller vouches for the pointers.
        unsafe { compress_n::<N>(states, ptrs, count) }
    }

    fn digest_bytes(state: &[u32; 8], out: &mut [u8]) {
        super::words_be(state, out);
    }
}

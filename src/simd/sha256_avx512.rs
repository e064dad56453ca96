//! 16-lane AVX-512 multi-buffer SHA-256: sixteen messages side by side, one per 32-bit
//! lane of each ZMM register. Rotations are single `vprord` instructions and the
//! three-input logic (Ch, Maj, the Σ XORs) single `vpternlogd`s, which is what makes a
//! scalar-style round cheap enough to beat the SHA instructions when 16 run at once.

use super::lanes::Kernel;
use super::transpose::transpose16x32;
use super::{PREFETCH_BLOCKS, SHA256_IV, SHA256_K, prefetch_ahead};
use core::arch::x86_64::*;

/// Lanes per group.
pub(crate) const LANES: usize = 16;

/// `a ^ b ^ c` in one instruction (truth table 0x96).
#[inline]
#[target_feature(enable = "avx512f")]
fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
    _mm512_ternarylogic_epi32::<0x96>(a, b, c)
}

/// Compresses `count` 64-byte blocks of each of 16 messages.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512BW, and every `ptrs[l]` must be readable for
/// `64 * count` bytes.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn compress16(states: &mut [[u32; 8]; LANES], ptrs: [*const u8; LANES], count: usize) {
    // Big-endian words: reverse the bytes of each 32-bit word.
    let swap: [u8; 64] = core::array::from_fn(|i| ((i / 4) * 4 + 3 - i % 4) as u8 % 16);
    // SAFETY: `swap` is 64 readable bytes.
    let swap = unsafe { _mm512_loadu_si512(swap.as_ptr().cast()) };
    let mut state: [__m512i; 8] = core::array::from_fn(|i| {
        let column: [u32; LANES] = core::array::from_fn(|l| states[l][i]);
        // SAFETY: `column` is 64 readable bytes.
        unsafe { _mm512_loadu_si512(column.as_ptr().cast()) }
    });
    for j in 0..count {
        prefetch_ahead(&ptrs, 64 * (j + PREFETCH_BLOCKS));
        // SAFETY: block `j` of every lane is readable, per this function's contract.
        let rows: [__m512i; LANES] = core::array::from_fn(|l| {
            _mm512_shuffle_epi8(unsafe { _mm512_loadu_si512(ptrs[l].add(64 * j).cast()) }, swap)
        });
        let mut w = transpose16x32(rows);
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        macro_rules! round {
            ($t:expr, $i:expr, $schedule:expr) => {{
                if $schedule {
                    let x = w[($i + 1) % 16];
                    let s0 = xor3(_mm512_ror_epi32::<7>(x), _mm512_ror_epi32::<18>(x), _mm512_srli_epi32::<3>(x));
                    let y = w[($i + 14) % 16];
                    let s1 = xor3(_mm512_ror_epi32::<17>(y), _mm512_ror_epi32::<19>(y), _mm512_srli_epi32::<10>(y));
                    w[$i] = _mm512_add_epi32(_mm512_add_epi32(w[$i], s0), _mm512_add_epi32(w[($i + 9) % 16], s1));
                }
                let s1 = xor3(_mm512_ror_epi32::<6>(e), _mm512_ror_epi32::<11>(e), _mm512_ror_epi32::<25>(e));
                let ch = _mm512_ternarylogic_epi32::<0xCA>(e, f, g);
                let kw = _mm512_add_epi32(_mm512_set1_epi32(SHA256_K[$t] as i32), w[$i]);
                let t1 = _mm512_add_epi32(_mm512_add_epi32(h, s1), _mm512_add_epi32(ch, kw));
                let s0 = xor3(_mm512_ror_epi32::<2>(a), _mm512_ror_epi32::<13>(a), _mm512_ror_epi32::<22>(a));
                let maj = _mm512_ternarylogic_epi32::<0xE8>(a, b, c);
                h = g;
                g = f;
                f = e;
                e = _mm512_add_epi32(d, t1);
                d = c;
                c = b;
                b = a;
                a = _mm512_add_epi32(t1, _mm512_add_epi32(s0, maj));
            }};
        }
        // Sixteen rounds per pass, so that the message word index is a constant; the
        // first pass uses the loaded words, the others extend the schedule.
        macro_rules! pass {
            ($t:expr, $schedule:expr) => {{
                let t = $t;
                round!(t, 0, $schedule);
                round!(t + 1, 1, $schedule);
                round!(t + 2, 2, $schedule);
                round!(t + 3, 3, $schedule);
                round!(t + 4, 4, $schedule);
                round!(t + 5, 5, $schedule);
                round!(t + 6, 6, $schedule);
                round!(t + 7, 7, $schedule);
                round!(t + 8, 8, $schedule);
                round!(t + 9, 9, $schedule);
                round!(t + 10, 10, $schedule);
                round!(t + 11, 11, $schedule);
                round!(t + 12, 12, $schedule);
                round!(t + 13, 13, $schedule);
                round!(t + 14, 14, $schedule);
                round!(t + 15, 15, $schedule);
            }};
        }
        pass!(0, false);
        for pass in 1..4 {
            pass!(16 * pass, true);
        }
        for (s, n) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = _mm512_add_epi32(*s, n);
        }
    }
    for (i, v) in state.into_iter().enumerate() {
        let mut column = [0u32; LANES];
        // SAFETY: `column` is 64 writable bytes.
        unsafe { _mm512_storeu_si512(column.as_mut_ptr().cast(), v) };
        for (lane, word) in states.iter_mut().zip(column) {
            lane[i] = word;
        }
    }
}

/// The 16-lane kernel. Only [`Avx512Sha256::new`] builds one, after checking the CPU
/// features `compress16` needs.
#[derive(Clone, Copy)]
pub(crate) struct Avx512Sha256(());

impl Avx512Sha256 {
    /// `None` without AVX-512F and AVX-512BW.
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
        present.then_some(Avx512Sha256(()))
    }
}

// SAFETY: an `Avx512Sha256` exists only after `new` found the features `compress16` needs.
unsafe impl Kernel<LANES> for Avx512Sha256 {
    type Word = u32;
    const BLOCK: usize = 64;
    const LENGTH_BYTES: usize = 8;
    const DIGEST: usize = 32;
    const IV: [u32; 8] = SHA256_IV;

    unsafe fn compress(&self, states: &mut [[u32; 8]; LANES], ptrs: [*const u8; LANES], count: usize) {
        // SAFETY: the CPU features are present (see above); the caller vouches for the pointers.
        unsafe { compress16(states, ptrs, count) }
    }

    fn digest_bytes(state: &[u32; 8], out: &mut [u8]) {
        super::words_be(state, out);
    }
}

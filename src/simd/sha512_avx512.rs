//! 8-lane AVX-512 multi-buffer SHA-512: eight messages side by side, one per 64-bit
//! lane of each ZMM register, with `vprorq` rotations and `vpternlogq` three-input logic.

use super::lanes::Kernel;
use super::transpose::transpose8x64;
use core::arch::x86_64::*;

/// Lanes per group.
pub(crate) const LANES: usize = 8;

const K: [u64; 80] = [
    0x428a2f98d728ae22,
    0x7137449123ef65cd,
    0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc,
    0x3956c25bf348b538,
    0x59f111f1b605d019,
    0x923f82a4af194f9b,
    0xab1c5ed5da6d8118,
    0xd807aa98a3030242,
    0x12835b0145706fbe,
    0x243185be4ee4b28c,
    0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f,
    0x80deb1fe3b1696b1,
    0x9bdc06a725c71235,
    0xc19bf174cf692694,
    0xe49b69c19ef14ad2,
    0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5,
    0x240ca1cc77ac9c65,
    0x2de92c6f592b0275,
    0x4a7484aa6ea6e483,
    0x5cb0a9dcbd41fbd4,
    0x76f988da831153b5,
    0x983e5152ee66dfab,
    0xa831c66d2db43210,
    0xb00327c898fb213f,
    0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2,
    0xd5a79147930aa725,
    0x06ca6351e003826f,
    0x142929670a0e6e70,
    0x27b70a8546d22ffc,
    0x2e1b21385c26c926,
    0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df,
    0x650a73548baf63de,
    0x766a0abb3c77b2a8,
    0x81c2c92e47edaee6,
    0x92722c851482353b,
    0xa2bfe8a14cf10364,
    0xa81a664bbc423001,
    0xc24b8b70d0f89791,
    0xc76c51a30654be30,
    0xd192e819d6ef5218,
    0xd69906245565a910,
    0xf40e35855771202a,
    0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8,
    0x1e376c085141ab53,
    0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63,
    0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc,
    0x78a5636f43172f60,
    0x84c87814a1f0ab72,
    0x8cc702081a6439ec,
    0x90befffa23631e28,
    0xa4506cebde82bde9,
    0xbef9a3f7b2c67915,
    0xc67178f2e372532b,
    0xca273eceea26619c,
    0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e,
    0xf57d4f7fee6ed178,
    0x06f067aa72176fba,
    0x0a637dc5a2c898a6,
    0x113f9804bef90dae,
    0x1b710b35131c471b,
    0x28db77f523047d84,
    0x32caab7b40c72493,
    0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6,
    0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec,
    0x6c44198c4a475817,
];
const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// `a ^ b ^ c` in one instruction (truth table 0x96).
#[inline]
#[target_feature(enable = "avx512f")]
fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
    _mm512_ternarylogic_epi64::<0x96>(a, b, c)
}

/// Compresses `count` 128-byte blocks of each of 8 messages.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512BW, and every `ptrs[l]` must be readable for
/// `128 * count` bytes.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn compress8(states: &mut [[u64; 8]; LANES], ptrs: [*const u8; LANES], count: usize) {
    // Big-endian words: reverse the bytes of each 64-bit word.
    let swap: [u8; 64] = core::array::from_fn(|i| ((i / 8) * 8 + 7 - i % 8) as u8 % 16);
    // SAFETY: `swap` is 64 readable bytes.
    let swap = unsafe { _mm512_loadu_si512(swap.as_ptr().cast()) };
    let mut state: [__m512i; 8] = core::array::from_fn(|i| {
        let column: [u64; LANES] = core::array::from_fn(|l| states[l][i]);
        // SAFETY: `column` is 64 readable bytes.
        unsafe { _mm512_loadu_si512(column.as_ptr().cast()) }
    });
    for j in 0..count {
        super::prefetch_ahead(&ptrs, 128 * (j + super::PREFETCH_BLOCKS));
        super::prefetch_ahead(&ptrs, 128 * (j + super::PREFETCH_BLOCKS) + 64);
        // SAFETY: block `j` of every lane (128 bytes, two loads) is readable, per this
        // function's contract.
        let load = |l: usize, half: usize| {
            _mm512_shuffle_epi8(unsafe { _mm512_loadu_si512(ptrs[l].add(128 * j + 64 * half).cast()) }, swap)
        };
        let low = transpose8x64(core::array::from_fn(|l| load(l, 0)));
        let high = transpose8x64(core::array::from_fn(|l| load(l, 1)));
        let mut w: [__m512i; 16] = core::array::from_fn(|i| if i < 8 { low[i] } else { high[i - 8] });
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        macro_rules! round {
            ($t:expr, $i:expr, $schedule:expr) => {{
                if $schedule {
                    let x = w[($i + 1) % 16];
                    let s0 = xor3(_mm512_ror_epi64::<1>(x), _mm512_ror_epi64::<8>(x), _mm512_srli_epi64::<7>(x));
                    let y = w[($i + 14) % 16];
                    let s1 = xor3(_mm512_ror_epi64::<19>(y), _mm512_ror_epi64::<61>(y), _mm512_srli_epi64::<6>(y));
                    w[$i] = _mm512_add_epi64(_mm512_add_epi64(w[$i], s0), _mm512_add_epi64(w[($i + 9) % 16], s1));
                }
                let s1 = xor3(_mm512_ror_epi64::<14>(e), _mm512_ror_epi64::<18>(e), _mm512_ror_epi64::<41>(e));
                let ch = _mm512_ternarylogic_epi64::<0xCA>(e, f, g);
                let kw = _mm512_add_epi64(_mm512_set1_epi64(K[$t] as i64), w[$i]);
                let t1 = _mm512_add_epi64(_mm512_add_epi64(h, s1), _mm512_add_epi64(ch, kw));
                let s0 = xor3(_mm512_ror_epi64::<28>(a), _mm512_ror_epi64::<34>(a), _mm512_ror_epi64::<39>(a));
                let maj = _mm512_ternarylogic_epi64::<0xE8>(a, b, c);
                h = g;
                g = f;
                f = e;
                e = _mm512_add_epi64(d, t1);
                d = c;
                c = b;
                b = a;
                a = _mm512_add_epi64(t1, _mm512_add_epi64(s0, maj));
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
        for pass in 1..5 {
            pass!(16 * pass, true);
        }
        for (s, n) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = _mm512_add_epi64(*s, n);
        }
    }
    for (i, v) in state.into_iter().enumerate() {
        let mut column = [0u64; LANES];
        // SAFETY: `column` is 64 writable bytes.
        unsafe { _mm512_storeu_si512(column.as_mut_ptr().cast(), v) };
        for (lane, word) in states.iter_mut().zip(column) {
            lane[i] = word;
        }
    }
}

/// The 8-lane kernel. Only [`Avx512Sha512::new`] builds one, after checking the CPU
/// features `compress8` needs.
#[derive(Clone, Copy)]
pub(crate) struct Avx512Sha512(());

impl Avx512Sha512 {
    /// `None` without AVX-512F and AVX-512BW.
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
        present.then_some(Avx512Sha512(()))
    }
}

// SAFETY: an `Avx512Sha512` exists only after `new` found the features `compress8` needs.
unsafe impl Kernel<LANES> for Avx512Sha512 {
    type Word = u64;
    const BLOCK: usize = 128;
    const LENGTH_BYTES: usize = 16;
    const DIGEST: usize = 64;
    const IV: [u64; 8] = IV;

    unsafe fn compress(&self, states: &mut [[u64; 8]; LANES], ptrs: [*const u8; LANES], count: usize) {
        // SAFETY: the CPU features are present (see above); the caller vouches for the pointers.
        unsafe { compress8(states, ptrs, count) }
    }

    fn digest_bytes(state: &[u64; 8], out: &mut [u8]) {
        super::words_be(state, out);
    }
}

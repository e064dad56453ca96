//! 8-lane AVX-512 multi-buffer SHA-512 for equal-length salted messages (prototype:
//! salts shorter than 128 bytes).
#![allow(unsafe_op_in_unsafe_fn)]
use core::arch::x86_64::*;

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
///
/// # Safety
/// Needs AVX-512F; only called from `compress8`, which enables it.
#[inline(always)]
unsafe fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
    _mm512_ternarylogic_epi64(a, b, c, 0x96)
}

/// Compresses `count` 128-byte blocks of each of 8 messages; state[i] lane l = word i of message l.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512BW, and every `ptrs[l]` must be readable for
/// `128 * count` bytes. All `ptrs` must point into one allocation: the gather reaches
/// every lane through lane 0's pointer plus an offset.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn compress8(state: &mut [__m512i; 8], ptrs: [*const u8; 8], count: usize) {
    let base = ptrs[0];
    let off: [i64; 8] = core::array::from_fn(|l| (ptrs[l] as i64).wrapping_sub(base as i64));
    let idx = _mm512_loadu_si512(off.as_ptr() as *const _);
    let swap: [u8; 64] = core::array::from_fn(|i| ((i / 8) * 8 + 7 - i % 8) as u8 % 16);
    let swap = _mm512_loadu_si512(swap.as_ptr() as *const _);
    for j in 0..count {
        let mut w: [__m512i; 16] = core::array::from_fn(|t| {
            _mm512_shuffle_epi8(_mm512_i64gather_epi64::<1>(idx, base.add(128 * j + 8 * t) as *const _), swap)
        });
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
        macro_rules! round {
            ($t:expr) => {{
                let t = $t;
                if t >= 16 {
                    let x = w[(t + 1) % 16];
                    let s0 = xor3(_mm512_ror_epi64(x, 1), _mm512_ror_epi64(x, 8), _mm512_srli_epi64(x, 7));
                    let y = w[(t + 14) % 16];
                    let s1 = xor3(_mm512_ror_epi64(y, 19), _mm512_ror_epi64(y, 61), _mm512_srli_epi64(y, 6));
                    w[t % 16] =
                        _mm512_add_epi64(_mm512_add_epi64(w[t % 16], s0), _mm512_add_epi64(w[(t + 9) % 16], s1));
                }
                let s1 = xor3(_mm512_ror_epi64(e, 14), _mm512_ror_epi64(e, 18), _mm512_ror_epi64(e, 41));
                let ch = _mm512_ternarylogic_epi64(e, f, g, 0xCA);
                let t1 = _mm512_add_epi64(
                    _mm512_add_epi64(h, s1),
                    _mm512_add_epi64(ch, _mm512_add_epi64(_mm512_set1_epi64(K[t] as i64), w[t % 16])),
                );
                let s0 = xor3(_mm512_ror_epi64(a, 28), _mm512_ror_epi64(a, 34), _mm512_ror_epi64(a, 39));
                let maj = _mm512_ternarylogic_epi64(a, b, c, 0xE8);
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
        for t in 0..80 {
            round!(t);
        }
        let new = [a, b, c, d, e, f, g, h];
        for (s, n) in state.iter_mut().zip(new) {
            *s = _mm512_add_epi64(*s, n);
        }
    }
}

/// Only [`Salted512::new`] builds one, after checking the CPU features `compress8` needs.
pub struct Salted512 {
    state: [u64; 8],
    rest: Vec<u8>,
    salt_len: usize,
}

impl Salted512 {
    /// `None` without AVX-512F/BW, or for salts of 128 bytes or more.
    pub fn new(salt: &[u8]) -> Option<Self> {
        if salt.len() >= 128 || !(std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw"))
        {
            return None;
        }
        Some(Salted512 { state: IV, rest: salt.to_vec(), salt_len: salt.len() })
    }

    /// Digests the 8 equal-length messages (each at least 128 bytes) that `group` holds
    /// back to back, each prefixed by the salt. Taking one slice keeps every lane in one
    /// allocation, which the gather in `compress8` needs.
    pub fn digest8(&self, group: &[u8]) -> [[u8; 64]; 8] {
        let len = group.len() / 8;
        assert!(len >= 128 && group.len() == len * 8);
        let msgs: [&[u8]; 8] = core::array::from_fn(|l| &group[l * len..(l + 1) * len]);
        let r = self.rest.len();
        let total_bits = ((self.salt_len + len) as u128) * 8;
        // SAFETY: `self` exists only when the CPU has AVX-512F/BW, and every pointer
        // passed covers the number of 128-byte blocks given.
        unsafe {
            let mut st: [__m512i; 8] = core::array::from_fn(|i| _mm512_set1_epi64(self.state[i] as i64));
            let mut off = 0;
            if r > 0 {
                let mut first = [[0u8; 128]; 8];
                for l in 0..8 {
                    first[l][..r].copy_from_slice(&self.rest);
                    first[l][r..].copy_from_slice(&msgs[l][..128 - r]);
                }
                compress8(&mut st, core::array::from_fn(|l| first[l].as_ptr()), 1);
                off = 128 - r;
            }
            let mid = (len - off) / 128;
            compress8(&mut st, core::array::from_fn(|l| msgs[l].as_ptr().add(off)), mid);
            off += mid * 128;
            let tail = len - off;
            let nb = if tail + 17 <= 128 { 1 } else { 2 };
            let mut last = [[0u8; 256]; 8];
            for l in 0..8 {
                last[l][..tail].copy_from_slice(&msgs[l][off..]);
                last[l][tail] = 0x80;
                last[l][nb * 128 - 16..nb * 128].copy_from_slice(&total_bits.to_be_bytes());
            }
            compress8(&mut st, core::array::from_fn(|l| last[l].as_ptr()), nb);
            let mut words = [[0u64; 8]; 8]; // [word][lane]
            for (word, v) in words.iter_mut().zip(st) {
                _mm512_storeu_si512(word.as_mut_ptr() as *mut _, v);
            }
            core::array::from_fn(|l| {
                let mut out = [0u8; 64];
                for i in 0..8 {
                    out[8 * i..8 * i + 8].copy_from_slice(&words[i][l].to_be_bytes());
                }
                out
            })
        }
    }
}

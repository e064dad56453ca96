//! N-way interleaved SHA-256 with the x86 SHA extensions, for many equal-length
//! messages sharing a salt prefix (dm-verity format 1). One SHA-NI stream is bound by
//! the latency of `sha256rnds2`; interleaving independent messages fills the pipeline.
#![allow(unsafe_op_in_unsafe_fn)]
use core::arch::x86_64::*;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];
const IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

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

/// Salted hasher: state after the whole 64-byte blocks of the salt, plus the rest.
/// Only [`Salted::new`] builds one, after checking the CPU features `compress_n` needs.
pub struct Salted {
    state: [u32; 8],
    rest: Vec<u8>,
    salt_len: usize,
}

impl Salted {
    /// `None` when the CPU lacks the SHA extensions.
    pub fn new(salt: &[u8]) -> Option<Self> {
        if !(std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse4.1")
            && std::is_x86_feature_detected!("ssse3"))
        {
            return None;
        }
        let full = salt.len() / 64;
        let mut st = [IV];
        if full > 0 {
            // SAFETY: the features were checked above; `full` blocks of 64 bytes are in `salt`.
            unsafe { compress_n::<1>(&mut st, [salt.as_ptr()], full) }
        }
        Some(Salted { state: st[0], rest: salt[full * 64..].to_vec(), salt_len: salt.len() })
    }

    /// Digests N equal-length messages (len ≥ 64) each prefixed by the salt.
    #[inline(always)]
    pub fn digest_n<const N: usize>(&self, msgs: [&[u8]; N]) -> [[u8; 32]; N] {
        let len = msgs[0].len();
        assert!(len >= 64 && msgs.iter().all(|m| m.len() == len));
        let r = self.rest.len();
        let mut states = [self.state; N];
        let total_bits = ((self.salt_len + len) as u64) * 8;
        // SAFETY: `self` exists only when the CPU has the features `compress_n` needs, and
        // every pointer passed covers the number of 64-byte blocks given.
        unsafe {
            // first block: rest of salt || head of message
            let mut off = 0;
            if r > 0 {
                let mut first = [[0u8; 64]; N];
                for l in 0..N {
                    first[l][..r].copy_from_slice(&self.rest);
                    first[l][r..].copy_from_slice(&msgs[l][..64 - r]);
                }
                compress_n::<N>(&mut states, core::array::from_fn(|l| first[l].as_ptr()), 1);
                off = 64 - r;
            }
            let mid = (len - off) / 64;
            compress_n::<N>(&mut states, core::array::from_fn(|l| msgs[l].as_ptr().add(off)), mid);
            off += mid * 64;
            let tail = len - off;
            let mut last = [[0u8; 128]; N];
            let nblocks = if tail + 9 <= 64 { 1 } else { 2 };
            for l in 0..N {
                last[l][..tail].copy_from_slice(&msgs[l][off..]);
                last[l][tail] = 0x80;
                last[l][nblocks * 64 - 8..nblocks * 64].copy_from_slice(&total_bits.to_be_bytes());
            }
            compress_n::<N>(&mut states, core::array::from_fn(|l| last[l].as_ptr()), nblocks);
        }
        core::array::from_fn(|l| {
            let mut out = [0u8; 32];
            for (i, w) in states[l].iter().enumerate() {
                out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
            }
            out
        })
    }
}

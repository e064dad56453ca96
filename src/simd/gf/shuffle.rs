//! Byte-shuffle kernels for CPUs without GFNI: a multiplication by a tap is two
//! 16-entry table look-ups (`vpshufb`), one per nibble of the feedback byte, whose
//! results are XORed; the nibbles are split once per step and shared by every tap.

use super::gfni::{load256, load512, store256, store512};
use super::{MAX_TAPS, for_roots, sizes_ok, tiled_encoder};
use core::arch::x86_64::*;

/// Per tap: the products with the 16 low nibbles, and with the 16 high nibbles.
pub(crate) type NibbleTables = [[[u8; 16]; 2]; MAX_TAPS];

/// The 512-bit shuffle kernel. Only [`Shuffle512::new`] builds one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shuffle512(());

impl Shuffle512 {
    /// `None` without AVX-512F and AVX-512BW.
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
        present.then_some(Shuffle512(()))
    }

    /// Steps the planar state of the first `lanes / 64 · 64` lanes through `rows`;
    /// returns the lanes done, or 0 when a size is wrong.
    pub(crate) fn encode(
        &self,
        tables: &NibbleTables,
        roots: usize,
        rows: &[&[u8]],
        lanes: usize,
        state: &mut [u8],
        stride: usize,
    ) -> usize {
        if !sizes_ok(roots, rows, lanes, state, stride) {
            return 0;
        }
        let done = lanes / 64 * 64;
        let mut lane = 0;
        // SAFETY: `new` detected AVX-512F/BW; `sizes_ok` checked the sizes.
        unsafe { for_roots!(roots, tiles512, tile512, (tables, rows, &mut lane, done, state, stride)) }
        done
    }
}

/// The taps' tables in registers, and the nibble mask.
#[derive(Clone, Copy)]
struct Tables<V, const R: usize> {
    low: [V; R],
    high: [V; R],
    nibble: V,
}

#[inline]
#[target_feature(enable = "avx512f")]
fn prepare512<const R: usize>(tables: &NibbleTables) -> Tables<__m512i, R> {
    // SAFETY: each table is 16 readable bytes.
    let load = |t: &[u8; 16]| _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(t.as_ptr().cast()) });
    Tables {
        low: core::array::from_fn(|j| load(&tables[j][0])),
        high: core::array::from_fn(|j| load(&tables[j][1])),
        nibble: _mm512_set1_epi8(0x0f),
    }
}

/// One register step: `state[j] ← state[j + 1] ^ low[j][f & 15] ^ high[j][f >> 4]`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn step512<const R: usize>(t: &Tables<__m512i, R>, state: &mut [__m512i; R], symbols: __m512i) {
    let feedback = _mm512_xor_si512(symbols, state[0]);
    let lo = _mm512_and_si512(feedback, t.nibble);
    let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(feedback), t.nibble);
    for j in 0..R - 1 {
        state[j] = _mm512_ternarylogic_epi32::<0x96>(
            state[j + 1],
            _mm512_shuffle_epi8(t.low[j], lo),
            _mm512_shuffle_epi8(t.high[j], hi),
        );
    }
    state[R - 1] = _mm512_xor_si512(_mm512_shuffle_epi8(t.low[R - 1], lo), _mm512_shuffle_epi8(t.high[R - 1], hi));
}

tiled_encoder!(
    tiles512,
    features = "avx512f,avx512bw",
    vector = __m512i,
    width = 64,
    consts = NibbleTables,
    prepare = prepare512,
    step = step512,
    load = load512,
    store = store512
);

/// # Safety
/// As [`tiles512`].
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn tile512<const R: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    state: &mut [u8],
    stride: usize,
) {
    // SAFETY: the same contract.
    unsafe { tiles512::<R, 1>(tables, rows, lane, end, state, stride) }
}

/// The 256-bit shuffle kernel. Only [`Shuffle256::new`] builds one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shuffle256(());

impl Shuffle256 {
    /// `None` without AVX2.
    pub(crate) fn new() -> Option<Self> {
        std::is_x86_feature_detected!("avx2").then_some(Shuffle256(()))
    }

    /// Steps the planar state of the first `lanes / 32 · 32` lanes through `rows`;
    /// returns the lanes done, or 0 when a size is wrong.
    pub(crate) fn encode(
        &self,
        tables: &NibbleTables,
        roots: usize,
        rows: &[&[u8]],
        lanes: usize,
        state: &mut [u8],
        stride: usize,
    ) -> usize {
        if !sizes_ok(roots, rows, lanes, state, stride) {
            return 0;
        }
        let done = lanes / 32 * 32;
        let mut lane = 0;
        // SAFETY: `new` detected AVX2; `sizes_ok` checked the sizes.
        unsafe { for_roots!(roots, tiles256, tile256, (tables, rows, &mut lane, done, state, stride)) }
        done
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn prepare256<const R: usize>(tables: &NibbleTables) -> Tables<__m256i, R> {
    // SAFETY: each table is 16 readable bytes.
    let load = |t: &[u8; 16]| _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(t.as_ptr().cast()) });
    Tables {
        low: core::array::from_fn(|j| load(&tables[j][0])),
        high: core::array::from_fn(|j| load(&tables[j][1])),
        nibble: _mm256_set1_epi8(0x0f),
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn step256<const R: usize>(t: &Tables<__m256i, R>, state: &mut [__m256i; R], symbols: __m256i) {
    let feedback = _mm256_xor_si256(symbols, state[0]);
    let lo = _mm256_and_si256(feedback, t.nibble);
    let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(feedback), t.nibble);
    for j in 0..R - 1 {
        let product = _mm256_xor_si256(_mm256_shuffle_epi8(t.low[j], lo), _mm256_shuffle_epi8(t.high[j], hi));
        state[j] = _mm256_xor_si256(state[j + 1], product);
    }
    state[R - 1] = _mm256_xor_si256(_mm256_shuffle_epi8(t.low[R - 1], lo), _mm256_shuffle_epi8(t.high[R - 1], hi));
}

tiled_encoder!(
    tiles256,
    features = "avx2",
    vector = __m256i,
    width = 32,
    consts = NibbleTables,
    prepare = prepare256,
    step = step256,
    load = load256,
    store = store256
);

/// # Safety
/// As [`tiles256`].
#[target_feature(enable = "avx2")]
unsafe fn tile256<const R: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    state: &mut [u8],
    stride: usize,
) {
    // SAFETY: the same contract.
    unsafe { tiles256::<R, 1>(tables, rows, lane, end, state, stride) }
}

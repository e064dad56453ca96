//! GFNI kernels: every multiplication by a generator tap is one `vgf2p8affineqb` with
//! the tap's bit matrix, for 64 (ZMM) or 32 (YMM) codewords at once.

use super::{MAX_TAPS, for_roots, sizes_ok, tiled_encoder};
use core::arch::x86_64::*;

/// The 512-bit GFNI kernel. Only [`Gfni512::new`] builds one, after checking the CPU.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gfni512(());

impl Gfni512 {
    /// `None` without GFNI, AVX-512F and AVX-512BW.
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("gfni")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw");
        present.then_some(Gfni512(()))
    }

    /// Steps the planar state of the first `lanes / 64 · 64` lanes through `rows` with
    /// the taps' matrices; returns the lanes done, or 0 when a size is wrong.
    pub(crate) fn encode(
        &self,
        matrices: &[u64; MAX_TAPS],
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
        // SAFETY: `Gfni512::new` checked the CPU features; `sizes_ok` checked that every
        // row holds `lanes ≥ done` bytes and that `state` holds the planes.
        unsafe { for_roots!(roots, tiles512, tile512, (matrices, rows, &mut lane, done, state, stride)) }
        done
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn prepare512<const R: usize>(matrices: &[u64; MAX_TAPS]) -> [__m512i; R] {
    core::array::from_fn(|j| _mm512_set1_epi64(matrices[j] as i64))
}

/// One register step: `state[j] ← state[j + 1] ^ feedback · tap[j]`.
#[inline]
#[target_feature(enable = "avx512f,gfni")]
fn step512<const R: usize>(taps: &[__m512i; R], state: &mut [__m512i; R], symbols: __m512i) {
    let feedback = _mm512_xor_si512(symbols, state[0]);
    for j in 0..R - 1 {
        state[j] = _mm512_xor_si512(state[j + 1], _mm512_gf2p8affine_epi64_epi8::<0>(feedback, taps[j]));
    }
    state[R - 1] = _mm512_gf2p8affine_epi64_epi8::<0>(feedback, taps[R - 1]);
}

/// # Safety
/// `p` must be readable for 64 bytes.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn load512(p: *const u8) -> __m512i {
    // SAFETY: the caller's contract.
    unsafe { _mm512_loadu_si512(p.cast()) }
}

/// # Safety
/// `p` must be writable for 64 bytes.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store512(p: *mut u8, v: __m512i) {
    // SAFETY: the caller's contract.
    unsafe { _mm512_storeu_si512(p.cast(), v) }
}

tiled_encoder!(
    tiles512,
    features = "avx512f,avx512bw,gfni",
    vector = __m512i,
    width = 64,
    consts = [u64; MAX_TAPS],
    prepare = prepare512,
    step = step512,
    load = load512,
    store = store512
);

/// # Safety
/// As [`tiles512`].
#[target_feature(enable = "avx512f,avx512bw,gfni")]
unsafe fn tile512<const R: usize>(
    matrices: &[u64; MAX_TAPS],
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    state: &mut [u8],
    stride: usize,
) {
    // SAFETY: the same contract.
    unsafe { tiles512::<R, 1>(matrices, rows, lane, end, state, stride) }
}

/// The 256-bit GFNI kernel (VEX encoding), for CPUs with GFNI but no AVX-512.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gfni256(());

impl Gfni256 {
    /// `None` without GFNI and AVX2.
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("gfni") && std::is_x86_feature_detected!("avx2");
        present.then_some(Gfni256(()))
    }

    /// Steps the planar state of the first `lanes / 32 · 32` lanes through `rows`;
    /// returns the lanes done, or 0 when a size is wrong.
    pub(crate) fn encode(
        &self,
        matrices: &[u64; MAX_TAPS],
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
        // SAFETY: `Gfni256::new` checked the CPU features; `sizes_ok` checked the rows
        // and the planes for `lanes ≥ done` lanes.
        unsafe { for_roots!(roots, tiles256, tile256, (matrices, rows, &mut lane, done, state, stride)) }
        done
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn prepare256<const R: usize>(matrices: &[u64; MAX_TAPS]) -> [__m256i; R] {
    core::array::from_fn(|j| _mm256_set1_epi64x(matrices[j] as i64))
}

#[inline]
#[target_feature(enable = "avx2,gfni")]
fn step256<const R: usize>(taps: &[__m256i; R], state: &mut [__m256i; R], symbols: __m256i) {
    let feedback = _mm256_xor_si256(symbols, state[0]);
    for j in 0..R - 1 {
        state[j] = _mm256_xor_si256(state[j + 1], _mm256_gf2p8affine_epi64_epi8::<0>(feedback, taps[j]));
    }
    state[R - 1] = _mm256_gf2p8affine_epi64_epi8::<0>(feedback, taps[R - 1]);
}

/// # Safety
/// `p` must be readable for 32 bytes.
#[inline]
#[target_feature(enable = "avx")]
pub(crate) unsafe fn load256(p: *const u8) -> __m256i {
    // SAFETY: the caller's contract.
    unsafe { _mm256_loadu_si256(p.cast()) }
}

/// # Safety
/// `p` must be writable for 32 bytes.
#[inline]
#[target_feature(enable = "avx")]
pub(crate) unsafe fn store256(p: *mut u8, v: __m256i) {
    // SAFETY: the caller's contract.
    unsafe { _mm256_storeu_si256(p.cast(), v) }
}

tiled_encoder!(
    tiles256,
    features = "avx2,gfni",
    vector = __m256i,
    width = 32,
    consts = [u64; MAX_TAPS],
    prepare = prepare256,
    step = step256,
    load = load256,
    store = store256
);

/// # Safety
/// As [`tiles256`].
#[target_feature(enable = "avx2,gfni")]
unsafe fn tile256<const R: usize>(
    matrices: &[u64; MAX_TAPS],
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    state: &mut [u8],
    stride: usize,
) {
    // SAFETY: the same contract.
    unsafe { tiles256::<R, 1>(matrices, rows, lane, end, state, stride) }
}

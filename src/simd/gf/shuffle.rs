//! Byte-shuffle kernels for CPUs without GFNI: a multiplication by a tap is two
//! 16-entry table look-ups (`vpshufb`), one per nibble of the feedback byte, whose
//! results are XORed; the nibbles are split once per step and shared by every tap.

use super::{MAX_TAPS, ParityOut, for_roots, lane_major_64, sizes_ok};
use core::arch::x86_64::*;

/// Per tap: the products with the 16 low nibbles, and with the 16 high nibbles.
pub(crate) type NibbleTables = [[[u8; 16]; 2]; MAX_TAPS];

/// The 512-bit shuffle kernel. Only [`Shuffle512::new`] builds one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shuffle512 {
    /// AVX-512 VBMI is there, so lane-major output can be transposed in registers.
    vbmi: bool,
}

impl Shuffle512 {
    /// `None` without AVX-512F and AVX-512BW.
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
        present.then(|| Shuffle512 { vbmi: std::is_x86_feature_detected!("avx512vbmi") })
    }

    /// True when [`ParityOut::LaneMajor`] is available (AVX-512 VBMI).
    pub(crate) fn lane_major(&self) -> bool {
        self.vbmi
    }

    /// Encodes the first `lanes / 64 · 64` lanes; returns the lanes done, or 0 when a
    /// size is wrong or lane-major output is asked for without VBMI.
    pub(crate) fn encode(
        &self,
        tables: &NibbleTables,
        roots: usize,
        rows: &[&[u8]],
        lanes: usize,
        out: &mut [u8],
        layout: ParityOut,
    ) -> usize {
        if !sizes_ok(roots, rows, lanes, out, layout) {
            return 0;
        }
        let done = lanes / 64 * 64;
        let mut lane = 0;
        match layout {
            ParityOut::LaneMajor if self.vbmi => {
                let out = &mut out[..done * roots];
                // SAFETY: `new` detected AVX-512F/BW and VBMI; `sizes_ok` checked the sizes.
                unsafe {
                    for_roots!(roots, strips512_vbmi, strip512_vbmi, (tables, rows, &mut lane, done, out, layout))
                }
            }
            ParityOut::LaneMajor => return 0,
            ParityOut::Planar { .. } => {
                // SAFETY: `new` detected AVX-512F/BW; `sizes_ok` checked the sizes.
                unsafe { for_roots!(roots, strips512, strip512, (tables, rows, &mut lane, done, out, layout)) }
            }
        }
        done
    }
}

/// Loads a 16-byte table into every 128-bit lane.
#[inline]
#[target_feature(enable = "avx512f")]
fn broadcast_table(table: &[u8; 16]) -> __m512i {
    // SAFETY: `table` is 16 readable bytes.
    _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(table.as_ptr().cast()) })
}

/// # Safety
/// As [`strips512`], plus AVX-512 VBMI.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn strip512_vbmi<const R: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    out: &mut [u8],
    layout: ParityOut,
) {
    // SAFETY: the same contract.
    unsafe { strips512_vbmi::<R, 1>(tables, rows, lane, end, out, layout) }
}

/// [`strips512`] compiled with VBMI, for the in-register lane-major transposition.
///
/// # Safety
/// As [`strips512`], plus AVX-512 VBMI.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn strips512_vbmi<const R: usize, const W: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    out: &mut [u8],
    layout: ParityOut,
) {
    while *lane + 64 * W <= end {
        let start = *lane;
        let state = step512::<R, W>(tables, rows, start);
        for (w, planes) in state.iter().enumerate() {
            let first = start + 64 * w;
            match layout {
                ParityOut::LaneMajor => lane_major_64::<R>(planes, &mut out[first * R..]),
                ParityOut::Planar { stride } => store_planes512(planes, out, stride, first),
            }
        }
        *lane += 64 * W;
    }
}

/// # Safety
/// As [`strips512`].
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn strip512<const R: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    out: &mut [u8],
    layout: ParityOut,
) {
    // SAFETY: the same contract.
    unsafe { strips512::<R, 1>(tables, rows, lane, end, out, layout) }
}

/// Encodes strips of `64·W` lanes from `*lane` while a whole one fits below `end`,
/// into planes.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512BW; every row must hold at least `end` bytes,
/// and `out` the planar parity of lanes `0..end`; `layout` must be planar.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn strips512<const R: usize, const W: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    out: &mut [u8],
    layout: ParityOut,
) {
    let ParityOut::Planar { stride } = layout else { return };
    while *lane + 64 * W <= end {
        let start = *lane;
        let state = step512::<R, W>(tables, rows, start);
        for (w, planes) in state.iter().enumerate() {
            store_planes512(planes, out, stride, start + 64 * w);
        }
        *lane += 64 * W;
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store_planes512<const R: usize>(planes: &[__m512i; R], out: &mut [u8], stride: usize, first: usize) {
    for (j, plane) in planes.iter().enumerate() {
        let dst = &mut out[j * stride + first..j * stride + first + 64];
        // SAFETY: `dst` is 64 writable bytes.
        unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), *plane) };
    }
}

/// Runs every row through the registers of `W` strips starting at lane `start`.
/// Panics (a bug, not bad input) if a row is shorter than `start + 64·W`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn step512<const R: usize, const W: usize>(tables: &NibbleTables, rows: &[&[u8]], start: usize) -> [[__m512i; R]; W] {
    let nibble = _mm512_set1_epi8(0x0f);
    let low: [__m512i; R] = core::array::from_fn(|j| broadcast_table(&tables[j][0]));
    let high: [__m512i; R] = core::array::from_fn(|j| broadcast_table(&tables[j][1]));
    let mut state = [[_mm512_setzero_si512(); R]; W];
    for row in rows {
        let base = row[start..start + 64 * W].as_ptr();
        for (w, regs) in state.iter_mut().enumerate() {
            // SAFETY: `base` has 64·W readable bytes.
            let symbols = unsafe { _mm512_loadu_si512(base.add(64 * w).cast()) };
            let feedback = _mm512_xor_si512(symbols, regs[0]);
            let lo = _mm512_and_si512(feedback, nibble);
            let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(feedback), nibble);
            for j in 0..R - 1 {
                regs[j] = _mm512_ternarylogic_epi32::<0x96>(
                    regs[j + 1],
                    _mm512_shuffle_epi8(low[j], lo),
                    _mm512_shuffle_epi8(high[j], hi),
                );
            }
            regs[R - 1] = _mm512_xor_si512(_mm512_shuffle_epi8(low[R - 1], lo), _mm512_shuffle_epi8(high[R - 1], hi));
        }
    }
    state
}

/// The 256-bit shuffle kernel. Only [`Shuffle256::new`] builds one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shuffle256(());

impl Shuffle256 {
    /// `None` without AVX2.
    pub(crate) fn new() -> Option<Self> {
        std::is_x86_feature_detected!("avx2").then_some(Shuffle256(()))
    }

    /// Encodes the first `lanes / 32 · 32` lanes into planes `stride` bytes apart;
    /// returns the lanes done, or 0 when a size is wrong.
    pub(crate) fn encode_planar(
        &self,
        tables: &NibbleTables,
        roots: usize,
        rows: &[&[u8]],
        lanes: usize,
        planes: &mut [u8],
        stride: usize,
    ) -> usize {
        if !sizes_ok(roots, rows, lanes, planes, ParityOut::Planar { stride }) {
            return 0;
        }
        let done = lanes / 32 * 32;
        let mut lane = 0;
        // SAFETY: `new` detected AVX2; `sizes_ok` checked the sizes.
        unsafe { for_roots!(roots, strips256, strip256, (tables, rows, &mut lane, done, planes, stride)) }
        done
    }
}

/// # Safety
/// As [`strips256`].
#[target_feature(enable = "avx2")]
unsafe fn strip256<const R: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    planes: &mut [u8],
    stride: usize,
) {
    // SAFETY: the same contract.
    unsafe { strips256::<R, 1>(tables, rows, lane, end, planes, stride) }
}

/// Encodes strips of `32·W` lanes from `*lane` while a whole one fits below `end`.
///
/// # Safety
/// The CPU must have AVX2; every row must hold at least `end` bytes, and `planes` `R`
/// planes of `end` lanes, `stride` apart.
#[target_feature(enable = "avx2")]
unsafe fn strips256<const R: usize, const W: usize>(
    tables: &NibbleTables,
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    planes: &mut [u8],
    stride: usize,
) {
    let nibble = _mm256_set1_epi8(0x0f);
    // SAFETY: each table is 16 readable bytes.
    let load = |t: &[u8; 16]| _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(t.as_ptr().cast()) });
    let low: [__m256i; R] = core::array::from_fn(|j| load(&tables[j][0]));
    let high: [__m256i; R] = core::array::from_fn(|j| load(&tables[j][1]));
    while *lane + 32 * W <= end {
        let start = *lane;
        let mut state = [[_mm256_setzero_si256(); R]; W];
        for row in rows {
            let base = row[start..start + 32 * W].as_ptr();
            for (w, regs) in state.iter_mut().enumerate() {
                // SAFETY: `base` has 32·W readable bytes.
                let symbols = unsafe { _mm256_loadu_si256(base.add(32 * w).cast()) };
                let feedback = _mm256_xor_si256(symbols, regs[0]);
                let lo = _mm256_and_si256(feedback, nibble);
                let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(feedback), nibble);
                for j in 0..R - 1 {
                    let product = _mm256_xor_si256(_mm256_shuffle_epi8(low[j], lo), _mm256_shuffle_epi8(high[j], hi));
                    regs[j] = _mm256_xor_si256(regs[j + 1], product);
                }
                regs[R - 1] =
                    _mm256_xor_si256(_mm256_shuffle_epi8(low[R - 1], lo), _mm256_shuffle_epi8(high[R - 1], hi));
            }
        }
        for (w, regs) in state.iter().enumerate() {
            let first = start + 32 * w;
            for (j, plane) in regs.iter().enumerate() {
                let dst = &mut planes[j * stride + first..j * stride + first + 32];
                // SAFETY: `dst` is 32 writable bytes.
                unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), *plane) };
            }
        }
        *lane += 32 * W;
    }
}

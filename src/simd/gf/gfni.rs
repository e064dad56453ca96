//! GFNI kernels: every multiplication by a generator tap is one `vgf2p8affineqb` with
//! the tap's bit matrix, for 64 (ZMM) or 32 (YMM) codewords at once.

use super::{MAX_TAPS, ParityOut, for_roots, lane_major_64, sizes_ok};
use core::arch::x86_64::*;

/// The 512-bit GFNI kernel. Only [`Gfni512::new`] builds one, after checking the CPU.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gfni512(());

impl Gfni512 {
    /// `None` without GFNI, AVX-512F, AVX-512BW and AVX-512 VBMI (the lane-major
    /// transposition uses VBMI byte permutes; every CPU with GFNI and AVX-512 has it).
    pub(crate) fn new() -> Option<Self> {
        let present = std::is_x86_feature_detected!("gfni")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vbmi");
        present.then_some(Gfni512(()))
    }

    /// Encodes the first `lanes / 64 · 64` lanes of `rows` (one row per message symbol)
    /// with the taps' matrices, writing parity as `layout` says; returns the lanes
    /// done, or 0 when a size is wrong.
    pub(crate) fn encode(
        &self,
        matrices: &[u64; MAX_TAPS],
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
        // Lane-major copies may write past their lane into the next one's bytes (the
        // next strip rewrites them); bounding the slice keeps them off the tail, which
        // someone else encodes.
        let out = match layout {
            ParityOut::LaneMajor => &mut out[..done * roots],
            ParityOut::Planar { .. } => out,
        };
        let mut lane = 0;
        // SAFETY: `Gfni512::new` checked the CPU features; `sizes_ok` checked that every
        // row holds `lanes ≥ done` bytes and that `out` holds the parity of `done` lanes.
        unsafe { for_roots!(roots, strips512, strip512, (matrices, rows, &mut lane, done, out, layout)) }
        done
    }
}

/// One strip at a time (the many-taps case and the remainder of the multi-strip pass).
///
/// # Safety
/// As [`strips512`].
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,gfni")]
unsafe fn strip512<const R: usize>(
    matrices: &[u64; MAX_TAPS],
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    out: &mut [u8],
    layout: ParityOut,
) {
    // SAFETY: the same contract.
    unsafe { strips512::<R, 1>(matrices, rows, lane, end, out, layout) }
}

/// Encodes strips of `64·W` lanes from `*lane` while a whole one fits below `end`,
/// advancing `*lane`.
///
/// # Safety
/// The CPU must have GFNI, AVX-512F, AVX-512BW and AVX-512 VBMI; every row must hold
/// at least `end` bytes, and `out` the parity of lanes `0..end` in `layout`.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,gfni")]
unsafe fn strips512<const R: usize, const W: usize>(
    matrices: &[u64; MAX_TAPS],
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    out: &mut [u8],
    layout: ParityOut,
) {
    let taps: [__m512i; R] = core::array::from_fn(|j| _mm512_set1_epi64(matrices[j] as i64));
    while *lane + 64 * W <= end {
        let start = *lane;
        let mut state = [[_mm512_setzero_si512(); R]; W];
        for row in rows {
            let base = row[start..start + 64 * W].as_ptr();
            for (w, regs) in state.iter_mut().enumerate() {
                // SAFETY: `base` has 64·W readable bytes (the slice above).
                let symbols = unsafe { _mm512_loadu_si512(base.add(64 * w).cast()) };
                let feedback = _mm512_xor_si512(symbols, regs[0]);
                for j in 0..R - 1 {
                    regs[j] = _mm512_xor_si512(regs[j + 1], _mm512_gf2p8affine_epi64_epi8::<0>(feedback, taps[j]));
                }
                regs[R - 1] = _mm512_gf2p8affine_epi64_epi8::<0>(feedback, taps[R - 1]);
            }
        }
        for (w, planes) in state.iter().enumerate() {
            let first = start + 64 * w;
            match layout {
                ParityOut::LaneMajor => lane_major_64::<R>(planes, &mut out[first * R..]),
                ParityOut::Planar { stride } => {
                    for (j, plane) in planes.iter().enumerate() {
                        let dst = &mut out[j * stride + first..j * stride + first + 64];
                        // SAFETY: `dst` is 64 writable bytes.
                        unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), *plane) };
                    }
                }
            }
        }
        *lane += 64 * W;
    }
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

    /// Encodes the first `lanes / 32 · 32` lanes into planes `stride` bytes apart;
    /// returns the lanes done, or 0 when a size is wrong.
    pub(crate) fn encode_planar(
        &self,
        matrices: &[u64; MAX_TAPS],
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
        // SAFETY: `Gfni256::new` checked the CPU features; `sizes_ok` checked the rows
        // and the planes for `lanes ≥ done` lanes.
        unsafe { for_roots!(roots, strips256, strip256, (matrices, rows, &mut lane, done, planes, stride)) }
        done
    }
}

/// # Safety
/// As [`strips256`].
#[target_feature(enable = "avx2,gfni")]
unsafe fn strip256<const R: usize>(
    matrices: &[u64; MAX_TAPS],
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    planes: &mut [u8],
    stride: usize,
) {
    // SAFETY: the same contract.
    unsafe { strips256::<R, 1>(matrices, rows, lane, end, planes, stride) }
}

/// Encodes strips of `32·W` lanes from `*lane` while a whole one fits below `end`.
///
/// # Safety
/// The CPU must have GFNI and AVX2; every row must hold at least `end` bytes, and
/// `planes` `R` planes of `end` lanes, `stride` apart.
#[target_feature(enable = "avx2,gfni")]
unsafe fn strips256<const R: usize, const W: usize>(
    matrices: &[u64; MAX_TAPS],
    rows: &[&[u8]],
    lane: &mut usize,
    end: usize,
    planes: &mut [u8],
    stride: usize,
) {
    let taps: [__m256i; R] = core::array::from_fn(|j| _mm256_set1_epi64x(matrices[j] as i64));
    while *lane + 32 * W <= end {
        let start = *lane;
        let mut state = [[_mm256_setzero_si256(); R]; W];
        for row in rows {
            let base = row[start..start + 32 * W].as_ptr();
            for (w, regs) in state.iter_mut().enumerate() {
                // SAFETY: `base` has 32·W readable bytes.
                let symbols = unsafe { _mm256_loadu_si256(base.add(32 * w).cast()) };
                let feedback = _mm256_xor_si256(symbols, regs[0]);
                for j in 0..R - 1 {
                    regs[j] = _mm256_xor_si256(regs[j + 1], _mm256_gf2p8affine_epi64_epi8::<0>(feedback, taps[j]));
                }
                regs[R - 1] = _mm256_gf2p8affine_epi64_epi8::<0>(feedback, taps[R - 1]);
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

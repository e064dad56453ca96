//! GF(2^8) Reed-Solomon encoding kernels for dm-verity FEC, many codewords ("lanes")
//! side by side: one vector register holds the same shift-register stage of 32 or 64
//! codewords, and one register step multiplies the feedback vector by each constant
//! tap of the generator polynomial. The math (taps, multiplication operands) comes from
//! `crate::verity::fec`; this module only runs it with `std::arch`.
//!
//! | kernel | multiply by a constant | width | needs |
//! |---|---|---|---|
//! | [`gfni::Gfni512`] | `vgf2p8affineqb` with the constant's 8×8 bit matrix | 512 | GFNI, AVX-512F/BW/VBMI |
//! | [`gfni::Gfni256`] | the same, VEX-encoded | 256 | GFNI, AVX2 |
//! | [`shuffle::Shuffle512`] | two `vpshufb` nibble look-ups | 512 | AVX-512F/BW |
//! | [`shuffle::Shuffle256`] | the same | 256 | AVX2 |
//!
//! `vgf2p8mulb` is of no use here: it multiplies in AES's field (0x11b), not 0x11d. The
//! affine instruction applies any GF(2)-linear map to each byte, and multiplication by
//! a constant is one, so one instruction still does one multiply for 64 lanes.
//!
//! The kernels work on *planar* shift-register state owned by the caller: plane `j`
//! holds stage `j` of every lane, and a call continues the codewords from whatever the
//! planes hold (zeros to start). After the last message row the planes are the parity
//! (plane `j` = parity byte `j` of every lane), which [`transpose_planes_vbmi`] or the
//! portable code turn into the FEC file's lane-major layout. Continuing lets a caller
//! feed a round's 253 rows in several calls, a few blocks at a time, as it reads them.
//!
//! Each kernel encodes whole strips of 32 or 64 lanes and leaves the rest (fewer lanes
//! than one strip) to the caller's portable code. The kernels take rows and planes as
//! slices and check every length before entering `unsafe` code, so a wrong size is a
//! refused call (0 lanes done), never an out-of-bounds access.

pub(crate) mod gfni;
pub(crate) mod shuffle;

use core::arch::x86_64::*;

/// Most taps (parity bytes per codeword) of a dm-verity code.
pub(crate) const MAX_TAPS: usize = 24;

/// Checks what every kernel relies on: `roots` within 2..=24, `rows` all at least
/// `lanes` long, and `roots` planes of at least `lanes` bytes, `stride` apart, in
/// `state`.
pub(crate) fn sizes_ok(roots: usize, rows: &[&[u8]], lanes: usize, state: &[u8], stride: usize) -> bool {
    let needed = stride.checked_mul(roots.saturating_sub(1)).and_then(|n| n.checked_add(lanes));
    (2..=MAX_TAPS).contains(&roots)
        && stride >= lanes
        && rows.iter().all(|r| r.len() >= lanes)
        && needed.is_some_and(|n| n <= state.len())
}

/// Calls `$kernel::<R, W>($args)` for the run-time `$roots`, with `W` independent
/// strips per step for few taps: a register step's latency (XOR, multiply, XOR) is
/// several cycles, and with two or three taps one strip does not have enough
/// multiplies to hide it. With many taps one strip is throughput-bound anyway, and
/// the registers are needed for the taps' state.
macro_rules! for_roots {
    ($roots:expr, $kernel:ident, $single:ident, ($($arg:expr),*)) => {
        match $roots {
            2 => { $kernel::<2, 4>($($arg),*); $single::<2>($($arg),*) }
            3 => { $kernel::<3, 3>($($arg),*); $single::<3>($($arg),*) }
            4 => { $kernel::<4, 2>($($arg),*); $single::<4>($($arg),*) }
            5 => { $kernel::<5, 2>($($arg),*); $single::<5>($($arg),*) }
            6 => { $kernel::<6, 2>($($arg),*); $single::<6>($($arg),*) }
            7 => { $kernel::<7, 2>($($arg),*); $single::<7>($($arg),*) }
            8 => $single::<8>($($arg),*),
            9 => $single::<9>($($arg),*),
            10 => $single::<10>($($arg),*),
            11 => $single::<11>($($arg),*),
            12 => $single::<12>($($arg),*),
            13 => $single::<13>($($arg),*),
            14 => $single::<14>($($arg),*),
            15 => $single::<15>($($arg),*),
            16 => $single::<16>($($arg),*),
            17 => $single::<17>($($arg),*),
            18 => $single::<18>($($arg),*),
            19 => $single::<19>($($arg),*),
            20 => $single::<20>($($arg),*),
            21 => $single::<21>($($arg),*),
            22 => $single::<22>($($arg),*),
            23 => $single::<23>($($arg),*),
            24 => $single::<24>($($arg),*),
            _ => {}
        }
    };
}
pub(crate) use for_roots;

/// Shift-register state kept for one group of lanes: 16 KiB, so that it stays in L1
/// next to the rows streaming through.
pub(crate) const STATE_BYTES: usize = 16 * 1024;

/// Rows per tile (see [`tiled_encoder!`]).
pub(crate) const TILE_ROWS: usize = 8;

/// Asks for the cache line at `p` to be brought into L2. A prefetch never faults, so
/// `p` may point anywhere; it is never dereferenced.
#[inline]
#[target_feature(enable = "sse")]
pub(crate) fn prefetch_l2(p: *const u8) {
    _mm_prefetch::<_MM_HINT_T1>(p.cast());
}

/// Defines `$name::<R, W>(consts, rows, lane, end, state, stride)`, the encoder loop of
/// one kernel, for `R` taps and `W` strips (vectors of lanes) per register step: it
/// steps the planar state (`R` planes `stride` bytes apart) of lanes `*lane..` through
/// every row, in groups of whole `W`-strip runs while one fits below `end`, and advances
/// `*lane`.
///
/// The work is cut in tiles of [`TILE_ROWS`] rows × one group of lanes. Per tile, each
/// strip's state is loaded from the planes (a group's planes, at most [`STATE_BYTES`],
/// stay in L1), stepped through the tile's rows in registers and stored back. Rows are
/// thus read in sequence, eight at a time, streams the hardware prefetchers follow;
/// the next tile's rows are prefetched meanwhile. Stepping one strip through all 253
/// rows instead loads the same offset of 253 blocks that are 4 KiB-aligned (and, for
/// some image sizes, 16 KiB-aligned) at once: they compete for one L1 set and a few L2
/// sets, which measured up to three times slower. `W` independent strips per step hide
/// the latency of a register step (XOR, multiply, XOR) when there are too few taps to
/// keep the multiplier busy.
///
/// The kernel supplies: `$prepare::<R>(consts)`, the per-call constants in registers;
/// `$step::<R>(&prepared, &mut state, symbols)`, one shift-register step; `$load(ptr)`
/// and `$store(ptr, vector)`, unaligned vector accesses of `$width` bytes.
macro_rules! tiled_encoder {
    (
        $name:ident,features = $features:literal,vector = $vector:ty,width = $width:literal,consts = $consts:ty,
        prepare = $prepare:ident,step = $step:ident,load = $load:ident,store = $store:ident
    ) => {
        /// The tiled encoder loop (see `tiled_encoder!` in `simd::gf`).
        ///
        /// # Safety
        /// The CPU must have the features enabled here; every row must hold at least
        /// `end` bytes, and `state` `R` planes of at least `end` bytes, `stride` apart.
        #[target_feature(enable = $features)]
        unsafe fn $name<const R: usize, const W: usize>(
            consts: &$consts,
            rows: &[&[u8]],
            lane: &mut usize,
            end: usize,
            state: &mut [u8],
            stride: usize,
        ) {
            use $crate::simd::gf::{STATE_BYTES, TILE_ROWS, prefetch_l2};
            let prepared = $prepare::<R>(consts);
            let mut plane_iter = state.chunks_mut(stride);
            let planes: [&mut [u8]; R] = core::array::from_fn(|_| plane_iter.next().unwrap_or_default());
            // As many strips per group as keep the group's planes within the budget, a
            // multiple of W.
            let group_strips = (STATE_BYTES / ($width * R) / W * W).max(W);
            while *lane + $width * W <= end {
                let start = *lane;
                let strips = ((end - start) / ($width * W) * W).min(group_strips);
                let width = $width * strips;
                let mut next_blocks = rows.chunks(TILE_ROWS).skip(1);
                for block in rows.chunks(TILE_ROWS) {
                    let bases: [&[u8]; TILE_ROWS] =
                        core::array::from_fn(|k| block.get(k).map_or(&[][..], |r| &r[start..start + width]));
                    // A row past the last one prefetches the first row again, harmlessly.
                    let next = next_blocks.next().unwrap_or(block);
                    let ahead: [*const u8; TILE_ROWS] = core::array::from_fn(|k| {
                        next.get(k).or(block.first()).map_or(core::ptr::null(), |r| r.as_ptr())
                    });
                    let count = block.len();
                    for s in (0..strips).step_by(W) {
                        let at = start + $width * s..start + $width * (s + W);
                        let mut regs: [[$vector; R]; W] = core::array::from_fn(|w| {
                            core::array::from_fn(|j| {
                                let plane = &planes[j][at.clone()];
                                // SAFETY: `plane` has $width·W readable bytes.
                                unsafe { $load(plane.as_ptr().add($width * w)) }
                            })
                        });
                        for (k, row) in bases.iter().enumerate().take(count) {
                            let base = row[$width * s..$width * (s + W)].as_ptr();
                            for (w, reg) in regs.iter_mut().enumerate() {
                                prefetch_l2(ahead[k].wrapping_add(start + $width * (s + w)));
                                // SAFETY: `base` has $width·W readable bytes (the slice above).
                                let symbols = unsafe { $load(base.add($width * w)) };
                                $step::<R>(&prepared, reg, symbols);
                            }
                        }
                        for (w, reg) in regs.iter().enumerate() {
                            for (j, vector) in reg.iter().enumerate() {
                                let plane = &mut planes[j][at.clone()];
                                // SAFETY: `plane` has $width·W writable bytes.
                                unsafe { $store(plane.as_mut_ptr().add($width * w), *vector) };
                            }
                        }
                    }
                }
                *lane += width;
            }
        }
    };
}
pub(crate) use tiled_encoder;

/// Index vectors for `vpermt2b`: merge two vectors of `size`-byte records, record by
/// record, into the records of the lower (`HIGH = false`) or upper half of the lanes.
const fn interleave_index(size: usize, high: bool) -> [u8; 64] {
    let mut index = [0u8; 64];
    let mut t = 0;
    while t < 64 {
        let record = t / (2 * size) + if high { 32 / size } else { 0 };
        let from_second = (t / size) % 2;
        index[t] = (record * size + t % size + 64 * from_second) as u8;
        t += 1;
    }
    index
}

/// `INTERLEAVE[k]` = (low, high) index vectors for records of 2^k bytes.
static INTERLEAVE: [[[u8; 64]; 2]; 5] = {
    let mut table = [[[0u8; 64]; 2]; 5];
    let mut k = 0;
    while k < 5 {
        table[k] = [interleave_index(1 << k, false), interleave_index(1 << k, true)];
        k += 1;
    }
    table
};

/// Writes the lane-major form of `R` planes of 64 lanes (`planes[j]` byte `l` = parity
/// byte `j` of lane `l`) to `out` (lane `l` at `out[l·R ..]`).
///
/// A tree of 2-source byte permutes: with the planes padded to P = R rounded up to a
/// power of two, level k merges groups of 2^k planes pairwise into records of 2^(k+1)
/// bytes, until each vector holds 64/P whole lanes of P-byte records. When P = R that is
/// the file layout; otherwise the records go through a small buffer and are copied
/// R bytes per lane, in increasing order, each copy writing P bytes where there is
/// room: the surplus lands on the next lane's bytes, which its own copy overwrites.
///
/// `out` must hold at least `64·R` bytes; more room lets the copies run wider.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn lane_major_64<const R: usize>(planes: &[__m512i; R], out: &mut [u8]) {
    let padded = R.next_power_of_two();
    let zero = _mm512_setzero_si512();
    let mut v = [zero; 32];
    v[..R].copy_from_slice(planes);
    let mut size = 1;
    let mut level = 0;
    while size < padded {
        // SAFETY: each index vector is 64 readable bytes.
        let low = unsafe { _mm512_loadu_si512(INTERLEAVE[level][0].as_ptr().cast()) };
        // SAFETY: as above.
        let high = unsafe { _mm512_loadu_si512(INTERLEAVE[level][1].as_ptr().cast()) };
        let mut next = [zero; 32];
        for group in 0..padded / (2 * size) {
            for q in 0..size {
                let a = v[2 * group * size + q];
                let b = v[(2 * group + 1) * size + q];
                next[2 * group * size + 2 * q] = _mm512_permutex2var_epi8(a, low, b);
                next[2 * group * size + 2 * q + 1] = _mm512_permutex2var_epi8(a, high, b);
            }
        }
        v = next;
        size *= 2;
        level += 1;
    }
    if padded == R {
        let out = &mut out[..64 * R];
        for (q, chunk) in out.chunks_exact_mut(64).enumerate() {
            // SAFETY: `chunk` is 64 writable bytes.
            unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), v[q]) };
        }
        return;
    }
    let mut records = [0u8; 64 * 32];
    for (q, chunk) in records.chunks_exact_mut(64).take(padded).enumerate() {
        // SAFETY: `chunk` is 64 writable bytes.
        unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), v[q]) };
    }
    // Every width is a constant of the instantiation, so the copies are plain moves.
    let room = out.len();
    for lane in 0..64 {
        let (at, from) = (lane * R, lane * padded);
        if at + padded <= room {
            out[at..at + padded].copy_from_slice(&records[from..from + padded]);
        } else {
            out[at..at + R].copy_from_slice(&records[from..from + R]);
        }
    }
}

/// Transposes planar parity (`roots` planes, `stride` apart) of `lanes` lanes into the
/// lane-major layout with the AVX-512 VBMI permute tree. Returns the lanes done (a
/// multiple of 64); `None` when the CPU lacks the instructions or a size is wrong.
pub(crate) fn transpose_planes_vbmi(
    roots: usize,
    planes: &[u8],
    stride: usize,
    lanes: usize,
    out: &mut [u8],
) -> Option<usize> {
    let present = std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi");
    let planes_needed = stride.checked_mul(roots.checked_sub(1)?)?.checked_add(lanes)?;
    if !present || !(2..=MAX_TAPS).contains(&roots) || stride < lanes || planes.len() < planes_needed {
        return None;
    }
    if out.len() < lanes.checked_mul(roots)? {
        return None;
    }
    let done = lanes / 64 * 64;
    macro_rules! run {
        ($($r:literal)*) => {
            match roots {
                $($r => {
                    // SAFETY: the features were detected above; the sizes are checked.
                    unsafe { transpose_vbmi::<$r>(planes, stride, done, out) }
                })*
                _ => return None,
            }
        };
    }
    run!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24);
    Some(done)
}

#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn transpose_vbmi<const R: usize>(planes: &[u8], stride: usize, lanes: usize, out: &mut [u8]) {
    let mut lane = 0;
    while lane + 64 <= lanes {
        let vectors: [__m512i; R] = core::array::from_fn(|j| {
            let src = &planes[j * stride + lane..j * stride + lane + 64];
            // SAFETY: `src` is 64 readable bytes.
            unsafe { _mm512_loadu_si512(src.as_ptr().cast()) }
        });
        lane_major_64::<R>(&vectors, &mut out[lane * R..lanes * R]);
        lane += 64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vbmi_transpose_matches_the_definition() {
        if !(std::is_x86_feature_detected!("avx512vbmi") && std::is_x86_feature_detected!("avx512bw")) {
            return;
        }
        for roots in 2..=MAX_TAPS {
            for lanes in [64, 128, 200] {
                let stride = lanes + 3;
                let planes: Vec<u8> = (0..stride * roots).map(|i| (i * 7 + 1) as u8).collect();
                let mut out = vec![0xeeu8; lanes * roots];
                let done = transpose_planes_vbmi(roots, &planes, stride, lanes, &mut out).unwrap();
                assert_eq!(done, lanes / 64 * 64);
                for l in 0..done {
                    for j in 0..roots {
                        assert_eq!(out[l * roots + j], planes[j * stride + l], "roots {roots} lane {l} byte {j}");
                    }
                }
                assert!(out[done * roots..].iter().all(|&b| b == 0xee), "nothing written past the lanes done");
            }
        }
    }
}

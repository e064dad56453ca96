//! Turning planar parity (plane `j` = parity byte `j` of every lane) into the FEC
//! file's lane-major layout (`roots` bytes per lane), without SIMD: 8×8 byte-matrix
//! transposes in 64-bit words.

#![deny(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use core::ops::Range;

/// Transposes the 8×8 byte matrix `x` (byte `k` of `x[j]` is element (j, k)) in place:
/// afterwards byte `j` of `x[k]` is the old element (j, k). Three rounds swap 1-, 2-
/// and 4-byte blocks between word pairs.
#[inline]
fn transpose8(x: &mut [u64; 8]) {
    const MASKS: [u64; 3] = [0x00ff_00ff_00ff_00ff, 0x0000_ffff_0000_ffff, 0x0000_0000_ffff_ffff];
    for (round, mask) in MASKS.into_iter().enumerate() {
        let distance = 1usize << round;
        let shift = 8 * distance as u32;
        for a in 0..8 {
            if a & distance == 0 {
                let b = a | distance;
                let t = ((x[a] >> shift) ^ x[b]) & mask;
                x[a] ^= t << shift;
                x[b] ^= t;
            }
        }
    }
}

/// Writes lanes `lanes` of `roots` planes (`stride` bytes apart) to `out` in lane-major
/// order, lane `lanes.start` at `out[0]`. Sizes are the caller's to check; a mismatch
/// is a bug caught by slice bounds.
pub(crate) fn planes_to_lane_major(roots: usize, planes: &[u8], stride: usize, lanes: Range<usize>, out: &mut [u8]) {
    let groups = roots.div_ceil(8);
    let out = &mut out[..lanes.len() * roots];
    let mut lane = lanes.start;
    while lane + 8 <= lanes.end {
        let mut records = [[0u64; 8]; 3];
        for (g, record) in records.iter_mut().enumerate().take(groups) {
            for (j, word) in record.iter_mut().enumerate() {
                let plane = 8 * g + j;
                if plane < roots {
                    let at = plane * stride + lane;
                    *word = u64::from_le_bytes(planes[at..at + 8].try_into().unwrap_or_default());
                }
            }
            transpose8(record);
        }
        // Lane by lane, group by group, in increasing output order: each write may spill
        // past its bytes (the last group of a lane, when roots is not a multiple of 8)
        // only onto bytes a later write rewrites, so whole words can be stored.
        for k in 0..8 {
            let base = (lane - lanes.start + k) * roots;
            for (g, record) in records.iter().enumerate().take(groups) {
                let at = base + 8 * g;
                let bytes = record[k].to_le_bytes();
                if at + 8 <= out.len() {
                    out[at..at + 8].copy_from_slice(&bytes);
                } else {
                    let n = out.len() - at;
                    out[at..].copy_from_slice(&bytes[..n]);
                }
            }
        }
        lane += 8;
    }
    for l in lane..lanes.end {
        let base = (l - lanes.start) * roots;
        for j in 0..roots {
            out[base + j] = planes[j * stride + l];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose8_is_the_matrix_transpose() {
        let mut x: [u64; 8] =
            core::array::from_fn(|j| u64::from_le_bytes(core::array::from_fn(|k| (16 * j + k) as u8)));
        transpose8(&mut x);
        for (k, word) in x.iter().enumerate() {
            for (j, byte) in word.to_le_bytes().iter().enumerate() {
                assert_eq!(*byte as usize, 16 * j + k);
            }
        }
    }

    #[test]
    fn planes_to_lane_major_for_every_roots_and_tail() {
        for roots in 2..=24 {
            for lanes in [0usize, 1, 7, 8, 9, 64, 77] {
                for start in [0usize, 3] {
                    let stride = lanes + start + 5;
                    let planes: Vec<u8> = (0..stride * roots).map(|i| (i * 13 + 7) as u8).collect();
                    let mut out = vec![0u8; lanes * roots];
                    planes_to_lane_major(roots, &planes, stride, start..start + lanes, &mut out);
                    for l in 0..lanes {
                        for j in 0..roots {
                            assert_eq!(out[l * roots + j], planes[j * stride + start + l], "roots {roots} lane {l}");
                        }
                    }
                }
            }
        }
    }
}

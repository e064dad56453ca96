//! Matrix transposes that turn one message per register (as loaded) into one word
//! position per register with a message per lane (as the multi-buffer rounds want).

use core::arch::x86_64::*;

/// Transposes a 4×4 matrix of 128-bit lanes: lane `k` of output `g` is lane `g` of
/// input `k`.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose_lanes128(x: [__m512i; 4]) -> [__m512i; 4] {
    let t0 = _mm512_shuffle_i64x2::<0x44>(x[0], x[1]);
    let t1 = _mm512_shuffle_i64x2::<0xEE>(x[0], x[1]);
    let t2 = _mm512_shuffle_i64x2::<0x44>(x[2], x[3]);
    let t3 = _mm512_shuffle_i64x2::<0xEE>(x[2], x[3]);
    [
        _mm512_shuffle_i64x2::<0x88>(t0, t2),
        _mm512_shuffle_i64x2::<0xDD>(t0, t2),
        _mm512_shuffle_i64x2::<0x88>(t1, t3),
        _mm512_shuffle_i64x2::<0xDD>(t1, t3),
    ]
}

/// Transposes 16 rows of 16 32-bit words: word `c` of row `r` becomes word `r` of row `c`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn transpose16x32(r: [__m512i; 16]) -> [__m512i; 16] {
    // After these two steps, 128-bit lane k of b[4i + m] holds word 4k + m of rows 4i..4i+3.
    let a: [__m512i; 16] = core::array::from_fn(|n| {
        let (x, y) = (r[n & !1], r[n | 1]);
        if n % 2 == 0 { _mm512_unpacklo_epi32(x, y) } else { _mm512_unpackhi_epi32(x, y) }
    });
    let b: [__m512i; 16] = core::array::from_fn(|n| {
        let (i, m) = (n / 4, n % 4);
        let (x, y) = (a[4 * i + m / 2], a[4 * i + m / 2 + 2]);
        if m % 2 == 0 { _mm512_unpacklo_epi64(x, y) } else { _mm512_unpackhi_epi64(x, y) }
    });
    let mut out = [_mm512_setzero_si512(); 16];
    for m in 0..4 {
        let y = transpose_lanes128([b[m], b[4 + m], b[8 + m], b[12 + m]]);
        for (k, v) in y.into_iter().enumerate() {
            out[4 * k + m] = v;
        }
    }
    out
}

/// Transposes 8 rows of 8 64-bit words: word `c` of row `r` becomes word `r` of row `c`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn transpose8x64(r: [__m512i; 8]) -> [__m512i; 8] {
    // 128-bit lane k of a[2g + m] holds word 2k + m of rows 2g and 2g + 1.
    let a: [__m512i; 8] = core::array::from_fn(|n| {
        let (x, y) = (r[n & !1], r[n | 1]);
        if n % 2 == 0 { _mm512_unpacklo_epi64(x, y) } else { _mm512_unpackhi_epi64(x, y) }
    });
    let mut out = [_mm512_setzero_si512(); 8];
    for m in 0..2 {
        let y = transpose_lanes128([a[m], a[2 + m], a[4 + m], a[6 + m]]);
        for (k, v) in y.into_iter().enumerate() {
            out[2 * k + m] = v;
        }
    }
    out
}

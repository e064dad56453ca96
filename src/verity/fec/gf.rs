//! Arithmetic in GF(2^8) with the field polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d),
//! the field of dm-verity's Reed-Solomon code. Bit i of a byte is the coefficient of
//! x^i; the primitive element α is x (the byte 2).
//!
//! The log and exp tables are computed at compile time (`const fn`), so there is no
//! run-time initialisation and no global mutable state. Also here: the per-constant
//! operands the SIMD multipliers need (a GFNI bit matrix, a pair of nibble tables),
//! because they are pure functions of the field.

#![deny(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

/// The field polynomial, bit i the coefficient of x^i.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const POLYNOMIAL: u16 = 0x11d;

/// Non-zero elements: the order of α.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const ORDER: usize = 255;

/// `x · 2` (multiplication by α), the building block of every table.
const fn times_alpha(x: u8) -> u8 {
    let shifted = (x as u16) << 1;
    if shifted & 0x100 != 0 { (shifted ^ POLYNOMIAL) as u8 } else { shifted as u8 }
}

/// α^i for i in 0..512: twice the cycle, so that `EXP[log a + log b]` needs no
/// reduction modulo 255.
const EXP: [u8; 2 * 256] = {
    let mut table = [0u8; 512];
    let mut x = 1u8;
    let mut i = 0;
    while i < 512 {
        table[i] = x;
        x = times_alpha(x);
        i += 1;
    }
    table
};

/// log_α(a) for a ≠ 0; entry 0 is never used.
const LOG: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < ORDER {
        table[EXP[i] as usize] = i as u8;
        i += 1;
    }
    table
};

// α must generate the whole multiplicative group: the cycle closes after exactly 255
// steps and not before (otherwise 0x11d would not be primitive and LOG would be wrong).
const _: () = {
    assert!(EXP[ORDER] == 1);
    let mut i = 1;
    while i < ORDER {
        assert!(EXP[i] != 1);
        i += 1;
    }
};

/// a · b.
#[inline]
pub const fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 { 0 } else { EXP[LOG[a as usize] as usize + LOG[b as usize] as usize] }
}

/// a · b by shift-and-add, independent of the tables: the reference the tables are
/// tested against.
pub const fn mul_slow(a: u8, b: u8) -> u8 {
    let mut product = 0u8;
    let mut a = a;
    let mut b = b;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        a = times_alpha(a);
        b >>= 1;
    }
    product
}

/// α^i, for any i (taken modulo 255).
#[inline]
pub const fn exp(i: usize) -> u8 {
    EXP[i % ORDER]
}

/// log_α(a), or `None` for zero, which has no logarithm.
#[inline]
pub const fn log(a: u8) -> Option<u8> {
    if a == 0 { None } else { Some(LOG[a as usize]) }
}

/// a⁻¹, or `None` for zero.
#[inline]
pub const fn inverse(a: u8) -> Option<u8> {
    match log(a) {
        None => None,
        Some(l) => Some(EXP[ORDER - l as usize]),
    }
}

/// a / b, or `None` when b is zero.
#[inline]
pub const fn div(a: u8, b: u8) -> Option<u8> {
    match log(b) {
        None => None,
        Some(_) if a == 0 => Some(0),
        Some(lb) => Some(EXP[LOG[a as usize] as usize + ORDER - lb as usize]),
    }
}

/// a^e for any exponent (a^0 = 1, also for a = 0).
pub const fn pow(a: u8, e: usize) -> u8 {
    if e == 0 {
        return 1;
    }
    match log(a) {
        None => 0,
        Some(l) => EXP[(l as usize * (e % ORDER)) % ORDER],
    }
}

/// Multiplication by `c` as the 8×8 bit matrix that x86 `GF2P8AFFINEQB` applies to every
/// byte of a vector: result bit i is the parity of `x & matrix.byte[7 - i]`. The map is
/// linear over GF(2), so column k of the matrix is `c · x^k`; row i collects bit i of
/// every column. This is what lets the instruction multiply in the 0x11d field although
/// its own multiply (`GF2P8MULB`) is fixed to AES's 0x11b.
pub const fn gfni_matrix(c: u8) -> u64 {
    let mut matrix = 0u64;
    let mut i = 0;
    while i < 8 {
        let mut row = 0u8;
        let mut k = 0;
        while k < 8 {
            if (mul(c, 1 << k) >> i) & 1 != 0 {
                row |= 1 << k;
            }
            k += 1;
        }
        matrix |= (row as u64) << (8 * (7 - i));
        i += 1;
    }
    matrix
}

/// Multiplication by `c` as two 16-entry tables, for byte-shuffle multipliers:
/// `c · x = low[x & 15] ^ high[x >> 4]` (the product distributes over the two nibbles).
pub const fn nibble_tables(c: u8) -> ([u8; 16], [u8; 16]) {
    let mut low = [0u8; 16];
    let mut high = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        low[n] = mul(c, n as u8);
        high[n] = mul(c, (n as u8) << 4);
        n += 1;
    }
    (low, high)
}

/// Multiplication by `c` as a 256-entry table.
pub const fn mul_table(c: u8) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        table[x] = mul(c, x as u8);
        x += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a GFNI matrix the way the instruction defines it, bit by bit.
    fn affine(matrix: u64, x: u8) -> u8 {
        (0..8).fold(0u8, |acc, i| {
            let row = (matrix >> (8 * (7 - i))) as u8;
            acc | (((row & x).count_ones() as u8 & 1) << i)
        })
    }

    #[test]
    fn tables_match_shift_and_add_for_every_pair() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(mul(a, b), mul_slow(a, b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn alpha_generates_the_field() {
        let mut seen = [false; 256];
        for i in 0..ORDER {
            seen[exp(i) as usize] = true;
        }
        assert!(!seen[0] && seen[1..].iter().all(|&s| s));
        // Known values of the 0x11d field: α^8 = x^4 + x^3 + x^2 + 1.
        assert_eq!(exp(8), 0x1d);
        assert_eq!(exp(255), 1);
    }

    #[test]
    fn inverse_division_and_powers() {
        assert_eq!(inverse(0), None);
        assert_eq!(div(5, 0), None);
        assert_eq!(div(0, 7), Some(0));
        assert_eq!(log(0), None);
        for a in 1..=255u8 {
            let inv = inverse(a).unwrap();
            assert_eq!(mul(a, inv), 1);
            assert_eq!(exp(log(a).unwrap() as usize), a);
            for b in 1..=255u8 {
                assert_eq!(mul(div(a, b).unwrap(), b), a);
            }
            assert_eq!(pow(a, 0), 1);
            assert_eq!(pow(a, 1), a);
            assert_eq!(pow(a, 255), 1);
            assert_eq!(pow(a, 3), mul(a, mul(a, a)));
        }
        assert_eq!(pow(0, 0), 1);
        assert_eq!(pow(0, 5), 0);
    }

    #[test]
    fn simd_operands_multiply() {
        for c in 0..=255u8 {
            let matrix = gfni_matrix(c);
            let (low, high) = nibble_tables(c);
            let table = mul_table(c);
            for x in 0..=255u8 {
                let expected = mul(c, x);
                assert_eq!(affine(matrix, x), expected, "matrix {c} * {x}");
                assert_eq!(low[(x & 15) as usize] ^ high[(x >> 4) as usize], expected);
                assert_eq!(table[x as usize], expected);
            }
        }
    }
}

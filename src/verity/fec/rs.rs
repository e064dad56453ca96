//! The Reed-Solomon code of dm-verity FEC: RS(255, 255 − roots) over GF(2^8)/0x11d,
//! generator roots α^0 … α^(roots−1) (`fcr = 0`, `prim = 1`), systematic in Phil Karn's
//! libfec convention: a codeword is `message || parity`, `message[0]` the coefficient
//! of the highest power, and `parity = message(x) · x^roots mod g(x)`, highest power
//! first. This is the code cryptsetup and the kernel use (`init_rs(8, 0x11d, 0, 1, roots)`).
//!
//! Two encoders live here:
//!
//! * [`encode_codeword`]: one codeword, byte at a time; the reference.
//! * the batch formulation that the fast paths share: the encoder is a linear
//!   feedback shift register whose step multiplies the feedback byte by the constant
//!   taps of `g`, so many codewords ("lanes") can run side by side, each step
//!   consuming symbol *i* of every lane. A *row* is symbol *i* of all lanes, which in
//!   dm-verity's interleaving is one whole block of the input. `PortableRows` is the
//!   table-driven version of that for any CPU, the SIMD versions are in `crate::simd`;
//!   [`BatchEncoder`](super::BatchEncoder) is the public face of all of them.

#![deny(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use super::error::{FecError, Result};
use super::gf;

/// Symbols per codeword.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const CODEWORD_LEN: usize = 255;
/// Fewest parity bytes per codeword dm-verity allows.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const MIN_ROOTS: u32 = 2;
/// Most parity bytes per codeword dm-verity allows.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const MAX_ROOTS: u32 = 24;

/// Checks `roots` against 2..=24 and returns it as an index type.
pub fn check_roots(roots: u32) -> Result<usize> {
    if (MIN_ROOTS..=MAX_ROOTS).contains(&roots) { Ok(roots as usize) } else { Err(FecError::InvalidRoots(roots)) }
}

/// The generator polynomial g(x) = Π_{i<roots} (x − α^i), monic, of one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generator {
    roots: usize,
    /// `coefficients[k]` multiplies x^k; `coefficients[roots]` is 1.
    coefficients: [u8; MAX_ROOTS as usize + 1],
}

impl Generator {
    /// The generator for `roots` parity bytes (2..=24).
    pub fn new(roots: u32) -> Result<Self> {
        let roots = check_roots(roots)?;
        let mut coefficients = [0u8; MAX_ROOTS as usize + 1];
        coefficients[0] = 1;
        // Multiply by (x + α^i) one root at a time (− is + in characteristic 2).
        for i in 0..roots {
            let root = gf::exp(i);
            for k in (1..=i + 1).rev() {
                coefficients[k] = coefficients[k - 1] ^ gf::mul(coefficients[k], root);
            }
            coefficients[0] = gf::mul(coefficients[0], root);
        }
        Ok(Generator { roots, coefficients })
    }

    /// Parity bytes per codeword.
    pub fn roots(&self) -> usize {
        self.roots
    }

    /// Message symbols per codeword, `255 − roots`.
    pub fn message_len(&self) -> usize {
        CODEWORD_LEN - self.roots
    }

    /// The coefficients, lowest power first (`roots + 1` of them, the last one 1).
    pub fn coefficients(&self) -> &[u8] {
        &self.coefficients[..=self.roots]
    }

    /// The shift register's taps: step `j` of the register multiplies the feedback by
    /// `taps()[j] = g[roots − 1 − j]`, so that
    /// `state[j] ← state[j + 1] ^ feedback · taps[j]` (with `state[roots] = 0`).
    pub fn taps(&self) -> [u8; MAX_ROOTS as usize] {
        let mut taps = [0u8; MAX_ROOTS as usize];
        for (j, tap) in taps.iter_mut().enumerate().take(self.roots) {
            *tap = self.coefficients[self.roots - 1 - j];
        }
        taps
    }
}

/// Encodes one codeword: `parity` (`roots` bytes, highest power first) of `message`
/// (`255 − roots` bytes, highest power first), exactly as libfec's `encode_rs_char`.
pub fn encode_codeword(generator: &Generator, message: &[u8], parity: &mut [u8]) -> Result<()> {
    let roots = generator.roots;
    check_len("message", message.len(), generator.message_len())?;
    check_len("parity", parity.len(), roots)?;
    let taps = generator.taps();
    parity.fill(0);
    for &symbol in message {
        let feedback = symbol ^ parity[0];
        for j in 0..roots - 1 {
            parity[j] = parity[j + 1] ^ gf::mul(feedback, taps[j]);
        }
        parity[roots - 1] = gf::mul(feedback, taps[roots - 1]);
    }
    Ok(())
}

/// The syndromes S_j = c(α^j), j < roots, of a full codeword (`c[0]` the highest power).
/// All zero exactly when `codeword` is a codeword.
pub fn syndromes(roots: usize, codeword: &[u8; CODEWORD_LEN]) -> [u8; MAX_ROOTS as usize] {
    let mut out = [0u8; MAX_ROOTS as usize];
    for (j, s) in out.iter_mut().enumerate().take(roots) {
        // Horner's rule from the highest power down.
        let x = gf::exp(j);
        *s = codeword.iter().fold(0u8, |acc, &c| gf::mul(acc, x) ^ c);
    }
    out
}

pub(crate) fn check_len(what: &'static str, actual: usize, expected: usize) -> Result<()> {
    if actual == expected { Ok(()) } else { Err(FecError::BufferSize { what, expected, actual }) }
}

/// Checks a batch: `rows.len()` message symbols, every row holding at least `lanes`
/// bytes, and `parity` exactly `lanes · roots` bytes.
pub(crate) fn check_batch(generator: &Generator, rows: &[&[u8]], lanes: usize, parity: &[u8]) -> Result<()> {
    check_len("the row list", rows.len(), generator.message_len())?;
    if let Some(short) = rows.iter().find(|r| r.len() < lanes) {
        return Err(FecError::BufferSize { what: "a message row", expected: lanes, actual: short.len() });
    }
    let expected = lanes.checked_mul(generator.roots).ok_or(FecError::Overflow("the parity size"))?;
    check_len("the parity buffer", parity.len(), expected)
}

/// The portable batch encoder: each lane's shift register is held in up to three
/// 64-bit words (byte `j` of the state in byte `j` of the words, little-endian), so one
/// register step is a byte shift of the words and one XOR with a table entry that
/// holds the products of the feedback with every tap at once. The table has 256
/// entries of `roots` bytes (at most 6 KiB), and the state comes out already in the
/// file's byte order: no transposition is needed.
#[derive(Clone)]
pub(crate) struct PortableRows {
    roots: usize,
    message_len: usize,
    /// `table[f]` = the words whose byte `j` is `f · taps[j]`.
    table: Box<[[u64; 3]; 256]>,
}

impl core::fmt::Debug for PortableRows {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PortableRows").field("roots", &self.roots).finish_non_exhaustive()
    }
}

impl PortableRows {
    /// The encoder of `generator`'s code.
    pub(crate) fn new(generator: &Generator) -> Self {
        let taps = generator.taps();
        let mut table = Box::new([[0u64; 3]; 256]);
        for (feedback, entry) in table.iter_mut().enumerate() {
            for (j, &tap) in taps.iter().enumerate().take(generator.roots) {
                entry[j / 8] |= (gf::mul(feedback as u8, tap) as u64) << (8 * (j % 8));
            }
        }
        PortableRows { roots: generator.roots, message_len: generator.message_len(), table }
    }

    /// Encodes `lanes` codewords: symbol `i` of lane `l` is `rows[i][l]`; the parity of
    /// lane `l` goes to `parity[l·roots .. (l+1)·roots]`. Sizes are the caller's to check
    /// ([`check_batch`]); a mismatch here is a bug, caught by slice bounds.
    ///
    /// Each step waits for a table look-up indexed by the previous step's result, so
    /// several lanes run interleaved to overlap those latencies: 8 while the state is
    /// one word, 4 when it takes more registers.
    pub(crate) fn encode(&self, rows: &[&[u8]], lanes: core::ops::Range<usize>, parity: &mut [u8]) {
        debug_assert_eq!(rows.len(), self.message_len);
        match self.roots.div_ceil(8) {
            1 => self.encode_words::<1, 8>(rows, lanes, parity),
            2 => self.encode_words::<2, 4>(rows, lanes, parity),
            _ => self.encode_words::<3, 4>(rows, lanes, parity),
        }
    }

    fn encode_words<const W: usize, const L: usize>(
        &self,
        rows: &[&[u8]],
        lanes: core::ops::Range<usize>,
        parity: &mut [u8],
    ) {
        let roots = self.roots;
        let mut lane = lanes.start;
        while lane < lanes.end {
            let group = L.min(lanes.end - lane);
            let mut state = [[0u64; W]; L];
            if group == L {
                for row in rows {
                    let symbols: &[u8; L] = row[lane..lane + L].try_into().unwrap_or(&[0; L]);
                    for (s, &symbol) in state.iter_mut().zip(symbols) {
                        self.step(s, symbol);
                    }
                }
            } else {
                for row in rows {
                    for (k, s) in state.iter_mut().enumerate().take(group) {
                        self.step(s, row[lane + k]);
                    }
                }
            }
            for (k, s) in state.iter().enumerate().take(group) {
                let out = &mut parity[(lane - lanes.start + k) * roots..][..roots];
                for (j, byte) in out.iter_mut().enumerate() {
                    *byte = (s[j / 8] >> (8 * (j % 8))) as u8;
                }
            }
            lane += group;
        }
    }

    /// Continues `lanes` codewords through `rows` from the state in `planes` (byte `j`
    /// of lane `l`'s shift register at `planes[j·stride + l]`, zeros to start), leaving
    /// the new state there: after the last row, the parity in planar form. Sizes are the
    /// caller's to check; a mismatch is a bug, caught by slice bounds.
    pub(crate) fn resume(&self, rows: &[&[u8]], lanes: core::ops::Range<usize>, planes: &mut [u8], stride: usize) {
        match self.roots.div_ceil(8) {
            1 => self.resume_words::<1, 8>(rows, lanes, planes, stride),
            2 => self.resume_words::<2, 4>(rows, lanes, planes, stride),
            _ => self.resume_words::<3, 4>(rows, lanes, planes, stride),
        }
    }

    fn resume_words<const W: usize, const L: usize>(
        &self,
        rows: &[&[u8]],
        lanes: core::ops::Range<usize>,
        planes: &mut [u8],
        stride: usize,
    ) {
        let roots = self.roots;
        let mut lane = lanes.start;
        while lane < lanes.end {
            let group = L.min(lanes.end - lane);
            let mut state = [[0u64; W]; L];
            for (k, s) in state.iter_mut().enumerate().take(group) {
                for j in 0..roots {
                    s[j / 8] |= (planes[j * stride + lane + k] as u64) << (8 * (j % 8));
                }
            }
            for row in rows {
                for (k, s) in state.iter_mut().enumerate().take(group) {
                    self.step(s, row[lane + k]);
                }
            }
            for (k, s) in state.iter().enumerate().take(group) {
                for j in 0..roots {
                    planes[j * stride + lane + k] = (s[j / 8] >> (8 * (j % 8))) as u8;
                }
            }
            lane += group;
        }
    }

    /// One register step: shift every state byte down by one, then add the feedback's
    /// products with the taps.
    #[inline(always)]
    fn step<const W: usize>(&self, state: &mut [u64; W], symbol: u8) {
        let feedback = symbol ^ state[0] as u8;
        let products = &self.table[feedback as usize];
        for w in 0..W {
            let carry = if w + 1 < W { state[w + 1] << 56 } else { 0 };
            state[w] = (state[w] >> 8 | carry) ^ products[w];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates a polynomial given highest power first.
    fn eval(poly: &[u8], x: u8) -> u8 {
        poly.iter().fold(0u8, |acc, &c| gf::mul(acc, x) ^ c)
    }

    fn rng(seed: u64) -> impl FnMut() -> u8 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        }
    }

    #[test]
    fn roots_out_of_range_are_refused() {
        for roots in [0, 1, 25, 255, u32::MAX] {
            assert!(matches!(Generator::new(roots), Err(FecError::InvalidRoots(r)) if r == roots));
        }
    }

    #[test]
    fn generator_vanishes_at_its_roots_only() {
        for roots in MIN_ROOTS..=MAX_ROOTS {
            let g = Generator::new(roots).unwrap();
            let high_first: Vec<u8> = g.coefficients().iter().rev().copied().collect();
            assert_eq!(high_first[0], 1, "monic");
            for i in 0..255 {
                let value = eval(&high_first, gf::exp(i));
                assert_eq!(value == 0, i < roots as usize, "roots {roots}, α^{i}");
            }
        }
    }

    /// RS(255, 253) has g(x) = (x + 1)(x + α) = x² + 3x + 2.
    #[test]
    fn generator_of_two_roots() {
        assert_eq!(Generator::new(2).unwrap().coefficients(), &[2, 3, 1]);
    }

    #[test]
    fn encoded_words_are_codewords() {
        let mut next = rng(1);
        for roots in MIN_ROOTS..=MAX_ROOTS {
            let g = Generator::new(roots).unwrap();
            for _ in 0..20 {
                let mut word = [0u8; CODEWORD_LEN];
                word.iter_mut().take(g.message_len()).for_each(|b| *b = next());
                let (message, parity) = word.split_at_mut(g.message_len());
                encode_codeword(&g, message, parity).unwrap();
                assert!(syndromes(g.roots(), &word).iter().all(|&s| s == 0));
                // Systematic and linear: the remainder equals message·x^roots mod g, so
                // c(α^j) = 0 is the whole check, and any message change breaks it.
                word[7] ^= 1;
                assert!(syndromes(g.roots(), &word).iter().take(g.roots()).any(|&s| s != 0));
            }
        }
    }

    #[test]
    fn encode_checks_lengths() {
        let g = Generator::new(2).unwrap();
        let mut parity = [0u8; 2];
        assert!(matches!(encode_codeword(&g, &[0; 252], &mut parity), Err(FecError::BufferSize { .. })));
        assert!(matches!(encode_codeword(&g, &[0; 253], &mut [0u8; 3]), Err(FecError::BufferSize { .. })));
    }

    #[test]
    fn portable_resume_in_pieces_equals_one_pass() {
        let mut next = rng(3);
        for roots in [2, 9, 24] {
            let g = Generator::new(roots).unwrap();
            let (lanes, r) = (21, g.roots());
            let rows: Vec<Vec<u8>> = (0..g.message_len()).map(|_| (0..lanes).map(|_| next()).collect()).collect();
            let refs: Vec<&[u8]> = rows.iter().map(|r| r.as_slice()).collect();
            let encoder = PortableRows::new(&g);
            let mut whole = vec![0u8; lanes * r];
            encoder.encode(&refs, 0..lanes, &mut whole);
            let mut planes = vec![0u8; lanes * r];
            for piece in refs.chunks(37) {
                encoder.resume(piece, 0..lanes, &mut planes, lanes);
            }
            for l in 0..lanes {
                for j in 0..r {
                    assert_eq!(planes[j * lanes + l], whole[l * r + j]);
                }
            }
        }
    }

    #[test]
    fn portable_rows_match_the_reference_for_every_roots() {
        let mut next = rng(2);
        for roots in MIN_ROOTS..=MAX_ROOTS {
            let g = Generator::new(roots).unwrap();
            let lanes = 37; // not a multiple of the interleave
            let rows: Vec<Vec<u8>> = (0..g.message_len()).map(|_| (0..lanes).map(|_| next()).collect()).collect();
            let row_refs: Vec<&[u8]> = rows.iter().map(|r| r.as_slice()).collect();
            let mut parity = vec![0u8; lanes * g.roots()];
            check_batch(&g, &row_refs, lanes, &parity).unwrap();
            PortableRows::new(&g).encode(&row_refs, 0..lanes, &mut parity);
            for lane in 0..lanes {
                let message: Vec<u8> = rows.iter().map(|r| r[lane]).collect();
                let mut expected = vec![0u8; g.roots()];
                encode_codeword(&g, &message, &mut expected).unwrap();
                assert_eq!(&parity[lane * g.roots()..][..g.roots()], &expected[..], "roots {roots} lane {lane}");
            }
        }
    }
}

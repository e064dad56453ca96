//! Decoding one RS(255, 255 − roots) codeword with errors and erasures.
//!
//! Syndromes, then Berlekamp–Massey started from the erasure locator (so known-bad
//! positions cost one parity byte each instead of two), a Chien search for the error
//! positions and Forney's formula for the values. A codeword can be repaired when
//! `2 · errors + erasures ≤ roots`; this decoder then always returns the original.
//!
//! Beyond that bound no decoder can be sure. This one refuses whenever its own checks
//! fail (the locator's degree does not match its roots, a root lands on a repeated
//! position, the corrected word is not a codeword, or the bound is exceeded by what it
//! found), but a heavily damaged word can lie within the correction radius of a
//! *different* codeword, and then the answer is that codeword: it is a valid codeword,
//! so nothing inside the code can tell. That is why dm-verity re-hashes every repaired
//! block, and callers here must too. Erasures are what make repair dependable: with
//! every bad position known (the hash tree tells which blocks are bad) and at most
//! `roots` of them, the answer is exact.

#![deny(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use super::error::{FecError, Result};
use super::gf;
use super::rs::{CODEWORD_LEN, MAX_ROOTS, check_len, check_roots, syndromes};

/// What a successful decode did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeOutcome {
    /// Symbols whose value changed.
    pub corrected: usize,
    /// Error positions found that were not given as erasures.
    pub errors_found: usize,
}

/// Locator polynomials have degree at most `roots`.
const POLY_LEN: usize = MAX_ROOTS as usize + 1;

/// The locator value of array position `k`: position 0 holds the highest power, x^254.
fn locator(k: usize) -> u8 {
    gf::exp(CODEWORD_LEN - 1 - k)
}

/// p(x) at `x`, coefficients lowest power first.
fn eval(poly: &[u8], x: u8) -> u8 {
    poly.iter().rev().fold(0u8, |acc, &c| gf::mul(acc, x) ^ c)
}

fn degree(poly: &[u8]) -> usize {
    poly.iter().rposition(|&c| c != 0).unwrap_or(0)
}

/// Corrects `codeword` (255 bytes: message then parity, as encoded) in place.
/// `erasures` are positions (0..255) known or suspected to be wrong; the decoder treats
/// their values as unknown. Returns what changed, or [`FecError::Uncorrectable`] with
/// `codeword` untouched.
pub fn decode(roots: u32, codeword: &mut [u8], erasures: &[usize]) -> Result<DecodeOutcome> {
    let nroots = check_roots(roots)?;
    check_len("the codeword", codeword.len(), CODEWORD_LEN)?;
    let mut erased = [false; CODEWORD_LEN];
    for &e in erasures {
        if e >= CODEWORD_LEN || core::mem::replace(&mut erased[e], true) {
            return Err(FecError::InvalidErasure(e));
        }
    }
    let uncorrectable = FecError::Uncorrectable { roots };
    if erasures.len() > nroots {
        return Err(uncorrectable);
    }
    let word: &mut [u8; CODEWORD_LEN] = codeword.try_into().map_err(|_| FecError::Overflow("the codeword"))?;
    let s = syndromes(nroots, word);
    if s.iter().take(nroots).all(|&x| x == 0) {
        // Already a codeword. With at most `roots` erasures it is the only codeword
        // that agrees with the unerased symbols (the code's distance is roots + 1).
        return Ok(DecodeOutcome::default());
    }

    // Erasure locator Γ(x) = Π (1 + X_e·x), the starting point of Berlekamp–Massey.
    let mut lambda = [0u8; POLY_LEN];
    lambda[0] = 1;
    for (count, &e) in erasures.iter().enumerate() {
        let x = locator(e);
        for k in (1..=count + 1).rev() {
            lambda[k] ^= gf::mul(x, lambda[k - 1]);
        }
    }

    // Berlekamp–Massey over the syndromes not spent on erasures.
    let erasure_count = erasures.len();
    let mut previous = lambda; // B(x)
    let mut length = erasure_count; // L
    for step in erasure_count + 1..=nroots {
        let discrepancy =
            (0..step).fold(0u8, |acc, i| acc ^ gf::mul(lambda.get(i).copied().unwrap_or(0), s[step - 1 - i]));
        // B ← x·B in both branches that do not replace it.
        let shifted: [u8; POLY_LEN] = core::array::from_fn(|k| if k == 0 { 0 } else { previous[k - 1] });
        if discrepancy == 0 {
            previous = shifted;
            continue;
        }
        let mut next = lambda;
        for k in 0..POLY_LEN {
            next[k] ^= gf::mul(discrepancy, shifted[k]);
        }
        if 2 * length < step + erasure_count {
            length = step + erasure_count - length;
            let scale = gf::inverse(discrepancy).ok_or(FecError::Uncorrectable { roots })?;
            previous = lambda.map(|c| gf::mul(c, scale));
        } else {
            previous = shifted;
        }
        lambda = next;
    }
    let lambda_degree = degree(&lambda);
    if lambda_degree != length || lambda_degree > nroots {
        return Err(uncorrectable);
    }

    // Chien search: the positions whose locator inverts to a root of Λ.
    let mut positions = [0usize; MAX_ROOTS as usize];
    let mut found = 0;
    for k in 0..CODEWORD_LEN {
        let x_inverse = gf::exp(k + 1); // locator(k)⁻¹ = α^(−(254 − k)) = α^(k + 1)
        if eval(&lambda[..=lambda_degree], x_inverse) == 0 {
            if found == lambda_degree {
                return Err(uncorrectable);
            }
            positions[found] = k;
            found += 1;
        }
    }
    if found != lambda_degree {
        return Err(uncorrectable);
    }
    let errors_found = positions[..found].iter().filter(|&&k| !erased[k]).count();
    if 2 * errors_found + erasure_count > nroots {
        return Err(uncorrectable);
    }

    // Forney (first root α^0): e_k = X_k · Ω(X_k⁻¹) / Λ'(X_k⁻¹), Ω = S·Λ mod x^roots.
    let mut omega = [0u8; MAX_ROOTS as usize];
    for (i, o) in omega.iter_mut().enumerate().take(nroots) {
        *o = (0..=i.min(lambda_degree)).fold(0u8, |acc, k| acc ^ gf::mul(lambda[k], s[i - k]));
    }
    // The formal derivative keeps the odd powers only (2 = 0 in this field).
    let mut derivative = [0u8; POLY_LEN];
    for k in (1..=lambda_degree).step_by(2) {
        derivative[k - 1] = lambda[k];
    }
    let mut fixed = *word;
    let mut corrected = 0;
    for &k in &positions[..found] {
        let x_inverse = gf::exp(k + 1);
        let denominator = eval(&derivative[..lambda_degree.max(1)], x_inverse);
        let numerator = gf::mul(locator(k), eval(&omega[..nroots], x_inverse));
        let value = gf::div(numerator, denominator).ok_or(FecError::Uncorrectable { roots })?;
        if value != 0 {
            fixed[k] ^= value;
            corrected += 1;
        }
    }
    // The result must be a codeword; anything else means the locator was spurious.
    if syndromes(nroots, &fixed).iter().take(nroots).any(|&x| x != 0) {
        return Err(uncorrectable);
    }
    *word = fixed;
    Ok(DecodeOutcome { corrected, errors_found })
}

#[cfg(test)]
mod tests {
    use super::super::rs::{Generator, encode_codeword};
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        /// `count` distinct positions below 255.
        fn positions(&mut self, count: usize) -> Vec<usize> {
            let mut all: Vec<usize> = (0..CODEWORD_LEN).collect();
            for i in 0..count {
                let j = i + self.below(CODEWORD_LEN - i);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        }
    }

    fn random_codeword(rng: &mut Rng, roots: u32) -> [u8; CODEWORD_LEN] {
        let g = Generator::new(roots).unwrap();
        let mut word = [0u8; CODEWORD_LEN];
        word.iter_mut().take(g.message_len()).for_each(|b| *b = rng.next() as u8);
        let (message, parity) = word.split_at_mut(g.message_len());
        encode_codeword(&g, message, parity).unwrap();
        word
    }

    /// Every combination of errors e and erasures s with 2e + s ≤ roots, for every
    /// roots, many random words and positions: the original always comes back.
    #[test]
    fn corrects_everything_within_capability() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for roots in 2..=24u32 {
            let r = roots as usize;
            for erasures in 0..=r {
                for errors in 0..=(r - erasures) / 2 {
                    for _ in 0..16 {
                        let original = random_codeword(&mut rng, roots);
                        let mut word = original;
                        let bad = rng.positions(erasures + errors);
                        for &k in &bad {
                            // Erased symbols may or may not actually be wrong.
                            let flip = if rng.below(4) == 0 { 0 } else { 1 + rng.below(255) as u8 };
                            word[k] ^= flip;
                        }
                        for &k in &bad[erasures..] {
                            if word[k] == original[k] {
                                word[k] ^= 0x5a;
                            }
                        }
                        let outcome = decode(roots, &mut word, &bad[..erasures])
                            .unwrap_or_else(|e| panic!("roots {roots} s {erasures} e {errors}: {e}"));
                        assert_eq!(word, original, "roots {roots} s {erasures} e {errors}");
                        assert_eq!(outcome.errors_found, errors);
                    }
                }
            }
        }
    }

    /// Beyond the bound the decoder either refuses (word untouched) or returns a valid
    /// codeword; it never returns something that is not a codeword.
    #[test]
    fn beyond_capability_never_returns_a_non_codeword() {
        let mut rng = Rng(42);
        let mut refused = 0;
        let mut miscorrected = 0;
        for roots in [2u32, 3, 8, 17, 24] {
            let r = roots as usize;
            for _ in 0..300 {
                let original = random_codeword(&mut rng, roots);
                let erasures = rng.below(r + 1);
                let errors = (r - erasures) / 2 + 1 + rng.below(3);
                let bad = rng.positions(erasures + errors);
                let mut word = original;
                for &k in &bad {
                    word[k] ^= 1 + rng.below(255) as u8;
                }
                let damaged = word;
                match decode(roots, &mut word, &bad[..erasures]) {
                    Err(FecError::Uncorrectable { .. }) => {
                        assert_eq!(word, damaged);
                        refused += 1;
                    }
                    Ok(_) => {
                        assert!(syndromes(r, &word).iter().all(|&x| x == 0));
                        assert_ne!(word, original, "more errors than the bound cannot all be undone");
                        miscorrected += 1;
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        }
        assert!(refused > miscorrected, "refused {refused}, miscorrected {miscorrected}");
    }

    #[test]
    fn exactly_roots_erasures_of_the_parity_or_message() {
        let mut rng = Rng(7);
        for roots in [2u32, 24] {
            let original = random_codeword(&mut rng, roots);
            let r = roots as usize;
            for start in [0, 100, CODEWORD_LEN - r] {
                let bad: Vec<usize> = (start..start + r).collect();
                let mut word = original;
                bad.iter().for_each(|&k| word[k] = 0);
                decode(roots, &mut word, &bad).unwrap();
                assert_eq!(word, original);
            }
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let mut word = [0u8; CODEWORD_LEN];
        assert!(matches!(decode(1, &mut word, &[]), Err(FecError::InvalidRoots(1))));
        assert!(matches!(decode(2, &mut word[..254], &[]), Err(FecError::BufferSize { .. })));
        assert!(matches!(decode(2, &mut word, &[255]), Err(FecError::InvalidErasure(255))));
        assert!(matches!(decode(2, &mut word, &[3, 3]), Err(FecError::InvalidErasure(3))));
        assert!(matches!(decode(2, &mut word, &[1, 2, 3]), Err(FecError::Uncorrectable { roots: 2 })));
        // A clean zero word with erasures is accepted as is.
        assert_eq!(decode(2, &mut word, &[1, 2]).unwrap(), DecodeOutcome::default());
    }
}

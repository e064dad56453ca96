//! Which digest an RSA signature was made with, read from the signature itself (after
//! the public-key operation), so that auto-detection hashes the data with that digest
//! only. Pure logic: the RSA operation and the hash function come from the caller.
//!
//! Nothing here decides validity: a candidate found here is still verified with
//! `EVP_PKEY_verify` over the data's digest.

use crate::crypto::HashAlgorithm;

/// The DER DigestInfo prefixes of RFC 8017 §9.2 (note 1), each followed by the hash.
const DIGEST_INFO_PREFIXES: [(HashAlgorithm, &[u8]); 4] = [
    (HashAlgorithm::Sha1, &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]),
    (
        HashAlgorithm::Sha256,
        &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
    ),
    (
        HashAlgorithm::Sha384,
        &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
    ),
    (
        HashAlgorithm::Sha512,
        &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    ),
];

/// The digest named by a PKCS#1 v1.5 DigestInfo (what remains once the padding is
/// removed), or None for any other digest or shape.
pub(crate) fn digest_info_alg(digest_info: &[u8]) -> Option<HashAlgorithm> {
    DIGEST_INFO_PREFIXES.iter().find_map(|(alg, prefix)| {
        (digest_info.len() == prefix.len() + alg.digest_size() && digest_info.starts_with(prefix)).then_some(*alg)
    })
}

/// A hash over the concatenation of the parts, in the caller's library context.
pub(crate) type HashFn<'a> = &'a dyn Fn(HashAlgorithm, &[&[u8]]) -> Option<Vec<u8>>;

/// The digests under which `raw` (signature^e mod n, as long as the modulus) is a
/// well-formed EMSA-PSS encoding (RFC 8017 §9.1.2, steps 4–10) with MGF1 over the same
/// digest, as `openssl dgst -sigopt rsa_padding_mode:pss` makes it. Usually one; a wrong
/// digest passes by chance about once in 256 tries, which only costs an extra digest.
pub(crate) fn pss_digests(raw: &[u8], modulus_bits: u32, hash: HashFn<'_>) -> Vec<HashAlgorithm> {
    let Some(em_bits) = usize::try_from(modulus_bits).ok().and_then(|b| b.checked_sub(1)) else {
        return Vec::new();
    };
    let em_len = em_bits.div_ceil(8);
    let Some(lead_len) = raw.len().checked_sub(em_len) else { return Vec::new() };
    let (lead, em) = raw.split_at(lead_len);
    if em_len == 0 || lead.iter().any(|&b| b != 0) || em.last() != Some(&0xbc) {
        return Vec::new();
    }
    // The leftmost 8·emLen − emBits bits of the encoding are zero.
    let top_mask = 0xffu8 >> (8 * em_len - em_bits);
    let mut found = Vec::new();
    for alg in [HashAlgorithm::Sha1, HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512] {
        let h_len = alg.digest_size();
        if em_len < h_len + 2 {
            continue;
        }
        let db_len = em_len - h_len - 1;
        let (masked_db, rest) = em.split_at(db_len);
        if masked_db[0] & !top_mask != 0 {
            continue;
        }
        let Some(mask) = mgf1(alg, &rest[..h_len], db_len, hash) else { continue };
        let mut db: Vec<u8> = masked_db.iter().zip(&mask).map(|(m, k)| m ^ k).collect();
        db[0] &= top_mask;
        // DB = PS (zero bytes) || 0x01 || salt.
        if db.iter().find(|&&b| b != 0) == Some(&0x01) {
            found.push(alg);
        }
    }
    found
}

/// MGF1 (RFC 8017 B.2.1): `len` bytes of Hash(seed || counter) for counter = 0, 1, ...
fn mgf1(alg: HashAlgorithm, seed: &[u8], len: usize, hash: HashFn<'_>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len + alg.digest_size());
    let mut counter = 0u32;
    while out.len() < len {
        out.extend(hash(alg, &[seed, &counter.to_be_bytes()])?);
        counter = counter.checked_add(1)?;
    }
    out.truncate(len);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    fn sha(alg: HashAlgorithm, parts: &[&[u8]]) -> Option<Vec<u8>> {
        let joined = parts.concat();
        Some(match alg {
            HashAlgorithm::Sha1 | HashAlgorithm::Sha224 => return None,
            HashAlgorithm::Sha256 => sha2::Sha256::digest(&joined).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(&joined).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(&joined).to_vec(),
        })
    }

    #[test]
    fn digest_info_names_exactly_the_four_digests() {
        let mut info = DIGEST_INFO_PREFIXES[1].1.to_vec();
        info.extend([7u8; 32]);
        assert_eq!(digest_info_alg(&info), Some(HashAlgorithm::Sha256));
        info.push(0);
        assert_eq!(digest_info_alg(&info), None, "a longer hash is not SHA-256");
        let mut info = DIGEST_INFO_PREFIXES[0].1.to_vec();
        info.extend([7u8; 20]);
        assert_eq!(digest_info_alg(&info), Some(HashAlgorithm::Sha1));
        assert_eq!(digest_info_alg(&[]), None);
    }

    /// Builds an EMSA-PSS encoding by RFC 8017 §9.1.1 with SHA-384 and finds SHA-384.
    #[test]
    fn a_pss_encoding_unmasks_under_its_own_digest() {
        let (em_bits, h_len, salt) = (2047usize, 48usize, [9u8; 48]);
        let em_len = em_bits.div_ceil(8);
        let h = sha(HashAlgorithm::Sha384, &[&[0u8; 8], &[1u8; 48], &salt]).unwrap();
        let db_len = em_len - h_len - 1;
        let mut db = vec![0u8; db_len - salt.len() - 1];
        db.push(1);
        db.extend(salt);
        let mask = mgf1(HashAlgorithm::Sha384, &h, db_len, &sha).unwrap();
        let mut em: Vec<u8> = db.iter().zip(&mask).map(|(d, m)| d ^ m).collect();
        em[0] &= 0x7f;
        em.extend(&h);
        em.push(0xbc);
        assert_eq!(pss_digests(&em, 2048, &sha), vec![HashAlgorithm::Sha384]);
        let mut wrong_trailer = em.clone();
        *wrong_trailer.last_mut().unwrap() = 0xbd;
        assert!(pss_digests(&wrong_trailer, 2048, &sha).is_empty());
        assert!(pss_digests(&em[1..], 2048, &sha).is_empty(), "too short");
    }
}

//! Which signature schemes are accepted.
//!
//! A detached signature does not say how it was made, so the caller names the digest and
//! the RSA padding ([`Scheme`]); the key type comes from the trust store. The policy then
//! decides, before any cryptography runs, whether that combination may be used.
//!
//! The `fips` policy is deliberately stricter than the OpenSSL FIPS provider: the provider
//! still verifies SHA-1 and RSA-1024 signatures ("legacy use" in SP 800-131A), rootseal
//! refuses them, because no update system needs to accept a new signature made that way.

use super::trust::{KeyType, TrustedKey};
use crate::crypto::CryptoContext;
use crate::crypto::HashAlgorithm;
use openssl::bn::BigNumRef;

/// A signature policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// RSA ≥ 2048 (PKCS#1 v1.5 or PSS) with SHA-256/384/512, ECDSA P-256/384/521 with
    /// SHA-256/384/512, and Ed25519.
    Default,
    /// FIPS-approved algorithms only: the `Default` set, RSA public exponents odd with
    /// 2^16 < e < 2^256 (FIPS 186-5), and Ed25519 only when a loaded provider marks it
    /// approved (`fips=yes`).
    Fips,
}

impl Policy {
    /// "default" or "fips".
    pub fn name(self) -> &'static str {
        match self {
            Policy::Default => "default",
            Policy::Fips => "fips",
        }
    }

    /// Parses "default" or "fips".
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "default" => Some(Policy::Default),
            "fips" => Some(Policy::Fips),
            _ => None,
        }
    }

    /// Ok when `key` may verify with `scheme` under this policy in `context`; otherwise
    /// the reason. A key the context cannot load is refused here too.
    pub(crate) fn check(self, key: &TrustedKey, scheme: Scheme, context: &CryptoContext) -> Result<(), String> {
        if let Err(reason) = &key.key {
            return Err(reason.clone());
        }
        let key_type = &key.key_type;
        let digest_ok = |digest: HashAlgorithm| match digest {
            HashAlgorithm::Sha256 | HashAlgorithm::Sha384 | HashAlgorithm::Sha512 => Ok(()),
            HashAlgorithm::Sha1 => Err(format!("{key_type} with SHA-1 is refused (SHA-1 signatures are forgeable)")),
            HashAlgorithm::Sha224 => Err(format!("{key_type} with SHA-224 is not accepted for signatures")),
        };
        match key_type {
            KeyType::Rsa { bits } | KeyType::RsaPss { bits } => {
                if *bits < 2048 {
                    return Err(format!("RSA-{bits} is refused: RSA keys need at least 2048 bits"));
                }
                if self == Policy::Fips {
                    fips_exponent_ok(key_type, key.rsa_exponent.as_deref())?;
                }
                digest_ok(scheme.digest)
            }
            KeyType::Ec { curve } => match curve.as_str() {
                "prime256v1" | "secp384r1" | "secp521r1" => digest_ok(scheme.digest),
                other => Err(format!("ECDSA curve {other:?} is refused: use P-256, P-384 or P-521")),
            },
            KeyType::Ed25519 => match self {
                Policy::Default => Ok(()),
                Policy::Fips if context.approves("ED25519") => Ok(()),
                Policy::Fips => Err("Ed25519 is refused: no loaded provider marks it FIPS-approved".into()),
            },
            KeyType::Other(name) => Err(format!("key type {name} is not supported")),
        }
    }
}

/// FIPS 186-5 (A.1.1) requires an RSA public exponent that is odd with 2^16 < e < 2^256.
/// The default policy accepts any exponent OpenSSL accepts (e = 3 included), like
/// `openssl dgst -verify`.
fn fips_exponent_ok(key_type: &KeyType, e: Option<&BigNumRef>) -> Result<(), String> {
    let Some(e) = e else {
        return Err(format!("{key_type}: the public exponent cannot be read, so FIPS 186-5 cannot be checked"));
    };
    // Odd and at least 17 bits long means e > 2^16; at most 256 bits means e < 2^256.
    if e.is_bit_set(0) && (17..=256).contains(&e.num_bits()) {
        return Ok(());
    }
    let shown = e.to_dec_str().map(|d| d.to_string()).unwrap_or_else(|_| format!("of {} bits", e.num_bits()));
    Err(format!(
        "{key_type} with public exponent {shown} is refused: FIPS 186-5 requires an odd e with 2^16 < e < 2^256"
    ))
}

/// The digests signatures may name. SHA-1 is among them only so that it can be refused
/// with a clear reason; SHA-224 is not used for signatures.
pub const SIGNATURE_DIGESTS: [HashAlgorithm; 4] =
    [HashAlgorithm::Sha1, HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512];

/// Parses a signature digest: "sha1", "sha256", "sha384", "sha512" (any case, with or
/// without a dash). Anything else, SHA-224 included, is None.
pub fn parse_signature_digest(text: &str) -> Option<HashAlgorithm> {
    HashAlgorithm::from_name_or_label(text).filter(|digest| SIGNATURE_DIGESTS.contains(digest))
}

/// RSA signature padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Padding {
    /// RSASSA-PKCS1-v1_5.
    Pkcs1,
    /// RSASSA-PSS, MGF1 with the signature digest, any salt length.
    Pss,
}

/// How a detached signature was made: the digest, and for RSA keys the padding. Ed25519
/// ignores both (it hashes internally).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scheme {
    /// The digest.
    pub digest: HashAlgorithm,
    /// The RSA padding.
    pub padding: Padding,
}

impl Default for Scheme {
    /// SHA-256 with PKCS#1 v1.5, what `openssl dgst -sha256 -sign` makes.
    fn default() -> Self {
        Scheme { digest: HashAlgorithm::Sha256, padding: Padding::Pkcs1 }
    }
}

impl Scheme {
    /// A readable name of the scheme as used with `key_type`.
    pub(crate) fn describe(self, key_type: &KeyType) -> String {
        match key_type {
            KeyType::Rsa { .. } | KeyType::RsaPss { .. } => {
                // An RSA-PSS key makes nothing but PSS signatures, whatever was asked.
                let pss = self.padding == Padding::Pss || matches!(key_type, KeyType::RsaPss { .. });
                let padding = if pss { "PSS" } else { "PKCS#1 v1.5" };
                format!("{key_type} {padding} {}", self.digest.label())
            }
            KeyType::Ec { .. } => format!("{key_type} {}", self.digest.label()),
            _ => key_type.to_string(),
        }
    }
}

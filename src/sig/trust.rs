//! The trust store: the public keys a signature may verify under.
//!
//! Keys come as PEM or DER SubjectPublicKeyInfo, PKCS#1 RSA public keys, or X.509
//! certificates (several PEM blocks per file are fine). Each key is named by the SHA-256
//! of its DER SubjectPublicKeyInfo, the same value as
//! `openssl pkey -pubin -outform DER | sha256sum`.

use super::error::{Error, Result};
use crate::crypto::CryptoContext;
use crate::sys::openssl as ossl;
use openssl::pkey::{PKey, Public};
use openssl::x509::X509;
use sha2::Digest as _;
use std::path::Path;
use std::sync::Arc;

/// Upper bound for a key or certificate file: a bundle of a few hundred certificates.
pub const MAX_KEY_FILE: u64 = 4 << 20;

/// SHA-256 of a key's DER SubjectPublicKeyInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER SubjectPublicKeyInfo.
    pub fn of_spki(der: &[u8]) -> Self {
        Fingerprint(sha2::Sha256::digest(der).into())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::text::encode_hex(&self.0))
    }
}

/// The algorithm family and size of a trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// An RSA key (rsaEncryption), usable with PKCS#1 v1.5 and PSS.
    Rsa {
        /// Modulus size.
        bits: u32,
    },
    /// An RSA key restricted to PSS (id-RSASSA-PSS).
    RsaPss {
        /// Modulus size.
        bits: u32,
    },
    /// An ECDSA key.
    Ec {
        /// OpenSSL's curve name, e.g. "prime256v1".
        curve: String,
    },
    /// An Ed25519 key.
    Ed25519,
    /// Anything else (kept so the policy can say what it refused).
    Other(String),
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyType::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyType::RsaPss { bits } => write!(f, "RSA-PSS-{bits}"),
            KeyType::Ec { curve } => write!(f, "ECDSA {}", curve_label(curve)),
            KeyType::Ed25519 => f.write_str("Ed25519"),
            KeyType::Other(name) => write!(f, "{name}"),
        }
    }
}

/// One trusted key.
pub struct TrustedKey {
    /// The key decoded in the store's context, or why that context's providers cannot
    /// load it (a secp256k1 key under the FIPS provider): such a key stays in the store
    /// and is refused when a signature is checked, so the other keys are still tried.
    pub(crate) key: std::result::Result<PKey<Public>, String>,
    pub(crate) fingerprint: Fingerprint,
    pub(crate) key_type: KeyType,
    /// The public exponent of an RSA or RSA-PSS key.
    pub(crate) rsa_exponent: Option<openssl::bn::BigNum>,
    pub(crate) origin: String,
    pub(crate) cert_der: Option<Vec<u8>>,
}

impl TrustedKey {
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
    /// Algorithm and size.
    pub fn key_type(&self) -> &KeyType {
        &self.key_type
    }
    /// Where the key came from (a path, or the name given with the bytes).
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// Whether the key came with an X.509 certificate (needed for root-hash signatures).
    pub fn has_certificate(&self) -> bool {
        self.cert_der.is_some()
    }
    /// None when the store's context can use the key, else why not.
    pub fn unusable_reason(&self) -> Option<&str> {
        self.key.as_ref().err().map(String::as_str)
    }
}

/// A set of trusted public keys, all decoded in one [`CryptoContext`].
pub struct TrustStore {
    // Declared before `context`: keys must be freed before their library context.
    keys: Vec<TrustedKey>,
    context: Arc<CryptoContext>,
}

impl TrustStore {
    /// An empty store. Verifying against it fails with [`Error::EmptyTrustStore`].
    pub fn new(context: Arc<CryptoContext>) -> Self {
        TrustStore { keys: Vec::new(), context }
    }

    /// The context keys are decoded and checked in.
    pub fn context(&self) -> &CryptoContext {
        &self.context
    }

    /// The trusted keys, in the order they were added.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key was added.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn require_keys(&self) -> Result<()> {
        if self.keys.is_empty() { Err(Error::EmptyTrustStore) } else { Ok(()) }
    }

    /// Adds every key or certificate in a file. A missing or unreadable file is an error.
    pub fn add_file(&mut self, path: &Path) -> Result<Vec<Fingerprint>> {
        let bytes = super::read_bounded(path, MAX_KEY_FILE, "key or certificate file")?;
        self.add_bytes(&bytes, &path.display().to_string())
    }

    /// Adds every key or certificate in `bytes` (PEM, possibly several blocks, or DER).
    /// `origin` names the source in errors and reports. All or nothing: the store is
    /// unchanged unless every block decodes. Returns the fingerprints, duplicates included.
    ///
    /// A well-formed key that the context's providers cannot load (secp256k1 under the
    /// FIPS provider) is kept, and refused by the policy when a signature is checked.
    pub fn add_bytes(&mut self, bytes: &[u8], origin: &str) -> Result<Vec<Fingerprint>> {
        let invalid = |reason: String| Error::InvalidKey { source_name: origin.to_string(), reason };
        // The same bound as a key file, for bytes from memory (a C caller's buffer): the
        // input is copied and decoded, so its size must not decide memory use.
        if bytes.len() as u64 > MAX_KEY_FILE {
            return Err(invalid(format!(
                "{} bytes is more than a key or certificate bundle (at most {MAX_KEY_FILE})",
                bytes.len()
            )));
        }
        // PEM may follow text (`openssl x509 -text` output, comments). DER starts with a
        // SEQUENCE tag, and may hold "-----BEGIN " inside (a subject name, say).
        let blocks = if bytes.first() != Some(&0x30) && bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            pem_blocks(bytes).map_err(invalid)?
        } else if bytes.is_empty() {
            return Err(invalid("empty input".into()));
        } else {
            vec![(DerKind::Unknown, bytes.to_vec())]
        };
        // Everything that can fail happens before the store changes.
        let mut staged = Vec::with_capacity(blocks.len());
        for (index, (kind, der)) in blocks.into_iter().enumerate() {
            let block = |reason: String| invalid(format!("block {}: {reason}", index + 1));
            let (spki, cert_der) = decode(kind, &der).map_err(block)?;
            staged.push(self.load(spki, cert_der, origin).map_err(block)?);
        }
        let fingerprints = staged.iter().map(|k| k.fingerprint).collect();
        for key in staged {
            let fingerprint = key.fingerprint;
            if self
                .keys
                .iter()
                .any(|k| k.fingerprint == fingerprint && (k.cert_der.is_some() || key.cert_der.is_none()))
            {
                continue;
            }
            self.keys.retain(|k| k.fingerprint != fingerprint);
            self.keys.push(key);
        }
        Ok(fingerprints)
    }

    /// Decodes a SubjectPublicKeyInfo in the store's context. When that fails in FIPS
    /// mode, the default context tells a malformed key (an error) from one the FIPS
    /// provider does not implement (kept, unusable).
    fn load(&self, spki: Vec<u8>, cert_der: Option<Vec<u8>>, origin: &str) -> std::result::Result<TrustedKey, String> {
        let ctx = &self.context;
        let in_context = ossl::public_key_from_der(ctx.libctx(), ctx.properties(), &spki);
        let (key, described) = match in_context {
            Ok(key) => {
                let described = (key_type_of(&key), ossl::rsa_public_exponent(&key));
                (Ok(key), described)
            }
            Err(ossl::SpkiError::Decode(stack)) if ctx.is_fips() => {
                let parsed = ossl::public_key_from_der(None, None, &spki)
                    .map_err(|e| format!("not a usable SubjectPublicKeyInfo: {e}"))?;
                let reason = format!("the FIPS provider cannot load this key ({})", first_reason(&stack));
                (Err(reason), (key_type_of(&parsed), ossl::rsa_public_exponent(&parsed)))
            }
            Err(e) => return Err(format!("not a usable SubjectPublicKeyInfo: {e}")),
        };
        let (key_type, rsa_exponent) = described;
        Ok(TrustedKey {
            key,
            fingerprint: Fingerprint::of_spki(&spki),
            key_type,
            rsa_exponent,
            origin: origin.to_string(),
            cert_der,
        })
    }
}

/// The first reason on an OpenSSL error stack, for a one-line message.
fn first_reason(stack: &openssl::error::ErrorStack) -> String {
    stack.errors().first().and_then(|e| e.reason().map(str::to_string)).unwrap_or_else(|| "unsupported".into())
}

/// Turns one block into (SPKI DER, certificate DER if it was a certificate). Only the
/// structure is checked here (in the default context); [`TrustStore::load`] decodes the
/// key in the store's context. Bytes after the DER structure are refused.
fn decode(kind: DerKind, der: &[u8]) -> std::result::Result<(Vec<u8>, Option<Vec<u8>>), String> {
    // Errors are quoted from the queue: only this block's may be on it.
    ossl::clear_errors();
    // `trust_settings`: a TRUSTED CERTIFICATE block, whose certificate is followed by
    // OpenSSL's trust settings (X509_AUX). rootseal trusts exactly the anchors it is
    // given, so the settings are not used, but they are not garbage either.
    let as_cert = |der: &[u8], trust_settings: bool| -> std::result::Result<(Vec<u8>, Option<Vec<u8>>), String> {
        let cert = if trust_settings {
            // The certificate, then at most one trust-settings structure, then nothing.
            let (cert, used) = ossl::trusted_cert_from_der(der).map_err(|e| {
                format!("not a trusted certificate (certificate and trust settings): {}", ossl::error_text(&e))
            })?;
            if used != der.len() {
                return Err(format!("{} byte(s) follow the DER certificate and its trust settings", der.len() - used));
            }
            cert
        } else {
            X509::from_der(der).map_err(|e| format!("not an X.509 certificate: {}", ossl::error_text(&e)))?
        };
        // d2i stops at the end of the structure; the certificate keeps its original
        // encoding, so a shorter re-encoding means bytes followed it.
        let encoded =
            cert.to_der().map_err(|e| format!("cannot re-encode the certificate: {}", ossl::error_text(&e)))?;
        if encoded.len() != der.len() && !(trust_settings && encoded.len() < der.len()) {
            return Err(format!("{} byte(s) follow the DER certificate", der.len().saturating_sub(encoded.len())));
        }
        let spki = ossl::cert_spki_der(&cert)
            .map_err(|e| format!("certificate has no public key: {}", ossl::error_text(&e)))?;
        Ok((spki, Some(encoded)))
    };
    let as_pkcs1 = |der: &[u8]| -> std::result::Result<(Vec<u8>, Option<Vec<u8>>), String> {
        let rsa = openssl::rsa::Rsa::public_key_from_der_pkcs1(der)
            .map_err(|e| format!("not a PKCS#1 RSA public key: {}", ossl::error_text(&e)))?;
        // d2i stops at the end of the structure: bytes after it are refused, as for
        // every other encoding (the key would otherwise come with bytes that are not it).
        match der_length(der) {
            Some(used) if used == der.len() => {}
            Some(used) if used < der.len() => {
                return Err(format!("{} byte(s) follow the DER PKCS#1 RSA public key", der.len() - used));
            }
            _ => return Err("not a PKCS#1 RSA public key: malformed DER length".into()),
        }
        let spki =
            rsa.public_key_to_der().map_err(|e| format!("cannot re-encode the RSA key: {}", ossl::error_text(&e)))?;
        Ok((spki, None))
    };
    let as_spki = |der: &[u8]| match ossl::public_key_from_der(None, None, der) {
        Ok(_) => Ok((der.to_vec(), None)),
        Err(e) => Err(e),
    };
    let spki_reason = |e: ossl::SpkiError| match e {
        ossl::SpkiError::Trailing(_) => e.to_string(),
        ossl::SpkiError::Decode(_) => format!("not a SubjectPublicKeyInfo: {e}"),
    };
    match kind {
        DerKind::Spki => as_spki(der).map_err(spki_reason),
        DerKind::Certificate => as_cert(der, false),
        DerKind::TrustedCertificate => as_cert(der, true),
        DerKind::Pkcs1Rsa => as_pkcs1(der),
        DerKind::Unknown => match as_spki(der) {
            // A complete key with bytes after it: say so, rather than "not a certificate".
            Err(e @ ossl::SpkiError::Trailing(_)) => Err(spki_reason(e)),
            Err(spki_err) => as_cert(der, false).or_else(|cert_err| {
                if openssl::pkey::PKey::private_key_from_der(der).is_ok() {
                    return Err("a DER private key: give the public key or certificate, never a private key".into());
                }
                as_pkcs1(der).map_err(|pkcs1_err| {
                    // A complete PKCS#1 key with bytes after it: say so.
                    if pkcs1_err.contains("follow the DER") {
                        return pkcs1_err;
                    }
                    format!("neither a public key ({}) nor a certificate ({cert_err})", spki_reason(spki_err))
                })
            }),
            ok => ok.map_err(spki_reason),
        },
    }
}

/// The length of the DER element (tag, length, contents) at the start of `der`, from its
/// header alone; None when the header is malformed or claims more than `usize` holds.
fn der_length(der: &[u8]) -> Option<usize> {
    let (&tag, &len_byte) = (der.first()?, der.get(1)?);
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur in the structures read here
    }
    let rest = &der[2..];
    let (content, header) = if len_byte & 0x80 == 0 {
        (usize::from(len_byte), 2)
    } else {
        let count = usize::from(len_byte & 0x7f);
        if count == 0 || count > std::mem::size_of::<usize>() || rest.len() < count {
            return None;
        }
        let content =
            rest[..count].iter().try_fold(0usize, |acc, &b| acc.checked_mul(256)?.checked_add(usize::from(b)))?;
        (content, 2 + count)
    };
    content.checked_add(header)
}

#[derive(Debug, Clone, Copy)]
enum DerKind {
    Spki,
    Certificate,
    TrustedCertificate,
    Pkcs1Rsa,
    Unknown,
}

/// Splits PEM text into its blocks. Private keys and unknown labels are refused so that
/// a wrong file is reported rather than ignored.
fn pem_blocks(text: &[u8]) -> std::result::Result<Vec<(DerKind, Vec<u8>)>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "PEM text is not UTF-8".to_string())?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) else {
            continue;
        };
        let kind = match label {
            "PUBLIC KEY" => DerKind::Spki,
            "CERTIFICATE" | "X509 CERTIFICATE" => DerKind::Certificate,
            "TRUSTED CERTIFICATE" => DerKind::TrustedCertificate,
            "RSA PUBLIC KEY" => DerKind::Pkcs1Rsa,
            other if other.contains("PRIVATE KEY") => {
                return Err(format!("{other} found: give the public key or certificate, never a private key"));
            }
            other => return Err(format!("unsupported PEM block {other:?}")),
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        loop {
            match lines.next() {
                Some(l) if l == end => break,
                Some(l) if l.contains(':') => continue, // RFC 1421 headers
                Some(l) => body.push_str(l),
                None => return Err(format!("PEM block {label:?} has no end line")),
            }
        }
        let der =
            openssl::base64::decode_block(&body).map_err(|_| format!("PEM block {label:?} is not valid base64"))?;
        blocks.push((kind, der));
    }
    if blocks.is_empty() {
        return Err("no PEM block found".into());
    }
    Ok(blocks)
}

fn key_type_of(key: &PKey<Public>) -> KeyType {
    let bits = key.bits();
    if ossl::key_is_a(key, "RSA-PSS") {
        KeyType::RsaPss { bits }
    } else if ossl::key_is_a(key, "RSA") {
        KeyType::Rsa { bits }
    } else if ossl::key_is_a(key, "EC") {
        KeyType::Ec { curve: ossl::key_group_name(key).unwrap_or_default() }
    } else if ossl::key_is_a(key, "ED25519") {
        KeyType::Ed25519
    } else if key.id() == openssl::pkey::Id::ED448 {
        KeyType::Other("Ed448".into())
    } else {
        KeyType::Other(format!("{:?}", key.id()))
    }
}

/// "P-256" for "prime256v1" and so on; other names unchanged.
pub(crate) fn curve_label(curve: &str) -> &str {
    match curve {
        "prime256v1" => "P-256",
        "secp384r1" => "P-384",
        "secp521r1" => "P-521",
        other => other,
    }
}

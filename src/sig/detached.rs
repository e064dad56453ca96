//! Detached signatures over a file or a buffer, checked against every trusted key.
//!
//! A file is memory-mapped and streamed through one digest-verify context per eligible
//! key, in chunks, so it is never read whole into memory and the page cache can drop
//! what was hashed. (Ed25519 has no streaming form; it verifies the mapping in one call.)
//!
//! When the caller does not know the scheme, the `_auto` functions try the default
//! (SHA-256, PKCS#1 v1.5) first and the other allowed schemes only if that fails.

use super::error::{Error, Result};
use super::policy::{DigestAlg, Padding, Policy, Scheme};
use super::trust::{Fingerprint, KeyType, TrustStore, TrustedKey};
use crate::ffi::openssl_sys_ext::{self as ossl, DigestVerifier, RsaPad};
use crate::io::{BlockRead, MappedFile};
use openssl::md::Md;
use openssl::md_ctx::MdCtx;
use std::path::Path;

/// Detached signatures are at most a few KiB (RSA-16384 is 2 KiB); more is not a signature.
pub const MAX_SIGNATURE_LEN: usize = 64 << 10;

/// How much of a mapped file is hashed per call. Large enough to amortise the call,
/// small enough that released pages do not pile up.
const CHUNK: usize = 4 << 20;

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The trusted key that verified the signature.
    pub fingerprint: Fingerprint,
    /// Where that key came from.
    pub key_origin: String,
    /// The scheme, e.g. "RSA-2048 PKCS#1 v1.5 SHA-256".
    pub scheme: String,
    /// The policy applied.
    pub policy: Policy,
    /// The OpenSSL provider that ran the signature check ("fips" in FIPS mode).
    pub provider: String,
}

/// The keys the policy allows for `scheme`, or the refusal that explains why none is.
pub(crate) fn eligible_keys(store: &TrustStore, scheme: Scheme, policy: Policy) -> Result<Vec<&TrustedKey>> {
    store.require_keys()?;
    let mut allowed = Vec::new();
    let mut reasons = Vec::new();
    for key in store.keys() {
        match policy.check(&key.key_type, scheme, store.context()) {
            Ok(()) => allowed.push(key),
            Err(reason) => reasons.push(format!("{}: {reason}", key.fingerprint)),
        }
    }
    if allowed.is_empty() {
        return Err(Error::PolicyRefused { policy: policy.name(), reasons: reasons.join("; ") });
    }
    Ok(allowed)
}

fn check_signature_len(signature: &[u8]) -> Result<()> {
    if signature.is_empty() {
        return Err(Error::InvalidSignature("the signature is empty".into()));
    }
    if signature.len() > MAX_SIGNATURE_LEN {
        return Err(Error::InvalidSignature(format!(
            "{} bytes is too long for a signature (at most {MAX_SIGNATURE_LEN})",
            signature.len()
        )));
    }
    Ok(())
}

struct Candidate<'a> {
    key: &'a TrustedKey,
    verifier: DigestVerifier,
}

/// Sets up one verifier per eligible key. A key the provider refuses to set up (for
/// instance a FIPS provider rejecting a parameter) is left out with its reason.
fn candidates<'a>(store: &'a TrustStore, scheme: Scheme, policy: Policy) -> Result<Vec<Candidate<'a>>> {
    let keys = eligible_keys(store, scheme, policy)?;
    let ctx = store.context();
    let mut out = Vec::with_capacity(keys.len());
    let mut refusals = Vec::new();
    for key in keys {
        let (digest, padding) = match key.key_type {
            KeyType::Ed25519 => (None, RsaPad::Pkcs1),
            KeyType::Rsa { .. } | KeyType::RsaPss { .. } if scheme.padding == Padding::Pss => {
                (Some(scheme.digest.openssl_name()), RsaPad::Pss)
            }
            _ => (Some(scheme.digest.openssl_name()), RsaPad::Pkcs1),
        };
        match DigestVerifier::new(ctx.libctx(), ctx.properties(), digest, &key.key, padding) {
            Ok(verifier) => out.push(Candidate { key, verifier }),
            Err(stack) => refusals.push(format!("{}: the provider refused: {stack}", key.fingerprint)),
        }
    }
    if out.is_empty() {
        return Err(Error::PolicyRefused { policy: policy.name(), reasons: refusals.join("; ") });
    }
    Ok(out)
}

fn conclude(candidates: Vec<(Candidate<'_>, bool)>, scheme: Scheme, policy: Policy) -> Result<Verified> {
    let tried = candidates.len();
    candidates
        .into_iter()
        .find(|(_, ok)| *ok)
        .map(|(c, _)| Verified {
            fingerprint: c.key.fingerprint,
            key_origin: c.key.origin.clone(),
            scheme: scheme.describe(&c.key.key_type),
            policy,
            provider: c.verifier.provider().to_string(),
        })
        .ok_or(Error::BadSignature { tried })
}

impl TrustStore {
    /// Verifies `signature` over `data` under any trusted key the policy allows.
    pub fn verify_bytes(&self, data: &[u8], signature: &[u8], scheme: Scheme, policy: Policy) -> Result<Verified> {
        check_signature_len(signature)?;
        let results = candidates(self, scheme, policy)?
            .into_iter()
            .map(|mut c| {
                let ok = if matches!(c.key.key_type, KeyType::Ed25519) {
                    c.verifier.verify_oneshot(data, signature)
                } else {
                    c.verifier.update(data).and_then(|()| c.verifier.finish(signature))
                };
                ok.map(|ok| (c, ok))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::openssl("verifying"))?;
        conclude(results, scheme, policy)
    }

    /// Verifies `signature` over the file at `path`, streaming it from a memory map.
    pub fn verify_file(&self, path: &Path, signature: &[u8], scheme: Scheme, policy: Policy) -> Result<Verified> {
        check_signature_len(signature)?;
        let mut candidates = candidates(self, scheme, policy)?;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let map = MappedFile::new(&file).map_err(|e| Error::io(path, e))?;
        let size = map.size().map_err(|e| Error::io(path, e))?;
        let whole = usize::try_from(size).map_err(|_| Error::InvalidArgument("file too large to map".into()))?;
        let mut scratch = Vec::new();
        let mut results = Vec::with_capacity(candidates.len());
        // One-shot keys (Ed25519) take the whole mapping; the rest stream.
        let (oneshot, mut streaming): (Vec<_>, Vec<_>) =
            candidates.drain(..).partition(|c| matches!(c.key.key_type, KeyType::Ed25519));
        if !oneshot.is_empty() {
            let data = map.read_view(0, whole, &mut scratch).map_err(|e| Error::io(path, e))?;
            for mut c in oneshot {
                let ok = c.verifier.verify_oneshot(data, signature).map_err(Error::openssl("verifying"))?;
                results.push((c, ok));
            }
        }
        if !streaming.is_empty() {
            let mut offset = 0u64;
            while offset < size {
                let len = usize::try_from((size - offset).min(CHUNK as u64)).unwrap_or(CHUNK);
                let chunk = map.read_view(offset, len, &mut scratch).map_err(|e| Error::io(path, e))?;
                for c in &mut streaming {
                    c.verifier.update(chunk).map_err(Error::openssl("hashing"))?;
                }
                map.release(offset, len);
                offset += len as u64;
            }
            for mut c in streaming {
                let ok = c.verifier.finish(signature).map_err(Error::openssl("verifying"))?;
                results.push((c, ok));
            }
        }
        conclude(results, scheme, policy)
    }
}

/// Every (digest, padding) a detached signature may use besides the default one.
const OTHER_SCHEMES: [Scheme; 5] = [
    Scheme { digest: DigestAlg::Sha256, padding: Padding::Pss },
    Scheme { digest: DigestAlg::Sha384, padding: Padding::Pkcs1 },
    Scheme { digest: DigestAlg::Sha384, padding: Padding::Pss },
    Scheme { digest: DigestAlg::Sha512, padding: Padding::Pkcs1 },
    Scheme { digest: DigestAlg::Sha512, padding: Padding::Pss },
];

/// The (key, scheme) pairs the fallback pass tries: every allowed scheme other than the
/// default, for RSA and ECDSA keys (Ed25519 was fully checked by the first pass).
fn other_pairs(store: &TrustStore, policy: Policy) -> Vec<(&TrustedKey, Scheme)> {
    let mut pairs = Vec::new();
    for key in store.keys() {
        for scheme in OTHER_SCHEMES {
            let usable = match key.key_type {
                KeyType::Rsa { .. } | KeyType::RsaPss { .. } => true,
                KeyType::Ec { .. } => scheme.padding == Padding::Pkcs1,
                _ => false,
            };
            if usable && policy.check(&key.key_type, scheme, store.context()).is_ok() {
                pairs.push((key, scheme));
            }
        }
    }
    pairs
}

/// Where the bytes of an auto-detecting check come from.
enum Source<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

impl TrustStore {
    /// Verifies `signature` over `data` without knowing how it was made: SHA-256 with
    /// PKCS#1 v1.5 (and Ed25519) first, then, only if that finds no match, SHA-384/512 and
    /// PSS. [`Verified::scheme`] says which one verified.
    pub fn verify_bytes_auto(&self, data: &[u8], signature: &[u8], policy: Policy) -> Result<Verified> {
        self.verify_auto(Source::Bytes(data), signature, policy)
    }

    /// As [`TrustStore::verify_bytes_auto`] for a file: the common case costs one
    /// streaming pass, the others one more pass that computes every remaining digest.
    pub fn verify_file_auto(&self, path: &Path, signature: &[u8], policy: Policy) -> Result<Verified> {
        self.verify_auto(Source::File(path), signature, policy)
    }

    fn verify_auto(&self, source: Source<'_>, signature: &[u8], policy: Policy) -> Result<Verified> {
        let first = match source {
            Source::Bytes(data) => self.verify_bytes(data, signature, Scheme::default(), policy),
            Source::File(path) => self.verify_file(path, signature, Scheme::default(), policy),
        };
        let first_err = match first {
            Ok(v) => return Ok(v),
            Err(e @ (Error::BadSignature { .. } | Error::PolicyRefused { .. })) => e,
            Err(other) => return Err(other),
        };
        let pairs = other_pairs(self, policy);
        if pairs.is_empty() {
            return Err(first_err);
        }
        let ctx = self.context();
        let mut digests: Vec<(DigestAlg, openssl::md::Md, MdCtx)> = Vec::new();
        for scheme in &pairs {
            let alg = scheme.1.digest;
            if digests.iter().all(|(d, _, _)| *d != alg) {
                let md = Md::fetch(ctx.libctx(), alg.openssl_name(), ctx.properties())
                    .map_err(Error::openssl("fetching a digest"))?;
                let mut md_ctx = MdCtx::new().map_err(Error::openssl("creating a digest"))?;
                md_ctx.digest_init(&md).map_err(Error::openssl("starting a digest"))?;
                digests.push((alg, md, md_ctx));
            }
        }
        let mut feed = |chunk: &[u8]| -> Result<()> {
            for (_, _, md_ctx) in &mut digests {
                md_ctx.digest_update(chunk).map_err(Error::openssl("hashing"))?;
            }
            Ok(())
        };
        match source {
            Source::Bytes(data) => feed(data)?,
            Source::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                let map = MappedFile::new(&file).map_err(|e| Error::io(path, e))?;
                let size = map.size().map_err(|e| Error::io(path, e))?;
                let mut scratch = Vec::new();
                let mut offset = 0u64;
                while offset < size {
                    let len = usize::try_from((size - offset).min(CHUNK as u64)).unwrap_or(CHUNK);
                    feed(map.read_view(offset, len, &mut scratch).map_err(|e| Error::io(path, e))?)?;
                    map.release(offset, len);
                    offset += len as u64;
                }
            }
        }
        let mut finished = Vec::with_capacity(digests.len());
        for (alg, md, mut md_ctx) in digests {
            let mut out = vec![0u8; md.size()];
            md_ctx.digest_final(&mut out).map_err(Error::openssl("finishing a digest"))?;
            finished.push((alg, md, out));
        }
        let first_tried = if let Error::BadSignature { tried } = first_err { tried } else { 0 };
        for (key, scheme) in &pairs {
            let Some((_, md, digest)) = finished.iter().find(|(alg, _, _)| *alg == scheme.digest) else { continue };
            let padding = match key.key_type {
                KeyType::Ec { .. } => None,
                _ if scheme.padding == Padding::Pss => Some(RsaPad::Pss),
                _ => Some(RsaPad::Pkcs1),
            };
            let (valid, provider) =
                ossl::verify_digest(ctx.libctx(), ctx.properties(), &key.key, md, digest, signature, padding)
                    .map_err(Error::openssl("setting up verification"))?;
            if valid {
                return Ok(Verified {
                    fingerprint: key.fingerprint,
                    key_origin: key.origin.clone(),
                    scheme: scheme.describe(&key.key_type),
                    policy,
                    provider,
                });
            }
        }
        Err(Error::BadSignature { tried: first_tried + pairs.len() })
    }
}

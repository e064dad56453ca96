//! Detached signatures over a file or a buffer, checked against every trusted key.
//!
//! The data is read once (a file with `pread` in bounded chunks, see
//! [`crate::io::FileReader`]),
//! and that one pass computes every digest the (key, scheme) pairs need, with digests
//! fetched from the store's context (`fips=yes` in FIPS mode). Each pair is then checked
//! with `EVP_PKEY_verify` over its digest, so two trusted keys cost one SHA-256, not two.
//!
//! Ed25519 has no prehashed form: it needs the whole message in one call. A file is
//! therefore gathered in memory during the same pass, up to [`MAX_ED25519_FILE`] bytes.
//!
//! When the caller does not know the scheme (the `_auto` functions), an RSA signature
//! says itself which digest it was made with, once the public-key operation is applied:
//! PKCS#1 v1.5 carries a DigestInfo, and a PSS encoding unmasks only under its own
//! digest. So RSA keys cost one digest. ECDSA signatures say nothing: every allowed digest
//! is computed (give the digest to hash once). A signature found to be made with SHA-1
//! is reported as refused by the policy, not as "does not verify".

use super::detect;
use super::error::{Error, Result};
use super::policy::{Padding, Policy, Scheme};
use super::trust::{Fingerprint, KeyType, TrustStore, TrustedKey};
use crate::crypto::HashAlgorithm;
use crate::io::{BlockRead, FileReader};
use crate::sys::openssl::{self as ossl, RsaPad};
use openssl::md::Md;
use openssl::md_ctx::MdCtx;
use openssl::pkey::{PKeyRef, Public};
use std::path::Path;

/// Detached signatures are at most a few KiB (RSA-16384 is 2 KiB); more is not a signature.
pub const MAX_SIGNATURE_LEN: usize = 64 << 10;

/// The largest file an Ed25519 key can check: Ed25519 signs the whole message, not a
/// digest, so the file is held in memory while it is verified.
pub const MAX_ED25519_FILE: u64 = 256 << 20;

/// Every Ed25519 signature is this long (RFC 8032).
const ED25519_SIGNATURE_LEN: usize = 64;

/// Bytes read per `pread`: large enough to amortise the call, small enough to stay in
/// the L2 cache while every needed digest runs over it.
pub(crate) const READ_CHUNK: usize = 1 << 20;

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

/// The keys the policy allows for `scheme` and, for messages, why each other key is
/// refused (`fingerprint: reason`); or the refusal that explains why no key is allowed.
pub(crate) fn eligible_keys(
    store: &TrustStore,
    scheme: Scheme,
    policy: Policy,
) -> Result<(Vec<&TrustedKey>, Vec<String>)> {
    store.require_keys()?;
    let mut allowed = Vec::new();
    let mut reasons = Vec::new();
    for key in store.keys() {
        match policy.check(key, scheme, store.context()) {
            Ok(()) => allowed.push(key),
            Err(reason) => reasons.push(format!("{}: {reason}", key.fingerprint)),
        }
    }
    if allowed.is_empty() {
        return Err(Error::PolicyRefused { policy: policy.name(), reasons: reasons.join("; ") });
    }
    Ok((allowed, reasons))
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

/// One check to run once the data is read.
struct Attempt<'a> {
    key: &'a TrustedKey,
    pkey: &'a PKeyRef<Public>,
    /// None for Ed25519, which verifies the message itself.
    scheme: Option<Scheme>,
    /// Set when the policy refuses this scheme: the attempt only runs to tell a refused
    /// signature (reported with this reason) from a wrong one.
    refused_because: Option<String>,
}

/// What to check, decided before any data is read.
#[derive(Default)]
struct Plan<'a> {
    attempts: Vec<Attempt<'a>>,
    /// Keys the policy refuses outright.
    refused: Vec<String>,
    /// Signatures recognised as made with a digest the policy refuses.
    refused_digest: Vec<String>,
    /// Keys that took part (including those the signature plainly does not belong to).
    tried: usize,
}

/// The digest of the data a key can have signed, under the policy, when the scheme is
/// unknown; see the module documentation.
fn plan<'a>(store: &'a TrustStore, signature: &[u8], scheme: Option<Scheme>, policy: Policy) -> Result<Plan<'a>> {
    store.require_keys()?;
    let ctx = store.context();
    let mut plan = Plan::default();
    for key in store.keys() {
        let probe = scheme.unwrap_or_default();
        // A key refused whatever the digest (too small, unloadable, ...) is never tried.
        let (Ok(pkey), Ok(())) = (&key.key, policy.check(key, probe, ctx)) else {
            let reason = policy.check(key, probe, ctx).err().unwrap_or_default();
            plan.refused.push(format!("{}: {reason}", key.fingerprint));
            continue;
        };
        plan.tried += 1;
        let attempt = |scheme, refused_because| Attempt { key, pkey, scheme, refused_because };
        if matches!(key.key_type, KeyType::Ed25519) {
            // Only a 64-byte signature whose S is below the group order can be
            // Ed25519's (RFC 8032 5.1.7; OpenSSL refuses the others too): any other
            // never makes the pass gather the file for it.
            if could_be_ed25519(signature) {
                plan.attempts.push(attempt(None, None));
            }
            continue;
        }
        let candidates = match scheme {
            Some(scheme) => vec![scheme],
            None => match key.key_type {
                KeyType::Rsa { .. } | KeyType::RsaPss { .. } => rsa_candidates(store, key, pkey, signature),
                _ => {
                    // ECDSA: all allowed digests, and SHA-1 only to name a refusal.
                    let mut all = digest_schemes(Padding::Pkcs1);
                    all.push(Scheme { digest: HashAlgorithm::Sha1, padding: Padding::Pkcs1 });
                    all
                }
            },
        };
        for candidate in candidates {
            match policy.check(key, candidate, ctx) {
                Ok(()) => plan.attempts.push(attempt(Some(candidate), None)),
                // Only reached in auto mode: explicit schemes were checked above. A PKCS#1
                // DigestInfo names its digest exactly, so that refusal is certain now. An
                // ECDSA candidate is a guess, and a PSS encoding also unmasks under a wrong
                // digest about once in 255 signatures: those are refused only if they verify.
                Err(reason) if candidate.padding == Padding::Pkcs1 && !matches!(key.key_type, KeyType::Ec { .. }) => {
                    plan.refused_digest.push(refused_digest(key, candidate, &reason))
                }
                Err(reason) => plan.attempts.push(attempt(Some(candidate), Some(reason))),
            }
        }
    }
    Ok(plan)
}

/// The order L of the Ed25519 base point, little-endian (RFC 8032 5.1):
/// 2^252 + 27742317777372353535851937790883648493.
const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Whether `signature` can be an Ed25519 signature at all: 64 bytes, R then S, with S
/// (little-endian) below the group order. Decided before any byte of the data is read.
fn could_be_ed25519(signature: &[u8]) -> bool {
    if signature.len() != ED25519_SIGNATURE_LEN {
        return false;
    }
    let s = &signature[32..];
    // Compare from the most significant byte down.
    for (a, b) in s.iter().rev().zip(ED25519_ORDER.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

/// Why a signature made by `key` under `scheme` is refused.
fn refused_digest(key: &TrustedKey, scheme: Scheme, reason: &str) -> String {
    format!("{}: the signature was made with {}: {reason}", key.fingerprint, scheme.digest.label())
}

/// SHA-256/384/512 with `padding`.
fn digest_schemes(padding: Padding) -> Vec<Scheme> {
    [HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512]
        .map(|digest| Scheme { digest, padding })
        .to_vec()
}

/// The schemes an RSA signature can be under `key`, read from the signature. Empty when
/// it cannot be this key's; every scheme when the provider cannot tell (an RSA-PSS key
/// has no recover operation).
fn rsa_candidates(store: &TrustStore, key: &TrustedKey, pkey: &PKeyRef<Public>, signature: &[u8]) -> Vec<Scheme> {
    let every = || {
        let mut all = digest_schemes(Padding::Pss);
        if matches!(key.key_type, KeyType::Rsa { .. }) {
            all.extend(digest_schemes(Padding::Pkcs1));
        }
        all
    };
    if signature.len() != pkey.size() {
        return Vec::new();
    }
    if matches!(key.key_type, KeyType::RsaPss { .. }) {
        return every();
    }
    let ctx = store.context();
    if let Ok(digest_info) = ossl::rsa_recover(ctx.libctx(), ctx.properties(), pkey, signature, true) {
        return detect::digest_info_alg(&digest_info)
            .map(|digest| vec![Scheme { digest, padding: Padding::Pkcs1 }])
            .unwrap_or_default();
    }
    let Ok(raw) = ossl::rsa_recover(ctx.libctx(), ctx.properties(), pkey, signature, false) else {
        return every();
    };
    let hash = |alg: HashAlgorithm, parts: &[&[u8]]| -> Option<Vec<u8>> {
        let md = Md::fetch(ctx.libctx(), alg.openssl_name(), ctx.properties()).ok()?;
        let mut md_ctx = MdCtx::new().ok()?;
        md_ctx.digest_init(&md).ok()?;
        for part in parts {
            md_ctx.digest_update(part).ok()?;
        }
        let mut out = vec![0u8; md.size()];
        md_ctx.digest_final(&mut out).ok()?;
        Some(out)
    };
    let found = detect::pss_digests(&raw, pkey.bits(), &hash);
    let _ = openssl::error::ErrorStack::get();
    found.into_iter().map(|digest| Scheme { digest, padding: Padding::Pss }).collect()
}

/// Where the signed bytes come from.
enum Data<'a> {
    /// Already in memory: hashed and, for Ed25519, verified in place.
    Bytes(&'a [u8]),
    /// Read in chunks, named in errors by the path.
    Reader(&'a dyn BlockRead, &'a Path),
}

/// The digests of one pass, computed in the store's context.
struct Digests {
    running: Vec<(HashAlgorithm, Md, MdCtx)>,
}

impl Digests {
    fn new(store: &TrustStore, attempts: &[Attempt<'_>]) -> Result<Self> {
        let ctx = store.context();
        let mut running: Vec<(HashAlgorithm, Md, MdCtx)> = Vec::new();
        for alg in attempts.iter().filter_map(|a| a.scheme.map(|s| s.digest)) {
            if running.iter().all(|(d, _, _)| *d != alg) {
                let md = Md::fetch(ctx.libctx(), alg.openssl_name(), ctx.properties())
                    .map_err(Error::openssl("fetching a digest"))?;
                // The digest is half of the signature check: in FIPS mode it must come
                // from the FIPS provider too, never from another one by accident.
                let provider = ossl::md_provider(&md);
                if ctx.is_fips() && provider != "fips" {
                    return Err(Error::FipsUnavailable(format!("{} came from the {provider:?} provider", alg.label())));
                }
                let mut md_ctx = MdCtx::new().map_err(Error::openssl("creating a digest"))?;
                md_ctx.digest_init(&md).map_err(Error::openssl("starting a digest"))?;
                running.push((alg, md, md_ctx));
            }
        }
        Ok(Digests { running })
    }

    fn update(&mut self, chunk: &[u8]) -> Result<()> {
        for (_, _, md_ctx) in &mut self.running {
            md_ctx.digest_update(chunk).map_err(Error::openssl("hashing"))?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<(HashAlgorithm, Md, Vec<u8>)>> {
        let mut done = Vec::with_capacity(self.running.len());
        for (alg, md, mut md_ctx) in self.running {
            let mut out = vec![0u8; md.size()];
            md_ctx.digest_final(&mut out).map_err(Error::openssl("finishing a digest"))?;
            done.push((alg, md, out));
        }
        Ok(done)
    }
}

/// The RSA padding to ask for; an RSA-PSS key brings its own restrictions.
fn rsa_padding(key_type: &KeyType, scheme: Scheme) -> Option<RsaPad> {
    match key_type {
        KeyType::Rsa { .. } if scheme.padding == Padding::Pss => Some(RsaPad::Pss),
        KeyType::Rsa { .. } => Some(RsaPad::Pkcs1),
        KeyType::RsaPss { .. } => Some(RsaPad::KeyDefault),
        _ => None,
    }
}

fn verify(
    store: &TrustStore,
    data: Data<'_>,
    signature: &[u8],
    scheme: Option<Scheme>,
    policy: Policy,
) -> Result<Verified> {
    check_signature_len(signature)?;
    let mut plan = plan(store, signature, scheme, policy)?;
    let ctx = store.context();
    let mut digests = Digests::new(store, &plan.attempts)?;
    let wants_message = plan.attempts.iter().any(|a| a.scheme.is_none());
    let mut gathered = Vec::new();
    let mut too_large = None;
    let mut no_memory = None;
    let message: Option<&[u8]> = match data {
        Data::Bytes(bytes) => {
            digests.update(bytes)?;
            Some(bytes)
        }
        Data::Reader(source, path) => {
            let size = source.size().map_err(|e| Error::io(path, e))?;
            let mut keep = wants_message && size <= MAX_ED25519_FILE;
            if wants_message && !keep {
                too_large = Some(size);
            }
            if keep {
                // Fallible: an allocation that cannot be had is an error (after the other
                // keys were tried), never an abort of the process or of a C host.
                match usize::try_from(size).ok().map(|len| Error::try_buffer(len, "the Ed25519 message")) {
                    Some(Ok(buffer)) => gathered = buffer,
                    Some(Err(e)) => {
                        no_memory = Some(e);
                        keep = false;
                    }
                    None => {
                        too_large = Some(size);
                        keep = false;
                    }
                }
            }
            if !digests.running.is_empty() || keep {
                let read_error = |e| Error::io(path, e);
                crate::io::for_each_chunk(source, 0..size, READ_CHUNK, read_error, |_, chunk| {
                    if keep {
                        // Within the capacity reserved above (the source's size bounds
                        // every read), so this never reallocates.
                        if gathered.len() + chunk.len() > gathered.capacity() {
                            return Err(Error::InvalidArgument(format!(
                                "{} returned more bytes than its size",
                                path.display()
                            )));
                        }
                        gathered.extend_from_slice(chunk);
                    }
                    digests.update(chunk)
                })?;
                source.check_unchanged().map_err(|e| Error::io(path, e))?;
            }
            keep.then_some(gathered.as_slice())
        }
    };
    let digests = digests.finish()?;
    let check = |attempt: &Attempt<'_>| -> Option<String> {
        let result = match attempt.scheme {
            None => ossl::verify_message(ctx.libctx(), ctx.properties(), attempt.pkey, message?, signature),
            Some(scheme) => {
                let (_, md, digest) = digests.iter().find(|(alg, _, _)| *alg == scheme.digest)?;
                let padding = rsa_padding(&attempt.key.key_type, scheme);
                ossl::verify_digest(ctx.libctx(), ctx.properties(), attempt.pkey, md, digest, signature, padding)
            }
        };
        // A pair the provider will not set up (a digest an RSA-PSS key is restricted
        // against, a parameter the FIPS provider refuses) does not verify; the other
        // pairs are still tried. The error queue is already drained.
        match result {
            Ok((true, provider)) => Some(provider),
            _ => None,
        }
    };
    for attempt in plan.attempts.iter().filter(|a| a.refused_because.is_none()) {
        if let Some(provider) = check(attempt) {
            return Ok(Verified {
                fingerprint: attempt.key.fingerprint,
                key_origin: attempt.key.origin.clone(),
                scheme: attempt
                    .scheme
                    .map_or_else(|| attempt.key.key_type.to_string(), |s| s.describe(&attempt.key.key_type)),
                policy,
                provider,
            });
        }
    }
    for attempt in &plan.attempts {
        if let (Some(reason), Some(scheme)) = (&attempt.refused_because, attempt.scheme)
            && check(attempt).is_some()
        {
            plan.refused_digest.push(refused_digest(attempt.key, scheme, reason));
        }
    }
    if !plan.refused_digest.is_empty() {
        return Err(Error::PolicyRefused { policy: policy.name(), reasons: plan.refused_digest.join("; ") });
    }
    if let Some(err) = no_memory {
        return Err(err);
    }
    if let Some(size) = too_large {
        return Err(Error::InvalidArgument(format!(
            "no key verified the signature, and the Ed25519 key(s) could not be tried: Ed25519 verifies the whole \
             message in memory, and the file has {size} bytes (at most {MAX_ED25519_FILE})"
        )));
    }
    if plan.tried == 0 {
        return Err(Error::PolicyRefused { policy: policy.name(), reasons: plan.refused.join("; ") });
    }
    Err(Error::BadSignature { tried: plan.tried, refused: plan.refused })
}

impl TrustStore {
    /// Verifies `signature` over `data` under any trusted key the policy allows.
    pub fn verify_bytes(&self, data: &[u8], signature: &[u8], scheme: Scheme, policy: Policy) -> Result<Verified> {
        verify(self, Data::Bytes(data), signature, Some(scheme), policy)
    }

    /// Verifies `signature` over the file at `path`, read once in bounded chunks (never
    /// memory-mapped: a file truncated meanwhile gives [`Error::FileChanged`], not SIGBUS).
    pub fn verify_file(&self, path: &Path, signature: &[u8], scheme: Scheme, policy: Policy) -> Result<Verified> {
        let source = FileReader::open(path).map_err(|e| Error::io(path, e))?;
        verify(self, Data::Reader(&source, path), signature, Some(scheme), policy)
    }

    /// Verifies `signature` over every byte of `source` (a file, a device, a caller's
    /// callbacks), read once in bounded chunks; `name` names it in errors.
    pub fn verify_reader(
        &self,
        source: &dyn BlockRead,
        name: &Path,
        signature: &[u8],
        scheme: Option<Scheme>,
        policy: Policy,
    ) -> Result<Verified> {
        verify(self, Data::Reader(source, name), signature, scheme, policy)
    }

    /// Verifies `signature` over `data` without knowing how it was made; see the module
    /// documentation. [`Verified::scheme`] says which scheme verified.
    pub fn verify_bytes_auto(&self, data: &[u8], signature: &[u8], policy: Policy) -> Result<Verified> {
        verify(self, Data::Bytes(data), signature, None, policy)
    }

    /// As [`TrustStore::verify_bytes_auto`] for a file, in one pass over it.
    pub fn verify_file_auto(&self, path: &Path, signature: &[u8], policy: Policy) -> Result<Verified> {
        let source = FileReader::open(path).map_err(|e| Error::io(path, e))?;
        verify(self, Data::Reader(&source, path), signature, None, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CryptoContext;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::{Padding as OsslPadding, Rsa};
    use openssl::sign::{RsaPssSaltlen, Signer};
    use std::sync::Arc;

    /// About one PSS signature in 255 also unmasks under SHA-1. Such a signature over
    /// changed data is a bad signature, not "made with SHA-1" (a random CI failure once).
    #[test]
    fn a_pss_signature_that_also_unmasks_under_sha1_is_not_called_sha1() {
        let rsa = Rsa::generate(2048).unwrap();
        let private = PKey::from_rsa(rsa.clone()).unwrap();
        let public_der = PKey::from_rsa(
            Rsa::from_public_components(rsa.n().to_owned().unwrap(), rsa.e().to_owned().unwrap()).unwrap(),
        )
        .unwrap()
        .public_key_to_der()
        .unwrap();
        let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
        store.add_bytes(&public_der, "test key").unwrap();
        let key = &store.keys()[0];
        let pkey = key.key.as_ref().unwrap();
        let data = b"payload".repeat(100);
        let sha384_pss = Scheme { digest: HashAlgorithm::Sha384, padding: Padding::Pss };
        let signature = (0..20_000)
            .map(|_| {
                let mut signer = Signer::new(MessageDigest::sha384(), &private).unwrap();
                signer.set_rsa_padding(OsslPadding::PKCS1_PSS).unwrap();
                signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).unwrap();
                signer.sign_oneshot_to_vec(&data).unwrap()
            })
            .find(|signature| {
                rsa_candidates(&store, key, pkey, signature).iter().any(|s| s.digest == HashAlgorithm::Sha1)
            })
            .expect("a salt that also unmasks under SHA-1 within 20,000 signatures");
        let candidates = rsa_candidates(&store, key, pkey, &signature);
        assert!(candidates.contains(&sha384_pss), "{candidates:?}");
        let accepted = store.verify_bytes_auto(&data, &signature, Policy::Default).unwrap();
        assert!(accepted.scheme.contains("SHA-384"), "{}", accepted.scheme);
        let mut tampered = data.clone();
        tampered[3] ^= 1;
        let err = store.verify_bytes_auto(&tampered, &signature, Policy::Default).unwrap_err();
        assert!(matches!(err, Error::BadSignature { tried: 1, .. }), "{err}");
    }
}

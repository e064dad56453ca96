//! dm-verity root-hash signatures: detached DER PKCS#7 (CMS SignedData) over the root
//! hash as lowercase hex text, with no newline and no NUL — exactly the bytes the kernel
//! passes to `verify_pkcs7_signature()` for `root_hash_sig_key_desc`, and what
//! `veritysetup open --root-hash-signature` and systemd accept.
//!
//! Verification follows the kernel (`pkcs7_verify`, then `pkcs7_validate_trust`): every
//! signer whose certificate is at hand (a trusted one, or one the signature carries) must
//! verify, and at least one signer must be a certificate of the trust store. No chain
//! building; a signer named by no certificate at all cannot be checked and is skipped,
//! as the kernel skips it, so an image signed by an old and a new key during a rotation
//! verifies on devices that trust either.
//! The certificates' keys must pass the `default` policy (`fips` in FIPS mode), and the
//! signer's digest must be SHA-256, SHA-384 or SHA-512.

use super::detached::eligible_keys;
use super::error::{Error, Result};
use super::policy::{Policy, Scheme};
use super::trust::{Fingerprint, TrustStore};
use crate::crypto::CryptoContext;
use crate::sys::openssl::{self as ossl, SignerCheck};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::X509;
use std::sync::Arc;

/// A root-hash signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootHashVerified {
    /// Fingerprint (SHA-256 of the SubjectPublicKeyInfo) of the certificate that verified.
    pub fingerprint: Fingerprint,
    /// Where that certificate came from.
    pub key_origin: String,
    /// The exact text that was signed.
    pub signed_text: String,
    /// The policy applied: `fips` in FIPS mode, else `default`.
    pub policy: Policy,
}

/// The kernel's view of a root hash: hex digits, lowercase. Anything else is refused.
fn root_hash_text(root_hash: &str) -> Result<String> {
    let text = root_hash.trim_end_matches(['\n', '\r']);
    if text.is_empty() || !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidArgument(format!("root hash {root_hash:?} is not an even number of hex digits")));
    }
    if !(32..=128).contains(&text.len()) {
        return Err(Error::InvalidArgument(format!("a root hash has 32 to 128 hex digits, not {}", text.len())));
    }
    Ok(text.to_ascii_lowercase())
}

/// Signs a root hash for the kernel: DER, detached, no signed attributes, no embedded
/// certificates (`openssl cms -sign -binary -noattr -nocerts -outform DER`). Uses the
/// default library context: signing is image tooling, not part of the FIPS boundary.
/// A certificate whose key the `default` policy refuses (RSA below 2048 bits) gives
/// [`Error::PolicyRefused`]: [`TrustStore::verify_root_hash`] would refuse the result.
pub fn sign_root_hash(root_hash: &str, cert_pem_or_der: &[u8], key_pem_or_der: &[u8]) -> Result<Vec<u8>> {
    let text = root_hash_text(root_hash)?;
    let invalid = |what: &str, e: openssl::error::ErrorStack| Error::InvalidKey {
        source_name: what.to_string(),
        reason: ossl::error_text(&e),
    };
    let cert = X509::from_pem(cert_pem_or_der)
        .or_else(|_| X509::from_der(cert_pem_or_der))
        .map_err(|e| invalid("signing certificate", e))?;
    // The policy judges the one certificate that signs (the first of a PEM bundle).
    let cert_der = cert.to_der().map_err(|e| invalid("signing certificate", e))?;
    let mut signer = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    signer.add_bytes(&cert_der, "signing certificate")?;
    eligible_keys(&signer, Scheme::default(), Policy::Default)?;
    let key = PKey::private_key_from_pem(key_pem_or_der)
        .or_else(|_| PKey::private_key_from_der(key_pem_or_der))
        .map_err(|e| invalid("signing key", e))?;
    let flags = CMSOptions::BINARY | CMSOptions::DETACHED | CMSOptions::NOATTR | CMSOptions::CMS_NOCERTS;
    let cms = CmsContentInfo::sign(Some(&cert), Some(&key), None, Some(text.as_bytes()), flags)
        .map_err(Error::openssl("signing the root hash (does the key match the certificate?)"))?;
    cms.to_der().map_err(Error::openssl("encoding the signature"))
}

impl TrustStore {
    /// Verifies a detached DER PKCS#7 signature over `root_hash` (hex; checked as the
    /// lowercase text the kernel sees) against each trusted certificate in turn.
    pub fn verify_root_hash(&self, root_hash: &str, signature_der: &[u8]) -> Result<RootHashVerified> {
        self.require_keys()?;
        let text = root_hash_text(root_hash)?;
        if signature_der.is_empty() || signature_der.len() > super::MAX_SIGNATURE_LEN {
            return Err(Error::InvalidSignature(format!("{} bytes is not a root-hash signature", signature_der.len())));
        }
        let ctx = self.context();
        let policy = if ctx.is_fips() { Policy::Fips } else { Policy::Default };
        let digests = ossl::cms_signer_digests(signature_der).map_err(|e| {
            Error::InvalidSignature(format!("not a DER PKCS#7/CMS signature: {}", ossl::error_text(&e)))
        })?;
        if digests.is_empty() {
            return Err(Error::InvalidSignature("the PKCS#7 signature has no signer".into()));
        }
        let allowed = [Nid::SHA256, Nid::SHA384, Nid::SHA512].map(|nid| nid.as_raw());
        if let Some(&nid) = digests.iter().find(|nid| !allowed.contains(nid)) {
            let name = Nid::from_raw(nid).short_name().unwrap_or("unknown");
            return Err(Error::PolicyRefused {
                policy: policy.name(),
                reasons: format!("the PKCS#7 signer used digest {name}; SHA-256, SHA-384 or SHA-512 is required"),
            });
        }
        // A trusted certificate's key must pass the policy of the context (fips in FIPS
        // mode): a certificate with an RSA-1024 key is never trusted.
        let mut trusted = Vec::new();
        let mut refused = Vec::new();
        for key in self.keys() {
            let Some(cert) = key.cert_der.as_deref() else { continue };
            match policy.check(key, Scheme::default(), ctx) {
                Ok(()) => trusted.push((key, cert)),
                Err(reason) => refused.push(format!("{}: {reason}", key.fingerprint)),
            }
        }
        if trusted.is_empty() && !refused.is_empty() {
            return Err(Error::PolicyRefused { policy: policy.name(), reasons: refused.join("; ") });
        }
        if trusted.is_empty() {
            return Err(Error::InvalidArgument(
                "root-hash signatures are checked against X.509 certificates, and the trust store holds none".into(),
            ));
        }
        let certs: Vec<&[u8]> = trusted.iter().map(|(_, cert)| *cert).collect();
        let checks = ossl::cms_verify_signers(ctx.libctx(), ctx.properties(), signature_der, &certs, text.as_bytes())
            .map_err(|e| {
            Error::InvalidSignature(format!("not a DER PKCS#7/CMS signature: {}", ossl::error_text(&e)))
        })?;
        // Well-formed, but not a detached signature over data: it cannot be the kernel's.
        let Some(checks) = checks else {
            return Err(Error::BadSignature { tried: trusted.len(), refused });
        };
        signers_verdict(&checks, trusted.len(), &refused).map(|index| {
            let key = trusted[index].0;
            RootHashVerified { fingerprint: key.fingerprint, key_origin: key.origin.clone(), signed_text: text, policy }
        })
    }
}

/// The kernel's rule for several signers: every signer's signature that can be checked
/// must verify, and at least one signer must be a trusted certificate whose signature
/// verifies. Returns the index of the first such trusted certificate.
fn signers_verdict(checks: &[SignerCheck], trusted: usize, refused: &[String]) -> Result<usize> {
    let signers = checks.len();
    // One signer: it verifies under a trusted certificate, or the signature is bad.
    if signers == 1 {
        return match checks[0] {
            SignerCheck::Trusted(index) => Ok(index),
            _ => Err(Error::BadSignature { tried: trusted, refused: refused.to_vec() }),
        };
    }
    if let Some(bad) = checks.iter().position(|c| *c == SignerCheck::Invalid) {
        return Err(Error::RootHashRejected(format!(
            "signer {} of {signers} does not verify under the certificate that names it (every signature must verify)",
            bad + 1
        )));
    }
    if let Some(index) = checks.iter().find_map(|c| if let SignerCheck::Trusted(i) = c { Some(*i) } else { None }) {
        return Ok(index);
    }
    let carried = checks.iter().filter(|c| **c == SignerCheck::Untrusted).count();
    let unknown = checks.iter().filter(|c| **c == SignerCheck::NoCertificate).count();
    let mut detail = format!(
        "no signer is one of the {trusted} trusted certificate(s): {signers} signer(s), {carried} verified only under a \
         certificate the signature carries, {unknown} named by no certificate at hand"
    );
    if !refused.is_empty() {
        detail.push_str(&format!("; refused by policy: {}", refused.join("; ")));
    }
    Err(Error::RootHashRejected(detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CryptoContext;
    use std::path::PathBuf;
    use std::process::Command;

    fn openssl(args: &[&str]) {
        let out = Command::new("openssl").args(args).output().expect("the openssl CLI is installed");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// As tests/sig_support: ROOTSEAL_FIPS_CONFIG, else the build script (cached).
    fn fips_config() -> PathBuf {
        if let Some(path) = std::env::var_os("ROOTSEAL_FIPS_CONFIG").filter(|v| !v.is_empty()) {
            return path.into();
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-fips-provider.sh");
        let out = Command::new("bash").arg(script).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().last().unwrap().trim().into()
    }

    /// The policy keeps MD5 away from the provider, so this goes below it: the CMS check
    /// itself runs in the FIPS context (which has no MD5) and in the default one (which has).
    #[test]
    fn the_cms_check_runs_in_the_context_it_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &p("k.pem"),
            "-subj",
            "/CN=t",
            "-out",
            &p("c.pem"),
        ]);
        std::fs::write(p("t.txt"), "ab".repeat(32)).unwrap();
        openssl(&["x509", "-in", &p("c.pem"), "-outform", "DER", "-out", &p("c.der")]);
        let cert = std::fs::read(p("c.der")).unwrap();
        for md in ["md5", "sha256"] {
            let sig = p(&format!("{md}.p7s"));
            openssl(&[
                "cms",
                "-sign",
                "-md",
                md,
                "-binary",
                "-noattr",
                "-nocerts",
                "-outform",
                "DER",
                "-signer",
                &p("c.pem"),
                "-inkey",
                &p("k.pem"),
                "-in",
                &p("t.txt"),
                "-out",
                &sig,
            ]);
            let sig = std::fs::read(sig).unwrap();
            let content = "ab".repeat(32);
            let fips = CryptoContext::fips(Some(&fips_config())).unwrap();
            let default = CryptoContext::default_provider();
            for (ctx, expect) in [(&default, true), (&fips, md != "md5")] {
                let checked =
                    ossl::cms_verify_signers(ctx.libctx(), ctx.properties(), &sig, &[&cert], content.as_bytes());
                let valid = matches!(&checked, Ok(Some(c)) if c.as_slice() == [SignerCheck::Trusted(0)]);
                assert_eq!(valid, expect, "{md} fips={}: {checked:?}", ctx.is_fips());
            }
        }
    }
}

//! Payload signatures: detached signatures, Flatcar "CrAU" update payloads and
//! dm-verity root-hash PKCS#7 signatures, optionally checked inside the OpenSSL FIPS
//! provider running in a private library context.
//!
//! ```no_run
//! use rootseal::crypto::CryptoContext;
//! use rootseal::sig::{Policy, Scheme, TrustStore};
//! use std::sync::Arc;
//!
//! let context = Arc::new(CryptoContext::fips(None)?); // ROOTSEAL_FIPS_CONFIG names the config
//! let mut store = TrustStore::new(context);
//! store.add_file("update-key.pub.pem".as_ref())?;
//! let signature = std::fs::read("image.sig").unwrap();
//! let verified = store.verify_file("image".as_ref(), &signature, Scheme::default(), Policy::Fips)?;
//! println!("signed by {} ({}), checked by the {} provider", verified.fingerprint, verified.scheme, verified.provider);
//! # Ok::<(), rootseal::sig::Error>(())
//! ```
//!
//! An empty trust store is always an error, never "skip the check". Signatures verify
//! against any trusted key, so keys can be rotated, and every result names the key.

mod detached;
mod detect;
mod error;
mod payload;
mod policy;
mod roothash;
mod trust;

pub use detached::{MAX_ED25519_FILE, MAX_SIGNATURE_LEN, Verified};
pub use error::{Error, Result};
pub use payload::{OmahaCheck, PayloadVerified, parse_sha256_text};
pub use policy::{Padding, Policy, SIGNATURE_DIGESTS, Scheme, parse_signature_digest};
pub use roothash::{RootHashVerified, sign_root_hash};
pub use trust::{Fingerprint, KeyType, MAX_KEY_FILE, TrustStore, TrustedKey};

/// Reads a key, certificate or signature file of at most `max` bytes. The cap holds for
/// pipes and devices too, whose metadata length says nothing (`/dev/zero` would
/// otherwise be read until memory runs out).
pub fn read_bounded(path: &std::path::Path, max: u64, what: &str) -> Result<Vec<u8>> {
    let bytes = crate::sys::file::read_at_most(path, max).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::InvalidArgument(format!("{} is larger than {max} bytes: not a {what}", path.display())));
    }
    Ok(bytes)
}

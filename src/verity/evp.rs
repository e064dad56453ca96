//! The OpenSSL backend: verity digests computed by an OpenSSL provider through EVP, which
//! in FIPS mode ([`super::HashChoice::fips`]) computes every verity digest.
//!
//! In FIPS mode correctness and certification come before speed: the tree is hashed by
//! the FIPS provider of a [`CryptoContext`], one message per `EVP_Digest*` call, on every
//! core. Our own SIMD and the `sha2` crate are not used at all, not even for hash type
//! 0 or the algorithms the SIMD backends lack.

use super::error::{Error, Result};
use super::params::HashAlgorithm;
use crate::crypto::CryptoContext;
use openssl::md::Md;
use openssl::md_ctx::MdCtx;
use std::sync::Arc;

/// Where the salt goes: before the block (format 1) or after it (format 0, Chrome OS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SaltPosition {
    Prefix,
    Suffix,
}

/// `H(salt || message)` or `H(message || salt)` by an OpenSSL provider.
pub(crate) struct EvpSalted {
    md: Md,
    salt: Vec<u8>,
    position: SaltPosition,
    provider: String,
    // The digest was fetched from this context's providers: keep them loaded for as long
    // as `md` may be used.
    _context: Arc<CryptoContext>,
}

impl EvpSalted {
    /// Fetches `algorithm` from `context` (with `fips=yes` in FIPS mode). Fails when the
    /// context's providers do not offer it.
    pub fn new(
        algorithm: HashAlgorithm,
        salt: &[u8],
        position: SaltPosition,
        context: Arc<CryptoContext>,
    ) -> Result<Self> {
        let md = Md::fetch(context.libctx(), algorithm.openssl_name(), context.properties())
            .map_err(|e| Error::Digest(format!("fetching {}: {e}", algorithm.openssl_name())))?;
        let provider = crate::sys::openssl::digest_provider_name(&md);
        Ok(EvpSalted { md, salt: salt.to_vec(), position, provider, _context: context })
    }

    /// The name of the provider that computes the digests ("fips", "default").
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Writes the digest of each message to consecutive chunks of `out`.
    pub fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        let failed = |e: openssl::error::ErrorStack| Error::Digest(e.to_string());
        // A context per call: contexts are not shareable between the worker threads, and
        // one call covers hundreds of messages.
        let mut ctx = MdCtx::new().map_err(failed)?;
        let size = self.md.size();
        for (message, out) in messages.iter().zip(out.chunks_exact_mut(size)) {
            ctx.digest_init(&self.md).map_err(failed)?;
            let (first, second) = match self.position {
                SaltPosition::Prefix => (&self.salt[..], *message),
                SaltPosition::Suffix => (*message, &self.salt[..]),
            };
            ctx.digest_update(first).map_err(failed)?;
            ctx.digest_update(second).map_err(failed)?;
            let written = ctx.digest_final(out).map_err(failed)?;
            if written != size {
                return Err(Error::Digest(format!("{written}-byte digest where {size} bytes were expected")));
            }
        }
        Ok(())
    }
}

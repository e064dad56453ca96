//! Hashing backends: the code that computes `H(salt || message)` for many messages of
//! one length at once, which is what a verity tree is made of.
//!
//! | backend | SHA-256 | SHA-512 | needs |
//! |---|---|---|---|
//! | [`HashBackend::Avx512`] | 16 lanes | 8 lanes | AVX-512F, AVX-512BW |
//! | [`HashBackend::ShaNi`] | 4 interleaved streams | (portable) | SHA, SSSE3, SSE4.1 |
//! | [`HashBackend::Portable`] | `sha2` crate | `sha2` crate | nothing |
//! | [`HashBackend::OpenSsl`] | OpenSSL EVP | OpenSSL EVP | nothing (forced, or FIPS mode) |
//!
//! SHA-1, SHA-224 and SHA-384, and hash type 0 (`H(block || salt)`), use the portable
//! code, as does any algorithm a chosen backend does not implement. The backend is
//! picked at run time from the CPU's features, never from compile flags;
//! [`force_hash_backend`] or the environment variable [`HASH_BACKEND_ENV`] (values
//! `avx512`, `shani`, `portable`, `openssl`) override the choice, and forcing a backend
//! the CPU lacks is an error, never a crash.
//!
//! **FIPS mode** ([`use_fips_provider`](super::use_fips_provider)) overrides all of this: every digest, of every
//! algorithm and both hash types, is computed by the OpenSSL FIPS provider through EVP.
//! Certification beats speed there; expect the speed of one `sha256sum` per core.

use super::error::{Error, Result};
use super::evp::{EvpSalted, SaltPosition, fips_provider};
use super::params::HashAlgorithm;
use crate::sig::CryptoContext;
use sha2::Digest;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Environment variable that forces a backend: `avx512`, `shani`, `portable` or `openssl`.
/// [`force_hash_backend`] takes precedence over it.
pub const HASH_BACKEND_ENV: &str = "ROOTSEAL_HASH_BACKEND";

/// What computed a tree's digests: the backend and, for [`HashBackend::OpenSsl`], the
/// OpenSSL provider ("fips" in FIPS mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedBy {
    /// The backend.
    pub backend: HashBackend,
    /// The OpenSSL provider's name, for the OpenSSL backend.
    pub provider: Option<String>,
}

/// A way of hashing many salted messages of one length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashBackend {
    /// AVX-512 multi-buffer: 16 SHA-256 or 8 SHA-512 messages side by side.
    Avx512,
    /// The x86 SHA extensions, several SHA-256 messages interleaved.
    ShaNi,
    /// The `sha2` crate, one message at a time (it uses the CPU's SHA extensions where
    /// it knows them, on any architecture).
    Portable,
    /// OpenSSL's EVP digests, one message per call: the default provider, or the FIPS
    /// provider in FIPS mode. Never chosen automatically outside FIPS mode.
    OpenSsl,
}

impl HashBackend {
    /// Every backend.
    pub const ALL: [HashBackend; 4] =
        [HashBackend::Avx512, HashBackend::ShaNi, HashBackend::Portable, HashBackend::OpenSsl];

    /// The name used by [`HASH_BACKEND_ENV`] and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            HashBackend::Avx512 => "avx512",
            HashBackend::ShaNi => "shani",
            HashBackend::Portable => "portable",
            HashBackend::OpenSsl => "openssl",
        }
    }

    /// Parses a [`name`](Self::name), ignoring ASCII case.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| Error::UnknownHashBackend(name.to_string()))
    }

    /// True when this CPU can run the backend.
    pub fn is_available(self) -> bool {
        self.unavailable_reason().is_none()
    }

    fn unavailable_reason(self) -> Option<&'static str> {
        match self {
            HashBackend::Portable | HashBackend::OpenSsl => None,
            #[cfg(target_arch = "x86_64")]
            HashBackend::Avx512 => {
                crate::simd::sha256_avx512::Avx512Sha256::new().is_none().then_some("the CPU lacks AVX-512F/BW")
            }
            #[cfg(target_arch = "x86_64")]
            HashBackend::ShaNi => crate::simd::sha256_ni::ShaNi::new()
                .is_none()
                .then_some("the CPU lacks the SHA extensions (or SSSE3/SSE4.1)"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => Some("it exists only on x86-64"),
        }
    }

    /// The backends this CPU can run, fastest first.
    pub fn available() -> Vec<HashBackend> {
        Self::ALL.into_iter().filter(|b| b.is_available()).collect()
    }

    /// True when the backend has its own code for `algorithm` (otherwise it hands the
    /// algorithm to the portable code).
    pub const fn implements(self, algorithm: HashAlgorithm) -> bool {
        match self {
            HashBackend::Avx512 => matches!(algorithm, HashAlgorithm::Sha256 | HashAlgorithm::Sha512),
            HashBackend::ShaNi => matches!(algorithm, HashAlgorithm::Sha256),
            HashBackend::Portable | HashBackend::OpenSsl => true,
        }
    }

    fn check_available(self) -> Result<()> {
        match self.unavailable_reason() {
            None => Ok(()),
            Some(reason) => Err(Error::HashBackendUnavailable { backend: self.name(), reason }),
        }
    }
}

impl fmt::Display for HashBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// 0: not forced; otherwise 1 + the index in [`HashBackend::ALL`].
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Forces every later format and verify in this process onto `backend` (`None` goes
/// back to the environment variable, then the automatic choice). Fails, changing
/// nothing, when the CPU cannot run it.
pub fn force_hash_backend(backend: Option<HashBackend>) -> Result<()> {
    let code = match backend {
        None => 0,
        Some(b) => {
            b.check_available()?;
            1 + HashBackend::ALL.iter().position(|&x| x == b).unwrap_or(0) as u8
        }
    };
    FORCED.store(code, Ordering::Relaxed);
    Ok(())
}

/// The backend forced by [`force_hash_backend`] or else by [`HASH_BACKEND_ENV`];
/// `None` for the automatic choice. An unknown name in the variable is an error.
pub fn forced_hash_backend() -> Result<Option<HashBackend>> {
    match FORCED.load(Ordering::Relaxed) {
        0 => match std::env::var(HASH_BACKEND_ENV) {
            Ok(name) if !name.trim().is_empty() => HashBackend::from_name(&name).map(Some),
            _ => Ok(None),
        },
        code => Ok(HashBackend::ALL.get(code as usize - 1).copied()),
    }
}

/// Computes `H(salt || message)` for many messages of one length: the one operation
/// every backend provides.
///
/// This is also where an OpenSSL (FIPS provider) backend slots in: implement this trait
/// over `EVP_DigestInit_ex`/`EVP_MD_CTX_copy_ex` of the salted context, add a variant to
/// [`HashBackend`], and return it from [`SaltedMultiHasher::with_backend`].
pub(crate) trait SaltedDigests: Send + Sync {
    /// Writes the digest of each message to consecutive digest-size chunks of `out`.
    /// The caller guarantees equal lengths and a large enough `out`. Only OpenSSL can fail.
    fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()>;

    /// The OpenSSL provider that computes the digests, for an OpenSSL backend.
    fn provider(&self) -> Option<&str> {
        None
    }
}

impl SaltedDigests for EvpSalted {
    fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        EvpSalted::digest_all(self, messages, out)
    }

    fn provider(&self) -> Option<&str> {
        Some(EvpSalted::provider(self))
    }
}

/// The `sha2` crate, one message after the other, cloning the context that has
/// absorbed the salt.
struct Portable<D> {
    salted: D,
}

impl<D: Digest + Clone + Send + Sync> SaltedDigests for Portable<D> {
    fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        let size = <D as Digest>::output_size();
        for (message, out) in messages.iter().zip(out.chunks_exact_mut(size)) {
            out.copy_from_slice(&self.salted.clone().chain_update(message).finalize());
        }
        Ok(())
    }
}

#[cfg(target_arch = "x86_64")]
impl<K: crate::simd::lanes::Kernel<N>, const N: usize> SaltedDigests for crate::simd::lanes::SaltedLanes<K, N> {
    fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        crate::simd::lanes::SaltedLanes::digest_all(self, messages, out);
        Ok(())
    }
}

/// SHA-NI streams interleaved: enough to hide the latency of `sha256rnds2`.
#[cfg(target_arch = "x86_64")]
const SHA_NI_STREAMS: usize = 4;

/// Hashes many equal-length messages, each prefixed by one salt, with one backend:
/// `H(salt || message)`, the digest of a dm-verity format 1 block.
///
/// ```
/// use rootseal::verity::{HashAlgorithm, SaltedMultiHasher};
///
/// let hasher = SaltedMultiHasher::new(HashAlgorithm::Sha256, b"salt").unwrap();
/// let blocks = [[1u8; 4096], [2u8; 4096], [3u8; 4096]];
/// let messages: Vec<&[u8]> = blocks.iter().map(|b| &b[..]).collect();
/// let mut digests = vec![0u8; 3 * hasher.digest_size()];
/// hasher.digest_many(&messages, &mut digests).unwrap();
/// ```
pub struct SaltedMultiHasher {
    inner: Box<dyn SaltedDigests>,
    backend: HashBackend,
    algorithm: HashAlgorithm,
}

impl fmt::Debug for SaltedMultiHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaltedMultiHasher").field("backend", &self.backend).field("algorithm", &self.algorithm).finish()
    }
}

impl SaltedMultiHasher {
    /// In FIPS mode ([`use_fips_provider`](super::use_fips_provider)) the FIPS provider; otherwise the forced
    /// backend ([`forced_hash_backend`]) or else the fastest this CPU runs (see
    /// [`fastest_hash_backend`]).
    pub fn new(algorithm: HashAlgorithm, salt: &[u8]) -> Result<Self> {
        if let Some(context) = fips_provider() {
            return Self::openssl(algorithm, salt, SaltPosition::Prefix, context);
        }
        match forced_hash_backend()? {
            Some(backend) => Self::with_backend(algorithm, salt, backend),
            None => Self::with_backend(algorithm, salt, fastest_hash_backend(algorithm)),
        }
    }

    /// Exactly `backend`, or the portable code for an algorithm it does not implement
    /// (see [`HashBackend::implements`]). Fails when the CPU cannot run `backend`.
    /// [`HashBackend::OpenSsl`] runs in the FIPS context in FIPS mode, else in OpenSSL's
    /// default context.
    pub fn with_backend(algorithm: HashAlgorithm, salt: &[u8], backend: HashBackend) -> Result<Self> {
        backend.check_available()?;
        if backend == HashBackend::OpenSsl {
            return Self::openssl(algorithm, salt, SaltPosition::Prefix, openssl_context());
        }
        let (inner, backend): (Box<dyn SaltedDigests>, HashBackend) = match (backend, algorithm) {
            #[cfg(target_arch = "x86_64")]
            (HashBackend::Avx512, HashAlgorithm::Sha256) => {
                let kernel = crate::simd::sha256_avx512::Avx512Sha256::new().ok_or_else(|| backend.unavailable())?;
                (Box::new(crate::simd::lanes::SaltedLanes::new(kernel, salt)), backend)
            }
            #[cfg(target_arch = "x86_64")]
            (HashBackend::Avx512, HashAlgorithm::Sha512) => {
                let kernel = crate::simd::sha512_avx512::Avx512Sha512::new().ok_or_else(|| backend.unavailable())?;
                (Box::new(crate::simd::lanes::SaltedLanes::new(kernel, salt)), backend)
            }
            #[cfg(target_arch = "x86_64")]
            (HashBackend::ShaNi, HashAlgorithm::Sha256) => {
                let kernel = crate::simd::sha256_ni::ShaNi::new().ok_or_else(|| backend.unavailable())?;
                let lanes: crate::simd::lanes::SaltedLanes<_, SHA_NI_STREAMS> =
                    crate::simd::lanes::SaltedLanes::new(kernel, salt);
                (Box::new(lanes), backend)
            }
            _ => (portable(algorithm, salt), HashBackend::Portable),
        };
        Ok(SaltedMultiHasher { inner, backend, algorithm })
    }

    /// `H(message || salt)` (hash type 0), which only OpenSSL computes here: in FIPS mode
    /// or when OpenSSL is forced. None means the caller's portable code does it; a forced
    /// backend the CPU lacks is still an error.
    pub(crate) fn new_salt_last(algorithm: HashAlgorithm, salt: &[u8]) -> Result<Option<Self>> {
        let openssl = match fips_provider() {
            Some(_) => true,
            None => match forced_hash_backend()? {
                Some(backend) => {
                    backend.check_available()?;
                    backend == HashBackend::OpenSsl
                }
                None => false,
            },
        };
        openssl.then(|| Self::openssl(algorithm, salt, SaltPosition::Suffix, openssl_context())).transpose()
    }

    /// The OpenSSL backend in `context`, with the salt before or after each message.
    pub(crate) fn openssl(
        algorithm: HashAlgorithm,
        salt: &[u8],
        position: SaltPosition,
        context: Arc<CryptoContext>,
    ) -> Result<Self> {
        let inner = Box::new(EvpSalted::new(algorithm, salt, position, context)?);
        Ok(SaltedMultiHasher { inner, backend: HashBackend::OpenSsl, algorithm })
    }

    /// The OpenSSL provider that computes the digests ("fips", "default"), for
    /// [`HashBackend::OpenSsl`]; None for our own code.
    pub fn provider(&self) -> Option<&str> {
        self.inner.provider()
    }

    /// The backend that runs this algorithm: [`HashBackend::Portable`] when the one asked
    /// for does not implement it.
    pub fn backend(&self) -> HashBackend {
        self.backend
    }

    /// Digest size in bytes.
    pub fn digest_size(&self) -> usize {
        self.algorithm.digest_size()
    }

    /// Writes `H(salt || messages[i])` to `out[i * digest_size..][..digest_size]`. Every
    /// message must have the same length, and `out` room for every digest.
    pub fn digest_many(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        if let Some(first) = messages.first()
            && messages.iter().any(|m| m.len() != first.len())
        {
            return Err(Error::InvalidParameter("messages hashed together must all have the same length".into()));
        }
        let needed = messages.len().checked_mul(self.digest_size()).ok_or(Error::Overflow("digest buffer size"))?;
        if out.len() < needed {
            return Err(Error::InvalidParameter(format!(
                "digest buffer holds {} bytes; {} messages need {needed}",
                out.len(),
                messages.len()
            )));
        }
        self.digest_unchecked(messages, out)
    }

    /// [`digest_many`](Self::digest_many) for callers that already guarantee its rules.
    pub(crate) fn digest_unchecked(&self, messages: &[&[u8]], out: &mut [u8]) -> Result<()> {
        self.inner.digest_all(messages, out)
    }
}

impl HashBackend {
    fn unavailable(self) -> Error {
        Error::HashBackendUnavailable { backend: self.name(), reason: "the CPU lacks its features" }
    }
}

/// Where the OpenSSL backend runs: the FIPS context in FIPS mode, else the default one.
fn openssl_context() -> Arc<CryptoContext> {
    fips_provider().unwrap_or_else(|| Arc::new(CryptoContext::default_provider()))
}

fn portable(algorithm: HashAlgorithm, salt: &[u8]) -> Box<dyn SaltedDigests> {
    match algorithm {
        HashAlgorithm::Sha1 => Box::new(Portable { salted: sha1::Sha1::new_with_prefix(salt) }),
        HashAlgorithm::Sha224 => Box::new(Portable { salted: sha2::Sha224::new_with_prefix(salt) }),
        HashAlgorithm::Sha256 => Box::new(Portable { salted: sha2::Sha256::new_with_prefix(salt) }),
        HashAlgorithm::Sha384 => Box::new(Portable { salted: sha2::Sha384::new_with_prefix(salt) }),
        HashAlgorithm::Sha512 => Box::new(Portable { salted: sha2::Sha512::new_with_prefix(salt) }),
    }
}

/// The backend the automatic choice uses for `algorithm` on this CPU: the first of
/// AVX-512, SHA-NI and portable that the CPU runs and that implements the algorithm.
///
/// A fixed order rather than a timing: the same machine always makes the same choice, so
/// benchmarks and bug reports are reproducible. The order follows the measurements. On
/// Intel cores the SHA round instruction is slow and 16 AVX-512 lanes win by far; on AMD
/// Zen 4, whose AVX-512 units are 256 bits wide, SHA-NI is 5% faster on one idle core but
/// AVX-512 is 15% faster with every core busy, which is how format and verify run. Every
/// backend gives the same digests, so the choice only affects speed.
pub fn fastest_hash_backend(algorithm: HashAlgorithm) -> HashBackend {
    [HashBackend::Avx512, HashBackend::ShaNi]
        .into_iter()
        .find(|b| b.implements(algorithm) && b.is_available())
        .unwrap_or(HashBackend::Portable)
}

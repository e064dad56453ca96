//! Errors of the signature module.

use std::io;
use std::path::PathBuf;

/// Everything that stops a signature check from accepting its input.
///
/// [`Error::is_rejection`] separates "the input is well-formed but not trusted" (a bad
/// signature, a key refused by policy) from input that could not be processed at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trust store holds no key. It never means "skip the check".
    #[error("the trust store is empty: refusing to verify without a trusted key")]
    EmptyTrustStore,
    /// A key or certificate could not be decoded.
    #[error("invalid key {source_name}: {reason}")]
    InvalidKey {
        /// Where it came from (a path or "memory").
        source_name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A signature file or blob is malformed (not DER, wrong size, ...).
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// No trusted key verified the signature.
    #[error("signature does not verify under any of the {tried} trusted key(s) the policy allows{}", refused_note(.refused))]
    BadSignature {
        /// How many trusted keys were tried (keys, not signature and key pairs).
        tried: usize,
        /// The trusted keys that were not tried, each with why: `fingerprint: reason`.
        refused: Vec<String>,
    },
    /// A root-hash PKCS#7 signature was checked signer by signer and refused: a signer
    /// whose signature does not verify, or no signer that is a trusted certificate.
    #[error("root-hash signature refused: {0}")]
    RootHashRejected(String),
    /// Every trusted key is refused by the policy for this scheme, so nothing was tried.
    #[error("refused by the {policy} policy: {reasons}")]
    PolicyRefused {
        /// The policy name.
        policy: &'static str,
        /// Why each key was refused, `; `-separated.
        reasons: String,
    },
    /// FIPS mode was asked for, but the FIPS provider could not be loaded or failed its
    /// self-test. Nothing falls back to the default provider.
    #[error("FIPS mode unavailable: {0}")]
    FipsUnavailable(String),
    /// No FIPS config path was given and `ROOTSEAL_FIPS_CONFIG` is not set.
    #[error("{}", crate::crypto::FIPS_CONFIG_MISSING)]
    FipsConfigMissing,
    /// An update payload is malformed.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// The payload's size or SHA-256 differs from the values the update server announced.
    #[error("payload {what} mismatch: expected {expected}, found {found}")]
    PayloadMismatch {
        /// `"size"` or `"sha256"`.
        what: &'static str,
        /// The announced value.
        expected: String,
        /// The value of the file.
        found: String,
    },
    /// A caller-supplied argument is malformed (a hash that is neither hex nor base64, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// OpenSSL failed for a reason other than a wrong signature.
    #[error("OpenSSL error while {what}: {}", crate::sys::openssl::error_text(.stack))]
    OpenSsl {
        /// What was being done.
        what: &'static str,
        /// OpenSSL's error queue.
        stack: openssl::error::ErrorStack,
    },
    /// The file changed while it was being read (truncated, grown or rewritten), so no
    /// answer about its contents can be given.
    #[error("{} changed while reading: {detail}", path.display())]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// What changed.
        detail: String,
    },
    /// Memory for a buffer sized from the input could not be had. Allocation is
    /// fallible wherever the input decides its size, so a host process is never aborted.
    #[error("not enough memory: cannot allocate {bytes} bytes for {what}")]
    OutOfMemory {
        /// What the buffer was for.
        what: String,
        /// How many bytes were asked for.
        bytes: u64,
    },
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

impl From<crate::crypto::Error> for Error {
    fn from(err: crate::crypto::Error) -> Self {
        match err {
            crate::crypto::Error::FipsUnavailable(detail) => Error::FipsUnavailable(detail),
            crate::crypto::Error::FipsConfigMissing => Error::FipsConfigMissing,
        }
    }
}

impl Error {
    /// True when the input was processed and found untrustworthy: a signature that does
    /// not verify, a key the policy refuses, or a payload that differs from the announced
    /// size or hash. The CLI maps these to exit code 1, everything else to 2.
    pub fn is_rejection(&self) -> bool {
        self.class() == crate::ErrorClass::CheckFailed
    }

    /// What kind of failure this is.
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            Error::BadSignature { .. }
            | Error::RootHashRejected(_)
            | Error::PolicyRefused { .. }
            | Error::PayloadMismatch { .. } => crate::ErrorClass::CheckFailed,
            Error::Io { .. } | Error::FileChanged { .. } | Error::OutOfMemory { .. } => crate::ErrorClass::Io,
            _ => crate::ErrorClass::BadInput,
        }
    }

    /// A failed read of `path`; a file that changed while it was read is its own error.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        match crate::io::ChangedWhileReading::of(&source) {
            Some(changed) => Error::FileChanged { path: path.into(), detail: changed.detail.clone() },
            None => Error::Io { path: path.into(), source },
        }
    }

    /// An empty buffer with room for `len` bytes, or [`Error::OutOfMemory`]: never the
    /// abort of an infallible allocation.
    pub(crate) fn try_buffer(len: usize, what: &str) -> Result<Vec<u8>> {
        let mut buffer = Vec::new();
        buffer.try_reserve_exact(len).map_err(|_| Error::OutOfMemory { what: what.to_string(), bytes: len as u64 })?;
        Ok(buffer)
    }

    pub(crate) fn openssl(what: &'static str) -> impl FnOnce(openssl::error::ErrorStack) -> Self {
        move |stack| Error::OpenSsl { what, stack }
    }
}

/// " (not tried: ...)" naming the keys the policy refused, or nothing.
fn refused_note(refused: &[String]) -> String {
    if refused.is_empty() { String::new() } else { format!("; not tried: {}", refused.join("; ")) }
}

/// Result of the signature module.
pub type Result<T> = std::result::Result<T, Error>;

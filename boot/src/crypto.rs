//! Shared cryptographic vocabulary: the digest enum.

#[path = "../../src/crypto/digest.rs"]
mod digest;
pub use digest::HashAlgorithm;

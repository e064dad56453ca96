//! Shared cryptographic vocabulary: where OpenSSL work runs ([`CryptoContext`], the
//! default library context or a private FIPS one) and the one digest enum
//! ([`HashAlgorithm`]). Verity trees and signatures both use them; neither job owns them.

mod context;
mod digest;
mod error;

pub use context::{CryptoContext, FIPS_CONFIG_ENV, FipsStatus, ProviderInfo, default_context_is_fips};
pub use digest::HashAlgorithm;
pub(crate) use error::FIPS_CONFIG_MISSING;
pub use error::{Error, Result};

//! Errors of building a crypto context.

/// What a FIPS request without a config is told, by every job that asks for one.
pub(crate) const FIPS_CONFIG_MISSING: &str = "FIPS mode needs an OpenSSL config that activates the FIPS provider: \
     give one (--fips-config CONF on the command line, config_path in C) or set ROOTSEAL_FIPS_CONFIG";

/// Why a [`super::CryptoContext`] could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// FIPS mode was asked for, but the provider is missing, misconfigured or failed its
    /// self-test. Nothing falls back to the default provider.
    #[error("FIPS mode unavailable: {0}")]
    FipsUnavailable(String),
    /// No FIPS config path was given and `ROOTSEAL_FIPS_CONFIG` is not set.
    #[error("{}", FIPS_CONFIG_MISSING)]
    FipsConfigMissing,
}

impl Error {
    /// A context that cannot be made is bad input to whatever asked for it: a config
    /// that names no working FIPS provider.
    pub fn class(&self) -> crate::ErrorClass {
        crate::ErrorClass::BadInput
    }
}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, Error>;

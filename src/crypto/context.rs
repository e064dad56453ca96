//! Where the cryptography runs: OpenSSL's default library context, or a private
//! `OSSL_LIB_CTX` with the FIPS provider.
//!
//! FIPS mode never touches the process-wide default context: the config is loaded into a
//! context of our own, and every key, digest and verify operation is created in it with
//! the property query `fips=yes`. If the provider cannot be loaded or fails its
//! self-test, building the context fails, so no verification can run at all; nothing
//! falls back to the default provider.

use super::error::{Error, Result};
use crate::sys::openssl as ossl;
use openssl::lib_ctx::{LibCtx, LibCtxRef};
use std::path::{Path, PathBuf};

/// The environment variable read when no FIPS config path is passed.
pub const FIPS_CONFIG_ENV: &str = "ROOTSEAL_FIPS_CONFIG";

/// The property query every FIPS-mode fetch carries.
const FIPS_PROPERTIES: &str = "fips=yes";

/// What a provider says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Its name, e.g. "OpenSSL FIPS Provider".
    pub name: String,
    /// Its version, e.g. "3.6.3".
    pub version: String,
    /// Its build information string.
    pub build: String,
}

/// A summary of a [`CryptoContext`], for `rootseal fips status` and the C ABI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipsStatus {
    /// Whether verification runs inside the FIPS provider.
    pub active: bool,
    /// The config file loaded into the private context, in FIPS mode.
    pub config: Option<PathBuf>,
    /// The FIPS provider's own description, in FIPS mode.
    pub provider: Option<ProviderInfo>,
}

struct FipsContext {
    libctx: LibCtx,
    config: PathBuf,
    provider: ProviderInfo,
}

/// The OpenSSL library context that signature checks run in. Create it once and share
/// it (in an `Arc`) between trust stores: keys are bound to the context they were
/// decoded in.
pub struct CryptoContext {
    fips: Option<FipsContext>,
}

impl std::fmt::Debug for CryptoContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CryptoContext").field("status", &self.status()).finish()
    }
}

impl CryptoContext {
    /// OpenSSL's default library context with whatever providers the process configured.
    pub fn default_provider() -> Self {
        CryptoContext { fips: None }
    }

    /// A private library context running the FIPS provider. `config` is an OpenSSL config
    /// file that activates the `fips` and `base` providers (see
    /// `scripts/build-fips-provider.sh`); when None, [`FIPS_CONFIG_ENV`] names it.
    pub fn fips(config: Option<&Path>) -> Result<Self> {
        let config = match config {
            Some(path) => path.to_path_buf(),
            None => std::env::var_os(FIPS_CONFIG_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .ok_or(Error::FipsConfigMissing)?,
        };
        if !config.is_file() {
            let problem = if config.exists() { "is not a regular file" } else { "does not exist" };
            return Err(Error::FipsUnavailable(format!("config file {} {problem}", config.display())));
        }
        let unavailable = |what: &str, detail: String| Error::FipsUnavailable(format!("{what}: {detail}"));
        let libctx = LibCtx::new().map_err(|e| unavailable("cannot create a library context", ossl::error_text(&e)))?;
        ossl::load_config(&libctx, &config)
            .map_err(|e| unavailable(&format!("loading {} failed", config.display()), e))?;
        if !ossl::provider_available(Some(&libctx), "fips") {
            return Err(unavailable(
                "the fips provider is not active",
                format!("{} must activate it (and its self-test must pass)", config.display()),
            ));
        }
        // Without base there are no encoders or decoders in the context: every key load
        // would fail later and look like a bad key.
        if !ossl::provider_available(Some(&libctx), "base") {
            return Err(unavailable(
                "the base provider is not active",
                format!("{} must activate it next to fips (keys cannot be decoded without it)", config.display()),
            ));
        }
        if !ossl::fips_properties_enabled(Some(&libctx)) {
            return Err(unavailable(
                "default properties are not fips=yes",
                format!("{} must set default_properties = fips=yes", config.display()),
            ));
        }
        // A provider that failed its self-test stays loaded but serves nothing: prove it
        // serves the algorithm every payload check needs.
        if !ossl::signature_fetchable(Some(&libctx), "RSA", FIPS_PROPERTIES) {
            return Err(unavailable("the fips provider offers no RSA signatures", "it is in an error state".into()));
        }
        let params = ossl::provider_params(&libctx, "fips")
            .ok_or_else(|| unavailable("the fips provider does not answer", "no name or version".into()))?;
        let provider = ProviderInfo { name: params.name, version: params.version, build: params.build };
        // Successful fetches in a FIPS provider newer than libcrypto leave "invalid
        // provider functions" on the thread's error queue (one per algorithm skipped):
        // they must not end up in the message of the next, unrelated error.
        ossl::clear_errors();
        Ok(CryptoContext { fips: Some(FipsContext { libctx, config, provider }) })
    }

    /// Whether checks run inside the FIPS provider.
    pub fn is_fips(&self) -> bool {
        self.fips.is_some()
    }

    /// Mode, config and provider details.
    pub fn status(&self) -> FipsStatus {
        FipsStatus {
            active: self.fips.is_some(),
            config: self.fips.as_ref().map(|f| f.config.clone()),
            provider: self.fips.as_ref().map(|f| f.provider.clone()),
        }
    }

    /// The library context objects must be created in (None: the default one).
    pub(crate) fn libctx(&self) -> Option<&LibCtxRef> {
        self.fips.as_ref().map(|f| &*f.libctx)
    }

    /// The property query for fetches: `fips=yes` in FIPS mode.
    pub(crate) fn properties(&self) -> Option<&'static str> {
        self.fips.as_ref().map(|_| FIPS_PROPERTIES)
    }

    /// Whether a provider in this context marks the signature algorithm as FIPS-approved.
    pub(crate) fn approves(&self, algorithm: &str) -> bool {
        ossl::signature_fetchable(self.libctx(), algorithm, FIPS_PROPERTIES)
    }
}

/// Whether the process-wide default library context has `fips=yes` as its default
/// property query. rootseal never changes it; tests use this to prove it.
pub fn default_context_is_fips() -> bool {
    ossl::fips_properties_enabled(None)
}

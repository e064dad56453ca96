//! `rootseal sign …`, `rootseal payload …`, `rootseal roothash …`, `rootseal fips …`
//!
//! Exit codes: 0 valid, 1 invalid or refused by policy, 2 bad usage or bad input.

use crate::{CliResult, Outcome};
use clap::{Args, Subcommand};
use rootseal::ErrorClass;
use rootseal::crypto::CryptoContext;
use rootseal::sig::{Error, OmahaCheck, Padding, Policy, Scheme, TrustStore, parse_sha256_text, sign_root_hash};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where verification runs.
#[derive(Args)]
pub struct FipsArgs {
    /// Run inside the OpenSSL FIPS provider, in a private library context (approved
    /// algorithms only); fails when the provider cannot be loaded. Needs --fips-config
    /// or $ROOTSEAL_FIPS_CONFIG.
    #[arg(long)]
    fips: bool,
    /// OpenSSL config activating the fips and base providers (implies --fips; default:
    /// $ROOTSEAL_FIPS_CONFIG).
    #[arg(long, value_name = "CONF")]
    fips_config: Option<PathBuf>,
}

impl FipsArgs {
    pub fn context(&self) -> Result<Arc<CryptoContext>, Error> {
        Ok(Arc::new(if self.fips || self.fips_config.is_some() {
            CryptoContext::fips(self.fips_config.as_deref())?
        } else {
            CryptoContext::default_provider()
        }))
    }
}

/// Trust anchors and policy, shared by the verify commands.
#[derive(Args)]
pub struct TrustArgs {
    /// A trusted public key or certificate (PEM or DER); repeat for key rotation.
    #[arg(long = "key", value_name = "K")]
    keys: Vec<PathBuf>,
    /// default, or fips (approved algorithms only). Default: fips with --fips, else default.
    #[arg(long, value_parser = ["default", "fips"])]
    policy: Option<String>,
    #[command(flatten)]
    fips: FipsArgs,
}

impl TrustArgs {
    fn store(&self) -> Result<(TrustStore, Policy), Error> {
        let context = self.fips.context()?;
        let policy = match self.policy.as_deref() {
            Some(name) => Policy::parse(name).unwrap_or(Policy::Default),
            None if context.is_fips() => Policy::Fips,
            None => Policy::Default,
        };
        let mut store = TrustStore::new(context);
        for key in &self.keys {
            store.add_file(key)?;
        }
        Ok((store, policy))
    }
}

#[derive(Subcommand)]
pub enum SignCommand {
    /// Check a detached signature over FILE against the trusted keys.
    Verify {
        #[command(flatten)]
        trust: TrustArgs,
        /// The detached signature (raw bytes, as `openssl dgst -sign` writes it).
        #[arg(long, value_name = "SIG")]
        sig: PathBuf,
        /// Digest the signature was made with: sha256, sha384, sha512 (sha1 is refused).
        /// Without --digest and --padding, SHA-256 PKCS#1 v1.5 is tried first, then the
        /// other allowed schemes.
        #[arg(long)]
        digest: Option<String>,
        /// RSA padding with --digest: pkcs1 (the default) or pss. Needs --digest: alone
        /// it would silently fix the digest, where leaving both out detects it.
        #[arg(long, value_parser = ["pkcs1", "pss"], requires = "digest")]
        padding: Option<String>,
        /// The signed file.
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PayloadCommand {
    /// Check a CrAU update payload's signatures (and the size and SHA-256 Omaha announced).
    Verify {
        #[command(flatten)]
        trust: TrustArgs,
        /// The payload file.
        payload: PathBuf,
        /// Expected size of the whole file in bytes.
        #[arg(long)]
        size: Option<u64>,
        /// Expected SHA-256 of the whole file, base64 or hex.
        #[arg(long, value_name = "B64|HEX")]
        sha256: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RootHashCommand {
    /// Make a detached DER PKCS#7 signature over the root hash for the kernel.
    Sign {
        /// Signer certificate (PEM or DER).
        #[arg(long, value_name = "C")]
        cert: PathBuf,
        /// Signer private key (PEM or DER).
        #[arg(long, value_name = "K")]
        key: PathBuf,
        /// The root hash in hex.
        root_hash: String,
        /// Where to write the signature.
        #[arg(short = 'o', long = "output", value_name = "SIG.p7s")]
        output: PathBuf,
    },
    /// Check a root-hash signature against trusted certificates.
    Verify {
        /// A trusted certificate; repeat for several.
        #[arg(long = "cert", value_name = "C")]
        certs: Vec<PathBuf>,
        /// The DER PKCS#7 signature.
        #[arg(long, value_name = "SIG.p7s")]
        sig: PathBuf,
        /// The root hash in hex.
        root_hash: String,
        #[command(flatten)]
        fips: FipsArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum FipsCommand {
    /// Load the FIPS provider in a private context and report it.
    Status {
        /// OpenSSL config activating the fips and base providers (default: $ROOTSEAL_FIPS_CONFIG).
        #[arg(long, value_name = "CONF")]
        fips_config: Option<PathBuf>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Prints a rejection (exit 1) or passes other errors up (exit 2, printed by main).
fn rejected(err: Error, json: bool, policy: Policy) -> CliResult {
    if err.class() != ErrorClass::CheckFailed {
        return Err(err.into());
    }
    if json {
        let error = json!({ "kind": ErrorClass::CheckFailed.name(), "message": err.to_string() });
        println!("{}", json!({ "ok": false, "valid": false, "policy": policy.name(), "error": error }));
    }
    eprintln!("rootseal: error: {err}");
    Ok(Outcome::CheckFailed)
}

fn read_signature(path: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(rootseal::sig::read_bounded(path, rootseal::sig::MAX_SIGNATURE_LEN as u64, "signature")?)
}

pub fn run_sign(cmd: SignCommand) -> CliResult {
    let SignCommand::Verify { trust, sig, digest, padding, file, json } = cmd;
    let scheme = if digest.is_none() && padding.is_none() {
        None
    } else {
        let digest = digest.as_deref().unwrap_or("sha256");
        let digest =
            rootseal::sig::parse_signature_digest(digest).ok_or_else(|| format!("unknown digest {digest:?}"))?;
        let padding = if padding.as_deref() == Some("pss") { Padding::Pss } else { Padding::Pkcs1 };
        Some(Scheme { digest, padding })
    };
    let (store, policy) = trust.store()?;
    let signature = read_signature(&sig)?;
    let result = match scheme {
        Some(scheme) => store.verify_file(&file, &signature, scheme, policy),
        None => store.verify_file_auto(&file, &signature, policy),
    };
    match result {
        Ok(v) => {
            if json {
                let obj = json!({
                    "ok": true, "valid": true, "fingerprint": v.fingerprint.to_string(), "key": v.key_origin,
                    "scheme": v.scheme, "policy": v.policy.name(), "provider": v.provider,
                    "fips": store.context().is_fips(),
                });
                println!("{obj}");
            } else {
                println!("valid: {} signed by {} ({})", v.scheme, v.fingerprint, v.key_origin);
                println!("policy {}, checked by the {} provider", v.policy.name(), v.provider);
            }
            Ok(Outcome::Success)
        }
        Err(e) => rejected(e, json, policy),
    }
}

pub fn run_payload(cmd: PayloadCommand) -> CliResult {
    let PayloadCommand::Verify { trust, payload, size, sha256, json } = cmd;
    let omaha = OmahaCheck { size, sha256: sha256.as_deref().map(parse_sha256_text).transpose()? };
    let (store, policy) = trust.store()?;
    match store.verify_payload(&payload, omaha, policy) {
        Ok(v) => {
            if json {
                let obj = json!({
                    "ok": true, "valid": true, "fingerprint": v.fingerprint.to_string(), "key": v.key_origin,
                    "signature_index": v.signature_index, "signature_version": v.signature_version,
                    "signature_count": v.signature_count, "format_version": v.format_version,
                    "signed_bytes": v.signed_bytes, "policy": v.policy.name(), "provider": v.provider,
                    "fips": store.context().is_fips(),
                    "size_checked": omaha.size.is_some(), "sha256_checked": omaha.sha256.is_some(),
                });
                println!("{obj}");
            } else {
                println!(
                    "valid: CrAU v{} payload, signature {} of {} (version {}) by {} ({})",
                    v.format_version,
                    v.signature_index + 1,
                    v.signature_count,
                    v.signature_version.map_or("none".to_string(), |n| n.to_string()),
                    v.fingerprint,
                    v.key_origin
                );
                println!("policy {}, checked by the {} provider", v.policy.name(), v.provider);
            }
            Ok(Outcome::Success)
        }
        Err(e) => rejected(e, json, policy),
    }
}

pub fn run_roothash(cmd: RootHashCommand) -> CliResult {
    match cmd {
        RootHashCommand::Sign { cert, key, root_hash, output } => {
            let read =
                |p: &Path| rootseal::sig::read_bounded(p, rootseal::sig::MAX_KEY_FILE, "key or certificate file");
            let sig = sign_root_hash(&root_hash, &read(&cert)?, &read(&key)?)?;
            std::fs::write(&output, sig).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
            Ok(Outcome::Success)
        }
        RootHashCommand::Verify { certs, sig, root_hash, fips, json } => {
            roothash_verify(certs, sig, root_hash, fips, json)
        }
    }
}

fn roothash_verify(certs: Vec<PathBuf>, sig: PathBuf, root_hash: String, fips: FipsArgs, json: bool) -> CliResult {
    let context = fips.context()?;
    let mut store = TrustStore::new(context);
    for cert in &certs {
        store.add_file(cert)?;
    }
    let signature = read_signature(&sig)?;
    match store.verify_root_hash(&root_hash, &signature) {
        Ok(v) => {
            if json {
                let obj = json!({
                    "ok": true, "valid": true, "fingerprint": v.fingerprint.to_string(), "cert": v.key_origin,
                    "signed_text": v.signed_text, "fips": store.context().is_fips(), "policy": v.policy.name(),
                });
                println!("{obj}");
            } else {
                println!("valid: root hash {} signed by {} ({})", v.signed_text, v.fingerprint, v.key_origin);
            }
            Ok(Outcome::Success)
        }
        Err(e) => {
            let policy = if store.context().is_fips() { Policy::Fips } else { Policy::Default };
            rejected(e, json, policy)
        }
    }
}

pub fn run_fips(cmd: FipsCommand) -> CliResult {
    let FipsCommand::Status { fips_config, json } = cmd;
    match CryptoContext::fips(fips_config.as_deref()) {
        Ok(ctx) => {
            let status = ctx.status();
            let Some(provider) = status.provider else {
                return Err("the FIPS context reports no provider".into());
            };
            let config = status.config.map(|c| c.display().to_string()).unwrap_or_default();
            if json {
                let obj = json!({
                    "ok": true, "active": true, "provider": provider.name, "version": provider.version,
                    "build": provider.build, "config": config,
                    "default_context_fips": rootseal::crypto::default_context_is_fips(),
                });
                println!("{obj}");
            } else {
                println!("FIPS mode: available ({} {}, build {})", provider.name, provider.version, provider.build);
                println!("config: {config}");
            }
            Ok(Outcome::Success)
        }
        Err(e) => {
            if json {
                let error = json!({ "kind": ErrorClass::CheckFailed.name(), "message": e.to_string() });
                println!("{}", json!({ "ok": false, "active": false, "error": error }));
            }
            eprintln!("rootseal: error: {e}");
            Ok(Outcome::CheckFailed)
        }
    }
}

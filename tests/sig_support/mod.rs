//! Helpers for the signature tests: the real `openssl` CLI makes every key, signature,
//! certificate and PKCS#7 blob, and the FIPS provider comes from
//! scripts/build-fips-provider.sh.
#![allow(dead_code)]

pub mod crau;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs `openssl` with `args` and fails the test with its output if it fails.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    openssl_env(args, &[])
}

/// Runs `openssl` with extra environment variables.
pub fn openssl_env(args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the openssl CLI must be installed (scripts/setup.sh)");
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Path as &str for the openssl command line.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A key pair made by `openssl genpkey`: the private key and its SubjectPublicKeyInfo.
pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
}

/// `spec` is e.g. "rsa:2048", "ec:P-256", "ed25519".
pub fn genkey(dir: &Path, name: &str, spec: &str) -> KeyPair {
    let private = dir.join(format!("{name}.key.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let mut args = vec!["genpkey", "-out", s(&private)];
    let (alg, param);
    match spec.split_once(':') {
        Some(("rsa", bits)) => {
            param = format!("rsa_keygen_bits:{bits}");
            args.extend(["-algorithm", "RSA", "-pkeyopt", &param]);
        }
        Some(("ec", curve)) => {
            param = format!("ec_paramgen_curve:{curve}");
            args.extend(["-algorithm", "EC", "-pkeyopt", &param]);
        }
        _ => {
            alg = spec.to_ascii_uppercase();
            args.extend(["-algorithm", &alg]);
        }
    }
    openssl(&args);
    openssl(&["pkey", "-in", s(&private), "-pubout", "-out", s(&public)]);
    KeyPair { private, public }
}

/// SHA-256 of the key's DER SubjectPublicKeyInfo, computed by the openssl CLI.
pub fn fingerprint(public_pem: &Path) -> String {
    let dir = public_pem.parent().unwrap();
    let der = dir.join(format!("{}.der", public_pem.file_name().unwrap().to_str().unwrap()));
    openssl(&["pkey", "-pubin", "-in", s(public_pem), "-outform", "DER", "-out", s(&der)]);
    let out = String::from_utf8(openssl(&["dgst", "-sha256", "-r", s(&der)])).unwrap();
    out.split_whitespace().next().unwrap().to_string()
}

/// `openssl dgst -<digest> -sign` (with PSS padding when asked), or `pkeyutl -rawin` for
/// Ed25519 which has no separate digest.
pub fn sign(key: &KeyPair, digest: &str, pss: bool, data: &Path, sig: &Path) {
    if digest == "none" {
        openssl(&["pkeyutl", "-sign", "-rawin", "-inkey", s(&key.private), "-in", s(data), "-out", s(sig)]);
        return;
    }
    let flag = format!("-{digest}");
    let mut args = vec!["dgst", flag.as_str(), "-sign", s(&key.private), "-out", s(sig)];
    if pss {
        args.extend(["-sigopt", "rsa_padding_mode:pss"]);
    }
    args.push(s(data));
    openssl(&args);
}

/// Whether the openssl CLI itself accepts the signature (with `env`, e.g. under FIPS).
pub fn openssl_verifies(key: &KeyPair, digest: &str, pss: bool, data: &Path, sig: &Path, env: &[(&str, &str)]) -> bool {
    let mut cmd = Command::new("openssl");
    if digest == "none" {
        cmd.args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-rawin",
            "-inkey",
            s(&key.public),
            "-in",
            s(data),
            "-sigfile",
            s(sig),
        ]);
    } else {
        cmd.args(["dgst", &format!("-{digest}"), "-verify", s(&key.public), "-signature", s(sig)]);
        if pss {
            cmd.args(["-sigopt", "rsa_padding_mode:pss"]);
        }
        cmd.arg(data);
    }
    cmd.envs(env.iter().copied()).output().unwrap().status.success()
}

/// A self-signed certificate for `key` (for root-hash signatures and cert trust anchors).
pub fn self_signed_cert(dir: &Path, key: &KeyPair, cn: &str) -> PathBuf {
    let cert = dir.join(format!("{cn}.crt.pem"));
    let subj = format!("/CN={cn}");
    openssl(&["req", "-x509", "-new", "-key", s(&key.private), "-subj", &subj, "-days", "2", "-out", s(&cert)]);
    cert
}

/// The config of the FIPS provider built by scripts/build-fips-provider.sh: the
/// `ROOTSEAL_FIPS_CONFIG` the CI exports, or else the script is run (it reuses its cache,
/// and builds the provider, about a minute, when there is none). Never skipped: a test
/// that needs FIPS fails if no provider can be had.
pub fn fips_config() -> PathBuf {
    static CONFIG: OnceLock<PathBuf> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("ROOTSEAL_FIPS_CONFIG").filter(|v| !v.is_empty()) {
                return PathBuf::from(path);
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-fips-provider.sh");
            let out = Command::new("bash").arg(&script).output().expect("cannot run build-fips-provider.sh");
            assert!(out.status.success(), "build-fips-provider.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
            let stdout = String::from_utf8(out.stdout).unwrap();
            PathBuf::from(stdout.lines().last().expect("the script prints the config path").trim())
        })
        .clone()
}

/// Environment that makes the openssl CLI use the FIPS provider.
pub fn fips_env() -> [(&'static str, String); 1] {
    [("OPENSSL_CONF", fips_config().to_str().unwrap().to_string())]
}

/// `openssl cms -sign` the way root-hash signatures for the kernel are made: detached,
/// binary, no signed attributes, no embedded certificate, DER. `extra` adds options
/// such as `["-md", "sha384"]`.
pub fn cms_sign(cert: &str, key: &str, input: &str, out: &str, extra: &[&str]) {
    let args = ["cms", "-sign", "-binary", "-noattr", "-nocerts", "-outform", "DER"];
    let files = ["-signer", cert, "-inkey", key, "-in", input, "-out", out];
    openssl(&[&args[..], extra, &files].concat());
}

/// `openssl cms -verify` of a detached DER signature over `content`, trusting only
/// `cert` (no chain check), as the kernel does with its keyring.
pub fn cms_verify(sig: &str, content: &str, cert: &str) {
    openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        sig,
        "-content",
        content,
        "-certfile",
        cert,
        "-nointern",
        "-noverify",
        "-out",
        "/dev/null",
    ]);
}

/// 64 bytes that could be an Ed25519 signature (R anything, S = 1, below the group
/// order), so that a trusted Ed25519 key makes the verifier gather the whole message.
pub fn plausible_ed25519_signature() -> [u8; 64] {
    let mut sig = [0x5au8; 64];
    sig[32..].fill(0);
    sig[32] = 1;
    sig
}

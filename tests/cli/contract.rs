//! The contract a script relies on, for every subcommand: the exit-status section in
//! `--help`, and with `--json` one JSON object on stdout for every outcome, failures
//! included, with the one-form `rootseal: error:` line on stderr.

use crate::sig_support::{genkey, s, sign};
use std::process::{Command, Output};

fn rootseal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal")).args(args).output().unwrap()
}

#[test]
fn every_help_states_the_exit_status() {
    for path in [
        &[][..],
        &["verity"],
        &["verity", "format"],
        &["verity", "verify"],
        &["verity", "table"],
        &["gpt"],
        &["gpt", "next"],
        &["gpt", "set"],
        &["sign", "verify"],
        &["payload", "verify"],
        &["roothash", "verify"],
        &["fips", "status"],
        &["kernel", "usrhash"],
        &["kernel", "set-usrhash"],
    ] {
        let mut args = path.to_vec();
        args.push("--help");
        let out = rootseal(&args);
        let help = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        for line in ["Exit status:", "0  success", "1  the check failed", "2  bad usage or bad input"] {
            assert!(help.contains(line), "`rootseal {}` lacks {line:?}:\n{help}", args.join(" "));
        }
    }
    let top = String::from_utf8_lossy(&rootseal(&["--help"]).stdout).into_owned();
    assert!(top.contains("signatures"), "the top-level help names the signature commands:\n{top}");
    assert!(!top.contains("generate"), "the install-time generator stays hidden:\n{top}");
}

/// Parses stdout as exactly one JSON object with `"ok": false` and an error of `kind`.
fn assert_json_error(out: &Output, kind: &str, exit: i32) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit), "stdout {stdout} stderr {stderr}");
    let value: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
    assert_eq!(value["ok"], false, "{value}");
    assert_eq!(value["error"]["kind"], kind, "{value}");
    let message = value["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty());
    assert_eq!(stderr.trim_end(), format!("rootseal: error: {message}"), "one error line on stderr");
}

#[test]
fn json_failures_are_json_objects() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.img");
    let missing = missing.to_str().unwrap();

    // An I/O error: a file that does not exist.
    let out = rootseal(&["verity", "verify", missing, missing, &"00".repeat(32), "--json"]);
    assert_json_error(&out, "io", 2);
    let out = rootseal(&["gpt", "show", missing, "--json"]);
    assert_json_error(&out, "io", 2);

    // Bad input: a blank disk has no GPT.
    let blank = dir.path().join("blank.img");
    std::fs::write(&blank, vec![0u8; 1 << 20]).unwrap();
    let out = rootseal(&["gpt", "next", blank.to_str().unwrap(), "--json"]);
    assert_json_error(&out, "bad_input", 2);

    // A failed check: a Flatcar USR partition with priority 0 is not bootable. sgdisk
    // makes the disk, as an image tool would.
    let disk = dir.path().join("disk.img");
    std::fs::write(&disk, vec![0u8; 8 << 20]).unwrap();
    let made = Command::new("sgdisk")
        .args(["-n", "1:2048:+2M", "-t", "1:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6", "-c", "1:USR-A"])
        .arg(&disk)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let out = rootseal(&["gpt", "next", disk.to_str().unwrap(), "--json"]);
    assert_json_error(&out, "check_failed", 1);

    // `gpt set` that names nothing to set is bad usage, and leaves the disk as it was.
    let before = std::fs::read(&disk).unwrap();
    let out = rootseal(&["gpt", "set", disk.to_str().unwrap(), "-i", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "rootseal: error: nothing to set: give at least one of priority, tries and successful (-P, -T, -S)"
    );
    assert_eq!(std::fs::read(&disk).unwrap(), before, "gpt set with nothing to set wrote to the disk");
}

/// The signature commands answer `--json` in the same shape: `ok` (and their `valid`)
/// on success, and one object with the error's kind and message on every failure.
#[test]
fn signature_commands_answer_json_like_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let key = genkey(dir.path(), "k", "ec:P-256");
    let (public, file, sig) = (s(&key.public).to_string(), path("file"), path("file.sig"));
    std::fs::write(&file, b"an update payload").unwrap();
    sign(&key, "sha256", false, file.as_ref(), sig.as_ref());

    let verify = |file: &str, key: &str| rootseal(&["sign", "verify", "--key", key, "--sig", &sig, file, "--json"]);
    let out = verify(&file, &public);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((value["ok"].as_bool(), value["valid"].as_bool()), (Some(true), Some(true)), "{value}");

    // A signature that does not verify is a failed check.
    let other = path("other");
    std::fs::write(&other, b"another payload").unwrap();
    let out = verify(&other, &public);
    assert_json_error(&out, "check_failed", 1);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["valid"], false);

    // A key file that does not exist stops the command: an I/O error, still one object.
    let out = verify(&file, &path("missing.pub"));
    assert_json_error(&out, "io", 2);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["valid"], false);

    // FIPS mode without a config names the option and the variable.
    let out = Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(["sign", "verify", "--fips", "--key", &public, "--sig", &sig, &file, "--json"])
        .env_remove("ROOTSEAL_FIPS_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--fips-config") && stderr.contains("ROOTSEAL_FIPS_CONFIG"), "{stderr}");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["ok"], false, "{value}");
}

/// The help texts say what each option does for the command they are shown with.
#[test]
fn help_texts_fit_their_command() {
    let help = |args: &[&str]| String::from_utf8(rootseal(args).stdout).unwrap();
    let format = help(&["verity", "format", "--help"]);
    assert!(!format.contains("Verify inside"), "{format}");
    assert!(format.contains("Run inside the OpenSSL FIPS provider"), "{format}");
    let verify = help(&["verity", "verify", "--help"]);
    assert!(verify.contains("the others read the"), "verify --help presents format's defaults as its own: {verify}");
    let top = help(&["--help"]);
    for command in ["sign", "payload", "roothash"] {
        assert!(top.contains(command), "{command} is not listed: {top}");
    }
}

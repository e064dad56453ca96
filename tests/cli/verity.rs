//! The `rootseal` command-line contract: output formats, exit codes (0 success, 1 check
//! failed, 2 bad usage or bad input), warnings, and "validation errors write nothing".

use crate::common;
use common::{describe, pseudo_random};
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

const SALT: &str = "4f1c0e9a7b3d2c5e8f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6";
const UUID: &str = "0c6f7a8e-21d4-4b7e-9a3c-5d6e7f809a1b";

fn rootseal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(args)
        // A panic would print a backtrace; the tests check that none ever appears.
        .env("RUST_BACKTRACE", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("running the rootseal binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

fn expect_code(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}:\n{}", describe(out));
}

/// No panic message or backtrace on stderr.
fn assert_no_panic(out: &Output, what: &str) {
    let err = stderr(out).to_lowercase();
    for needle in ["panicked", "backtrace", "rust_backtrace", "stack backtrace"] {
        assert!(!err.contains(needle), "{what}: stderr contains {needle:?}:\n{}", describe(out));
    }
}

/// Exit 2 with a single-line error message and no panic text.
fn expect_one_line_error(out: &Output, what: &str) {
    expect_code(out, 2, what);
    assert_no_panic(out, what);
    let err = stderr(out);
    assert!(err.ends_with('\n') && err.trim_end().lines().count() == 1, "{what}: stderr is not one line:\n{err}");
    assert!(err.starts_with("rootseal: error: "), "{what}: stderr {err:?}");
    assert!(err.trim_end().len() > "rootseal: error: ".len() + 5, "{what}: empty message {err:?}");
    assert!(stdout(out).is_empty(), "{what}: stdout is not empty:\n{}", describe(out));
}

struct Fixture {
    dir: TempDir,
    data: PathBuf,
    hash: PathBuf,
}

impl Fixture {
    fn new(data_len: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.img");
        fs::write(&data, pseudo_random(data_len as u64, data_len)).unwrap();
        let hash = dir.path().join("hash.img");
        Fixture { dir, data, hash }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn d(&self) -> &str {
        self.data.to_str().unwrap()
    }

    fn h(&self) -> &str {
        self.hash.to_str().unwrap()
    }

    /// Formats with the fixed salt (and `extra`), returns the root hash from --json.
    fn format(&self, extra: &[&str]) -> String {
        let mut args = vec!["verity", "format", self.d(), self.h(), "--salt", SALT, "--json"];
        args.extend_from_slice(extra);
        let out = rootseal(&args);
        expect_code(&out, 0, "format");
        json(&out)["root_hash"].as_str().unwrap().to_string()
    }
}

fn json(out: &Output) -> serde_json::Value {
    let text = stdout(out);
    assert_eq!(text.trim_end().lines().count(), 1, "--json must print exactly one line:\n{text}");
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"));
    assert!(value.is_object(), "not a JSON object: {value}");
    value
}

/// The `verify --json` object without its `hashed_by` member, after checking that member
/// names one of our own backends (FIPS mode is off in these tests).
fn verify_json(out: &Output) -> serde_json::Value {
    let mut value = json(out);
    let hashed_by = value.as_object_mut().unwrap().remove("hashed_by").expect("hashed_by is reported");
    let backend = hashed_by["backend"].as_str().unwrap_or_default();
    assert!(["avx512", "shani", "portable", "openssl"].contains(&backend), "{hashed_by}");
    value
}

fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn flip(path: &Path, offset: u64) {
    let file = fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, offset).unwrap();
    byte[0] ^= 0x01;
    file.write_all_at(&byte, offset).unwrap();
}

// ---------------------------------------------------------------------------------------
// format
// ---------------------------------------------------------------------------------------

#[test]
fn format_prints_a_root_hash_line() {
    let fx = Fixture::new(300 * 4096);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--uuid", UUID]);
    expect_code(&out, 0, "format");
    let text = stdout(&out);
    let line =
        text.lines().find(|l| l.starts_with("Root hash:")).unwrap_or_else(|| panic!("no Root hash line:\n{text}"));
    let rest = &line["Root hash:".len()..];
    assert!(rest.starts_with(|c: char| c.is_whitespace()), "{line:?}");
    let root = rest.trim();
    assert_eq!(root.len(), 64, "{line:?}");
    assert!(is_lower_hex(root), "{line:?}");
    // The printed root hash is the one verify accepts, and the JSON output agrees.
    expect_code(&rootseal(&["verity", "verify", fx.d(), fx.h(), root]), 0, "verify with the printed root");
    assert_eq!(fx.format(&["--uuid", UUID]), root);
    assert!(text.contains(&format!("UUID:            \t{UUID}")), "{text}");
}

#[test]
fn format_json_has_the_documented_keys() {
    let fx = Fixture::new(300 * 4096);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--uuid", UUID, "--json"]);
    expect_code(&out, 0, "format --json");
    let v = json(&out);
    for key in [
        "root_hash",
        "salt",
        "hash_algorithm",
        "data_block_size",
        "hash_block_size",
        "data_blocks",
        "hash_type",
        "hash_offset",
        "uuid",
    ] {
        assert!(v.get(key).is_some(), "key {key} missing in {v}");
    }
    assert!(is_lower_hex(v["root_hash"].as_str().unwrap()) && v["root_hash"].as_str().unwrap().len() == 64, "{v}");
    assert_eq!(v["salt"], SALT);
    assert_eq!(v["hash_algorithm"], "sha256");
    assert_eq!(v["data_block_size"], 4096);
    assert_eq!(v["hash_block_size"], 4096);
    assert_eq!(v["data_blocks"], 300);
    assert_eq!(v["hash_type"], 1);
    assert_eq!(v["hash_offset"], 0);
    assert_eq!(v["uuid"], UUID);

    let out = rootseal(&[
        "verity",
        "format",
        fx.d(),
        fx.path("other.hash").to_str().unwrap(),
        "--salt=-",
        "--no-superblock",
        "--hash=sha512",
        "--format=0",
        "--data-block-size=1024",
        "--hash-block-size=512",
        "--hash-offset=8192",
        "--json",
    ]);
    expect_code(&out, 0, "format --no-superblock --json");
    let v = json(&out);
    assert!(v["uuid"].is_null(), "uuid must be null without a superblock: {v}");
    assert_eq!(v["salt"], "");
    assert_eq!(v["hash_algorithm"], "sha512");
    assert_eq!(v["root_hash"].as_str().unwrap().len(), 128);
    assert_eq!(v["data_blocks"], 1200);
    assert_eq!((v["data_block_size"].clone(), v["hash_block_size"].clone()), (1024.into(), 512.into()));
    assert_eq!(v["hash_type"], 0);
    assert_eq!(v["hash_offset"], 8192);
}

#[test]
fn format_defaults_draw_a_random_salt_and_uuid() {
    let fx = Fixture::new(8 * 4096);
    let run = |hash: &str| {
        let out = rootseal(&["verity", "format", fx.d(), hash, "--json"]);
        expect_code(&out, 0, "format with defaults");
        json(&out)
    };
    let a = run(fx.h());
    let b = run(fx.path("b.hash").to_str().unwrap());
    let salt = a["salt"].as_str().unwrap();
    assert_eq!(salt.len(), 64, "32-byte default salt: {a}");
    assert!(is_lower_hex(salt));
    assert_ne!(a["salt"], b["salt"], "salts must be random");
    let uuid = a["uuid"].as_str().unwrap();
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
    assert_ne!(a["uuid"], b["uuid"], "UUIDs must be random");
    assert_ne!(a["root_hash"], b["root_hash"]);
    // Whatever was drawn is in the superblock: verify needs only the root hash.
    expect_code(&rootseal(&["verity", "verify", fx.d(), fx.h(), a["root_hash"].as_str().unwrap()]), 0, "verify");
}

#[test]
fn format_and_verify_accept_one_file_for_data_and_hash() {
    let fx = Fixture::new(64 * 4096);
    let original = fs::read(&fx.data).unwrap();
    let offset = (64 * 4096).to_string();
    let out = rootseal(&["verity", "format", fx.d(), fx.d(), "--salt", SALT, "--hash-offset", &offset, "--json"]);
    expect_code(&out, 0, "same-file format");
    let v = json(&out);
    assert_eq!(v["hash_offset"], 64 * 4096);
    assert_eq!(v["data_blocks"], 64);
    let root = v["root_hash"].as_str().unwrap().to_string();
    let after = fs::read(&fx.data).unwrap();
    assert_eq!(&after[..original.len()], &original[..], "the data area changed");
    assert_eq!(after.len(), original.len() + 2 * 4096, "superblock block and one tree block appended");
    assert_eq!(&after[original.len()..original.len() + 8], b"verity\0\0");

    let verify = |extra: &[&str]| {
        let mut args = vec!["verity", "verify", fx.d(), fx.d(), &root, "--hash-offset", &offset];
        args.extend_from_slice(extra);
        rootseal(&args)
    };
    expect_code(&verify(&[]), 0, "same-file verify");
    flip(&fx.data, 10 * 4096 + 1);
    let out = verify(&["--json"]);
    expect_code(&out, 1, "same-file verify of a damaged data block");
    assert_eq!(
        verify_json(&out),
        serde_json::json!({"ok": false, "corrupted_data_blocks": [10], "corrupted_hash_blocks": [], "root_hash_mismatch": false})
    );
}

#[test]
fn uncovered_tail_is_warned_about() {
    let fx = Fixture::new(10 * 4096 + 123);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--json"]);
    expect_code(&out, 0, "format with a partial last block");
    assert_eq!(json(&out)["data_blocks"], 10);
    let err = stderr(&out);
    assert!(err.contains("warning"), "{err}");
    assert!(err.contains("not covered"), "{err}");
    assert!(err.contains("123"), "the warning should say how many bytes: {err}");
    assert_no_panic(&out, "tail warning");
}

#[test]
fn sha1_is_warned_about() {
    let fx = Fixture::new(10 * 4096);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--hash", "sha1"]);
    expect_code(&out, 0, "sha1 format");
    let err = stderr(&out);
    assert!(err.contains("warning") && err.contains("sha1"), "no sha1 warning: {err:?}");
    // sha256 with the same data gives no such warning.
    let out = rootseal(&["verity", "format", fx.d(), fx.path("h2").to_str().unwrap(), "--salt", SALT]);
    expect_code(&out, 0, "sha256 format");
    assert!(!stderr(&out).contains("sha1"));
}

#[test]
fn data_blocks_larger_than_a_page_are_warned_about() {
    let fx = Fixture::new(4 * 65536);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--data-block-size", "65536"]);
    expect_code(&out, 0, "format with 64 KiB data blocks");
    let err = stderr(&out);
    assert!(err.contains("warning") && err.contains("page size"), "{err:?}");
}

/// stderr is a pipe here, so no progress bar may be drawn: a plain successful format
/// and verify are silent on stderr.
#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let fx = Fixture::new(16 << 20);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--hash", "sha256"]);
    expect_code(&out, 0, "format");
    assert!(out.stderr.is_empty(), "stderr must be empty:\n{}", describe(&out));
    let root = fx.format(&[]);
    let out = rootseal(&["verity", "verify", fx.d(), fx.h(), &root]);
    expect_code(&out, 0, "verify");
    assert!(out.stderr.is_empty(), "stderr must be empty:\n{}", describe(&out));
}

// ---------------------------------------------------------------------------------------
// Validation errors: exit 2, one line, nothing written
// ---------------------------------------------------------------------------------------

/// Runs a format that must be refused, twice: with no hash file (it must not appear)
/// and with an existing one (it must stay byte-for-byte the same). The data file and
/// the root hash file must not change either.
fn expect_refused_format(data_len: usize, args: &[&str], same_file: bool, what: &str) {
    for preexisting in [false, true] {
        if same_file && preexisting {
            break; // the data file is the pre-existing hash file
        }
        let fx = Fixture::new(data_len);
        let original = fs::read(&fx.data).unwrap();
        let old_hash = pseudo_random(99, 3 * 4096 + 17);
        if preexisting && !same_file {
            fs::write(&fx.hash, &old_hash).unwrap();
        }
        let root_file = fx.path("root.hex");
        let hash = if same_file { fx.d() } else { fx.h() };
        let mut full = vec!["verity", "format", fx.d(), hash];
        full.extend_from_slice(args);
        let root_arg = format!("--root-hash-file={}", root_file.display());
        full.push(&root_arg);
        let out = rootseal(&full);
        let ctx = format!("{what} (hash file pre-existing: {preexisting})");
        expect_one_line_error(&out, &ctx);
        assert_eq!(fs::read(&fx.data).unwrap(), original, "{ctx}: data file changed");
        assert!(!root_file.exists(), "{ctx}: root hash file created");
        if !same_file {
            if preexisting {
                assert_eq!(fs::read(&fx.hash).unwrap(), old_hash, "{ctx}: existing hash file changed");
            } else {
                assert!(!fx.hash.exists(), "{ctx}: hash file created");
            }
        }
        let entries: Vec<_> = fs::read_dir(fx.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries.len(), if preexisting && !same_file { 2 } else { 1 }, "{ctx}: stray files {entries:?}");
    }
}

#[test]
fn invalid_block_sizes_are_refused_without_writing() {
    for size in ["3000", "256", "1048576", "0", "511", "1536", "1048575"] {
        for flag in ["--data-block-size", "--hash-block-size"] {
            let arg = format!("{flag}={size}");
            expect_refused_format(64 * 4096, &["--salt", SALT, &arg], false, &arg);
        }
    }
}

#[test]
fn invalid_salts_are_refused_without_writing() {
    let long = "ab".repeat(257);
    let longest = "ab".repeat(256);
    expect_refused_format(8 * 4096, &["--salt", &long], false, "257-byte salt");
    expect_refused_format(8 * 4096, &["--salt", "abc"], false, "odd-length salt");
    expect_refused_format(8 * 4096, &["--salt", "zz"], false, "non-hex salt");
    // 256 bytes is the limit and is fine.
    let fx = Fixture::new(8 * 4096);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", &longest, "--json"]);
    expect_code(&out, 0, "256-byte salt");
    assert_eq!(json(&out)["salt"], longest.as_str());
}

#[test]
fn misaligned_hash_offsets_are_refused_without_writing() {
    expect_refused_format(8 * 4096, &["--salt", SALT, "--hash-offset=1000"], false, "offset not a multiple of 512");
    expect_refused_format(
        8 * 4096,
        &["--salt", SALT, "--hash-offset=1050624", "--no-superblock"],
        false,
        "no superblock, offset not a multiple of the hash block size",
    );
    // The layout from the format notes where veritysetup overwrites the end of the data.
    expect_refused_format(
        2052 * 512,
        &[
            "--salt=-",
            "--data-block-size=512",
            "--hash-block-size=4096",
            "--data-blocks=2052",
            "--hash-offset=1050624",
            "--no-superblock",
        ],
        true,
        "same file, no superblock, offset 1050624 with 4096-byte hash blocks",
    );
}

#[test]
fn overlapping_same_file_layouts_are_refused_without_writing() {
    expect_refused_format(8 * 4096, &["--salt", SALT], true, "same file, hash offset 0");
    expect_refused_format(8 * 4096, &["--salt", SALT, "--hash-offset=4096"], true, "same file, offset inside the data");
    expect_refused_format(
        8 * 4096,
        &["--salt", SALT, "--hash-offset=16384", "--data-blocks=5"],
        true,
        "same file, --data-blocks reaching past the offset",
    );
}

#[test]
fn bad_data_block_counts_are_refused_without_writing() {
    expect_refused_format(8 * 4096, &["--salt", SALT, "--data-blocks=9"], false, "--data-blocks beyond the file");
    expect_refused_format(0, &["--salt", SALT], false, "empty data file");
    expect_refused_format(4095, &["--salt", SALT], false, "data file shorter than one block");
    expect_refused_format(8 * 4096, &["--salt", SALT, "--data-blocks=18446744073709551615"], false, "u64::MAX blocks");
    // 2^52 + 1 blocks of 4096 bytes is just past 2^64 bytes.
    expect_refused_format(8 * 4096, &["--salt", SALT, "--data-blocks=4503599627370497"], false, "data size overflow");
    expect_refused_format(
        8 * 4096,
        &["--salt", SALT, "--data-blocks=4503599627370497", "--no-superblock"],
        false,
        "data size overflow without superblock",
    );
}

/// veritysetup reads `--data-blocks=0` as "every whole block of the device"; so do we.
#[test]
fn zero_data_blocks_means_the_whole_device() {
    let fx = Fixture::new(8 * 4096);
    let out = rootseal(&["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--data-blocks=0", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["data_blocks"], 8);
}

#[test]
fn other_bad_parameters_are_refused_without_writing() {
    expect_refused_format(8 * 4096, &["--salt", SALT, "--hash=md5"], false, "unsupported algorithm");
    expect_refused_format(8 * 4096, &["--salt", SALT, "--format=2"], false, "hash type 2");
    expect_refused_format(8 * 4096, &["--salt", SALT, "--uuid=not-a-uuid"], false, "bad UUID");
    expect_refused_format(
        8 * 4096,
        &["--salt", SALT, "--uuid=0c6f7a8e-21d4-4b7e-9a3c-5d6e7f809a1"],
        false,
        "short UUID",
    );
}

#[test]
fn nonexistent_data_file_is_refused_without_writing() {
    let fx = Fixture::new(4096);
    let missing = fx.path("missing.img");
    let out = rootseal(&["verity", "format", missing.to_str().unwrap(), fx.h(), "--salt", SALT]);
    expect_one_line_error(&out, "format of a missing data file");
    assert!(!fx.hash.exists(), "hash file created for a missing data file");
}

// ---------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------

#[test]
fn verify_exit_codes_and_json_name_the_block() {
    // 300 blocks: tree = superblock block 0, top block 1, leaf blocks 2..=4.
    let fx = Fixture::new(300 * 4096);
    let root = fx.format(&["--uuid", UUID]);
    let verify = |extra: &[&str]| {
        let mut args = vec!["verity", "verify", fx.d(), fx.h(), &root];
        args.extend_from_slice(extra);
        rootseal(&args)
    };
    let out = verify(&[]);
    expect_code(&out, 0, "intact");
    assert!(out.stderr.is_empty(), "{}", describe(&out));
    let out = verify(&["--json"]);
    expect_code(&out, 0, "intact --json");
    assert_eq!(
        verify_json(&out),
        serde_json::json!({"ok": true, "corrupted_data_blocks": [], "corrupted_hash_blocks": [], "root_hash_mismatch": false})
    );
    // Upper-case hex is accepted too.
    expect_code(&rootseal(&["verity", "verify", fx.d(), fx.h(), &root.to_uppercase()]), 0, "upper-case root hash");

    flip(&fx.data, 137 * 4096 + 4000);
    let out = verify(&["--json"]);
    expect_code(&out, 1, "damaged data block");
    assert_eq!(
        verify_json(&out),
        serde_json::json!({"ok": false, "corrupted_data_blocks": [137], "corrupted_hash_blocks": [], "root_hash_mismatch": false})
    );
    let out = verify(&[]);
    expect_code(&out, 1, "damaged data block, text");
    assert!(stdout(&out).contains("137"), "{}", describe(&out));
    flip(&fx.data, 137 * 4096 + 4000);

    flip(&fx.hash, 3 * 4096 + 64);
    let out = verify(&["--json"]);
    expect_code(&out, 1, "damaged leaf hash block");
    assert_eq!(
        verify_json(&out),
        serde_json::json!({"ok": false, "corrupted_data_blocks": [], "corrupted_hash_blocks": [3], "root_hash_mismatch": false})
    );
    flip(&fx.hash, 3 * 4096 + 64);

    flip(&fx.hash, 2 * 4096 - 1);
    let out = verify(&["--json"]);
    expect_code(&out, 1, "non-zero padding in the top hash block");
    assert_eq!(
        verify_json(&out),
        serde_json::json!({"ok": false, "corrupted_data_blocks": [], "corrupted_hash_blocks": [1], "root_hash_mismatch": false})
    );
    flip(&fx.hash, 2 * 4096 - 1);

    // A well-formed but wrong root hash is not corruption: no block is blamed, and the
    // tree's own root hash is named.
    let mut wrong = root.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let out = rootseal(&["verity", "verify", fx.d(), fx.h(), &wrong, "--json"]);
    expect_code(&out, 1, "wrong root hash");
    assert_eq!(
        verify_json(&out),
        serde_json::json!({"ok": false, "corrupted_data_blocks": [], "corrupted_hash_blocks": [],
            "root_hash_mismatch": true, "tree_root_hash": root})
    );
    let out = rootseal(&["verity", "verify", fx.d(), fx.h(), &wrong]);
    expect_code(&out, 1, "wrong root hash, text");
    assert_eq!(
        stdout(&out),
        format!(
            "Verification failed: root hash mismatch: the tree is intact but its root hash is {root}, not {wrong}.\n"
        )
    );
    assert!(!stdout(&out).contains("corrupted"), "{}", describe(&out));

    // The root hash can come from a file.
    let root_file = fx.path("root.hex");
    fs::write(&root_file, &root).unwrap();
    let arg = format!("--root-hash-file={}", root_file.display());
    expect_code(&rootseal(&["verity", "verify", fx.d(), fx.h(), &arg]), 0, "--root-hash-file");
    expect_code(&verify(&[]), 0, "intact again");
}

#[test]
fn verify_without_superblock_takes_the_parameters() {
    let fx = Fixture::new(50 * 1024);
    let params = ["--no-superblock", "--hash=sha384", "--data-block-size=1024", "--hash-block-size=512"];
    let root = fx.format(&params);
    let mut args = vec!["verity", "verify", fx.d(), fx.h(), &root, "--salt", SALT];
    args.extend_from_slice(&params);
    expect_code(&rootseal(&args), 0, "no-superblock verify");
    // Without the salt the tree does not match.
    let mut args = vec!["verity", "verify", fx.d(), fx.h(), &root, "--json"];
    args.extend_from_slice(&params);
    let out = rootseal(&args);
    expect_code(&out, 1, "no-superblock verify without the salt");
    assert_eq!(json(&out)["ok"], false);
}

#[test]
fn verify_bad_usage_exits_2() {
    let fx = Fixture::new(20 * 4096);
    let root = fx.format(&[]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["verity", "verify", fx.d(), fx.h(), &root, "--bogus"], "unknown flag"),
        (vec!["verity", "verify", fx.d()], "missing HASH and ROOT"),
        (vec!["verity", "verify"], "no arguments"),
        (vec!["verity", "verify", fx.d(), fx.h(), &root, "extra"], "extra argument"),
        (vec!["verity", "frobnicate"], "unknown subcommand"),
        (vec!["verity"], "missing subcommand"),
        (vec![], "no command at all"),
        (vec!["verity", "format", fx.d()], "format without HASH"),
        (vec!["verity", "format", fx.d(), fx.h(), "--data-block-size=abc"], "non-numeric block size"),
        (vec!["verity", "format", fx.d(), fx.h(), "--hash-block-size=4294967296"], "block size beyond u32"),
    ];
    for (args, what) in cases {
        let out = rootseal(&args);
        expect_code(&out, 2, what);
        assert!(!out.stderr.is_empty(), "{what}: no message");
        assert_no_panic(&out, what);
    }
}

#[test]
fn verify_bad_input_exits_2() {
    let fx = Fixture::new(20 * 4096);
    let root = fx.format(&[]);
    let missing = fx.path("missing.img");
    let missing = missing.to_str().unwrap();
    let not_verity = fx.path("zeros.img");
    fs::write(&not_verity, vec![0u8; 8192]).unwrap();
    let short = &root[..62];
    let long = format!("{root}00");
    let odd = &root[..63];
    let bad_hex = format!("zz{}", &root[2..]);
    let sha512_sized = root.repeat(2);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["verity", "verify", fx.d(), fx.h()], "no root hash"),
        (vec!["verity", "verify", missing, fx.h(), &root], "nonexistent data file"),
        (vec!["verity", "verify", fx.d(), missing, &root], "nonexistent hash file"),
        (vec!["verity", "verify", fx.d(), fx.h(), &bad_hex], "non-hex root hash"),
        (vec!["verity", "verify", fx.d(), fx.h(), odd], "odd-length root hash"),
        (vec!["verity", "verify", fx.d(), fx.h(), short], "31-byte root hash"),
        (vec!["verity", "verify", fx.d(), fx.h(), &long], "33-byte root hash"),
        (vec!["verity", "verify", fx.d(), fx.h(), &sha512_sized], "sha512-sized root hash for sha256"),
        (vec!["verity", "verify", fx.d(), fx.h(), ""], "empty root hash"),
        (vec!["verity", "verify", fx.d(), not_verity.to_str().unwrap(), &root], "hash file without superblock"),
        (vec!["verity", "verify", fx.d(), fx.h(), &root, "--hash=sha512"], "algorithm conflicting with the superblock"),
        (vec!["verity", "verify", fx.d(), fx.h(), &root, "--hash-offset=100"], "misaligned hash offset"),
        (vec!["verity", "dump", not_verity.to_str().unwrap()], "dump of a file without superblock"),
        (vec!["verity", "dump", missing], "dump of a missing file"),
        (vec!["verity", "table", fx.d(), fx.h(), short], "table with a short root hash"),
    ];
    for (args, what) in cases {
        let out = rootseal(&args);
        expect_one_line_error(&out, what);
    }
    // None of that changed anything.
    expect_code(&rootseal(&["verity", "verify", fx.d(), fx.h(), &root]), 0, "still intact");
}

#[test]
fn dump_prints_the_superblock() {
    let fx = Fixture::new(300 * 4096);
    fx.format(&["--uuid", UUID, "--hash=sha512", "--format=0"]);
    let out = rootseal(&["verity", "dump", fx.h(), "--json"]);
    expect_code(&out, 0, "dump --json");
    let v = json(&out);
    assert_eq!(v["uuid"], UUID);
    assert_eq!(v["hash_algorithm"], "sha512");
    assert_eq!(v["hash_type"], 0);
    assert_eq!(v["data_blocks"], 300);
    assert_eq!(v["salt"], SALT);
    assert_eq!(v["hash_blocks"], 6, "300 blocks with 64 sha512 digests per block: 5 leaves + 1 top");
    let out = rootseal(&["verity", "dump", fx.h()]);
    expect_code(&out, 0, "dump");
    let text = stdout(&out);
    assert!(text.contains(&format!("UUID:            \t{UUID}")) && text.contains("Hash blocks:     \t6"), "{text}");
}

/// A directory as DATA is bad input: exit 2 and no hash file. Today the checks pass
/// (a directory has a non-zero metadata size), the hash file is created, and only the
/// memory map of the data fails ("No such device"), leaving an empty hash file behind.
#[test]
fn directory_as_data_is_refused_without_writing() {
    let fx = Fixture::new(4096);
    let data_dir = fx.path("a-directory");
    fs::create_dir(&data_dir).unwrap();
    fs::write(data_dir.join("f"), vec![1u8; 3 * 4096]).unwrap();
    let out = rootseal(&["verity", "format", data_dir.to_str().unwrap(), fx.h(), "--salt", SALT]);
    expect_one_line_error(&out, "directory as DATA");
    assert!(!fx.hash.exists(), "hash file created for a directory as DATA");
}

// ---------------------------------------------------------------------------------------
// output that cannot be written, diagnostics, limits
// ---------------------------------------------------------------------------------------

fn rootseal_to(args: &[&str], stdout: std::process::Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(stdout)
        .output()
        .expect("running the rootseal binary")
}

/// A verdict must survive a closed or full stdout: `verify … | head -1` and
/// `verify … > /dev/full` still exit 1 for corruption and 0 for an intact image.
#[test]
fn verify_exit_code_survives_unwritable_stdout() {
    let fx = Fixture::new(64 * 4096);
    let root = fx.format(&[]);
    let full = || std::process::Stdio::from(fs::File::options().write(true).open("/dev/full").unwrap());
    let out = rootseal_to(&["verity", "verify", fx.d(), fx.h(), &root], full());
    expect_code(&out, 0, "intact image, stdout /dev/full");
    assert_no_panic(&out, "intact image, stdout /dev/full");

    let file = fs::File::options().write(true).open(&fx.data).unwrap();
    file.write_all_at(b"\xff\xff", 5 * 4096).unwrap();
    let out = rootseal_to(&["verity", "verify", fx.d(), fx.h(), &root], full());
    expect_code(&out, 1, "corrupted image, stdout /dev/full");
    assert_no_panic(&out, "corrupted image, stdout /dev/full");

    // A pipe whose reader has gone away.
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(["verity", "verify", fx.d(), fx.h(), &root])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    expect_code(&out, 1, "corrupted image, closed pipe");
    assert_no_panic(&out, "corrupted image, closed pipe");
}

/// When stdout is full, format fails (exit 2) but the tree's root hash still reaches
/// the --root-hash-file.
#[test]
fn format_keeps_the_root_hash_file_when_stdout_fails() {
    let fx = Fixture::new(16 * 4096);
    let root_file = fx.path("root.hex");
    let full = fs::File::options().write(true).open("/dev/full").unwrap();
    let out = rootseal_to(
        &["verity", "format", fx.d(), fx.h(), "--salt", SALT, "--root-hash-file", root_file.to_str().unwrap()],
        full.into(),
    );
    expect_code(&out, 2, "format with stdout /dev/full");
    assert_no_panic(&out, "format with stdout /dev/full");
    let expected = fx.format(&[]);
    assert_eq!(fs::read_to_string(&root_file).unwrap(), expected);
}

#[test]
fn wrong_root_hash_and_wrong_salt_are_diagnosed() {
    let fx = Fixture::new(300 * 4096);
    let root = fx.format(&["--no-superblock"]);
    let mut wrong = root.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let out = rootseal(&[
        "verity",
        "verify",
        fx.d(),
        fx.h(),
        std::str::from_utf8(&wrong).unwrap(),
        "--no-superblock",
        "--salt",
        SALT,
    ]);
    expect_code(&out, 1, "wrong root hash");
    assert!(stdout(&out).contains("root hash mismatch: the tree is intact"), "{}", describe(&out));

    let out = rootseal(&["verity", "verify", fx.d(), fx.h(), &root, "--no-superblock", "--salt", "00"]);
    expect_code(&out, 1, "wrong salt");
    assert!(stderr(&out).contains("probably not the ones the tree was built with"), "{}", describe(&out));
}

/// More threads than cores are capped, not spawned.
#[test]
fn thread_count_is_capped() {
    let fx = Fixture::new(256 * 4096);
    let root = fx.format(&["--threads", "100000"]);
    assert_eq!(root, fx.format(&["--threads", "1"]));
}

#[test]
fn endless_root_hash_file_is_refused() {
    let fx = Fixture::new(8 * 4096);
    fx.format(&[]);
    let out = rootseal(&["verity", "verify", fx.d(), fx.h(), "--root-hash-file", "/dev/zero"]);
    expect_one_line_error(&out, "--root-hash-file /dev/zero");
}

/// On a terminal the progress bar appears on stderr (`script` gives the command a pty);
/// stdout still carries the report.
#[test]
fn progress_bar_shows_on_a_terminal() {
    let fx = Fixture::new(4096 * 4096);
    let log = fx.path("typescript");
    let report = fx.path("report.txt");
    let command = format!(
        "{} verity format {} {} --salt {SALT} > {}",
        env!("CARGO_BIN_EXE_rootseal"),
        fx.d(),
        fx.h(),
        report.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, log.to_str().unwrap()])
        .output()
        .expect("script (bsdutils) runs the command on a pty");
    expect_code(&out, 0, "format under script");
    let terminal = String::from_utf8_lossy(&fs::read(&log).unwrap()).into_owned();
    assert!(terminal.contains("format [") && terminal.contains("MiB"), "no progress bar on the pty:\n{terminal}");
    assert!(fs::read_to_string(&report).unwrap().contains("Root hash:"));
}

// ---------------------------------------------------------------------------------------
// read
// ---------------------------------------------------------------------------------------

/// `verity read` over a veritysetup tree: the data comes back byte for byte (whole, a
/// range, into a file); a flipped block (which veritysetup verify refuses too) stops the
/// copy before it with exit 1 and its number; a FIFO is refused with exit 2.
#[test]
fn read_copies_verified_data_and_stops_before_a_refused_block() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data.img");
    let hash = dir.path().join("hash.img");
    let bytes = pseudo_random(21, 64 * 4096);
    fs::write(&data, &bytes).unwrap();
    let formatted =
        Command::new("veritysetup").args(["format", "--salt", SALT]).arg(&data).arg(&hash).output().unwrap();
    assert!(formatted.status.success(), "{}", describe(&formatted));
    let root = common::parse_root_hash(&formatted.stdout);
    let (d, h) = (data.to_str().unwrap(), hash.to_str().unwrap());

    let out = rootseal(&["verity", "read", d, h, &root]);
    expect_code(&out, 0, "read");
    assert!(out.stdout == bytes, "read gave other bytes");
    let out = rootseal(&["verity", "read", d, h, &root, "--range", "5000:10000"]);
    expect_code(&out, 0, "read --range");
    assert!(out.stdout == bytes[5000..15000], "read --range gave other bytes");
    let copy = dir.path().join("copy");
    expect_code(&rootseal(&["verity", "read", d, h, &root, "-o", copy.to_str().unwrap()]), 0, "read -o");
    assert!(fs::read(&copy).unwrap() == bytes);

    flip(&data, 4096 * 30 + 7);
    let vs = Command::new("veritysetup").arg("verify").arg(&data).arg(&hash).arg(&root).output().unwrap();
    assert!(!vs.status.success(), "veritysetup accepts the flipped image");
    let out = rootseal(&["verity", "read", d, h, &root]);
    expect_code(&out, 1, "read of a flipped image");
    assert_no_panic(&out, "read of a flipped image");
    assert!(out.stdout == bytes[..4096 * 30], "not exactly the bytes before block 30");
    assert!(stderr(&out).contains("data block 30"), "{}", describe(&out));

    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    expect_one_line_error(&rootseal(&["verity", "read", fifo.to_str().unwrap(), h, &root]), "read of a FIFO");
}

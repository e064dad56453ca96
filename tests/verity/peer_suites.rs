//! Upstream cryptsetup behaviour that `rootseal verity` must share, checked against the
//! installed veritysetup:
//!
//! - the kernel table line for every activation flag veritysetup maps to a table option,
//!   word for word with the line libcryptsetup itself builds (read through
//!   `tests/c/dmshim.c`, an LD_PRELOAD stand-in for libdevmapper, since this machine has
//!   no device-mapper);
//! - options before the verb, as cryptsetup's own `tests/verity-compat-test` calls it
//!   (its checkOffsetBug and checkOverlapBug cases).

use crate::common;

use common::{describe, parse_root_hash, pseudo_random, veritysetup};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SALT: &str = "0011223344556677";
const UUID: &str = "11111111-2222-3333-4444-555555555555";

fn rootseal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal")).args(args).output().unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Builds the shim into `dir`.
fn dmshim(dir: &Path) -> PathBuf {
    let shim = dir.join("dmshim.so");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/dmshim.c");
    let out = Command::new("cc").args(["-shared", "-fPIC", "-o", s(&shim), s(&source)]).output().unwrap();
    assert!(out.status.success(), "building the dm shim: {}", describe(&out));
    shim
}

/// The table line libcryptsetup builds for `veritysetup open` with `flags`, or None when
/// veritysetup refuses the flags before building one.
fn libcryptsetup_table(shim: &Path, data: &Path, hash: &Path, root: &str, flags: &[&str]) -> Option<String> {
    let out = Command::new(veritysetup())
        .args(["open", s(data), "rootseal-table-probe", s(hash), root])
        .args(flags)
        .env("LD_PRELOAD", shim)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find_map(|l| l.strip_prefix("DMTABLE: ")).map(str::to_string);
    // The shim makes the create itself fail, so a table line and a failure go together.
    assert!(line.is_some() || !out.status.success(), "veritysetup {flags:?}: {}", describe(&out));
    line
}

#[test]
fn table_lines_match_libcryptsetup_for_every_activation_flag() {
    let dir = tempfile::tempdir().unwrap();
    let shim = dmshim(dir.path());
    let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
    std::fs::write(&data, pseudo_random(21, 256 * 4096)).unwrap();
    let out = Command::new(veritysetup())
        .args(["format", s(&data), s(&hash), "--salt", SALT, "--uuid", UUID])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let root = parse_root_hash(&out.stdout);

    let cases: &[&[&str]] = &[
        &[],
        &["--ignore-corruption"],
        &["--restart-on-corruption"],
        &["--panic-on-corruption"],
        &["--ignore-corruption", "--panic-on-corruption"],
        &["--ignore-zero-blocks"],
        &["--check-at-most-once"],
        &["--use-tasklets"],
        &["--ignore-zero-blocks", "--check-at-most-once", "--use-tasklets"],
        &["--restart-on-corruption", "--ignore-zero-blocks", "--check-at-most-once", "--use-tasklets"],
        &["--panic-on-corruption", "--check-at-most-once"],
        &["--ignore-corruption", "--use-tasklets", "--ignore-zero-blocks"],
        // veritysetup refuses these two pairs.
        &["--ignore-corruption", "--restart-on-corruption"],
        &["--panic-on-corruption", "--restart-on-corruption"],
    ];
    for flags in cases {
        let theirs = libcryptsetup_table(&shim, &data, &hash, &root, flags);
        // Our line for the devices libcryptsetup named (major:minor of its loop devices).
        let devices: Vec<String> = match &theirs {
            Some(line) => line.split(' ').skip(4).take(2).map(str::to_string).collect(),
            None => vec![s(&data).to_string(), s(&hash).to_string()],
        };
        let mut args = vec!["verity", "table", &devices[0], s(&hash), &root];
        args.extend_from_slice(flags);
        let ours = rootseal(&args);
        match theirs {
            Some(line) => {
                assert!(ours.status.success(), "{flags:?}: {}", describe(&ours));
                let ours = String::from_utf8(ours.stdout).unwrap();
                // libcryptsetup names the hash device by its loop device; we were given
                // the file (its superblock is read from it). Everything else is equal.
                let expected = line.replacen(&format!(" {} ", devices[1]), &format!(" {} ", s(&hash)), 1);
                assert_eq!(ours.trim_end(), expected, "{flags:?}");
            }
            None => {
                assert_eq!(ours.status.code(), Some(2), "{flags:?} is refused: {}", describe(&ours));
                let stderr = String::from_utf8_lossy(&ours.stderr);
                assert!(stderr.contains("cannot be used together"), "{flags:?}: {stderr}");
            }
        }
    }
}

/// `--error-as-corruption` is veritysetup 2.8's (kernel 6.12): it adds `restart_on_error`
/// or `panic_on_error` right after the corruption mode, and 2.8 refuses it without one
/// of them. The installed veritysetup predates it, so the lines are the ones 2.8's
/// `get_dm_verity_params` builds.
#[test]
fn error_as_corruption_follows_veritysetup_2_8() {
    let dir = tempfile::tempdir().unwrap();
    let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
    std::fs::write(&data, pseudo_random(22, 16 * 4096)).unwrap();
    let out = rootseal(&["verity", "format", s(&data), s(&hash), "--salt", SALT, "--uuid", UUID]);
    assert!(out.status.success(), "{}", describe(&out));
    let root = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:").map(|h| h.trim().to_string()))
        .unwrap();
    let table = |flags: &[&str]| {
        let mut args = vec!["verity", "table", "DATA", s(&hash), &root];
        args.extend_from_slice(flags);
        rootseal(&args)
    };
    let tail = |flags: &[&str]| {
        let out = table(flags);
        assert!(out.status.success(), "{flags:?}: {}", describe(&out));
        let line = String::from_utf8(out.stdout).unwrap();
        line.trim_end().split_once(SALT).unwrap().1.to_string()
    };
    assert_eq!(
        tail(&["--restart-on-corruption", "--error-as-corruption"]),
        " 2 restart_on_corruption restart_on_error"
    );
    assert_eq!(
        tail(&["--panic-on-corruption", "--error-as-corruption", "--check-at-most-once"]),
        " 3 panic_on_corruption panic_on_error check_at_most_once"
    );
    assert_eq!(
        tail(&["--ignore-corruption", "--panic-on-corruption", "--error-as-corruption"]),
        " 2 panic_on_corruption panic_on_error"
    );
    for alone in [&["--error-as-corruption"][..], &["--error-as-corruption", "--ignore-corruption"]] {
        let out = table(alone);
        assert_eq!(out.status.code(), Some(2), "{alone:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("restart or the panic"), "{}", describe(&out));
    }
}

/// One sparse image of `size` bytes with options before the verb, as upstream's
/// checkOffsetBug and checkOverlapBug run it: the exit status of each tool, and for a
/// success the hash area both wrote.
fn format_with_options_first(dir: &Path, size: u64, options: &[String]) -> [(bool, Vec<u8>); 2] {
    let run = |tool: &str| {
        let image = dir.join(format!("{tool}.img"));
        let file = std::fs::File::create(&image).unwrap();
        file.set_len(size).unwrap();
        drop(file);
        let mut cmd = if tool == "veritysetup" {
            Command::new(veritysetup())
        } else {
            Command::new(env!("CARGO_BIN_EXE_rootseal"))
        };
        if tool == "rootseal" {
            cmd.arg("verity");
        }
        let fixed = [format!("--salt={SALT}"), format!("--uuid={UUID}")];
        let out = cmd.args(options).args(&fixed).args(["format", s(&image), s(&image)]).output().unwrap();
        let offset: u64 =
            options.iter().find_map(|o| o.strip_prefix("--hash-offset=")).map_or(0, |o| o.parse().unwrap());
        // The superblock and tree of these small data areas fit in the first 64 KiB.
        let tree = if out.status.success() {
            use std::os::unix::fs::FileExt;
            let mut window = vec![0u8; 64 << 10];
            let read = std::fs::File::open(&image).unwrap().read_at(&mut window, offset).unwrap();
            window.truncate(read);
            window
        } else {
            Vec::new()
        };
        std::fs::remove_file(&image).unwrap();
        (out.status.success(), tree)
    };
    [run("veritysetup"), run("rootseal")]
}

#[test]
fn options_before_the_verb_as_verity_compat_test_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    // (size, options, whether upstream requires success)
    let cases: &[(u64, &[&str], Option<bool>)] = &[
        (3_000_000_000, &["--data-blocks=256", "--hash-offset=2499997696"], Some(true)),
        (10_000_000_000, &["--data-blocks=128", "--hash-offset=8000000000"], Some(true)),
        (2_097_152, &["--hash-offset=1433600"], Some(false)),
        (
            2_097_152,
            &["--data-block-size=4096", "--hash-block-size=4096", "--data-blocks=350", "--hash-offset=1433600"],
            None,
        ),
        (
            2_097_152,
            &["--data-block-size=4096", "--hash-block-size=4096", "--data-blocks=350", "--hash-offset=1228800"],
            Some(false),
        ),
        (
            2_097_152,
            &["--data-block-size=4096", "--hash-block-size=4096", "--data-blocks=350", "--hash-offset=0"],
            Some(false),
        ),
        (
            10_240_000,
            &["--data-block-size=512", "--hash-block-size=512", "--data-blocks=400", "--hash-offset=256000"],
            None,
        ),
    ];
    for &(size, options, upstream) in cases {
        let options: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        let [(theirs_ok, theirs), (ours_ok, ours)] = format_with_options_first(dir.path(), size, &options);
        assert_eq!(ours_ok, theirs_ok, "{size} {options:?}: rootseal and veritysetup disagree");
        if let Some(expected) = upstream {
            assert_eq!(ours_ok, expected, "{size} {options:?}: upstream's expectation");
        }
        assert!(ours == theirs, "{size} {options:?}: the hash areas differ");
    }
}

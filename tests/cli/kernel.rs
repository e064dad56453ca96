//! `rootseal kernel usrhash` and `set-usrhash`: the /usr root hash in a kernel image, by
//! GRUB's rule (64 characters of `[0-9a-f]` at byte 0x40 of an x86-64 bzImage or 512 of
//! an arm64 Image, anything else adds nothing to the command line); the hash written is
//! veritysetup's root hash; refusals write nothing.

use crate::common::{describe, parse_root_hash, pseudo_random};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rootseal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal")).arg("kernel").args(args).output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A kernel image of `arch` ("x86_64" or "arm64"): random bytes, its magic, a zeroed
/// usr hash slot. Returns the path and the slot offset.
fn kernel(dir: &Path, arch: &str) -> (PathBuf, usize) {
    let mut bytes = pseudo_random(if arch == "arm64" { 2 } else { 1 }, 256 * 1024);
    let (magic_at, magic, slot): (usize, &[u8], usize) =
        if arch == "arm64" { (0x38, b"ARM\x64", 512) } else { (0x202, b"HdrS", 0x40) };
    bytes[magic_at..magic_at + 4].copy_from_slice(magic);
    bytes[slot..slot + 64].fill(0);
    let path = dir.join(format!("vmlinuz-{arch}"));
    std::fs::write(&path, bytes).unwrap();
    (path, slot)
}

/// The root hash veritysetup gives a small image: the hash a Flatcar build stores.
fn veritysetup_root(dir: &Path) -> String {
    let data = dir.join("usr.img");
    std::fs::write(&data, pseudo_random(3, 64 * 4096)).unwrap();
    let out = Command::new("veritysetup")
        .args(["format", s(&data), s(&dir.join("usr.hash"))])
        .output()
        .expect("veritysetup (cryptsetup-bin) must be installed");
    assert!(out.status.success(), "{}", describe(&out));
    parse_root_hash(&out.stdout)
}

#[test]
fn set_then_read_the_usr_hash_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let root = veritysetup_root(dir.path());
    for arch in ["x86_64", "arm64"] {
        let (image, slot) = kernel(dir.path(), arch);
        let before = std::fs::read(&image).unwrap();

        // A zeroed slot: no hash, GRUB adds nothing, exit 1 and nothing on stdout.
        let out = rootseal(&["usrhash", s(&image)]);
        assert_eq!(code(&out), 1, "{}", describe(&out));
        assert!(out.stdout.is_empty() && String::from_utf8_lossy(&out.stderr).contains("no usr hash"));

        let out = rootseal(&["set-usrhash", s(&image), &root]);
        assert_eq!(code(&out), 0, "{}", describe(&out));
        let after = std::fs::read(&image).unwrap();
        assert_eq!(&after[slot..slot + 64], root.as_bytes(), "{arch}: the slot");
        assert!(after[..slot] == before[..slot] && after[slot + 64..] == before[slot + 64..], "{arch}: other bytes");

        let out = rootseal(&["usrhash", s(&image)]);
        assert_eq!((code(&out), String::from_utf8(out.stdout).unwrap()), (0, format!("{root}\n")));
        let out = rootseal(&["usrhash", s(&image), "--cmdline"]);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), format!(" verity.usrhash={root}\n"));
        let out = rootseal(&["usrhash", s(&image), "--json"]);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["ok"], true);
        assert_eq!(json["arch"], arch);
        assert_eq!(json["offset"], slot);
        assert_eq!(json["usrhash"], root.as_str());
        assert_eq!(json["cmdline"], format!(" verity.usrhash={root}"));

        // A previous hash is replaced without --force.
        let other = "f".repeat(64);
        assert_eq!(code(&rootseal(&["set-usrhash", s(&image), &other, "--arch", arch])), 0);
        assert_eq!(String::from_utf8(rootseal(&["usrhash", s(&image)]).stdout).unwrap(), format!("{other}\n"));
    }
}

/// GRUB's rule: one character outside `[0-9a-f]` (an uppercase letter, a NUL) and the
/// slot is no hash; such a slot is somebody else's bytes, kept unless --force.
#[test]
fn slots_grub_would_ignore_are_no_hash_and_are_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let root = veritysetup_root(dir.path());
    let (image, slot) = kernel(dir.path(), "x86_64");
    for (what, edit) in [("uppercase", b'A'), ("a NUL", 0u8), ("a space", b' ')] {
        let mut bytes = std::fs::read(&image).unwrap();
        bytes[slot..slot + 64].copy_from_slice(root.as_bytes());
        bytes[slot + 17] = edit;
        std::fs::write(&image, &bytes).unwrap();
        let out = rootseal(&["usrhash", s(&image), "--json"]);
        assert_eq!(code(&out), 1, "{what}: {}", describe(&out));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((json["ok"].clone(), json["usrhash"].clone()), (Value::Bool(false), Value::Null), "{what}");

        let out = rootseal(&["set-usrhash", s(&image), &root]);
        assert_eq!(code(&out), 2, "{what}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--force"), "{}", describe(&out));
        assert!(std::fs::read(&image).unwrap() == bytes, "{what}: a refused write changed the image");
        assert_eq!(code(&rootseal(&["set-usrhash", s(&image), &root, "--force"])), 0);
        assert_eq!(String::from_utf8(rootseal(&["usrhash", s(&image)]).stdout).unwrap(), format!("{root}\n"));
    }
}

#[test]
fn refusals_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = veritysetup_root(dir.path());
    let (image, _) = kernel(dir.path(), "x86_64");
    let not_kernel = dir.path().join("initrd");
    std::fs::write(&not_kernel, vec![0u8; 4096]).unwrap();
    let short = dir.path().join("short");
    std::fs::write(&short, b"MZ").unwrap();
    let before = std::fs::read(&image).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["set-usrhash", s(&not_kernel), &root],
        vec!["set-usrhash", s(&short), &root],
        vec!["set-usrhash", s(&image), &root, "--arch", "arm64"],
        vec!["set-usrhash", s(&image), "0123"],
        vec!["set-usrhash", s(&image), "G"],
        vec!["usrhash", s(&not_kernel)],
        vec!["usrhash", s(&image), "--arch", "mips"],
    ];
    let upper = root.to_uppercase();
    let mut cases = cases;
    cases.push(vec!["set-usrhash", s(&image), &upper]);
    for args in &cases {
        let out = rootseal(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("rootseal: error:") || args.contains(&"mips"));
    }
    assert!(std::fs::read(&image).unwrap() == before, "a refused write changed the image");
    assert!(std::fs::read(&not_kernel).unwrap() == vec![0u8; 4096]);
    // Reading with an explicit format looks at its slot whatever the magic says.
    assert_eq!(code(&rootseal(&["usrhash", s(&not_kernel), "--arch", "arm64"])), 1);
}

//! Block devices: two device nodes for one disk are one device, so the overlap guard
//! holds. Needs root and loop devices (CI and the development machines have both); it
//! fails rather than skips without them.

use std::process::Command;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["--detach", &self.0]).status();
    }
}

#[test]
fn overlap_is_caught_through_a_second_device_node() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::write(&image, vec![0x5au8; 64 * 4096]).unwrap();
    let before = std::fs::read(&image).unwrap();
    let dev = Loop(run("losetup", &["--find", "--show", image.to_str().unwrap()]));
    let rdev = run("stat", &["-c", "%t %T", &dev.0]);
    let (major, minor) = rdev.split_once(' ').unwrap();
    let alias = dir.path().join("alias");
    let (major, minor) = (u32::from_str_radix(major, 16).unwrap(), u32::from_str_radix(minor, 16).unwrap());
    run("mknod", &[alias.to_str().unwrap(), "b", &major.to_string(), &minor.to_string()]);

    let out = Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(["verity", "format", &dev.0, alias.to_str().unwrap(), "--salt", "00", "--hash-offset", "131072"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("overlaps"), "{}", String::from_utf8_lossy(&out.stderr));
    drop(dev);
    assert_eq!(std::fs::read(&image).unwrap(), before, "the disk was written");
}

fn rootseal(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal")).args(args).output().unwrap()
}

fn assert_refused_as_overlap(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("overlaps"), "{stderr}");
}

/// Issue 15 item 6: a loop device backed by the other file is the same bytes. Format
/// refuses to write the tree over the data in either order, and with an offset the
/// overlap rule applies to the bytes of the backing file.
#[test]
fn a_loop_device_over_the_other_file_is_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    // 1 MiB of room, then 64 data blocks.
    let mut bytes = vec![0u8; 1 << 20];
    bytes.extend((0..64 * 4096u32).map(|i| (i.wrapping_mul(2654435761) >> 9) as u8));
    std::fs::write(&image, &bytes).unwrap();
    let img = image.to_str().unwrap();

    let whole = Loop(run("losetup", &["--find", "--show", img]));
    let out = rootseal(&["verity", "format", &whole.0, img, "--salt", "00"]);
    assert_refused_as_overlap(&out);
    let out = rootseal(&["verity", "format", img, &whole.0, "--salt", "00"]);
    assert_refused_as_overlap(&out);
    drop(whole);
    assert_eq!(std::fs::read(&image).unwrap(), bytes, "the data was written");

    // The data is the loop device at offset 1 MiB: a hash area inside the first MiB of
    // the file is allowed, one reaching into the data is refused.
    let data = Loop(run("losetup", &["--find", "--show", "--offset", "1048576", img]));
    let out = rootseal(&["verity", "format", &data.0, img, "--salt", "00", "--hash-offset", "1056768"]);
    assert_refused_as_overlap(&out);
    assert_eq!(std::fs::read(&image).unwrap(), bytes, "the data was written");
    let out = rootseal(&["verity", "format", &data.0, img, "--salt", "00"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:").map(|r| r.trim().to_string()))
        .expect("a root hash");
    assert_eq!(std::fs::read(&image).unwrap()[1 << 20..], bytes[1 << 20..], "the data was written");
    // The peer agrees that the tree in the file describes the loop device's bytes.
    let peer = crate::common::veritysetup();
    run(peer.to_str().unwrap(), &["verify", &data.0, img, &root]);
    // And verify through the two names applies the same rule.
    let out = rootseal(&["verity", "verify", &data.0, img, &root]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The same inode under two names (a hard link, a symlink) is one file.
#[test]
fn a_hard_link_or_symlink_to_the_data_is_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("data.img");
    let bytes = vec![0x33u8; 64 * 4096];
    std::fs::write(&image, &bytes).unwrap();
    let link = dir.path().join("link.img");
    std::fs::hard_link(&image, &link).unwrap();
    let symlink = dir.path().join("sym.img");
    std::os::unix::fs::symlink(&image, &symlink).unwrap();
    for alias in [&link, &symlink] {
        let out = rootseal(&["verity", "format", image.to_str().unwrap(), alias.to_str().unwrap(), "--salt", "00"]);
        assert_refused_as_overlap(&out);
    }
    assert_eq!(std::fs::read(&image).unwrap(), bytes);
}

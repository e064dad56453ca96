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

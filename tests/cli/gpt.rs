//! The `rootseal gpt` command-line contract: output checked against sgdisk's view of
//! the same disk, scenarios replayed against cgpt, and the exit codes scripts rely on
//! (0 success, 1 the operation failed, 2 bad usage or bad input).

use crate::gpt_support;

use gpt_support::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rootseal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal")).arg("gpt").args(args).output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn ok(args: &[&str]) -> String {
    let out = rootseal(args);
    assert_eq!(code(&out), 0, "rootseal gpt {args:?}:\n{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

/// A field of `sgdisk -i N` ("First sector: 2048 (at 1024.0 KiB)" → "2048").
fn sgdisk_field(info: &str, label: &str) -> String {
    let line = info.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label} in:\n{info}"));
    line[label.len()..].split_whitespace().next().unwrap().to_string()
}

/// A Flatcar disk as post-install leaves it: USR-A good (P1 S1), USR-B freshly
/// installed (P2 T1), both set through the CLI.
fn flatcar_after_update() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = scratch_dir();
    let image = dir.path().join("flatcar.img");
    disk(DiskSpec::flatcar(512), &image);
    let path = image.to_str().unwrap();
    ok(&["set", path, "-i", "3", "-P", "1", "-S", "1"]);
    ok(&["mark-update", path, "-i", "4"]);
    (dir, image)
}

#[test]
fn show_json_agrees_with_sgdisk() {
    let (_dir, image) = flatcar_after_update();
    let path = image.to_str().unwrap();
    let show = json(&["show", path, "--json"]);
    assert_eq!(show["logical_block_size"], 512);
    assert_eq!(show["disk_guid"], "00000000-0000-0000-0000-000000000001");
    assert_eq!(show["primary"]["valid"], true);
    assert_eq!(show["primary"]["reason"], Value::Null);
    assert_eq!(show["backup"]["valid"], true);
    let partitions = show["partitions"].as_array().unwrap();
    let indexes: Vec<u64> = partitions.iter().map(|p| p["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, USED.map(u64::from));
    for p in partitions {
        let n = p["index"].as_u64().unwrap().to_string();
        let info = String::from_utf8(run_ok("sgdisk", &["-i", &n, path]).stdout).unwrap();
        assert_eq!(p["first_lba"].to_string(), sgdisk_field(&info, "First sector: "));
        assert_eq!(p["last_lba"].to_string(), sgdisk_field(&info, "Last sector: "));
        let unique = sgdisk_field(&info, "Partition unique GUID: ").to_lowercase();
        assert_eq!(p["unique_guid"], unique.as_str());
        let type_guid = sgdisk_field(&info, "Partition GUID code: ").to_lowercase();
        assert_eq!(p["type_guid"], type_guid.as_str());
        let flags = sgdisk_field(&info, "Attribute flags: ");
        assert_eq!(p["attributes"], format!("0x{flags}").as_str());
        let name = info.lines().find_map(|l| l.strip_prefix("Partition name: ")).unwrap().trim_matches('\'');
        assert_eq!(p["name"], name);
    }
    let usr_b = &partitions[3];
    assert_eq!(
        (usr_b["priority"].as_u64(), usr_b["tries"].as_u64(), usr_b["successful"].as_u64()),
        (Some(2), Some(1), Some(0))
    );
    assert_eq!(usr_b["attributes"], "0x0012000000000000");

    let text = ok(&["show", path]);
    assert!(text.contains("primary GPT (header at LBA 1): valid"), "{text}");
    assert!(text.contains("USR-B") && text.contains("0x0012000000000000"), "{text}");
}

#[test]
fn next_prints_index_and_lowercase_partuuid() {
    let (_dir, image) = flatcar_after_update();
    let path = image.to_str().unwrap();
    let next = json(&["next", path, "--json"]);
    let expected: Value = serde_json::json!({
        "index": 4, "partuuid": "e03dd35c-7c2d-4a47-b3fe-27f15780a57c",
        "priority": 2, "tries": 0, "successful": 0, "written": true
    });
    assert_eq!(next, expected);
    let text = ok(&["set", path, "-i", "4", "-T", "1"]) + &ok(&["next", path, "--json"]);
    assert_eq!(
        text,
        "{\"index\":4,\"partuuid\":\"e03dd35c-7c2d-4a47-b3fe-27f15780a57c\",\"priority\":2,\"tries\":0,\"successful\":0,\"written\":true}\n",
        "keys in the documented order"
    );
    assert_eq!(ok(&["next", path]), "3 7130c94a-213a-4e5a-8e26-6cce9662f132\n");
    let again = json(&["next", path, "--json"]);
    assert_eq!(again["written"], false);
}

#[test]
fn exit_codes() {
    let dir = scratch_dir();
    let image = dir.path().join("flatcar.img");
    disk(DiskSpec::flatcar(512), &image);
    let path = image.to_str().unwrap();
    // Nothing bootable yet: the operation fails (1), with a message.
    let out = rootseal(&["next", path]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no bootable partition"));
    // Bad usage and bad input: 2, and nothing written.
    let before = std::fs::read(&image).unwrap();
    for args in [
        &["set", path, "-i", "4", "-P", "16"][..],
        &["set", path, "-i", "4", "-T", "300"],
        &["set", path, "-i", "4", "-S", "2"],
        &["set", path, "-i", "0", "-P", "1"],
        &["set", path, "-i", "129", "-P", "1"],
        &["set", path, "-i", "8", "-P", "1"],
        &["prioritize", path, "-i", "4", "-P", "0"],
        &["prioritize", path, "-i", "1"],
        &["prioritize", path, "-f"],
        &["mark-good", path, "-i", "4", "--type", "bogus"],
        &["mark-good", path, "-i", "9"],
        &["show", "/nonexistent.img"],
        &["show", path, "--block-size", "1024"],
        &["frobnicate", path],
        &["set", path],
    ] {
        let out = rootseal(args);
        assert_eq!(code(&out), 2, "{args:?}:\n{}", describe(&out));
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
    assert!(std::fs::read(&image).unwrap() == before, "a refused command wrote to the disk");

    // A damaged copy: set and prioritize refuse as cgpt add does (1); repair fixes it;
    // mark-update repairs as it goes.
    let mut damaged = before.clone();
    damaged[512 + 60] ^= 1;
    std::fs::write(&image, &damaged).unwrap();
    let out = rootseal(&["set", path, "-i", "4", "-P", "1"]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `rootseal gpt repair` first"));
    assert!(!cgpt(&image, 512, &["add", "-i", "4", "-P", "1"]).status.success(), "cgpt add refuses too");
    let show = json(&["show", path, "--json"]);
    assert_eq!(show["primary"]["valid"], false);
    assert!(show["primary"]["reason"].as_str().unwrap().contains("CRC"), "{show}");
    assert_eq!(ok(&["repair", path]), "primary GPT rebuilt from the backup\n");
    assert!(std::fs::read(&image).unwrap() == before, "repair did not restore the exact bytes");
    assert_eq!(ok(&["repair", path]), "nothing to repair\n");

    // Both copies damaged: nothing to trust, so every command fails as on malformed
    // input (2) and repair refuses.
    let last = damaged.len() - 512;
    damaged[last + 60] ^= 1;
    std::fs::write(&image, &damaged).unwrap();
    for args in [&["show", path][..], &["repair", path], &["next", path], &["mark-good", path, "-i", "3"]] {
        let out = rootseal(args);
        assert_eq!(code(&out), 2, "{args:?}:\n{}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no valid GPT"));
    }
    assert!(std::fs::read(&image).unwrap() == damaged);
    // show still says why, on stdout, before failing.
    let out = rootseal(&["show", path, "--json"]);
    assert_eq!(code(&out), 2);
    let broken: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(broken["primary"]["valid"], false);
    assert_eq!(broken["ok"], false);
    assert_eq!(broken["error"]["kind"], "bad_input", "{broken}");
    assert!(broken["backup"]["reason"].as_str().unwrap().contains("CRC"), "{broken}");
    assert_eq!(broken["partitions"], serde_json::json!([]));
}

/// A scenario typed as a script would type it, on a kernel-type disk, replayed with
/// cgpt on a twin: identical images after each command.
#[test]
fn cli_scenario_matches_cgpt() {
    let dir = scratch_dir();
    let (ours, theirs) = (dir.path().join("ours.img"), dir.path().join("theirs.img"));
    disk(DiskSpec::kernel(512, 128), &ours);
    disk(DiskSpec::kernel(512, 128), &theirs);
    let path = ours.to_str().unwrap();
    let kernel = ["--type", CHROMEOS_KERNEL];
    let steps: [(&[&str], &[&str]); 9] = [
        (&["set", path, "-i", "3", "-P", "1", "-S", "1"], &["add", "-i", "3", "-P", "1", "-S", "1"]),
        (&["set", path, "-i", "5", "-P", "7", "-T", "15"], &["add", "-i", "5", "-P", "7", "-T", "15"]),
        (&["set", path, "-i", "4", "-P", "7"], &["add", "-i", "4", "-P", "7"]),
        (&["prioritize", path, "-i", "4", "-f"], &["prioritize", "-i", "4", "-f"]),
        (&["prioritize", path, "-P", "9"], &["prioritize", "-P", "9"]),
        (&["prioritize", path, "-i", "3", "-P", "2"], &["prioritize", "-i", "3", "-P", "2"]),
        (&["set", path, "-i", "6", "-S", "1", "-T", "3"], &["add", "-i", "6", "-S", "1", "-T", "3"]),
        (&["invalidate", path, "-i", "5"], &["add", "-i", "5", "-P", "0"]),
        (&["prioritize", path], &["prioritize"]),
    ];
    for (ours_args, cgpt_args) in steps {
        let mut args = ours_args.to_vec();
        if matches!(args[0], "prioritize") {
            args.extend(kernel);
        }
        ok(&args);
        let out = cgpt(&theirs, 512, cgpt_args);
        assert!(out.status.success(), "{}", describe(&out));
        assert!(std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(), "differs after {ours_args:?}");
    }
    ok(&["mark-update", path, "-i", "5", "--type", CHROMEOS_KERNEL]);
    with_cgpt(&theirs, 512, Op::MarkUpdate(5));
    ok(&["mark-good", path, "-i", "4", "--type", CHROMEOS_KERNEL]);
    with_cgpt(&theirs, 512, Op::MarkGood(4));
    assert!(std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap());
}

/// Flatcar scripts pass the partition device (`cgpt add -S1 /dev/sda4`); so can ours.
#[test]
fn partition_devices_resolve_to_disk_and_number() {
    let dir = scratch_dir();
    let image = dir.path().join("flatcar.img");
    disk(DiskSpec::flatcar(512), &image);
    {
        let dev = Loop::attach(&image, 512);
        // Partition nodes outlive a failed test unless deleted, even after the detach.
        struct Partitions<'a>(&'a str);
        impl Drop for Partitions<'_> {
            fn drop(&mut self) {
                let _ = run("partx", &["--delete", self.0]);
            }
        }
        let _ = run("partx", &["--delete", &dev.0]);
        run_ok("partx", &["--add", &dev.0]);
        let _partitions = Partitions(&dev.0);
        let usr_b = format!("{}p4", dev.0);
        assert!(Path::new(&usr_b).exists(), "partx made no {usr_b}");
        ok(&["set", &dev.0, "-i", "3", "-P", "1", "-S", "1"]);
        ok(&["mark-update", &usr_b]);
        let show = json(&["show", &dev.0, "--json"]);
        assert_eq!(show["partitions"][3]["attributes"], "0x0012000000000000");
    }
    let show = json(&["show", image.to_str().unwrap(), "--json"]);
    assert_eq!(show["partitions"][3]["attributes"], "0x0012000000000000");
    let out = rootseal(&["mark-update", image.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "an image file is not a partition device:\n{}", describe(&out));
}

/// 4096-byte logical blocks: detected on an image, taken from the kernel on a loop
/// device, and a contradicting --block-size is refused.
#[test]
fn four_kib_blocks_by_image_and_by_device() {
    let dir = scratch_dir();
    let image = dir.path().join("4k.img");
    disk(DiskSpec::flatcar(4096), &image);
    let path = image.to_str().unwrap();
    assert_eq!(json(&["show", path, "--json"])["logical_block_size"], 4096);
    let out = rootseal(&["show", path, "--block-size", "512"]);
    assert_eq!(code(&out), 2, "{}", describe(&out));
    let dev = Loop::attach(&image, 4096);
    ok(&["set", &dev.0, "-i", "3", "-P", "1", "-S", "1"]);
    let show = json(&["show", &dev.0, "--json"]);
    assert_eq!(show["logical_block_size"], 4096);
    assert_eq!(show["partitions"][2]["attributes"], "0x0101000000000000");
    let out = rootseal(&["show", &dev.0, "--block-size", "512"]);
    assert_eq!(code(&out), 2, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4096-byte logical blocks"));
}

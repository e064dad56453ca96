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
        "priority": 2, "tries": 0, "successful": 0, "written": true, "fallback": null
    });
    assert_eq!(next, expected);
    let text = ok(&["set", path, "-i", "4", "-T", "1"]) + &ok(&["next", path, "--json"]);
    assert_eq!(
        text,
        "{\"index\":4,\"partuuid\":\"e03dd35c-7c2d-4a47-b3fe-27f15780a57c\",\"priority\":2,\"tries\":0,\"successful\":0,\"written\":true,\"fallback\":null}\n",
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

/// Shrinks an image by one block, as when it is copied to a slightly smaller disk.
fn shrink_by_one_block(image: &Path) {
    let file = std::fs::OpenOptions::new().write(true).open(image).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len - 512).unwrap();
}

/// Issue 15 item 3: the backup no longer fits and partition 9 would be cut, so no
/// repair is possible. `next` still boots the good slot (not the trial, whose try
/// cannot be recorded), warns, and says so in JSON; `repair` refuses as `sgdisk -e` does.
#[test]
fn next_boots_the_good_slot_when_the_table_cannot_be_written() {
    let (_dir, image) = flatcar_after_update();
    let path = image.to_str().unwrap();
    shrink_by_one_block(&image);
    let before = std::fs::read(&image).unwrap();

    let out = rootseal(&["next", path]);
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("3 7130c94a-213a-4e5a-8e26-6cce9662f132"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rootseal: warning:") && stderr.contains("partition 9"), "{stderr}");
    let next = json(&["next", path, "--json"]);
    assert_eq!(next["index"], 3);
    assert_eq!(next["written"], false);
    assert!(next["fallback"].as_str().unwrap().contains("would be cut"), "{next}");
    assert_eq!(std::fs::read(&image).unwrap(), before, "nothing may be written");

    // The peer agrees that this disk cannot be fixed, and so do we.
    let scratch = image.with_extension("sgdisk");
    std::fs::copy(&image, &scratch).unwrap();
    assert!(!run("sgdisk", &["-e", scratch.to_str().unwrap()]).status.success());
    let out = rootseal(&["repair", path]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("partition 9 ends at LBA"), "{}", describe(&out));
    assert_eq!(std::fs::read(&image).unwrap(), before);
}

/// Issue 15 item 3: with every partition still inside, `repair` on a shrunk disk
/// rebuilds the backup at the new end exactly as `sgdisk -e` does, and `next` records
/// the try of the trial slot.
#[test]
fn repair_of_a_shrunk_disk_matches_sgdisk_e() {
    let (dir, image) = flatcar_after_update();
    let path = image.to_str().unwrap();
    run_ok("sgdisk", &["-d", "9", path]);
    shrink_by_one_block(&image);
    let peer = dir.path().join("peer.img");
    std::fs::copy(&image, &peer).unwrap();
    run_ok("sgdisk", &["-e", peer.to_str().unwrap()]);

    let out = rootseal(&["repair", path]);
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert_sgdisk_accepts(&image, 512);
    let ours = std::fs::read(&image).unwrap();
    let theirs = std::fs::read(&peer).unwrap();
    assert_eq!(raw_copies(&ours, 512), raw_copies(&theirs, 512));

    let next = json(&["next", path, "--json"]);
    assert_eq!((next["index"].as_u64(), next["written"].as_bool()), (Some(4), Some(true)));
    assert_eq!(next["fallback"], Value::Null);
}

/// Issue 15 item 13: a partition name with a newline and escape sequences cannot fake a
/// table line in text output; JSON keeps the name exact.
#[test]
fn show_text_escapes_control_characters_in_names() {
    let dir = scratch_dir();
    let image = dir.path().join("names.img");
    disk(DiskSpec::flatcar(512), &image);
    let evil = "A\n  9  FAKE\u{1b}[2J\\";
    let mut bytes = std::fs::read(&image).unwrap();
    edit_entries(&mut bytes, 512, |entries| {
        let name = &mut entries[56..128];
        name.fill(0);
        for (i, unit) in evil.encode_utf16().enumerate() {
            name[2 * i..2 * i + 2].copy_from_slice(&unit.to_le_bytes());
        }
    });
    std::fs::write(&image, &bytes).unwrap();
    let path = image.to_str().unwrap();
    let text = ok(&["show", path]);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("  9  FAKE")), "{text}");
    assert!(text.contains(r"A\n  9  FAKE\u{1b}[2J\\"), "{text}");
    // Disk, MBR, two copies, column titles, then one line per partition: none added.
    assert_eq!(text.lines().count(), 5 + USED.len(), "{text}");
    let show = json(&["show", path, "--json"]);
    assert_eq!(show["partitions"][0]["name"], evil);
}

/// Issue 15 item 10: a valid 4096-byte-block disk (made by sgdisk) with a stray
/// "EFI PART" at byte 512 is read with 4096-byte blocks, since only there a header
/// validates (CRC and MyLBA).
#[test]
fn block_size_detection_skips_a_stray_signature() {
    let dir = scratch_dir();
    let image = dir.path().join("4k.img");
    disk(DiskSpec::flatcar(4096), &image);
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[512..520].copy_from_slice(b"EFI PART");
    bytes[520..524].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    std::fs::write(&image, &bytes).unwrap();
    let show = json(&["show", image.to_str().unwrap(), "--json"]);
    assert_eq!(show["logical_block_size"], 4096);
    assert_eq!(show["primary"]["valid"], true);
    assert_eq!(show["backup"]["valid"], true);
    let indexes: Vec<u64> =
        show["partitions"].as_array().unwrap().iter().map(|p| p["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, USED.map(u64::from));
}

/// Issue 15 item 4: readers take a shared lock, so `show` never sees a table that
/// another process is half-way through writing. Writers loop in other processes while
/// 300 `show` calls must each see two valid copies. No timing is asserted: the count of
/// calls is fixed and the writers stop when the readers are done.
#[test]
fn show_never_sees_a_half_written_table() {
    let (_dir, image) = flatcar_after_update();
    let path = image.to_str().unwrap().to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = [["mark-update", "-i", "4"], ["mark-good", "-i", "3"], ["next", "--json", ""]]
        .into_iter()
        .map(|args| {
            let (done, path) = (done.clone(), path.clone());
            std::thread::spawn(move || {
                let mut runs = 0u32;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut all = vec![args[0], path.as_str()];
                    all.extend(args[1..].iter().filter(|a| !a.is_empty()));
                    let out = rootseal(&all);
                    assert_eq!(code(&out), 0, "{all:?}: {}", describe(&out));
                    runs += 1;
                }
                runs
            })
        })
        .collect();
    let mut bad = Vec::new();
    for _ in 0..300 {
        let out = rootseal(&["show", &path, "--json"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let both_valid = serde_json::from_str::<Value>(&text)
            .is_ok_and(|v| v["primary"]["valid"] == true && v["backup"]["valid"] == true);
        if code(&out) != 0 || !both_valid {
            bad.push(describe(&out));
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs: u32 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(runs > 0);
    assert!(bad.is_empty(), "{} of 300 reads saw a bad table, first:\n{}", bad.len(), bad[0]);
}

/// Issue 15 item 4: the lock follows the device number, so a second node made with
/// mknod for the same loop device is locked too. A writer's exclusive lock held through
/// /dev/loopN makes `show` through the other node report that the disk is locked.
#[test]
fn a_second_device_node_does_not_bypass_the_lock() {
    use std::os::unix::fs::MetadataExt;
    let (dir, image) = flatcar_after_update();
    let device = Loop::attach(&image, 512);
    let rdev = std::fs::metadata(&device.0).unwrap().rdev();
    let (major, minor) = (((rdev >> 8) & 0xfff).to_string(), ((rdev & 0xff) | ((rdev >> 12) & !0xff)).to_string());
    let other = dir.path().join("same-disk");
    let other_path = other.to_str().unwrap();
    run_ok("mknod", &[other_path, "b", &major, &minor]);
    assert_eq!(code(&rootseal(&["show", other_path])), 0, "unlocked, the second node reads");
    let holder = std::fs::File::open(&device.0).unwrap();
    holder.try_lock().unwrap();
    let out = rootseal(&["show", other_path]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked by another process"), "{}", describe(&out));
    holder.unlock().unwrap();
    assert_eq!(code(&rootseal(&["show", other_path])), 0);
}

/// Issue 15 item 16, Flatcar's cgpt on LBA 0. With sectors 0–32 zeroed, repair rebuilds
/// the primary and writes sgdisk's protective MBR again.
#[test]
fn repair_rewrites_a_zeroed_protective_mbr() {
    let dir = scratch_dir();
    let image = dir.path().join("zeroed.img");
    disk(DiskSpec::flatcar(512), &image);
    let original = std::fs::read(&image).unwrap();
    let mut bytes = original.clone();
    bytes[..33 * 512].fill(0);
    std::fs::write(&image, &bytes).unwrap();
    let out = ok(&["repair", image.to_str().unwrap()]);
    assert!(out.contains("primary GPT rebuilt") && out.contains("protective MBR rewritten"), "{out}");
    assert_eq!(std::fs::read(&image).unwrap(), original, "sgdisk's own disk, byte for byte");
    assert_sgdisk_accepts(&image, 512);
}

/// A 1000-sector disk made by sgdisk (`hybrid`: with a hybrid MBR holding partition 1),
/// grown to 2000 sectors.
fn grown_disk(dir: &Path, name: &str, hybrid: bool) -> std::path::PathBuf {
    let image = dir.join(name);
    std::fs::File::create(&image).unwrap().set_len(1000 * 512).unwrap();
    let path = image.to_str().unwrap();
    run_ok(
        "sgdisk",
        &["-a", "1", "-o", "-n", "1:40:400", "-n", "2:401:900", "-U", "00000000-0000-0000-0000-000000000002", path],
    );
    if hybrid {
        run_ok("sgdisk", &["-h", "1", path]);
    }
    std::fs::OpenOptions::new().write(true).open(&image).unwrap().set_len(2000 * 512).unwrap();
    image
}

fn ee_size(image: &Path) -> u32 {
    let bytes = std::fs::read(image).unwrap();
    let at = (0..4).map(|i| 446 + 16 * i).find(|&at| bytes[at + 4] == 0xee).expect("a 0xEE record");
    u32::from_le_bytes(bytes[at + 12..at + 16].try_into().unwrap())
}

/// Issue 15 item 16: on a grown disk, repair moves the backup and sets the protective
/// MBR's size to the new disk (1999), as Flatcar's cgpt; the result is what `sgdisk -e`
/// writes. A hybrid MBR is left alone without --pmbr; with it only the 0xEE record's
/// size changes.
#[test]
fn repair_of_a_grown_disk_updates_the_protective_mbr_size() {
    let dir = scratch_dir();
    let ours = grown_disk(dir.path(), "ours.img", false);
    let peer = dir.path().join("peer.img");
    std::fs::copy(&ours, &peer).unwrap();
    assert_eq!(ee_size(&ours), 999);
    run_ok("sgdisk", &["-e", peer.to_str().unwrap()]);
    let out = ok(&["repair", ours.to_str().unwrap()]);
    assert!(out.contains("backup GPT moved") && out.contains("protective MBR rewritten"), "{out}");
    assert_eq!(ee_size(&ours), 1999);
    let (a, b) = (std::fs::read(&ours).unwrap(), std::fs::read(&peer).unwrap());
    assert!(a == b, "the image differs from what sgdisk -e writes");
    assert_sgdisk_accepts(&ours, 512);

    let hybrid = grown_disk(dir.path(), "hybrid.img", true);
    let before = std::fs::read(&hybrid).unwrap();
    let path = hybrid.to_str().unwrap();
    assert_eq!(json(&["show", path, "--json"])["pmbr"], "hybrid");
    let out = ok(&["repair", path]);
    assert!(!out.contains("protective MBR"), "{out}");
    assert_eq!(std::fs::read(&hybrid).unwrap()[..512], before[..512], "hybrid MBR untouched without --pmbr");
    let out = ok(&["repair", path, "--pmbr"]);
    assert!(out.contains("protective MBR rewritten"), "{out}");
    let after = std::fs::read(&hybrid).unwrap();
    assert_eq!(ee_size(&hybrid), 1999);
    let changed: Vec<usize> = (0..512).filter(|&i| after[i] != before[i]).collect();
    let ee_at = (0..4).map(|i| 446 + 16 * i).find(|&at| after[at + 4] == 0xee).unwrap();
    assert!(changed.iter().all(|&i| (ee_at + 12..ee_at + 16).contains(&i)), "changed bytes {changed:?}");
}

//! The boot library's GPT calls (issue 13, part 1) from C (tests/c/boot_gpt.c, linked
//! against librootseal_boot.a): `next`, mark-good, mark-update and prioritize on disks
//! made by sgdisk and set up by cgpt leave exactly the bytes the `rootseal` CLI leaves on
//! a twin, the attributes cgpt computes, a table `sgdisk -v` and `cgpt show` accept, and
//! they write in the crash-safe order (the copy not trusted first, array before header,
//! a flush after each copy).

use std::path::Path;
use std::process::Command;

use crate::c_support::{VALGRIND, run, wrapped};
use crate::gpt_support::{
    self, CHROMEOS_KERNEL, DiskSpec, FLATCAR_USR, Op, assert_cgpt_accepts, assert_sgdisk_accepts, attr_word, raw_copies,
};

const CLI: &str = env!("CARGO_BIN_EXE_rootseal");

fn program(dir: &Path) -> std::path::PathBuf {
    crate::c_support::compile_boot("boot_gpt.c", dir)
}

/// Runs the C program (under valgrind where installed); returns its stdout.
fn boot_gpt(exe: &Path, disk: &Path, block_size: u32, args: &[&str]) -> String {
    boot_gpt_on(exe, disk, block_size, FLATCAR_USR, args)
}

/// As [`boot_gpt`] with the slots of `slot_type`.
fn boot_gpt_on(exe: &Path, disk: &Path, block_size: u32, slot_type: &str, args: &[&str]) -> String {
    let wrapper: &[&str] = if Path::new("/usr/bin/valgrind").exists() { &VALGRIND } else { &[] };
    let mut command = wrapped(exe, wrapper);
    command.env("BOOT_GPT_SLOT_TYPE", slot_type);
    let out = command.arg(disk).arg(block_size.to_string()).args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success() && stdout.contains(" 0 failed"),
        "boot_gpt {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn cli(args: &[&str]) -> String {
    String::from_utf8(run(Command::new(CLI).args(args)).stdout).unwrap()
}

/// A Flatcar disk after an update: USR-A (3) good and running, USR-B (4) on trial.
fn updated_disk(dir: &Path, block_size: u32) -> std::path::PathBuf {
    slotted_disk(dir, DiskSpec::flatcar(block_size))
}

/// The same attributes on `spec`'s layout (Chrome OS kernel slots for cgpt, which
/// prioritizes only those).
fn slotted_disk(dir: &Path, spec: DiskSpec) -> std::path::PathBuf {
    let block_size = spec.block_size;
    let disk = dir.join(format!("disk-{block_size}.img"));
    gpt_support::disk(spec, &disk);
    for args in
        [["add", "-i", "3", "-P", "1", "-T", "0", "-S", "1"], ["add", "-i", "4", "-P", "2", "-T", "1", "-S", "0"]]
    {
        let out = gpt_support::cgpt(&disk, block_size, &args);
        assert!(out.status.success(), "cgpt {args:?}: {}", crate::common::describe(&out));
    }
    disk
}

fn twin(disk: &Path) -> std::path::PathBuf {
    let twin = disk.with_extension("twin");
    std::fs::copy(disk, &twin).unwrap();
    twin
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let at = text.find(key).unwrap_or_else(|| panic!("no {key} in:\n{text}")) + key.len();
    text[at..].split_whitespace().next().unwrap()
}

/// The "io write OFFSET LEN" / "io flush" lines, as (offset or None for a flush).
fn io_log(out: &str) -> Vec<Option<u64>> {
    out.lines()
        .filter_map(|l| l.strip_prefix("io "))
        .map(|l| l.strip_prefix("write ").map(|w| w.split(' ').next().unwrap().parse().unwrap()))
        .collect()
}

fn assert_same_disk(ours: &Path, twin: &Path, what: &str) {
    let (a, b) = (std::fs::read(ours).unwrap(), std::fs::read(twin).unwrap());
    let first = a.iter().zip(&b).position(|(x, y)| x != y);
    assert!(a == b, "{what}: the boot library's disk differs from the CLI's twin (first at byte {first:?})");
}

#[test]
fn boot_next_leaves_the_bytes_the_cli_leaves_in_the_crash_safe_order() {
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    for (block_size, given) in [(512, 512), (4096, 4096), (512, 0)] {
        let disk = updated_disk(dir.path(), block_size);
        let twin = twin(&disk);
        let len = std::fs::metadata(&disk).unwrap().len();
        let bs = u64::from(block_size);

        // The trial slot USR-B boots and its one try is used.
        let out = boot_gpt(&exe, &disk, given, &["next"]);
        assert_eq!(field(&out, "status "), "0", "{out}");
        let json = cli(&["gpt", "next", "--json", "--block-size", &block_size.to_string(), twin.to_str().unwrap()]);
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(field(&out, "next index="), json["index"].to_string(), "{out}\n{json}");
        assert_eq!(field(&out, " tries="), "0");
        assert_eq!(field(&out, "written="), "1");
        assert_same_disk(&disk, &twin, &format!("next, {block_size}-byte blocks given as {given}"));
        assert_sgdisk_accepts(&disk, block_size);
        assert_cgpt_accepts(&disk, block_size);
        // Backup first (array, header at the last LBA, flush), then the primary.
        let log = io_log(&out);
        assert_eq!(log.len(), 6, "{out}");
        assert!(log[0].unwrap() > len / 2 && log[1] == Some(len - bs) && log[2].is_none(), "{out}");
        assert_eq!(&log[3..], [Some(2 * bs), Some(bs), None], "{out}");

        // The trial failed (no try left, not successful): USR-A boots, nothing written.
        let out = boot_gpt(&exe, &disk, given, &["next"]);
        assert_eq!(field(&out, "next index="), "3", "{out}");
        assert_eq!(field(&out, "written="), "0");
        assert!(io_log(&out).is_empty(), "{out}");
        cli(&["gpt", "next", "--block-size", &block_size.to_string(), twin.to_str().unwrap()]);
        assert_same_disk(&disk, &twin, "second next");
    }
}

#[test]
fn boot_mark_good_mark_update_and_prioritize_match_cgpt_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    for block_size in [512, 4096] {
        let ops: [(&[&str], Op, &[&str]); 5] = [
            (&["mark-good", "4"], Op::MarkGood(4), &["mark-good", "-i", "4"]),
            (&["mark-update", "3"], Op::MarkUpdate(3), &["mark-update", "-i", "3"]),
            (
                &["prioritize", "5", "0"],
                Op::Prioritize { target: Some(5), friends: false, max: None },
                &["prioritize", "-i", "5"],
            ),
            (
                &["prioritize-friends", "5", "0"],
                Op::Prioritize { target: Some(5), friends: true, max: None },
                &["prioritize", "-i", "5", "-f"],
            ),
            (
                &["prioritize", "3", "9"],
                Op::Prioritize { target: Some(3), friends: false, max: Some(9) },
                &["prioritize", "-i", "3", "-P", "9"],
            ),
        ];
        for (ours, op, cli_args) in ops {
            let disk = slotted_disk(dir.path(), DiskSpec::kernel(block_size, 128));
            let by_cli = twin(&disk);
            let by_cgpt = disk.with_extension("cgpt");
            std::fs::copy(&disk, &by_cgpt).unwrap();
            let out = boot_gpt_on(&exe, &disk, block_size, CHROMEOS_KERNEL, ours);
            assert_eq!(field(&out, "status "), "0", "{ours:?}: {out}");
            assert_eq!(field(&out, "written="), "1", "{ours:?}: {out}");
            gpt_support::with_cgpt(&by_cgpt, block_size, op);
            let mut args = vec!["gpt"];
            args.extend_from_slice(cli_args);
            let bs = block_size.to_string();
            args.extend(["--type", CHROMEOS_KERNEL, "--block-size", &bs, by_cli.to_str().unwrap()]);
            cli(&args);
            assert_same_disk(&disk, &by_cli, &format!("{ours:?} with {block_size}-byte blocks"));
            let (image, theirs) = (std::fs::read(&disk).unwrap(), std::fs::read(&by_cgpt).unwrap());
            let [(_, entries), _] = raw_copies(&image, block_size);
            let [(_, cgpt_entries), _] = raw_copies(&theirs, block_size);
            for n in gpt_support::USED {
                assert_eq!(
                    attr_word(&entries, 128, n),
                    attr_word(&cgpt_entries, 128, n),
                    "{ours:?}: partition {n} attributes differ from cgpt's"
                );
            }
            assert_sgdisk_accepts(&disk, block_size);
            assert_cgpt_accepts(&disk, block_size);
        }
    }
}

#[test]
fn boot_next_repairs_a_broken_primary_writing_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    let block_size = 512u64;
    let disk = updated_disk(dir.path(), 512);
    let mut image = std::fs::read(&disk).unwrap();
    image[block_size as usize + 60] ^= 0x10; // inside the disk GUID: the header CRC fails
    std::fs::write(&disk, &image).unwrap();
    let twin = twin(&disk);
    let out = boot_gpt(&exe, &disk, 512, &["next"]);
    assert_eq!(field(&out, "next index="), "4", "{out}");
    cli(&["gpt", "next", "--block-size", "512", twin.to_str().unwrap()]);
    assert_same_disk(&disk, &twin, "next over a broken primary");
    // The untrusted primary goes first; the only valid copy is rewritten last.
    let log = io_log(&out);
    assert_eq!(&log[..3], [Some(2 * block_size), Some(block_size), None], "{out}");
    assert_eq!(log.len(), 6, "{out}");
    assert_sgdisk_accepts(&disk, 512);
    assert_cgpt_accepts(&disk, 512);
}

#[test]
fn boot_gpt_contract_small_scratch_and_failing_writes() {
    let dir = tempfile::tempdir().unwrap();
    let exe = program(dir.path());
    let disk = updated_disk(dir.path(), 512);
    let pristine = std::fs::read(&disk).unwrap();
    let out = boot_gpt(&exe, &disk, 512, &["contract"]);
    // The usual 128 entries of 128 bytes: two arrays, a working copy, the sort order.
    assert_eq!(field(&out, "scratch 0 "), (3 * 16384 + 4 * 128).to_string());
    let out = boot_gpt(&exe, &disk, 512, &["small-scratch"]);
    assert_eq!(field(&out, "status "), "5", "{out}");
    // A disk that refuses writes: the good slot boots, nothing changes.
    let out = boot_gpt(&exe, &disk, 512, &["failing-write"]);
    assert_eq!(field(&out, "status "), "0", "{out}");
    assert_eq!(field(&out, "next index="), "3", "{out}");
    assert_eq!(field(&out, "fallback="), "1", "{out}");
    assert_eq!(field(&out, "written="), "0", "{out}");
    let out = boot_gpt(&exe, &disk, 512, &["partition", "4"]);
    assert_eq!(field(&out, "partition index="), "4", "{out}");
    assert_eq!(field(&out, " tries="), "1", "{out}");
    assert!(std::fs::read(&disk).unwrap() == pristine, "a failed or read-only call changed the disk");
}

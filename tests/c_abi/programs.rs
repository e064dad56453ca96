//! Compiles tests/c/verity_smoke.c as strict C99 against the committed header, links it
//! against the static and the shared library, runs it, and checks its root hash against
//! real veritysetup. Also checks that the header compiles as C++.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::c_support;
use crate::common;
use crate::gpt_support;

use c_support::{VALGRIND, compile, manifest_dir, run, wrapped};

fn fixture(dir: &Path) -> PathBuf {
    let data: Vec<u8> = (0..64u32 * 4096).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let path = dir.join("data.img");
    std::fs::write(&path, data).unwrap();
    path
}

fn veritysetup_root(data: &Path, dir: &Path) -> String {
    let hash = dir.join("vs-hash.img");
    let out = Command::new("veritysetup")
        .args(["format", "--no-superblock", "--salt=deadbeef"])
        .arg(data)
        .arg(&hash)
        .output()
        .expect("veritysetup (cryptsetup-bin) must be installed for this test");
    assert!(out.status.success(), "veritysetup failed: {}", String::from_utf8_lossy(&out.stderr));
    common::parse_root_hash(&out.stdout)
}

fn compile_and_run(static_link: bool) {
    compile_and_run_with(static_link, &[]);
}

fn compile_and_run_with(static_link: bool, wrapper: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile("verity_smoke.c", static_link, dir.path());
    let data = fixture(dir.path());
    let mut cmd = wrapped(&exe, wrapper);
    let out = run(cmd.arg(&data).arg(dir.path().join("hash.img")));
    let stdout = String::from_utf8(out.stdout).unwrap();
    print!("{stdout}");
    let root = stdout.lines().find_map(|l| l.strip_prefix("root ")).expect("C test printed its root hash");
    assert_eq!(root, veritysetup_root(&data, dir.path()), "C API root hash differs from veritysetup");
    assert!(stdout.contains(" 0 failed"), "C checks failed:\n{stdout}");
}

#[test]
fn c_smoke_against_static_library() {
    compile_and_run(true);
}

#[test]
fn c_smoke_against_shared_library() {
    compile_and_run(false);
}

/// The C checks again under valgrind: no invalid access and no leak on any path the C
/// test takes, error paths and the caught panic included.
#[test]
fn c_smoke_is_memory_clean_under_valgrind() {
    compile_and_run_with(true, &VALGRIND);
}

#[test]
fn header_compiles_as_cpp() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("use.cpp");
    std::fs::write(
        &src,
        "#include \"rootseal.h\"\nint main() { return rootseal_abi_version() == ROOTSEAL_ABI_VERSION ? 0 : 1; }\n",
    )
    .unwrap();
    run(Command::new("g++")
        .args(["-x", "c++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wundef", "-fsyntax-only", "-I"])
        .arg(manifest_dir().join("include"))
        .arg(&src));
}

/// The GPT C test: its update cycle must leave the bytes the real cgpt leaves on a
/// twin disk, and every other check it makes must pass.
fn gpt_c_cycle(static_link: bool, wrapper: &[&str]) {
    use gpt_support::{CHROMEOS_KERNEL, DiskSpec, Op};
    let dir = tempfile::tempdir().unwrap();
    let exe = compile("gpt_smoke.c", static_link, dir.path());
    let (disk, twin) = (dir.path().join("disk.img"), dir.path().join("twin.img"));
    gpt_support::disk(DiskSpec::kernel(512, 128), &disk);
    gpt_support::disk(DiskSpec::kernel(512, 128), &twin);
    let out = run(wrapped(&exe, wrapper).arg(&disk).arg(CHROMEOS_KERNEL));
    let stdout = String::from_utf8(out.stdout).unwrap();
    print!("{stdout}");
    assert!(stdout.contains(" 0 failed"), "C checks failed:\n{stdout}");

    // The same cycle with cgpt: A good, mark-update B, a boot uses B's try, mark-good B.
    for args in [&["add", "-i", "3", "-P", "1", "-T", "0", "-S", "1"][..], &["add", "-i", "4", "-T", "0"]] {
        if args.len() == 5 {
            gpt_support::with_cgpt(&twin, 512, Op::MarkUpdate(4));
        }
        let out = gpt_support::cgpt(&twin, 512, args);
        assert!(out.status.success(), "{}", gpt_support::describe(&out));
    }
    gpt_support::with_cgpt(&twin, 512, Op::MarkGood(4));
    let cycle = std::fs::read(dir.path().join("disk.img.cycle")).unwrap();
    assert!(cycle == std::fs::read(&twin).unwrap(), "the C update cycle left different bytes than cgpt");
}

#[test]
fn gpt_c_cycle_against_static_library_matches_cgpt() {
    gpt_c_cycle(true, &[]);
}

#[test]
fn gpt_c_cycle_against_shared_library_matches_cgpt() {
    gpt_c_cycle(false, &[]);
}

#[test]
fn gpt_c_cycle_is_memory_clean_under_valgrind() {
    gpt_c_cycle(true, &VALGRIND);
}

/// The bootloader-style C test (tests/c/bootloader.c): GPT and verity through callbacks
/// over memory buffers, with every callback failing in turn. Its boot path (a trial
/// boot of USR-B, then mark-good, then a repaired primary header) must leave the bytes
/// cgpt leaves on a twin disk, and the verity tree it checks ranges of is veritysetup's.
fn bootloader_c(static_link: bool, wrapper: &[&str]) {
    use gpt_support::{CHROMEOS_KERNEL, DiskSpec, Op};
    let dir = tempfile::tempdir().unwrap();
    let exe = compile("bootloader.c", static_link, dir.path());
    let (disk, twin, after) = (dir.path().join("disk.img"), dir.path().join("twin.img"), dir.path().join("after.img"));
    for image in [&disk, &twin] {
        // The Chrome OS kernel type: cgpt prioritizes only that one.
        gpt_support::disk(DiskSpec::kernel(512, 128), image);
        for args in
            [&["add", "-i", "3", "-P", "1", "-T", "0", "-S", "1"], &["add", "-i", "4", "-P", "2", "-T", "1", "-S", "0"]]
        {
            let out = gpt_support::cgpt(image, 512, args);
            assert!(out.status.success(), "{}", common::describe(&out));
        }
    }
    // 512 data blocks: 4 leaf hash blocks under one top block, after the superblock.
    let data = dir.path().join("usr.img");
    std::fs::write(&data, common::pseudo_random(7, 512 * 4096)).unwrap();
    let hash = dir.path().join("usr.hash");
    let out = Command::new(common::veritysetup()).arg("format").arg(&data).arg(&hash).output().unwrap();
    assert!(out.status.success(), "{}", common::describe(&out));
    let root = common::parse_root_hash(&out.stdout);
    // A kernel of 100 blocks starting inside block 130: all under leaf hash block 3.
    let (offset, length) = (130 * 4096 + 100, 100 * 4096);

    let out = run(wrapped(&exe, wrapper)
        .arg(&disk)
        .arg(CHROMEOS_KERNEL)
        .arg(&data)
        .arg(&hash)
        .arg(&root)
        .arg(offset.to_string())
        .arg(length.to_string())
        .arg(&after));
    let stdout = String::from_utf8(out.stdout).unwrap();
    print!("{stdout}");
    assert!(stdout.contains(" 0 failed"), "C checks failed:\n{stdout}");

    // The same boot on the twin with cgpt: next used B's try, then mark-good B.
    let out = gpt_support::cgpt(&twin, 512, &["add", "-i", "4", "-T", "0"]);
    assert!(out.status.success(), "{}", common::describe(&out));
    gpt_support::with_cgpt(&twin, 512, Op::MarkGood(4));
    assert!(
        std::fs::read(&after).unwrap() == std::fs::read(&twin).unwrap(),
        "the C boot path left other bytes than cgpt"
    );
    gpt_support::assert_cgpt_accepts(&after, 512);
    gpt_support::assert_sgdisk_accepts(&after, 512);
    // The C test damaged and restored its images in memory only.
    let verify = Command::new(common::veritysetup()).arg("verify").arg(&data).arg(&hash).arg(&root).output().unwrap();
    assert!(verify.status.success(), "{}", common::describe(&verify));
}

#[test]
fn bootloader_c_against_static_library() {
    bootloader_c(true, &[]);
}

#[test]
fn bootloader_c_against_shared_library() {
    bootloader_c(false, &[]);
}

#[test]
fn bootloader_c_is_memory_clean_under_valgrind() {
    bootloader_c(true, &VALGRIND);
}

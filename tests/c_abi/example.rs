//! examples/c/ab_update.c through scripts/run-c-example.sh, the way the README runs it
//! (install into a prefix, build with pkg-config only), on the libraries of this test
//! run. Its disk must then satisfy the peers: `cgpt` reads the final slot attributes the
//! example printed, and `veritysetup verify` accepts the tree it built in USR-B with the
//! root hash from the kernel table line.

use std::path::Path;
use std::process::{Command, Output};

use crate::c_support;
use crate::common;

use c_support::lib_dir;

fn run_example(work: &Path, wrapper: &str) -> String {
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/run-c-example.sh"))
        .arg(work)
        .env("ROOTSEAL_LIB_DIR", lib_dir())
        .env("ROOTSEAL_BIN", env!("CARGO_BIN_EXE_rootseal"))
        .env("ROOTSEAL_EXAMPLE_WRAPPER", wrapper)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn cgpt_field(disk: &Path, index: &str, field: &str) -> String {
    let out: Output = Command::new("cgpt").args(["show", "-i", index, field]).arg(disk).output().unwrap();
    assert!(out.status.success(), "{}", common::describe(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn check_cycle(wrapper: &str) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let stdout = run_example(&work, wrapper);
    print!("{stdout}");
    for step in [
        "1. the payload signature verifies",
        "2. 8388608 bytes written to USR-B",
        "4. mark-update USR-B",
        "6. USR-B came up",
        "rolled back",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in:\n{stdout}");
    }
    assert!(stdout.contains("one bit flipped: signature: does not verify"), "{stdout}");
    assert!(stdout.contains("a key that is not trusted: signature: does not verify"), "{stdout}");

    // The kernel table line: 0 <sectors> verity 1 <dev> <dev> 4096 4096 <blocks> <start> sha256 <root> <salt>
    let table: Vec<&str> =
        stdout.lines().find(|l| l.contains(" verity 1 ")).expect("a table line").split_whitespace().collect();
    assert_eq!(table.len(), 13, "{table:?}");
    assert_eq!(table[4], "/dev/disk/by-partuuid/e03dd35c-7c2d-4a47-b3fe-27f15780a57c");
    assert_eq!((table[1], table[8], table[9]), ("16384", "2048", "2049"), "8 MiB of data, superblock at 8 MiB");
    let lbas = stdout.split("(LBA ").nth(1).unwrap().split(',').next().unwrap();
    let (first, last) = lbas.split_once('-').unwrap();
    let (first, last): (u64, u64) = (first.parse().unwrap(), last.parse().unwrap());

    let disk = work.join("flatcar.img");
    let image = std::fs::read(&disk).unwrap();
    let slot = dir.path().join("usr-b.img");
    std::fs::write(&slot, &image[(first * 512) as usize..((last + 1) * 512) as usize]).unwrap();
    let out = Command::new(common::veritysetup())
        .args(["verify", "--hash-offset=8388608"])
        .arg(&slot)
        .arg(&slot)
        .arg(table[11])
        .output()
        .unwrap();
    assert!(out.status.success(), "veritysetup rejects the slot:\n{}", common::describe(&out));
    assert_eq!(std::fs::read(work.join("usr.img")).unwrap(), &image[(first * 512) as usize..][..8 << 20]);

    // After the rollback: USR-A spent its try and never succeeded, USR-B is good.
    assert_eq!([cgpt_field(&disk, "3", "-T"), cgpt_field(&disk, "3", "-S")], ["0", "0"]);
    assert_eq!([cgpt_field(&disk, "4", "-T"), cgpt_field(&disk, "4", "-S")], ["0", "1"]);
    let out = Command::new("sgdisk").arg("-v").arg(&disk).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("No problems found"), "{}", common::describe(&out));
}

#[test]
fn c_example_walks_the_ab_cycle() {
    check_cycle("");
}

#[test]
fn c_example_is_memory_clean_under_valgrind() {
    check_cycle("valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect");
}

//! The boot library inside real UEFI firmware (issue 13): `scripts/test-uefi.sh` builds
//! uefi/rootseal_uefi_test.c against librootseal_boot.a as a gnu-efi application, puts it
//! on a Flatcar-style disk made with this test run's CLI, boots it twice under QEMU and
//! OVMF, and checks the serial log and the disk (docs/uefi-test.md). A binary of its own:
//! it links nothing of the library, takes QEMU's time, and `cargo test --test uefi` runs
//! it alone. CI runs the script directly (.ci/run) and here, through scripts/test.sh.

use std::process::Command;

#[test]
fn boot_library_chooses_the_slot_and_verifies_its_payload_inside_ovmf() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test-uefi.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("ROOTSEAL", env!("CARGO_BIN_EXE_rootseal"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    // The step lines and the boot times, for `--nocapture`.
    print!("{stderr}");
}

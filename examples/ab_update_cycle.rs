//! A Flatcar A/B update cycle on a disk image: install to USR-B, a trial boot that fails
//! and falls back to USR-A, a second install that boots and is marked good. Every step
//! prints the slots' priority, tries and successful bits; at the end `sgdisk -v` and
//! `cgpt show` must accept the disk.
//!
//! Needs `sgdisk` (gdisk) to make the image: `./scripts/setup.sh` installs it.

use rootseal::gpt::{self, AttrChange, BlockSize, FlatcarSlots, Guid};
use std::process::Command;

fn tool(program: &str, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let image = dir.path().join("flatcar.img");
    std::fs::File::create(&image)?.set_len(64 << 20)?;
    let usr = Guid::FLATCAR_USR.to_string();
    let path = image.to_str().ok_or("temporary path is not UTF-8")?;
    tool(
        "sgdisk",
        &[
            "-o",
            "-n=1:0:+8M",
            "-t=1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
            "-c=1:EFI-SYSTEM",
            "-n=3:0:+16M",
            &format!("-t=3:{usr}"),
            "-c=3:USR-A",
            &format!("-u=3:{}", gpt::USR_A_PARTUUID),
            "-n=4:0:+16M",
            &format!("-t=4:{usr}"),
            "-c=4:USR-B",
            &format!("-u=4:{}", gpt::USR_B_PARTUUID),
            "-n=9:0:0",
            "-t=9:3884dd41-8582-4404-b9a8-e9b84f2df50e",
            "-c=9:ROOT",
            path,
        ],
    )?;

    let disk = gpt::open_path(&image, BlockSize::Detect, true)?;
    let slots = FlatcarSlots::find(&disk.read()?, Guid::FLATCAR_USR)?;
    let (a, b) = (slots.a.index, slots.b.index);
    let show = |step: &str| -> Result<(), Box<dyn std::error::Error>> {
        let table = disk.read()?;
        let word = |i: u32| table.partition(i).map(|p| p.attributes);
        let (wa, wb) = (word(a)?, word(b)?);
        println!(
            "{step:<58} USR-A P{} T{} S{}   USR-B P{} T{} S{}",
            wa.priority(),
            wa.tries(),
            u8::from(wa.successful()),
            wb.priority(),
            wb.tries(),
            u8::from(wb.successful())
        );
        Ok(())
    };
    let boot = |why: &str| -> Result<(), Box<dyn std::error::Error>> {
        let next = disk.next(Guid::FLATCAR_USR)?;
        let name = if next.partition.index == a { "USR-A" } else { "USR-B" };
        show(&format!("{why}: boots {name} (wrote: {})", next.written))
    };

    disk.set(a, AttrChange { priority: Some(1), tries: Some(0), successful: Some(true) })?;
    show("image build: USR-A good")?;
    disk.mark_update(b, Guid::FLATCAR_USR)?;
    show("update installed to USR-B")?;
    boot("trial boot")?;
    boot("USR-B never came up; next boot")?;
    disk.mark_update(b, Guid::FLATCAR_USR)?;
    show("update installed to USR-B again")?;
    boot("trial boot")?;
    disk.mark_good(b, Guid::FLATCAR_USR)?;
    show("USR-B came up: marked good")?;
    boot("next boot")?;
    assert_eq!(disk.next(Guid::FLATCAR_USR)?.partition.index, b);
    drop(disk);

    let verdict = tool("sgdisk", &["-v", path])?;
    assert!(verdict.contains("No problems found"), "sgdisk -v: {verdict}");
    println!("sgdisk -v: no problems found");
    if Command::new("cgpt").arg("--help").output().is_ok() {
        let shown = tool("cgpt", &["show", path])?;
        assert!(!shown.contains("INVALID"), "cgpt show: {shown}");
        println!("cgpt show: both GPT copies valid");
    }
    Ok(())
}

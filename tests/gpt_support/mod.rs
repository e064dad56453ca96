//! Disks for the GPT tests, made by the real tools: Flatcar-like layouts from `sgdisk`
//! (512- and 4096-byte blocks, 128 or 256 entries), a 256-byte-entry variant, and the
//! checks `sgdisk -v` and `cgpt show` apply.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

#[allow(unused_imports)]
pub use crate::common::{Rng, describe};

pub const FLATCAR_USR: &str = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6";
pub const CHROMEOS_KERNEL: &str = "fe3a2a5d-4f32-41a7-b725-accc3285a309";
const EFI: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
const BIOS: &str = "21686148-6449-6e6f-744e-656564454649";
const LINUX_DATA: &str = "0fc63daf-8483-4772-8e79-3d69d8477de4";
const FLATCAR_RESERVED: &str = "c95dc21a-df0e-4340-8d7b-26cbfa9a03e0";
const FLATCAR_RESIZE: &str = "3884dd41-8582-4404-b9a8-e9b84f2df50e";

/// The partitions that take part in A/B: USR-A, USR-B and a third slot (5) that makes
/// prioritize's grouping more interesting.
pub const SLOTS: [u32; 3] = [3, 4, 5];
/// Every used partition of the layout (note the gaps, as on Flatcar).
pub const USED: [u32; 8] = [1, 2, 3, 4, 5, 6, 7, 9];

/// What kind of template disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DiskSpec {
    pub block_size: u32,
    pub entries: u32,
    /// 256-byte entries (made by rewriting a 128-byte-entry disk: sgdisk cannot).
    pub wide_entries: bool,
    /// Type GUID of the slots: the kernel type for upstream cgpt, or Flatcar usr.
    pub slot_type: &'static str,
}

impl DiskSpec {
    pub const fn kernel(block_size: u32, entries: u32) -> Self {
        DiskSpec { block_size, entries, wide_entries: false, slot_type: CHROMEOS_KERNEL }
    }
    pub const fn flatcar(block_size: u32) -> Self {
        DiskSpec { block_size, entries: 128, wide_entries: false, slot_type: FLATCAR_USR }
    }
}

pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

pub fn run_ok(program: &str, args: &[&str]) -> Output {
    let out = run(program, args);
    assert!(out.status.success(), "{program} {args:?} failed:\n{}", describe(&out));
    out
}

/// A loop device over an image, detached on drop.
pub struct Loop(pub String);

impl Loop {
    pub fn attach(image: &Path, block_size: u32) -> Loop {
        let bs = block_size.to_string();
        let out = run_ok("losetup", &["--find", "--show", "--sector-size", &bs, image.to_str().unwrap()]);
        Loop(String::from_utf8(out.stdout).unwrap().trim().to_string())
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = run("losetup", &["--detach", &self.0]);
    }
}

fn work_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// A fresh temporary directory for one test.
pub fn scratch_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A copy of the template disk for `spec`, at `dest`. Templates are made once per run:
/// sgdisk spends about a second per call.
pub fn disk(spec: DiskSpec, dest: &Path) {
    static TEMPLATES: OnceLock<Mutex<HashMap<DiskSpec, PathBuf>>> = OnceLock::new();
    let mut templates = TEMPLATES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    let template = templates.entry(spec).or_insert_with(|| make_template(spec)).clone();
    drop(templates);
    std::fs::copy(&template, dest).unwrap();
}

fn make_template(spec: DiskSpec) -> PathBuf {
    let path = work_dir()
        .join(format!("template-{}-{}-{}-{}.img", spec.block_size, spec.entries, spec.wide_entries, spec.slot_type));
    std::fs::File::create(&path).unwrap().set_len(16 << 20).unwrap();
    let slot = spec.slot_type;
    let layout: [(u32, &str, &str, &str, &str); 8] = [
        (1, "+2M", EFI, "EFI-SYSTEM", ""),
        (2, "+1M", BIOS, "BIOS-BOOT", ""),
        (3, "+2M", slot, "USR-A", "7130c94a-213a-4e5a-8e26-6cce9662f132"),
        (4, "+2M", slot, "USR-B", "e03dd35c-7c2d-4a47-b3fe-27f15780a57c"),
        (5, "+2M", slot, "ROOT-C", "d82521b4-07ac-4f1c-8840-ddefedc332f3"),
        (6, "+2M", LINUX_DATA, "OEM", ""),
        (7, "+1M", FLATCAR_RESERVED, "OEM-CONFIG", ""),
        (9, "0", FLATCAR_RESIZE, "ROOT", ""),
    ];
    let mut args: Vec<String> = vec!["-o".into(), format!("--resize-table={}", spec.entries)];
    args.push("--disk-guid=00000000-0000-0000-0000-000000000001".into());
    for (n, size, type_guid, label, partuuid) in layout {
        args.extend([format!("-n={n}:0:{size}"), format!("-t={n}:{type_guid}"), format!("-c={n}:{label}")]);
        if !partuuid.is_empty() {
            args.push(format!("-u={n}:{partuuid}"));
        }
    }
    let target = if spec.block_size == 512 { None } else { Some(Loop::attach(&path, spec.block_size)) };
    let device = target.as_ref().map_or(path.to_str().unwrap().to_string(), |l| l.0.clone());
    args.push(device);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok("sgdisk", &args);
    drop(target);
    if spec.wide_entries {
        widen_entries(&path, spec.block_size);
    }
    path
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The primary and backup (header block, entry array) of an image, read without
/// rootseal so that tests do not trust the code under test.
pub fn raw_copies(image: &[u8], block_size: u32) -> [(Vec<u8>, Vec<u8>); 2] {
    let bs = block_size as usize;
    let copy = |lba: usize| {
        let header = image[lba * bs..(lba + 1) * bs].to_vec();
        let entries_at = u64_at(&header, 72) as usize * bs;
        let len = u32_at(&header, 80) as usize * u32_at(&header, 84) as usize;
        let entries = image[entries_at..entries_at + len].to_vec();
        (header, entries)
    };
    let primary = copy(1);
    let backup = copy(u64_at(&primary.0, 32) as usize);
    [primary, backup]
}

/// Rewrites a header's CRC (over HeaderSize bytes, CRC field zeroed).
pub fn fix_header_crc(header: &mut [u8]) {
    let size = u32_at(header, 12) as usize;
    header[16..20].fill(0);
    let crc = crc32fast::hash(&header[..size]);
    header[16..20].copy_from_slice(&crc.to_le_bytes());
}

/// Edits both entry arrays of a 128-byte-entry image with `edit(array)` and fixes the
/// array and header CRCs, so that only the edit itself is wrong.
pub fn edit_entries(image: &mut [u8], block_size: u32, edit: impl Fn(&mut [u8])) {
    let bs = block_size as usize;
    let [(primary, _), (backup, _)] = raw_copies(image, block_size);
    for header in [primary, backup] {
        let lba = u64_at(&header, 24) as usize;
        let entries_at = u64_at(&header, 72) as usize * bs;
        let len = u32_at(&header, 80) as usize * u32_at(&header, 84) as usize;
        edit(&mut image[entries_at..entries_at + len]);
        let crc = crc32fast::hash(&image[entries_at..entries_at + len]);
        let header = &mut image[lba * bs..(lba + 1) * bs];
        header[88..92].copy_from_slice(&crc.to_le_bytes());
        fix_header_crc(header);
    }
}

/// Turns a 128-entry, 128-byte-entry disk into 64 entries of 256 bytes (the same 16 KiB
/// array), filling the reserved half of every entry with a pattern that must survive.
fn widen_entries(path: &Path, block_size: u32) {
    let mut image = std::fs::read(path).unwrap();
    let bs = block_size as usize;
    let [(primary, entries), _] = raw_copies(&image, block_size);
    let mut wide = vec![0u8; entries.len()];
    for i in 0..64 {
        wide[i * 256..i * 256 + 128].copy_from_slice(&entries[i * 128..i * 128 + 128]);
        for (j, b) in wide[i * 256 + 128..(i + 1) * 256].iter_mut().enumerate() {
            *b = (i * 7 + j) as u8 | 1;
        }
    }
    let backup_lba = u64_at(&primary, 32) as usize;
    for lba in [1, backup_lba] {
        let mut header = image[lba * bs..(lba + 1) * bs].to_vec();
        header[80..84].copy_from_slice(&64u32.to_le_bytes());
        header[84..88].copy_from_slice(&256u32.to_le_bytes());
        header[88..92].copy_from_slice(&crc32fast::hash(&wide).to_le_bytes());
        fix_header_crc(&mut header);
        let entries_at = u64_at(&header, 72) as usize * bs;
        image[entries_at..entries_at + wide.len()].copy_from_slice(&wide);
        image[lba * bs..(lba + 1) * bs].copy_from_slice(&header);
    }
    std::fs::write(path, image).unwrap();
}

/// Attribute word of partition `n` (1-based) in an entry array.
pub fn attr_word(entries: &[u8], entry_size: usize, n: u32) -> u64 {
    u64_at(entries, (n as usize - 1) * entry_size + 48)
}

/// `sgdisk -v` must find no problems (on a loop device for 4096-byte blocks).
pub fn assert_sgdisk_accepts(image: &Path, block_size: u32) {
    let target = (block_size != 512).then(|| Loop::attach(image, block_size));
    let device = target.as_ref().map_or(image.to_str().unwrap().to_string(), |l| l.0.clone());
    let out = run("sgdisk", &["-v", &device]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("No problems found") && !text.contains("ERROR"),
        "sgdisk -v rejects {}:\n{}",
        image.display(),
        describe(&out)
    );
}

/// `cgpt show` must see two valid copies (on a loop device for 4096-byte blocks).
pub fn assert_cgpt_accepts(image: &Path, block_size: u32) {
    let target = (block_size != 512).then(|| Loop::attach(image, block_size));
    let device = target.as_ref().map_or(image.to_str().unwrap().to_string(), |l| l.0.clone());
    let out = run("cgpt", &["show", &device]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && !all.contains("INVALID") && !all.contains("WARNING") && !all.contains("ERROR"),
        "cgpt show rejects {}:\n{}",
        image.display(),
        describe(&out)
    );
}

/// Runs cgpt on an image (through a loop device for 4096-byte blocks).
pub fn cgpt(image: &Path, block_size: u32, args: &[&str]) -> Output {
    let target = (block_size != 512).then(|| Loop::attach(image, block_size));
    let device = target.as_ref().map_or(image.to_str().unwrap().to_string(), |l| l.0.clone());
    let mut all: Vec<&str> = args.to_vec();
    all.push(&device);
    run("cgpt", &all)
}

/// One A/B operation, as the random sequences use them.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Set { index: u32, priority: Option<u8>, tries: Option<u8>, successful: Option<bool> },
    Prioritize { target: Option<u32>, friends: bool, max: Option<u8> },
    MarkUpdate(u32),
    MarkGood(u32),
    Invalidate(u32),
}

/// The op with the real cgpt. mark-update and mark-good are what Flatcar's scripts run.
pub fn with_cgpt(image: &Path, block_size: u32, op: Op) {
    let mut calls: Vec<Vec<String>> = Vec::new();
    let add = |index: u32, fields: &[(&str, u8)]| {
        let mut call = vec!["add".to_string(), "-i".into(), index.to_string()];
        for (flag, value) in fields {
            call.extend([flag.to_string(), value.to_string()]);
        }
        call
    };
    let prioritize_target = |index: u32| vec!["prioritize".to_string(), "-i".into(), index.to_string()];
    match op {
        Op::Set { index, priority, tries, successful } => {
            let mut fields = Vec::new();
            fields.extend(priority.map(|p| ("-P", p)));
            fields.extend(tries.map(|t| ("-T", t)));
            fields.extend(successful.map(|s| ("-S", s as u8)));
            calls.push(add(index, &fields));
        }
        Op::Prioritize { target, friends, max } => {
            let mut call = vec!["prioritize".to_string()];
            if let Some(t) = target {
                call.extend(["-i".into(), t.to_string()]);
            }
            if friends {
                call.push("-f".into());
            }
            if let Some(m) = max {
                call.extend(["-P".into(), m.to_string()]);
            }
            calls.push(call);
        }
        Op::MarkUpdate(index) | Op::MarkGood(index) => {
            let good = matches!(op, Op::MarkGood(_)) as u8;
            calls.push(vec!["repair".into()]);
            calls.push(add(index, &[("-S", good), ("-T", 1 - good)]));
            calls.push(prioritize_target(index));
        }
        Op::Invalidate(index) => calls.push(add(index, &[("-P", 0)])),
    }
    for call in calls {
        let args: Vec<&str> = call.iter().map(String::as_str).collect();
        let out = cgpt(image, block_size, &args);
        assert!(out.status.success(), "cgpt {args:?} failed for {op:?}:\n{}", describe(&out));
    }
}

//! The malformed-input catalogue: GPT images, verity hash devices, CrAU payloads and
//! keys that are damaged or lie about themselves. Each case is named and asserts the
//! exact error variant, that no single allocation exceeds what the input justifies,
//! that nothing on disk changes (image bytes compared before and after, through the
//! library and the CLI), and that the CLI fails with one line on stderr and no panic.
//!
//! Exit codes follow the CLI contract: 2 for input with nothing usable in it; 1 where
//! one GPT copy is intact and the operation refuses until `repair` (cgpt's rule).

use crate::common;
use crate::gpt_support;
use crate::sig_support;

use gpt_support::{DiskSpec, fix_header_crc, raw_copies};
use rootseal::crypto::CryptoContext;
use rootseal::gpt::{self, AttrChange, BlockSize, Error as GptError, Fault, Which};
use rootseal::sig::{self, OmahaCheck, Policy, Scheme, TrustStore};
use rootseal::verity::{self, Error as VerityError, RunOptions, VerityOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::Command;
use std::sync::Arc;

/// Records the largest single allocation of the current thread, so a case can show
/// that a lying size field never turned into a huge buffer.
struct LargestAllocation;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the thread-local is const-
// initialised without a destructor, so touching it never allocates.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.with(|l| l.set(l.get().max(layout.size())));
        // SAFETY: the caller's layout, passed through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the pointer came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.with(|l| l.set(l.get().max(new_size)));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// Runs `f` and fails if it made one allocation larger than `limit` bytes.
fn bounded<T>(name: &str, limit: usize, f: impl FnOnce() -> T) -> T {
    LARGEST.with(|l| l.set(0));
    let out = f();
    let largest = LARGEST.with(|l| l.get());
    assert!(largest <= limit, "{name}: allocated {largest} bytes at once for an input that justifies {limit}");
    out
}

/// Runs the CLI; checks the exit code, one line on stderr, and no panic text.
fn cli(name: &str, args: &[&str], code: i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_rootseal")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{name}: {args:?}\n{}", common::describe(&out));
    assert_eq!(stderr.lines().count(), 1, "{name}: not one line:\n{stderr}");
    assert!(stderr.starts_with("rootseal: "), "{name}: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("internal error"), "{name}: {stderr}");
}

// ---------------------------------------------------------------------------- GPT

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn add_u64(b: &mut [u8], at: usize, delta: i64) {
    let value = u64_at(b, at).wrapping_add_signed(delta);
    b[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn template(block_size: u32) -> Vec<u8> {
    let dir = gpt_support::scratch_dir();
    let path = dir.path().join("disk.img");
    gpt_support::disk(DiskSpec::flatcar(block_size), &path);
    std::fs::read(path).unwrap()
}

/// Edits the header block of each copy (`edit(header, which)`), then fixes its CRC so
/// that only the edit is wrong.
fn edit_headers(image: &mut [u8], block_size: u32, edit: impl Fn(&mut [u8], Which)) {
    let bs = block_size as usize;
    let backup_lba = u64_at(&raw_copies(image, block_size)[0].0, 32) as usize;
    for (lba, which) in [(1, Which::Primary), (backup_lba, Which::Backup)] {
        let header = &mut image[lba * bs..(lba + 1) * bs];
        edit(header, which);
        // A HeaderSize beyond the block cannot be covered by a CRC; it is refused first.
        if u32::from_le_bytes(header[12..16].try_into().unwrap()) as usize <= header.len() {
            fix_header_crc(header);
        }
    }
}

/// How a GPT case must fail.
enum Expect {
    /// `read` fails with this; every command refuses; the CLI exits 2.
    Unreadable(fn(&GptError) -> bool),
    /// One copy is bad for this reason; `set` asks for a repair; the CLI's `set` exits 1.
    NeedsRepair(Which, fn(&Fault) -> bool),
}

/// What the boot library (tests/c/boot_gpt.c against librootseal_boot.a) says to `op` on
/// `image`: its status (that of the scratch-size call when that fails), and the disk after.
fn boot_gpt(image: &[u8], block_size: u32, op: &[&str]) -> (String, Vec<u8>) {
    static PROGRAM: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> = std::sync::OnceLock::new();
    let (_, exe) = PROGRAM.get_or_init(|| {
        let dir = gpt_support::scratch_dir();
        let exe = crate::c_support::compile_boot("boot_gpt.c", dir.path());
        (dir, exe)
    });
    let dir = gpt_support::scratch_dir();
    let path = dir.path().join("boot.img");
    std::fs::write(&path, image).unwrap();
    let out = std::process::Command::new(exe).arg(&path).arg(block_size.to_string()).args(op).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let word =
        |key: &str| stdout.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.split(' ').next().unwrap().to_string());
    let status = match word("scratch ") {
        Some(status) if status != "0" => status,
        _ => word("status ").unwrap_or_else(|| panic!("boot_gpt {op:?}: {stdout}")),
    };
    (status, std::fs::read(&path).unwrap())
}

fn gpt_case(name: &str, image: Vec<u8>, block_size: u32, expect: Expect) {
    let limit = image.len().max(64 << 10) * 2;
    let result = bounded(name, limit, || gpt::read(&image, block_size));
    let dir = gpt_support::scratch_dir();
    let path = dir.path().join("disk.img");
    std::fs::write(&path, &image).unwrap();
    let p = path.to_str().unwrap();
    let bs = block_size.to_string();
    let disk = gpt::open_path(&path, BlockSize::Fixed(block_size), true).unwrap();
    let set = AttrChange { priority: Some(1), ..Default::default() };
    match expect {
        Expect::Unreadable(matches) => {
            let err = result.expect_err(name);
            assert!(matches(&err), "{name}: {err:?}");
            // The boot library runs the same reader: the status of the same error.
            let expected = match err {
                GptError::NoGpt => "200",
                GptError::NoValidGpt { .. } => "201",
                _ => panic!("{name}: no boot status for {err:?}"),
            };
            assert_eq!(boot_gpt(&image, block_size, &["next"]), (expected.to_string(), image.clone()), "{name}");
            assert!(disk.set(3, set).is_err() && disk.next(gpt::Guid::FLATCAR_USR).is_err(), "{name}");
            assert!(disk.mark_good(3, gpt::Guid::FLATCAR_USR).is_err() && disk.repair(true).is_err(), "{name}");
            drop(disk);
            for args in [&["show", p][..], &["next", p], &["repair", p, "--pmbr"], &["set", p, "-i", "3", "-P", "1"]] {
                let args: Vec<&str> = [&["gpt"][..], args, &["--block-size", &bs]].concat();
                cli(name, &args, 2);
            }
        }
        Expect::NeedsRepair(which, reason) => {
            let table = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let fault = table.copy_state(which).fault.clone().unwrap_or_else(|| panic!("{name}: {which} valid"));
            assert!(reason(&fault), "{name}: {fault:?}");
            let err = disk.set(3, set).expect_err(name);
            assert!(
                matches!(&err, GptError::NeedsRepair { which: w, reason: r } if *w == which && *r == fault),
                "{err:?}"
            );
            drop(disk);
            cli(name, &["gpt", "set", p, "-i", "3", "-P", "1", "--block-size", &bs], 1);
            // GPT_NEEDS_REPAIR from the boot library's prioritize, nothing written.
            let boot = boot_gpt(&image, block_size, &["prioritize", "3", "0"]);
            assert_eq!(boot, ("202".to_string(), image.clone()), "{name}");
        }
    }
    assert!(std::fs::read(&path).unwrap() == image, "{name}: the disk changed");
}

#[test]
fn gpt_catalogue() {
    let base = template(512);
    let with = |edit: &dyn Fn(&mut [u8], Which)| {
        let mut image = base.clone();
        edit_headers(&mut image, 512, edit);
        image
    };
    let huge = with(&|h, _| h[80..84].copy_from_slice(&(1u32 << 31).to_le_bytes()));
    gpt_case(
        "2^31 entries with a valid CRC",
        huge,
        512,
        Expect::Unreadable(|e| {
            matches!(
                e,
                GptError::NoValidGpt {
                    primary: Fault::EntryArraySize { count: 0x8000_0000, size: 128 },
                    backup: Fault::EntryArraySize { count: 0x8000_0000, size: 128 },
                }
            )
        }),
    );
    for size in [0u32, 64, 129] {
        let image = with(&|h, _| h[84..88].copy_from_slice(&size.to_le_bytes()));
        gpt_case(
            &format!("entry size {size}"),
            image,
            512,
            Expect::Unreadable(
                |e| matches!(e, GptError::NoValidGpt { primary: Fault::EntrySize(p), backup: Fault::EntrySize(b) } if p == b),
            ),
        );
    }
    for size in [91u32, 4097] {
        let image = with(&|h, _| h[12..16].copy_from_slice(&size.to_le_bytes()));
        gpt_case(
            &format!("HeaderSize {size}"),
            image,
            512,
            Expect::Unreadable(|e| {
                matches!(
                    e,
                    GptError::NoValidGpt {
                        primary: Fault::HeaderSize { block_size: 512, .. },
                        backup: Fault::HeaderSize { block_size: 512, .. },
                    }
                )
            }),
        );
    }
    // The primary's FirstUsableLBA moved into its array, the backup's LastUsableLBA into its.
    let overlap = with(&|h, which| match which {
        Which::Primary => add_u64(h, 40, -1),
        Which::Backup => add_u64(h, 48, 1),
    });
    gpt_case(
        "an array that overlaps the usable range",
        overlap,
        512,
        Expect::Unreadable(|e| {
            matches!(e, GptError::NoValidGpt { primary: Fault::Layout(p), backup: Fault::Layout(b) }
            if p.to_string().contains("FirstUsableLBA") && b.to_string().contains("LastUsableLBA"))
        }),
    );
    let blocks = (base.len() / 512) as u64;
    let past_end = with(&|h, _| h[32..40].copy_from_slice(&(blocks + 100).to_le_bytes()));
    gpt_case(
        "AlternateLBA past the end",
        past_end,
        512,
        // Looked for where the primary says, beyond the end; the copy at the last LBA
        // is no fallback, as its own AlternateLBA is wrong too.
        Expect::NeedsRepair(Which::Backup, |f| matches!(f, Fault::OutsideDisk { lba: 32868, blocks: 32768 })),
    );
    let my_lba = with(&|h, _| add_u64(h, 24, 7));
    gpt_case(
        "MyLBA wrong",
        my_lba,
        512,
        Expect::Unreadable(|e| {
            matches!(e, GptError::NoValidGpt { primary: Fault::MyLba { actual: 1, .. }, backup: Fault::MyLba { .. } })
        }),
    );
    // The backup array differs from the primary in one reserved byte, with its CRC fixed.
    let mut differs = base.clone();
    let backup_header_lba = u64_at(&raw_copies(&base, 512)[0].0, 32) as usize;
    let backup_array_lba = u64_at(&raw_copies(&base, 512)[1].0, 72) as usize;
    differs[backup_array_lba * 512 + 127 * 128 + 100] ^= 0x40;
    let crc = crc32fast::hash(&differs[backup_array_lba * 512..backup_array_lba * 512 + 128 * 128]);
    let header = &mut differs[backup_header_lba * 512..(backup_header_lba + 1) * 512];
    header[88..92].copy_from_slice(&crc.to_le_bytes());
    fix_header_crc(header);
    gpt_case(
        "a backup array that differs from the primary",
        differs,
        512,
        Expect::NeedsRepair(
            Which::Backup,
            |f| matches!(f, Fault::OutOfSync(m) if m.to_string().contains("PartitionEntryArrayCRC32")),
        ),
    );
    let short = base[..base.len() / 2].to_vec();
    gpt_case(
        "a disk shorter than its header says",
        short,
        512,
        Expect::Unreadable(
            |e| matches!(e, GptError::NoValidGpt { primary: Fault::Layout(m), backup: Fault::Signature } if m.to_string().contains("beyond the disk")),
        ),
    );
    gpt_case("a zero-length disk", Vec::new(), 512, Expect::Unreadable(|e| matches!(e, GptError::NoGpt)));
    gpt_case(
        "a 4096-byte GPT read with 512-byte blocks",
        template(4096),
        512,
        Expect::Unreadable(|e| matches!(e, GptError::NoGpt)),
    );
}

/// 256-byte entries are valid (UEFI allows 128 × 2^n): read, edited and written back
/// with the reserved half of every entry intact, where the `gpt` and `gptman` crates
/// panic.
#[test]
fn gpt_256_byte_entries_are_read_not_refused() {
    let dir = gpt_support::scratch_dir();
    let path = dir.path().join("wide.img");
    gpt_support::disk(DiskSpec { wide_entries: true, ..DiskSpec::flatcar(512) }, &path);
    let before = std::fs::read(&path).unwrap();
    let disk = gpt::open_path(&path, BlockSize::Fixed(512), true).unwrap();
    let table = bounded("256-byte entries", 1 << 20, || disk.read()).unwrap();
    assert_eq!((table.header().entry_size, table.header().entry_count), (256, 64));
    assert_eq!(table.partition(3).unwrap().type_guid, gpt::Guid::FLATCAR_USR);
    assert!(disk.set(3, AttrChange { priority: Some(9), ..Default::default() }).unwrap().0);
    drop(disk);
    let after = std::fs::read(&path).unwrap();
    let [(_, old), _] = raw_copies(&before, 512);
    let [(_, new), _] = raw_copies(&after, 512);
    for i in 0..64 {
        assert_eq!(old[i * 256 + 128..(i + 1) * 256], new[i * 256 + 128..(i + 1) * 256], "entry {i} reserved half");
    }
    gpt_support::assert_sgdisk_accepts(&path, 512);
}

// ------------------------------------------------------------------------- verity

struct VerityImage {
    dir: tempfile::TempDir,
    root_hash: String,
}

impl VerityImage {
    /// 64 data blocks of 4096 bytes and a tree with a superblock, made by veritysetup.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data"), common::pseudo_random(6, 64 * 4096)).unwrap();
        let out = Command::new(common::veritysetup())
            .args(["format", "--salt=0011223344556677"])
            .arg(dir.path().join("data"))
            .arg(dir.path().join("hash"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::describe(&out));
        VerityImage { root_hash: common::parse_root_hash(&out.stdout), dir }
    }
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    fn edit_hash(&self, edit: impl FnOnce(&mut Vec<u8>)) {
        let mut hash = std::fs::read(self.path("hash")).unwrap();
        edit(&mut hash);
        std::fs::write(self.path("hash"), hash).unwrap();
    }
}

fn verity_case(name: &str, edit: impl FnOnce(&mut Vec<u8>), hash_offset: u64, matches: fn(&VerityError) -> bool) {
    let image = VerityImage::new();
    image.edit_hash(edit);
    let (data, hash) = (std::fs::read(image.path("data")).unwrap(), std::fs::read(image.path("hash")).unwrap());
    let opts = VerityOptions { hash_offset, ..Default::default() };
    let root = verity::parse_root_hash(&image.root_hash, verity::HashAlgorithm::Sha256).unwrap();
    let result = bounded(name, hash.len().max(64 << 10), || {
        verity::verify(
            &data,
            &hash,
            false,
            &opts,
            &root,
            &RunOptions { threads: Some(1), progress: None, ..Default::default() },
        )
    });
    let err = result.expect_err(name);
    assert!(matches(&err), "{name}: {err:?}");
    let offset = hash_offset.to_string();
    let args =
        ["verity", "verify", "--hash-offset", &offset, &image.path("data"), &image.path("hash"), &image.root_hash];
    cli(name, &args, 2);
    assert!(std::fs::read(image.path("data")).unwrap() == data && std::fs::read(image.path("hash")).unwrap() == hash);
}

#[test]
fn verity_catalogue() {
    verity_case(
        "a truncated hash file",
        |h| h.truncate(4096 + 100),
        0,
        |e| matches!(e, VerityError::HashDeviceTooSmall { actual: 4196, .. }),
    );
    verity_case(
        "data_blocks that overflow",
        |h| h[72..80].copy_from_slice(&u64::MAX.to_le_bytes()),
        0,
        |e| matches!(e, VerityError::Overflow(_)),
    );
    verity_case(
        "salt_size 257",
        |h| h[80..82].copy_from_slice(&257u16.to_le_bytes()),
        0,
        |e| matches!(e, VerityError::CorruptSuperblock(m) if m.contains("salt size 257")),
    );
    verity_case(
        "a superblock with an unknown version",
        |h| h[8] = 2,
        0,
        |e| matches!(e, VerityError::CorruptSuperblock(m) if m.contains("unsupported version 2")),
    );
    verity_case(
        "the algorithm name not NUL-terminated",
        |h| h[32..64].fill(b'x'),
        0,
        |e| matches!(e, VerityError::CorruptSuperblock(m) if m.contains("NUL")),
    );
    verity_case(
        "an offset past the end of the file",
        |_| {},
        1 << 20,
        |e| matches!(e, VerityError::HashDeviceTooSmall { needed, .. } if *needed == (1 << 20) + 512),
    );
}

// ----------------------------------------------------------------------- payloads

use sig_support::crau::{field_bytes, field_varint};

fn payload_case(name: &str, bytes: Vec<u8>, matches: impl Fn(&sig::Error) -> bool) {
    let dir = tempfile::tempdir().unwrap();
    let key = sig_support::genkey(dir.path(), "key", "rsa:2048");
    let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    store.add_file(&key.public).unwrap();
    let path = dir.path().join("payload");
    std::fs::write(&path, &bytes).unwrap();
    let result = bounded(name, bytes.len().max(64 << 10), || {
        store.verify_payload(&path, OmahaCheck::default(), Policy::Default)
    });
    let err = result.expect_err(name);
    assert!(matches(&err), "{name}: {err:?}");
    cli(name, &["payload", "verify", "--key", key.public.to_str().unwrap(), path.to_str().unwrap()], 2);
    assert!(std::fs::read(&path).unwrap() == bytes);
}

/// A version 1 payload: header, `manifest`, then `rest`.
fn payload(manifest: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut bytes = b"CrAU".to_vec();
    bytes.extend_from_slice(&1u64.to_be_bytes());
    bytes.extend_from_slice(&(manifest.len() as u64).to_be_bytes());
    [&bytes[..], manifest, rest].concat()
}

fn manifest(offset: u64, size: u64) -> Vec<u8> {
    let mut m = Vec::new();
    field_varint(4, offset, &mut m);
    field_varint(5, size, &mut m);
    m
}

#[test]
fn payload_catalogue() {
    let invalid =
        |needle: &'static str| move |e: &sig::Error| matches!(e, sig::Error::InvalidPayload(m) if m.contains(needle));
    let dir = tempfile::tempdir().unwrap();
    let key = sig_support::genkey(dir.path(), "signer", "rsa:2048");
    let good = sig_support::crau::build_payload(dir.path(), "good", 1, b"data", &[&key], 256).bytes;

    let mut lying = good.clone();
    lying[12..20].copy_from_slice(&(good.len() as u64 + 1).to_be_bytes());
    payload_case("manifest size larger than the file", lying, invalid("claims"));
    payload_case("signature offset overflow", payload(&manifest(u64::MAX - 5, 10), &[0; 10]), invalid("overflows"));
    let mut trailing = good.clone();
    trailing.push(0);
    payload_case("trailing bytes after the blob", trailing, invalid("must end the file"));
    // A Signatures message with only an unknown field: decodes, holds no signature.
    let mut empty = Vec::new();
    field_varint(3, 0, &mut empty);
    payload_case("zero signatures", payload(&manifest(0, empty.len() as u64), &empty), invalid("holds no signature"));
    payload_case("a garbage protobuf", payload(&[0xff; 12], &[0; 16]), invalid("not a valid protobuf"));
    let mut truncated_blob = Vec::new();
    field_bytes(1, &[0x12, 0x7f], &mut truncated_blob);
    payload_case(
        "a signature blob that ends inside a field",
        payload(&manifest(0, 4), &truncated_blob),
        invalid("not a Signatures protobuf"),
    );
}

/// update_engine skips the check when its key file is missing; rootseal refuses.
#[test]
fn payload_without_a_key_is_refused() {
    let store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payload");
    std::fs::write(&path, payload(&manifest(0, 4), &[0; 4])).unwrap();
    let err = store.verify_payload(&path, OmahaCheck::default(), Policy::Default).unwrap_err();
    assert!(matches!(err, sig::Error::EmptyTrustStore), "{err:?}");
    let missing = dir.path().join("missing.pem");
    cli("missing key file", &["payload", "verify", "--key", missing.to_str().unwrap(), path.to_str().unwrap()], 2);
    cli("no key at all", &["payload", "verify", path.to_str().unwrap()], 2);
}

// --------------------------------------------------------------------------- keys

#[test]
fn key_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let context = Arc::new(CryptoContext::default_provider());
    let message = dir.path().join("message");
    std::fs::write(&message, b"rootseal").unwrap();

    // RSA-512: loads, but no policy lets it vouch for anything.
    let weak = sig_support::genkey(dir.path(), "weak", "rsa:512");
    let sig = dir.path().join("weak.sig");
    sig_support::sign(&weak, "sha256", false, &message, &sig);
    let mut store = TrustStore::new(context.clone());
    store.add_file(&weak.public).unwrap();
    let signature = std::fs::read(&sig).unwrap();
    for policy in [Policy::Default, Policy::Fips] {
        let err = store.verify_bytes(b"rootseal", &signature, Scheme::default(), policy).unwrap_err();
        assert!(matches!(&err, sig::Error::PolicyRefused { reasons, .. } if reasons.contains("512")), "{err:?}");
    }

    // A truncated DER SubjectPublicKeyInfo.
    let good = sig_support::genkey(dir.path(), "good", "rsa:2048");
    let der = sig_support::openssl(&["pkey", "-pubin", "-in", sig_support::s(&good.public), "-outform", "DER"]);
    let mut store = TrustStore::new(context.clone());
    let err = bounded("truncated DER", 64 << 10, || store.add_bytes(&der[..der.len() / 2], "truncated")).unwrap_err();
    assert!(matches!(&err, sig::Error::InvalidKey { source_name, .. } if source_name == "truncated"), "{err:?}");
    assert!(store.is_empty());

    // A certificate where the signing key is required.
    let cert = std::fs::read(sig_support::self_signed_cert(dir.path(), &good, "signer")).unwrap();
    let err = sig::sign_root_hash(&"ab".repeat(32), &cert, &cert).unwrap_err();
    assert!(matches!(&err, sig::Error::InvalidKey { source_name, .. } if source_name == "signing key"), "{err:?}");
    // And a private key where a public key or certificate is: refused, not ignored.
    let private = std::fs::read(&good.private).unwrap();
    let err = store.add_bytes(&private, "private").unwrap_err();
    assert!(matches!(&err, sig::Error::InvalidKey { reason, .. } if reason.contains("PRIVATE KEY")), "{err:?}");
}

/// OpenSSL quotes a config file's name and its bad lines in its errors, byte for byte.
/// Those bytes need not be UTF-8, which made the `openssl` crate's error reader panic
/// (found by the `c_api` fuzzer; `fuzz/regressions/c_api/non-utf8-fips-config-error`).
#[test]
fn fips_config_with_non_utf8_name_and_contents() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // The error quotes the missing section's name.
    let contents = b"openssl_conf = \x98\x98\n";
    let odd_name = dir.path().join(std::ffi::OsStr::from_bytes(b"f-\x98\x98.cnf"));
    let odd_contents = dir.path().join("odd.cnf");
    for config in [&odd_name, &odd_contents] {
        std::fs::write(config, contents).unwrap();
        let err = CryptoContext::fips(Some(config)).unwrap_err();
        assert!(matches!(&err, rootseal::crypto::Error::FipsUnavailable(text) if text.contains('\u{fffd}')), "{err:?}");
    }
    // `fips status` answers "not available" with exit 1, as for any config that does not load.
    cli("FIPS config with non-UTF-8 lines", &["fips", "status", "--fips-config", odd_contents.to_str().unwrap()], 1);
}

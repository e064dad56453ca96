//! The FEC entry points from Rust, against veritysetup: format with parity by path and
//! by callbacks gives veritysetup's bytes, the table line is the one `rootseal verity
//! table --fec-device` prints, repair restores the original bytes (and veritysetup then
//! verifies them), refuses damage beyond capability without writing, rewrites bad
//! parity; and the params, NULL and out-param contract.

use rootseal::ffi::status::rootseal_status as S;
use rootseal::ffi::verity::*;
use rootseal::ffi::verity_fec::*;
use rootseal::ffi::verity_table::*;
use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::ptr;

use crate::common;
use crate::memory_io::MemoryIo;

const SALT: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];
const UUID: &str = "12345678-1234-1234-1234-123456789abc";
const UUID_BYTES: [u8; 16] =
    [0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc];
const DATA_BLOCKS: usize = 300;
const BLOCK: usize = 4096;

fn params() -> rootseal_verity_params {
    // SAFETY: all-zero is the documented starting point of the params struct.
    let mut p: rootseal_verity_params = unsafe { std::mem::zeroed() };
    p.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    p.salt = SALT.as_ptr();
    p.salt_size = SALT.len();
    p.uuid = UUID_BYTES;
    p
}

fn fec_params(roots: u32) -> rootseal_fec_params {
    // SAFETY: all-zero is the documented starting point of the params struct.
    let mut p: rootseal_fec_params = unsafe { std::mem::zeroed() };
    p.version = ROOTSEAL_FEC_PARAMS_VERSION;
    p.roots = roots;
    p
}

fn c(path: &Path) -> CString {
    CString::new(path.to_str().unwrap()).unwrap()
}

/// A data file, and veritysetup's tree and parity for it: (data, hash, fec, root hex).
struct Peer {
    data: PathBuf,
    hash: PathBuf,
    fec: PathBuf,
    root: String,
}

fn peer(dir: &Path, roots: u32) -> Peer {
    let data = dir.join("data.img");
    std::fs::write(&data, common::pseudo_random(u64::from(roots), DATA_BLOCKS * BLOCK)).unwrap();
    let (hash, fec) = (dir.join("vs.hash"), dir.join("vs.fec"));
    let out = Command::new("veritysetup")
        .args(["format", "--salt=deadbeef", &format!("--uuid={UUID}"), &format!("--fec-roots={roots}")])
        .arg(format!("--fec-device={}", fec.display()))
        .arg(&data)
        .arg(&hash)
        .output()
        .expect("veritysetup (cryptsetup-bin) must be installed for this test");
    assert!(out.status.success(), "{}", common::describe(&out));
    Peer { root: common::parse_root_hash(&out.stdout), data, hash, fec }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn zeroed_results() -> (rootseal_verity_result, rootseal_fec_result) {
    // SAFETY: all-zero is a valid value of both plain-data structs.
    unsafe { (std::mem::zeroed(), std::mem::zeroed()) }
}

fn kernel_table_fec(tree: &rootseal_verity_result, fec: &rootseal_fec_result, devs: [&str; 3]) -> String {
    let [data, hash, fec_dev] = devs.map(|d| CString::new(d).unwrap());
    let mut buf = vec![0 as c_char; 1024];
    // SAFETY: valid structs, NUL-terminated names and a writable buffer of the size given.
    let status = unsafe {
        rootseal_verity_kernel_table_fec(
            tree,
            fec,
            ptr::null(),
            data.as_ptr(),
            hash.as_ptr(),
            fec_dev.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            ptr::null_mut(),
        )
    };
    assert_eq!(status, S::Ok);
    // SAFETY: NUL-terminated on success.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
}

#[test]
fn format_with_parity_by_path_and_by_callbacks_is_byte_identical_to_veritysetup() {
    for roots in [2, 24] {
        let dir = tempfile::tempdir().unwrap();
        let vs = peer(dir.path(), roots);
        let (hash, fec) = (dir.path().join("hash.img"), dir.path().join("fec.img"));
        let (mut tree, mut parity) = zeroed_results();
        // SAFETY: valid params, NUL-terminated paths, writable results.
        let status = unsafe {
            rootseal_verity_engine_format_fec(
                ptr::null(),
                &params(),
                &fec_params(roots),
                c(&vs.data).as_ptr(),
                c(&hash).as_ptr(),
                c(&fec).as_ptr(),
                &mut tree,
                &mut parity,
            )
        };
        assert_eq!(status, S::Ok, "roots {roots}");
        assert_eq!(hex(&tree.root_hash[..tree.root_hash_size as usize]), vs.root);
        assert!(std::fs::read(&hash).unwrap() == std::fs::read(&vs.hash).unwrap(), "roots {roots}: tree differs");
        assert!(std::fs::read(&fec).unwrap() == std::fs::read(&vs.fec).unwrap(), "roots {roots}: parity differs");
        assert_eq!((parity.roots, parity.offset, parity.fec_start), (roots, 0, 0));
        assert_eq!(parity.parity_blocks * BLOCK as u64, std::fs::metadata(&fec).unwrap().len());

        // The table line is the command's, which is checked against libcryptsetup.
        let devs = [vs.data.to_str().unwrap(), vs.hash.to_str().unwrap(), vs.fec.to_str().unwrap()];
        let out = Command::new(env!("CARGO_BIN_EXE_rootseal"))
            .args(["verity", "table", devs[0], devs[1], &vs.root, "--fec-device", devs[2]])
            .arg(format!("--fec-roots={roots}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::describe(&out));
        let line = kernel_table_fec(&tree, &parity, devs);
        assert!(line.contains(&format!("use_fec_from_device {} fec_start 0", devs[2])), "{line}");
        assert_eq!(line, String::from_utf8(out.stdout).unwrap().trim_end());
        // A FEC result no format could give is refused, not printed.
        let mut bad = parity;
        bad.roots = 0;
        let mut buf = vec![0 as c_char; 1024];
        let names = devs.map(|d| CString::new(d).unwrap());
        // SAFETY: valid structs, NUL-terminated names and a writable buffer of the size given.
        let status = unsafe {
            rootseal_verity_kernel_table_fec(
                &tree,
                &bad,
                ptr::null(),
                names[0].as_ptr(),
                names[1].as_ptr(),
                names[2].as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                ptr::null_mut(),
            )
        };
        assert_eq!(status, S::InvalidArgument);

        // Over callbacks, into devices of the sizes veritysetup's files have.
        let data = MemoryIo::new(std::fs::read(&vs.data).unwrap());
        let hash_io = MemoryIo::new(vec![0; std::fs::metadata(&vs.hash).unwrap().len() as usize]);
        let fec_io = MemoryIo::new(vec![0; std::fs::metadata(&vs.fec).unwrap().len() as usize]);
        let (mut tree_io, mut parity_io) = zeroed_results();
        // SAFETY: valid params and callbacks whose devices outlive the call.
        let status = unsafe {
            rootseal_verity_engine_format_fec_io(
                ptr::null(),
                &params(),
                &fec_params(roots),
                &data.as_io(),
                &hash_io.as_io(),
                &fec_io.as_io(),
                &mut tree_io,
                &mut parity_io,
            )
        };
        assert_eq!(status, S::Ok, "roots {roots} over callbacks");
        assert!(*hash_io.bytes.borrow() == std::fs::read(&vs.hash).unwrap(), "roots {roots}: callback tree differs");
        assert!(*fec_io.bytes.borrow() == std::fs::read(&vs.fec).unwrap(), "roots {roots}: callback parity differs");
        assert_eq!(hex(&tree_io.root_hash[..tree_io.root_hash_size as usize]), vs.root);
    }
}

/// Runs `rootseal_verity_engine_repair` on the peer's files; returns the status, the
/// written flag and the report's lists.
fn repair(vs: &Peer, flags: u32) -> (S, u32, Vec<Vec<u64>>) {
    let mut fp = fec_params(2);
    fp.flags = flags;
    let root = unhex(&vs.root);
    let mut report = ptr::null_mut();
    // SAFETY: valid params, NUL-terminated paths, the root hash and a writable report slot.
    let status = unsafe {
        rootseal_verity_engine_repair(
            ptr::null(),
            &params(),
            &fp,
            c(&vs.data).as_ptr(),
            c(&vs.hash).as_ptr(),
            c(&vs.fec).as_ptr(),
            root.as_ptr(),
            root.len(),
            &mut report,
        )
    };
    assert!(!report.is_null(), "{status:?} comes with a report");
    // SAFETY: a live report.
    let written = unsafe { rootseal_fec_report_written(report) };
    let outcome = (status, written, lists(report));
    // SAFETY: a live report, freed once.
    unsafe { rootseal_fec_report_free(report) };
    outcome
}

fn lists(report: *const rootseal_fec_report) -> Vec<Vec<u64>> {
    (ROOTSEAL_FEC_LIST_CORRUPTED_DATA..=ROOTSEAL_FEC_LIST_PARITY_MISMATCH)
        .map(|list| {
            let mut count = usize::MAX;
            // SAFETY: a live report and a writable count.
            let ptr = unsafe { rootseal_fec_report_blocks(report, list, &mut count) };
            if count == 0 {
                assert!(ptr.is_null());
                return Vec::new();
            }
            // SAFETY: the report owns `count` entries at `ptr`.
            unsafe { std::slice::from_raw_parts(ptr, count) }.to_vec()
        })
        .collect()
}

fn corrupt_bytes(bytes: &mut [u8], block: usize) {
    for b in &mut bytes[block * BLOCK..block * BLOCK + 64] {
        *b ^= 0x5a;
    }
}

fn corrupt(path: &Path, block: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    corrupt_bytes(&mut bytes, block);
    std::fs::write(path, bytes).unwrap();
}

fn veritysetup_verifies(vs: &Peer) -> bool {
    Command::new("veritysetup")
        .arg("verify")
        .arg(format!("--fec-device={}", vs.fec.display()))
        .args([&vs.data, &vs.hash])
        .arg(&vs.root)
        .status()
        .unwrap()
        .success()
}

#[test]
fn repair_by_path_restores_the_bytes_refuses_beyond_capability_and_rewrites_parity() {
    let dir = tempfile::tempdir().unwrap();
    let vs = peer(dir.path(), 2);
    let original = std::fs::read(&vs.data).unwrap();
    let parity = std::fs::read(&vs.fec).unwrap();
    let (intact, _, _) = repair(&vs, ROOTSEAL_FEC_DRY_RUN);
    assert_eq!(intact, S::Ok);

    // Two bad blocks: at most two erasures in any codeword, which two roots correct.
    corrupt(&vs.data, 17);
    corrupt(&vs.data, 230);
    let damaged = std::fs::read(&vs.data).unwrap();
    let (status, written, found) = repair(&vs, ROOTSEAL_FEC_DRY_RUN);
    assert_eq!((status, written), (S::VerityCorrupted, 0));
    assert_eq!(found[ROOTSEAL_FEC_LIST_CORRUPTED_DATA as usize], [17, 230]);
    assert_eq!(found[ROOTSEAL_FEC_LIST_REPAIRABLE_DATA as usize], [17, 230]);
    assert!(found[ROOTSEAL_FEC_LIST_UNREPAIRABLE_DATA as usize].is_empty());
    assert!(std::fs::read(&vs.data).unwrap() == damaged, "a dry run wrote");
    let (status, written, found) = repair(&vs, 0);
    assert_eq!((status, written), (S::Ok, 1));
    assert_eq!(found[ROOTSEAL_FEC_LIST_REPAIRABLE_DATA as usize], [17, 230]);
    assert!(std::fs::read(&vs.data).unwrap() == original, "the repair did not restore the data");
    assert!(veritysetup_verifies(&vs));

    // Twenty bad blocks in a row: about ten erasures per codeword, beyond two roots.
    for block in 40..60 {
        corrupt(&vs.data, block);
    }
    let damaged = std::fs::read(&vs.data).unwrap();
    let (status, written, found) = repair(&vs, 0);
    assert_eq!((status, written), (S::VerityFecUnrepairable, 0));
    assert!(!found[ROOTSEAL_FEC_LIST_UNREPAIRABLE_DATA as usize].is_empty());
    assert_eq!(found[ROOTSEAL_FEC_LIST_CORRUPTED_DATA as usize], (40..60).collect::<Vec<u64>>());
    assert!(std::fs::read(&vs.data).unwrap() == damaged, "an unrepairable image was written");
    std::fs::write(&vs.data, &original).unwrap();

    // Damaged parity is its own class, and a repair rewrites it.
    corrupt(&vs.fec, 1);
    let (status, _, found) = repair(&vs, ROOTSEAL_FEC_DRY_RUN);
    assert_eq!(status, S::VerityCorrupted);
    assert_eq!(found[ROOTSEAL_FEC_LIST_PARITY_MISMATCH as usize], [1]);
    assert!(found[ROOTSEAL_FEC_LIST_CORRUPTED_DATA as usize].is_empty());
    assert_eq!(repair(&vs, 0).0, S::Ok);
    assert!(std::fs::read(&vs.fec).unwrap() == parity, "the parity was not rewritten as veritysetup's");
}

/// `rootseal_verity_engine_repair_io` with 4 roots over data, hash and FEC in memory.
fn repair_io(devices: [&MemoryIo; 3], root: &[u8], flags: u32) -> (S, *mut rootseal_fec_report) {
    let mut fp = fec_params(4);
    fp.flags = flags;
    let mut report = ptr::null_mut();
    let [data, hash, fec] = devices;
    // SAFETY: valid params and callbacks whose devices outlive the call.
    let status = unsafe {
        rootseal_verity_engine_repair_io(
            ptr::null(),
            &params(),
            &fp,
            &data.as_io(),
            &hash.as_io(),
            &fec.as_io(),
            root.as_ptr(),
            root.len(),
            &mut report,
        )
    };
    (status, report)
}

#[test]
fn repair_over_callbacks_restores_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let vs = peer(dir.path(), 4);
    let original = std::fs::read(&vs.data).unwrap();
    corrupt(&vs.data, 3);
    corrupt(&vs.data, 4);
    corrupt(&vs.data, 299);
    let data = MemoryIo::new(std::fs::read(&vs.data).unwrap());
    let hash = MemoryIo::new(std::fs::read(&vs.hash).unwrap());
    let fec = MemoryIo::new(std::fs::read(&vs.fec).unwrap());
    let root = unhex(&vs.root);
    for (flags, expected) in [(ROOTSEAL_FEC_DRY_RUN, S::VerityCorrupted), (0, S::Ok), (ROOTSEAL_FEC_DRY_RUN, S::Ok)] {
        let (status, report) = repair_io([&data, &hash, &fec], &root, flags);
        assert_eq!(status, expected, "flags {flags}");
        if flags == 0 {
            assert_eq!(lists(report)[ROOTSEAL_FEC_LIST_REPAIRABLE_DATA as usize], [3, 4, 299]);
        }
        // SAFETY: a live report, freed once.
        unsafe { rootseal_fec_report_free(report) };
    }
    assert!(*data.bytes.borrow() == original, "the callback repair did not restore the data");

    // A failing read callback is a status, and nothing is written.
    corrupt_bytes(&mut data.bytes.borrow_mut(), 5);
    let before = data.bytes.borrow().clone();
    fec.fail_reads.set(true);
    let (status, report) = repair_io([&data, &hash, &fec], &root, 0);
    assert_eq!(status, S::CallbackFailed);
    assert!(report.is_null(), "a report from a failed call");
    assert!(*data.bytes.borrow() == before, "a failed repair wrote");
}

/// Runs a path format with `p` and `fp`; checks that nothing was created and the
/// out-params are untouched; returns the status.
fn refused_format(p: &rootseal_verity_params, fp: *const rootseal_fec_params) -> S {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.img");
    std::fs::write(&data, common::pseudo_random(9, 64 * BLOCK)).unwrap();
    let (hash, fec) = (dir.path().join("hash.img"), dir.path().join("fec.img"));
    let (mut tree, mut parity) = zeroed_results();
    parity.fec_blocks = 0xabab;
    tree.data_blocks = 0xcdcd;
    // SAFETY: valid (or NULL) params, NUL-terminated paths, writable results.
    let status = unsafe {
        rootseal_verity_engine_format_fec(
            ptr::null(),
            p,
            fp,
            c(&data).as_ptr(),
            c(&hash).as_ptr(),
            c(&fec).as_ptr(),
            &mut tree,
            &mut parity,
        )
    };
    assert!(!hash.exists() && !fec.exists(), "{status:?}: a refused format wrote");
    assert_eq!((tree.data_blocks, parity.fec_blocks), (0xcdcd, 0xabab), "{status:?}: out-params written");
    status
}

#[test]
fn bad_fec_params_are_refused_and_write_nothing() {
    assert_eq!(refused_format(&params(), ptr::null()), S::NullParameter);
    let mut fp = fec_params(2);
    fp.version = 0;
    assert_eq!(refused_format(&params(), &fp), S::UnsupportedParamsVersion);
    let mut fp = fec_params(2);
    fp.reserved[5] = 1;
    assert_eq!(refused_format(&params(), &fp), S::ReservedNotZero);
    for roots in [1, 25] {
        assert_eq!(refused_format(&params(), &fec_params(roots)), S::VerityFecInvalidParams, "roots {roots}");
    }
    let mut fp = fec_params(2);
    fp.offset = 100;
    assert_eq!(refused_format(&params(), &fp), S::VerityFecInvalidParams);
    let mut fp = fec_params(2);
    fp.backend = 99;
    assert_eq!(refused_format(&params(), &fp), S::InvalidArgument);
    let mut fp = fec_params(2);
    fp.flags = ROOTSEAL_FEC_DRY_RUN;
    assert_eq!(refused_format(&params(), &fp), S::InvalidArgument);
    let mut p = params();
    p.hash_block_size = 512;
    assert_eq!(refused_format(&p, &fec_params(2)), S::VerityFecInvalidParams);

    // A callback FEC device too small for the parity: nothing written anywhere.
    let data = MemoryIo::new(common::pseudo_random(9, 64 * BLOCK));
    let hash = MemoryIo::new(vec![0; 4 * BLOCK]);
    let fec = MemoryIo::new(vec![0; BLOCK]);
    let (mut tree, mut parity) = zeroed_results();
    // SAFETY: valid params and callbacks whose devices outlive the call.
    let status = unsafe {
        rootseal_verity_engine_format_fec_io(
            ptr::null(),
            &params(),
            &fec_params(2),
            &data.as_io(),
            &hash.as_io(),
            &fec.as_io(),
            &mut tree,
            &mut parity,
        )
    };
    assert_eq!(status, S::VerityFecDeviceTooSmall);
    assert!(hash.bytes.borrow().iter().all(|&b| b == 0) && fec.bytes.borrow().iter().all(|&b| b == 0));

    // The report accessors on NULL.
    let mut count = 7;
    // SAFETY: NULL report, writable count.
    assert!(unsafe { rootseal_fec_report_blocks(ptr::null(), 0, &mut count) }.is_null());
    assert_eq!(count, 0);
    // SAFETY: NULL is allowed.
    unsafe {
        assert_eq!(rootseal_fec_report_written(ptr::null()), 0);
        rootseal_fec_report_free(ptr::null_mut());
    }
}

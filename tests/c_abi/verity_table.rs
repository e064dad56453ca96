//! `rootseal_verity_kernel_table` from the result of `rootseal_verity_format`: the same
//! line `rootseal verity table` prints (itself checked against the formula in
//! tests/verity/veritysetup_compat.rs), for trees with and without a superblock and
//! with every optional argument; and the buffer, NULL and params contract.

use rootseal::ffi::algorithm::*;
use rootseal::ffi::status::rootseal_status as S;
use rootseal::ffi::verity::*;
use rootseal::ffi::verity_table::*;
use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::process::Command;

use crate::common;

fn format(dir: &Path, params: &rootseal_verity_params) -> (CString, CString, rootseal_verity_result) {
    let data = dir.join("data.img");
    std::fs::write(&data, common::pseudo_random(3, 300 * 4096)).unwrap();
    let hash = dir.join("hash.img");
    let (data, hash) = (CString::new(data.to_str().unwrap()).unwrap(), CString::new(hash.to_str().unwrap()).unwrap());
    // SAFETY: all-zero is a valid result struct (plain integers and arrays).
    let mut result: rootseal_verity_result = unsafe { std::mem::zeroed() };
    // SAFETY: valid params, NUL-terminated paths, writable result.
    let status = unsafe { rootseal_verity_format(params, data.as_ptr(), hash.as_ptr(), &mut result) };
    assert_eq!(status, S::Ok);
    (data, hash, result)
}

fn params() -> rootseal_verity_params {
    // SAFETY: all-zero is the documented starting point of the params struct.
    let mut p: rootseal_verity_params = unsafe { std::mem::zeroed() };
    p.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    p
}

fn table(
    result: &rootseal_verity_result,
    params: Option<&rootseal_verity_table_params>,
    dev: &CString,
) -> (S, String, usize) {
    let mut buf = vec![0 as c_char; 1024];
    let mut len = usize::MAX;
    let params = params.map_or(std::ptr::null(), |p| p as *const _);
    // SAFETY: valid pointers and a writable buffer of the size given.
    let status = unsafe {
        rootseal_verity_kernel_table(result, params, dev.as_ptr(), dev.as_ptr(), buf.as_mut_ptr(), buf.len(), &mut len)
    };
    // SAFETY: the buffer is NUL-terminated: zeroed, and written with a NUL on success.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string();
    (status, text, len)
}

fn cli_table(data: &CString, hash: &CString, root: &[u8], extra: &[&str]) -> String {
    let root: String = root.iter().map(|b| format!("{b:02x}")).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(["verity", "table", data.to_str().unwrap(), hash.to_str().unwrap(), &root])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::describe(&out));
    String::from_utf8(out.stdout).unwrap().trim_end().to_string()
}

fn table_params(flags: u32, corruption: u32, key: Option<&CStr>) -> rootseal_verity_table_params {
    rootseal_verity_table_params {
        version: ROOTSEAL_VERITY_TABLE_PARAMS_VERSION,
        flags,
        corruption,
        reserved0: 0,
        root_hash_sig_key_desc: key.map_or(std::ptr::null(), CStr::as_ptr),
        reserved: [0; 4],
    }
}

#[test]
fn table_line_matches_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (data, hash, result) = format(dir.path(), &params());
    let root = &result.root_hash[..result.root_hash_size as usize];
    // The CLI reads the superblock from the hash device, so the device names are paths.
    let (status, line, len) = table(&result, None, &hash);
    assert_eq!(status, S::Ok);
    assert_eq!(line.len(), len);
    let mut expected = cli_table(&hash, &hash, root, &[]);
    assert_eq!(line, expected);
    assert!(line.contains(" verity 1 ") && line.contains(" 4096 4096 300 1 sha256 "), "{line}");

    let key = CString::new("verity:usr").unwrap();
    let all = table_params(
        ROOTSEAL_VERITY_TABLE_IGNORE_ZERO_BLOCKS
            | ROOTSEAL_VERITY_TABLE_CHECK_AT_MOST_ONCE
            | ROOTSEAL_VERITY_TABLE_USE_TASKLETS
            | ROOTSEAL_VERITY_TABLE_ERROR_AS_CORRUPTION,
        ROOTSEAL_VERITY_CORRUPTION_RESTART,
        Some(&key),
    );
    let (status, line, _) = table(&result, Some(&all), &hash);
    assert_eq!(status, S::Ok);
    expected = cli_table(
        &hash,
        &hash,
        root,
        &[
            "--restart-on-corruption",
            "--error-as-corruption",
            "--ignore-zero-blocks",
            "--check-at-most-once",
            "--use-tasklets",
            "--root-hash-sig-key-desc",
            "verity:usr",
        ],
    );
    assert_eq!(line, expected);
    assert!(
        line.ends_with(
            " 7 restart_on_corruption restart_on_error ignore_zero_blocks check_at_most_once try_verify_in_tasklet \
             root_hash_sig_key_desc verity:usr"
        ),
        "{line}"
    );
    // Error-as-corruption needs restart or panic, in C as on the command line.
    let lone = table_params(ROOTSEAL_VERITY_TABLE_ERROR_AS_CORRUPTION, ROOTSEAL_VERITY_CORRUPTION_IGNORE, None);
    assert_eq!(table(&result, Some(&lone), &hash).0, S::InvalidArgument);
    let unknown = table_params(1 << 4, ROOTSEAL_VERITY_CORRUPTION_EIO, None);
    assert_eq!(table(&result, Some(&unknown), &hash).0, S::InvalidArgument);
    let _ = data;
}

#[test]
fn table_line_without_a_superblock_and_type_0() {
    let dir = tempfile::tempdir().unwrap();
    let salt = [0xab, 0xcd];
    let mut p = params();
    p.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK | ROOTSEAL_VERITY_CHROMEOS_FORMAT;
    p.hash_algorithm = ROOTSEAL_HASH_SHA512;
    p.hash_block_size = 1024;
    p.hash_offset = 8192;
    p.salt = salt.as_ptr();
    p.salt_size = salt.len();
    let (_, hash, result) = format(dir.path(), &p);
    let root = &result.root_hash[..result.root_hash_size as usize];
    let (status, line, _) = table(&result, None, &hash);
    assert_eq!(status, S::Ok, "{}", unsafe { CStr::from_ptr(rootseal::ffi::rootseal_last_error()) }.to_string_lossy());
    let expected = cli_table(
        &hash,
        &hash,
        root,
        &[
            "--no-superblock",
            "--format",
            "0",
            "--hash",
            "sha512",
            "--hash-block-size",
            "1024",
            "--hash-offset",
            "8192",
            "--salt",
            "abcd",
            "--data-blocks",
            "300",
        ],
    );
    assert_eq!(line, expected);
    assert!(line.contains(" verity 0 ") && line.ends_with(" abcd"), "{line}");
}

#[test]
fn buffer_null_and_params_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (_, hash, result) = format(dir.path(), &params());
    let (_, line, _) = table(&result, None, &hash);
    let call =
        |buf: *mut c_char, size: usize, len: *mut usize, params: *const rootseal_verity_table_params, dev: &CString| {
            // SAFETY: the pointers are NULL or valid for what they are used for.
            unsafe { rootseal_verity_kernel_table(&result, params, dev.as_ptr(), dev.as_ptr(), buf, size, len) }
        };
    // Too small by one (no room for the NUL): the length comes back, the buffer is untouched.
    let mut small = vec![0x55 as c_char; line.len()];
    let mut len = 0usize;
    assert_eq!(call(small.as_mut_ptr(), small.len(), &mut len, std::ptr::null(), &hash), S::BufferTooSmall);
    assert_eq!(len, line.len());
    assert!(small.iter().all(|&c| c == 0x55));
    assert_eq!(call(std::ptr::null_mut(), 0, &mut len, std::ptr::null(), &hash), S::BufferTooSmall);
    let mut exact = vec![0 as c_char; line.len() + 1];
    assert_eq!(call(exact.as_mut_ptr(), exact.len(), std::ptr::null_mut(), std::ptr::null(), &hash), S::Ok);
    // SAFETY: NUL-terminated on success.
    assert_eq!(unsafe { CStr::from_ptr(exact.as_ptr()) }.to_str().unwrap(), line);

    let spaced = CString::new("/dev/my disk").unwrap();
    assert_eq!(call(exact.as_mut_ptr(), exact.len(), &mut len, std::ptr::null(), &spaced), S::InvalidArgument);
    let mut bad = table_params(0, 0, None);
    bad.version = 2;
    assert_eq!(call(exact.as_mut_ptr(), exact.len(), &mut len, &bad, &hash), S::UnsupportedParamsVersion);
    bad = table_params(0, 0, None);
    bad.reserved[3] = 1;
    assert_eq!(call(exact.as_mut_ptr(), exact.len(), &mut len, &bad, &hash), S::ReservedNotZero);
    assert_eq!(
        call(exact.as_mut_ptr(), exact.len(), &mut len, &table_params(1 << 7, 0, None), &hash),
        S::InvalidArgument
    );
    assert_eq!(call(exact.as_mut_ptr(), exact.len(), &mut len, &table_params(0, 9, None), &hash), S::InvalidArgument);
    let on = |tree: *const rootseal_verity_result, data_dev: *const c_char| {
        let mut buf = [0 as c_char; 512];
        let mut len = 0usize;
        // SAFETY: `tree` and `data_dev` are NULL or valid; the rest are live locals.
        unsafe {
            rootseal_verity_kernel_table(
                tree,
                std::ptr::null(),
                data_dev,
                hash.as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        }
    };
    // NULL tree and device are refused before any use.
    assert_eq!(on(std::ptr::null(), hash.as_ptr()), S::NullParameter);
    assert_eq!(on(&result, std::ptr::null()), S::NullParameter);
    // A result no format produced: the tree start contradicts the offset.
    let mut forged = result;
    forged.hash_start_block += 5;
    assert_eq!(on(&forged, hash.as_ptr()), S::InvalidArgument);
}

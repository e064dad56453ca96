//! C entry points for dm-verity: format and verify, by path or by callbacks.

use super::algorithm::{algorithm_from_number, algorithm_number};
use super::engine::{hashing_of, rootseal_verity_engine};
use super::io::{CallbackDevice, rootseal_io};
use super::status::rootseal_status;
use super::{Failure, boundary, bytes_arg, check_params, null, path_arg, query};
use crate::io::{BlockDevice, BlockRead};
use crate::text::Uuid;
use crate::verity::{self, FormatOutcome, HashType, RunOptions, VerifyReport, VerityOptions};
use std::ffi::c_char;
use std::ptr;

/// Current version of [`rootseal_verity_params`].
pub const ROOTSEAL_VERITY_PARAMS_VERSION: u32 = 1;

/// Flag: hash type 0 (Chrome OS) instead of type 1.
pub const ROOTSEAL_VERITY_CHROMEOS_FORMAT: u32 = 1 << 0;
/// Flag: no superblock is written (format) or read (verify).
pub const ROOTSEAL_VERITY_NO_SUPERBLOCK: u32 = 1 << 1;
/// Flag: no salt (veritysetup `--salt=-`), even though `salt` is NULL.
pub const ROOTSEAL_VERITY_NO_SALT: u32 = 1 << 2;
const KNOWN_FLAGS: u32 = ROOTSEAL_VERITY_CHROMEOS_FORMAT | ROOTSEAL_VERITY_NO_SUPERBLOCK | ROOTSEAL_VERITY_NO_SALT;

/// Parameters of a verity tree, libfsverity style: zero the struct, set `version` to
/// `ROOTSEAL_VERITY_PARAMS_VERSION`, and set only what you need. Zero means "default"
/// for format and "from the superblock" for verify; with a superblock, a non-zero field
/// that disagrees with it is an error. Reserved fields must be zero.
#[repr(C)]
pub struct rootseal_verity_params {
    /// Must be `ROOTSEAL_VERITY_PARAMS_VERSION`.
    pub version: u32,
    /// One of the `ROOTSEAL_HASH_*` numbers; 0 = sha256.
    pub hash_algorithm: u32,
    /// Data block size in bytes; 0 = 4096.
    pub data_block_size: u32,
    /// Hash block size in bytes; 0 = 4096.
    pub hash_block_size: u32,
    /// `ROOTSEAL_VERITY_*` flags.
    pub flags: u32,
    /// Worker threads for path-based calls; 0 = every core. Callback-based calls
    /// always run on the calling thread.
    pub threads: u32,
    /// Data blocks to cover; 0 = every whole block of the data device.
    pub data_blocks: u64,
    /// Byte offset of the superblock (or of the tree, without one) on the hash device.
    pub hash_offset: u64,
    /// Salt bytes; NULL with `salt_size` 0 = 32 random bytes for format, and for verify
    /// the superblock's salt (or none without a superblock).
    pub salt: *const u8,
    /// Length of `salt`, at most 256.
    pub salt_size: usize,
    /// Superblock UUID; all zero = random for format, the superblock's for verify.
    pub uuid: [u8; 16],
    /// Reserved, must be zero.
    pub reserved: [u64; 8],
}

/// What format produced. Written only when the call succeeds.
#[repr(C)]
pub struct rootseal_verity_result {
    /// The root hash; the first `root_hash_size` bytes are used.
    pub root_hash: [u8; 64],
    /// Root hash length in bytes.
    pub root_hash_size: u32,
    /// The `ROOTSEAL_HASH_*` number of the algorithm used.
    pub hash_algorithm: u32,
    /// The salt used (generated when none was given); `salt_size` bytes are used.
    pub salt: [u8; 256],
    /// Salt length in bytes.
    pub salt_size: u32,
    /// Hash type (0 or 1).
    pub hash_type: u32,
    /// Superblock UUID (all zero without a superblock).
    pub uuid: [u8; 16],
    /// Data block size in bytes.
    pub data_block_size: u32,
    /// Hash block size in bytes.
    pub hash_block_size: u32,
    /// Data blocks covered.
    pub data_blocks: u64,
    /// Superblock (or tree) offset in bytes.
    pub hash_offset: u64,
    /// First tree block in hash-block units: the table's `<hash_start_block>`.
    pub hash_start_block: u64,
    /// Tree size in hash blocks, superblock excluded.
    pub hash_blocks: u64,
    /// Reserved for future fields; set to zero.
    pub reserved: [u64; 8],
}

/// The outcome of a verification: the corrupted block lists. Opaque; free it with
/// [`rootseal_verity_report_free`].
pub struct rootseal_verity_report {
    report: VerifyReport,
}

fn nonzero<T: PartialEq + Default>(value: T) -> Option<T> {
    (value != T::default()).then_some(value)
}

/// Checks a params struct and turns it into options plus a thread count.
///
/// # Safety
/// `params` must be NULL or point to a valid struct whose `salt` is valid for `salt_size` bytes.
pub(super) unsafe fn options_from(
    params: *const rootseal_verity_params,
) -> Result<(VerityOptions, Option<usize>), Failure> {
    if params.is_null() {
        return Err(null("params"));
    }
    // SAFETY: non-NULL and valid per the contract above.
    let p = unsafe { &*params };
    check_params("params", p.version, ROOTSEAL_VERITY_PARAMS_VERSION, p.reserved.iter().all(|&r| r == 0))?;
    if p.flags & !KNOWN_FLAGS != 0 {
        return Err(Failure::new(
            rootseal_status::InvalidArgument,
            format!("unknown flags {:#x}", p.flags & !KNOWN_FLAGS),
        ));
    }
    // The length is checked before any slice is made from it.
    if p.salt_size > verity::MAX_SALT_SIZE {
        return Err(Failure::new(
            rootseal_status::VerityInvalidSalt,
            format!("salt_size {} exceeds {}", p.salt_size, verity::MAX_SALT_SIZE),
        ));
    }
    // SAFETY: `salt` is valid for `salt_size` bytes per the contract above.
    let salt_bytes = unsafe { bytes_arg(p.salt, p.salt_size, "params.salt") }?;
    let salt = if p.flags & ROOTSEAL_VERITY_NO_SALT != 0 {
        if !salt_bytes.is_empty() {
            return Err(Failure::new(rootseal_status::InvalidArgument, "NO_SALT given together with a salt"));
        }
        Some(Vec::new())
    } else if p.salt.is_null() {
        None
    } else {
        Some(salt_bytes.to_vec())
    };
    let opts = VerityOptions {
        hash_algorithm: algorithm_from_number(p.hash_algorithm)?,
        hash_type: (p.flags & ROOTSEAL_VERITY_CHROMEOS_FORMAT != 0).then_some(HashType::ChromeOs),
        data_block_size: nonzero(p.data_block_size),
        hash_block_size: nonzero(p.hash_block_size),
        data_blocks: nonzero(p.data_blocks),
        hash_offset: p.hash_offset,
        salt,
        uuid: nonzero(p.uuid).map(Uuid),
        no_superblock: p.flags & ROOTSEAL_VERITY_NO_SUPERBLOCK != 0,
    };
    Ok((opts, nonzero(p.threads as usize)))
}

fn result_from(outcome: &FormatOutcome) -> rootseal_verity_result {
    let config = &outcome.config;
    let mut result = rootseal_verity_result {
        root_hash: [0; 64],
        root_hash_size: outcome.root_hash.len() as u32,
        hash_algorithm: algorithm_number(config.hash_algorithm),
        salt: [0; 256],
        salt_size: config.salt.len() as u32,
        hash_type: config.hash_type.as_u32(),
        uuid: config.superblock_uuid.map_or([0; 16], |u| u.0),
        data_block_size: config.data_block_size,
        hash_block_size: config.hash_block_size,
        data_blocks: config.data_blocks,
        hash_offset: config.hash_offset,
        hash_start_block: outcome.layout.hash_start_block(),
        hash_blocks: outcome.layout.hash_blocks(),
        reserved: [0; 8],
    };
    result.root_hash[..outcome.root_hash.len()].copy_from_slice(&outcome.root_hash);
    result.salt[..config.salt.len()].copy_from_slice(&config.salt);
    result
}

/// The devices, root hash and hashing of a call that checks a tree over callbacks
/// (verify, range verification, the verified reader).
pub(super) struct CheckedTree<'a> {
    pub data: CallbackDevice,
    pub hash: CallbackDevice,
    /// One device holds both (the same non-NULL `ctx`).
    pub same: bool,
    pub root: &'a [u8],
    pub hashing: crate::verity::HashChoice,
}

/// Checks, in this order, the read-only `data` and `hash` callbacks, the root hash and
/// the engine of a call that checks a tree.
///
/// # Safety
/// `data`, `hash` NULL or valid `rootseal_io`s; `root_hash` NULL or readable for
/// `root_hash_size` bytes for the call; `engine` NULL or a live engine.
pub(super) unsafe fn checked_tree<'a>(
    engine: *const rootseal_verity_engine,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
) -> Result<CheckedTree<'a>, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let data = unsafe { CallbackDevice::from_ptr(data, "data", false) }?;
    // SAFETY: as above.
    let hash = unsafe { CallbackDevice::from_ptr(hash, "hash", false) }?;
    // SAFETY: as above.
    let root = unsafe { root_hash_arg(root_hash, root_hash_size) }?;
    // SAFETY: as above.
    let hashing = unsafe { hashing_of(engine) }?;
    let same = data.same_device_as(&hash);
    Ok(CheckedTree { data, hash, same, root, hashing })
}

/// Borrows the root hash argument, which is required even when its size is 0.
///
/// # Safety
/// `root_hash` must be NULL or readable for `size` bytes for the duration of the call.
pub(super) unsafe fn root_hash_arg<'a>(root_hash: *const u8, size: usize) -> Result<&'a [u8], Failure> {
    if root_hash.is_null() {
        return Err(null("root_hash"));
    }
    // No digest is longer than 64 bytes; a larger size is refused before any slice is made.
    if size > 64 {
        return Err(Failure::new(
            rootseal_status::VerityRootHashLength,
            format!("root_hash_size {size} exceeds the largest digest (64 bytes)"),
        ));
    }
    // SAFETY: per this function's contract.
    unsafe { bytes_arg(root_hash, size, "root_hash") }
}

/// Writes the result only now that the operation succeeded.
///
/// # Safety
/// `out` must be NULL or valid for a write of the struct.
pub(super) unsafe fn store_result(out: *mut rootseal_verity_result, outcome: &FormatOutcome) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { out.write(result_from(outcome)) };
    }
}

/// Finishes a verify call: the status tells intact from corrupted, and the report goes
/// to `report_out` when the caller asked for it.
///
/// # Safety
/// `report_out` must be NULL or valid for a pointer write.
pub(super) unsafe fn finish_verify(
    report: VerifyReport,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    let status = if report.is_intact() {
        rootseal_status::Ok
    } else if report.root_hash_mismatch.is_some() {
        rootseal_status::VerityRootHashMismatch
    } else {
        rootseal_status::VerityCorrupted
    };
    if !report_out.is_null() {
        let boxed = Box::into_raw(Box::new(rootseal_verity_report { report }));
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { report_out.write(boxed) };
    }
    status
}

/// The body of `rootseal_verity_format` and `rootseal_verity_engine_format`.
///
/// # Safety
/// As for [`rootseal_verity_engine_format`].
unsafe fn format_paths(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    result_out: *mut rootseal_verity_result,
) -> Result<rootseal_status, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let (opts, threads) = unsafe { options_from(params) }?;
    // SAFETY: as above.
    let (data, hash) = unsafe { (path_arg(data_path, "data_path")?, path_arg(hash_path, "hash_path")?) };
    // SAFETY: as above.
    let hashing = unsafe { hashing_of(engine) }?;
    let outcome = verity::format_paths(data, hash, &opts, &RunOptions { threads, progress: None, hashing })?;
    // SAFETY: as above.
    unsafe { store_result(result_out, &outcome) };
    Ok(rootseal_status::Ok)
}

/// Builds the verity tree of the file or block device `data_path` into `hash_path`
/// (created if missing, never truncated; it may be the same path, with the hash area
/// after the data). Hashed on `params.threads` threads (at most one per core), with the
/// process default hashing backend (see `rootseal_hash_backend_force`).
///
/// Files and block devices are read with pread into bounded buffers, never mapped: a
/// file truncated, grown or rewritten during the call gives
/// `ROOTSEAL_STATUS_VERITY_FILE_CHANGED` (never SIGBUS), and media errors come back as
/// `ROOTSEAL_STATUS_IO`.
///
/// `result_out` may be NULL; otherwise it receives the root hash, salt and layout, and
/// is written only on success. Returns `ROOTSEAL_STATUS_OK`, or an error status with a
/// message in `rootseal_last_error()`; nothing is written when parameters are invalid.
/// Thread-safe: concurrent calls on different files are fine.
///
/// # Safety
/// Pointers must be NULL or valid: `params` per its documentation, the paths
/// NUL-terminated, `result_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_format(
    params: *const rootseal_verity_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    result_out: *mut rootseal_verity_result,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { format_paths(ptr::null(), params, data_path, hash_path, result_out) })
}

/// [`rootseal_verity_format`] with the hashing backend (or FIPS mode) of `engine`
/// instead of the process default; a NULL `engine` means the process default.
///
/// # Safety
/// As for [`rootseal_verity_format`]; `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_format(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    result_out: *mut rootseal_verity_result,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { format_paths(engine, params, data_path, hash_path, result_out) })
}

/// The body of `rootseal_verity_verify` and `rootseal_verity_engine_verify`.
///
/// # Safety
/// As for [`rootseal_verity_engine_verify`].
unsafe fn verify_paths(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_verity_report,
) -> Result<rootseal_status, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let (opts, threads) = unsafe { options_from(params) }?;
    // SAFETY: as above.
    let (data, hash) = unsafe { (path_arg(data_path, "data_path")?, path_arg(hash_path, "hash_path")?) };
    // SAFETY: as above.
    let root = unsafe { root_hash_arg(root_hash, root_hash_size) }?;
    // SAFETY: as above.
    let hashing = unsafe { hashing_of(engine) }?;
    let report = verity::verify_paths(data, hash, &opts, root, &RunOptions { threads, progress: None, hashing })?;
    // SAFETY: as above.
    Ok(unsafe { finish_verify(report, report_out) })
}

/// Verifies `data_path` against the tree in `hash_path` and the `root_hash` bytes, with
/// the process default hashing backend.
///
/// Returns `ROOTSEAL_STATUS_OK` when every block matches, `ROOTSEAL_STATUS_VERITY_CORRUPTED`
/// when some do not, or another status when verification could not run. For OK and
/// VERITY_CORRUPTED, if `report_out` is not NULL it receives a report listing the bad
/// blocks, to be freed with `rootseal_verity_report_free`. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid: `params` per its documentation, the paths
/// NUL-terminated, `root_hash` readable for `root_hash_size` bytes, `report_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_verify(
    params: *const rootseal_verity_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe {
        verify_paths(ptr::null(), params, data_path, hash_path, root_hash, root_hash_size, report_out)
    })
}

/// [`rootseal_verity_verify`] with the hashing backend (or FIPS mode) of `engine`; a
/// NULL `engine` means the process default.
/// A report stored in `*report_out` is freed with `rootseal_verity_report_free`.
///
/// # Safety
/// As for [`rootseal_verity_verify`]; `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_verify(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { verify_paths(engine, params, data_path, hash_path, root_hash, root_hash_size, report_out) })
}

/// The body of `rootseal_verity_format_io` and `rootseal_verity_engine_format_io`.
///
/// # Safety
/// As for [`rootseal_verity_engine_format_io`].
unsafe fn format_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    result_out: *mut rootseal_verity_result,
) -> Result<rootseal_status, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let (opts, _) = unsafe { options_from(params) }?;
    // SAFETY: as above.
    let data = unsafe { CallbackDevice::from_ptr(data, "data", false) }?;
    // SAFETY: as above.
    let hash = unsafe { CallbackDevice::from_ptr(hash, "hash", true) }?;
    // SAFETY: as above.
    let hashing = unsafe { hashing_of(engine) }?;
    let same = data.same_device_as(&hash);
    let run = RunOptions { threads: Some(1), progress: None, hashing };
    let outcome = verity::format(&data as &dyn BlockRead, &hash as &dyn BlockDevice, same, &opts, &run)?;
    // SAFETY: as above.
    unsafe { store_result(result_out, &outcome) };
    Ok(rootseal_status::Ok)
}

/// Like [`rootseal_verity_format`], over caller-supplied devices: `data` needs `read`
/// and `size`; `hash` needs all four of `read`, `write`, `flush` and `size`, and must be
/// large enough for the tree. Passing the same non-NULL `ctx` for both means one shared
/// device, whose data and hash areas must not overlap; different (or NULL) `ctx` values
/// mean two devices. Callbacks run on the calling thread only.
///
/// # Safety
/// Pointers must be NULL or valid, and the callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_format_io(
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    result_out: *mut rootseal_verity_result,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { format_io(ptr::null(), params, data, hash, result_out) })
}

/// [`rootseal_verity_format_io`] with the hashing backend (or FIPS mode) of `engine`; a
/// NULL `engine` means the process default.
///
/// # Safety
/// As for [`rootseal_verity_format_io`]; `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_format_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    result_out: *mut rootseal_verity_result,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { format_io(engine, params, data, hash, result_out) })
}

/// The body of `rootseal_verity_verify_io` and `rootseal_verity_engine_verify_io`.
///
/// # Safety
/// As for [`rootseal_verity_engine_verify_io`].
unsafe fn verify_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_verity_report,
) -> Result<rootseal_status, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let (opts, _) = unsafe { options_from(params) }?;
    // SAFETY: as above.
    let CheckedTree { data, hash, same, root, hashing } =
        unsafe { checked_tree(engine, data, hash, root_hash, root_hash_size) }?;
    let report =
        verity::verify(&data, &hash, same, &opts, root, &RunOptions { threads: Some(1), progress: None, hashing })?;
    // SAFETY: as above.
    Ok(unsafe { finish_verify(report, report_out) })
}

/// Like [`rootseal_verity_verify`], over caller-supplied devices (`read` and `size` are
/// required for both). Callbacks run on the calling thread only. A report stored in
/// `*report_out` belongs to the caller: free it with `rootseal_verity_report_free`.
///
/// # Safety
/// Pointers must be NULL or valid, and the callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_verify_io(
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { verify_io(ptr::null(), params, data, hash, root_hash, root_hash_size, report_out) })
}

/// [`rootseal_verity_verify_io`] with the hashing backend (or FIPS mode) of `engine`; a
/// NULL `engine` means the process default.
/// A report stored in `*report_out` is freed with `rootseal_verity_report_free`.
///
/// # Safety
/// As for [`rootseal_verity_verify_io`]; `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_verify_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { verify_io(engine, params, data, hash, root_hash, root_hash_size, report_out) })
}

/// Returns the corrupted data block indexes and stores their number in `*count_out`.
/// The array belongs to the report and lives until it is freed. An empty list, or a
/// NULL `report`, gives NULL and a count of 0. Thread-safe for concurrent readers.
///
/// # Safety
/// `report` must be NULL or a live report; `count_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_report_corrupted_data_blocks(
    report: *const rootseal_verity_report,
    count_out: *mut usize,
) -> *const u64 {
    // SAFETY: per the contract above.
    unsafe { report_list(report, count_out, |r| &r.corrupted_data_blocks) }
}

/// Returns the corrupted hash block numbers (hash-block units from the start of the
/// hash device, like the kernel's "metadata block") and their count, as for
/// [`rootseal_verity_report_corrupted_data_blocks`].
///
/// # Safety
/// `report` must be NULL or a live report; `count_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_report_corrupted_hash_blocks(
    report: *const rootseal_verity_report,
    count_out: *mut usize,
) -> *const u64 {
    // SAFETY: per the contract above.
    unsafe { report_list(report, count_out, |r| &r.corrupted_hash_blocks) }
}

/// Returns the tree's own root hash when the verification ended in
/// `ROOTSEAL_STATUS_VERITY_ROOT_HASH_MISMATCH` (every block matches the tree, but its
/// root is not the hash given), and stores its length in `*size_out`. Otherwise, or for
/// a NULL `report`, gives NULL and a size of 0. The bytes belong to the report.
///
/// # Safety
/// `report` must be NULL or a live report; `size_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_report_tree_root_hash(
    report: *const rootseal_verity_report,
    size_out: *mut usize,
) -> *const u8 {
    query(|| {
        // SAFETY: NULL or a live report per the caller's contract.
        let stored = unsafe { report.as_ref() }.and_then(|r| r.report.root_hash_mismatch.as_deref());
        let (ptr, size) = match stored {
            Some(bytes) => (bytes.as_ptr(), bytes.len()),
            None => (ptr::null(), 0),
        };
        if !size_out.is_null() {
            // SAFETY: non-NULL and writable per the caller's contract.
            unsafe { size_out.write(size) };
        }
        Ok(ptr)
    })
}

/// # Safety
/// As for the public accessors.
unsafe fn report_list(
    report: *const rootseal_verity_report,
    count_out: *mut usize,
    pick: fn(&VerifyReport) -> &Vec<u64>,
) -> *const u64 {
    query(|| {
        // SAFETY: NULL or a live report per the caller's contract.
        let (ptr, count) = match unsafe { report.as_ref() } {
            Some(r) => {
                let list = pick(&r.report);
                (if list.is_empty() { ptr::null() } else { list.as_ptr() }, list.len())
            }
            None => (ptr::null(), 0),
        };
        if !count_out.is_null() {
            // SAFETY: non-NULL and writable per the caller's contract.
            unsafe { count_out.write(count) };
        }
        Ok(ptr)
    })
}

/// Frees a report. NULL is a no-op; freeing twice is a caller bug.
///
/// # Safety
/// `report` must be NULL or a report from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_report_free(report: *mut rootseal_verity_report) {
    query(|| {
        if !report.is_null() {
            // SAFETY: it came from Box::into_raw in finish_verify and is freed once.
            drop(unsafe { Box::from_raw(report) });
        }
        Ok(())
    })
}

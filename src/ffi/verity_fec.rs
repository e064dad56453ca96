//! C entry points for dm-verity forward error correction: format with parity, check
//! and repair with it (by path or by callbacks), and the kernel table with
//! `use_fec_from_device`.

use super::engine::{hashing_of, rootseal_verity_engine};
use super::io::{CallbackDevice, rootseal_io};
use super::status::rootseal_status;
use super::verity::{options_from, root_hash_arg, rootseal_verity_params, rootseal_verity_result, store_result};
use super::{Failure, boundary, check_params, null, path_arg, query};
use crate::io::{BlockDevice, BlockRead};
use crate::verity::fec::{self, FecBackend, FecFormatOutcome, FecOptions, RepairReport, Sharing};
use crate::verity::{RunOptions, VerityOptions};
use std::ffi::c_char;
use std::ptr;

/// Current version of [`rootseal_fec_params`].
pub const ROOTSEAL_FEC_PARAMS_VERSION: u32 = 1;

/// `rootseal_fec_params.flags` for repair: check and report only, write nothing.
pub const ROOTSEAL_FEC_DRY_RUN: u32 = 1 << 0;

/// `rootseal_fec_params.backend`: the fastest encoder this CPU runs.
pub const ROOTSEAL_FEC_BACKEND_DEFAULT: u32 = 0;
/// GFNI on 512-bit vectors (AVX-512 + GFNI).
pub const ROOTSEAL_FEC_BACKEND_GFNI: u32 = 1;
/// GFNI on 256-bit vectors (AVX2 + GFNI).
pub const ROOTSEAL_FEC_BACKEND_GFNI_AVX2: u32 = 2;
/// Split-nibble shuffles on 512-bit vectors (AVX-512BW).
pub const ROOTSEAL_FEC_BACKEND_AVX512: u32 = 3;
/// Split-nibble shuffles on 256-bit vectors (AVX2).
pub const ROOTSEAL_FEC_BACKEND_AVX2: u32 = 4;
/// Portable code, any CPU.
pub const ROOTSEAL_FEC_BACKEND_PORTABLE: u32 = 5;

/// The one table of `ROOTSEAL_FEC_BACKEND_*` numbers.
const BACKEND_NUMBERS: [(u32, FecBackend); 5] = [
    (ROOTSEAL_FEC_BACKEND_GFNI, FecBackend::Gfni),
    (ROOTSEAL_FEC_BACKEND_GFNI_AVX2, FecBackend::GfniAvx2),
    (ROOTSEAL_FEC_BACKEND_AVX512, FecBackend::Avx512),
    (ROOTSEAL_FEC_BACKEND_AVX2, FecBackend::Avx2),
    (ROOTSEAL_FEC_BACKEND_PORTABLE, FecBackend::Portable),
];

/// `rootseal_fec_report_blocks` list: data blocks the tree found corrupted.
pub const ROOTSEAL_FEC_LIST_CORRUPTED_DATA: u32 = 0;
/// Hash blocks the tree found corrupted (hash-block units from the device start).
pub const ROOTSEAL_FEC_LIST_CORRUPTED_HASH: u32 = 1;
/// Data blocks FEC repairs (or, after a repair that wrote, repaired).
pub const ROOTSEAL_FEC_LIST_REPAIRABLE_DATA: u32 = 2;
/// Hash blocks FEC repairs (or repaired).
pub const ROOTSEAL_FEC_LIST_REPAIRABLE_HASH: u32 = 3;
/// Data blocks beyond the code's capability.
pub const ROOTSEAL_FEC_LIST_UNREPAIRABLE_DATA: u32 = 4;
/// Hash blocks beyond the code's capability.
pub const ROOTSEAL_FEC_LIST_UNREPAIRABLE_HASH: u32 = 5;
/// Parity blocks (from the start of the parity area) that do not match the image.
pub const ROOTSEAL_FEC_LIST_PARITY_MISMATCH: u32 = 6;

/// The FEC options, veritysetup's `--fec-roots` and `--fec-offset`. Zero the struct,
/// set `version` to `ROOTSEAL_FEC_PARAMS_VERSION`, and set what you need; the reserved
/// fields must be zero.
#[repr(C)]
pub struct rootseal_fec_params {
    /// Must be `ROOTSEAL_FEC_PARAMS_VERSION`.
    pub version: u32,
    /// Parity bytes per codeword, 2 to 24; 0 = 2 (veritysetup's default).
    pub roots: u32,
    /// Byte offset of the parity area on the FEC device; a multiple of the block size.
    pub offset: u64,
    /// A `ROOTSEAL_FEC_BACKEND_*` number; 0 = the fastest this CPU runs.
    pub backend: u32,
    /// `ROOTSEAL_FEC_DRY_RUN` for repair; 0 for format.
    pub flags: u32,
    /// Reserved, must be zero.
    pub reserved: [u64; 6],
}

/// Where format put the parity: the numbers of the kernel table's
/// `use_fec_from_device`. Written only when the call succeeds.
#[repr(C)]
pub struct rootseal_fec_result {
    /// Parity bytes per codeword (`fec_roots`).
    pub roots: u32,
    /// The `ROOTSEAL_FEC_BACKEND_*` number of the encoder that ran.
    pub backend: u32,
    /// Byte offset of the parity area on the FEC device.
    pub offset: u64,
    /// The parity area's first block (`fec_start`).
    pub fec_start: u64,
    /// Blocks the parity covers (`fec_blocks`): data, then the hash device.
    pub fec_blocks: u64,
    /// Size of the parity area in blocks.
    pub parity_blocks: u64,
    /// Reserved for future fields; set to zero.
    pub reserved: [u64; 4],
}

/// What a parity check or a repair found and did. Opaque; read it with
/// [`rootseal_fec_report_blocks`] and [`rootseal_fec_report_written`], free it with
/// [`rootseal_fec_report_free`].
pub struct rootseal_fec_report {
    report: RepairReport,
}

/// Checks a FEC params struct; `repair` allows the repair flags.
///
/// # Safety
/// `params` must be NULL or point to a valid struct.
unsafe fn fec_options_from(params: *const rootseal_fec_params, repair: bool) -> Result<(FecOptions, bool), Failure> {
    // SAFETY: NULL or valid per the contract above.
    let p = unsafe { params.as_ref() }.ok_or_else(|| null("fec_params"))?;
    check_params("fec_params", p.version, ROOTSEAL_FEC_PARAMS_VERSION, p.reserved.iter().all(|&r| r == 0))?;
    let known = if repair { ROOTSEAL_FEC_DRY_RUN } else { 0 };
    if p.flags & !known != 0 {
        return Err(Failure::new(
            rootseal_status::InvalidArgument,
            format!("unknown FEC flags {:#x}", p.flags & !known),
        ));
    }
    let backend = match p.backend {
        ROOTSEAL_FEC_BACKEND_DEFAULT => None,
        number => Some(BACKEND_NUMBERS.iter().find(|(n, _)| *n == number).map(|&(_, b)| b).ok_or_else(|| {
            Failure::new(rootseal_status::InvalidArgument, format!("FEC backend number {number} is unknown"))
        })?),
    };
    let roots = if p.roots == 0 { fec::DEFAULT_ROOTS } else { p.roots };
    Ok((FecOptions { roots, offset: p.offset, backend }, p.flags & ROOTSEAL_FEC_DRY_RUN != 0))
}

fn backend_number(backend: FecBackend) -> u32 {
    BACKEND_NUMBERS.iter().find(|(_, b)| *b == backend).map_or(ROOTSEAL_FEC_BACKEND_DEFAULT, |&(n, _)| n)
}

/// Writes both results only now that the format succeeded.
///
/// # Safety
/// Both pointers must be NULL or valid for a write of their struct.
unsafe fn store_format(
    outcome: &FecFormatOutcome,
    result_out: *mut rootseal_verity_result,
    fec_result_out: *mut rootseal_fec_result,
) {
    // SAFETY: per the contract above.
    unsafe { store_result(result_out, &outcome.tree) };
    if !fec_result_out.is_null() {
        let placement = &outcome.placement;
        let result = rootseal_fec_result {
            roots: placement.roots(),
            backend: backend_number(outcome.backend),
            offset: placement.offset,
            fec_start: placement.fec_start(),
            fec_blocks: placement.fec_blocks(),
            parity_blocks: placement.parity_blocks(),
            reserved: [0; 4],
        };
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { fec_result_out.write(result) };
    }
}

/// Builds the verity tree of `data_path` into `hash_path`, as
/// `rootseal_verity_engine_format`, and the Reed-Solomon parity into `fec_path`: the
/// bytes `veritysetup format --fec-device` writes. `fec_path` may be a file of its own,
/// the hash file (with `fec_params.offset` after the tree) or the one file holding data
/// and tree too. `engine` may be NULL for the process default hashing.
///
/// Nothing is written unless every check of the tree and the parity placement passes
/// (roots, block sizes, offset alignment, overlaps, a FEC block device large enough).
/// `result_out` and `fec_result_out` may be NULL; they are written only on success.
/// `fec_result_out` gives the kernel table's `fec_start`, `fec_blocks` and `fec_roots`.
/// Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid: the params structs per their documentation, the
/// paths NUL-terminated, the results writable; `engine` NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_format_fec(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    fec_params: *const rootseal_fec_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    fec_path: *const c_char,
    result_out: *mut rootseal_verity_result,
    fec_result_out: *mut rootseal_fec_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (opts, threads) = unsafe { options_from(params) }?;
        // SAFETY: as above.
        let (fec_opts, _) = unsafe { fec_options_from(fec_params, false) }?;
        // SAFETY: as above.
        let (data, hash, fec_file) = unsafe {
            (path_arg(data_path, "data_path")?, path_arg(hash_path, "hash_path")?, path_arg(fec_path, "fec_path")?)
        };
        // SAFETY: as above.
        let hashing = unsafe { hashing_of(engine) }?;
        let run = RunOptions { threads, progress: None, hashing };
        let outcome = fec::format_paths(data, hash, fec_file, &opts, &fec_opts, &run)?;
        // SAFETY: as above.
        unsafe { store_format(&outcome, result_out, fec_result_out) };
        Ok(rootseal_status::Ok)
    })
}

/// Which of the three callback sets are one device (the same non-NULL `ctx`).
fn sharing_of(data: &CallbackDevice, hash: &CallbackDevice, fec: &CallbackDevice) -> (bool, Sharing) {
    (data.same_device_as(hash), Sharing { with_data: fec.same_device_as(data), with_hash: fec.same_device_as(hash) })
}

/// [`rootseal_verity_engine_format_fec`] over caller-supplied devices: `data` needs
/// `read` and `size`; `hash` and `fec` need `read`, `write`, `flush` and `size`, and
/// must be large enough for the tree and the parity area. The same non-NULL `ctx` in
/// two sets means one shared device, as for `rootseal_verity_format_io`. Callbacks run
/// on the calling thread only.
///
/// # Safety
/// Pointers must be NULL or valid, and the callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_format_fec_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    fec_params: *const rootseal_fec_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    fec: *const rootseal_io,
    result_out: *mut rootseal_verity_result,
    fec_result_out: *mut rootseal_fec_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let (opts, _) = unsafe { options_from(params) }?;
        // SAFETY: as above.
        let (fec_opts, _) = unsafe { fec_options_from(fec_params, false) }?;
        // SAFETY: as above.
        let (data, hash, fec_dev) = unsafe {
            (
                CallbackDevice::from_ptr(data, "data", false)?,
                CallbackDevice::from_ptr(hash, "hash", true)?,
                CallbackDevice::from_ptr(fec, "fec", true)?,
            )
        };
        // SAFETY: as above.
        let hashing = unsafe { hashing_of(engine) }?;
        let (same, sharing) = sharing_of(&data, &hash, &fec_dev);
        let run = RunOptions { threads: Some(1), progress: None, hashing };
        let outcome = fec::format(
            &data as &dyn BlockRead,
            &hash as &dyn BlockDevice,
            &fec_dev as &dyn BlockDevice,
            same,
            sharing,
            &opts,
            &fec_opts,
            &run,
        )?;
        // SAFETY: as above.
        unsafe { store_format(&outcome, result_out, fec_result_out) };
        Ok(rootseal_status::Ok)
    })
}

/// Ends a check or repair: the status from the report, which goes to `report_out`
/// when the caller asked for it.
///
/// # Safety
/// `report_out` must be NULL or valid for a pointer write.
unsafe fn finish_repair(report: RepairReport, report_out: *mut *mut rootseal_fec_report) -> rootseal_status {
    let status = if report.is_intact() || report.written {
        rootseal_status::Ok
    } else if report.before.root_hash_mismatch.is_some() {
        rootseal_status::VerityRootHashMismatch
    } else if !report.is_repairable() {
        rootseal_status::VerityFecUnrepairable
    } else {
        // Only a dry run ends here: a repair of repairable damage writes.
        rootseal_status::VerityCorrupted
    };
    if !report_out.is_null() {
        let boxed = Box::into_raw(Box::new(rootseal_fec_report { report }));
        // SAFETY: non-NULL and writable per the contract above.
        unsafe { report_out.write(boxed) };
    }
    status
}

/// The arguments both repair entry points share, checked.
struct RepairArgs<'a> {
    opts: VerityOptions,
    threads: Option<usize>,
    fec_opts: FecOptions,
    dry_run: bool,
    root: &'a [u8],
    hashing: crate::verity::HashChoice,
}

/// Checks the arguments both repair entry points share.
///
/// # Safety
/// As for [`rootseal_verity_engine_repair`].
unsafe fn repair_args<'a>(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    fec_params: *const rootseal_fec_params,
    root_hash: *const u8,
    root_hash_size: usize,
) -> Result<RepairArgs<'a>, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let (opts, threads) = unsafe { options_from(params) }?;
    // SAFETY: as above.
    let (fec_opts, dry_run) = unsafe { fec_options_from(fec_params, true) }?;
    // SAFETY: as above.
    let root = unsafe { root_hash_arg(root_hash, root_hash_size) }?;
    // SAFETY: as above.
    let hashing = unsafe { hashing_of(engine) }?;
    Ok(RepairArgs { opts, threads, fec_opts, dry_run, root, hashing })
}

/// Checks `data_path` and the tree in `hash_path` against `root_hash`, and the parity
/// in `fec_path` against both; repairs damaged data and hash blocks in place with the
/// parity unless `fec_params.flags` has `ROOTSEAL_FEC_DRY_RUN`. `engine` may be NULL
/// for the process default hashing.
///
/// The tree names the bad blocks; they are erasures, so a codeword with up to `roots`
/// bad blocks decodes. Every repaired block is verified against the tree before
/// anything is written, and nothing is written unless every damaged block can be
/// repaired; blocks are written one by one, data and tree first, then the parity that
/// no longer matches, then a flush, so a power cut leaves each block old or new and a
/// second call finishes the job.
///
/// Returns `ROOTSEAL_STATUS_OK` when nothing was damaged or everything was repaired
/// (`rootseal_fec_report_written` tells which), `ROOTSEAL_STATUS_VERITY_CORRUPTED` for a
/// dry run that found damage FEC can repair, `ROOTSEAL_STATUS_VERITY_FEC_UNREPAIRABLE`
/// when some block cannot be repaired (nothing written),
/// `ROOTSEAL_STATUS_VERITY_ROOT_HASH_MISMATCH` when the tree is intact but its root is
/// another, or another status when the check could not run. With those four,
/// `report_out` (if not NULL) receives the report, which the caller frees with
/// `rootseal_fec_report_free`. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid: the params structs per their documentation, the
/// paths NUL-terminated, `root_hash` readable for `root_hash_size` bytes, `report_out`
/// writable; `engine` NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_repair(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    fec_params: *const rootseal_fec_params,
    data_path: *const c_char,
    hash_path: *const c_char,
    fec_path: *const c_char,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_fec_report,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let RepairArgs { opts, threads, fec_opts, dry_run, root, hashing } =
            unsafe { repair_args(engine, params, fec_params, root_hash, root_hash_size) }?;
        // SAFETY: as above.
        let (data, hash, fec_file) = unsafe {
            (path_arg(data_path, "data_path")?, path_arg(hash_path, "hash_path")?, path_arg(fec_path, "fec_path")?)
        };
        let run = RunOptions { threads, progress: None, hashing };
        let report = fec::repair_paths(data, hash, fec_file, &opts, &fec_opts, root, &run, !dry_run)?;
        // SAFETY: as above.
        Ok(unsafe { finish_repair(report, report_out) })
    })
}

/// [`rootseal_verity_engine_repair`] over caller-supplied devices. All three need
/// `read` and `size`; without `ROOTSEAL_FEC_DRY_RUN` they need `write` and `flush` too.
/// The same non-NULL `ctx` in two sets means one shared device. Callbacks run on the
/// calling thread only. A report stored in `*report_out` is freed with
/// `rootseal_fec_report_free`.
///
/// # Safety
/// Pointers must be NULL or valid, and the callbacks must honour their contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_engine_repair_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    fec_params: *const rootseal_fec_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    fec: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    report_out: *mut *mut rootseal_fec_report,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer.
        let RepairArgs { opts, fec_opts, dry_run, root, hashing, .. } =
            unsafe { repair_args(engine, params, fec_params, root_hash, root_hash_size) }?;
        // SAFETY: as above.
        let (data, hash, fec_dev) = unsafe {
            (
                CallbackDevice::from_ptr(data, "data", !dry_run)?,
                CallbackDevice::from_ptr(hash, "hash", !dry_run)?,
                CallbackDevice::from_ptr(fec, "fec", !dry_run)?,
            )
        };
        let (same, sharing) = sharing_of(&data, &hash, &fec_dev);
        let run = RunOptions { threads: Some(1), progress: None, hashing };
        let report =
            fec::repair_devices(&data, &hash, &fec_dev, same, sharing, &opts, &fec_opts, root, &run, !dry_run)?;
        // SAFETY: as above.
        Ok(unsafe { finish_repair(report, report_out) })
    })
}

/// Returns one block list of `report` (a `ROOTSEAL_FEC_LIST_*` number) and stores its
/// length in `*count_out`. The array belongs to the report. An empty list, a NULL
/// `report` or an unknown list number gives NULL and a count of 0.
///
/// # Safety
/// `report` must be NULL or a live report; `count_out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_fec_report_blocks(
    report: *const rootseal_fec_report,
    list: u32,
    count_out: *mut usize,
) -> *const u64 {
    query(|| {
        // SAFETY: NULL or a live report per the caller's contract.
        let blocks: &[u64] = match unsafe { report.as_ref() } {
            Some(r) => {
                let r = &r.report;
                match list {
                    ROOTSEAL_FEC_LIST_CORRUPTED_DATA => &r.before.corrupted_data_blocks,
                    ROOTSEAL_FEC_LIST_CORRUPTED_HASH => &r.before.corrupted_hash_blocks,
                    ROOTSEAL_FEC_LIST_REPAIRABLE_DATA => &r.repairable_data_blocks,
                    ROOTSEAL_FEC_LIST_REPAIRABLE_HASH => &r.repairable_hash_blocks,
                    ROOTSEAL_FEC_LIST_UNREPAIRABLE_DATA => &r.unrepairable_data_blocks,
                    ROOTSEAL_FEC_LIST_UNREPAIRABLE_HASH => &r.unrepairable_hash_blocks,
                    ROOTSEAL_FEC_LIST_PARITY_MISMATCH => &r.parity_mismatch_blocks,
                    _ => &[],
                }
            }
            None => &[],
        };
        if !count_out.is_null() {
            // SAFETY: non-NULL and writable per the caller's contract.
            unsafe { count_out.write(blocks.len()) };
        }
        Ok(if blocks.is_empty() { ptr::null() } else { blocks.as_ptr() })
    })
}

/// Returns 1 when the call that made `report` wrote repaired blocks, 0 when it wrote
/// nothing (intact, dry run, or not everything repairable) or `report` is NULL.
///
/// # Safety
/// `report` must be NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_fec_report_written(report: *const rootseal_fec_report) -> u32 {
    // SAFETY: NULL or a live report per the caller's contract.
    query(|| Ok(unsafe { report.as_ref() }.is_some_and(|r| r.report.written) as u32))
}

/// Frees a report. NULL is a no-op; freeing twice is a caller bug.
///
/// # Safety
/// `report` must be NULL or a report from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_fec_report_free(report: *mut rootseal_fec_report) {
    query(|| {
        if !report.is_null() {
            // SAFETY: it came from Box::into_raw in finish_repair and is freed once.
            drop(unsafe { Box::from_raw(report) });
        }
        Ok(())
    })
}

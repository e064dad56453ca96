//! C entry point for verifying part of the data through callbacks: what a bootloader
//! needs to check the kernel image it is about to load, without hashing the whole slot.

use super::engine::rootseal_verity_engine;
use super::io::rootseal_io;
use super::status::rootseal_status;
use super::verity::{
    CheckedTree, checked_tree, finish_verify, options_from, rootseal_verity_params, rootseal_verity_report,
};
use super::{Failure, boundary, check_params, null};
use crate::verity;
use std::ptr;

/// Current version of [`rootseal_verity_range`].
pub const ROOTSEAL_VERITY_RANGE_VERSION: u32 = 1;

/// The bytes of the data device to verify: every data block that overlaps
/// `[offset, offset + length)` is checked. Zero it, set `version` to
/// `ROOTSEAL_VERITY_RANGE_VERSION`; the reserved fields must be zero.
#[repr(C)]
pub struct rootseal_verity_range {
    /// Must be `ROOTSEAL_VERITY_RANGE_VERSION`.
    pub version: u32,
    /// Reserved, must be zero.
    pub reserved0: u32,
    /// First byte, from the start of the data device.
    pub offset: u64,
    /// Number of bytes; at least 1, and `offset + length` must lie inside the data area
    /// (`data_blocks` × `data_block_size`).
    pub length: u64,
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// Verifies only the data blocks under `range`, as the kernel does on read: each block's
/// digest against its leaf hash block, each hash block against its parent, up to
/// `root_hash`. Only those data blocks and the hash blocks on their paths are read.
/// `params` is interpreted as for [`super::verity::rootseal_verity_verify_io`]
/// (superblock or explicit geometry); `data` and `hash` need `read` and `size`, and the
/// same non-NULL `ctx` for both means one shared device.
///
/// Returns `ROOTSEAL_STATUS_OK` when every block under the range matches,
/// `ROOTSEAL_STATUS_VERITY_CORRUPTED` when some do not (damage outside the range is not
/// looked at), `ROOTSEAL_STATUS_INVALID_ARGUMENT` for an empty range or one that leaves
/// the data area, `ROOTSEAL_STATUS_CALLBACK_FAILED` when a callback fails or the device
/// ends early, or another status when verification could not run. For OK and
/// VERITY_CORRUPTED, a non-NULL `report_out` receives the report (free it with
/// `rootseal_verity_report_free`); otherwise it is not written. Callbacks run on the
/// calling thread only. Thread-safe for distinct devices.
///
/// # Safety
/// Pointers must be NULL or valid: `params` and `range` readable, `root_hash` readable
/// for `root_hash_size` bytes, `report_out` writable; the callbacks must honour their
/// contracts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_verify_range_io(
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    range: *const rootseal_verity_range,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe {
        verify_range_io(ptr::null(), params, data, hash, root_hash, root_hash_size, range, report_out)
    })
}

/// [`rootseal_verity_verify_range_io`] with the hashing backend (or FIPS mode) of
/// `engine`; a NULL `engine` means the process default. A report stored in
/// `*report_out` is freed with `rootseal_verity_report_free`.
///
/// # Safety
/// As for [`rootseal_verity_verify_range_io`]; `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rootseal_verity_engine_verify_range_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    range: *const rootseal_verity_range,
    report_out: *mut *mut rootseal_verity_report,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { verify_range_io(engine, params, data, hash, root_hash, root_hash_size, range, report_out) })
}

/// The body of the two range entry points.
///
/// # Safety
/// As for [`rootseal_verity_engine_verify_range_io`].
#[allow(clippy::too_many_arguments)]
unsafe fn verify_range_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    range: *const rootseal_verity_range,
    report_out: *mut *mut rootseal_verity_report,
) -> Result<rootseal_status, Failure> {
    // SAFETY: the caller's contract covers every pointer.
    let (opts, _) = unsafe { options_from(params) }?;
    // SAFETY: as above.
    let range = unsafe { range.as_ref() }.ok_or_else(|| null("range"))?;
    let reserved_zero = range.reserved0 == 0 && range.reserved.iter().all(|&r| r == 0);
    check_params("range", range.version, ROOTSEAL_VERITY_RANGE_VERSION, reserved_zero)?;
    let end = range
        .offset
        .checked_add(range.length)
        .ok_or_else(|| Failure::new(rootseal_status::InvalidArgument, "range offset + length overflows 64 bits"))?;
    // SAFETY: as above.
    let CheckedTree { data, hash, same, root, hashing } =
        unsafe { checked_tree(engine, data, hash, root_hash, root_hash_size) }?;
    let report = verity::verify_range(&data, &hash, same, &opts, root, range.offset..end, &hashing)?;
    // SAFETY: as above.
    Ok(unsafe { finish_verify(report, report_out) })
}

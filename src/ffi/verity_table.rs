//! C entry point for the dm-verity kernel table line of a tree that format built, so C
//! callers print or load exactly what `rootseal verity table` prints instead of
//! formatting the line themselves.

use super::status::rootseal_status;
use super::verity::rootseal_verity_result;
use super::verity_fec::rootseal_fec_result;
use super::{Failure, boundary, check_params, null};
use crate::text::Uuid;
use crate::verity::{self, CorruptionMode, FecTable, HashType, TableOptions, VerityConfig};
use std::ffi::{CStr, c_char};

/// Current version of [`rootseal_verity_table_params`].
pub const ROOTSEAL_VERITY_TABLE_PARAMS_VERSION: u32 = 1;

/// `rootseal_verity_table_params.corruption`: fail the read with EIO (the kernel default).
pub const ROOTSEAL_VERITY_CORRUPTION_EIO: u32 = 0;
/// `rootseal_verity_table_params.corruption`: log and return the data (`ignore_corruption`).
pub const ROOTSEAL_VERITY_CORRUPTION_IGNORE: u32 = 1;
/// `rootseal_verity_table_params.corruption`: reboot (`restart_on_corruption`).
pub const ROOTSEAL_VERITY_CORRUPTION_RESTART: u32 = 2;
/// `rootseal_verity_table_params.corruption`: panic (`panic_on_corruption`).
pub const ROOTSEAL_VERITY_CORRUPTION_PANIC: u32 = 3;

/// `rootseal_verity_table_params.flags`: `ignore_zero_blocks`.
pub const ROOTSEAL_VERITY_TABLE_IGNORE_ZERO_BLOCKS: u32 = 1 << 0;
/// `rootseal_verity_table_params.flags`: `check_at_most_once`.
pub const ROOTSEAL_VERITY_TABLE_CHECK_AT_MOST_ONCE: u32 = 1 << 1;
/// `rootseal_verity_table_params.flags`: `try_verify_in_tasklet` (veritysetup
/// `--use-tasklets`).
pub const ROOTSEAL_VERITY_TABLE_USE_TASKLETS: u32 = 1 << 2;
/// `rootseal_verity_table_params.flags`: I/O errors count as corruption
/// (`restart_on_error` or `panic_on_error`; veritysetup `--error-as-corruption`). Needs
/// the RESTART or PANIC corruption mode; with the others the call fails with
/// `ROOTSEAL_STATUS_INVALID_ARGUMENT`.
pub const ROOTSEAL_VERITY_TABLE_ERROR_AS_CORRUPTION: u32 = 1 << 3;
const KNOWN_TABLE_FLAGS: u32 = ROOTSEAL_VERITY_TABLE_IGNORE_ZERO_BLOCKS
    | ROOTSEAL_VERITY_TABLE_CHECK_AT_MOST_ONCE
    | ROOTSEAL_VERITY_TABLE_USE_TASKLETS
    | ROOTSEAL_VERITY_TABLE_ERROR_AS_CORRUPTION;

/// The optional parameters of the table line. Zero it and set `version` to
/// `ROOTSEAL_VERITY_TABLE_PARAMS_VERSION`; the reserved fields must be zero.
#[repr(C)]
pub struct rootseal_verity_table_params {
    /// Must be `ROOTSEAL_VERITY_TABLE_PARAMS_VERSION`.
    pub version: u32,
    /// `ROOTSEAL_VERITY_TABLE_*` flags.
    pub flags: u32,
    /// One of the `ROOTSEAL_VERITY_CORRUPTION_*` modes.
    pub corruption: u32,
    /// Reserved, must be zero.
    pub reserved0: u32,
    /// Keyring description of the root-hash signature (`root_hash_sig_key_desc`), one
    /// word, NUL-terminated; NULL for none.
    pub root_hash_sig_key_desc: *const c_char,
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// The configuration a format result describes. The result records where the tree
/// starts, which tells whether a superblock precedes it.
fn config_from_result(tree: &rootseal_verity_result) -> Result<VerityConfig, Failure> {
    let invalid = |what: String| Failure::new(rootseal_status::InvalidArgument, what);
    let hash_algorithm = super::algorithm::algorithm_of_number(tree.hash_algorithm).ok_or_else(|| {
        invalid(format!("result hash_algorithm {} is not a ROOTSEAL_HASH_* number", tree.hash_algorithm))
    })?;
    let salt_size = tree.salt_size as usize;
    if salt_size > tree.salt.len() || tree.root_hash_size as usize > tree.root_hash.len() {
        return Err(invalid("result salt_size or root_hash_size is out of range".into()));
    }
    let mut config = VerityConfig {
        hash_algorithm,
        hash_type: HashType::from_u32(tree.hash_type)?,
        data_block_size: tree.data_block_size,
        hash_block_size: tree.hash_block_size,
        data_blocks: tree.data_blocks,
        hash_offset: tree.hash_offset,
        salt: tree.salt[..salt_size].to_vec(),
        superblock_uuid: Some(Uuid(tree.uuid)),
    };
    for superblock in [Some(Uuid(tree.uuid)), None] {
        config.superblock_uuid = superblock;
        if config.hash_start_block().is_ok_and(|start| start == tree.hash_start_block) {
            return Ok(config);
        }
    }
    Err(invalid("result hash_start_block does not follow from its hash_offset and block size".into()))
}

/// # Safety
/// `params` must be NULL or valid, its string NULL or NUL-terminated.
unsafe fn table_options(params: *const rootseal_verity_table_params) -> Result<TableOptions, Failure> {
    // SAFETY: NULL or valid per the contract above.
    let Some(p) = (unsafe { params.as_ref() }) else { return Ok(TableOptions::default()) };
    let reserved_zero = p.reserved0 == 0 && p.reserved.iter().all(|&r| r == 0);
    check_params("table params", p.version, ROOTSEAL_VERITY_TABLE_PARAMS_VERSION, reserved_zero)?;
    let invalid = |what: String| Failure::new(rootseal_status::InvalidArgument, what);
    if p.flags & !KNOWN_TABLE_FLAGS != 0 {
        return Err(invalid(format!("unknown table flags {:#x}", p.flags & !KNOWN_TABLE_FLAGS)));
    }
    let corruption = match p.corruption {
        ROOTSEAL_VERITY_CORRUPTION_EIO => CorruptionMode::Eio,
        ROOTSEAL_VERITY_CORRUPTION_IGNORE => CorruptionMode::Ignore,
        ROOTSEAL_VERITY_CORRUPTION_RESTART => CorruptionMode::Restart,
        ROOTSEAL_VERITY_CORRUPTION_PANIC => CorruptionMode::Panic,
        other => return Err(invalid(format!("unknown corruption mode {other}"))),
    };
    let root_hash_sig_key_desc = if p.root_hash_sig_key_desc.is_null() {
        None
    } else {
        // SAFETY: non-NULL and NUL-terminated per the contract above.
        let text = unsafe { CStr::from_ptr(p.root_hash_sig_key_desc) };
        Some(text.to_str().map_err(|_| invalid("root_hash_sig_key_desc is not UTF-8".into()))?.to_string())
    };
    Ok(TableOptions {
        corruption,
        ignore_zero_blocks: p.flags & ROOTSEAL_VERITY_TABLE_IGNORE_ZERO_BLOCKS != 0,
        check_at_most_once: p.flags & ROOTSEAL_VERITY_TABLE_CHECK_AT_MOST_ONCE != 0,
        use_tasklets: p.flags & ROOTSEAL_VERITY_TABLE_USE_TASKLETS != 0,
        error_as_corruption: p.flags & ROOTSEAL_VERITY_TABLE_ERROR_AS_CORRUPTION != 0,
        root_hash_sig_key_desc,
        fec: None,
    })
}

/// # Safety
/// `ptr` must be NULL or NUL-terminated.
unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|_| Failure::new(rootseal_status::InvalidArgument, format!("{what} is not UTF-8")))
}

/// Writes the dm-verity table line (`dmsetup create NAME --table LINE`) for the tree
/// `tree` describes (a result of `rootseal_verity_format*`), on devices `data_dev` and
/// `hash_dev`, into `buf` as a NUL-terminated string without a newline: the line
/// `rootseal verity table` prints. `params` may be NULL for no optional arguments.
///
/// `len_out` may be NULL; otherwise it receives the line's length without the NUL, both
/// on success and with `ROOTSEAL_STATUS_BUFFER_TOO_SMALL` (when `buf_size` cannot hold
/// the line and its NUL; `buf` is then untouched), so a caller can size a buffer: this
/// is the one status other than OK after which an out-parameter is written.
/// `ROOTSEAL_STATUS_INVALID_ARGUMENT` for a device name that is empty or contains white
/// space, unknown flags or modes, or a `tree` that no format could have produced.
/// Nothing is kept after the call. Thread-safe.
///
/// # Safety
/// `tree` and `params` NULL or readable, the strings NULL or NUL-terminated, `buf`
/// writable for `buf_size` bytes (NULL allowed with `buf_size` 0), `len_out` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_kernel_table(
    tree: *const rootseal_verity_result,
    params: *const rootseal_verity_table_params,
    data_dev: *const c_char,
    hash_dev: *const c_char,
    buf: *mut c_char,
    buf_size: usize,
    len_out: *mut usize,
) -> rootseal_status {
    // SAFETY: the caller's contract is this body's.
    boundary(|| unsafe { write_table(tree, params, data_dev, hash_dev, None, buf, buf_size, len_out) })
}

/// [`rootseal_verity_kernel_table`] for a tree with parity: the line also carries
/// `use_fec_from_device FEC_DEV fec_start … fec_blocks … fec_roots …` from `fec` (the
/// FEC result of `rootseal_verity_engine_format_fec*`), exactly as veritysetup gives
/// it to the kernel.
///
/// # Safety
/// As for [`rootseal_verity_kernel_table`]; `fec` readable, `fec_dev` NUL-terminated.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rootseal_verity_kernel_table_fec(
    tree: *const rootseal_verity_result,
    fec: *const rootseal_fec_result,
    params: *const rootseal_verity_table_params,
    data_dev: *const c_char,
    hash_dev: *const c_char,
    fec_dev: *const c_char,
    buf: *mut c_char,
    buf_size: usize,
    len_out: *mut usize,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: NULL or readable per the caller's contract.
        let fec = unsafe { fec.as_ref() }.ok_or_else(|| null("fec"))?;
        // SAFETY: as above.
        let device = unsafe { str_arg(fec_dev, "fec_dev") }?;
        let table =
            FecTable { device: device.to_string(), start: fec.fec_start, blocks: fec.fec_blocks, roots: fec.roots };
        // SAFETY: as above.
        unsafe { write_table(tree, params, data_dev, hash_dev, Some(table), buf, buf_size, len_out) }
    })
}

/// The body of both table entry points.
///
/// # Safety
/// As for [`rootseal_verity_kernel_table`].
#[allow(clippy::too_many_arguments)]
unsafe fn write_table(
    tree: *const rootseal_verity_result,
    params: *const rootseal_verity_table_params,
    data_dev: *const c_char,
    hash_dev: *const c_char,
    fec: Option<FecTable>,
    buf: *mut c_char,
    buf_size: usize,
    len_out: *mut usize,
) -> Result<rootseal_status, Failure> {
    // SAFETY: NULL or readable per the caller's contract.
    let tree = unsafe { tree.as_ref() }.ok_or_else(|| null("tree"))?;
    // SAFETY: as above.
    let mut options = unsafe { table_options(params) }?;
    options.fec = fec;
    // SAFETY: as above.
    let (data_dev, hash_dev) = unsafe { (str_arg(data_dev, "data_dev")?, str_arg(hash_dev, "hash_dev")?) };
    let config = config_from_result(tree)?;
    let root = &tree.root_hash[..tree.root_hash_size as usize];
    let line = verity::kernel_table(&config, data_dev, hash_dev, root, &options)?;
    let fits = line.len() < buf_size;
    if fits && buf.is_null() {
        return Err(null("buf"));
    }
    if !len_out.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { len_out.write(line.len()) };
    }
    if !fits {
        return Err(Failure::new(
            rootseal_status::BufferTooSmall,
            format!("the table line needs {} bytes with its NUL; buf_size is {buf_size}", line.len() + 1),
        ));
    }
    // SAFETY: `buf` is writable for `buf_size` > line.len() bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(line.as_ptr(), buf.cast::<u8>(), line.len());
        buf.add(line.len()).write(0);
    }
    Ok(rootseal_status::Ok)
}

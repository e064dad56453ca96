//! C entry points for the verified reader: random-access reads of a verity-protected
//! data device through callbacks, every block verified leaf to root before any of its
//! bytes are returned (`verity::VerifiedReader`, the core the boot library's reader
//! runs too).

use super::engine::rootseal_verity_engine;
use super::io::{CallbackDevice, rootseal_io};
use super::status::rootseal_status;
use super::verity::{CheckedTree, checked_tree, options_from, rootseal_verity_params};
use super::{Failure, boundary, null, query};
use crate::verity::{self, CorruptBlock, VerifiedReader};

/// A verified reader. Opaque; free it with [`rootseal_verity_reader_free`].
pub struct rootseal_verity_reader {
    reader: VerifiedReader<CallbackDevice, CallbackDevice>,
}

/// What one verified read did. Written on `OK` and on `VERITY_CORRUPTED`.
#[repr(C)]
pub struct rootseal_verity_read_result {
    /// Bytes read into the buffer: fewer than asked at the end of the data area, or when
    /// a later block is refused (the read starting there reports it).
    pub bytes_read: u64,
    /// With `VERITY_CORRUPTED`: the data block the tree refuses (none of its bytes were
    /// returned).
    pub corrupt_data_block: u64,
    /// With `VERITY_CORRUPTED` and `corrupt_hash_block_valid` 1: the corrupt hash block on
    /// its path (hash-block units on the hash device).
    pub corrupt_hash_block: u64,
    /// 1 when the tree itself is damaged above the block, else 0.
    pub corrupt_hash_block_valid: u32,
    /// Reserved, set to zero.
    pub reserved0: u32,
    /// Reserved, set to zero.
    pub reserved: [u64; 2],
}

/// Opens a verified reader of the data device `data`, checked against the tree on `hash`
/// and `root_hash` with `params` as for `rootseal_verity_verify_io` (superblock or
/// explicit geometry; `data` and `hash` need `read` and `size`; the same non-NULL `ctx`
/// for both means one shared device) and the hashing backend of `engine` (NULL: the
/// process default). The callbacks are copied; their `ctx` must stay valid until
/// [`rootseal_verity_reader_free`]. Nothing is read but the superblock and the sizes.
///
/// # Safety
/// Pointers must be NULL or valid: `params` per its documentation, `root_hash` readable
/// for `root_hash_size` bytes, `reader_out` writable; `engine` NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_reader_open_io(
    engine: *const rootseal_verity_engine,
    params: *const rootseal_verity_params,
    data: *const rootseal_io,
    hash: *const rootseal_io,
    root_hash: *const u8,
    root_hash_size: usize,
    reader_out: *mut *mut rootseal_verity_reader,
) -> rootseal_status {
    boundary(|| {
        if reader_out.is_null() {
            return Err(null("reader_out"));
        }
        // SAFETY: the caller's contract covers every pointer.
        let (opts, _) = unsafe { options_from(params) }?;
        // SAFETY: as above.
        let CheckedTree { data, hash, same, root, hashing } =
            unsafe { checked_tree(engine, data, hash, root_hash, root_hash_size) }?;
        let reader = VerifiedReader::new(data, hash, same, &opts, root, &hashing)?;
        let boxed = Box::into_raw(Box::new(rootseal_verity_reader { reader }));
        // SAFETY: checked non-NULL above; writable per the contract.
        unsafe { reader_out.write(boxed) };
        Ok(rootseal_status::Ok)
    })
}

/// Stores the bytes readable (the data area: `data_blocks` × `data_block_size`) in
/// `*size_out`.
///
/// # Safety
/// `reader` a live reader, `size_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_reader_size(
    reader: *const rootseal_verity_reader,
    size_out: *mut u64,
) -> rootseal_status {
    query(|| {
        // SAFETY: a live reader per the contract.
        let reader = unsafe { reader.as_ref() }.ok_or_else(|| null("reader"))?;
        if size_out.is_null() {
            return Err(null("size_out"));
        }
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { size_out.write(reader.reader.len()) };
        Ok(rootseal_status::Ok)
    })
}

/// Reads up to `len` bytes at byte `offset` of the data area into `buf`, every block
/// verified before any of its bytes are copied. `OK` with `result.bytes_read` (0 at or
/// past the end); `ROOTSEAL_STATUS_VERITY_CORRUPTED` when the first block the read
/// touches is refused, with its number in `result` (and in `rootseal_last_error`);
/// `CALLBACK_FAILED` or another status when reading failed. A reader is used by one
/// thread at a time; its hash path and last data block are cached between reads.
///
/// # Safety
/// `reader` a live reader, `buf` writable for `len` bytes, `result` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_reader_read(
    reader: *mut rootseal_verity_reader,
    offset: u64,
    buf: *mut u8,
    len: usize,
    result: *mut rootseal_verity_read_result,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: a live reader per the contract, used by this thread only.
        let reader = unsafe { reader.as_mut() }.ok_or_else(|| null("reader"))?;
        if result.is_null() {
            return Err(null("result"));
        }
        if buf.is_null() && len != 0 {
            return Err(null("buf"));
        }
        // SAFETY: writable for `len` bytes per the contract (or empty).
        let buf: &mut [u8] = if len == 0 { &mut [] } else { unsafe { std::slice::from_raw_parts_mut(buf, len) } };
        let mut found = rootseal_verity_read_result {
            bytes_read: 0,
            corrupt_data_block: 0,
            corrupt_hash_block: 0,
            corrupt_hash_block_valid: 0,
            reserved0: 0,
            reserved: [0; 2],
        };
        let status = match reader.reader.read_at(offset, buf) {
            Ok(n) => {
                found.bytes_read = n as u64;
                rootseal_status::Ok
            }
            Err(err) => match CorruptBlock::of(&err) {
                Some(corrupt) => {
                    found.corrupt_data_block = corrupt.data_block;
                    found.corrupt_hash_block = corrupt.hash_block.unwrap_or(0);
                    found.corrupt_hash_block_valid = u32::from(corrupt.hash_block.is_some());
                    super::set_last_error(&corrupt.to_string());
                    rootseal_status::VerityCorrupted
                }
                None => return Err(read_failure(err)),
            },
        };
        // SAFETY: checked non-NULL; writable per the contract.
        unsafe { result.write(found) };
        Ok(status)
    })
}

/// The status and message of a read that failed for another reason than corruption.
fn read_failure(err: std::io::Error) -> Failure {
    match err.get_ref().and_then(|inner| inner.downcast_ref::<verity::Error>()) {
        Some(inner) => Failure::new(inner.into(), inner.to_string()),
        None => Failure::new(rootseal_status::Io, err.to_string()),
    }
}

/// Frees a reader. NULL is a no-op; freeing twice is a caller bug.
///
/// # Safety
/// `reader` must be NULL or a reader from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_verity_reader_free(reader: *mut rootseal_verity_reader) {
    query(|| {
        if !reader.is_null() {
            // SAFETY: it came from Box::into_raw in rootseal_verity_reader_open_io and is
            // freed once.
            drop(unsafe { Box::from_raw(reader) });
        }
        Ok(())
    })
}

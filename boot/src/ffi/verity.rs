//! dm-verity in the boot path: the superblock (veritysetup's 512-byte "verity header")
//! parsed by the very code the host library uses, and range verification over callbacks
//! with the host's own leaf-to-root walk and the caller's scratch memory.

use super::io::{Disk, rootseal_boot_io};
use super::{bytes_in, rootseal_boot_status};
use crate::crypto::HashAlgorithm;
use crate::verity::error::Error;
use crate::verity::hasher::{BlockHasher, SaltedDigests};
use crate::verity::layout::{HashType, TreeLayout};
use crate::verity::params::{is_valid_block_size, tree_start_block};
use crate::verity::range_walk::{PathMemory, PathSource, PathWalk, Verdict, scratch_bytes};
use crate::verity::superblock::{self, ParsedSuperblock, SuperblockFault};
use crate::verity::verified_read::{DataSource, ReadFault, VerifiedBlocks};
use core::ffi::c_char;

/// Bytes of a superblock.
pub const ROOTSEAL_BOOT_VERITY_SUPERBLOCK_SIZE: usize = 512;

/// A superblock that passed every check libcryptsetup makes. The library zeroes the
/// reserved fields.
#[repr(C)]
pub struct rootseal_boot_verity_superblock {
    /// 1 (normal) or 0 (Chrome OS).
    pub hash_type: u32,
    /// Data block size in bytes.
    pub data_block_size: u32,
    /// Hash block size in bytes.
    pub hash_block_size: u32,
    /// Bytes of `salt` in use (0 to 256).
    pub salt_size: u32,
    /// Number of data blocks.
    pub data_blocks: u64,
    /// Bytes of one digest of `algorithm`.
    pub digest_size: u32,
    /// Reserved, set to zero.
    pub reserved0: u32,
    /// The UUID bytes, as stored.
    pub uuid: [u8; 16],
    /// The hash algorithm's name, NUL-terminated (`sha256`, `sha512`, ...).
    pub algorithm: [c_char; 32],
    /// The salt; the first `salt_size` bytes count.
    pub salt: [u8; 256],
    /// Reserved, set to zero.
    pub reserved: [u64; 4],
}

fn status_of(fault: SuperblockFault) -> rootseal_boot_status {
    match fault {
        SuperblockFault::NoSignature { .. } => rootseal_boot_status::VerityNoSuperblock,
        _ => rootseal_boot_status::VerityCorruptSuperblock,
    }
}

/// Fills `out` from `parsed`.
///
/// # Safety
/// `out` writable (checked non-NULL by the caller).
unsafe fn store(parsed: &ParsedSuperblock, out: *mut rootseal_boot_verity_superblock) {
    let mut algorithm = [0 as c_char; 32];
    for (to, from) in algorithm.iter_mut().zip(parsed.hash_algorithm.name().bytes()) {
        *to = from as c_char;
    }
    let value = rootseal_boot_verity_superblock {
        hash_type: parsed.hash_type.as_u32(),
        data_block_size: parsed.data_block_size,
        hash_block_size: parsed.hash_block_size,
        salt_size: u32::from(parsed.salt_size),
        data_blocks: parsed.data_blocks,
        digest_size: parsed.hash_algorithm.digest_size() as u32,
        reserved0: 0,
        uuid: parsed.uuid,
        algorithm,
        salt: parsed.salt,
        reserved: [0; 4],
    };
    // SAFETY: writable per the caller's contract.
    unsafe { out.write(value) };
}

/// Parses the superblock in the first `len` bytes of `bytes` (at least
/// `ROOTSEAL_BOOT_VERITY_SUPERBLOCK_SIZE`) into `out`.
///
/// Returns `ROOTSEAL_BOOT_STATUS_VERITY_NO_SUPERBLOCK` without the signature,
/// `ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK` for fewer than 512 bytes or any field
/// libcryptsetup refuses.
///
/// # Safety
/// `bytes` readable for `len` bytes, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_verity_superblock_parse(
    bytes: *const u8,
    len: usize,
    out: *mut rootseal_boot_verity_superblock,
) -> rootseal_boot_status {
    if out.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    // SAFETY: per the caller's contract.
    let bytes = match unsafe { bytes_in(bytes, len) } {
        Ok(bytes) => bytes,
        Err(status) => return status,
    };
    match superblock::parse(bytes) {
        // SAFETY: `out` is non-NULL and writable per the caller's contract.
        Ok(parsed) => unsafe { store(&parsed, out) },
        Err(fault) => return status_of(fault),
    }
    rootseal_boot_status::Ok
}

/// Reads and parses the superblock at byte `hash_offset` of the disk `io` (only `read`
/// is used); the statuses of [`rootseal_boot_verity_superblock_parse`], plus
/// `CALLBACK_FAILED` for a failing or lying read callback.
///
/// # Safety
/// `io` a valid `rootseal_boot_io`, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_verity_superblock_read(
    io: *const rootseal_boot_io,
    hash_offset: u64,
    out: *mut rootseal_boot_verity_superblock,
) -> rootseal_boot_status {
    if out.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    // SAFETY: per the caller's contract.
    let disk = match unsafe { Disk::new(io) } {
        Ok(disk) => disk,
        Err(status) => return status,
    };
    let mut bytes = [0u8; ROOTSEAL_BOOT_VERITY_SUPERBLOCK_SIZE];
    let got = match disk.read_at(hash_offset, &mut bytes) {
        Ok(got) => got,
        Err(status) => return status,
    };
    // SAFETY: the buffer is ours; `out` as above.
    unsafe { rootseal_boot_verity_superblock_parse(bytes.as_ptr(), got, out) }
}

/// Current version of [`rootseal_boot_verity_params`].
pub const ROOTSEAL_BOOT_VERITY_PARAMS_VERSION: u32 = 1;
/// `rootseal_boot_verity_params.flags`: the hash area has no superblock; `geometry`
/// gives the tree's parameters and the tree starts at `hash_offset` (rounded down to a
/// hash block, as veritysetup places it).
pub const ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK: u32 = 1 << 0;

/// Where a verity-protected image and its tree are. Zero it, set `version` to
/// `ROOTSEAL_BOOT_VERITY_PARAMS_VERSION`; reserved fields must be zero.
#[repr(C)]
pub struct rootseal_boot_verity_params {
    /// Must be `ROOTSEAL_BOOT_VERITY_PARAMS_VERSION`.
    pub version: u32,
    /// `ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK` or 0.
    pub flags: u32,
    /// The data device (only `read` is used).
    pub data: *const rootseal_boot_io,
    /// The hash device (only `read`); may be the same struct as `data`.
    pub hash: *const rootseal_boot_io,
    /// Byte offset of the superblock on the hash device (of the tree, with
    /// `ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK`).
    pub hash_offset: u64,
    /// The trusted root hash (from the kernel command line or a signature).
    pub root_hash: *const u8,
    /// Bytes at `root_hash`: the algorithm's digest size.
    pub root_hash_size: usize,
    /// With `ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK`, the tree's parameters (`hash_type`,
    /// block sizes, `data_blocks`, `algorithm`, `salt`/`salt_size`; the rest is
    /// ignored). NULL otherwise: they come from the superblock.
    pub geometry: *const rootseal_boot_verity_superblock,
    /// Reserved, must be zero.
    pub reserved: [u64; 4],
}

/// What a range verification found. Written on `OK` and on `VERITY_CORRUPTED`.
#[repr(C)]
pub struct rootseal_boot_verity_range_result {
    /// Data blocks under the range whose digest does not match the tree.
    pub corrupted_data_blocks: u64,
    /// The lowest of them (meaningful when the count is not 0).
    pub first_corrupted_data_block: u64,
    /// Hash blocks on the range's paths whose digest does not match their parent (the
    /// data blocks under them cannot be judged and are not counted).
    pub corrupted_hash_blocks: u64,
    /// The lowest of them, in hash-block units from the start of the hash device.
    pub first_corrupted_hash_block: u64,
    /// Reserved, set to zero.
    pub reserved: [u64; 4],
}

/// The tree's parameters from a caller's struct, checked as a superblock's are.
fn geometry_of(given: &rootseal_boot_verity_superblock) -> Result<ParsedSuperblock, rootseal_boot_status> {
    let name_len = given.algorithm.iter().position(|&c| c == 0).ok_or(rootseal_boot_status::InvalidArgument)?;
    let mut name = [0u8; 32];
    for (to, &from) in name.iter_mut().zip(&given.algorithm[..name_len]) {
        *to = from as u8;
    }
    let name = core::str::from_utf8(&name[..name_len]).map_err(|_| rootseal_boot_status::InvalidArgument)?;
    let hash_algorithm = HashAlgorithm::from_name(name).ok_or(rootseal_boot_status::VerityUnsupportedAlgorithm)?;
    let hash_type = HashType::from_u32(given.hash_type).map_err(|_| rootseal_boot_status::VerityUnsupportedHashType)?;
    if !is_valid_block_size(given.data_block_size) || !is_valid_block_size(given.hash_block_size) {
        return Err(rootseal_boot_status::VerityInvalidBlockSize);
    }
    let salt_size = u16::try_from(given.salt_size)
        .ok()
        .filter(|&size| size as usize <= given.salt.len())
        .ok_or(rootseal_boot_status::VerityInvalidSalt)?;
    if given.data_blocks == 0 {
        return Err(rootseal_boot_status::VerityNoDataBlocks);
    }
    Ok(ParsedSuperblock {
        hash_algorithm,
        hash_type,
        data_block_size: given.data_block_size,
        hash_block_size: given.hash_block_size,
        data_blocks: given.data_blocks,
        uuid: given.uuid,
        salt: given.salt,
        salt_size,
    })
}

/// The tree's parameters and geometry for `params`.
///
/// # Safety
/// The pointers in `params` valid per the header's contract.
unsafe fn tree_of(
    params: &rootseal_boot_verity_params,
) -> Result<(ParsedSuperblock, TreeLayout), rootseal_boot_status> {
    let with_superblock = params.flags & ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK == 0;
    let config = if with_superblock {
        let mut bytes = [0u8; ROOTSEAL_BOOT_VERITY_SUPERBLOCK_SIZE];
        // SAFETY: per the caller's contract.
        let got = unsafe { Disk::new(params.hash) }?.read_at(params.hash_offset, &mut bytes)?;
        superblock::parse(&bytes[..got]).map_err(status_of)?
    } else {
        // SAFETY: non-NULL pointers are valid per the caller's contract.
        geometry_of(unsafe { params.geometry.as_ref() }.ok_or(rootseal_boot_status::NullParameter)?)?
    };
    let start = tree_start_block(params.hash_offset, config.hash_block_size, with_superblock)
        .ok_or(rootseal_boot_status::VerityOverflow)?;
    let layout =
        TreeLayout::new(config.hash_algorithm.digest_size(), config.hash_block_size, config.data_blocks, start)
            .map_err(|err| match err {
                Error::TooManyLevels { .. } => rootseal_boot_status::VerityTooManyLevels,
                Error::HashBlockTooSmall { .. } => rootseal_boot_status::VerityInvalidBlockSize,
                _ => rootseal_boot_status::VerityOverflow,
            })?;
    Ok((config, layout))
}

/// Scratch bytes range verification needs: one hash block per tree level and one data
/// block.
fn scratch_needed(config: &ParsedSuperblock, layout: &TreeLayout) -> Result<usize, rootseal_boot_status> {
    scratch_bytes(layout)
        .and_then(|path| path.checked_add(config.data_block_size as usize))
        .ok_or(rootseal_boot_status::VerityOverflow)
}

/// The devices behind one range verification.
struct BootPath<'a> {
    /// The data device, for the verified reader (range verification reads its data
    /// blocks itself).
    data: Option<Disk<'a>>,
    hash: Disk<'a>,
    hasher: BlockHasher<'a>,
    result: rootseal_boot_verity_range_result,
}

impl PathSource for BootPath<'_> {
    type Error = rootseal_boot_status;

    fn read_hash_block(&mut self, number: u64, buf: &mut [u8]) -> Result<(), rootseal_boot_status> {
        let offset = number.checked_mul(buf.len() as u64).ok_or(rootseal_boot_status::VerityOverflow)?;
        if self.hash.read_at(offset, buf)? != buf.len() {
            return Err(rootseal_boot_status::VerityHashDeviceTooSmall);
        }
        Ok(())
    }

    fn digest(&mut self, block: &[u8], out: &mut [u8]) -> Result<(), rootseal_boot_status> {
        self.hasher.digest_into(block, out).map_err(|_| rootseal_boot_status::VerityDigestFailure)
    }

    fn corrupt_hash_block(&mut self, number: u64) {
        let result = &mut self.result;
        if result.corrupted_hash_blocks == 0 || number < result.first_corrupted_hash_block {
            result.first_corrupted_hash_block = number;
        }
        result.corrupted_hash_blocks += 1;
    }
}

/// The SHA-NI kernel for `config`'s tree where the CPU and firmware allow it (checked
/// on every call: there is no state to cache it in).
#[cfg(target_arch = "x86_64")]
fn simd_for(config: &ParsedSuperblock) -> Option<crate::simd::ShaNiSalted> {
    crate::simd::ShaNiSalted::for_tree(config.hash_algorithm, config.hash_type, config.salt())
}

#[cfg(target_arch = "x86_64")]
fn simd_ref(simd: &Option<crate::simd::ShaNiSalted>) -> Option<&dyn SaltedDigests> {
    simd.as_ref().map(|s| s as &dyn SaltedDigests)
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_for(_: &ParsedSuperblock) -> Option<()> {
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_ref(_: &Option<()>) -> Option<&dyn SaltedDigests> {
    None
}

fn empty_range_result() -> rootseal_boot_verity_range_result {
    rootseal_boot_verity_range_result {
        corrupted_data_blocks: 0,
        first_corrupted_data_block: 0,
        corrupted_hash_blocks: 0,
        first_corrupted_hash_block: 0,
        reserved: [0; 4],
    }
}

/// Checks the params struct's own fields.
///
/// # Safety
/// `params` NULL or valid.
unsafe fn params_of<'a>(
    params: *const rootseal_boot_verity_params,
) -> Result<&'a rootseal_boot_verity_params, rootseal_boot_status> {
    // SAFETY: non-NULL pointers are valid per the caller's contract.
    let params = unsafe { params.as_ref() }.ok_or(rootseal_boot_status::NullParameter)?;
    if params.version != ROOTSEAL_BOOT_VERITY_PARAMS_VERSION {
        return Err(rootseal_boot_status::UnsupportedParamsVersion);
    }
    if params.reserved.iter().any(|&r| r != 0) || params.flags & !ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK != 0 {
        return Err(rootseal_boot_status::ReservedNotZero);
    }
    Ok(params)
}

/// Stores in `*size_out` the scratch bytes [`rootseal_boot_verity_verify_range`] needs
/// for the tree `params` describes (one hash block per level and one data block; reads
/// the superblock, unless `ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK`).
///
/// # Safety
/// `params` valid as for the verify function, `size_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_verity_range_scratch_size(
    params: *const rootseal_boot_verity_params,
    size_out: *mut usize,
) -> rootseal_boot_status {
    let found = (|| {
        if size_out.is_null() {
            return Err(rootseal_boot_status::NullParameter);
        }
        // SAFETY: per the caller's contract.
        let (config, layout) = unsafe { tree_of(params_of(params)?) }?;
        scratch_needed(&config, &layout)
    })();
    match found {
        // SAFETY: checked non-NULL above; writable per the contract.
        Ok(size) => unsafe { size_out.write(size) },
        Err(status) => return status,
    }
    rootseal_boot_status::Ok
}

/// Verifies the data blocks under bytes `offset..offset + len` of the data device against
/// the tree and `params.root_hash`, the way the kernel checks a block on read: each data
/// block's digest against its leaf slot, each hash block on the path against its parent,
/// up to the root hash. Only those blocks are read. `scratch` (`scratch_size` bytes, at
/// least what [`rootseal_boot_verity_range_scratch_size`] says) holds the path.
///
/// Returns `OK` when every block is intact, `ROOTSEAL_BOOT_STATUS_VERITY_CORRUPTED` when
/// one is not (both write `result`), `INVALID_ARGUMENT` for an empty range or one outside
/// the data area, `BUFFER_TOO_SMALL` for too little scratch, `VERITY_ROOT_HASH_LENGTH`,
/// `VERITY_DATA_TOO_SHORT` / `VERITY_HASH_DEVICE_TOO_SMALL` when a device ends early, the
/// superblock statuses, and `CALLBACK_FAILED`.
///
/// # Safety
/// `params` and the structs it points to valid, `root_hash` readable for
/// `root_hash_size` bytes, `scratch` writable for `scratch_size` bytes, `result` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_verity_verify_range(
    params: *const rootseal_boot_verity_params,
    offset: u64,
    len: u64,
    scratch: *mut u8,
    scratch_size: usize,
    result: *mut rootseal_boot_verity_range_result,
) -> rootseal_boot_status {
    if result.is_null() || scratch.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    // SAFETY: per the caller's contract.
    let found = unsafe { verify_range(params, offset, len, core::slice::from_raw_parts_mut(scratch, scratch_size)) };
    match found {
        Ok(found) => {
            let corrupt = found.corrupted_data_blocks + found.corrupted_hash_blocks != 0;
            // SAFETY: checked non-NULL above; writable per the contract.
            unsafe { result.write(found) };
            if corrupt { rootseal_boot_status::VerityCorrupted } else { rootseal_boot_status::Ok }
        }
        Err(status) => status,
    }
}

/// The body of [`rootseal_boot_verity_verify_range`].
///
/// # Safety
/// As for it.
unsafe fn verify_range(
    params: *const rootseal_boot_verity_params,
    offset: u64,
    len: u64,
    scratch: &mut [u8],
) -> Result<rootseal_boot_verity_range_result, rootseal_boot_status> {
    // SAFETY: per the caller's contract.
    let params = unsafe { params_of(params) }?;
    // SAFETY: as above.
    let (config, layout) = unsafe { tree_of(params) }?;
    // SAFETY: as above.
    let root_hash = unsafe { bytes_in(params.root_hash, params.root_hash_size) }?;
    if root_hash.len() != config.hash_algorithm.digest_size() {
        return Err(rootseal_boot_status::VerityRootHashLength);
    }
    if scratch.len() < scratch_needed(&config, &layout)? {
        return Err(rootseal_boot_status::BufferTooSmall);
    }
    let block_size = u64::from(config.data_block_size);
    let end = offset.checked_add(len).ok_or(rootseal_boot_status::InvalidArgument)?;
    let area = config.data_blocks.checked_mul(block_size).ok_or(rootseal_boot_status::VerityOverflow)?;
    if len == 0 || end > area {
        return Err(rootseal_boot_status::InvalidArgument);
    }
    // SAFETY: as above.
    let data = unsafe { Disk::new(params.data) }?;
    // SAFETY: as above.
    let hash = unsafe { Disk::new(params.hash) }?;
    let (path_blocks, rest) = scratch.split_at_mut(scratch_bytes(&layout).ok_or(rootseal_boot_status::VerityOverflow)?);
    let block = &mut rest[..config.data_block_size as usize];
    let mut memory = PathMemory::new(&layout, path_blocks).ok_or(rootseal_boot_status::BufferTooSmall)?;
    let mut walk =
        PathWalk::new(&layout, config.hash_type, root_hash).ok_or(rootseal_boot_status::VerityRootHashLength)?;
    let simd = simd_for(&config);
    let hasher = BlockHasher::new(config.hash_algorithm, config.hash_type, config.salt(), simd_ref(&simd));
    let mut source = BootPath { data: None, hash, hasher, result: empty_range_result() };
    let mut digest = [0u8; 64];
    let digest = &mut digest[..config.hash_algorithm.digest_size()];
    for number in offset / block_size..end.div_ceil(block_size) {
        if data.read_at(number * block_size, block)? != block.len() {
            return Err(rootseal_boot_status::VerityDataTooShort);
        }
        source.digest(block, digest)?;
        if walk.verdict(&mut memory, &mut source, number, digest)? == Verdict::Corrupt {
            let result = &mut source.result;
            if result.corrupted_data_blocks == 0 {
                result.first_corrupted_data_block = number;
            }
            result.corrupted_data_blocks += 1;
        }
    }
    Ok(source.result)
}

/// 64-bit words of [`rootseal_boot_verity_reader`]'s storage.
pub const ROOTSEAL_BOOT_VERITY_READER_WORDS: usize = 512;

/// A verified reader's state, in the caller's memory (stack, static or heap): opaque,
/// set up by [`rootseal_boot_verity_reader_init`].
#[repr(C)]
pub struct rootseal_boot_verity_reader {
    /// Opaque.
    pub opaque: [u64; ROOTSEAL_BOOT_VERITY_READER_WORDS],
}

/// What one verified read did. Written on `OK` and on `VERITY_CORRUPTED`.
#[repr(C)]
pub struct rootseal_boot_verity_read_result {
    /// Bytes read into the buffer: fewer than asked at the end of the data area, or when
    /// a later block is corrupt (the read starting there reports it).
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

/// What the opaque storage holds.
struct ReaderState {
    data: *const rootseal_boot_io,
    hash: *const rootseal_boot_io,
    config: ParsedSuperblock,
    layout: TreeLayout,
    blocks: VerifiedBlocks,
    scratch: *mut u8,
    scratch_size: usize,
}

const _: () = assert!(
    size_of::<ReaderState>() <= size_of::<rootseal_boot_verity_reader>()
        && align_of::<ReaderState>() <= align_of::<rootseal_boot_verity_reader>()
);

impl DataSource for BootPath<'_> {
    fn read_data_block(&mut self, number: u64, buf: &mut [u8]) -> Result<(), rootseal_boot_status> {
        let data = self.data.as_ref().ok_or(rootseal_boot_status::NullParameter)?;
        let offset = number.checked_mul(buf.len() as u64).ok_or(rootseal_boot_status::VerityOverflow)?;
        if data.read_at(offset, buf)? != buf.len() {
            return Err(rootseal_boot_status::VerityDataTooShort);
        }
        Ok(())
    }
}

/// Sets up `reader` to read the data device of `params` through its tree (the same
/// checks as [`rootseal_boot_verity_verify_range`]). `scratch` (`scratch_size` bytes, at
/// least what `rootseal_boot_verity_range_scratch_size` says) is its cache: the verified
/// hash blocks of the last path and the last verified data block. `params.root_hash` is
/// copied; the `rootseal_boot_io` structs `params` points to and `scratch` must stay
/// valid, and unused by anything else, while the reader is used. Nothing needs freeing.
///
/// # Safety
/// As for the range function; `reader` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_verity_reader_init(
    params: *const rootseal_boot_verity_params,
    scratch: *mut u8,
    scratch_size: usize,
    reader: *mut rootseal_boot_verity_reader,
) -> rootseal_boot_status {
    if reader.is_null() || scratch.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    // SAFETY: per the caller's contract.
    let state = unsafe { reader_state(params, scratch, scratch_size) };
    match state {
        // SAFETY: `reader` is non-NULL and writable, and large and aligned enough for the
        // state (checked at compile time above).
        Ok(state) => unsafe { reader.cast::<ReaderState>().write(state) },
        Err(status) => return status,
    }
    rootseal_boot_status::Ok
}

/// The reader's state for `params`, checked.
///
/// # Safety
/// As for [`rootseal_boot_verity_reader_init`].
unsafe fn reader_state(
    params: *const rootseal_boot_verity_params,
    scratch: *mut u8,
    scratch_size: usize,
) -> Result<ReaderState, rootseal_boot_status> {
    // SAFETY: per the caller's contract.
    let params = unsafe { params_of(params) }?;
    // SAFETY: as above.
    let (config, layout) = unsafe { tree_of(params) }?;
    // SAFETY: as above.
    let root_hash = unsafe { bytes_in(params.root_hash, params.root_hash_size) }?;
    if root_hash.len() != config.hash_algorithm.digest_size() {
        return Err(rootseal_boot_status::VerityRootHashLength);
    }
    if scratch_size < scratch_needed(&config, &layout)? {
        return Err(rootseal_boot_status::BufferTooSmall);
    }
    // SAFETY: as above: both devices are checked now, and used on every read.
    unsafe {
        Disk::new(params.data)?;
        Disk::new(params.hash)?;
    }
    let blocks = VerifiedBlocks::new(&layout, config.hash_type, root_hash, config.data_block_size)
        .ok_or(rootseal_boot_status::VerityRootHashLength)?;
    Ok(ReaderState { data: params.data, hash: params.hash, config, layout, blocks, scratch, scratch_size })
}

/// Reads up to `len` bytes at byte `offset` of the data area into `buf`, every block
/// verified leaf to root before any of its bytes are copied. `OK` with
/// `result.bytes_read` (0 at or past the end); `ROOTSEAL_BOOT_STATUS_VERITY_CORRUPTED`
/// when the first block the read touches is refused, with its number in `result`; the
/// device statuses of the range function otherwise.
///
/// # Safety
/// `reader` set up by `rootseal_boot_verity_reader_init` (its devices and scratch still
/// valid), `buf` writable for `len` bytes, `result` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_verity_reader_read(
    reader: *mut rootseal_boot_verity_reader,
    offset: u64,
    buf: *mut u8,
    len: usize,
    result: *mut rootseal_boot_verity_read_result,
) -> rootseal_boot_status {
    if reader.is_null() || result.is_null() || (buf.is_null() && len != 0) {
        return rootseal_boot_status::NullParameter;
    }
    // SAFETY: set up by init, per the contract; nothing else refers to it during the call.
    let state = unsafe { &mut *reader.cast::<ReaderState>() };
    // SAFETY: `buf` writable for `len` bytes (or empty).
    let buf: &mut [u8] = if len == 0 { &mut [] } else { unsafe { core::slice::from_raw_parts_mut(buf, len) } };
    // SAFETY: the scratch the reader was set up with, still valid per the contract.
    let scratch = unsafe { core::slice::from_raw_parts_mut(state.scratch, state.scratch_size) };
    let outcome = (|| {
        let path_bytes = scratch_bytes(&state.layout).ok_or(rootseal_boot_status::VerityOverflow)?;
        let (path_blocks, rest) = scratch.split_at_mut(path_bytes);
        let block = &mut rest[..state.config.data_block_size as usize];
        let mut memory = PathMemory::new(&state.layout, path_blocks).ok_or(rootseal_boot_status::BufferTooSmall)?;
        // SAFETY: the devices were checked at init and are still valid per the contract.
        let (data, hash) = unsafe { (Disk::new(state.data)?, Disk::new(state.hash)?) };
        let simd = simd_for(&state.config);
        let mut source = BootPath {
            data: Some(data),
            hash,
            hasher: BlockHasher::new(
                state.config.hash_algorithm,
                state.config.hash_type,
                state.config.salt(),
                simd_ref(&simd),
            ),
            result: empty_range_result(),
        };
        Ok(state.blocks.read_at(&mut memory, block, &mut source, offset, buf))
    })();
    let mut found = rootseal_boot_verity_read_result {
        bytes_read: 0,
        corrupt_data_block: 0,
        corrupt_hash_block: 0,
        corrupt_hash_block_valid: 0,
        reserved0: 0,
        reserved: [0; 2],
    };
    let status = match outcome {
        Err(status) | Ok(Err(ReadFault::Source(status))) => return status,
        Ok(Ok(n)) => {
            found.bytes_read = n as u64;
            rootseal_boot_status::Ok
        }
        Ok(Err(ReadFault::CorruptDataBlock(block))) => {
            found.corrupt_data_block = block;
            rootseal_boot_status::VerityCorrupted
        }
        Ok(Err(ReadFault::CorruptHashBlock { data_block, hash_block })) => {
            found.corrupt_data_block = data_block;
            found.corrupt_hash_block = hash_block;
            found.corrupt_hash_block_valid = 1;
            rootseal_boot_status::VerityCorrupted
        }
    };
    // SAFETY: checked non-NULL; writable per the contract.
    unsafe { result.write(found) };
    status
}

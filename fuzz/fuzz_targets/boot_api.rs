//! The boot library's C entry points (boot/src/ffi, the very code of librootseal_boot.a)
//! over callbacks that fail or move a few bytes at a time, on the reference trees of
//! `verity_verify` with fuzzed patches, and on fuzzed bytes as superblocks and kernels.
//!
//! Invariants: no call panics; no call allocates (a counting allocator checks it: the
//! archive has no heap); range verification of the whole image says OK exactly when the
//! host's full `verity::verify` of the same bytes says intact, and any range is OK when
//! it does; a failed call leaves its out-params untouched, and results have their
//! reserved fields zero.
//!
//! Input: byte 0: bit 0 the geometry, bits 1-2 how the callbacks misbehave, bits 3-7
//! scratch slack; then u16 range start and length in blocks; then (u16 offset, xor) patches
//! to the hash device. The raw input is also parsed as a superblock and a kernel header.

#![no_main]

use rootseal::verity::{self, RunOptions, VerityOptions};
use rootseal_boot::ffi::io::{ROOTSEAL_BOOT_IO_VERSION, rootseal_boot_io};
use rootseal_boot::ffi::kernel::*;
use rootseal_boot::ffi::rootseal_boot_status;
use rootseal_boot::ffi::verity::*;
use rootseal_fuzz::alloc_count::{Counting, no_alloc};
use rootseal_fuzz::input::Input;
use rootseal_fuzz::verity_verify::{data, geometries};
use std::cell::Cell;
use std::ffi::c_void;

#[global_allocator]
static COUNTING: Counting = Counting;

/// A disk in memory whose read callback misbehaves as asked.
struct Disk<'a> {
    bytes: &'a [u8],
    /// Reads left before every read fails (0: never).
    fail_after: Cell<u32>,
    /// Bytes moved per call at most (0: all).
    chunk: usize,
}

unsafe extern "C" fn read_cb(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: ctx is the Disk the io struct was made with, alive for the call.
    let disk = unsafe { &*(ctx as *const Disk<'_>) };
    match disk.fail_after.get() {
        0 => {}
        1 => return -1,
        n => disk.fail_after.set(n - 1),
    }
    let Ok(start) = usize::try_from(offset) else { return 0 };
    if start >= disk.bytes.len() {
        return 0;
    }
    let mut n = len.min(disk.bytes.len() - start);
    if disk.chunk != 0 {
        n = n.min(disk.chunk);
    }
    // SAFETY: the library hands a buffer writable for `len` >= n bytes.
    unsafe { std::ptr::copy_nonoverlapping(disk.bytes[start..].as_ptr(), buf, n) };
    n as i64
}

fn io_of(disk: &Disk<'_>) -> rootseal_boot_io {
    rootseal_boot_io {
        version: ROOTSEAL_BOOT_IO_VERSION,
        reserved0: 0,
        ctx: disk as *const Disk<'_> as *mut c_void,
        read: Some(read_cb),
        write: None,
        flush: None,
        size: None,
        block_size: None,
        reserved: [std::ptr::null_mut(); 4],
    }
}

fn bytes_of<T>(value: &T) -> Vec<u8> {
    // SAFETY: plain-old-data C structs, read as bytes.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
}

fn check_raw(bytes: &[u8], misbehave: u8) {
    let disk =
        Disk { bytes, fail_after: Cell::new(u32::from(misbehave & 1) * 2), chunk: usize::from(misbehave >> 1) * 7 };
    let io = io_of(&disk);
    // SAFETY: an all-zero struct of integers and byte arrays is a valid value.
    let mut superblock: rootseal_boot_verity_superblock = unsafe { std::mem::zeroed() };
    let before = bytes_of(&superblock);
    // SAFETY: valid pointers.
    let status =
        no_alloc("superblock_read", || unsafe { rootseal_boot_verity_superblock_read(&io, 0, &mut superblock) });
    if status == rootseal_boot_status::Ok {
        assert!(superblock.reserved.iter().all(|&r| r == 0) && superblock.reserved0 == 0);
        assert!(superblock.salt_size <= 256 && superblock.data_blocks > 0);
    } else {
        assert_eq!(bytes_of(&superblock), before, "a failed superblock read wrote its out-param");
    }
    let mut hash = [b'z' as std::ffi::c_char; ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE];
    let mut arch = 77u32;
    for wanted in 0..3 {
        // SAFETY: valid pointers and sizes.
        let status = no_alloc("usrhash_read", || unsafe {
            rootseal_boot_kernel_usrhash_read(&io, 0, wanted, hash.as_mut_ptr(), hash.len(), &mut arch)
        });
        if status == rootseal_boot_status::Ok {
            assert!(hash[..64].iter().all(|&c| (c as u8).is_ascii_hexdigit()) && hash[64] == 0);
            assert!(arch == 1 || arch == 2);
            hash.fill(b'z' as std::ffi::c_char);
            arch = 77;
        } else {
            assert!(hash.iter().all(|&c| c == b'z' as std::ffi::c_char) && arch == 77);
        }
    }
}

fn check_range(input: &mut Input<'_>, control: u8) {
    let geometry = &geometries()[usize::from(control & 1)];
    let mut hash_device = geometry.hash_device.clone();
    let start_block = u64::from(input.u16());
    let blocks = u64::from(input.u16());
    while !input.is_empty() {
        let at = usize::from(input.u16()) % hash_device.len();
        hash_device[at] ^= input.byte();
    }
    // The oracle: the host's full verification of the same bytes.
    let opts = if geometry.options.no_superblock {
        geometry.options.clone()
    } else {
        VerityOptions { hash_offset: 0, ..Default::default() }
    };
    let run = RunOptions { threads: Some(1), progress: None, ..Default::default() };
    // None when the host refuses the parameters (a patched superblock can claim more data
    // blocks than the image has: the blocks that exist may still verify, as in the kernel).
    let host_verdict =
        verity::verify(data(), &hash_device, false, &opts, &geometry.root_hash, &run).ok().map(|r| r.is_intact());
    let intact = host_verdict == Some(true);
    let misbehave = control >> 1 & 3;
    let data_disk = Disk { bytes: data(), fail_after: Cell::new(0), chunk: 0 };
    let hash_disk = Disk {
        bytes: &hash_device,
        fail_after: Cell::new(if misbehave == 1 { 3 } else { 0 }),
        chunk: if misbehave == 2 { 5 } else { 0 },
    };
    let (data_io, hash_io) = (io_of(&data_disk), io_of(&hash_disk));
    let config = &geometry.config;
    // SAFETY: all-zero is a valid value of these C structs.
    let mut given: rootseal_boot_verity_superblock = unsafe { std::mem::zeroed() };
    given.hash_type = config.hash_type.as_u32();
    given.data_block_size = config.data_block_size;
    given.hash_block_size = config.hash_block_size;
    given.data_blocks = config.data_blocks;
    given.salt_size = config.salt.len() as u32;
    given.salt[..config.salt.len()].copy_from_slice(&config.salt);
    for (to, from) in given.algorithm.iter_mut().zip(config.hash_algorithm.name().bytes()) {
        *to = from as std::ffi::c_char;
    }
    let with_superblock = config.superblock_uuid.is_some();
    let params = rootseal_boot_verity_params {
        version: ROOTSEAL_BOOT_VERITY_PARAMS_VERSION,
        flags: if with_superblock { 0 } else { ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK },
        data: &data_io,
        hash: &hash_io,
        hash_offset: config.hash_offset,
        root_hash: geometry.root_hash.as_ptr(),
        root_hash_size: geometry.root_hash.len(),
        geometry: if with_superblock { std::ptr::null() } else { &given },
        reserved: [0; 4],
    };
    let mut need = 0usize;
    // SAFETY: valid pointers.
    let status =
        no_alloc("range_scratch_size", || unsafe { rootseal_boot_verity_range_scratch_size(&params, &mut need) });
    if status != rootseal_boot_status::Ok {
        // Only the hash device (superblock) can make this fail.
        assert!(with_superblock && (!intact || misbehave == 1), "{status:?} for an intact tree");
        return;
    }
    let slack = usize::from(control >> 3);
    let mut scratch = vec![0u8; need + slack];
    let block_size = u64::from(config.data_block_size);
    let (offset, len) = if blocks == 0 {
        (0, config.data_blocks * block_size)
    } else {
        (start_block * block_size % (config.data_blocks * block_size), blocks * block_size)
    };
    // SAFETY: all-zero is valid; the result struct is written only on OK and CORRUPTED.
    let mut result: rootseal_boot_verity_range_result = unsafe { std::mem::zeroed() };
    let before = bytes_of(&result);
    // SAFETY: valid pointers and sizes.
    let status = no_alloc("verify_range", || unsafe {
        rootseal_boot_verity_verify_range(&params, offset, len, scratch.as_mut_ptr(), scratch.len(), &mut result)
    });
    match status {
        rootseal_boot_status::Ok | rootseal_boot_status::VerityCorrupted => {
            assert!(result.reserved.iter().all(|&r| r == 0));
            assert!(result.corrupted_data_blocks <= config.data_blocks);
            if result.corrupted_data_blocks > 0 {
                assert!(result.first_corrupted_data_block < config.data_blocks);
            }
            let whole = offset == 0 && len == config.data_blocks * block_size;
            if let (true, 0 | 2 | 3, Some(intact)) = (whole, misbehave, host_verdict) {
                assert_eq!(status == rootseal_boot_status::Ok, intact, "whole-image verdict against the host's");
            } else if intact {
                assert_eq!(status, rootseal_boot_status::Ok, "an intact tree refused");
            }
        }
        other => {
            assert_eq!(bytes_of(&result), before, "{other:?} wrote the result");
            if intact && misbehave != 1 {
                assert_eq!(other, rootseal_boot_status::InvalidArgument, "an intact tree refused");
            }
        }
    }

    // The verified reader over the same devices: an intact tree reads back the data,
    // from the range's start, in pieces of the fuzzed length.
    // SAFETY: all-zero is a valid value of the opaque storage.
    let mut reader: Box<rootseal_boot_verity_reader> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: valid pointers; scratch outlives the reader's use.
    let status = no_alloc("reader_init", || unsafe {
        rootseal_boot_verity_reader_init(&params, scratch.as_mut_ptr(), scratch.len(), &mut *reader)
    });
    if status != rootseal_boot_status::Ok {
        assert!(!intact || misbehave == 1, "{status:?}: an intact tree refused by the reader");
        return;
    }
    let mut piece = vec![0u8; (len as usize % 3000) + 1];
    let mut at = offset;
    // SAFETY: all-zero is a valid result.
    let mut read: rootseal_boot_verity_read_result = unsafe { std::mem::zeroed() };
    for _ in 0..64 {
        // SAFETY: valid pointers and sizes.
        let status = no_alloc("reader_read", || unsafe {
            rootseal_boot_verity_reader_read(&mut *reader, at, piece.as_mut_ptr(), piece.len(), &mut read)
        });
        assert!(read.reserved0 == 0 && read.reserved == [0; 2]);
        match status {
            rootseal_boot_status::Ok if read.bytes_read == 0 => break,
            rootseal_boot_status::Ok => {
                let n = read.bytes_read as usize;
                assert!(n <= piece.len());
                let start = at as usize;
                assert_eq!(&piece[..n], &data()[start..start + n], "verified bytes differ from the data");
                at += read.bytes_read;
            }
            rootseal_boot_status::VerityCorrupted => {
                assert!(!intact || misbehave == 1, "an intact tree's block refused");
                // With the reference parameters (a patched superblock can change the
                // block size), the refused block is the one the read starts in.
                if !with_superblock || hash_device[..512] == geometry.hash_device[..512] {
                    assert_eq!(read.corrupt_data_block, at / block_size, "the refused block is the one read");
                }
                break;
            }
            other => {
                assert!(!intact || misbehave == 1, "{other:?} reading an intact tree");
                break;
            }
        }
    }
}

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let mut input = Input::new(bytes);
    let control = input.byte();
    check_raw(bytes, control);
    check_range(&mut input, control);
});

//! `rootseal_verity_reader_*`: the host library's verified reader through callbacks, on
//! a tree veritysetup made. Every byte of the data comes back; a bit flipped in the data
//! (which `veritysetup verify` refuses too) is refused with its block number and none of
//! its bytes; damage in a hash block names that block; the NULL, params and callback
//! contract holds.

use rootseal::ffi::io::rootseal_io;
use rootseal::ffi::rootseal_last_error;
use rootseal::ffi::status::rootseal_status as S;
use rootseal::ffi::verity::*;
use rootseal::ffi::verity_reader::*;
use std::ffi::CStr;
use std::process::Command;
use std::ptr;

use crate::common;
use crate::memory_io::MemoryIo;

fn params() -> rootseal_verity_params {
    // SAFETY: all-zero is the documented starting point of the params struct.
    let mut p: rootseal_verity_params = unsafe { std::mem::zeroed() };
    p.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    p
}

fn open(data: &rootseal_io, hash: &rootseal_io, root: &[u8]) -> (S, *mut rootseal_verity_reader) {
    let mut reader = ptr::null_mut();
    // SAFETY: valid params, callbacks whose ctx outlives the reader, a writable out-param.
    let status = unsafe {
        rootseal_verity_reader_open_io(ptr::null(), &params(), data, hash, root.as_ptr(), root.len(), &mut reader)
    };
    (status, reader)
}

fn read(reader: *mut rootseal_verity_reader, offset: u64, buf: &mut [u8]) -> (S, rootseal_verity_read_result) {
    // SAFETY: all-zero is a valid result.
    let mut result: rootseal_verity_read_result = unsafe { std::mem::zeroed() };
    // SAFETY: a live reader, a writable buffer of its length, a writable result.
    let status = unsafe { rootseal_verity_reader_read(reader, offset, buf.as_mut_ptr(), buf.len(), &mut result) };
    (status, result)
}

/// A 300-block image and its veritysetup tree (sha256, 4 KiB blocks, superblock).
fn veritysetup_tree() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let data = common::pseudo_random(11, 300 * 4096);
    std::fs::write(dir.path().join("data"), &data).unwrap();
    let out = Command::new("veritysetup")
        .args(["format", "--salt", "0123456789abcdef"])
        .arg(dir.path().join("data"))
        .arg(dir.path().join("hash"))
        .output()
        .expect("veritysetup (cryptsetup-bin) must be installed");
    assert!(out.status.success(), "{}", common::describe(&out));
    let root = common::parse_root_hash(&out.stdout);
    let root: Vec<u8> = (0..root.len()).step_by(2).map(|i| u8::from_str_radix(&root[i..i + 2], 16).unwrap()).collect();
    (data, std::fs::read(dir.path().join("hash")).unwrap(), root)
}

#[test]
fn reads_back_every_byte_of_a_veritysetup_image() {
    let (data, tree, root) = veritysetup_tree();
    let (data_io, hash_io) = (MemoryIo::new(data.clone()), MemoryIo::new(tree));
    let (status, reader) = open(&data_io.as_io(), &hash_io.as_io(), &root);
    assert_eq!(status, S::Ok);
    let mut size = 0;
    // SAFETY: a live reader and a writable out-param.
    assert_eq!(unsafe { rootseal_verity_reader_size(reader, &mut size) }, S::Ok);
    assert_eq!(size, data.len() as u64);
    let mut back = Vec::new();
    let mut piece = vec![0u8; 3001];
    loop {
        let (status, result) = read(reader, back.len() as u64, &mut piece);
        assert_eq!(status, S::Ok);
        assert_eq!((result.reserved0, result.reserved), (0, [0; 2]));
        if result.bytes_read == 0 {
            break;
        }
        back.extend_from_slice(&piece[..result.bytes_read as usize]);
    }
    assert_eq!(back, data);
    // SAFETY: a reader from open, freed once; NULL is a no-op.
    unsafe {
        rootseal_verity_reader_free(reader);
        rootseal_verity_reader_free(ptr::null_mut());
    }
}

#[test]
fn refuses_a_flipped_block_with_its_number_and_no_bytes() {
    let (mut data, mut tree, root) = veritysetup_tree();
    data[4096 * 42 + 1000] ^= 0x80;
    let (data_io, hash_io) = (MemoryIo::new(data.clone()), MemoryIo::new(tree.clone()));
    let (status, reader) = open(&data_io.as_io(), &hash_io.as_io(), &root);
    assert_eq!(status, S::Ok, "opening reads no data block");
    let mut buf = vec![0x55u8; 4096 * 3];
    let (status, result) = read(reader, 4096 * 41, &mut buf);
    assert_eq!((status, result.bytes_read), (S::Ok, 4096), "the read stops before block 42");
    buf.fill(0x55);
    let (status, result) = read(reader, 4096 * 42 + 10, &mut buf);
    assert_eq!(status, S::VerityCorrupted);
    assert_eq!((result.corrupt_data_block, result.corrupt_hash_block_valid), (42, 0));
    assert!(buf.iter().all(|&b| b == 0x55), "bytes of the refused block were returned");
    // SAFETY: the message of this thread's last failed call.
    let message = unsafe { CStr::from_ptr(rootseal_last_error()) }.to_string_lossy().into_owned();
    assert!(message.contains("data block 42"), "{message}");
    // SAFETY: freed once.
    unsafe { rootseal_verity_reader_free(reader) };

    // A damaged leaf hash block (the tree: superblock, top block, then 3 leaves).
    data[4096 * 42 + 1000] ^= 0x80;
    tree[4096 * 3 + 17] ^= 1; // the second leaf: data blocks 128..256
    let (data_io, hash_io) = (MemoryIo::new(data), MemoryIo::new(tree));
    let (_, reader) = open(&data_io.as_io(), &hash_io.as_io(), &root);
    let (status, result) = read(reader, 4096 * 200, &mut buf[..100]);
    assert_eq!(status, S::VerityCorrupted);
    assert_eq!((result.corrupt_data_block, result.corrupt_hash_block, result.corrupt_hash_block_valid), (200, 3, 1));
    assert_eq!(read(reader, 0, &mut buf).0, S::Ok, "blocks under intact leaves still read");
    // SAFETY: freed once.
    unsafe { rootseal_verity_reader_free(reader) };
}

#[test]
fn contract() {
    let (data, tree, root) = veritysetup_tree();
    let (data_io, hash_io) = (MemoryIo::new(data), MemoryIo::new(tree));
    let (dio, hio) = (data_io.as_io(), hash_io.as_io());
    assert_eq!(open(&dio, &hio, &root[..31]).0, S::VerityRootHashLength);
    let mut reader = ptr::null_mut();
    // SAFETY: NULL out-param and NULL params are refused before anything is read.
    unsafe {
        assert_eq!(
            rootseal_verity_reader_open_io(
                ptr::null(),
                &params(),
                &dio,
                &hio,
                root.as_ptr(),
                root.len(),
                ptr::null_mut()
            ),
            S::NullParameter
        );
        assert_eq!(
            rootseal_verity_reader_open_io(
                ptr::null(),
                ptr::null(),
                &dio,
                &hio,
                root.as_ptr(),
                root.len(),
                &mut reader
            ),
            S::NullParameter
        );
    }
    assert!(reader.is_null(), "a failed open wrote its out-param");
    let (status, reader) = open(&dio, &hio, &root);
    assert_eq!(status, S::Ok);
    // SAFETY: all-zero is a valid result.
    let mut result: rootseal_verity_read_result = unsafe { std::mem::zeroed() };
    result.bytes_read = 77;
    data_io.fail_reads.set(true);
    let mut buf = [0u8; 10];
    // SAFETY: a live reader; the buffer and result are valid.
    let status = unsafe { rootseal_verity_reader_read(reader, 0, buf.as_mut_ptr(), buf.len(), &mut result) };
    assert_eq!(status, S::CallbackFailed);
    assert_eq!(result.bytes_read, 77, "a failed read wrote its result");
    data_io.fail_reads.set(false);
    // SAFETY: NULL arguments are refused.
    unsafe {
        assert_eq!(rootseal_verity_reader_read(reader, 0, ptr::null_mut(), 10, &mut result), S::NullParameter);
        assert_eq!(rootseal_verity_reader_read(reader, 0, buf.as_mut_ptr(), 10, ptr::null_mut()), S::NullParameter);
        assert_eq!(
            rootseal_verity_reader_read(ptr::null_mut(), 0, buf.as_mut_ptr(), 10, &mut result),
            S::NullParameter
        );
    }
    let (status, past_end) = read(reader, u64::MAX - 3, &mut buf);
    assert_eq!((status, past_end.bytes_read), (S::Ok, 0), "a read past the end is empty");
    // SAFETY: freed once.
    unsafe { rootseal_verity_reader_free(reader) };
}

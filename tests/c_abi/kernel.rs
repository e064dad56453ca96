//! The usr hash entry points from Rust: set and get by path, parse from memory as a boot
//! loader would, GRUB's rule (uppercase is no hash), and the status, NULL, buffer and
//! out-param contract.

use rootseal::ffi::kernel::*;
use rootseal::ffi::status::rootseal_status as S;
use std::ffi::{CStr, CString, c_char};
use std::ptr;

const HASH: &str = "9a3c0e7d1b2f4a6c8e0d2b4f6a8c0e1d3b5f7a9c1e3d5b7f9a1c3e5d7b9f1a3c";

fn bz_image() -> Vec<u8> {
    let mut bytes = vec![0x90u8; 64 * 1024];
    bytes[0x202..0x206].copy_from_slice(b"HdrS");
    bytes[0x40..0x80].fill(0);
    bytes
}

fn get(path: &CString, arch: u32) -> (S, String, u32) {
    let mut buf = [0x55 as c_char; ROOTSEAL_KERNEL_USRHASH_SIZE];
    let mut found_arch = 99;
    // SAFETY: a NUL-terminated path, a buffer of the size given, a writable arch.
    let status =
        unsafe { rootseal_kernel_usrhash_get(path.as_ptr(), arch, buf.as_mut_ptr(), buf.len(), &mut found_arch) };
    let text = if status == S::Ok {
        // SAFETY: NUL-terminated on success.
        unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
    } else {
        assert!(buf.iter().all(|&b| b == 0x55), "{status:?}: hash_out written");
        String::new()
    };
    (status, text, found_arch)
}

#[test]
fn set_get_and_parse_by_grubs_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vmlinuz");
    std::fs::write(&path, bz_image()).unwrap();
    let c_path = CString::new(path.to_str().unwrap()).unwrap();

    let (status, _, arch) = get(&c_path, ROOTSEAL_KERNEL_ARCH_AUTO);
    assert_eq!((status, arch), (S::VerityNoUsrHash, 99), "a zeroed slot is no hash; arch_out untouched");

    let hash = CString::new(HASH).unwrap();
    let mut arch = 0;
    // SAFETY: NUL-terminated strings and a writable arch.
    let status = unsafe { rootseal_kernel_usrhash_set(c_path.as_ptr(), 0, hash.as_ptr(), 0, &mut arch) };
    assert_eq!((status, arch), (S::Ok, ROOTSEAL_KERNEL_ARCH_X86_64));
    assert_eq!(&std::fs::read(&path).unwrap()[0x40..0x80], HASH.as_bytes());
    assert_eq!(get(&c_path, ROOTSEAL_KERNEL_ARCH_AUTO), (S::Ok, HASH.to_string(), ROOTSEAL_KERNEL_ARCH_X86_64));

    // From memory, as a boot loader that loaded the kernel: the same answer; an uppercase
    // character makes it no hash, as in GRUB.
    let mut image = std::fs::read(&path).unwrap();
    let mut buf = [0 as c_char; ROOTSEAL_KERNEL_USRHASH_SIZE];
    let mut found = 0;
    // SAFETY: readable image bytes, a buffer of the size given, a writable arch.
    let status = unsafe {
        rootseal_kernel_usrhash_parse(
            image.as_ptr(),
            ROOTSEAL_KERNEL_HEADER_SIZE,
            0,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    assert_eq!((status, found), (S::Ok, ROOTSEAL_KERNEL_ARCH_X86_64));
    // SAFETY: NUL-terminated on success.
    assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(), HASH);
    image[0x40] = b'A';
    // SAFETY: as above.
    let status = unsafe {
        rootseal_kernel_usrhash_parse(image.as_ptr(), image.len(), 0, buf.as_mut_ptr(), buf.len(), ptr::null_mut())
    };
    assert_eq!(status, S::VerityNoUsrHash);
    // SAFETY: as above; 100 bytes end before the magic at 0x202.
    let status =
        unsafe { rootseal_kernel_usrhash_parse(image.as_ptr(), 100, 0, buf.as_mut_ptr(), buf.len(), ptr::null_mut()) };
    assert_eq!(status, S::VerityNotAKernel);
}

#[test]
fn refusals_write_nothing_and_leave_out_params() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vmlinuz");
    let mut foreign = bz_image();
    foreign[0x40..0x80].copy_from_slice(&[b'x'; 64]);
    std::fs::write(&path, &foreign).unwrap();
    let c_path = CString::new(path.to_str().unwrap()).unwrap();
    let hash = CString::new(HASH).unwrap();
    let upper = CString::new(HASH.to_uppercase()).unwrap();
    let set = |hash: &CString, arch: u32, flags: u32| {
        let mut arch_out = 77;
        // SAFETY: NUL-terminated strings and a writable arch.
        let status = unsafe { rootseal_kernel_usrhash_set(c_path.as_ptr(), arch, hash.as_ptr(), flags, &mut arch_out) };
        (status, arch_out)
    };
    assert_eq!(set(&hash, 0, 0), (S::VerityUsrHashSlotInUse, 77));
    assert_eq!(set(&upper, 0, ROOTSEAL_KERNEL_USRHASH_FORCE), (S::InvalidArgument, 77));
    assert_eq!(set(&hash, ROOTSEAL_KERNEL_ARCH_ARM64, ROOTSEAL_KERNEL_USRHASH_FORCE), (S::VerityNotAKernel, 77));
    assert_eq!(set(&hash, 7, 0), (S::InvalidArgument, 77));
    assert_eq!(set(&hash, 0, 1 << 5), (S::InvalidArgument, 77));
    assert!(std::fs::read(&path).unwrap() == foreign, "a refused write changed the image");
    assert_eq!(set(&hash, 0, ROOTSEAL_KERNEL_USRHASH_FORCE), (S::Ok, ROOTSEAL_KERNEL_ARCH_X86_64));

    let mut small = [0 as c_char; 64];
    // SAFETY: NUL-terminated path; the buffer is 64 bytes, as given.
    let status =
        unsafe { rootseal_kernel_usrhash_get(c_path.as_ptr(), 0, small.as_mut_ptr(), small.len(), ptr::null_mut()) };
    assert_eq!(status, S::BufferTooSmall);
    // SAFETY: NULL pointers are refused before use.
    unsafe {
        assert_eq!(
            rootseal_kernel_usrhash_get(ptr::null(), 0, small.as_mut_ptr(), 65, ptr::null_mut()),
            S::NullParameter
        );
        assert_eq!(
            rootseal_kernel_usrhash_get(c_path.as_ptr(), 0, ptr::null_mut(), 65, ptr::null_mut()),
            S::NullParameter
        );
        assert_eq!(rootseal_kernel_usrhash_set(c_path.as_ptr(), 0, ptr::null(), 0, ptr::null_mut()), S::NullParameter);
    }
}

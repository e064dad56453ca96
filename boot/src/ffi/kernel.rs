//! The `/usr` root hash in the kernel image, as Flatcar's GRUB reads it: from the image's
//! first bytes in memory, or straight from a disk through the callbacks, and the
//! command-line suffix GRUB appends.

use super::io::{Disk, rootseal_boot_io};
use super::{bytes_in, rootseal_boot_status, write_opt};
use crate::verity::usrhash::{self, CMDLINE_KEY, HEADER_LEN, KernelArch, USRHASH_LEN};
use core::ffi::c_char;

/// `arch`: the format from the image's magic.
pub const ROOTSEAL_BOOT_KERNEL_ARCH_AUTO: u32 = 0;
/// `arch`: an x86-64 bzImage (`HdrS` at 0x202; the hash at byte 0x40).
pub const ROOTSEAL_BOOT_KERNEL_ARCH_X86_64: u32 = 1;
/// `arch`: an arm64 Image (`ARM\x64` at 0x38; the hash at byte 512).
pub const ROOTSEAL_BOOT_KERNEL_ARCH_ARM64: u32 = 2;
const _: () = assert!(
    ROOTSEAL_BOOT_KERNEL_ARCH_X86_64 == KernelArch::X86_64.number()
        && ROOTSEAL_BOOT_KERNEL_ARCH_ARM64 == KernelArch::Arm64.number()
);

/// Bytes a usr hash buffer needs: 64 characters and the NUL.
pub const ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE: usize = 65;
/// Bytes of the image that hold every magic and slot either format uses.
pub const ROOTSEAL_BOOT_KERNEL_HEADER_SIZE: usize = 576;
/// Bytes the command-line suffix needs: ` verity.usrhash=`, 64 characters and the NUL.
pub const ROOTSEAL_BOOT_KERNEL_CMDLINE_SUFFIX_SIZE: usize = 81;
const _: () = assert!(
    ROOTSEAL_BOOT_KERNEL_HEADER_SIZE == HEADER_LEN
        && ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE == USRHASH_LEN + 1
        && ROOTSEAL_BOOT_KERNEL_CMDLINE_SUFFIX_SIZE == CMDLINE_KEY.len() + USRHASH_LEN + 1
);

/// The hash GRUB would read from `header`, and the format, or the status that says why
/// there is none.
fn find(header: &[u8], arch: u32) -> Result<(KernelArch, &str), rootseal_boot_status> {
    let arch = KernelArch::from_number(arch).ok_or(rootseal_boot_status::InvalidArgument)?;
    match usrhash::find(header, arch) {
        Ok((arch, Some(hash))) => Ok((arch, hash)),
        Ok((_, None)) => Err(rootseal_boot_status::VerityNoUsrHash),
        Err(_) => Err(rootseal_boot_status::VerityNotAKernel),
    }
}

/// Copies `parts` one after the other into `out` with a NUL, if `out_size` holds them.
///
/// # Safety
/// `out` NULL or writable for `out_size` bytes.
unsafe fn store_text(parts: &[&str], out: *mut c_char, out_size: usize) -> Result<(), rootseal_boot_status> {
    if out.is_null() {
        return Err(rootseal_boot_status::NullParameter);
    }
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if out_size <= len {
        return Err(rootseal_boot_status::BufferTooSmall);
    }
    // SAFETY: writable for out_size > len bytes per the caller's contract.
    let out = unsafe { core::slice::from_raw_parts_mut(out.cast::<u8>(), out_size) };
    let mut at = 0;
    for part in parts {
        out[at..at + part.len()].copy_from_slice(part.as_bytes());
        at += part.len();
    }
    out[at] = 0;
    Ok(())
}

/// Checks an output buffer's size before anything is read.
fn check_size(out: *mut c_char, out_size: usize, needed: usize) -> Result<(), rootseal_boot_status> {
    if out.is_null() {
        Err(rootseal_boot_status::NullParameter)
    } else if out_size < needed {
        Err(rootseal_boot_status::BufferTooSmall)
    } else {
        Ok(())
    }
}

fn status_of(result: Result<(), rootseal_boot_status>) -> rootseal_boot_status {
    result.err().unwrap_or(rootseal_boot_status::Ok)
}

/// Reads the usr hash from the first `len` bytes of a kernel image in memory (at least
/// `ROOTSEAL_BOOT_KERNEL_HEADER_SIZE` covers either format) into `hash_out` (64
/// lowercase hex characters and a NUL; `hash_out_size` at least
/// `ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE`), and its format into `arch_out` (may be NULL).
/// `arch` is `ROOTSEAL_BOOT_KERNEL_ARCH_AUTO` or the format to read the slot of.
///
/// Returns `ROOTSEAL_BOOT_STATUS_VERITY_NO_USR_HASH` when the slot holds no hash GRUB
/// would use, `ROOTSEAL_BOOT_STATUS_VERITY_NOT_A_KERNEL` for an image without a known
/// magic or too short for its slot.
///
/// # Safety
/// `header` readable for `len` bytes, `hash_out` writable for `hash_out_size` bytes,
/// `arch_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_kernel_usrhash_parse(
    header: *const u8,
    len: usize,
    arch: u32,
    hash_out: *mut c_char,
    hash_out_size: usize,
    arch_out: *mut u32,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract covers every pointer.
    status_of(unsafe {
        check_size(hash_out, hash_out_size, ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE).and_then(|()| {
            let (arch, hash) = find(bytes_in(header, len)?, arch)?;
            store_text(&[hash], hash_out, hash_out_size)?;
            write_opt(arch_out, arch.number());
            Ok(())
        })
    })
}

/// [`rootseal_boot_kernel_usrhash_parse`] on the kernel image that starts at byte
/// `offset` of the disk `io` (only `read` is used; an image that ends early reads as
/// short). `CALLBACK_FAILED` when the read callback fails or returns more than asked.
///
/// # Safety
/// `io` a valid `rootseal_boot_io`; the outputs as for the parse function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_kernel_usrhash_read(
    io: *const rootseal_boot_io,
    offset: u64,
    arch: u32,
    hash_out: *mut c_char,
    hash_out_size: usize,
    arch_out: *mut u32,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract covers every pointer.
    status_of(unsafe {
        check_size(hash_out, hash_out_size, ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE).and_then(|()| {
            let disk = Disk::new(io)?;
            let mut header = [0u8; HEADER_LEN];
            let got = disk.read_at(offset, &mut header)?;
            let (arch, hash) = find(&header[..got], arch)?;
            store_text(&[hash], hash_out, hash_out_size)?;
            write_opt(arch_out, arch.number());
            Ok(())
        })
    })
}

/// Writes what GRUB appends to the kernel command line for the image whose first `len`
/// bytes are `header`: ` verity.usrhash=` and the hash, NUL-terminated, into `out`
/// (`out_size` at least `ROOTSEAL_BOOT_KERNEL_CMDLINE_SUFFIX_SIZE`). When the slot holds
/// no hash GRUB appends nothing: `ROOTSEAL_BOOT_STATUS_VERITY_NO_USR_HASH`, and `out` is
/// not written.
///
/// # Safety
/// `header` readable for `len` bytes, `out` writable for `out_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_kernel_cmdline_suffix(
    header: *const u8,
    len: usize,
    arch: u32,
    out: *mut c_char,
    out_size: usize,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract covers every pointer.
    status_of(unsafe {
        check_size(out, out_size, ROOTSEAL_BOOT_KERNEL_CMDLINE_SUFFIX_SIZE).and_then(|()| {
            let (_, hash) = find(bytes_in(header, len)?, arch)?;
            store_text(&[CMDLINE_KEY, hash], out, out_size)
        })
    })
}

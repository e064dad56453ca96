//! C entry points for the /usr root hash in a kernel image, as Flatcar's GRUB reads it:
//! from a file, from the image's first bytes in memory (a boot loader that has loaded
//! the kernel), and the write of a new hash.

use super::status::rootseal_status;
use super::{Failure, boundary, bytes_arg, null, path_arg};
use crate::verity::usrhash::{self, KernelArch, USRHASH_LEN};
use crate::verity::{read_usrhash_path, write_usrhash_path};
use std::ffi::{CStr, c_char};

/// `arch`: the format from the image's magic.
pub const ROOTSEAL_KERNEL_ARCH_AUTO: u32 = 0;
/// `arch`: an x86-64 bzImage (`HdrS` at 0x202; the hash at byte 0x40).
pub const ROOTSEAL_KERNEL_ARCH_X86_64: u32 = 1;
/// `arch`: an arm64 Image (`ARM\x64` at 0x38; the hash at byte 512).
pub const ROOTSEAL_KERNEL_ARCH_ARM64: u32 = 2;
const _: () = assert!(
    ROOTSEAL_KERNEL_ARCH_X86_64 == KernelArch::X86_64.number()
        && ROOTSEAL_KERNEL_ARCH_ARM64 == KernelArch::Arm64.number()
);

/// `rootseal_kernel_usrhash_set` flag: overwrite a slot that holds other data.
pub const ROOTSEAL_KERNEL_USRHASH_FORCE: u32 = 1 << 0;

/// Bytes a usr hash buffer needs: 64 characters and the NUL.
pub const ROOTSEAL_KERNEL_USRHASH_SIZE: usize = 65;

/// Bytes of the image `rootseal_kernel_usrhash_parse` needs to see every magic and slot.
pub const ROOTSEAL_KERNEL_HEADER_SIZE: usize = usrhash::HEADER_LEN;

fn arch_of(number: u32) -> Result<Option<KernelArch>, Failure> {
    KernelArch::from_number(number).ok_or_else(|| {
        Failure::new(rootseal_status::InvalidArgument, format!("kernel arch number {number} is unknown"))
    })
}

/// Checks the output buffer before anything is read.
fn check_hash_out(hash_out: *mut c_char, size: usize) -> Result<(), Failure> {
    if hash_out.is_null() {
        return Err(null("hash_out"));
    }
    if size < ROOTSEAL_KERNEL_USRHASH_SIZE {
        return Err(Failure::new(
            rootseal_status::BufferTooSmall,
            format!("hash_out holds {size} bytes; a usr hash needs {ROOTSEAL_KERNEL_USRHASH_SIZE}"),
        ));
    }
    Ok(())
}

/// Writes the hash (NUL-terminated) and the format, or says that there is none.
///
/// # Safety
/// `hash_out` writable for 65 bytes (checked by `check_hash_out`), `arch_out` NULL or writable.
unsafe fn store(found: Option<&str>, arch: KernelArch, hash_out: *mut c_char, arch_out: *mut u32) -> rootseal_status {
    let Some(hash) = found else {
        return rootseal_status::VerityNoUsrHash;
    };
    // SAFETY: per the contract above; the hash is USRHASH_LEN ASCII bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(hash.as_ptr(), hash_out.cast::<u8>(), USRHASH_LEN);
        hash_out.add(USRHASH_LEN).write(0);
        if !arch_out.is_null() {
            arch_out.write(arch.number());
        }
    }
    rootseal_status::Ok
}

/// Reads the usr hash of the kernel image at `path` into `hash_out` (64 lowercase hex
/// characters and a NUL; `hash_out_size` at least `ROOTSEAL_KERNEL_USRHASH_SIZE`), and
/// its format (a `ROOTSEAL_KERNEL_ARCH_*` number) into `arch_out` (may be NULL). `arch`
/// is `ROOTSEAL_KERNEL_ARCH_AUTO` (from the image's magic) or the format to read as.
///
/// Returns `ROOTSEAL_STATUS_VERITY_NO_USRHASH` when the slot holds no hash (zeros, or
/// anything that is not 64 characters of `[0-9a-f]`: GRUB then adds nothing to the
/// command line), `ROOTSEAL_STATUS_VERITY_NOT_A_KERNEL` for an image without a known
/// magic or too short for its slot. Out-params are written only on success.
///
/// # Safety
/// `path` NUL-terminated, `hash_out` writable for `hash_out_size` bytes, `arch_out` NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_kernel_usrhash_get(
    path: *const c_char,
    arch: u32,
    hash_out: *mut c_char,
    hash_out_size: usize,
    arch_out: *mut u32,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: per the caller's contract.
        let path = unsafe { path_arg(path, "path") }?;
        let arch = arch_of(arch)?;
        check_hash_out(hash_out, hash_out_size)?;
        let found = read_usrhash_path(path, arch)?;
        // SAFETY: checked above; per the caller's contract.
        Ok(unsafe { store(found.hash.as_deref(), found.arch, hash_out, arch_out) })
    })
}

/// [`rootseal_kernel_usrhash_get`] on the first `len` bytes of a kernel image already in
/// memory (at least `ROOTSEAL_KERNEL_HEADER_SIZE` for either format): what a boot loader
/// that has loaded the kernel checks before it appends `verity.usrhash=` itself.
///
/// # Safety
/// `header` readable for `len` bytes; the outputs as for `rootseal_kernel_usrhash_get`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_kernel_usrhash_parse(
    header: *const u8,
    len: usize,
    arch: u32,
    hash_out: *mut c_char,
    hash_out_size: usize,
    arch_out: *mut u32,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: per the caller's contract.
        let header = unsafe { bytes_arg(header, len, "header") }?;
        let arch = arch_of(arch)?;
        check_hash_out(hash_out, hash_out_size)?;
        let (arch, found) = usrhash::find(header, arch)?;
        // SAFETY: checked above; per the caller's contract.
        Ok(unsafe { store(found, arch, hash_out, arch_out) })
    })
}

/// Writes `hash` (64 lowercase hex characters, NUL-terminated) into the usr hash slot of
/// the kernel image at `path`, in place, and flushes it. The image must carry the magic
/// of its format (`arch`, or the one detected); a slot holding bytes that are neither
/// zero nor a hash is refused (`ROOTSEAL_STATUS_VERITY_USRHASH_SLOT_IN_USE`) unless
/// `flags` has `ROOTSEAL_KERNEL_USRHASH_FORCE`. Nothing is written when the call fails
/// before the write. `arch_out` (may be NULL) receives the format.
///
/// # Safety
/// `path` and `hash` NUL-terminated; `arch_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_kernel_usrhash_set(
    path: *const c_char,
    arch: u32,
    hash: *const c_char,
    flags: u32,
    arch_out: *mut u32,
) -> rootseal_status {
    boundary(|| {
        // SAFETY: per the caller's contract.
        let path = unsafe { path_arg(path, "path") }?;
        if hash.is_null() {
            return Err(null("hash"));
        }
        // SAFETY: non-NULL and NUL-terminated per the caller's contract.
        let hash = unsafe { CStr::from_ptr(hash) }
            .to_str()
            .map_err(|_| Failure::new(rootseal_status::InvalidArgument, "hash is not UTF-8"))?;
        if flags & !ROOTSEAL_KERNEL_USRHASH_FORCE != 0 {
            return Err(Failure::new(rootseal_status::InvalidArgument, format!("unknown flags {flags:#x}")));
        }
        let arch = write_usrhash_path(path, arch_of(arch)?, hash, flags & ROOTSEAL_KERNEL_USRHASH_FORCE != 0)?;
        if !arch_out.is_null() {
            // SAFETY: non-NULL and writable per the caller's contract.
            unsafe { arch_out.write(arch.number()) };
        }
        Ok(rootseal_status::Ok)
    })
}

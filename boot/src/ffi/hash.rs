//! SHA-256 and SHA-512 of a buffer, the portable code (the SIMD kernels need the
//! CPUID + XGETBV gate first; see docs/boot.md).

use super::{bytes_in, rootseal_boot_status};
use sha2::{Digest, Sha256, Sha512};

/// Digests `data` into `out` when `out_size` holds it.
///
/// # Safety
/// `data` readable for `len` bytes, `out` writable for `out_size` bytes.
unsafe fn digest_into<D: Digest>(data: *const u8, len: usize, out: *mut u8, out_size: usize) -> rootseal_boot_status {
    if out.is_null() {
        return rootseal_boot_status::NullParameter;
    }
    let size = <D as Digest>::output_size();
    if out_size < size {
        return rootseal_boot_status::BufferTooSmall;
    }
    // SAFETY: per the caller's contract.
    let data = match unsafe { bytes_in(data, len) } {
        Ok(data) => data,
        Err(status) => return status,
    };
    let digest = D::digest(data);
    // SAFETY: `out` is writable for out_size >= size bytes, and `digest` holds size bytes.
    unsafe { core::ptr::copy_nonoverlapping(digest.as_ptr(), out, size) };
    rootseal_boot_status::Ok
}

/// SHA-256 of the `len` bytes at `data` (NULL with `len` 0 is the empty message), into
/// `out` (`out_size` at least 32).
///
/// # Safety
/// `data` readable for `len` bytes, `out` writable for `out_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_sha256(
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_size: usize,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract.
    unsafe { digest_into::<Sha256>(data, len, out, out_size) }
}

/// SHA-512 of the `len` bytes at `data`, into `out` (`out_size` at least 64).
///
/// # Safety
/// `data` readable for `len` bytes, `out` writable for `out_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rootseal_boot_sha512(
    data: *const u8,
    len: usize,
    out: *mut u8,
    out_size: usize,
) -> rootseal_boot_status {
    // SAFETY: the caller's contract.
    unsafe { digest_into::<Sha512>(data, len, out, out_size) }
}

//! SHA-256 and SHA-512 of a buffer: SHA-256 on SHA-NI where CPUID and XGETBV allow it
//! (see `boot/src/simd.rs`), otherwise, and for SHA-512, the portable code.

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
    // SAFETY: `out` is writable for out_size >= size bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(out, size) };
    #[cfg(target_arch = "x86_64")]
    if size == 32 {
        use crate::verity::hasher::SaltedDigests;
        let kernel = crate::simd::ShaNiSalted::for_tree(
            crate::crypto::HashAlgorithm::Sha256,
            crate::verity::layout::HashType::Normal,
            &[],
        );
        if let Some(kernel) = kernel
            && kernel.digest_all(&[data], out).is_ok()
        {
            return rootseal_boot_status::Ok;
        }
    }
    out.copy_from_slice(&D::digest(data));
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

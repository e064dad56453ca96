//! The C interface of the boot library (`include/rootseal_boot.h`): entry points a boot
//! loader or firmware application links from `librootseal_boot.a`.
//!
//! The conventions are `rootseal.h`'s: every function returns a [`rootseal_boot_status`]
//! whose numbers are those of the host library's `rootseal_status` for the same meaning
//! (and are never reused), NULL arguments give `NULL_PARAMETER`, out-params are written
//! only on success, result structs carry reserved fields the library zeroes, and all I/O
//! goes through the caller's callbacks ([`io::rootseal_boot_io`]).
//!
//! What firmware needs on top: nothing here allocates (the global allocator refuses
//! every request, so an allocation on any path would stop the machine at once and the
//! tests would see it), there is no mutable static state and no thread-local storage,
//! every call is reentrant, and a panic, which no input should cause, executes a trap
//! instruction instead of unwinding (there is nothing to unwind to in firmware).

#![allow(unsafe_code, non_camel_case_types)]

pub mod gpt;
pub mod hash;
pub mod io;
pub mod kernel;
pub mod verity;

/// Version of this interface, `(major << 16) | minor`; see `rootseal_boot_version`.
pub const ROOTSEAL_BOOT_VERSION: u32 = 1;

/// The result of every boot library function. The numbers are the host library's
/// `rootseal_status` numbers for the same meaning; they are never reused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rootseal_boot_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// An argument is out of range (an unknown format number, a length over the buffer).
    InvalidArgument = 2,
    /// A params or callback struct has a version this library does not know.
    UnsupportedParamsVersion = 3,
    /// A reserved field is not zero.
    ReservedNotZero = 4,
    /// An output buffer is too small; the function's comment says how large it must be.
    BufferTooSmall = 5,
    /// A callback returned an error, or a count it cannot have (more bytes than asked
    /// for, or 0 before the bytes the caller said exist).
    CallbackFailed = 8,
    /// A data or hash block does not match the tree (see the result struct).
    VerityCorrupted = 100,
    /// A block size that is not a power of two from 512 B to 512 KiB.
    VerityInvalidBlockSize = 101,
    /// A salt longer than 256 bytes.
    VerityInvalidSalt = 102,
    /// A hash algorithm the library does not have.
    VerityUnsupportedAlgorithm = 103,
    /// No data blocks.
    VerityNoDataBlocks = 105,
    /// The data device ends before the blocks the tree covers.
    VerityDataTooShort = 106,
    /// The hash device ends before the tree does.
    VerityHashDeviceTooSmall = 107,
    /// More tree levels than the kernel accepts.
    VerityTooManyLevels = 109,
    /// A size or offset that does not fit in 64 bits.
    VerityOverflow = 110,
    /// The bytes at the hash offset do not start with the `verity\0\0` signature.
    VerityNoSuperblock = 111,
    /// The superblock has the signature but an unusable field (version, hash type,
    /// algorithm, block size, salt size, no data blocks).
    VerityCorruptSuperblock = 112,
    /// The root hash is not one digest of the tree's algorithm long.
    VerityRootHashLength = 114,
    /// A hash type other than 0 (Chrome OS) and 1 (normal).
    VerityUnsupportedHashType = 115,
    /// The digest could not be computed.
    VerityDigestFailure = 117,
    /// The image has neither the bzImage nor the arm64 Image magic (or not the one of
    /// the format asked for), or ends before its usr hash slot.
    VerityNotAKernel = 124,
    /// The kernel's usr hash slot holds no hash (zeros, or anything but 64 characters
    /// of `[0-9a-f]`): GRUB adds nothing to the command line.
    VerityNoUsrHash = 126,
    /// No GPT signature where a primary or backup header would be.
    GptNoGpt = 200,
    /// Neither GPT copy is valid.
    GptNoValidGpt = 201,
    /// One GPT copy is invalid and the operation needs both (prioritize); repair first.
    GptNeedsRepair = 202,
    /// A copy cannot be written where it has to go (a disk too small for it).
    GptCannotRepair = 203,
    /// A logical block size other than 512 and 4096.
    GptInvalidBlockSize = 204,
    /// No entry with that number.
    GptNoSuchPartition = 205,
    /// The entry is unused.
    GptUnusedPartition = 206,
    /// The partition is not of the slot type.
    GptWrongType = 207,
    /// A priority or tries value out of range.
    GptValueOutOfRange = 208,
    /// No slot has priority > 0 with tries left or marked successful.
    GptNoBootableSlot = 209,
}

/// The version of this library, `(major << 16) | minor` (`ROOTSEAL_BOOT_VERSION` at
/// the time it was built). Compare it with the header's macro at start-up.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_boot_version() -> u32 {
    ROOTSEAL_BOOT_VERSION
}

/// Writes `value` to `out` when it is not NULL.
///
/// # Safety
/// `out` NULL or valid for a write of `T`.
unsafe fn write_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { out.write(value) };
    }
}

/// The bytes `ptr..ptr + len`, or an empty slice for (NULL, 0).
///
/// # Safety
/// `ptr` readable for `len` bytes when not NULL.
unsafe fn bytes_in<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], rootseal_boot_status> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(rootseal_boot_status::NullParameter) };
    }
    // SAFETY: readable for `len` bytes per the caller's contract.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// What a freestanding archive must bring itself: the allocator, the panic handler and
/// the symbols the precompiled `core` names. Only in the archive (`freestanding`
/// feature): a host program that links the rlib (the fuzz target) has its own.
#[cfg(feature = "freestanding")]
mod freestanding {
    use core::alloc::{GlobalAlloc, Layout};

    /// Refuses every allocation: the boot paths allocate nothing, and a request that got
    /// in anyway must stop at once (through the trap below) rather than run on.
    struct NoHeap;

    // SAFETY: returning NULL is the allocator's documented way to refuse; dealloc is
    // never reached because no allocation ever succeeds.
    unsafe impl GlobalAlloc for NoHeap {
        unsafe fn alloc(&self, _: Layout) -> *mut u8 {
            core::ptr::null_mut()
        }
        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }

    #[global_allocator]
    static NO_HEAP: NoHeap = NoHeap;

    fn trap() -> ! {
        // SAFETY: an undefined instruction raises the CPU's invalid-opcode exception:
        // the firmware's handler reports where it happened. Nothing returns from it.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            core::arch::asm!("ud2", options(noreturn, nomem, nostack))
        }
        // SAFETY: as above, the architecture's permanently undefined instruction.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!("udf #0", options(noreturn, nomem, nostack))
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        trap()
    }

    /// The precompiled `core` is built for unwinding, so its landing pads name these two
    /// symbols. With `panic = "abort"` and the trap above no unwind ever starts, so they
    /// are never called; `scripts/build-boot.sh` makes them weak so that a C program that
    /// also links an unwinder keeps its own.
    #[unsafe(no_mangle)]
    extern "C" fn rust_eh_personality() {
        trap()
    }

    /// See [`rust_eh_personality`].
    #[unsafe(no_mangle)]
    extern "C" fn _Unwind_Resume() -> ! {
        trap()
    }

    unsafe extern "C" {
        fn memcmp(a: *const u8, b: *const u8, len: usize) -> i32;
    }

    /// LLVM turns `memcmp(...) == 0` into `bcmp`, which firmware libraries do not have:
    /// served by `memcmp`, one of the four functions the archive may need.
    ///
    /// # Safety
    /// As `memcmp`.
    #[unsafe(no_mangle)]
    unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, len: usize) -> i32 {
        // SAFETY: the caller's pointers go on to memcmp with its contract.
        unsafe { memcmp(a, b, len) }
    }
}

//! Library version and ABI version.

use std::ffi::c_char;

/// The ABI generation; it changes only with the SONAME (`librootseal.so.<abi>`).
pub const ROOTSEAL_ABI_VERSION: u32 = 0;

const VERSION: &str = concat!("rootseal/", env!("CARGO_PKG_VERSION"), "\0");

/// Returns a static string such as `"rootseal/0.1.0"`. Never NULL, never to be freed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// Returns the ABI generation the library was built with. Compare it with the header's
/// `ROOTSEAL_ABI_VERSION` at start-up. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn rootseal_abi_version() -> u32 {
    ROOTSEAL_ABI_VERSION
}

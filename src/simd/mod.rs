//! Multi-message SHA on x86-64, for the many equal-length salted blocks of a verity
//! tree. This module and `crate::ffi` are the only places with `unsafe` code: here it
//! is the `std::arch` intrinsics, each entry guarded by a run-time CPU feature check
//! (`is_x86_feature_detected!`), never by compile flags, so one binary runs everywhere.
//! Callers fall back to the portable `sha2` code when a constructor returns `None`.

#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
pub(crate) mod sha256_ni;
#[cfg(target_arch = "x86_64")]
pub(crate) mod sha512_avx512;

//! Multi-message SHA on x86-64, for the many equal-length salted blocks of a verity
//! tree. This module and `crate::ffi` are the only places with `unsafe` code: here it
//! is the `std::arch` intrinsics, each kernel built only after a run-time CPU feature
//! check (`is_x86_feature_detected!`, or CPUID and XGETBV in [`cpu`] where the boot
//! library needs it), never by compile flags, so one binary runs
//! everywhere. `crate::verity::backend` picks a kernel and falls back to the portable
//! `sha2` code when a constructor returns `None`.
//!
//! Each kernel keeps to one instruction set: the SHA-NI kernel is legacy SSE only, the
//! AVX-512 kernels are EVEX only, so no stream mixes SSE and AVX-512 encodings.

#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
pub(crate) mod gf;
#[cfg(target_arch = "x86_64")]
pub(crate) mod lanes;
#[cfg(target_arch = "x86_64")]
pub(crate) mod sha256_avx512;
#[cfg(target_arch = "x86_64")]
pub(crate) mod sha256_ni;
#[cfg(target_arch = "x86_64")]
pub(crate) mod sha512_avx512;
#[cfg(target_arch = "x86_64")]
mod transpose;

#[cfg(target_arch = "x86_64")]
pub(crate) mod cpu;
#[cfg(target_arch = "x86_64")]
mod sha2_common;
#[cfg(target_arch = "x86_64")]
pub(crate) use sha2_common::*;

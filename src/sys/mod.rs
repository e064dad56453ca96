//! Inbound bindings to the system: the OpenSSL 3 `_ex` calls the `openssl` crate lacks,
//! block-device ioctls and file reads. Each is a small safe function over an `unsafe`
//! call, so the rest of the crate never sees a raw pointer or a file descriptor number.
//!
//! `unsafe` code lives here, in `crate::ffi` (the outbound C ABI) and in `crate::simd`
//! (the SIMD kernels), and nowhere else.

#![allow(unsafe_code)]

pub(crate) mod blkdev;
pub(crate) mod blockmap;
pub(crate) mod file;
pub(crate) mod lock;
pub(crate) mod openssl;
pub(crate) mod pages;
pub(crate) mod random;

//! # rootseal
//!
//! Keeps a read-only, A/B-updated root file system honest, in the style of Flatcar
//! Container Linux: dm-verity hash trees byte-identical to `veritysetup` ([`verity`]),
//! GPT A/B slot attributes as `cgpt` and GRUB `gptprio` use them ([`gpt`]),
//! with a stable C ABI (`include/rootseal.h`, module [`ffi`]).
//!
//! The integrity logic reaches devices only through the small traits in [`io`], so the
//! same code runs over memory-mapped files, memory buffers and a bootloader's callbacks.

#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod crypto;
pub mod ffi;
pub mod gpt;
pub mod io;
pub mod sig;
mod simd;
/// cbindgen:ignore
mod sys;
pub mod text;
pub mod verity;

//! The freestanding core of rootseal.
//!
//! These are the very source files of the host library's pure logic (`src/text.rs`,
//! `src/crypto/digest.rs`, and the parsing, geometry and slot-attribute modules of
//! `src/verity/` and `src/gpt/`), compiled here under `#![no_std]` with `alloc`. They
//! do no I/O and hold no state, so a boot loader can run them; the host library runs the
//! same code. Building this crate is the proof that they stay that way.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod crypto;
pub mod ffi;
pub mod gpt;
#[cfg(target_arch = "x86_64")]
mod simd;
#[path = "../../src/text.rs"]
pub mod text;
pub mod verity;

//! Forward error correction for dm-verity: the Reed-Solomon parity that `veritysetup
//! format --fec-device` writes and the kernel's `use_fec_from_device` reads.
//!
//! RS(255, 255 − roots) over GF(2^8)/0x11d, roots 2..=24, interleaved across the data
//! area and the hash tree so that each codeword takes one byte from each of `255 −
//! roots` blocks spread over the whole image: a run of damaged blocks costs each
//! codeword at most one symbol. The pieces:
//!
//! * [`gf`]: field arithmetic, tables built at compile time;
//! * [`rs`]: the generator polynomial and the reference one-codeword encoder;
//! * [`BatchEncoder`]: many codewords at once, one block of input per step, on the
//!   fastest [`FecBackend`] of the CPU (GFNI, AVX-512, AVX2) or portable code;
//! * [`decode()`]: one codeword with errors and erasures;
//! * [`FecLayout`]: the interleaving and the parity layout, pure arithmetic.
//!
//! `gf`, `rs`, `decode`, `layout` and the transposition are pure: no I/O, `core` (plus
//! `Vec`/`Box`) only, so they can move to a `no_std + alloc` build.

mod backend;
pub mod decode;
mod error;
pub mod gf;
pub mod layout;
pub mod rs;
mod transpose;

pub use backend::{BatchEncoder, FecBackend, transpose_planes};
pub use decode::{DecodeOutcome, decode};
pub use error::{FecError, Result};
pub use layout::{FecLayout, FecParams, Segment, Source};
pub use rs::{Generator, encode_codeword};

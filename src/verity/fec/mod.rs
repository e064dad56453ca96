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
//! * [`FecLayout`]: the interleaving and the parity layout, pure arithmetic;
//! * [`encode()`]: whole images through [`crate::io`], on every core, in bounded memory;
//! * [`FecPlacement`] and [`format_paths()`]: parity next to a verity tree, placed and
//!   checked as veritysetup does, and the kernel table's `fec_*` numbers.
//!
//! `gf`, `rs`, `decode`, `layout` and the transposition are pure: no I/O, `core` (plus
//! `Vec`/`Box`) only, so they can move to a `no_std + alloc` build.
//!
//! ```
//! use rootseal::io::MemoryDevice;
//! use rootseal::verity::fec::{self, EncodeOptions, FecLayout, FecParams};
//!
//! // 300 data blocks of 4 KiB and an (empty) hash device: 2 rounds of RS(255, 253).
//! let data = vec![0x5au8; 300 * 4096];
//! let layout = FecLayout::new(&FecParams {
//!     data_blocks: 300,
//!     block_size: 4096,
//!     hash_start_block: 0,
//!     hash_covered_end: 0,
//!     roots: 2,
//! })
//! .unwrap();
//! let parity = MemoryDevice::default();
//! fec::encode(&data, &Vec::new(), &layout, &parity, 0, &EncodeOptions::default()).unwrap();
//! assert_eq!(parity.into_inner().len() as u64, layout.parity_bytes());
//! ```

mod backend;
pub mod decode;
mod encode;
mod error;
pub mod gf;
mod image;
pub mod layout;
mod repair;
pub mod rs;
mod transpose;

pub use backend::{BatchEncoder, FecBackend, transpose_planes};
pub use decode::{DecodeOutcome, decode};
pub use encode::{EncodeOptions, EncodeOutcome, encode};
pub use error::{FecError, Result};
pub use image::{
    DEFAULT_ROOTS, FecFormatOutcome, FecOptions, FecPlacement, Sharing, existing_placement, format, format_paths,
    repair_devices, repair_paths, table_placement,
};
pub use layout::{FecLayout, FecParams, Segment, Source};
pub use repair::{RepairReport, repair};
pub use rs::{Generator, encode_codeword};

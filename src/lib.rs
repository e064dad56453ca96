//! # rootseal
//!
//! Keeps a read-only, A/B-updated root file system honest, in the style of Flatcar
//! Container Linux. Three jobs, each in its own module, none importing another:
//!
//! - [`verity`]: dm-verity hash trees, byte-identical to cryptsetup's `veritysetup`,
//!   built and verified on every core;
//! - [`gpt`]: the A/B slot attributes (priority, tries, successful) as Chrome OS `cgpt`
//!   and Flatcar GRUB's `gptprio.next` use them, written so that a power cut never loses
//!   the partition table;
//! - [`sig`]: update payload and root-hash signatures checked with OpenSSL, inside the
//!   FIPS provider when FIPS is asked for.
//!
//! Below them sit the shared floors: [`io`] (the block read/write traits every job reads
//! through: files, memory, a caller's callbacks), [`crypto`] (where OpenSSL work runs,
//! and the one digest enum) and [`text`] (hex, UUIDs, GUIDs). [`ffi`] is the C ABI of
//! `include/rootseal.h`, on top of everything. The pure logic (tree geometry, the
//! superblock, GPT headers and entries, attribute rules, prioritize, next) does no I/O
//! and builds `#![no_std]` (the `boot/` crate compiles it so).
//!
//! ## A verity tree
//!
//! ```
//! use rootseal::io::MemoryDevice;
//! use rootseal::verity::{self, RunOptions, VerityOptions};
//!
//! let data = vec![0x5au8; 64 * 4096];
//! let tree = MemoryDevice::default();
//! let opts = VerityOptions { salt: Some(vec![]), no_superblock: true, ..Default::default() };
//! let built = verity::format(&data, &tree, false, &opts, &RunOptions::default())?;
//! let report = verity::verify(&data, &tree, false, &opts, &built.root_hash, &RunOptions::default())?;
//! assert!(report.is_intact());
//! # Ok::<(), verity::Error>(())
//! ```
//!
//! ## The next slot to boot
//!
//! ```no_run
//! use rootseal::gpt::{self, BlockSize, Guid};
//!
//! let disk = gpt::open_path("disk.img".as_ref(), BlockSize::Detect, true)?;
//! let boot = disk.next(Guid::FLATCAR_USR)?; // uses up a try of a trial slot, as gptprio does
//! println!("boot partition {} ({})", boot.partition.index, boot.partition.unique_guid);
//! # Ok::<(), gpt::Error>(())
//! ```
//!
//! ## A signed update payload, in FIPS mode
//!
//! ```no_run
//! use rootseal::crypto::CryptoContext;
//! use rootseal::sig::{OmahaCheck, Policy, TrustStore};
//! use std::sync::Arc;
//!
//! let fips = Arc::new(CryptoContext::fips(None)?); // ROOTSEAL_FIPS_CONFIG names the config
//! let mut store = TrustStore::new(fips);
//! store.add_file("update-key.pub.pem".as_ref())?;
//! let verified = store.verify_payload("update.gz".as_ref(), OmahaCheck::default(), Policy::Fips)?;
//! println!("signed by {}, checked by the {} provider", verified.fingerprint, verified.provider);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

extern crate alloc;

pub mod crypto;
mod error_class;
pub mod ffi;
pub mod gpt;
pub mod io;
pub mod sig;
mod simd;
/// cbindgen:ignore
mod sys;
pub mod text;
pub mod verity;

pub use error_class::ErrorClass;

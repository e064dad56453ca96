//! dm-verity: parameters, geometry, the superblock, config resolution and the hasher.

#[path = "../../src/verity/config.rs"]
pub mod config;
#[path = "../../src/verity/error.rs"]
pub mod error;
// Crate-private in the host library, where format and verify call it.
#[allow(dead_code)]
#[path = "../../src/verity/hasher.rs"]
pub mod hasher;
#[path = "../../src/verity/layout.rs"]
pub mod layout;
#[path = "../../src/verity/params.rs"]
pub mod params;
#[path = "../../src/verity/range_walk.rs"]
pub mod range_walk;
#[path = "../../src/verity/superblock.rs"]
pub mod superblock;
#[path = "../../src/verity/usrhash.rs"]
pub mod usrhash;
#[path = "../../src/verity/verified_read.rs"]
pub mod verified_read;
#[path = "../../src/verity/warning.rs"]
pub mod warning;

pub use params::DEFAULT_SALT_SIZE;
pub use warning::Warning;

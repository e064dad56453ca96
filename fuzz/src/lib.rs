//! The checks behind the fuzz targets. Each target in `fuzz_targets/` is one line that
//! calls a `check` here, and `tests/robustness/fuzz_replay.rs` includes this file by path
//! to run every seed and regression input through the same checks on stable Rust, so CI
//! covers them without libFuzzer. A check panics (a finding) when rootseal panics or when an
//! invariant of the target fails; bad input that rootseal refuses cleanly is fine.
//!
//! Paths inside go through `super::`, never `crate::`: in the replay test this file is a
//! module, not a crate root.

pub mod alloc_count;
pub mod c_api;
pub mod c_api_files;
pub mod crau_payload;
pub mod gpt_image;
pub mod gpt_ops;
pub mod gpt_read;
pub mod input;
pub mod keys;
pub mod verity_superblock;
pub mod verity_verify;

/// A target's check: panics on a finding.
pub type Check = fn(&[u8]);

/// Every target with its check, for the replay test.
pub const TARGETS: [(&str, Check); 7] = [
    ("verity_superblock", verity_superblock::check),
    ("verity_verify", verity_verify::check),
    ("gpt_read", gpt_read::check),
    ("gpt_ops", gpt_ops::check),
    ("crau_payload", crau_payload::check),
    ("keys", keys::check),
    ("c_api", c_api::check),
];

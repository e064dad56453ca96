//! Hostile or damaged input: the malformed-input catalogue, the committed fuzz seeds
//! and regression inputs replayed through the fuzz checks, and files truncated or grown
//! while they are verified. One test binary; each module is one topic.
//!
//! Process-wide, and why it is harmless here: `malformed` installs a counting global
//! allocator for the whole binary (it records per thread, so other tests do not disturb
//! its bounds); replaying the `c_api` seeds in `fuzz_replay` forces hashing backends
//! and verity FIPS mode for a moment, which no other test in this binary depends on
//! (the verity tests that check who hashed live in the verity binary).

#[path = "../c_support/mod.rs"]
mod c_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../gpt_support/mod.rs"]
mod gpt_support;
#[path = "../sig_support/mod.rs"]
mod sig_support;

mod fifo;
mod fuzz_replay;
mod layering;
mod malformed;
mod truncation;
mod verity_changes;

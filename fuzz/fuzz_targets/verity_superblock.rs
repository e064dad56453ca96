//! See `rootseal_fuzz::verity_superblock` (fuzz/src/verity_superblock.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::verity_superblock::check(input));

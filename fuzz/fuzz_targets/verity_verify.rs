//! See `rootseal_fuzz::verity_verify` (fuzz/src/verity_verify.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::verity_verify::check(input));

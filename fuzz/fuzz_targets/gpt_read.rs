//! See `rootseal_fuzz::gpt_read` (fuzz/src/gpt_read.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::gpt_read::check(input));

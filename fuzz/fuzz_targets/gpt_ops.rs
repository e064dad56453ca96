//! See `rootseal_fuzz::gpt_ops` (fuzz/src/gpt_ops.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::gpt_ops::check(input));

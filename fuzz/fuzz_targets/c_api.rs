//! See `rootseal_fuzz::c_api` (fuzz/src/c_api.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::c_api::check(input));

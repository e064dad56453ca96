//! See `rootseal_fuzz::keys` (fuzz/src/keys.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::keys::check(input));

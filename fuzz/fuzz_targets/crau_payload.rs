//! See `rootseal_fuzz::crau_payload` (fuzz/src/crau_payload.rs) for the input layout and the invariants.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| rootseal_fuzz::crau_payload::check(input));

//! Verity trees, checked against the real `veritysetup`: byte-for-byte compatibility,
//! random parameter sets, range verification, every hashing backend against `sha2`, the
//! bit-flip campaign and block devices. One test binary; each module is one topic.
//!
//! CI re-runs `veritysetup_compat`, `random_params` and `hash_backends` with each
//! backend forced: `ROOTSEAL_HASH_BACKEND=portable cargo test --test verity --
//! veritysetup_compat:: random_params:: hash_backends::`.
//!
//! Nothing here changes process-wide state: the backend and FIPS mode travel with each
//! call. The C setters of the process default are tested in a binary of their own
//! (c_abi_hash_backend).

#[path = "../common/mod.rs"]
mod common;
#[path = "../sig_support/mod.rs"]
mod sig_support;

mod bitflip;
mod block_devices;
mod cold;
mod fec_cli;
mod fec_core;
mod fec_repair;
mod fips;
mod hash_backends;
mod peer_suites;
mod random_params;
mod range;
mod veritysetup_compat;

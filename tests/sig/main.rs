//! Payload and root-hash signatures, checked against the openssl CLI, with and without
//! the FIPS provider (each FIPS context is private: nothing here touches the process's
//! default OpenSSL context). One test binary; each module is one topic.
//!
//! A FIPS provider failing its self-test poisons the whole process, so that test is
//! its own binary (sig_fips_broken).

#[path = "../sig_support/mod.rs"]
mod sig_support;

mod fips;
mod keys;
mod matrix;
mod payload;
mod roothash;

//! The C ABI: the committed header, the contract seen from Rust (status numbers, params,
//! NULL handling, the kernel table line), the C test programs in tests/c/ against the
//! static and the shared library (also under valgrind), the C example and the installed
//! library. One test binary; each module is one topic.
//!
//! `ROOTSEAL_BLESS=1 cargo test --test c_abi -- header::` regenerates include/rootseal.h
//! (the filter keeps the other modules, which read the header, from running meanwhile).
//! The entry points that force a hashing backend change process-wide state, so they are
//! their own binary (c_abi_hash_backend).

#[path = "../c_support/mod.rs"]
mod c_support;
#[path = "../common/mod.rs"]
mod common;
#[path = "../gpt_support/mod.rs"]
mod gpt_support;
#[path = "../common/memory_io.rs"]
mod memory_io;
#[path = "../sig_support/mod.rs"]
mod sig_support;

mod boot;
mod boot_gpt;
mod contract;
mod example;
mod gpt_callbacks;
mod header;
mod install;
mod kernel;
mod programs;
mod sig_contract;
mod sig_programs;
mod verity_fec;
mod verity_reader;
mod verity_table;

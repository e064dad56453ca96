//! The `rootseal` command line: output formats, exit codes and refusals of the verity,
//! GPT and signature subcommands, checked against veritysetup, sgdisk, cgpt and the
//! openssl CLI. One test binary; each module is one group of subcommands.

#[path = "../common/mod.rs"]
mod common;
#[path = "../gpt_support/mod.rs"]
mod gpt_support;
#[path = "../sig_support/mod.rs"]
mod sig_support;

mod contract;
mod gpt;
mod kernel;
mod sig;
mod verity;

//! GPT A/B attributes, checked against the real `cgpt` and `sgdisk`: random operation
//! sequences, the power-cut harness and the strict reader on damaged disks. One test
//! binary; each module is one topic. The template disks (`gpt_support::disk`) are made
//! once per binary and shared by every module.

#[path = "../common/mod.rs"]
mod common;
#[path = "../gpt_support/mod.rs"]
mod gpt_support;

mod cgpt;
mod crash;
mod reader;

//! `rootseal kernel`: the /usr verity root hash stored in a kernel image.

use crate::{CliResult, Outcome, emit};
use clap::Subcommand;
use rootseal::verity::usrhash::KernelArch;
use rootseal::verity::{read_usrhash_path, write_usrhash_path};
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum KernelCommand {
    /// Print the usr hash of a kernel image: the 64 lowercase hex characters Flatcar's
    /// GRUB appends to the command line as `verity.usrhash=` (exit 1 when the image
    /// holds none, and GRUB would add nothing)
    Usrhash {
        /// Kernel image (x86-64 bzImage or arm64 Image)
        vmlinuz: PathBuf,
        /// Image format: x86_64 (hash at byte 0x40) or arm64 (byte 512); default: from
        /// the image's magic
        #[arg(long, value_parser = parse_arch)]
        arch: Option<KernelArch>,
        /// Print what GRUB appends to the kernel command line (` verity.usrhash=HASH`,
        /// with its leading space) instead of the hash
        #[arg(long)]
        cmdline: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Write the usr hash into a kernel image, in place (the image must carry the
    /// magic of its format; a slot holding other data needs --force)
    SetUsrhash {
        /// Kernel image (x86-64 bzImage or arm64 Image)
        vmlinuz: PathBuf,
        /// The dm-verity root hash of /usr: 64 lowercase hex characters
        hash: String,
        /// Image format: x86_64 or arm64; default: from the image's magic
        #[arg(long, value_parser = parse_arch)]
        arch: Option<KernelArch>,
        /// Overwrite a slot that holds neither zeros nor a hash
        #[arg(long)]
        force: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

fn parse_arch(name: &str) -> Result<KernelArch, String> {
    KernelArch::from_name(name).ok_or_else(|| format!("unknown kernel format {name:?}: use x86_64 or arm64"))
}

pub fn run(cmd: KernelCommand) -> CliResult {
    match cmd {
        KernelCommand::Usrhash { vmlinuz, arch, cmdline, json } => {
            let found = read_usrhash_path(&vmlinuz, arch)?;
            let text = if json {
                let object = json!({
                    "ok": found.hash.is_some(),
                    "arch": found.arch.name(),
                    "offset": found.arch.usrhash_offset(),
                    "usrhash": found.hash,
                    "cmdline": found.cmdline_suffix(),
                });
                format!("{object}\n")
            } else {
                match (&found.hash, cmdline) {
                    (Some(_), true) => format!("{}\n", found.cmdline_suffix().unwrap_or_default()),
                    (Some(hash), false) => format!("{hash}\n"),
                    (None, _) => String::new(),
                }
            };
            emit(&text).map_err(|e| format!("writing the output: {e}"))?;
            if found.hash.is_none() {
                eprintln!(
                    "rootseal: no usr hash at byte {} of {} ({}): GRUB adds nothing to the command line",
                    found.arch.usrhash_offset(),
                    vmlinuz.display(),
                    found.arch
                );
                return Ok(Outcome::CheckFailed);
            }
            Ok(Outcome::Success)
        }
        KernelCommand::SetUsrhash { vmlinuz, hash, arch, force, json } => {
            let arch = write_usrhash_path(&vmlinuz, arch, &hash, force)?;
            let text = if json {
                let object = json!({
                    "ok": true,
                    "arch": arch.name(),
                    "offset": arch.usrhash_offset(),
                    "usrhash": hash,
                });
                format!("{object}\n")
            } else {
                format!("Wrote the usr hash at byte {} of {} ({arch}).\n", arch.usrhash_offset(), vmlinuz.display())
            };
            emit(&text).map_err(|e| format!("writing the output: {e}"))?;
            Ok(Outcome::Success)
        }
    }
}

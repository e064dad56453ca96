//! The `rootseal` command: a thin shell over the library.
//!
//! Exit codes: 0 success, 1 the check or operation failed (corruption found, no bootable
//! slot, a GPT that needs repair), 2 bad usage or bad input.

mod gpt_cmd;
mod sig_cmd;
mod verity_cmd;

use clap::{Parser, Subcommand};
use rootseal::ErrorClass;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rootseal",
    version,
    about = "Integrity tools for A/B root file systems: dm-verity trees and GPT A/B slots"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// dm-verity hash trees, compatible with veritysetup.
    Verity(verity_cmd::VerityArgs),
    /// GPT A/B slot attributes, compatible with cgpt and GRUB gptprio.
    #[command(subcommand)]
    Gpt(gpt_cmd::GptCommand),
    /// Detached signatures over files.
    #[command(subcommand)]
    Sign(sig_cmd::SignCommand),
    /// Flatcar (CrAU) update payload signatures.
    #[command(subcommand)]
    Payload(sig_cmd::PayloadCommand),
    /// dm-verity root-hash PKCS#7 signatures.
    #[command(subcommand)]
    Roothash(sig_cmd::RootHashCommand),
    /// The OpenSSL FIPS provider.
    #[command(subcommand)]
    Fips(sig_cmd::FipsCommand),
}

/// How a command ended, mapped onto the exit code contract.
pub enum Outcome {
    Success,
    CheckFailed,
}

fn main() -> ExitCode {
    // A bug must still end in the documented exit code with a one-line message, not a
    // backtrace and exit 101.
    std::panic::set_hook(Box::new(|info| eprintln!("rootseal: internal error: {info}")));
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Verity(cmd) => verity_cmd::run(cmd),
        Command::Gpt(cmd) => gpt_cmd::run(cmd),
        Command::Sign(cmd) => sig_cmd::run_sign(cmd),
        Command::Payload(cmd) => sig_cmd::run_payload(cmd),
        Command::Roothash(cmd) => sig_cmd::run_roothash(cmd),
        Command::Fips(cmd) => sig_cmd::run_fips(cmd),
    });
    let Ok(result) = result else {
        return ExitCode::from(2);
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(err) => {
            let class = class_of(err.as_ref());
            if class == ErrorClass::CheckFailed {
                eprintln!("rootseal: {err}");
            } else {
                eprintln!("rootseal: error: {err}");
            }
            ExitCode::from(class.exit_code())
        }
    }
}

/// The class the library gives the error; anything else (a usage error found here) is
/// bad input.
fn class_of(err: &(dyn std::error::Error + 'static)) -> ErrorClass {
    if let Some(e) = err.downcast_ref::<rootseal::verity::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::gpt::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::sig::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::crypto::Error>() {
        e.class()
    } else {
        ErrorClass::BadInput
    }
}

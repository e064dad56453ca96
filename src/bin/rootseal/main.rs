//! The `rootseal` command: a thin shell over the library.
//!
//! Exit codes: 0 success, 1 the check or operation failed (corruption found, no bootable
//! slot, a GPT that needs repair), 2 bad usage or bad input. Every `--help` and man page
//! says so ([`EXIT_STATUS`]).

mod generate;
mod gpt_cmd;
mod kernel_cmd;
mod sig_cmd;
mod verity_cmd;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use rootseal::ErrorClass;
use serde_json::json;
use std::process::ExitCode;

/// The exit-status contract, appended to every command's help and man page.
const EXIT_STATUS: &str = "Exit status:
  0  success: the check passed, the operation was done
  1  the check failed: corruption, a wrong root hash, no bootable slot, a bad signature
  2  bad usage or bad input, or an I/O error: no verdict exists";

#[derive(Parser)]
#[command(
    name = "rootseal",
    version,
    about = "Integrity tools for A/B root file systems: dm-verity trees, GPT A/B slots, \
             and payload and root-hash signatures (optionally in FIPS mode)"
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
    /// The /usr verity root hash in a kernel image, as Flatcar's GRUB reads it.
    #[command(subcommand)]
    Kernel(kernel_cmd::KernelCommand),
    /// Write man pages or shell completions (scripts/install.sh uses it).
    #[command(subcommand, hide = true)]
    Generate(generate::GenerateCommand),
}

/// The whole command tree, with the exit-status section on every level.
fn command() -> clap::Command {
    fn with_exit_status(cmd: clap::Command) -> clap::Command {
        cmd.after_help(EXIT_STATUS).mut_subcommands(with_exit_status)
    }
    with_exit_status(Cli::command())
}

/// Whether the command line asked for `--json`, at whatever level the flag lives.
fn wants_json(matches: &ArgMatches) -> bool {
    matches.try_get_one::<bool>("json").ok().flatten().copied().unwrap_or(false)
        || matches.subcommand().is_some_and(|(_, sub)| wants_json(sub))
}

/// An error whose command already printed its `--json` object: the shell prints only
/// the stderr line.
#[derive(Debug)]
pub struct Reported(pub Box<dyn std::error::Error>);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Reported {}

/// What every command returns: how it ended, or the error that stopped it.
pub type CliResult = Result<Outcome, Box<dyn std::error::Error>>;

/// Writes to stdout, returning the error (a closed pipe, a full disk) instead of
/// panicking as `println!` would.
pub fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
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
    let matches = command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // A failed check prints its own JSON object; an error that stops a command is
    // printed here, as one object too. The signature commands' objects also carry
    // `"valid"`, as their successes do.
    let json_errors = wants_json(&matches);
    let signature_command = matches!(cli.command, Command::Sign(_) | Command::Payload(_) | Command::Roothash(_));
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Verity(cmd) => verity_cmd::run(cmd),
        Command::Gpt(cmd) => gpt_cmd::run(cmd),
        Command::Sign(cmd) => sig_cmd::run_sign(cmd),
        Command::Payload(cmd) => sig_cmd::run_payload(cmd),
        Command::Roothash(cmd) => sig_cmd::run_roothash(cmd),
        Command::Fips(cmd) => sig_cmd::run_fips(cmd),
        Command::Kernel(cmd) => kernel_cmd::run(cmd),
        Command::Generate(cmd) => generate::run(cmd, command()).map(|()| Outcome::Success).map_err(Into::into),
    });
    let Ok(result) = result else {
        return ExitCode::from(2);
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(err) => {
            let class = class_of(err.as_ref());
            if json_errors && !err.is::<Reported>() {
                let error = json!({ "kind": class.name(), "message": err.to_string() });
                let mut object = json!({ "ok": false, "error": error });
                if signature_command {
                    object["valid"] = false.into();
                }
                println!("{object}");
            }
            eprintln!("rootseal: error: {err}");
            ExitCode::from(class.exit_code())
        }
    }
}

/// The class the library gives the error; anything else (a usage error found here) is
/// bad input.
fn class_of(err: &(dyn std::error::Error + 'static)) -> ErrorClass {
    if let Some(Reported(inner)) = err.downcast_ref::<Reported>() {
        class_of(inner.as_ref())
    } else if let Some(e) = err.downcast_ref::<rootseal::verity::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::gpt::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::sig::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::crypto::Error>() {
        e.class()
    } else if let Some(e) = err.downcast_ref::<rootseal::verity::usrhash::UsrHashError>() {
        e.class()
    } else {
        ErrorClass::BadInput
    }
}

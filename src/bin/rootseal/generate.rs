//! `rootseal generate`: the man pages and shell completions, written from the clap
//! definitions so they can never disagree with `--help`. scripts/install.sh runs it.

use clap::{Args, Subcommand};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum GenerateCommand {
    /// Write rootseal.1 and one page per subcommand (rootseal-verity.1, rootseal-gpt-next.1, ...).
    Man(DirArg),
    /// Write completion scripts for bash (rootseal), zsh (_rootseal) and fish (rootseal.fish).
    Completions(DirArg),
}

#[derive(Args)]
pub struct DirArg {
    /// The directory to write into (created if missing).
    dir: PathBuf,
}

pub fn run(cmd: GenerateCommand, root: clap::Command) -> std::io::Result<()> {
    match cmd {
        GenerateCommand::Man(DirArg { dir }) => {
            std::fs::create_dir_all(&dir)?;
            write_man_pages(&dir, root, "rootseal")
        }
        GenerateCommand::Completions(DirArg { dir }) => {
            std::fs::create_dir_all(&dir)?;
            for (shell, name) in [(Shell::Bash, "rootseal"), (Shell::Zsh, "_rootseal"), (Shell::Fish, "rootseal.fish")]
            {
                let mut file = std::fs::File::create(dir.join(name))?;
                clap_complete::generate(shell, &mut root.clone(), "rootseal", &mut file);
            }
            Ok(())
        }
    }
}

/// One page for `cmd` under `name`, then one for each visible subcommand, named by its
/// path (`rootseal-gpt-next`), as git and systemd name theirs.
fn write_man_pages(dir: &Path, cmd: clap::Command, name: &str) -> std::io::Result<()> {
    let cmd = cmd.name(name.to_string()).bin_name(name.replace('-', " "));
    let mut file = std::fs::File::create(dir.join(format!("{name}.1")))?;
    clap_mangen::Man::new(cmd.clone()).render(&mut file)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        write_man_pages(dir, sub.clone(), &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(())
}

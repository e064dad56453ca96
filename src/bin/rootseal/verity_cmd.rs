//! `rootseal verity …`

use crate::sig_cmd::FipsArgs;
use crate::{CliResult, Outcome, emit};
use clap::{Args, Subcommand};
use rootseal::text::encode_hex;
use rootseal::verity::fec::{self, FecBackend, FecError, FecOptions, FecPlacement};
use rootseal::verity::{
    self, CorruptionMode, FecTable, FormatOutcome, HashBackend, HashChoice, HashType, HashedBy, RunOptions,
    TableOptions, VerifyReport, VerityConfig, VerityOptions, Warning,
};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// `rootseal verity`: the tree parameters, which may come before or after the verb (as
/// veritysetup takes them), and the verb.
#[derive(Args)]
pub struct VerityArgs {
    #[command(flatten)]
    params: TreeArgs,
    #[command(subcommand)]
    command: VerityCommand,
}

#[derive(Subcommand)]
pub enum VerityCommand {
    /// Build the hash tree of DATA into HASH (they may be the same file).
    Format {
        /// Data device or image.
        data: PathBuf,
        /// Hash device or image (created if missing, never truncated).
        hash: PathBuf,
        /// Also write the root hash, as lowercase hex without newline, to this file.
        #[arg(long)]
        root_hash_file: Option<PathBuf>,
        #[command(flatten)]
        fips: FipsArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check DATA against the tree in HASH and the root hash; list every bad block.
    Verify {
        #[command(flatten)]
        image: CheckedImage,
        /// Check only the data blocks under these bytes (as a boot loader checks the
        /// kernel it loads), leaf to root, reading nothing else.
        #[arg(long, value_name = "OFFSET:LENGTH", value_parser = parse_range)]
        range: Option<std::ops::Range<u64>>,
        #[command(flatten)]
        fips: FipsArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Copy the data of DATA to standard output (or --output), every block verified
    /// against the tree in HASH and the root hash first, as the kernel reads through
    /// dm-verity. A refused block stops the copy before it: exit 1, its number on stderr.
    Read {
        #[command(flatten)]
        image: CheckedImage,
        /// Copy only these bytes of the data area.
        #[arg(long, value_name = "OFFSET:LENGTH", value_parser = parse_range)]
        range: Option<std::ops::Range<u64>>,
        /// Write here instead of standard output (created or truncated).
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        fips: FipsArgs,
    },
    /// Repair damaged data and hash blocks of DATA and HASH in place with the FEC
    /// parity (--fec-device): the tree names the bad blocks, the parity restores them,
    /// and every repaired block must match its hash before anything is written.
    Repair {
        #[command(flatten)]
        image: CheckedImage,
        /// Show what would be repaired; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        fips: FipsArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the superblock of HASH.
    Dump {
        /// Hash device or image.
        hash: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the kernel dm-verity table line for `dmsetup create`.
    Table {
        /// Data device as the kernel should see it (path, or major:minor with --data-blocks).
        data_dev: String,
        /// Hash device as the kernel should see it (a readable path when it holds the
        /// superblock; path or major:minor with --no-superblock).
        hash_dev: String,
        /// Root hash in hex.
        root_hash: String,
        /// Log corruption but return the data (with --panic-on-corruption, panic wins).
        #[arg(long)]
        ignore_corruption: bool,
        /// Reboot on corruption.
        #[arg(long)]
        restart_on_corruption: bool,
        /// Panic on corruption.
        #[arg(long)]
        panic_on_corruption: bool,
        /// Treat I/O errors as corruption (restart_on_error or panic_on_error); needs
        /// --restart-on-corruption or --panic-on-corruption.
        #[arg(long)]
        error_as_corruption: bool,
        /// Return zeros for blocks whose digest is that of a zero block.
        #[arg(long)]
        ignore_zero_blocks: bool,
        /// Verify each data block only on its first read.
        #[arg(long)]
        check_at_most_once: bool,
        /// Verify in a tasklet when the data is cached (try_verify_in_tasklet).
        #[arg(long)]
        use_tasklets: bool,
        /// Keyring description of the root-hash signature.
        #[arg(long)]
        root_hash_sig_key_desc: Option<String>,
    },
}

/// The tree parameters, named as veritysetup names them.
#[derive(Args)]
pub struct TreeArgs {
    /// Hash algorithm: sha256, sha512, sha384, sha224 or sha1. Format: default sha256;
    /// verify, repair and table: read from the superblock when there is one.
    #[arg(global = true, long = "hash", value_name = "ALG")]
    hash_algorithm: Option<String>,
    /// Data block size in bytes. Format: default 4096; the others read the superblock.
    #[arg(global = true, long, value_name = "BYTES")]
    data_block_size: Option<u32>,
    /// Hash block size in bytes. Format: default 4096; the others read the superblock.
    #[arg(global = true, long, value_name = "BYTES")]
    hash_block_size: Option<u32>,
    /// Salt as hex, or - for none. Format: default 32 random bytes; the others read the
    /// superblock (without one, give the salt format used).
    #[arg(global = true, long, value_name = "HEX|-", allow_hyphen_values = true)]
    salt: Option<String>,
    /// Superblock UUID. Format: default random; the others read the superblock.
    #[arg(global = true, long)]
    uuid: Option<String>,
    /// Hash type: 1 (normal) or 0 (Chrome OS). Format: default 1; the others read the
    /// superblock.
    #[arg(global = true, long = "format", value_name = "0|1")]
    hash_type: Option<u32>,
    /// Do not write or read a superblock.
    #[arg(global = true, long)]
    no_superblock: bool,
    /// Byte offset of the superblock (or tree) on the hash device.
    #[arg(global = true, long, value_name = "BYTES", default_value_t = 0)]
    hash_offset: u64,
    /// Number of data blocks. Format: default all whole blocks of DATA; the others read
    /// the superblock.
    #[arg(global = true, long, value_name = "N")]
    data_blocks: Option<u64>,
    /// Reed-Solomon parity (forward error correction) on this file or device: written
    /// by format, checked by verify, used by repair, named in the table.
    #[arg(global = true, long, value_name = "FILE")]
    fec_device: Option<PathBuf>,
    /// Byte offset of the parity on the FEC device (a multiple of the block size).
    #[arg(global = true, long, value_name = "BYTES", default_value_t = 0)]
    fec_offset: u64,
    /// Parity bytes per Reed-Solomon codeword, 2 to 24 (default 2, as veritysetup; verify,
    /// repair and table need the number format used).
    #[arg(global = true, long, value_name = "N")]
    fec_roots: Option<u32>,
    /// Worker threads (default: every core).
    #[arg(global = true, long, hide = true)]
    threads: Option<usize>,
}

impl TreeArgs {
    fn options(&self) -> Result<VerityOptions, verity::Error> {
        Ok(VerityOptions {
            hash_algorithm: self.hash_algorithm.as_deref().map(verity::parse_hash_algorithm).transpose()?,
            hash_type: self.hash_type.map(HashType::from_u32).transpose()?,
            data_block_size: self.data_block_size,
            hash_block_size: self.hash_block_size,
            // veritysetup reads --data-blocks=0 as "the whole device".
            data_blocks: self.data_blocks.filter(|&n| n != 0),
            hash_offset: self.hash_offset,
            salt: self.salt.as_deref().map(verity::parse_salt).transpose()?,
            uuid: self.uuid.as_deref().map(verity::parse_uuid).transpose()?,
            no_superblock: self.no_superblock,
        })
    }

    /// The FEC options, with the backend `ROOTSEAL_FEC_BACKEND` names (the CLI is the
    /// one place that reads it).
    fn fec_options(&self) -> Result<FecOptions, Box<dyn std::error::Error>> {
        let backend = match std::env::var(FEC_BACKEND_ENV) {
            Ok(name) if !name.trim().is_empty() => Some(FecBackend::from_name(&name)?),
            _ => None,
        };
        Ok(FecOptions { roots: self.fec_roots.unwrap_or(fec::DEFAULT_ROOTS), offset: self.fec_offset, backend })
    }

    /// Refuses FEC options without --fec-device, as veritysetup ignores nothing silently.
    fn check_fec_device(&self) -> Result<(), Box<dyn std::error::Error>> {
        if self.fec_device.is_none() && (self.fec_roots.is_some() || self.fec_offset != 0) {
            return Err("--fec-roots and --fec-offset need --fec-device".into());
        }
        Ok(())
    }
}

/// The environment variable that forces an FEC encoder backend.
const FEC_BACKEND_ENV: &str = "ROOTSEAL_FEC_BACKEND";

/// An FEC error, with a tree error passed on as the verity error it is (so that its
/// class sets the exit code).
fn fec_error(err: FecError) -> Box<dyn std::error::Error> {
    match err {
        FecError::Tree(inner) => Box::new(inner),
        other => Box::new(other),
    }
}

pub fn run(args: VerityArgs) -> CliResult {
    let params = &args.params;
    params.check_fec_device()?;
    match args.command {
        VerityCommand::Format { data, hash, root_hash_file, fips, json } => {
            let hashing = hash_choice(&fips)?;
            format(&data, &hash, params, &hashing, root_hash_file.as_deref(), json)
        }
        VerityCommand::Verify { image, range, fips, json } => verify(&image, range, params, &hash_choice(&fips)?, json),
        VerityCommand::Read { image, range, output, fips } => {
            read(&image, range, params, &hash_choice(&fips)?, output.as_deref())
        }
        VerityCommand::Repair { image, dry_run, fips, json } => {
            repair(&image, params, &hash_choice(&fips)?, dry_run, json)
        }
        VerityCommand::Dump { hash, json } => dump(&hash, params.hash_offset, json),
        VerityCommand::Table {
            data_dev,
            hash_dev,
            root_hash,
            ignore_corruption,
            restart_on_corruption,
            panic_on_corruption,
            error_as_corruption,
            ignore_zero_blocks,
            check_at_most_once,
            use_tasklets,
            root_hash_sig_key_desc,
        } => {
            let corruption =
                CorruptionMode::from_veritysetup_flags(ignore_corruption, restart_on_corruption, panic_on_corruption)?;
            let table = TableOptions {
                fec: None,
                corruption,
                error_as_corruption,
                ignore_zero_blocks,
                check_at_most_once,
                use_tasklets,
                root_hash_sig_key_desc,
            };
            print_table(&data_dev, &hash_dev, &root_hash, params, &table)
        }
    }
}

/// Who hashes this run: with `--fips` the FIPS provider (one that cannot be loaded stops
/// the command before anything is read or written); otherwise the backend named by
/// `ROOTSEAL_HASH_BACKEND`, or the fastest. The CLI is the one place that reads it.
fn hash_choice(fips: &FipsArgs) -> Result<HashChoice, Box<dyn std::error::Error>> {
    let context = fips.context()?;
    let backend = match std::env::var(verity::HASH_BACKEND_ENV) {
        Ok(name) if !name.trim().is_empty() => Some(HashBackend::from_name(&name)?),
        _ => None,
    };
    let hashing = HashChoice { backend, fips: context.is_fips().then_some(context) };
    hashing.check()?;
    Ok(hashing)
}

fn hashed_by_json(hashed_by: &HashedBy) -> serde_json::Value {
    json!({ "backend": hashed_by.backend.name(), "provider": hashed_by.provider })
}

fn warn(warnings: &[Warning]) {
    for w in warnings {
        eprintln!("rootseal: warning: {w}");
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(what: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        // Hidden until the first update brings the total, so it never draws "0 B/0 B".
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(what.to_string());
        Bar(Some(bar))
    }

    fn update(&self, done: u64, total: u64) {
        if let Some(bar) = &self.0 {
            if bar.is_hidden() {
                bar.set_length(total);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_position(done);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn with_progress<T>(
    what: &str,
    threads: Option<usize>,
    hashing: &HashChoice,
    body: impl FnOnce(&RunOptions<'_>) -> T,
) -> T {
    let bar = Bar::new(what);
    let update = |done, total| bar.update(done, total);
    let progress = bar.0.as_ref().map(|_| &update as verity::Progress<'_>);
    body(&RunOptions { threads, progress, hashing: hashing.clone() })
}

fn config_json(config: &VerityConfig, hash_blocks: Option<u64>) -> serde_json::Value {
    let mut obj = json!({
        "salt": encode_hex(&config.salt),
        "hash_algorithm": config.hash_algorithm.name(),
        "data_block_size": config.data_block_size,
        "hash_block_size": config.hash_block_size,
        "data_blocks": config.data_blocks,
        "hash_type": config.hash_type.as_u32(),
        "hash_offset": config.hash_offset,
        "uuid": config.superblock_uuid.map(|u| u.to_string()),
    });
    if let (Some(blocks), Some(map)) = (hash_blocks, obj.as_object_mut()) {
        map.insert("hash_blocks".into(), json!(blocks));
    }
    obj
}

/// The header lines veritysetup prints for format and dump.
fn header_text(
    name: &Path,
    config: &VerityConfig,
    hash_blocks: u64,
    root_hash: Option<&[u8]>,
    device_bytes: u64,
    fec: Option<&FecPlacement>,
) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let uuid = config.superblock_uuid.map(|u| u.to_string()).unwrap_or_default();
    let salt = if config.salt.is_empty() { "-".into() } else { encode_hex(&config.salt) };
    let _ = writeln!(text, "VERITY header information for {}", name.display());
    let _ = writeln!(text, "UUID:            \t{uuid}");
    let _ = writeln!(text, "Hash type:       \t{}", config.hash_type.as_u32());
    let _ = writeln!(text, "Data blocks:     \t{}", config.data_blocks);
    let _ = writeln!(text, "Data block size: \t{}", config.data_block_size);
    let _ = writeln!(text, "Hash blocks:     \t{hash_blocks}");
    let _ = writeln!(text, "Hash block size: \t{}", config.hash_block_size);
    let _ = writeln!(text, "Hash algorithm:  \t{}", config.hash_algorithm);
    if let Some(fec) = fec {
        let _ = writeln!(text, "FEC RS roots:   \t{}", fec.roots());
        let _ = writeln!(text, "FEC blocks:     \t{}", fec.parity_blocks());
    }
    let _ = writeln!(text, "Salt:            \t{salt}");
    if let Some(root) = root_hash {
        let _ = writeln!(text, "Root hash:      \t{}", encode_hex(root));
    }
    // veritysetup prints the size only when the hash area starts the device.
    if config.hash_offset == 0 {
        let _ = writeln!(text, "Hash device size: \t{device_bytes} [bytes]");
    }
    // And the FEC device's when the parity starts it (on a device of its own).
    if let Some(fec) = fec
        && fec.offset == 0
    {
        let _ = writeln!(text, "FEC device size: \t{} [bytes]", fec.layout.parity_bytes());
    }
    text
}

fn format(
    data: &Path,
    hash: &Path,
    params: &TreeArgs,
    hashing: &HashChoice,
    root_hash_file: Option<&Path>,
    json: bool,
) -> CliResult {
    let opts = params.options()?;
    if let Some(path) = root_hash_file {
        verity::check_root_hash_file_target(path)?;
    }
    let (outcome, fec): (FormatOutcome, Option<(FecPlacement, FecBackend, bool)>) = match &params.fec_device {
        None => (
            with_progress("format", params.threads, hashing, |run| verity::format_paths(data, hash, &opts, run))?,
            None,
        ),
        Some(fec_path) => {
            let fec_opts = params.fec_options()?;
            let done = with_progress("format", params.threads, hashing, |run| {
                fec::format_paths(data, hash, fec_path, &opts, &fec_opts, run)
            })
            .map_err(fec_error)?;
            let same = fec_path == hash || std::fs::canonicalize(fec_path).ok() == std::fs::canonicalize(hash).ok();
            (done.tree, Some((done.placement, done.backend, same)))
        }
    };
    warn(&outcome.warnings);
    let hash_blocks = outcome.layout.hash_blocks();
    let text = if json {
        let mut obj = config_json(&outcome.config, Some(hash_blocks));
        if let Some(map) = obj.as_object_mut() {
            map.insert("root_hash".into(), json!(encode_hex(&outcome.root_hash)));
            map.insert("hash_start_block".into(), json!(outcome.layout.hash_start_block()));
            map.insert("hashed_by".into(), hashed_by_json(&outcome.hashed_by));
            if let Some((placement, backend, _)) = &fec {
                map.insert("fec_roots".into(), json!(placement.roots()));
                map.insert("fec_blocks".into(), json!(placement.fec_blocks()));
                map.insert("fec_start".into(), json!(placement.fec_start()));
                map.insert("fec_offset".into(), json!(placement.offset));
                map.insert("fec_parity_blocks".into(), json!(placement.parity_blocks()));
                map.insert("fec_backend".into(), json!(backend.name()));
            }
        }
        format!("{obj}\n")
    } else {
        let mut device_bytes = outcome.layout.hash_end_bytes()?;
        // veritysetup counts the parity in the hash device size when it shares it.
        if let Some((placement, _, true)) = &fec {
            device_bytes += placement.layout.parity_bytes();
        }
        header_text(
            hash,
            &outcome.config,
            hash_blocks,
            Some(&outcome.root_hash),
            device_bytes,
            fec.as_ref().map(|(placement, _, _)| placement),
        )
    };
    // The tree is on disk now: whichever of the two outputs fails, the other still
    // carries the root hash, and the error names what was lost.
    let saved = root_hash_file.map(|path| verity::write_root_hash_file(path, &outcome.root_hash));
    let printed = emit(&text);
    if let Some(Err(err)) = saved {
        if printed.is_err() {
            eprintln!("rootseal: root hash: {}", encode_hex(&outcome.root_hash));
        }
        return Err(err.into());
    }
    printed.map_err(|e| format!("writing the output: {e}"))?;
    Ok(Outcome::Success)
}

/// `--range OFFSET:LENGTH`, in bytes.
fn parse_range(text: &str) -> Result<std::ops::Range<u64>, String> {
    let (offset, length) = text.split_once(':').ok_or("expected OFFSET:LENGTH in bytes")?;
    let number = |t: &str| t.parse::<u64>().map_err(|e| format!("{t:?}: {e}"));
    let (offset, length) = (number(offset)?, number(length)?);
    let end = offset.checked_add(length).ok_or("OFFSET + LENGTH overflows 64 bits")?;
    Ok(offset..end)
}

/// The image a tree is checked against: DATA, HASH and the root hash, as an argument
/// or a file (verify, read and repair take them alike).
#[derive(Args)]
pub struct CheckedImage {
    /// Data device or image.
    data: PathBuf,
    /// Hash device or image.
    hash: PathBuf,
    /// Root hash in hex (or use --root-hash-file).
    root_hash: Option<String>,
    /// Read the root hash from this file.
    #[arg(long, conflicts_with = "root_hash")]
    root_hash_file: Option<PathBuf>,
}

impl CheckedImage {
    /// The root hash from the argument or the file, for the algorithm of the tree.
    fn root_hash(&self, opts: &verity::VerityOptions) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        // The algorithm (and so the root hash length) may come from the superblock.
        let (config, _) = verity::config_from_paths(&self.data, &self.hash, opts)?;
        Ok(match (&self.root_hash, &self.root_hash_file) {
            (Some(text), None) => verity::parse_root_hash(text, config.hash_algorithm)?,
            (None, Some(path)) => verity::read_root_hash_file(path, config.hash_algorithm)?,
            _ => return Err("give the root hash as an argument or with --root-hash-file".into()),
        })
    }
}

fn read(
    image: &CheckedImage,
    range: Option<std::ops::Range<u64>>,
    params: &TreeArgs,
    hashing: &HashChoice,
    output: Option<&Path>,
) -> CliResult {
    let opts = params.options()?;
    let root = image.root_hash(&opts)?;
    let (data, hash) = (image.data.as_path(), image.hash.as_path());
    let mut out: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    match verity::read_paths(data, hash, &opts, &root, range, hashing, &mut out)? {
        Ok(_) => Ok(Outcome::Success),
        Err(corrupt) => {
            out.flush().ok();
            eprintln!("rootseal: {corrupt}; nothing of it or after it was written");
            Ok(Outcome::CheckFailed)
        }
    }
}

fn verify(
    image: &CheckedImage,
    range: Option<std::ops::Range<u64>>,
    params: &TreeArgs,
    hashing: &HashChoice,
    json: bool,
) -> CliResult {
    let opts = params.options()?;
    let root = image.root_hash(&opts)?;
    let (data, hash) = (image.data.as_path(), image.hash.as_path());
    if let Some(fec_path) = &params.fec_device {
        if range.is_some() {
            return Err("--range and --fec-device cannot be used together".into());
        }
        let fec_opts = params.fec_options()?;
        let report = with_progress("verify", params.threads, hashing, |run| {
            fec::repair_paths(data, hash, fec_path, &opts, &fec_opts, &root, run, false)
        })
        .map_err(fec_error)?;
        return print_fec_report(&report, &root, json, Mode::Verify);
    }
    let report = match &range {
        Some(bytes) => verity::verify_range_paths(data, hash, &opts, &root, bytes.clone(), hashing)?,
        None => {
            with_progress("verify", params.threads, hashing, |run| verity::verify_paths(data, hash, &opts, &root, run))?
        }
    };
    warn(&report.warnings);
    let text = if json {
        let mut obj = json!({ "ok": report.is_intact() });
        add_tree_verdict(&mut obj, &report);
        if let Some(bytes) = &range {
            obj["range"] = json!({ "offset": bytes.start, "length": bytes.end - bytes.start });
        }
        format!("{obj}\n")
    } else if let (true, Some(bytes)) = (report.is_intact(), &range) {
        let block = report.config.data_block_size as u64;
        let blocks = bytes.end.div_ceil(block) - bytes.start / block;
        format!(
            "Verification succeeded: bytes {}..{} ({}) intact.\n",
            bytes.start,
            bytes.end,
            count(blocks, "data block")
        )
    } else if report.is_intact() {
        format!("Verification succeeded: {} intact.\n", count(report.config.data_blocks, "data block"))
    } else if let Some(stored) = &report.root_hash_mismatch {
        format!("Verification failed: {}.\n", root_hash_mismatch_text(stored, &root))
    } else {
        let mut text = corrupted_block_lines(&report);
        text += &format!(
            "Verification failed: {}, {}.\n",
            count(report.corrupted_data_blocks.len() as u64, "corrupted data block"),
            count(report.corrupted_hash_blocks.len() as u64, "corrupted hash block")
        );
        text
    };
    // The exit code carries the verdict even when the listing cannot be written.
    if let Err(err) = emit(&text) {
        eprintln!("rootseal: warning: writing the output: {err}");
    }
    Ok(if report.is_intact() { Outcome::Success } else { Outcome::CheckFailed })
}

/// The tree verdict's JSON fields, shared by `verify` and the FEC reports: the
/// corrupted blocks, whether only the root hash differs (and the tree's own), and who
/// hashed.
fn add_tree_verdict(obj: &mut serde_json::Value, report: &VerifyReport) {
    obj["corrupted_data_blocks"] = json!(report.corrupted_data_blocks);
    obj["corrupted_hash_blocks"] = json!(report.corrupted_hash_blocks);
    obj["root_hash_mismatch"] = json!(report.root_hash_mismatch.is_some());
    if let Some(stored) = &report.root_hash_mismatch {
        obj["tree_root_hash"] = json!(encode_hex(stored));
    }
    obj["hashed_by"] = hashed_by_json(&report.hashed_by);
}

/// One "corrupted data/hash block N" line per blamed block.
fn corrupted_block_lines(report: &VerifyReport) -> String {
    let data = report.corrupted_data_blocks.iter().map(|b| format!("corrupted data block {b}\n"));
    let hash = report.corrupted_hash_blocks.iter().map(|b| format!("corrupted hash block {b}\n"));
    data.chain(hash).collect()
}

/// "1 data block", "2 data blocks".
fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// The verdict when every block matches the tree but its root is not the given one.
fn root_hash_mismatch_text(stored: &[u8], given: &[u8]) -> String {
    format!(
        "root hash mismatch: the tree is intact but its root hash is {}, not {}",
        encode_hex(stored),
        encode_hex(given)
    )
}

/// What an FEC report is printed for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Verify,
    DryRun,
    Repair,
}

fn repair(image: &CheckedImage, params: &TreeArgs, hashing: &HashChoice, dry_run: bool, json: bool) -> CliResult {
    let Some(fec_path) = &params.fec_device else {
        return Err("repair needs the parity: give --fec-device".into());
    };
    let opts = params.options()?;
    let root = image.root_hash(&opts)?;
    let (data, hash) = (image.data.as_path(), image.hash.as_path());
    let fec_opts = params.fec_options()?;
    let report = with_progress("repair", params.threads, hashing, |run| {
        fec::repair_paths(data, hash, fec_path, &opts, &fec_opts, &root, run, !dry_run)
    })
    .map_err(fec_error)?;
    print_fec_report(&report, &root, json, if dry_run { Mode::DryRun } else { Mode::Repair })
}

/// Prints a parity check or repair; the outcome is 0 when the image is intact or (for
/// a repair) everything was repaired or (dry run) can be, 1 otherwise.
fn print_fec_report(report: &fec::RepairReport, root: &[u8], json: bool, mode: Mode) -> CliResult {
    let repairable = report.is_repairable();
    let ok = match mode {
        Mode::Verify => report.is_intact(),
        Mode::DryRun | Mode::Repair => repairable,
    };
    let before = &report.before;
    let text = if json {
        let mut obj = json!({
            "ok": ok,
            "intact": report.is_intact(),
            "repairable": repairable,
            "written": report.written,
            "corrupted_fec_blocks": report.parity_mismatch_blocks,
            "repairable_data_blocks": report.repairable_data_blocks,
            "repairable_hash_blocks": report.repairable_hash_blocks,
            "unrepairable_data_blocks": report.unrepairable_data_blocks,
            "unrepairable_hash_blocks": report.unrepairable_hash_blocks,
        });
        add_tree_verdict(&mut obj, before);
        format!("{obj}\n")
    } else {
        let (done, can) = match mode {
            Mode::Repair if report.written => ("repaired", "repaired"),
            _ => ("repairable", "can repair"),
        };
        let mut text = corrupted_block_lines(before);
        for b in &report.parity_mismatch_blocks {
            let verb = if report.written { " (rewritten)" } else { "" };
            text += &format!("corrupted FEC block {b}{verb}\n");
        }
        for b in &report.repairable_data_blocks {
            text += &format!("{done} data block {b}\n");
        }
        for b in &report.repairable_hash_blocks {
            text += &format!("{done} hash block {b}\n");
        }
        for b in &report.unrepairable_data_blocks {
            text += &format!("cannot repair data block {b}\n");
        }
        for b in &report.unrepairable_hash_blocks {
            text += &format!("cannot repair hash block {b}\n");
        }
        let damaged = report.repairable_data_blocks.len()
            + report.repairable_hash_blocks.len()
            + report.unrepairable_data_blocks.len()
            + report.unrepairable_hash_blocks.len();
        let fixed = report.repairable_data_blocks.len() + report.repairable_hash_blocks.len();
        if report.is_intact() {
            text += &format!(
                "Verification succeeded: {} and the FEC parity intact.\n",
                count(before.config.data_blocks, "data block")
            );
        } else if let Some(stored) = &before.root_hash_mismatch {
            text += &format!("{}; nothing was written.\n", root_hash_mismatch_text(stored, root));
        } else if !repairable {
            text += &format!(
                "FEC cannot repair {} of {}; nothing was written.\n",
                damaged - fixed,
                count(damaged as u64, "damaged block")
            );
        } else {
            let parity = report.parity_mismatch_blocks.len();
            let verdict = match mode {
                Mode::Verify => "Verification failed",
                Mode::DryRun => "Dry run",
                Mode::Repair => "Repair done",
            };
            text += &format!(
                "{verdict}: FEC {can} all {} and {}.\n",
                count(damaged as u64, "damaged block"),
                count(parity as u64, "FEC block")
            );
        }
        text
    };
    if let Err(err) = emit(&text) {
        eprintln!("rootseal: warning: writing the output: {err}");
    }
    Ok(if ok { Outcome::Success } else { Outcome::CheckFailed })
}

fn dump(hash: &Path, hash_offset: u64, json: bool) -> CliResult {
    let device = rootseal::io::FileReader::open(hash).map_err(|e| format!("opening hash {}: {e}", hash.display()))?;
    let config = verity::read_superblock(&device, hash_offset)?;
    let layout = config.validate()?;
    let text = if json {
        format!("{}\n", config_json(&config, Some(layout.hash_blocks())))
    } else {
        header_text(hash, &config, layout.hash_blocks(), None, layout.hash_end_bytes()?, None)
    };
    emit(&text).map_err(|e| format!("writing the output: {e}"))?;
    Ok(Outcome::Success)
}

fn print_table(data_dev: &str, hash_dev: &str, root_hash: &str, params: &TreeArgs, table: &TableOptions) -> CliResult {
    let opts = params.options()?;
    let config = verity::table_config_from_paths(Path::new(data_dev), Path::new(hash_dev), &opts)?;
    let root = verity::parse_root_hash(root_hash, config.hash_algorithm)?;
    let mut table = table.clone();
    if let Some(fec_dev) = &params.fec_device {
        let placement =
            fec::table_placement(&config, Path::new(data_dev), Path::new(hash_dev), fec_dev, &params.fec_options()?)
                .map_err(fec_error)?;
        let name = fec_dev.to_str().ok_or("the FEC device name is not UTF-8")?;
        table.fec = Some(FecTable::new(name, &placement));
    }
    let line = verity::kernel_table(&config, data_dev, hash_dev, &root, &table)?;
    emit(&format!("{line}\n")).map_err(|e| format!("writing the output: {e}"))?;
    Ok(Outcome::Success)
}

//! The kernel dm-verity table line, as `dmsetup create` takes it.

use super::error::{Error, Result};
use super::params::VerityConfig;
use crate::text::encode_hex;

/// What the kernel does when it finds a corrupted block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CorruptionMode {
    /// Fail the read with EIO (the kernel default; no table option).
    #[default]
    Eio,
    /// Log and return the data anyway.
    Ignore,
    /// Reboot.
    Restart,
    /// Panic.
    Panic,
}

/// Optional table parameters, as veritysetup's activation flags set them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Corruption handling.
    pub corruption: CorruptionMode,
    /// Treat I/O errors as corruption (`restart_on_error` with
    /// [`CorruptionMode::Restart`], `panic_on_error` with [`CorruptionMode::Panic`];
    /// veritysetup 2.8 `--error-as-corruption`, kernel 6.12). Meaningless, and refused,
    /// with the other modes.
    pub error_as_corruption: bool,
    /// Return zeros for blocks whose digest is the zero block's.
    pub ignore_zero_blocks: bool,
    /// Verify each data block only on its first read.
    pub check_at_most_once: bool,
    /// Verify in a tasklet when the data is in the page cache (`try_verify_in_tasklet`,
    /// veritysetup `--use-tasklets`, kernel 6.0).
    pub use_tasklets: bool,
    /// Keyring description of a root-hash signature (`root_hash_sig_key_desc`).
    pub root_hash_sig_key_desc: Option<String>,
    /// Forward error correction (`use_fec_from_device`).
    pub fec: Option<FecTable>,
}

/// The FEC part of a table line: `use_fec_from_device <dev> fec_start <n> fec_blocks <n>
/// fec_roots <n>`. [`super::fec::FecPlacement`] gives the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FecTable {
    /// The FEC device as the kernel should see it.
    pub device: String,
    /// First parity block on the FEC device.
    pub start: u64,
    /// Blocks the parity covers (data, then the hash device from the tree on).
    pub blocks: u64,
    /// Parity bytes per codeword.
    pub roots: u32,
}

impl FecTable {
    /// The table part for `placement`, with the FEC device named `device`.
    pub fn new(device: impl Into<String>, placement: &super::fec::FecPlacement) -> Self {
        FecTable {
            device: device.into(),
            start: placement.fec_start(),
            blocks: placement.fec_blocks(),
            roots: placement.roots(),
        }
    }
}

impl CorruptionMode {
    /// The mode veritysetup's three flags give, as libcryptsetup resolves them: panic
    /// wins over restart, and either wins over ignore. veritysetup itself refuses
    /// `--ignore-corruption` and `--panic-on-corruption` together with
    /// `--restart-on-corruption` (see [`CorruptionMode::from_veritysetup_flags`]).
    pub fn resolve(ignore: bool, restart: bool, panic: bool) -> Self {
        match (ignore, restart, panic) {
            (_, _, true) => CorruptionMode::Panic,
            (_, true, false) => CorruptionMode::Restart,
            (true, false, false) => CorruptionMode::Ignore,
            (false, false, false) => CorruptionMode::Eio,
        }
    }

    /// The mode of veritysetup's command-line flags, refusing the pairs it refuses.
    pub fn from_veritysetup_flags(ignore: bool, restart: bool, panic: bool) -> Result<Self> {
        if restart && (ignore || panic) {
            let other = if ignore { "--ignore-corruption" } else { "--panic-on-corruption" };
            return Err(Error::InvalidParameter(format!(
                "option {other} and --restart-on-corruption cannot be used together"
            )));
        }
        Ok(Self::resolve(ignore, restart, panic))
    }
}

/// Formats the table line:
/// `0 <sectors> verity <type> <data_dev> <hash_dev> <dbs> <hbs> <blocks> <hash_start> <alg> <root> <salt|->`
/// followed by the optional parameters in libcryptsetup's order (its
/// `get_dm_verity_params`): the corruption mode, `*_on_error`, `ignore_zero_blocks`,
/// `check_at_most_once`, `try_verify_in_tasklet`, `use_fec_from_device` with its three
/// numbers, `root_hash_sig_key_desc`.
pub fn kernel_table(
    config: &VerityConfig,
    data_dev: &str,
    hash_dev: &str,
    root_hash: &[u8],
    options: &TableOptions,
) -> Result<String> {
    let layout = config.validate()?;
    config.check_root_hash(root_hash)?;
    for (what, dev) in [("data device", data_dev), ("hash device", hash_dev)] {
        if dev.is_empty() || dev.chars().any(char::is_whitespace) {
            return Err(Error::InvalidParameter(format!(
                "{what} {dev:?} must be non-empty and contain no white space"
            )));
        }
    }
    let sectors = config.data_area_bytes()? / 512;
    let salt = if config.salt.is_empty() { "-".to_string() } else { encode_hex(&config.salt) };
    let mut line = format!(
        "0 {sectors} verity {} {data_dev} {hash_dev} {} {} {} {} {} {} {salt}",
        config.hash_type.as_u32(),
        config.data_block_size,
        config.hash_block_size,
        config.data_blocks,
        layout.hash_start_block,
        config.hash_algorithm.name(),
        encode_hex(root_hash),
    );
    let mut extra: Vec<String> = Vec::new();
    match options.corruption {
        CorruptionMode::Eio => {}
        CorruptionMode::Ignore => extra.push("ignore_corruption".into()),
        CorruptionMode::Restart => extra.push("restart_on_corruption".into()),
        CorruptionMode::Panic => extra.push("panic_on_corruption".into()),
    }
    if options.error_as_corruption {
        match options.corruption {
            CorruptionMode::Restart => extra.push("restart_on_error".into()),
            CorruptionMode::Panic => extra.push("panic_on_error".into()),
            CorruptionMode::Eio | CorruptionMode::Ignore => {
                return Err(Error::InvalidParameter(
                    "error-as-corruption needs the restart or the panic corruption mode".into(),
                ));
            }
        }
    }
    if options.ignore_zero_blocks {
        extra.push("ignore_zero_blocks".into());
    }
    if options.check_at_most_once {
        extra.push("check_at_most_once".into());
    }
    if options.use_tasklets {
        extra.push("try_verify_in_tasklet".into());
    }
    if let Some(fec) = &options.fec {
        if fec.device.is_empty() || fec.device.chars().any(char::is_whitespace) {
            return Err(Error::InvalidParameter(format!(
                "FEC device {:?} must be non-empty and contain no white space",
                fec.device
            )));
        }
        if !(2..=24).contains(&fec.roots) {
            return Err(Error::InvalidParameter(format!("FEC roots {} is out of range 2..=24", fec.roots)));
        }
        if fec.blocks < config.data_blocks {
            return Err(Error::InvalidParameter(format!(
                "FEC blocks {} do not cover the {} data blocks",
                fec.blocks, config.data_blocks
            )));
        }
        extra.push("use_fec_from_device".into());
        extra.push(fec.device.clone());
        extra.push("fec_start".into());
        extra.push(fec.start.to_string());
        extra.push("fec_blocks".into());
        extra.push(fec.blocks.to_string());
        extra.push("fec_roots".into());
        extra.push(fec.roots.to_string());
    }
    if let Some(desc) = &options.root_hash_sig_key_desc {
        if desc.is_empty() || desc.chars().any(char::is_whitespace) {
            return Err(Error::InvalidParameter("the signature key description must be one word".into()));
        }
        extra.push("root_hash_sig_key_desc".into());
        extra.push(desc.clone());
    }
    if !extra.is_empty() {
        line.push_str(&format!(" {} {}", extra.len(), extra.join(" ")));
    }
    Ok(line)
}

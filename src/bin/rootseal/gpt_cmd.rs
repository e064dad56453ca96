//! `rootseal gpt …`

use crate::{CliResult, Outcome};
use clap::{Args, Subcommand};
use rootseal::gpt::{
    self, AttrChange, BlockSize, CopyState, Error, Gpt, GptDisk, Guid, Partition, Pmbr, PrioritizeRequest, Which,
};
use rootseal::io::FileDevice;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum GptCommand {
    /// Print both GPT copies' state and every partition with its A/B attributes.
    Show {
        #[command(flatten)]
        disk: DiskArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Set priority, tries and/or successful of one partition (as `cgpt add`).
    Set {
        #[command(flatten)]
        target: TargetArgs,
        /// Priority, 0–15.
        #[arg(short = 'P', value_name = "PRIORITY")]
        priority: Option<u8>,
        /// Tries, 0–15.
        #[arg(short = 'T', value_name = "TRIES")]
        tries: Option<u8>,
        /// Successful, 0 or 1.
        #[arg(short = 'S', value_name = "0|1", value_parser = clap::value_parser!(u8).range(0..=1))]
        successful: Option<u8>,
    },
    /// Renumber priorities, putting partition N on top (as `cgpt prioritize`).
    Prioritize {
        #[command(flatten)]
        disk: DiskArgs,
        /// Partition to put on top (1-based).
        #[arg(short = 'i')]
        index: Option<u32>,
        /// Move every partition that shared N's priority with it.
        #[arg(short = 'f')]
        friends: bool,
        /// Highest priority to hand out, 1–15.
        #[arg(short = 'P', value_name = "MAX")]
        max_priority: Option<u8>,
        #[command(flatten)]
        kind: TypeArgs,
    },
    /// Choose the partition to boot and use up one try (as GRUB `gptprio.next`).
    Next {
        #[command(flatten)]
        disk: DiskArgs,
        #[command(flatten)]
        kind: TypeArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// After installing an update to partition N: repair, S=0 T=1, prioritize N.
    MarkUpdate {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        kind: TypeArgs,
    },
    /// After a good boot from partition N: repair, S=1 T=0, prioritize N.
    MarkGood {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        kind: TypeArgs,
    },
    /// Take partition N out of rotation (priority 0).
    Invalidate {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Rebuild a bad GPT copy from the good one; move the backup to the end of a grown disk.
    Repair {
        #[command(flatten)]
        disk: DiskArgs,
        /// Also fix a hybrid MBR's 0xEE record size (its other records are kept). A
        /// missing or stale protective MBR is rewritten in any case, as Flatcar's cgpt does.
        #[arg(long)]
        pmbr: bool,
    },
}

#[derive(Args)]
pub struct DiskArgs {
    /// Disk image or block device.
    disk: PathBuf,
    /// Logical block size of an image file (512 or 4096); detected when omitted.
    /// Block devices always use the size the kernel reports.
    #[arg(long, value_name = "BYTES")]
    block_size: Option<u32>,
}

#[derive(Args)]
pub struct TargetArgs {
    #[command(flatten)]
    disk: DiskArgs,
    /// Partition number (1-based). May be omitted when DISK is a partition device
    /// such as /dev/sda4, as Flatcar's cgpt allows.
    #[arg(short = 'i')]
    index: Option<u32>,
}

#[derive(Args)]
pub struct TypeArgs {
    /// Partition type that takes part (default: Flatcar usr; upstream cgpt uses the
    /// Chrome OS kernel type fe3a2a5d-4f32-41a7-b725-accc3285a309).
    #[arg(long = "type", value_name = "GUID", default_value = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6")]
    type_guid: String,
}

impl TypeArgs {
    fn guid(&self) -> Result<Guid, Error> {
        self.type_guid.parse()
    }
}

impl DiskArgs {
    fn open_at(&self, path: &Path, writable: bool) -> Result<GptDisk<FileDevice>, Error> {
        let block_size = self.block_size.map_or(BlockSize::Detect, BlockSize::Fixed);
        gpt::open_path(path, block_size, writable)
    }
}

impl TargetArgs {
    /// The disk to open and the partition number, resolving a partition device.
    fn resolve(&self) -> Result<(GptDisk<FileDevice>, u32), Error> {
        match self.index {
            Some(index) => Ok((self.disk.open_at(&self.disk.disk, true)?, index)),
            None => {
                let (whole, index) = gpt::partition_device(&self.disk.disk)?;
                Ok((self.disk.open_at(&whole, true)?, index))
            }
        }
    }
}

/// Runs one GPT command; the library's [`Error::class`] decides its exit status.
pub fn run(cmd: GptCommand) -> CliResult {
    // `show --json` on a disk with no valid copy prints its own object (both copies'
    // reasons, and the error), so the shell must not print a second one.
    let reports_itself = matches!(cmd, GptCommand::Show { json: true, .. });
    match execute(cmd) {
        Err(err @ Error::NoValidGpt { .. }) if reports_itself => Err(Box::new(crate::Reported(Box::new(err)))),
        result => Ok(result?),
    }
}

fn execute(cmd: GptCommand) -> Result<Outcome, Error> {
    match cmd {
        GptCommand::Show { disk, json } => {
            let opened = disk.open_at(&disk.disk, false)?;
            match opened.read() {
                Ok(table) if json => println!("{}", show_json(&table)),
                Ok(table) => print!("{}", show_text(&disk.disk, &table)),
                // Both copies bad: still say why, then fail.
                Err(Error::NoValidGpt { primary, backup }) => {
                    let (p, b) = (Some(primary.to_string()), Some(backup.to_string()));
                    let err = Error::NoValidGpt { primary, backup };
                    if json {
                        let copy = |reason| json!({"valid": false, "reason": reason});
                        let broken = json!({
                            "ok": false,
                            "error": {"kind": err.class().name(), "message": err.to_string()},
                            "logical_block_size": opened.block_size(),
                            "disk_guid": null,
                            "primary": copy(p.clone()),
                            "backup": copy(b.clone()),
                            "partitions": [],
                        });
                        println!("{broken}");
                    } else {
                        println!("Disk {}: {} bytes per block", disk.disk.display(), opened.block_size());
                        println!("primary GPT: INVALID ({})\nbackup GPT: INVALID ({})", p.unwrap(), b.unwrap());
                    }
                    return Err(err);
                }
                Err(err) => return Err(err),
            }
        }
        GptCommand::Set { target, priority, tries, successful } => {
            let change = AttrChange { priority, tries, successful: successful.map(|s| s == 1) };
            change.validate()?;
            let (disk, index) = target.resolve()?;
            disk.set(index, change)?;
        }
        GptCommand::Prioritize { disk, index, friends, max_priority, kind } => {
            let request = PrioritizeRequest { target: index, friends, max_priority };
            request.validate()?;
            let type_guid = kind.guid()?;
            disk.open_at(&disk.disk, true)?.prioritize(request, type_guid)?;
        }
        GptCommand::Next { disk, kind, json } => {
            let type_guid = kind.guid()?;
            let boot = disk.open_at(&disk.disk, true)?.next(type_guid)?;
            let p = &boot.partition;
            if let Some(why) = &boot.fallback {
                eprintln!(
                    "rootseal: warning: the try of the preferred slot cannot be recorded ({why}); booting partition {}, \
                     which is marked successful",
                    p.index
                );
            }
            if json {
                let mut object = partition_json(p, PartitionDetail::Slot);
                object["written"] = boot.written.into();
                object["fallback"] = boot.fallback.clone().into();
                println!("{object}");
            } else {
                println!("{} {}", p.index, p.unique_guid);
            }
        }
        GptCommand::MarkUpdate { target, kind } => {
            let type_guid = kind.guid()?;
            let (disk, index) = target.resolve()?;
            disk.mark_update(index, type_guid)?;
        }
        GptCommand::MarkGood { target, kind } => {
            let type_guid = kind.guid()?;
            let (disk, index) = target.resolve()?;
            disk.mark_good(index, type_guid)?;
        }
        GptCommand::Invalidate { target } => {
            let (disk, index) = target.resolve()?;
            disk.invalidate(index)?;
        }
        GptCommand::Repair { disk, pmbr } => {
            let report = disk.open_at(&disk.disk, true)?.repair(pmbr)?;
            let lines = [
                (report.primary_rebuilt, "primary GPT rebuilt from the backup"),
                (report.backup_rebuilt, "backup GPT rebuilt from the primary"),
                (report.backup_moved, "backup GPT moved to the last LBA"),
                (report.pmbr_rewritten, "protective MBR rewritten"),
            ];
            for (done, line) in lines {
                if done {
                    println!("{line}");
                }
            }
            if !report.changed() {
                println!("nothing to repair");
            }
        }
    }
    Ok(Outcome::Success)
}

/// How much of a partition an object shows.
#[derive(Clone, Copy, PartialEq)]
enum PartitionDetail {
    /// A slot as `next` reports it: number, PARTUUID and A/B attributes.
    Slot,
    /// A partition as `show` lists it: everything in its entry.
    Entry,
}

/// The one JSON form of a partition, at either level of detail.
fn partition_json(p: &Partition, detail: PartitionDetail) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("index".into(), p.index.into());
    match detail {
        PartitionDetail::Slot => {
            object.insert("partuuid".into(), p.unique_guid.to_string().into());
        }
        PartitionDetail::Entry => {
            object.insert("name".into(), p.name.clone().into());
            object.insert("type_guid".into(), p.type_guid.to_string().into());
            object.insert("unique_guid".into(), p.unique_guid.to_string().into());
            object.insert("first_lba".into(), p.first_lba.into());
            object.insert("last_lba".into(), p.last_lba.into());
            object.insert("attributes".into(), format!("{:#018x}", p.attributes.0).into());
        }
    }
    object.insert("priority".into(), p.attributes.priority().into());
    object.insert("tries".into(), p.attributes.tries().into());
    object.insert("successful".into(), u8::from(p.attributes.successful()).into());
    Value::Object(object)
}

fn copy_json(state: &CopyState) -> Value {
    json!({
        "valid": state.is_valid(),
        "reason": state.fault.as_ref().map(|f| f.to_string()),
        "header_lba": state.header_lba,
    })
}

fn pmbr_text(pmbr: &Pmbr) -> String {
    match pmbr {
        Pmbr::Protective => "protective".into(),
        Pmbr::Hybrid => "hybrid".into(),
        Pmbr::Invalid(why) => format!("INVALID ({why})"),
    }
}

fn show_json(table: &Gpt) -> Value {
    let partitions: Vec<Value> = table.partitions().iter().map(|p| partition_json(p, PartitionDetail::Entry)).collect();
    json!({
        "logical_block_size": table.block_size(),
        "disk_guid": table.disk_guid().to_string(),
        "primary": copy_json(table.copy_state(Which::Primary)),
        "backup": copy_json(table.copy_state(Which::Backup)),
        "partitions": partitions,
        "block_count": table.block_count(),
        "pmbr": pmbr_text(table.pmbr()),
        "backup_at_end": !table.backup_misplaced(),
    })
}

/// A partition name for text output: control characters (newline, escape, DEL, the C1
/// range) and backslashes are escaped as Rust does (`\n`, `\u{1b}`, `\\`), so that a
/// name cannot start a new line or move the cursor to fake a table row.
fn escape_controls(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

fn show_text(path: &Path, table: &Gpt) -> String {
    let mut out = format!(
        "Disk {}: {} blocks of {} bytes, disk GUID {}\nProtective MBR: {}\n",
        path.display(),
        table.block_count(),
        table.block_size(),
        table.disk_guid(),
        pmbr_text(table.pmbr())
    );
    for which in [Which::Primary, Which::Backup] {
        let state = table.copy_state(which);
        let verdict = state.fault.as_ref().map_or("valid".to_string(), |f| format!("INVALID ({f})"));
        out += &format!("{which} GPT (header at LBA {}): {verdict}\n", state.header_lba);
    }
    if table.backup_misplaced() {
        out += "note: the backup GPT is not at the last LBA (the disk has grown); `rootseal gpt repair` moves it\n";
    }
    out += &format!(
        "{:>3}  {:<20} {:<36} {:<36} {:>12} {:>12}  {:<18} {:>2} {:>2} {:>1}\n",
        "#", "name", "type GUID", "unique GUID", "first LBA", "last LBA", "attributes", "P", "T", "S"
    );
    for p in table.partitions() {
        let a = p.attributes;
        out += &format!(
            "{:>3}  {:<20} {:<36} {:<36} {:>12} {:>12}  {:#018x} {:>2} {:>2} {:>1}\n",
            p.index,
            escape_controls(&p.name),
            p.type_guid.to_string(),
            p.unique_guid.to_string(),
            p.first_lba,
            p.last_lba,
            a.0,
            a.priority(),
            a.tries(),
            u8::from(a.successful())
        );
    }
    out
}

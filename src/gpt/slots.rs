//! Flatcar's two /usr slots: finding USR-A and USR-B, "the other slot", and the slot
//! behind a partition device such as `/dev/sda4`.

use super::entries::Partition;
use super::error::{Error, Result};
use super::guid::Guid;
use super::table::Gpt;
use std::path::{Path, PathBuf};

/// The fixed PARTUUID of USR-A in Flatcar images.
pub const USR_A_PARTUUID: &str = "7130c94a-213a-4e5a-8e26-6cce9662f132";
/// The fixed PARTUUID of USR-B in Flatcar images.
pub const USR_B_PARTUUID: &str = "e03dd35c-7c2d-4a47-b3fe-27f15780a57c";

/// The A/B pair of a Flatcar disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatcarSlots {
    /// USR-A.
    pub a: Partition,
    /// USR-B.
    pub b: Partition,
}

impl FlatcarSlots {
    /// Finds the slots by label (`USR-A`/`USR-B`, or `ROOT-A`/`ROOT-B` as
    /// flatcar-postinst also accepts); failing that, the two partitions of `type_guid`
    /// in table order.
    pub fn find(gpt: &Gpt, type_guid: Guid) -> Result<Self> {
        let partitions = gpt.partitions();
        let labelled = |labels: [&str; 2]| {
            let mut hits = partitions.iter().filter(|p| labels.contains(&p.name.as_str()));
            match (hits.next(), hits.next()) {
                (Some(p), None) => Some(p.clone()),
                _ => None,
            }
        };
        if let (Some(a), Some(b)) = (labelled(["USR-A", "ROOT-A"]), labelled(["USR-B", "ROOT-B"])) {
            return Ok(FlatcarSlots { a, b });
        }
        let typed: Vec<&Partition> = partitions.iter().filter(|p| p.type_guid == type_guid).collect();
        match typed.as_slice() {
            [a, b] => Ok(FlatcarSlots { a: (*a).clone(), b: (*b).clone() }),
            other => Err(Error::Slot(format!(
                "cannot find USR-A and USR-B: no USR-A/USR-B labels and {} partitions of type {type_guid}",
                other.len()
            ))),
        }
    }

    /// The slot that is not `index`.
    pub fn other(&self, index: u32) -> Result<&Partition> {
        match index {
            i if i == self.a.index => Ok(&self.b),
            i if i == self.b.index => Ok(&self.a),
            _ => Err(Error::Slot(format!("partition {index} is neither USR-A nor USR-B"))),
        }
    }
}

/// The whole disk and the 1-based partition number behind a partition block device
/// (`/dev/sda4` → `/dev/sda`, 4), from sysfs, as Flatcar's cgpt resolves it.
pub fn partition_device(path: &Path) -> Result<(PathBuf, u32)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let not_a_partition = |why: String| Error::Slot(format!("{} is not a partition device: {why}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if !meta.file_type().is_block_device() {
        return Err(not_a_partition("not a block device".into()));
    }
    let dev = meta.rdev();
    let (major, minor) = (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff), (dev & 0xff) | ((dev >> 12) & !0xff));
    let sys = PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    let number = std::fs::read_to_string(sys.join("partition")).map_err(|e| not_a_partition(e.to_string()))?;
    let index: u32 = number.trim().parse().map_err(|_| not_a_partition(format!("sysfs says {number:?}")))?;
    let real = std::fs::canonicalize(&sys).map_err(|e| not_a_partition(e.to_string()))?;
    let disk = real.parent().and_then(Path::file_name).ok_or_else(|| not_a_partition("no parent disk".into()))?;
    Ok((Path::new("/dev").join(disk), index))
}

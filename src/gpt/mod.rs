//! GPT A/B slot attributes, compatible with Chrome OS `cgpt` and Flatcar GRUB's
//! `gptprio.next`, written so that a power cut never loses the partition table.
//!
//! - [`GptDisk`] reads both copies strictly ([`Gpt`], with a [`CopyState`] per copy),
//!   runs one operation in memory and writes both copies back crash-safely
//!   (see [`write`](mod@write) for the order and why it is safe).
//! - [`Attributes`] is the attribute word: priority (bits 48–51), tries (52–55) and
//!   successful (56), plus the fixed [`AttrFlags`]; every other bit is preserved.
//! - [`prioritize()`] and [`next::choose`] are the pure algorithms of
//!   `cgpt prioritize` and gptprio.
//!
//! Partition numbers are 1-based, as in cgpt, sgdisk and the kernel. The participating
//! partition type is a parameter: [`Guid::FLATCAR_USR`] for Flatcar, and
//! [`Guid::CHROMEOS_KERNEL`] for upstream cgpt.
//!
//! ```no_run
//! use rootseal::gpt::{self, BlockSize, Guid};
//! let disk = gpt::open_path("disk.img".as_ref(), BlockSize::Detect, true)?;
//! let boot = disk.next(Guid::FLATCAR_USR)?;
//! println!("boot partition {} ({})", boot.partition.index, boot.partition.unique_guid);
//! # Ok::<(), gpt::Error>(())
//! ```

mod attrs;
mod device;
mod disk;
mod entries;
mod error;
mod guid;
mod header;
pub mod next;
mod ops;
mod pmbr;
mod prioritize;
mod read;
mod reasons;
mod slots;
mod table;
pub mod write;

pub use attrs::{AttrChange, AttrFlags, Attributes, MAX_NIBBLE};
pub use device::read;
pub use disk::{BlockSize, GptDisk, NextBoot, RepairReport, Written, open_path};
pub use entries::{Partition, PartitionEntry};
pub use error::{Error, Fault, Result, Which};
pub use guid::Guid;
pub use header::Header;
pub use pmbr::Pmbr;
pub use prioritize::{PrioritizeRequest, Renumbering, prioritize};
pub use read::{ArrayMemory, GptSource, detect_block_size, memory_needed, read_table};
pub use reasons::{DeviceCall, Difference, EntryProblem, LayoutFault, RepairBlocker};
pub use slots::{FlatcarSlots, USR_A_PARTUUID, USR_B_PARTUUID, partition_device};
pub use table::{CopyState, Gpt};

//! The protective MBR at LBA 0. A bad one is reported, never fatal (as in GRUB), and is
//! rewritten only when the caller asks for it. Pure logic.

/// Bytes of the MBR sector that matter (the rest of a 4 KiB LBA 0 is left alone).
pub(crate) const MBR_BYTES: usize = 512;
const RECORDS_AT: usize = 446;
const PROTECTIVE_TYPE: u8 = 0xee;

/// State of LBA 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pmbr {
    /// One 0xEE record and nothing else.
    Protective,
    /// A 0xEE record next to real MBR partitions (cgpt `boot -B`, Flatcar `hybrid`).
    Hybrid,
    /// No 0x55AA signature or no 0xEE record.
    Invalid(&'static str),
}

impl Pmbr {
    /// Classifies the first 512 bytes of the disk.
    pub fn check(sector: &[u8]) -> Pmbr {
        if sector.len() < MBR_BYTES || sector[510..512] != [0x55, 0xaa] {
            return Pmbr::Invalid("no 0x55AA boot signature");
        }
        let types: [u8; 4] = core::array::from_fn(|i| sector[RECORDS_AT + 16 * i + 4]);
        match types.iter().filter(|&&t| t == PROTECTIVE_TYPE).count() {
            0 => Pmbr::Invalid("no partition record of type 0xEE"),
            _ if types.iter().all(|&t| t == PROTECTIVE_TYPE || t == 0) => Pmbr::Protective,
            _ => Pmbr::Hybrid,
        }
    }

    /// True unless invalid.
    pub fn is_valid(&self) -> bool {
        !matches!(self, Pmbr::Invalid(_))
    }
}

/// How far a write may go in fixing LBA 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PmbrFix {
    /// Never write LBA 0 (plain edits and `next`).
    #[default]
    Never,
    /// As Flatcar's `cgpt repair`: write a protective MBR when there is none (no
    /// signature, no 0xEE record, a zeroed sector) or when a protective MBR's size field
    /// no longer matches the disk. A hybrid MBR is left alone.
    Repair,
    /// `repair --pmbr`: as `Repair`, and a hybrid MBR's 0xEE record gets the disk's
    /// size too; its other records are kept.
    Force,
}

/// The size field a 0xEE record should hold on a disk of `blocks` blocks.
fn expected_size(blocks: u64) -> u32 {
    u32::try_from(blocks.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// The new LBA 0 (first 512 bytes) that `fix` asks for, or `None` when it stays.
pub fn repaired(sector: &[u8], blocks: u64, fix: PmbrFix) -> Option<[u8; MBR_BYTES]> {
    if fix == PmbrFix::Never {
        return None;
    }
    let size = expected_size(blocks);
    let ee_records = || (0..4).map(|i| RECORDS_AT + 16 * i).filter(|&at| sector.get(at + 4) == Some(&PROTECTIVE_TYPE));
    let stale = |at: usize| sector[at + 12..at + 16] != size.to_le_bytes();
    match Pmbr::check(sector) {
        Pmbr::Invalid(_) => Some(protective(sector, blocks)),
        Pmbr::Protective if ee_records().any(stale) => Some(protective(sector, blocks)),
        Pmbr::Hybrid if fix == PmbrFix::Force && ee_records().any(stale) => {
            let mut fixed = [0u8; MBR_BYTES];
            fixed.copy_from_slice(&sector[..MBR_BYTES]);
            for at in ee_records().filter(|&at| stale(at)) {
                fixed[at + 12..at + 16].copy_from_slice(&size.to_le_bytes());
            }
            Some(fixed)
        }
        _ => None,
    }
}

/// A protective MBR for a disk of `blocks` blocks, keeping the boot code and disk
/// signature (bytes 0..446) of `old`.
pub fn protective(old: &[u8], blocks: u64) -> [u8; MBR_BYTES] {
    let mut sector = [0u8; MBR_BYTES];
    let keep = old.len().min(RECORDS_AT);
    sector[..keep].copy_from_slice(&old[..keep]);
    let size = u32::try_from(blocks.saturating_sub(1)).unwrap_or(u32::MAX);
    let record = &mut sector[RECORDS_AT..RECORDS_AT + 16];
    record[1..4].copy_from_slice(&chs(1));
    record[4] = PROTECTIVE_TYPE;
    record[5..8].copy_from_slice(&chs(u64::from(size)));
    record[8..12].copy_from_slice(&1u32.to_le_bytes());
    record[12..16].copy_from_slice(&size.to_le_bytes());
    sector[510] = 0x55;
    sector[511] = 0xaa;
    sector
}

/// The legacy cylinder/head/sector address of `lba` in the 255-head, 63-sector
/// geometry partitioners use, or 0xFFFFFF past cylinder 1023.
fn chs(lba: u64) -> [u8; 3] {
    const HEADS: u64 = 255;
    const SECTORS: u64 = 63;
    let cylinder = lba / (HEADS * SECTORS);
    if cylinder > 1023 {
        return [0xff; 3];
    }
    let head = (lba / SECTORS) % HEADS;
    let sector = lba % SECTORS + 1;
    [head as u8, (sector as u8) | ((cylinder >> 2) as u8 & 0xc0), cylinder as u8]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_what_it_accepts_and_keeps_boot_code() {
        let old = vec![0x90u8; 512];
        let mbr = protective(&old, 131072);
        assert_eq!(Pmbr::check(&mbr), Pmbr::Protective);
        assert_eq!(&mbr[..440], &old[..440]);
        assert_eq!(&mbr[446..462], &[0, 0, 2, 0, 0xee, 0x28, 0x20, 0x08, 1, 0, 0, 0, 0xff, 0xff, 1, 0]);
        // Small disks get a real ending address, as sgdisk writes it.
        assert_eq!(&protective(&[], 32768)[446..454], &[0, 0, 2, 0, 0xee, 0x0a, 0x08, 0x02]);
        let mut hybrid = mbr;
        hybrid[462 + 4] = 0x0c;
        assert_eq!(Pmbr::check(&hybrid), Pmbr::Hybrid);
        assert!(!Pmbr::check(&[0u8; 512]).is_valid());
        // Disks past 2 TiB saturate the 32-bit size, and the address overflows.
        assert_eq!(&protective(&[], 1 << 40)[451..462], &[0xff, 0xff, 0xff, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }
}

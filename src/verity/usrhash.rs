//! The `/usr` root hash in the kernel image, as Flatcar boots: its image build writes the
//! dm-verity root hash of `/usr` as 64 lowercase hex characters into an unused part of
//! the kernel's header (byte 0x40 of an x86-64 bzImage, byte 512 of an arm64 Image), and
//! its GRUB appends ` verity.usrhash=<hash>` to the kernel command line, but only when
//! all 64 characters are in `[0-9a-f]`; otherwise it adds nothing.
//!
//! Pure logic on the first [`HEADER_LEN`] bytes of the image: no I/O, `core` only, so the
//! boot library compiles this very file. [`super::read_usrhash_path`] and
//! [`super::write_usrhash_path`] do the files.

use core::fmt;

/// Length of the hash: a SHA-256 root hash in hex.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const USRHASH_LEN: usize = 64;

/// What GRUB puts before the hash on the kernel command line.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const CMDLINE_KEY: &str = " verity.usrhash=";

/// Bytes of the image that cover every magic and slot this module looks at.
///
/// <!--
/// cbindgen:ignore
/// -->
pub const HEADER_LEN: usize = 576;

/// The kernel image formats that carry a usr hash.
///
/// <!--
/// cbindgen:ignore
/// -->
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelArch {
    /// An x86-64 bzImage: `HdrS` at 0x202, the hash at 0x40 (in the legacy boot sector).
    X86_64,
    /// An arm64 `Image`: `ARM\x64` at 0x38, the hash at 512.
    Arm64,
}

impl KernelArch {
    /// Both formats.
    pub const ALL: [KernelArch; 2] = [KernelArch::X86_64, KernelArch::Arm64];

    /// Byte offset of the hash slot.
    pub const fn usrhash_offset(self) -> usize {
        match self {
            KernelArch::X86_64 => 0x40,
            KernelArch::Arm64 => 512,
        }
    }

    /// The format's magic and its offset.
    pub const fn magic(self) -> (usize, &'static [u8; 4]) {
        match self {
            KernelArch::X86_64 => (0x202, b"HdrS"),
            KernelArch::Arm64 => (0x38, b"ARM\x64"),
        }
    }

    /// The number both C interfaces give the format (`ROOTSEAL_KERNEL_ARCH_*` and
    /// `ROOTSEAL_BOOT_KERNEL_ARCH_*`); 0 there means "from the magic".
    pub const fn number(self) -> u32 {
        match self {
            KernelArch::X86_64 => 1,
            KernelArch::Arm64 => 2,
        }
    }

    /// The format numbered `number` by [`KernelArch::number`]: `Some(None)` for 0 (from
    /// the magic), None for a number no format has.
    pub fn from_number(number: u32) -> Option<Option<Self>> {
        if number == 0 {
            return Some(None);
        }
        Self::ALL.into_iter().find(|arch| arch.number() == number).map(Some)
    }

    /// The name the command line takes: `x86_64` or `arm64`.
    pub const fn name(self) -> &'static str {
        match self {
            KernelArch::X86_64 => "x86_64",
            KernelArch::Arm64 => "arm64",
        }
    }

    /// The format named `name` (`x86_64`, `amd64`, `arm64` or `aarch64`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "x86_64" | "amd64" => Some(KernelArch::X86_64),
            "arm64" | "aarch64" => Some(KernelArch::Arm64),
            _ => None,
        }
    }

    /// True when `header` carries this format's magic.
    pub fn matches(self, header: &[u8]) -> bool {
        let (at, magic) = self.magic();
        header.get(at..at + magic.len()) == Some(&magic[..])
    }

    /// The format whose magic `header` carries.
    pub fn detect(header: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|arch| arch.matches(header))
    }
}

impl fmt::Display for KernelArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the hash slot of an image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot<'a> {
    /// 64 zero bytes: never written.
    Empty,
    /// A hash GRUB would use.
    Hash(&'a str),
    /// Anything else: GRUB adds nothing, and a write needs force.
    Foreign,
}

/// Why a usr hash cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsrHashError {
    /// The image has neither magic (and no format was given).
    #[error("not an x86-64 bzImage (no \"HdrS\" at 0x202) or an arm64 Image (no \"ARM\\x64\" at 0x38)")]
    NotAKernel,
    /// The format given does not match the image.
    #[error("not an {arch} kernel image: its magic is missing")]
    WrongArch {
        /// The format given.
        arch: KernelArch,
    },
    /// The image ends before the slot.
    #[error("the kernel image has {len} bytes; the usr hash slot ends at byte {needed}")]
    TooShort {
        /// Bytes in the image (or header given).
        len: u64,
        /// Where the slot ends.
        needed: usize,
    },
    /// The hash to write is not 64 lowercase hex characters.
    #[error("the usr hash must be 64 lowercase hex characters (GRUB ignores anything else), not {0:?}")]
    InvalidHash(alloc::string::String),
    /// The slot holds bytes that are neither zero nor a hash.
    #[error("the usr hash slot at byte {offset} holds other data; --force overwrites it")]
    SlotInUse {
        /// The slot's offset.
        offset: usize,
    },
    /// Reading or writing the image failed.
    #[cfg(not(rootseal_freestanding))]
    #[error("{context}: {source}")]
    Io {
        /// What failed.
        context: alloc::string::String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// True when `bytes` is a hash GRUB would use: exactly 64 characters of `[0-9a-f]`.
pub fn is_usrhash(bytes: &[u8]) -> bool {
    bytes.len() == USRHASH_LEN && bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// The format of `header`: `arch` when given (which must then match), else the one its
/// magic says.
pub fn resolve_arch(header: &[u8], arch: Option<KernelArch>) -> Result<KernelArch, UsrHashError> {
    match arch {
        Some(arch) if arch.matches(header) => Ok(arch),
        Some(arch) => Err(UsrHashError::WrongArch { arch }),
        None => KernelArch::detect(header).ok_or(UsrHashError::NotAKernel),
    }
}

/// What the slot of format `arch` holds in `header` (the image's first bytes).
pub fn slot(header: &[u8], arch: KernelArch) -> Result<Slot<'_>, UsrHashError> {
    let at = arch.usrhash_offset();
    let bytes = header
        .get(at..at + USRHASH_LEN)
        .ok_or(UsrHashError::TooShort { len: header.len() as u64, needed: at + USRHASH_LEN })?;
    Ok(if bytes.iter().all(|&b| b == 0) {
        Slot::Empty
    } else if is_usrhash(bytes) {
        // All ASCII hex, so always UTF-8.
        core::str::from_utf8(bytes).map_or(Slot::Foreign, Slot::Hash)
    } else {
        Slot::Foreign
    })
}

/// The format of `header` (`arch`, or the one its magic says) and the hash GRUB would
/// read from it. With `arch` given, the slot is read whatever the magic, as GRUB reads it
/// from the kernel it has loaded.
pub fn find(header: &[u8], arch: Option<KernelArch>) -> Result<(KernelArch, Option<&str>), UsrHashError> {
    let arch = match arch {
        Some(arch) => arch,
        None => KernelArch::detect(header).ok_or(UsrHashError::NotAKernel)?,
    };
    Ok((arch, read(header, arch)?))
}

/// The hash GRUB would read from `header`, or None when it would add nothing.
pub fn read(header: &[u8], arch: KernelArch) -> Result<Option<&str>, UsrHashError> {
    Ok(match slot(header, arch)? {
        Slot::Hash(hash) => Some(hash),
        Slot::Empty | Slot::Foreign => None,
    })
}

/// What GRUB appends to the kernel command line for `header`: ` verity.usrhash=<hash>`,
/// or None when the slot holds no hash.
pub fn cmdline_suffix(header: &[u8], arch: KernelArch) -> Result<Option<alloc::string::String>, UsrHashError> {
    Ok(read(header, arch)?.map(|hash| alloc::format!("{CMDLINE_KEY}{hash}")))
}

/// Checks a write of `hash` into the image whose first bytes are `header`, and returns
/// the format and the byte offset to write the 64 characters at. The image must carry
/// the magic of its format (of `arch`, when given); the slot must be empty or hold a
/// hash, unless `force`.
pub fn plan_write(
    header: &[u8],
    arch: Option<KernelArch>,
    hash: &str,
    force: bool,
) -> Result<(KernelArch, usize), UsrHashError> {
    if !is_usrhash(hash.as_bytes()) {
        return Err(UsrHashError::InvalidHash(hash.into()));
    }
    let arch = resolve_arch(header, arch)?;
    match slot(header, arch)? {
        Slot::Foreign if !force => Err(UsrHashError::SlotInUse { offset: arch.usrhash_offset() }),
        _ => Ok((arch, arch.usrhash_offset())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn image(arch: KernelArch) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        let (at, magic) = arch.magic();
        header[at..at + 4].copy_from_slice(magic);
        header
    }

    #[test]
    fn grub_rule_is_64_lowercase_hex_characters() {
        assert!(is_usrhash(HASH.as_bytes()));
        assert!(!is_usrhash(HASH.to_uppercase().as_bytes()));
        assert!(!is_usrhash(&HASH.as_bytes()[..63]));
        let mut with_g = HASH.as_bytes().to_vec();
        with_g[10] = b'g';
        assert!(!is_usrhash(&with_g));
        let mut with_nul = HASH.as_bytes().to_vec();
        with_nul[63] = 0;
        assert!(!is_usrhash(&with_nul));
    }

    #[test]
    fn slots_read_and_plan_for_both_formats() {
        for arch in KernelArch::ALL {
            let mut header = image(arch);
            assert_eq!(KernelArch::detect(&header), Some(arch));
            assert_eq!(slot(&header, arch).unwrap(), Slot::Empty);
            assert_eq!(cmdline_suffix(&header, arch).unwrap(), None);
            let (found, at) = plan_write(&header, None, HASH, false).unwrap();
            assert_eq!((found, at), (arch, arch.usrhash_offset()));
            header[at..at + 64].copy_from_slice(HASH.as_bytes());
            assert_eq!(read(&header, arch).unwrap(), Some(HASH));
            assert_eq!(cmdline_suffix(&header, arch).unwrap().unwrap(), alloc::format!(" verity.usrhash={HASH}"));
            header[at] = b'A';
            assert_eq!(slot(&header, arch).unwrap(), Slot::Foreign);
            assert!(matches!(plan_write(&header, None, HASH, false), Err(UsrHashError::SlotInUse { .. })));
            assert!(plan_write(&header, Some(arch), HASH, true).is_ok());
        }
    }

    #[test]
    fn bad_images_and_hashes_are_refused() {
        let blank = [0u8; HEADER_LEN];
        assert!(matches!(plan_write(&blank, None, HASH, false), Err(UsrHashError::NotAKernel)));
        let x86 = image(KernelArch::X86_64);
        assert!(matches!(
            plan_write(&x86, Some(KernelArch::Arm64), HASH, true),
            Err(UsrHashError::WrongArch { arch: KernelArch::Arm64 })
        ));
        assert!(matches!(plan_write(&x86, None, &HASH.to_uppercase(), false), Err(UsrHashError::InvalidHash(_))));
        assert!(matches!(
            slot(&x86[..600.min(HEADER_LEN) - 100], KernelArch::Arm64),
            Err(UsrHashError::TooShort { .. })
        ));
    }
}

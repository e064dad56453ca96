//! GPT GUIDs: stored mixed-endian (the first three fields little-endian, the last eight
//! bytes as written), shown in the usual lowercase text form.

use super::Error;
use crate::text::Uuid;
use alloc::string::ToString;
use core::fmt;
use core::str::FromStr;

/// A GUID as it is stored in a GPT header or entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid([u8; 16]);

impl Guid {
    /// The all-zero GUID, which marks an unused partition entry.
    pub const ZERO: Guid = Guid([0; 16]);
    /// Flatcar (CoreOS) `/usr` partitions, the type gptprio and Flatcar's cgpt manage.
    pub const FLATCAR_USR: Guid = Guid::from_text_order([
        0x5d, 0xfb, 0xf5, 0xf4, 0x28, 0x48, 0x4b, 0xac, 0xaa, 0x5e, 0x0d, 0x9a, 0x20, 0xb7, 0x45, 0xa6,
    ]);
    /// Chrome OS kernel partitions, the only type upstream `cgpt prioritize` manages.
    pub const CHROMEOS_KERNEL: Guid = Guid::from_text_order([
        0xfe, 0x3a, 0x2a, 0x5d, 0x4f, 0x32, 0x41, 0xa7, 0xb7, 0x25, 0xac, 0xcc, 0x32, 0x85, 0xa3, 0x09,
    ]);

    /// Wraps 16 bytes in on-disk order.
    pub const fn from_disk_bytes(bytes: [u8; 16]) -> Self {
        Guid(bytes)
    }

    /// The 16 bytes in on-disk order.
    pub const fn to_disk_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Converts the bytes in the order the text form spells them (RFC 4122 order).
    const fn from_text_order(t: [u8; 16]) -> Self {
        Guid(Uuid(t).to_mixed_endian())
    }

    /// The GUID as a UUID in text order.
    pub const fn to_uuid(self) -> Uuid {
        Uuid::from_mixed_endian(self.0)
    }

    /// True for the GUID of an unused entry.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl FromStr for Guid {
    type Err = Error;
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, in either case.
    fn from_str(text: &str) -> Result<Self, Error> {
        let uuid = Uuid::parse(text).map_err(|_| Error::InvalidGuid(text.to_string()))?;
        Ok(Guid::from_text_order(uuid.0))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_uuid().fmt(f)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatcar_usr_type_is_stored_mixed_endian() {
        let expected = [0xf4, 0xf5, 0xfb, 0x5d, 0x48, 0x28, 0xac, 0x4b, 0xaa, 0x5e, 0x0d, 0x9a, 0x20, 0xb7, 0x45, 0xa6];
        assert_eq!(Guid::FLATCAR_USR.to_disk_bytes(), expected);
        assert_eq!(Guid::FLATCAR_USR.to_string(), "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6");
        assert_eq!("5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6".parse::<Guid>().unwrap(), Guid::FLATCAR_USR);
        assert_eq!(Guid::CHROMEOS_KERNEL.to_string(), "fe3a2a5d-4f32-41a7-b725-accc3285a309");
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in ["", "5dfbf5f4", "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a", "5dfbf5f4-2848-4bac-aa5e-0d9a20b745ag"] {
            assert!(matches!(bad.parse::<Guid>(), Err(Error::InvalidGuid(_))), "{bad}");
        }
    }
}

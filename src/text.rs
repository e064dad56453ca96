//! Text forms shared by every job: hex, UUIDs, and the mixed-endian byte order GPT
//! stores GUIDs in.
//!
//! Pure logic on `core` and `alloc` only, so the freestanding boot library builds it too.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Hex text with an odd number of digits.
    #[error("odd number of hex digits ({0})")]
    OddHexLength(usize),
    /// A character that is not a hex digit.
    #[error("{0:?} is not a hex digit")]
    NotHexDigit(char),
    /// Not the 8-4-4-4-12 UUID form.
    #[error("invalid UUID {0:?}: expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")]
    InvalidUuid(String),
}

/// Lowercase hex of a byte string.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The value of one hex digit, either case.
pub const fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex, accepting either case.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, Error> {
    if !text.len().is_multiple_of(2) {
        return Err(Error::OddHexLength(text.len()));
    }
    let nibble = |c: u8| hex_digit(c).ok_or(Error::NotHexDigit(c as char));
    text.as_bytes().chunks_exact(2).map(|pair| Ok((nibble(pair[0])? << 4) | nibble(pair[1])?)).collect()
}

/// A 16-byte UUID in RFC 4122 byte order (the hex digits in textual order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Parses the 8-4-4-4-12 textual form, case-insensitively.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidUuid(String::from(text));
        let mut out = [0u8; 16];
        let mut groups = text.split('-');
        let mut at = 0;
        for len in [8, 4, 4, 4, 12] {
            let group = groups.next().filter(|g| g.len() == len).ok_or_else(bad)?;
            for pair in group.as_bytes().chunks_exact(2) {
                let (Some(hi), Some(lo)) = (hex_digit(pair[0]), hex_digit(pair[1])) else {
                    return Err(bad());
                };
                out[at] = (hi << 4) | lo;
                at += 1;
            }
        }
        if groups.next().is_some() {
            return Err(bad());
        }
        Ok(Uuid(out))
    }

    /// A version-4 (random) UUID made of `random` bytes, as `uuid_generate()` makes one
    /// for veritysetup: the version and variant bits are set, the rest is taken as given.
    pub const fn from_random_bytes(random: [u8; 16]) -> Self {
        let mut bytes = random;
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Uuid(bytes)
    }

    /// The bytes as GPT stores a GUID: the first three fields little-endian, the last
    /// eight bytes as written. The swap is its own inverse, so this also reads them back
    /// (see [`from_mixed_endian`](Self::from_mixed_endian)).
    pub const fn to_mixed_endian(self) -> [u8; 16] {
        let t = self.0;
        [t[3], t[2], t[1], t[0], t[5], t[4], t[7], t[6], t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15]]
    }

    /// The UUID GPT's mixed-endian `bytes` stand for.
    pub const fn from_mixed_endian(bytes: [u8; 16]) -> Self {
        Uuid(Uuid(bytes).to_mixed_endian())
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn hex_round_trips_and_refuses_bad_digits() {
        assert_eq!(encode_hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode_hex("00ABff").unwrap(), [0x00, 0xab, 0xff]);
        assert_eq!(decode_hex("abc"), Err(Error::OddHexLength(3)));
        assert_eq!(decode_hex("zz"), Err(Error::NotHexDigit('z')));
        assert_eq!(decode_hex("zz").unwrap_err().to_string(), "'z' is not a hex digit");
    }

    #[test]
    fn uuid_text_form() {
        let text = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6";
        let uuid = Uuid::parse(&text.to_uppercase()).unwrap();
        assert_eq!(uuid.to_string(), text);
        for bad in ["", "5dfbf5f4", "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a", "5dfbf5f4-2848-4bac-aa5e-0d9a20b745ag"] {
            assert!(matches!(Uuid::parse(bad), Err(Error::InvalidUuid(_))), "{bad}");
        }
        assert!(Uuid::parse("5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6-00").is_err());
        assert!(Uuid::parse("5dfbf5f4-2848-4bac-aa5e0-d9a20b745a6").is_err());
    }

    #[test]
    fn random_uuids_carry_version_4_and_the_rfc_variant() {
        let uuid = Uuid::from_random_bytes([0xff; 16]);
        assert_eq!(uuid.0[6] >> 4, 4);
        assert_eq!(uuid.0[8] >> 6, 0b10);
    }

    #[test]
    fn mixed_endian_swaps_the_first_three_fields() {
        let uuid = Uuid::parse("5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6").unwrap();
        let disk = uuid.to_mixed_endian();
        assert_eq!(disk[..8], [0xf4, 0xf5, 0xfb, 0x5d, 0x48, 0x28, 0xac, 0x4b]);
        assert_eq!(disk[8..], uuid.0[8..]);
        assert_eq!(Uuid::from_mixed_endian(disk), uuid);
    }
}

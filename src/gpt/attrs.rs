//! The partition attribute word (the u64 at entry offset 48) and the cgpt A/B fields
//! inside it: priority in bits 48–51, tries in bits 52–55, successful in bit 56.
//! Every other bit belongs to someone else and is carried through untouched.

use super::Error;

bitflags::bitflags! {
    /// The attribute bits with a meaning outside the cgpt scheme. Unknown bits are kept
    /// (`from_bits_retain`), never dropped.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AttrFlags: u64 {
        /// Bit 0: required by the platform; must not be deleted.
        const REQUIRED = 1 << 0;
        /// Bit 1: firmware must not expose a block-I/O protocol for it.
        const NO_BLOCK_IO = 1 << 1;
        /// Bit 2: legacy BIOS bootable.
        const LEGACY_BIOS_BOOTABLE = 1 << 2;
        /// Bit 60: read-only (Microsoft / Discoverable Partitions convention).
        const READ_ONLY = 1 << 60;
        /// Bit 63: do not mount automatically.
        const NO_AUTOMOUNT = 1 << 63;
    }
}

const PRIORITY_SHIFT: u32 = 48;
const TRIES_SHIFT: u32 = 52;
const SUCCESSFUL_SHIFT: u32 = 56;
const NIBBLE: u64 = 0xf;

/// The largest priority or tries value the 4-bit fields hold.
pub const MAX_NIBBLE: u8 = 15;

/// A partition's attribute word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attributes(pub u64);

impl Attributes {
    /// Boot priority, 0–15; 0 means "never boot".
    pub fn priority(self) -> u8 {
        ((self.0 >> PRIORITY_SHIFT) & NIBBLE) as u8
    }
    /// Boot attempts left, 0–15.
    pub fn tries(self) -> u8 {
        ((self.0 >> TRIES_SHIFT) & NIBBLE) as u8
    }
    /// Whether the slot has booted successfully.
    pub fn successful(self) -> bool {
        (self.0 >> SUCCESSFUL_SHIFT) & 1 == 1
    }
    /// The fixed-meaning bits, unknown ones included.
    pub fn flags(self) -> AttrFlags {
        AttrFlags::from_bits_retain(self.0)
    }
    /// A slot gptprio or cgpt firmware may pick: tries left or known good.
    pub fn is_bootable(self) -> bool {
        self.tries() > 0 || self.successful()
    }

    /// Replaces the priority, refusing values above 15.
    pub fn with_priority(self, priority: u8) -> Result<Self, Error> {
        Ok(self.with_nibble(PRIORITY_SHIFT, checked("priority", priority)?))
    }
    /// Replaces tries, refusing values above 15.
    pub fn with_tries(self, tries: u8) -> Result<Self, Error> {
        Ok(self.with_nibble(TRIES_SHIFT, checked("tries", tries)?))
    }
    /// Replaces the successful bit.
    pub fn with_successful(self, successful: bool) -> Self {
        Attributes((self.0 & !(1 << SUCCESSFUL_SHIFT)) | (u64::from(successful) << SUCCESSFUL_SHIFT))
    }

    fn with_nibble(self, shift: u32, value: u8) -> Self {
        Attributes((self.0 & !(NIBBLE << shift)) | (u64::from(value) << shift))
    }
}

fn checked(field: &'static str, value: u8) -> Result<u8, Error> {
    if value > MAX_NIBBLE {
        return Err(Error::ValueOutOfRange { field, value: value.into(), max: MAX_NIBBLE.into() });
    }
    Ok(value)
}

/// A `cgpt add -P -T -S` request: any subset of the three fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttrChange {
    /// New priority (0–15).
    pub priority: Option<u8>,
    /// New tries (0–15).
    pub tries: Option<u8>,
    /// New successful bit.
    pub successful: Option<bool>,
}

impl AttrChange {
    /// Checks the ranges without applying anything, so a bad request changes nothing.
    /// A change that names no field is refused: `set` with nothing to set is a mistake,
    /// not a no-op.
    pub fn validate(&self) -> Result<(), Error> {
        if self.priority.is_none() && self.tries.is_none() && self.successful.is_none() {
            return Err(Error::NothingToSet);
        }
        self.apply(Attributes::default()).map(|_| ())
    }

    /// The word with the requested fields replaced and every other bit kept.
    pub fn apply(&self, word: Attributes) -> Result<Attributes, Error> {
        let mut word = word;
        if let Some(priority) = self.priority {
            word = word.with_priority(priority)?;
        }
        if let Some(tries) = self.tries {
            word = word.with_tries(tries)?;
        }
        if let Some(successful) = self.successful {
            word = word.with_successful(successful);
        }
        Ok(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatcar_reference_words() {
        // A fresh update (P2 T1 S0) and a slot that booted well (P1 T0 S1).
        let update = AttrChange { priority: Some(2), tries: Some(1), successful: Some(false) };
        assert_eq!(update.apply(Attributes(0)).unwrap().0, 0x0012_0000_0000_0000);
        let good = AttrChange { priority: Some(1), tries: Some(0), successful: Some(true) };
        assert_eq!(good.apply(Attributes(0)).unwrap().0, 0x0101_0000_0000_0000);
        let word = Attributes(0x0101_0000_0000_0000);
        assert_eq!((word.priority(), word.tries(), word.successful()), (1, 0, true));
    }

    #[test]
    fn other_bits_survive_every_setter() {
        let foreign = AttrFlags::all().bits() | (1 << 57) | (1 << 62) | (0x5a << 8);
        let change = AttrChange { priority: Some(15), tries: Some(15), successful: Some(true) };
        let word = change.apply(Attributes(foreign)).unwrap();
        assert_eq!(word.0 & !(0x1ff << 48), foreign & !(0x1ff << 48));
        let cleared = AttrChange { priority: Some(0), tries: Some(0), successful: Some(false) }.apply(word).unwrap();
        assert_eq!(cleared.0, foreign);
        assert_eq!(cleared.flags(), AttrFlags::from_bits_retain(foreign));
    }

    #[test]
    fn out_of_range_values_are_refused_not_clamped() {
        assert!(matches!(AttrChange::default().validate(), Err(Error::NothingToSet)));
        let err = AttrChange { priority: Some(16), ..Default::default() }.validate().unwrap_err();
        assert!(matches!(err, Error::ValueOutOfRange { field: "priority", value: 16, max: 15 }));
        let err = Attributes(0).with_tries(200).unwrap_err();
        assert!(matches!(err, Error::ValueOutOfRange { field: "tries", value: 200, .. }));
    }
}

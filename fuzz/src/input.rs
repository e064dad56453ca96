//! A cursor over fuzz input that never fails: past the end it yields zeros, so every
//! input, however short, is a complete test case.

/// Reads fixed-size values and slices off the front of the input.
pub struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    /// Wraps the bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        Input(bytes)
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.0.len())
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }

    /// One byte, 0 at the end.
    pub fn byte(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// A length-prefixed slice: one byte of length, then up to that many bytes.
    pub fn short_slice(&mut self) -> &'a [u8] {
        let len = self.byte() as usize;
        self.take(len)
    }
}

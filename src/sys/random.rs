//! The operating system's random source.

/// Fills `buf` from the system random source (`getrandom(2)`).
pub(crate) fn fill(buf: &mut [u8]) -> std::io::Result<()> {
    getrandom::fill(buf).map_err(|e| std::io::Error::other(e.to_string()))
}

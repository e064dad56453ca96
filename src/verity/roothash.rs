//! Root hashes as text: command-line arguments and `--root-hash-file` files.

use super::error::{Error, HexInput, Result};
use super::params::{HashAlgorithm, check_digest_length};
use crate::text::{decode_hex, encode_hex};
use std::path::Path;

/// Parses a root hash given as hex (either case) and checks its length.
pub fn parse_root_hash(text: &str, algorithm: HashAlgorithm) -> Result<Vec<u8>> {
    let bytes = decode_hex(text).map_err(|e| Error::InvalidHex { what: HexInput::RootHash, reason: e.to_string() })?;
    check_digest_length(algorithm, bytes.len())?;
    Ok(bytes)
}

/// Reads a root hash file. The format is the lowercase hex with no newline; a single
/// trailing newline is tolerated because veritysetup tolerates it too.
pub fn read_root_hash_file(path: &Path, algorithm: HashAlgorithm) -> Result<Vec<u8>> {
    let io_err = |e| Error::io(format!("reading root hash file {}", path.display()), e);
    let max = algorithm.digest_size() as u64 * 2 + 1;
    // Read at most one byte more than a valid file holds: a pipe or /dev/zero has no
    // length to check up front.
    let bytes = crate::sys::file::read_at_most(path, max).map_err(io_err)?;
    if bytes.len() as u64 > max {
        return Err(Error::InvalidHex { what: HexInput::RootHashFile, reason: format!("more than {max} bytes") });
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::InvalidHex { what: HexInput::RootHashFile, reason: "not text".into() })?;
    parse_root_hash(text.strip_suffix('\n').unwrap_or(&text), algorithm)
}

/// Checks, before anything is written, that [`write_root_hash_file`] can write `path`: it
/// is missing (and will be created) or a regular file. A FIFO, a device or a directory is
/// refused, so that a format never builds a tree whose root hash then has nowhere to go.
pub fn check_root_hash_file_target(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path).and_then(|_| std::fs::metadata(path)) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(Error::InvalidParameter(format!(
            "root hash file {} is not a regular file or a block device (pipes, FIFOs, sockets and character devices are refused)",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("checking root hash file {}", path.display()), e)),
    }
}

/// Writes the root hash as lowercase hex with no newline, like `veritysetup
/// --root-hash-file` (and, like it, creates the file owner-only).
pub fn write_root_hash_file(path: &Path, root_hash: &[u8]) -> Result<()> {
    use std::io::Write;
    let io_err = |e| Error::io(format!("writing root hash file {}", path.display()), e);
    let mut file = crate::sys::file::open(path, crate::sys::file::Access::WriteTruncate).map_err(io_err)?;
    file.write_all(encode_hex(root_hash).as_bytes()).map_err(io_err)
}

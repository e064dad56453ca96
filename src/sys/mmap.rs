//! Read-only file mappings.

/// Maps a file read-only. Kept here because `Mmap::map` is `unsafe`: the mapping is
/// undefined behaviour only if the file is truncated while mapped. rootseal never
/// truncates, and treats the mapped bytes as untrusted input whatever they contain.
pub(crate) fn map_readonly(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // A block device's metadata length is 0, so the length is given explicitly.
    let len = usize::try_from(super::file::device_size(file)?).map_err(std::io::Error::other)?;
    // No MAP_POPULATE: it maps every page on this one thread before any hashing starts
    // (about 50 ms per GiB here) and would make the whole image resident; faulting pages
    // in from the worker threads overlaps with hashing, and `release_mapped` drops them.
    // SAFETY: see above; the map's lifetime is tied to the MappedFile that owns it.
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Drops a range of a read-only file mapping from the resident set (`MADV_DONTNEED`).
/// Failure only costs memory, so it is ignored.
pub(crate) fn release_mapped(map: &memmap2::Mmap, offset: usize, len: usize) {
    if offset.checked_add(len).is_none_or(|end| end > map.len()) {
        return;
    }
    // SAFETY: on a shared, read-only file mapping DONTNEED only drops page-table entries;
    // the next access faults the same page-cache bytes back in, so slices other threads
    // hold into the range stay valid and see unchanged contents.
    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
}

//! Cold data (issue 17): an image that is not in the page cache is streamed past it, in
//! order, by reader threads with direct I/O, ahead of the hashing. Here, on a file, on a
//! loop device with direct I/O (a partition as the update agent sees it), and with the
//! tree in the data's own file: the trees are veritysetup's byte for byte, the verdicts
//! are veritysetup's, a flipped bit is named, and the page cache holds no more of the
//! image afterwards than before (which is how the test knows the streamed path ran:
//! buffered reads would have left the whole image cached). Needs root (eviction, loop
//! devices); fails rather than skips without.

use crate::common::{describe, parse_root_hash, pseudo_random, veritysetup};
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Output};

const SALT: &str = "5a17";
const UUID: &str = "0b6f1c4e-2a3d-4e5f-8a9b-0c1d2e3f4a5b";

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    let program = program.as_ref();
    Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program:?}: {e}"))
}

fn ok(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    let out = run(&program, args);
    assert!(out.status.success(), "{:?} {args:?}:\n{}", program.as_ref(), describe(&out));
    out
}

fn rootseal(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_rootseal"), args)
}

/// Writes the file back and drops its pages (`POSIX_FADV_DONTNEED`, through dd).
fn evict(path: &Path) {
    OpenOptions::new().read(true).open(path).unwrap().sync_all().unwrap();
    ok("dd", &[&format!("if={}", path.display()), "iflag=nocache", "count=0", "status=none"]);
}

/// Bytes of `path` in the page cache now (util-linux fincore).
fn cached_bytes(path: &Path) -> u64 {
    let out = ok("fincore", &["--bytes", "--noheadings", "--output", "RES", path.to_str().unwrap()]);
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("fincore said {}", describe(&out)))
}

/// The most the page cache may grow by during a cold run: the probe's read-ahead. A
/// buffered read would add the whole image (12 MiB or more).
const CACHE_GROWTH_ALLOWED: u64 = 6 << 20;

struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["--detach", &self.0]).status();
    }
}

/// The hash file veritysetup writes for `data` with these options, and its root hash.
fn peer_tree(data: &str, hash: &Path, extra: &[&str]) -> (Vec<u8>, String) {
    let mut args = vec!["format", data, hash.to_str().unwrap(), "--salt", SALT, "--uuid", UUID];
    args.extend(extra);
    let out = ok(veritysetup(), &args);
    (std::fs::read(hash).unwrap(), parse_root_hash(&out.stdout))
}

/// Format and verify with the data cold, on 1 and 2 threads: the peer's bytes, and the
/// image's page cache (when `cached` can measure it) grown by no more than the probe's
/// read-ahead.
fn check_cold_format_and_verify(
    data: &str,
    evict_data: &dyn Fn(),
    cached: Option<&dyn Fn() -> u64>,
    extra: &[&str],
    dir: &Path,
) {
    let cache = || cached.map_or(0, |measure| measure());
    let (peer_bytes, peer_root) = peer_tree(data, &dir.join("peer.hash"), extra);
    for threads in ["1", "2"] {
        let hash = dir.join(format!("cold{threads}.hash"));
        evict_data();
        let before = cache();
        let mut args = vec!["verity", "format", data, hash.to_str().unwrap(), "--salt", SALT, "--uuid", UUID];
        args.extend(extra);
        args.extend(["--threads", threads]);
        let out = rootseal(&args);
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(parse_root_hash(&out.stdout), peer_root, "{threads} thread(s)");
        assert!(std::fs::read(&hash).unwrap() == peer_bytes, "{threads} thread(s): the hash file is not veritysetup's");
        let grown = cache().saturating_sub(before);
        assert!(grown <= CACHE_GROWTH_ALLOWED, "{threads} thread(s): format cached {grown} bytes: not streamed");

        evict_data();
        let before = cache();
        let out = rootseal(&["verity", "verify", data, hash.to_str().unwrap(), &peer_root, "--threads", threads]);
        assert!(out.status.success(), "{}", describe(&out));
        let grown = cache().saturating_sub(before);
        assert!(grown <= CACHE_GROWTH_ALLOWED, "{threads} thread(s): verify cached {grown} bytes: not streamed");
    }
}

/// A flipped bit in a cold image: rootseal names the block (1 and 2 threads) and the
/// peer refuses the image too.
fn check_cold_flip(data: &str, image: &Path, at: u64, block: u64, evict_data: &dyn Fn(), dir: &Path) {
    let hash = dir.join("cold1.hash");
    let root = parse_root_hash(&ok(veritysetup(), &["format", data, hash.to_str().unwrap(), "--salt", SALT]).stdout);
    let file = OpenOptions::new().read(true).write(true).open(image).unwrap();
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, at).unwrap();
    file.write_all_at(&[byte[0] ^ 0x08], at).unwrap();
    drop(file);
    for threads in ["1", "2"] {
        evict_data();
        let out = rootseal(&["verity", "verify", data, hash.to_str().unwrap(), &root, "--threads", threads]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.lines().any(|l| l == format!("corrupted data block {block}")), "{threads} thread(s): {report}");
    }
    assert!(!run(veritysetup(), &["verify", data, hash.to_str().unwrap(), &root]).status.success());
}

#[test]
fn a_cold_file_gives_the_peers_tree_and_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("data.img");
    // 12 runs of 2 MiB and a short one.
    std::fs::write(&image, pseudo_random(17, 25 << 20)).unwrap();
    let data = image.to_str().unwrap();
    let evict_data = || evict(&image);
    check_cold_format_and_verify(data, &evict_data, Some(&|| cached_bytes(&image)), &[], dir.path());
    check_cold_flip(data, &image, (5000 << 12) + 77, 5000, &evict_data, dir.path());
}

/// 512-byte data blocks, SHA-512, and an image whose size is not a whole number of
/// pages: the last direct read runs past the end of the file and comes back short.
#[test]
fn a_cold_file_of_small_blocks_and_an_odd_size_gives_the_peers_tree() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("data.img");
    std::fs::write(&image, pseudo_random(18, (12 << 20) + 3 * 512)).unwrap();
    let data = image.to_str().unwrap();
    let evict_data = || evict(&image);
    let extra = ["--data-block-size", "512", "--hash", "sha512"];
    check_cold_format_and_verify(data, &evict_data, Some(&|| cached_bytes(&image)), &extra, dir.path());
}

/// A loop device with direct I/O on its backing file: no second page cache under it,
/// as a partition. Evicted with BLKFLSBUF (blockdev --flushbufs) before each run. The
/// cache is not measured here: fincore cannot see a device node's, and /proc/meminfo's
/// Buffers does not move on these kernels; the probe and the streamed path are the
/// file's (FileReader is one type for both), measured above.
#[test]
fn a_cold_block_device_gives_the_peers_tree_and_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::write(&image, pseudo_random(19, 20 << 20)).unwrap();
    let attached = ok("losetup", &["--find", "--show", "--direct-io=on", image.to_str().unwrap()]);
    let dev = Loop(String::from_utf8(attached.stdout).unwrap().trim().to_string());
    let evict_data = || {
        evict(&image);
        ok("blockdev", &["--flushbufs", &dev.0]);
    };
    check_cold_format_and_verify(&dev.0, &evict_data, None, &[], dir.path());
    check_cold_flip(&dev.0, &image, (4097 << 12) + 1, 4097, &evict_data, dir.path());
}

/// The tree after the data in one file (`--hash-offset`), the data cold: the data is
/// streamed while the tree is written into the same file.
#[test]
fn a_cold_image_with_its_tree_inside_gives_the_peers_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data_len = 14u64 << 20;
    let offset = data_len.to_string();
    let ours = dir.path().join("ours.img");
    let peer = dir.path().join("peer.img");
    let bytes = pseudo_random(20, data_len as usize);
    std::fs::write(&ours, &bytes).unwrap();
    std::fs::write(&peer, &bytes).unwrap();
    let (o, p) = (ours.to_str().unwrap(), peer.to_str().unwrap());
    let peer_out = ok(veritysetup(), &["format", p, p, "--salt", SALT, "--uuid", UUID, "--hash-offset", &offset]);
    evict(&ours);
    let out = rootseal(&["verity", "format", o, o, "--salt", SALT, "--uuid", UUID, "--hash-offset", &offset]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(parse_root_hash(&out.stdout), parse_root_hash(&peer_out.stdout));
    assert!(std::fs::read(&ours).unwrap() == std::fs::read(&peer).unwrap(), "the image is not veritysetup's");
    evict(&ours);
    let root = parse_root_hash(&out.stdout);
    let out = rootseal(&["verity", "verify", o, o, &root, "--hash-offset", &offset]);
    assert!(out.status.success(), "{}", describe(&out));
}

/// A sparse image, cold: runs that are wholly a hole are zeros written in memory (no
/// read), runs partly a hole are read; the peer's tree either way, and a flip in data
/// next to a hole is named.
#[test]
fn a_cold_sparse_file_gives_the_peers_tree() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("sparse.img");
    let file = std::fs::File::create(&image).unwrap();
    file.set_len(24 << 20).unwrap();
    // Data inside run 1 (a run partly a hole), all of run 5, and the image's last block.
    file.write_all_at(&pseudo_random(21, 300 << 10), (2 << 20) + (64 << 10)).unwrap();
    file.write_all_at(&pseudo_random(22, 2 << 20), 10 << 20).unwrap();
    file.write_all_at(&pseudo_random(23, 4096), (24 << 20) - 4096).unwrap();
    drop(file);
    let data = image.to_str().unwrap();
    let evict_data = || evict(&image);
    check_cold_format_and_verify(data, &evict_data, Some(&|| cached_bytes(&image)), &[], dir.path());
    check_cold_flip(data, &image, (2 << 20) + (64 << 10) + 9, 528, &evict_data, dir.path());
}

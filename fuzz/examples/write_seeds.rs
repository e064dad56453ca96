//! Writes the seed corpora in fuzz/seeds/. Run it through `scripts/write-fuzz-seeds.sh`
//! (`cargo run --example write_seeds [-- --new-key]` in fuzz/).
//!
//! Without arguments it rewrites the seeds that follow from the code alone
//! (`verity_superblock`, `verity_verify`, `gpt_read`, `gpt_ops`, `c_api`): on an unchanged
//! tree no byte changes. `--new-key` also makes a new payload test key
//! (fuzz/keys/payload-test.pub.pem, whose private half is thrown away) and rewrites the
//! seeds signed by it or holding fresh keys (`crau_payload`, `keys`), which then differ
//! on every run.
//!
//! The keys, signatures and certificates come from the openssl CLI through the test
//! suite's helpers (tests/sig_support); the fixtures from this crate's checks, which
//! tests/robustness/fuzz_replay.rs replays.

#[path = "../../tests/sig_support/mod.rs"]
mod sig_support;

use rootseal_fuzz::{gpt_image, verity_verify};
use std::path::{Path, PathBuf};

fn main() {
    let new_key = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => false,
        [flag] if flag == "--new-key" => true,
        _ => {
            eprintln!("usage: write_seeds [--new-key]");
            std::process::exit(2);
        }
    };
    write_seeds();
    if new_key {
        write_key_seeds();
    }
    write_c_api_seeds();
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// A private scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        use std::os::unix::fs::DirBuilderExt;
        let path = std::env::temp_dir().join(format!("rootseal-fuzz-seeds-{}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path).unwrap();
        Scratch(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_seed(target: &str, name: &str, bytes: &[u8]) {
    let dir = fuzz_dir().join("seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn with_control(control: u8, body: &[u8]) -> Vec<u8> {
    [&[control][..], body].concat()
}

/// The verity and GPT seeds: they follow from the code in src/ alone.
fn write_seeds() {
    let geometries = verity_verify::geometries();
    let superblock = &geometries[1].hash_device[..512];
    write_seed("verity_superblock", "sha512-chromeos", &with_control(0, superblock));
    write_seed("verity_superblock", "with-options", &with_control(0x1e, superblock));
    write_seed("verity_superblock", "at-512", &with_control(1, &[&[0u8; 512][..], superblock].concat()));

    write_seed("verity_verify", "sha256-plain", &with_control(0, &geometries[0].hash_device));
    write_seed("verity_verify", "sha512-superblock", &with_control(1, &geometries[1].hash_device));
    write_seed("verity_verify", "patched-leaf", &with_control(2, &[0x10, 0x02, 0x01]));
    write_seed("verity_verify", "patched-superblock", &with_control(3, &[0x48, 0x00, 0x02, 0x00, 0x06, 0x80]));

    write_seed("gpt_read", "template-512", &with_control(0, &gpt_image::template(512)));
    write_seed("gpt_read", "template-4096", &with_control(1, &gpt_image::template(4096)));
    // Patch mode: an attribute byte of the primary array, then CRCs fixed.
    write_seed("gpt_read", "patched-512", &with_control(6, &[1, 0x36, 0x05, 0, 0x40]));
    write_seed("gpt_read", "grown-4096", &with_control(7, &[3, 5, 0, 0]));
    write_seed("gpt_read", "primary-header-cut", &with_control(2, &[0, 0x10, 0x02, 0, 2, 0xff, 0xff]));

    // set, prioritize, next, mark-update, mark-good, invalidate, repair, damage + next.
    let ops = [0, 7, 3, 2, 4, 1, 3, 1, 0, 2, 0, 3, 3, 0, 4, 4, 0, 5, 4, 6, 1, 7, 0, 0, 0, 1, 2, 0, 7, 2, 9, 0, 1, 2, 0];
    write_seed("gpt_ops", "sequence-512", &with_control(0, &ops));
    write_seed("gpt_ops", "sequence-4096", &with_control(1, &ops));
    let mut words = Vec::new();
    for i in 0..8u64 {
        words.extend_from_slice(&(0x0123_4567_89ab_cdefu64.rotate_left(8 * i as u32)).to_le_bytes());
    }
    write_seed("gpt_ops", "odd-attributes", &with_control(2, &[&words[..], &ops[..]].concat()));
}

/// A new payload test key (fuzz/keys/payload-test.pub.pem; the private half is thrown
/// away) and the seeds made with it or with other fresh keys: they differ on every run.
fn write_key_seeds() {
    use sig_support::*;
    let dir = Scratch::new();
    let key = genkey(dir.path(), "payload-test", "rsa:2048");
    std::fs::copy(&key.public, fuzz_dir().join("keys/payload-test.pub.pem")).unwrap();
    for major in [1, 2] {
        let built = crau::build_payload(dir.path(), &format!("v{major}"), major, b"payload data", &[&key], 256);
        write_seed("crau_payload", &format!("signed-v{major}"), &with_control(1, &built.bytes));
    }

    let public_pem = std::fs::read(&key.public).unwrap();
    write_seed("keys", "rsa-spki-pem", &with_control(0, &public_pem));
    let der = openssl(&["pkey", "-pubin", "-in", s(&key.public), "-outform", "DER"]);
    write_seed("keys", "rsa-spki-der", &with_control(0, &der));
    let pkcs1 = openssl(&["rsa", "-pubin", "-in", s(&key.public), "-RSAPublicKey_out"]);
    write_seed("keys", "rsa-pkcs1-pem", &with_control(0, &pkcs1));
    let ec = genkey(dir.path(), "ec", "ec:P-256");
    let cert = std::fs::read(self_signed_cert(dir.path(), &ec, "fuzz")).unwrap();
    write_seed("keys", "ec-cert-and-rsa-key", &with_control(0, &[&cert[..], &public_pem[..]].concat()));
    let private = std::fs::read(&ec.private).unwrap();
    let split = (cert.len() as u16).to_le_bytes();
    write_seed("keys", "sign-cert-key", &with_control(1, &[&split[..], &cert[..], &private[..]].concat()));
}

/// The `c_api` seeds (no key changes).
fn write_c_api_seeds() {
    // open, state, partition, set, prioritize, next, mark, invalidate, repair, verity
    // verify and format, a key, a buffer signature, strerror, a root-hash signature, close.
    let calls: Vec<u8> = [
        &[0u8, 1, 0, 1, 1, 1, 1, 1][..],
        &[1],
        &[2, 3, 0, 0, 0],
        &[3, 1, 7, 5, 2, 1, 1, 1, 1, 3],
        &[4, 1, 1, 3, 0, 0, 1],
        &[5, 1, 1],
        &[6, 2, 3],
        &[0x46, 1, 4],
        &[7, 5],
        &[8, 1],
        &verity_call(10, &[0]),
        &verity_call(10, &[1, 1, 1, 16, 0, 32, 0, 1]),
        &verity_call(11, &[0, 0, 1, 0, 0, 1, 1, 1, 2, 0, 2, 0]),
        &[12, 0, 4, 1, 2, 3, 4],
        &[13, 1, 0, 3, 1, 1, 3, b'a', b'b', b'c', 8, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[14, 0xf9, 0xff, 0xff, 0xff],
        &[15, 4, b'a', b'b', b'c', b'd', 4, 0, 1, 2, 3, 4],
        &[9],
        &[1],
    ]
    .concat();
    write_seed("c_api", "every-call-512", &with_control(0, &calls));
    write_seed("c_api", "every-call-4096", &with_control(1, &calls));

    // Kind 14 with bit 4: open a disk file, state, repair, a key file, a file signature,
    // a payload file and buffer, verity verify and format by path, the portable backend
    // and a verify on it, a FIPS context (real when ROOTSEAL_FIPS_CONFIG is set) replacing
    // the session's, and a buffer signature in it.
    let verity_by_path =
        |flags: u8, hash_path: u8| [&[0x1e, 4, flags][..], &GEOMETRY_0, &[4, 0, 0x20, 0, hash_path]].concat();
    let payload = |flags: u8| {
        // Sig params, Omaha figures, 16 bytes of payload, and a path when from a file.
        let path: &[u8] = if flags & 2 != 0 { &[4] } else { &[] };
        [&[0x1e, 3, flags, 1, 0, 0, 0, 1][..], &[0; 8], &[1, 1, 0, 16, 0, 1, 16, 0], b"CrAU", &[0; 12], path].concat()
    };
    let file_calls: Vec<u8> = [
        &[0x1e, 0, 4, 1, 1, 1, 1][..],
        &[1],
        &[8, 1],
        &[0x1e, 1, 4, 0, 1, 2, 3, 4, 4],
        &[0x1e, 2, 1, 1, 3, 1, 1, 3, 0, b'a', b'b', b'c', 4, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8],
        &payload(2),
        &payload(1),
        &verity_by_path(0, 4),
        &verity_by_path(2, 1),
        &[0x1e, 6, 0, 3],
        &verity_call(10, &[0]),
        &[0x1e, 5, 0x19, 4, 0, 1, 2, 3, 4, 4],
        &[13, 1, 0, 3, 1, 1, 3, b'a', b'b', b'c', 8, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    write_seed("c_api", "file-calls-512", &with_control(0, &file_calls));
}

/// Geometry 0 of the verity_verify target as `c_api` reads it: the salt (length, 8 ×
/// 0x5a), then params version 1, sha256, 512-byte blocks, no superblock, 40 data blocks,
/// hash offset 0, no UUID, reserved fields zero.
const GEOMETRY_0: [u8; 19] = [8, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 1, 3, 1, 1, 2, 0, 1, 0, 0, 1];

/// A `c_api` verity call (kind 10 verify, 11 format) with geometry 0's real parameters
/// and its hash device on unfailing callback devices, then `tail` (the range or
/// kernel-table bytes).
fn verity_call(kind: u8, tail: &[u8]) -> Vec<u8> {
    [&[kind][..], &GEOMETRY_0, &[0, 0, 0x20, 0, 0], tail].concat()
}

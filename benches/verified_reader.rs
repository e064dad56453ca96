//! The verified reader (`verity::VerifiedReader`): what reading through the tree costs,
//! as a boot loader loading a kernel or a host tool reading a file out of an image pays.
//!
//! ```text
//! cargo bench --bench verified_reader               # full run
//! cargo bench --bench verified_reader -- --test     # smoke mode: every case once
//! ROOTSEAL_BENCH_MIB=256 cargo bench --bench verified_reader
//! ```
//!
//! Cases, on a `ROOTSEAL_BENCH_MIB` (default 64) MiB image of 4 KiB blocks with a
//! sha256 tree, both in files read through the I/O engine (`FileReader`):
//! - `sequential`: the whole image in 1 MiB reads;
//! - `random_4k`: 256 reads of 4 KiB at pseudo-random block-aligned offsets;
//!
//! each `warm` (page cache hot) and `cold` (the image and tree evicted with
//! `POSIX_FADV_DONTNEED`, through `dd iflag=nocache`, before every iteration).
//! The `plain_read` rows read the same bytes with `FileReader` and no verification: the
//! difference is the price of verifying.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rootseal::io::{BlockRead, FileReader};
use rootseal::verity::{self, HashChoice, RunOptions, VerifiedReader, VerityOptions};
use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DEFAULT_MIB: usize = 64;
const RANDOM_READS: usize = 256;

fn image_bytes() -> usize {
    let mib = std::env::var("ROOTSEAL_BENCH_MIB").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&m| m > 0);
    mib.unwrap_or(DEFAULT_MIB) << 20
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Drops `path` from the page cache (a hint: measured, it makes the next read cold).
fn evict(path: &Path) {
    let _ = Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["iflag=nocache", "count=0", "status=none"])
        .status();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_path = dir.path().join("data.img");
    let hash_path = dir.path().join("hash.img");
    let len = image_bytes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..len / 8).flat_map(|_| xorshift(&mut state).to_le_bytes()).collect();
    std::fs::write(&data_path, &bytes).expect("write the image");
    let opts = VerityOptions { salt: Some(vec![7; 32]), ..Default::default() };
    let built = verity::format_paths(&data_path, &hash_path, &opts, &RunOptions::default()).expect("format");
    let root = built.root_hash;
    let offsets: Vec<u64> = (0..RANDOM_READS).map(|_| xorshift(&mut state) % (len as u64 / 4096) * 4096).collect();

    let mut group = c.benchmark_group("verified_reader");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for cold in [false, true] {
        let temperature = if cold { "cold" } else { "warm" };
        let setup = || {
            if cold {
                evict(&data_path);
                evict(&hash_path);
            }
            (FileReader::open(&data_path).unwrap(), FileReader::open(&hash_path).unwrap())
        };
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(format!("sequential/{temperature}"), |b| {
            b.iter_batched(
                setup,
                |(data, hash)| {
                    let mut reader =
                        VerifiedReader::new(&data, &hash, false, &opts, &root, &HashChoice::default()).unwrap();
                    let mut buf = vec![0u8; 1 << 20];
                    while reader.read(&mut buf).unwrap() > 0 {}
                    black_box(buf[0])
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("plain_read_sequential/{temperature}"), |b| {
            b.iter_batched(
                setup,
                |(data, _)| {
                    let mut scratch = Vec::new();
                    let mut sum = 0u8;
                    for at in (0..len as u64).step_by(1 << 20) {
                        sum ^= data.read_view(at, 1 << 20, &mut scratch).unwrap()[0];
                    }
                    black_box(sum)
                },
                BatchSize::PerIteration,
            )
        });
        group.throughput(Throughput::Bytes((RANDOM_READS * 4096) as u64));
        group.bench_function(format!("random_4k/{temperature}"), |b| {
            b.iter_batched(
                setup,
                |(data, hash)| {
                    let mut reader =
                        VerifiedReader::new(&data, &hash, false, &opts, &root, &HashChoice::default()).unwrap();
                    let mut buf = [0u8; 4096];
                    for &at in &offsets {
                        reader.read_at(at, &mut buf).unwrap();
                    }
                    black_box(buf[0])
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("plain_read_random_4k/{temperature}"), |b| {
            b.iter_batched(
                setup,
                |(data, _)| {
                    let mut scratch = Vec::new();
                    let mut sum = 0u8;
                    for &at in &offsets {
                        sum ^= data.read_view(at, 4096, &mut scratch).unwrap()[0];
                    }
                    black_box(sum)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

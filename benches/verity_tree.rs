//! Throughput of the dm-verity tree walk over in-memory images.
//!
//! ```text
//! cargo bench --bench verity_tree                 # full run (a few minutes)
//! cargo bench --bench verity_tree -- --test       # smoke mode: every case once
//! cargo bench --bench verity_tree -- format/sha256
//! ROOTSEAL_BENCH_MIB=256 cargo bench --bench verity_tree
//! ```
//!
//! Cases: {format, verify} × {sha256, sha512} × {every hashing backend this CPU runs
//! that implements the algorithm, forced in turn} × {1 thread, every core}, 4096-byte
//! data and hash blocks, a 32-byte salt and a superblock, as `veritysetup format`
//! writes by default. The data is a `Vec<u8>` (zero-copy reads, like the memory map
//! the CLI uses), so the numbers are hashing plus tree bookkeeping, with no I/O.
//! Format writes into one `MemoryDevice` reused across iterations, so only the first
//! iteration grows it. Verify reads a tree built once during setup.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rootseal::io::MemoryDevice;
use rootseal::text::Uuid;
use rootseal::verity::{self, HashAlgorithm, HashBackend, RunOptions, VerityOptions};
use std::hint::black_box;
use std::time::Duration;

const DEFAULT_MIB: usize = 64;
const BLOCK_SIZE: u32 = 4096;
const ALGORITHMS: [HashAlgorithm; 2] = [HashAlgorithm::Sha256, HashAlgorithm::Sha512];

/// Image size: `ROOTSEAL_BENCH_MIB` MiB, default 64.
fn image_bytes() -> usize {
    let mib = std::env::var("ROOTSEAL_BENCH_MIB").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&m| m > 0);
    mib.unwrap_or(DEFAULT_MIB) << 20
}

/// Incompressible, deterministic bytes from a xorshift64* generator: a few tens of
/// milliseconds for 64 MiB, far cheaper than an OS random source.
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
        let take = word.len().min(len - data.len());
        data.extend_from_slice(&word[..take]);
    }
    data
}

fn options(algorithm: HashAlgorithm) -> VerityOptions {
    VerityOptions {
        hash_algorithm: Some(algorithm),
        data_block_size: Some(BLOCK_SIZE),
        hash_block_size: Some(BLOCK_SIZE),
        salt: Some((0u8..32).collect()),
        uuid: Some(Uuid([0x5a; 16])),
        ..Default::default()
    }
}

/// `(label, RunOptions::threads)`: one thread, then every core (deduplicated on a
/// single-core machine).
fn thread_cases() -> Vec<(String, Option<usize>)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cases = vec![("1 thread".to_string(), Some(1))];
    if cores > 1 {
        cases.push((format!("{cores} threads"), None));
    }
    cases
}

/// The backends to compare for `algorithm`: the available ones with code of their own
/// for it (a backend without hands it to the portable code, already measured).
fn backends(algorithm: HashAlgorithm) -> Vec<HashBackend> {
    HashBackend::available().into_iter().filter(|b| b.implements(algorithm)).collect()
}

/// Every core (or `count` threads) with `backend`.
fn run_with(count: Option<usize>, backend: HashBackend) -> RunOptions<'static> {
    let hashing = verity::HashChoice { backend: Some(backend), fips: None };
    RunOptions { threads: count, hashing, ..Default::default() }
}

/// Few, short samples: each iteration hashes the whole image.
fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: usize) {
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
}

fn bench_tree(c: &mut Criterion) {
    let data = pseudo_random(image_bytes());
    let threads = thread_cases();

    let mut group = c.benchmark_group("format");
    configure(&mut group, data.len());
    for algorithm in ALGORITHMS {
        let opts = options(algorithm);
        for backend in backends(algorithm) {
            for (label, count) in &threads {
                let run = run_with(*count, backend);
                let hash = MemoryDevice::default();
                let id = BenchmarkId::new(format!("{}/{backend}", algorithm.name()), label);
                group.bench_with_input(id, &data, |b, data| {
                    b.iter(|| verity::format(data, &hash, false, &opts, &run).expect("format"));
                });
            }
        }
    }
    group.finish();

    let mut group = c.benchmark_group("verify");
    configure(&mut group, data.len());
    for algorithm in ALGORITHMS {
        let opts = options(algorithm);
        // One tree per algorithm, built with every core: the only setup cost.
        let built = MemoryDevice::default();
        let outcome = verity::format(&data, &built, false, &opts, &RunOptions::default()).expect("format");
        // A plain Vec reads zero-copy, so the walk does not pay for copying the tree.
        let tree: Vec<u8> = built.into_inner();
        let root = outcome.root_hash;
        for backend in backends(algorithm) {
            for (label, count) in &threads {
                let run = run_with(*count, backend);
                let id = BenchmarkId::new(format!("{}/{backend}", algorithm.name()), label);
                group.bench_with_input(id, &data, |b, data| {
                    b.iter(|| {
                        let report = verity::verify(data, &tree, false, &opts, black_box(&root), &run).expect("verify");
                        assert!(report.is_intact());
                        report
                    });
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench_tree);
criterion_main!(benches);

//! Raw throughput of the FEC batch encoder per backend, no I/O: one call per round of
//! 4 KiB blocks (`255 − roots` rows of 4096 lanes), as `verity::fec::encode` makes
//! them. Throughput counts message bytes (the input), like a format's GB/s.
//!
//! ```text
//! cargo bench --bench fec_encode                 # every backend this CPU runs
//! cargo bench --bench fec_encode -- --test       # smoke mode
//! cargo bench --bench fec_encode -- 'roots 2/'   # a subset
//! ```
//!
//! Groups:
//! * `fec_encode/roots R/<backend>`: input in cache (one round's 1 MiB, reused), parity
//!   lane-major as the file stores it: the compute cost.
//! * `fec_encode_stream/roots R/<backend>`: 64 MiB of distinct input per pass, from
//!   memory: what a whole-image encoder sees per core.
//! * `fec_layout/roots R/<variant>`: on the fastest backend, the three ways to get
//!   parity: `encode_rows` (lane-major, transposed pass by pass while in L1),
//!   `encode_rows_planar` then `transpose_planes` over the whole block, and planar only
//!   (what the transposition costs).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rootseal::verity::fec::{BatchEncoder, FecBackend, transpose_planes};
use std::time::Duration;

const BLOCK: usize = 4096;
const ROOTS: [u32; 5] = [2, 3, 8, 17, 24];

fn bytes(len: usize, seed: u32) -> Vec<u8> {
    (0..len).map(|i| ((i as u32 ^ seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

fn config<'a>(c: &'a mut Criterion, name: &str) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group
}

fn bench_in_cache(c: &mut Criterion) {
    let mut group = config(c, "fec_encode");
    for roots in ROOTS {
        let rsn = 255 - roots as usize;
        let input = bytes(rsn * BLOCK, roots);
        let rows: Vec<&[u8]> = input.chunks_exact(BLOCK).collect();
        let mut parity = vec![0u8; BLOCK * roots as usize];
        group.throughput(Throughput::Bytes(input.len() as u64));
        for backend in FecBackend::available() {
            let encoder = BatchEncoder::new(roots, Some(backend)).expect("available backend");
            group.bench_function(BenchmarkId::new(format!("roots {roots}"), backend.name()), |b| {
                b.iter(|| encoder.encode_rows(&rows, BLOCK, &mut parity).expect("encode"))
            });
        }
    }
    group.finish();
}

fn bench_streaming(c: &mut Criterion) {
    let mut group = config(c, "fec_encode_stream");
    for roots in [2u32, 24] {
        let rsn = 255 - roots as usize;
        let rounds = (64 << 20) / (rsn * BLOCK);
        let input = bytes(rounds * rsn * BLOCK, roots);
        // Round n takes block i·rounds + n of each column i, as in the file.
        let mut parity = vec![0u8; BLOCK * roots as usize];
        group.throughput(Throughput::Bytes(input.len() as u64));
        for backend in FecBackend::available() {
            let encoder = BatchEncoder::new(roots, Some(backend)).expect("available backend");
            let mut rows: Vec<&[u8]> = vec![&[]; rsn];
            group.bench_function(BenchmarkId::new(format!("roots {roots}"), backend.name()), |b| {
                b.iter(|| {
                    for n in 0..rounds {
                        for (i, row) in rows.iter_mut().enumerate() {
                            let at = (i * rounds + n) * BLOCK;
                            *row = &input[at..at + BLOCK];
                        }
                        encoder.encode_rows(&rows, BLOCK, &mut parity).expect("encode");
                    }
                })
            });
        }
    }
    group.finish();
}

fn bench_layout(c: &mut Criterion) {
    let mut group = config(c, "fec_layout");
    let backend = FecBackend::fastest();
    for roots in ROOTS {
        let rsn = 255 - roots as usize;
        let input = bytes(rsn * BLOCK, roots);
        let rows: Vec<&[u8]> = input.chunks_exact(BLOCK).collect();
        let encoder = BatchEncoder::new(roots, Some(backend)).expect("available backend");
        let mut parity = vec![0u8; BLOCK * roots as usize];
        let mut planes = vec![0u8; BLOCK * roots as usize];
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(BenchmarkId::new(format!("roots {roots}"), "encode_rows"), |b| {
            b.iter(|| encoder.encode_rows(&rows, BLOCK, &mut parity).expect("encode"))
        });
        group.bench_function(BenchmarkId::new(format!("roots {roots}"), "planar + transpose_planes"), |b| {
            b.iter(|| {
                encoder.encode_rows_planar(&rows, BLOCK, &mut planes).expect("encode");
                transpose_planes(roots, &planes, BLOCK, BLOCK, &mut parity).expect("transpose");
            })
        });
        group.bench_function(BenchmarkId::new(format!("roots {roots}"), "planar only"), |b| {
            b.iter(|| encoder.encode_rows_planar(&rows, BLOCK, &mut planes).expect("encode"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_in_cache, bench_streaming, bench_layout);
criterion_main!(benches);

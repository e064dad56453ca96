//! Raw throughput of each hashing backend on salted 4 KiB blocks, no tree and no I/O:
//! `H(salt || block)` for 32-byte salts, as a verity leaf level hashes them.
//!
//! ```text
//! cargo bench --bench hash_backends              # every backend this CPU runs
//! cargo bench --bench hash_backends -- --test    # smoke mode
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rootseal::verity::{HashAlgorithm, HashBackend, SaltedMultiHasher};
use std::time::Duration;

const BLOCK: usize = 4096;
/// 16 MiB: larger than the caches, as an image is.
const BLOCKS: usize = 4096;

fn bench_backends(c: &mut Criterion) {
    let data: Vec<u8> = (0..BLOCK * BLOCKS).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect();
    let messages: Vec<&[u8]> = data.chunks_exact(BLOCK).collect();
    let salt = [0x5au8; 32];
    let mut group = c.benchmark_group("hash_backends");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
        for backend in HashBackend::available() {
            let hasher = SaltedMultiHasher::with_backend(algorithm, &salt, backend).expect("available backend");
            if hasher.backend() != backend {
                continue; // the backend hands this algorithm to the portable code
            }
            let mut out = vec![0u8; BLOCKS * hasher.digest_size()];
            group.bench_function(BenchmarkId::new(algorithm.name(), backend.name()), |b| {
                b.iter(|| hasher.digest_many(&messages, &mut out).expect("digest"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_backends);
criterion_main!(benches);

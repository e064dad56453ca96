//! FEC speed measurements, for the comparison with `veritysetup` (see
//! `benches/compare-veritysetup-fec.sh`) and for kernels on a busy machine.
//!
//! ```text
//! cargo run --release --example fec_speed -- kernel [ROOTS...]
//!     per backend: in-cache encoder throughput, wall-clock and on-CPU (from
//!     /proc/thread-self/schedstat, which a machine shared with other jobs inflates
//!     less than wall-clock)
//! cargo run --release --example fec_speed -- file DATA HASH_OUT FEC_OUT ROOTS RUNS [BACKEND] [THREADS]
//!     whole image like `veritysetup format DATA HASH_OUT --fec-device FEC_OUT
//!     --fec-roots ROOTS --salt 00…`: the tree with rootseal::verity::format_paths, then
//!     the parity with rootseal::verity::fec::encode (inputs read with pread;
//!     FEC_WINDOW=rounds per unit of work); RUNS runs,
//!     prints every time and the best and median of the tree, the parity and both
//! ```

use rootseal::io::FileDevice;
use rootseal::text::Uuid;
use rootseal::verity::fec::{self, BatchEncoder, EncodeOptions, FecBackend, FecLayout, FecParams};
use rootseal::verity::{self, RunOptions, VerityOptions};
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn kernel(roots_list: &[u32]) {
    const BLOCK: usize = 4096;
    println!("{:>5}  {:<10} {:>12} {:>12}", "roots", "backend", "wall GB/s", "on-CPU GB/s");
    for &roots in roots_list {
        let rsn = 255 - roots as usize;
        let input: Vec<u8> =
            (0..rsn * BLOCK).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect();
        let rows: Vec<&[u8]> = input.chunks_exact(BLOCK).collect();
        let mut parity = vec![0u8; BLOCK * roots as usize];
        for backend in FecBackend::available() {
            let encoder = BatchEncoder::new(roots, Some(backend)).expect("available");
            for _ in 0..20 {
                encoder.encode_rows(&rows, BLOCK, &mut parity).expect("encode");
            }
            let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
            let mut calls = 0u64;
            while start.elapsed() < Duration::from_millis(700) {
                encoder.encode_rows(&rows, BLOCK, &mut parity).expect("encode");
                calls += 1;
            }
            let wall = start.elapsed().as_secs_f64();
            let cpu = (thread_cpu_ns() - cpu_start) as f64 / 1e9;
            let bytes = (calls * input.len() as u64) as f64;
            println!("{roots:>5}  {:<10} {:>12.2} {:>12.2}", backend.name(), bytes / wall / 1e9, bytes / cpu / 1e9);
        }
    }
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn file(args: &[String]) {
    let [data, hash, fec_out, roots, runs, rest @ ..] = args else {
        panic!("usage: file DATA HASH_OUT FEC_OUT ROOTS RUNS [BACKEND] [THREADS]");
    };
    let roots: u32 = roots.parse().expect("roots");
    let runs: usize = runs.parse().expect("runs");
    let backend = rest.first().filter(|b| *b != "auto").map(|b| FecBackend::from_name(b).expect("backend"));
    let threads = rest.get(1).map(|t| t.parse().expect("threads"));
    let opts = VerityOptions {
        salt: Some(vec![0]),
        uuid: Some(Uuid::parse("5a5a5a5a-1234-4bcd-8ef0-0123456789ab").expect("uuid")),
        ..Default::default()
    };
    // A knob for experiments: FEC_WINDOW (rounds per unit).
    let window = std::env::var("FEC_WINDOW").ok().map(|w| w.parse().expect("FEC_WINDOW"));
    let (mut tree_t, mut fec_t, mut total_t) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let _ = std::fs::remove_file(hash);
        let _ = std::fs::remove_file(fec_out);
        let start = Instant::now();
        let outcome = verity::format_paths(
            Path::new(data),
            Path::new(hash),
            &opts,
            &RunOptions { threads, ..Default::default() },
        )
        .expect("format");
        let tree_done = start.elapsed().as_secs_f64();
        let hash_size = std::fs::metadata(hash).expect("hash").len();
        let layout = FecLayout::new(&FecParams {
            data_blocks: outcome.config.data_blocks,
            block_size: outcome.config.data_block_size,
            hash_start_block: outcome.layout.hash_start_block(),
            hash_covered_end: hash_size,
            roots,
        })
        .expect("layout");
        let data_src = FileDevice::new(File::open(data).expect("data")).expect("pread");
        let hash_src = FileDevice::new(File::open(hash).expect("hash")).expect("pread");
        let out = FileDevice::open_rw(Path::new(fec_out)).expect("fec");
        let fec_start = Instant::now();
        let options = EncodeOptions { backend, threads, window_rounds: window };
        let done = fec::encode(&data_src, &hash_src, &layout, &out, 0, &options).expect("encode");
        let fec_time = fec_start.elapsed().as_secs_f64();
        let total = start.elapsed().as_secs_f64();
        println!(
            "run {run}: tree {tree_done:.3} s, parity {fec_time:.3} s ({}, {} threads, {:.2} GB/s of stream), total {total:.3} s",
            done.backend,
            done.threads,
            (layout.fec_blocks() * layout.block_size() as u64) as f64 / fec_time / 1e9
        );
        tree_t.push(tree_done);
        fec_t.push(fec_time);
        total_t.push(total);
    }
    let best = |t: &[f64]| t.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "best/median: tree {:.3}/{:.3} s, parity {:.3}/{:.3} s, total {:.3}/{:.3} s",
        best(&tree_t),
        median(&mut tree_t.clone()),
        best(&fec_t),
        median(&mut fec_t.clone()),
        best(&total_t),
        median(&mut total_t.clone())
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("kernel") => {
            let roots: Vec<u32> = args[1..].iter().map(|r| r.parse().expect("roots")).collect();
            kernel(if roots.is_empty() { &[2, 3, 8, 17, 24] } else { &roots });
        }
        Some("file") => file(&args[1..]),
        _ => eprintln!(
            "usage: fec_speed kernel [ROOTS...] | fec_speed file DATA HASH_OUT FEC_OUT ROOTS RUNS [BACKEND] [THREADS]"
        ),
    }
}

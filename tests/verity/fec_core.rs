//! The Reed-Solomon FEC core: every encoder backend against the reference encoder, and
//! the parity of whole images byte for byte against the real `veritysetup` (cryptsetup
//! 2.6.1), in each layout it supports; then repairs of damaged images with the decoder.
//!
//! Like the other compatibility tests, these fail (never skip) when `veritysetup` is
//! missing. The tree is built by `rootseal::verity::format_paths` and must equal
//! veritysetup's too; the FEC is computed from rootseal's own files.

use crate::common;
use common::{Rng, describe, pseudo_random, veritysetup};
use rootseal::io::{BlockRead, FileDevice, FileReader};
use rootseal::text::Uuid;
use rootseal::verity::fec::{
    self, BatchEncoder, EncodeOptions, FecBackend, FecError, FecLayout, FecParams, Generator, Source,
};
use rootseal::verity::{self, HashAlgorithm, HashType, RunOptions, VerityOptions};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

const UUID: &str = "3f1a9c2e-7b4d-4e6f-8a0b-c1d2e3f40516";
const SALT: &str = "a5ca19e6";

// ---------------------------------------------------------------------------------------
// Backends against the reference
// ---------------------------------------------------------------------------------------

fn random_rows(rng: &mut Rng, count: usize, len: usize) -> Vec<Vec<u8>> {
    (0..count).map(|_| pseudo_random(rng.next(), len)).collect()
}

/// The reference: one codeword at a time, byte at a time.
fn reference_parity(roots: u32, rows: &[Vec<u8>], lanes: usize) -> Vec<u8> {
    let generator = Generator::new(roots).unwrap();
    let r = roots as usize;
    let mut out = vec![0u8; lanes * r];
    let mut message = vec![0u8; rows.len()];
    for lane in 0..lanes {
        for (m, row) in message.iter_mut().zip(rows) {
            *m = row[lane];
        }
        fec::encode_codeword(&generator, &message, &mut out[lane * r..(lane + 1) * r]).unwrap();
    }
    out
}

#[test]
fn every_backend_matches_the_reference_for_every_roots_and_lane_count() {
    let backends = FecBackend::available();
    assert!(backends.contains(&FecBackend::Portable));
    let mut rng = Rng::new(11);
    for roots in 2..=24u32 {
        // Odd counts, one short of and one past each vector width, and a block with a tail.
        for lanes in [1usize, 31, 32, 33, 63, 64, 65, 127, 129, 200, 255, 256, 257, 4096 + 17] {
            let rows = random_rows(&mut rng, 255 - roots as usize, lanes + 3);
            let refs: Vec<&[u8]> = rows.iter().map(|r| r.as_slice()).collect();
            let expected = reference_parity(roots, &rows, lanes);
            for &backend in &backends {
                let encoder = BatchEncoder::new(roots, Some(backend)).unwrap();
                assert_eq!(encoder.backend(), backend);
                let mut parity = vec![0xa5u8; lanes * roots as usize];
                encoder.encode_rows(&refs, lanes, &mut parity).unwrap();
                assert!(parity == expected, "{backend} roots {roots} lanes {lanes}");

                let mut planes = vec![0x5au8; lanes * roots as usize];
                encoder.encode_rows_planar(&refs, lanes, &mut planes).unwrap();
                let mut transposed = vec![0u8; planes.len()];
                fec::transpose_planes(roots, &planes, lanes, lanes, &mut transposed).unwrap();
                assert!(transposed == expected, "planar {backend} roots {roots} lanes {lanes}");

                // The same rows fed in uneven pieces, into planes with a padded stride.
                let stride = lanes + 64 + 5;
                let mut state = vec![0u8; stride * roots as usize];
                let pieces = [1usize, 7, 8, 9, 16, 100];
                let mut rest = &refs[..];
                let mut k = 0;
                while !rest.is_empty() {
                    let n = pieces[k % pieces.len()].min(rest.len());
                    encoder.resume_rows(&rest[..n], lanes, &mut state, stride).unwrap();
                    rest = &rest[n..];
                    k += 1;
                }
                transposed.fill(0);
                fec::transpose_planes(roots, &state, stride, lanes, &mut transposed).unwrap();
                assert!(transposed == expected, "resumed {backend} roots {roots} lanes {lanes}");
            }
        }
    }
}

/// Special inputs: all zero (parity zero), all 0xff, one non-zero symbol per lane.
#[test]
fn every_backend_on_structured_rows() {
    for roots in [2u32, 7, 8, 9, 16, 24] {
        let n = 255 - roots as usize;
        let lanes = 320;
        let patterns: Vec<Vec<Vec<u8>>> = vec![
            vec![vec![0u8; lanes]; n],
            vec![vec![0xffu8; lanes]; n],
            (0..n).map(|i| (0..lanes).map(|l| u8::from(l % n == i)).collect()).collect(),
        ];
        for rows in &patterns {
            let refs: Vec<&[u8]> = rows.iter().map(|r| r.as_slice()).collect();
            let expected = reference_parity(roots, rows, lanes);
            for backend in FecBackend::available() {
                let mut parity = vec![1u8; lanes * roots as usize];
                BatchEncoder::new(roots, Some(backend)).unwrap().encode_rows(&refs, lanes, &mut parity).unwrap();
                assert!(parity == expected, "{backend} roots {roots}");
            }
        }
    }
}

#[test]
fn backend_names_and_refusals() {
    for backend in FecBackend::ALL {
        assert_eq!(FecBackend::from_name(backend.name()).unwrap(), backend);
        assert_eq!(FecBackend::from_name(&format!(" {} ", backend.name().to_uppercase())).unwrap(), backend);
    }
    assert!(matches!(FecBackend::from_name("sse2"), Err(FecError::UnknownBackend(_))));
    assert!(FecBackend::fastest().is_available());
    for backend in FecBackend::ALL {
        match BatchEncoder::new(2, Some(backend)) {
            Ok(e) => assert!(backend.is_available() && e.backend() == backend),
            Err(FecError::BackendUnavailable { .. }) => assert!(!backend.is_available()),
            Err(e) => panic!("{e}"),
        }
    }
    assert!(matches!(BatchEncoder::new(25, None), Err(FecError::InvalidRoots(25))));
    let encoder = BatchEncoder::new(2, None).unwrap();
    let row = vec![0u8; 64];
    let rows: Vec<&[u8]> = vec![&row; 253];
    let mut parity = vec![0u8; 128];
    assert!(encoder.encode_rows(&rows[..252], 64, &mut parity).is_err());
    assert!(encoder.encode_rows(&rows, 65, &mut parity).is_err());
    assert!(encoder.encode_rows(&rows, 64, &mut parity[..127]).is_err());
    assert!(encoder.encode_rows(&rows, 64, &mut parity).is_ok());
    // Resuming: no more rows than a codeword has, planes that fit, a stride ≥ lanes.
    let rows254: Vec<&[u8]> = vec![&row; 254];
    let mut state = vec![0u8; 200];
    assert!(encoder.resume_rows(&rows254, 64, &mut state, 100).is_err());
    assert!(encoder.resume_rows(&rows[..3], 64, &mut state, 63).is_err());
    assert!(encoder.resume_rows(&rows[..3], 64, &mut state[..163], 100).is_err());
    assert!(encoder.resume_rows(&rows[..3], 65, &mut state, 100).is_err());
    assert!(encoder.resume_rows(&rows[..3], 64, &mut state[..164], 100).is_ok());
    assert!(encoder.resume_rows(&[], 64, &mut state, 100).is_ok());
    assert!(fec::transpose_planes(2, &state, 100, 64, &mut parity).is_ok());
    assert!(fec::transpose_planes(2, &state[..163], 100, 64, &mut parity).is_err());
    assert!(fec::transpose_planes(2, &state, 100, 64, &mut parity[..127]).is_err());
    assert!(fec::transpose_planes(1, &state, 100, 64, &mut parity).is_err());
}

// ---------------------------------------------------------------------------------------
// Byte identity with veritysetup
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Hash file and FEC file separate; `trailing` bytes after the tree in the hash file.
    Separate { trailing: u64 },
    /// FEC inside the hash file, `gap` blocks after the tree end.
    InHashFile { gap: u64 },
    /// Data, superblock, tree and FEC in one file.
    OneFile,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    blocks: u64,
    bs: u32,
    alg: &'static str,
    hash_type: u32,
    roots: u32,
    superblock: bool,
    placement: Placement,
}

const fn case(blocks: u64, bs: u32, alg: &'static str, hash_type: u32, roots: u32, placement: Placement) -> Case {
    Case { blocks, bs, alg, hash_type, roots, superblock: true, placement }
}

const SEP: Placement = Placement::Separate { trailing: 0 };

#[rustfmt::skip]
const MATRIX: &[Case] = &[
    // Separate files, the required roots, both block sizes, both hash types, both
    // algorithms, data block counts that are not multiples of 255 − roots.
    case(600,   4096, "sha256", 1,  2, SEP),
    case(1000,  4096, "sha256", 1,  3, SEP),
    case(777,   4096, "sha512", 1,  8, SEP),
    case(500,   4096, "sha256", 0, 17, SEP),
    case(1234,  4096, "sha512", 0, 24, SEP),
    case(3001,   512, "sha256", 1,  2, SEP),
    case(999,    512, "sha256", 0, 17, SEP),
    case(2000,   512, "sha512", 1, 24, SEP),
    case(1700,   512, "sha512", 0,  3, SEP),
    case(1000,   512, "sha256", 1,  8, SEP),
    // data + tree = 2·253 exactly: no zero padding in the last column.
    case(501,   4096, "sha256", 1,  2, SEP),
    // Single data block (empty tree) and one-level trees.
    case(1,     4096, "sha256", 1,  2, SEP),
    case(1,      512, "sha512", 1, 24, SEP),
    case(100,   4096, "sha256", 1,  8, SEP),
    case(128,   4096, "sha256", 0, 24, SEP),
    case(16,     512, "sha256", 1,  3, SEP),
    // Trailing bytes after the tree, a partial block among them (covered up to the
    // last whole block, since the FEC is on another device).
    case(700,   4096, "sha256", 1,  3, Placement::Separate { trailing: 3 * 4096 + 100 }),
    case(900,    512, "sha512", 0, 24, Placement::Separate { trailing: 5 * 512 + 7 }),
    // FEC in the hash file at --fec-offset (right after the tree, or with a gap that
    // the FEC then covers).
    case(800,   4096, "sha256", 1,  2, Placement::InHashFile { gap: 0 }),
    case(800,   4096, "sha256", 1, 24, Placement::InHashFile { gap: 2 }),
    case(1500,   512, "sha512", 0, 17, Placement::InHashFile { gap: 1 }),
    // Everything in one file.
    case(640,   4096, "sha256", 1,  2, Placement::OneFile),
    case(640,   4096, "sha512", 1, 24, Placement::OneFile),
    case(2500,   512, "sha256", 0, 17, Placement::OneFile),
];

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

fn vs_format(data: &Path, hash: &Path, args: &[String]) {
    let out = Command::new(veritysetup())
        .arg("format")
        .arg(data)
        .arg(hash)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run veritysetup");
    assert!(out.status.success(), "veritysetup format {args:?}:\n{}", describe(&out));
}

fn algorithm(name: &str) -> HashAlgorithm {
    match name {
        "sha256" => HashAlgorithm::Sha256,
        "sha512" => HashAlgorithm::Sha512,
        other => panic!("{other}"),
    }
}

fn write_file(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
}

fn extend_file(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

struct Built {
    dir: TempDir,
    /// The file veritysetup wrote the parity to, and the parity offset in it.
    theirs: (PathBuf, u64),
    layout: FecLayout,
    /// rootseal's data and hash file (the same path for one-file layouts).
    data: PathBuf,
    hash: PathBuf,
}

/// Builds one case with both tools and runs rootseal's encoder with `backend`
/// (several threads, small windows, so that the work splitting is exercised).
fn build(idx: usize, c: &Case, backends: &[FecBackend]) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bs = c.bs as u64;
    let data_bytes = pseudo_random(1000 + idx as u64, (c.blocks * bs) as usize);
    let salt = rootseal::text::decode_hex(SALT).unwrap();
    let mut opts = VerityOptions {
        hash_algorithm: Some(algorithm(c.alg)),
        hash_type: Some(if c.hash_type == 0 { HashType::ChromeOs } else { HashType::Normal }),
        data_block_size: Some(c.bs),
        hash_block_size: Some(c.bs),
        salt: Some(salt),
        uuid: Some(Uuid::parse(UUID).unwrap()),
        no_superblock: !c.superblock,
        ..Default::default()
    };
    let mut args: Vec<String> = vec![
        format!("--hash={}", c.alg),
        format!("--format={}", c.hash_type),
        format!("--data-block-size={}", c.bs),
        format!("--hash-block-size={}", c.bs),
        format!("--salt={SALT}"),
        format!("--uuid={UUID}"),
        format!("--fec-roots={}", c.roots),
    ];
    if !c.superblock {
        args.push("--no-superblock".into());
    }
    let run = RunOptions::default();

    let (ours, theirs, data, hash, hash_start, covered_end) = match c.placement {
        Placement::Separate { trailing } => {
            let (data, hash_rs, hash_vs) = (d.join("data"), d.join("hash.rs"), d.join("hash.vs"));
            write_file(&data, &data_bytes);
            let outcome = verity::format_paths(&data, &hash_rs, &opts, &run).unwrap();
            if trailing > 0 {
                // The same foreign bytes after the tree in both hash files.
                let tail = pseudo_random(77, trailing as usize);
                let tree = fs::read(&hash_rs).unwrap();
                write_file(&hash_vs, &[tree.as_slice(), &tail].concat());
                extend_file(&hash_rs, &tail);
            }
            let (fec_rs, fec_vs) = (d.join("fec.rs"), d.join("fec.vs"));
            args.push(format!("--fec-device={}", p(&fec_vs)));
            vs_format(&data, &hash_vs, &args);
            let end = fs::metadata(&hash_rs).unwrap().len();
            ((fec_rs, 0), (fec_vs, 0), data, hash_rs.clone(), outcome.layout.hash_start_block(), end)
        }
        Placement::InHashFile { gap } => {
            let (data, hash_rs, hash_vs) = (d.join("data"), d.join("hash.rs"), d.join("hash.vs"));
            write_file(&data, &data_bytes);
            let outcome = verity::format_paths(&data, &hash_rs, &opts, &run).unwrap();
            let tree_end = outcome.layout.hash_end_bytes().unwrap();
            let gap_bytes = pseudo_random(78, (gap * bs) as usize);
            let tree = fs::read(&hash_rs).unwrap();
            write_file(&hash_vs, &[tree.as_slice(), &gap_bytes].concat());
            extend_file(&hash_rs, &gap_bytes);
            let fec_offset = tree_end + gap * bs;
            args.push(format!("--fec-device={}", p(&hash_vs)));
            args.push(format!("--fec-offset={fec_offset}"));
            vs_format(&data, &hash_vs, &args);
            let start = outcome.layout.hash_start_block();
            ((hash_rs.clone(), fec_offset), (hash_vs, fec_offset), data, hash_rs, start, fec_offset)
        }
        Placement::OneFile => {
            let (one_rs, one_vs) = (d.join("one.rs"), d.join("one.vs"));
            write_file(&one_rs, &data_bytes);
            write_file(&one_vs, &data_bytes);
            let hash_offset = c.blocks * bs;
            opts.data_blocks = Some(c.blocks);
            opts.hash_offset = hash_offset;
            let outcome = verity::format_paths(&one_rs, &one_rs, &opts, &run).unwrap();
            let fec_offset = outcome.layout.hash_end_bytes().unwrap();
            args.push(format!("--data-blocks={}", c.blocks));
            args.push(format!("--hash-offset={hash_offset}"));
            args.push(format!("--fec-device={}", p(&one_vs)));
            args.push(format!("--fec-offset={fec_offset}"));
            vs_format(&one_vs, &one_vs, &args);
            let start = outcome.layout.hash_start_block();
            ((one_rs.clone(), fec_offset), (one_vs, fec_offset), one_rs.clone(), one_rs, start, fec_offset)
        }
    };

    let layout = FecLayout::new(&FecParams {
        data_blocks: c.blocks,
        block_size: c.bs,
        hash_start_block: hash_start,
        hash_covered_end: covered_end,
        roots: c.roots,
    })
    .unwrap();
    for &backend in backends {
        encode_file(&data, &hash, &layout, &ours.0, ours.1, backend);
        compare(idx, c, backend, &ours, &theirs, &layout);
    }
    Built { dir, theirs, layout, data, hash }
}

/// rootseal's encoder over inputs read with pread, written with pwrite.
fn encode_file(data: &Path, hash: &Path, layout: &FecLayout, out: &Path, offset: u64, backend: FecBackend) {
    let data_reader = FileReader::open(data).unwrap();
    let hash_reader = FileReader::open(hash).unwrap();
    let out = FileDevice::open_rw(out).unwrap();
    let options = EncodeOptions { backend: Some(backend), threads: Some(2), window_rounds: Some(3) };
    let outcome = fec::encode(&data_reader, &hash_reader, layout, &out, offset, &options).unwrap();
    assert_eq!(outcome.backend, backend);
    assert_eq!(outcome.parity_bytes, layout.parity_bytes());
}

fn compare(idx: usize, c: &Case, backend: FecBackend, ours: &(PathBuf, u64), theirs: &(PathBuf, u64), l: &FecLayout) {
    let ours_bytes = fs::read(&ours.0).unwrap();
    let theirs_bytes = fs::read(&theirs.0).unwrap();
    let ctx = format!("case {idx} {c:?} backend {backend}");
    assert_eq!(ours.1, theirs.1);
    assert_eq!(theirs_bytes.len() as u64, theirs.1 + l.parity_bytes(), "{ctx}: veritysetup's FEC size");
    if ours_bytes != theirs_bytes {
        let first = ours_bytes.iter().zip(&theirs_bytes).position(|(a, b)| a != b);
        panic!(
            "{ctx}: files differ (ours {} bytes, veritysetup {} bytes), first difference at {first:?}, parity at {}",
            ours_bytes.len(),
            theirs_bytes.len(),
            ours.1
        );
    }
}

#[test]
fn parity_is_byte_identical_to_veritysetup() {
    let backends = FecBackend::available();
    for (idx, c) in MATRIX.iter().enumerate() {
        build(idx, c, &backends);
    }
}

#[test]
fn parity_without_superblock_is_byte_identical_to_veritysetup() {
    let backends = FecBackend::available();
    for (idx, mut c) in
        [case(900, 4096, "sha256", 1, 3, SEP), case(1, 4096, "sha256", 1, 2, SEP)].into_iter().enumerate()
    {
        c.superblock = false;
        build(100 + idx, &c, &backends);
    }
}

/// A larger image, the default window and every core: many windows and rounds.
#[test]
fn larger_image_with_default_windows() {
    let c = case(12_000, 4096, "sha256", 1, 2, SEP);
    let built = build(200, &c, &[FecBackend::fastest()]);
    assert!(built.layout.rounds() > 40);
    let data_reader = FileReader::open(&built.data).unwrap();
    let hash_reader = FileReader::open(&built.hash).unwrap();
    // The verity engine's reader on every core, and plain pread on one thread.
    let data_pread = FileDevice::new(File::open(&built.data).unwrap()).unwrap();
    let hash_pread = FileDevice::new(File::open(&built.hash).unwrap()).unwrap();
    for (data, hash, threads) in [
        (&data_reader as &dyn BlockRead, &hash_reader as &dyn BlockRead, None),
        (&data_pread as &dyn BlockRead, &hash_pread as &dyn BlockRead, Some(1)),
    ] {
        let out = built.dir.path().join("fec.default");
        let _ = fs::remove_file(&out);
        let dev = FileDevice::open_rw(&out).unwrap();
        let options = EncodeOptions { threads, ..Default::default() };
        fec::encode(data, hash, &built.layout, &dev, 0, &options).unwrap();
        assert!(fs::read(&out).unwrap() == fs::read(&built.theirs.0).unwrap());
    }
}

// ---------------------------------------------------------------------------------------
// Repair with the decoder
// ---------------------------------------------------------------------------------------

/// Reads the 255 symbols of codeword (`round`, `lane`) from a stream and its parity.
fn codeword(layout: &FecLayout, stream: &dyn Fn(u64) -> Vec<u8>, parity: &[u8], round: u64, lane: u32) -> Vec<u8> {
    let mut word: Vec<u8> =
        (0..layout.rsn()).map(|i| stream(layout.stream_block(round, i).unwrap())[lane as usize]).collect();
    let at = layout.parity_offset(round, lane).unwrap() as usize;
    word.extend_from_slice(&parity[at..at + layout.roots() as usize]);
    word
}

/// The stream block `block` of an image whose data and hash areas are `data`, `hash`.
fn stream_block(layout: &FecLayout, data: &[u8], hash: &[u8], block: u64) -> Vec<u8> {
    let bs = layout.block_size() as usize;
    match layout.locate(block) {
        Source::Data(o) => data[o as usize..o as usize + bs].to_vec(),
        Source::Hash(o) => hash[o as usize..o as usize + bs].to_vec(),
        Source::Zero => vec![0; bs],
    }
}

/// Damages `roots` whole blocks of one round (data and tree blocks, the worst case the
/// interleaving allows for that many) plus a parity byte range, then repairs every
/// codeword of the round with the damaged symbols as erasures; then damages
/// `roots / 2` blocks and repairs without being told where.
fn repair_case(c: Case, round_pick: u64) {
    let built = build(300 + c.roots as usize, &c, &[FecBackend::fastest()]);
    let l = built.layout;
    let data = fs::read(&built.data).unwrap();
    let hash = fs::read(&built.hash).unwrap();
    let fec_file = fs::read(&built.theirs.0).unwrap();
    let parity = &fec_file[built.theirs.1 as usize..];
    let round = round_pick % l.rounds();
    let roots = l.roots() as usize;
    let mut rng = Rng::new(c.roots as u64);

    // Pick distinct symbols whose blocks are real (not zero padding): zeros are known.
    let real: Vec<u32> =
        (0..l.rsn()).filter(|&i| l.locate(l.stream_block(round, i).unwrap()) != Source::Zero).collect();
    assert!(real.len() >= roots);
    let mut chosen = real.clone();
    for k in 0..chosen.len() {
        let j = k + rng.below((chosen.len() - k) as u64) as usize;
        chosen.swap(k, j);
    }

    for (erasures, errors) in [(roots, 0), (roots - 2, 1), (0, roots / 2)] {
        let bad: Vec<u32> = chosen[..erasures + errors].to_vec();
        let garbage: Vec<Vec<u8>> = bad.iter().map(|&i| pseudo_random(i as u64 + 5, l.block_size() as usize)).collect();
        let damaged = |block: u64| -> Vec<u8> {
            match bad.iter().position(|&i| l.stream_block(round, i).unwrap() == block) {
                Some(k) => garbage[k].clone(),
                None => stream_block(&l, &data, &hash, block),
            }
        };
        let clean = |block: u64| stream_block(&l, &data, &hash, block);
        let erased: Vec<usize> = bad[..erasures].iter().map(|&i| i as usize).collect();
        for lane in 0..l.block_size() {
            let original = codeword(&l, &clean, parity, round, lane);
            let mut word = codeword(&l, &damaged, parity, round, lane);
            let outcome = fec::decode(l.roots(), &mut word, &erased)
                .unwrap_or_else(|e| panic!("{c:?} round {round} lane {lane} s {erasures} e {errors}: {e}"));
            assert!(word == original, "{c:?} lane {lane}");
            assert!(outcome.errors_found <= errors);
        }
    }
}

#[test]
fn repairs_damaged_blocks_with_erasures_and_errors() {
    repair_case(case(1234, 4096, "sha512", 0, 24, SEP), 3);
    repair_case(case(600, 4096, "sha256", 1, 2, SEP), 1);
    repair_case(case(999, 512, "sha256", 0, 17, SEP), 2);
    repair_case(case(800, 4096, "sha256", 1, 8, Placement::InHashFile { gap: 0 }), 0);
}

/// One more erasure than roots is refused, never guessed.
#[test]
fn more_erasures_than_roots_are_refused() {
    let roots = 3u32;
    let generator = Generator::new(roots).unwrap();
    let mut word = vec![0u8; 255];
    let message = pseudo_random(9, 252);
    word[..252].copy_from_slice(&message);
    let (m, p) = word.split_at_mut(252);
    fec::encode_codeword(&generator, m, p).unwrap();
    let erasures = [0usize, 10, 20, 30];
    assert!(matches!(fec::decode(roots, &mut word, &erasures), Err(FecError::Uncorrectable { roots: 3 })));
}

/// A memory device of fixed capacity, like a block device.
struct Fixed(rootseal::io::MemoryDevice, u64);

impl rootseal::io::BlockWrite for Fixed {
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.0.write_at(offset, data)
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn capacity(&self) -> std::io::Result<Option<u64>> {
        Ok(Some(self.1))
    }
}

#[test]
fn encode_refuses_short_inputs_and_small_outputs_before_writing() {
    let layout = FecLayout::new(&FecParams {
        data_blocks: 10,
        block_size: 512,
        hash_start_block: 1,
        hash_covered_end: 4 * 512,
        roots: 2,
    })
    .unwrap();
    assert_eq!((layout.fec_blocks(), layout.parity_bytes()), (13, 1024));
    let data = pseudo_random(1, 10 * 512);
    let hash = pseudo_random(2, 4 * 512);
    let options = EncodeOptions::default();
    let out = rootseal::io::MemoryDevice::default();
    let short_data = data[..10 * 512 - 1].to_vec();
    assert!(matches!(
        fec::encode(&short_data, &hash, &layout, &out, 0, &options),
        Err(FecError::InputTooShort { which: "data", needed: 5120, actual: 5119 })
    ));
    let short_hash = hash[..4 * 512 - 1].to_vec();
    assert!(matches!(
        fec::encode(&data, &short_hash, &layout, &out, 0, &options),
        Err(FecError::InputTooShort { which: "hash", needed: 2048, actual: 2047 })
    ));
    let small = Fixed(rootseal::io::MemoryDevice::default(), 100 + 1023);
    assert!(matches!(
        fec::encode(&data, &hash, &layout, &small, 100, &options),
        Err(FecError::OutputTooSmall { needed: 1124, actual: 1123 })
    ));
    assert!(matches!(fec::encode(&data, &hash, &layout, &out, u64::MAX - 10, &options), Err(FecError::Overflow(_))));
    assert_eq!(out.into_inner().len() + small.0.into_inner().len(), 0, "nothing written");

    // The same at exactly the right sizes works, with any window and thread count, and
    // matches the reference encoder codeword by codeword.
    let reference = {
        let stream: Vec<u8> = [&data[..], &hash[512..]].concat();
        let mut parity = vec![0u8; 1024];
        let g = Generator::new(2).unwrap();
        for lane in 0..512 {
            let message: Vec<u8> = (0..253).map(|i| if i < 13 { stream[i * 512 + lane] } else { 0 }).collect();
            fec::encode_codeword(&g, &message, &mut parity[lane * 2..lane * 2 + 2]).unwrap();
        }
        parity
    };
    for (window, threads) in [(None, None), (Some(1), Some(1)), (Some(u64::MAX), Some(64))] {
        let fixed = Fixed(rootseal::io::MemoryDevice::default(), 100 + 1024);
        let options = EncodeOptions { window_rounds: window, threads, ..Default::default() };
        fec::encode(&data, &hash, &layout, &fixed, 100, &options).unwrap();
        assert!(fixed.0.into_inner()[100..] == reference[..]);
    }
}

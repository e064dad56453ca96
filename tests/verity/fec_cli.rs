//! FEC through the `rootseal verity` command, against the real veritysetup: `format
//! --fec-device` byte for byte in every layout, the refusals (nothing written), the
//! `use_fec_from_device` table line word for word with libcryptsetup's (through the
//! `tests/c/dmshim.c` LD_PRELOAD shim), `verify --fec-device` both ways, and `repair`.

use crate::common;
use common::{Rng, describe, parse_root_hash, pseudo_random, veritysetup};
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SALT: &str = "5eed0fec";
const UUID: &str = "6a1f0c3e-9b2d-4c7e-8f10-2a3b4c5d6e7f";

fn rootseal(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootseal")).args(args).env("LC_ALL", "C").output().unwrap()
}

fn vs(args: &[String]) -> Output {
    Command::new(veritysetup()).args(args).env("LC_ALL", "C").output().unwrap()
}

fn s(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Data, hash and FEC files apart; `trailing` foreign bytes after the tree.
    Separate { trailing: u64 },
    /// FEC in the hash file, `gap` blocks after the tree.
    InHash { gap: u64 },
    /// Data, superblock, tree and FEC in one file.
    OneFile,
}

/// One side's files: data, hash, FEC, and the options that place them.
struct Side {
    data: PathBuf,
    hash: PathBuf,
    fec: PathBuf,
    /// Options after the device arguments (shared by both tools).
    args: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    blocks: u64,
    bs: u32,
    alg: &'static str,
    roots: u32,
    layout: Layout,
}

/// The tree size veritysetup writes for `c` (superblock + levels), from a dry
/// veritysetup format into a scratch file.
fn tree_end(dir: &Path, c: &Case) -> u64 {
    let data = dir.join("probe.data");
    let hash = dir.join("probe.hash");
    fs::write(&data, vec![0u8; (c.blocks * c.bs as u64) as usize]).unwrap();
    let out = vs(&[
        strings(&["format", &s(&data), &s(&hash)]),
        vec![format!("--data-block-size={}", c.bs), format!("--hash-block-size={}", c.bs), format!("--hash={}", c.alg)],
    ]
    .concat());
    assert!(out.status.success(), "{}", describe(&out));
    let end = fs::metadata(&hash).unwrap().len();
    fs::remove_file(&data).unwrap();
    fs::remove_file(&hash).unwrap();
    end
}

/// Makes the files of one side (`tag`) of case `c` in `dir`: same contents on both
/// sides, and the arguments that place data, tree and FEC.
fn side(dir: &Path, tag: &str, c: &Case, seed: u64, tree_end: u64) -> Side {
    let bs = c.bs as u64;
    let data_bytes = pseudo_random(seed, (c.blocks * bs) as usize);
    let mut args = vec![
        format!("--hash={}", c.alg),
        format!("--data-block-size={}", c.bs),
        format!("--hash-block-size={}", c.bs),
        format!("--salt={SALT}"),
        format!("--uuid={UUID}"),
        format!("--fec-roots={}", c.roots),
    ];
    let data = dir.join(format!("{tag}.data"));
    match c.layout {
        Layout::Separate { trailing } => {
            let hash = dir.join(format!("{tag}.hash"));
            fs::write(&data, &data_bytes).unwrap();
            if trailing > 0 {
                // Foreign bytes after the tree: the hash file exists at that size.
                let mut bytes = vec![0u8; tree_end as usize];
                bytes.extend(pseudo_random(seed + 1, trailing as usize));
                fs::write(&hash, bytes).unwrap();
            }
            let fec = dir.join(format!("{tag}.fec"));
            args.push(format!("--fec-device={}", s(&fec)));
            Side { data, hash, fec, args }
        }
        Layout::InHash { gap } => {
            let hash = dir.join(format!("{tag}.hash"));
            fs::write(&data, &data_bytes).unwrap();
            let offset = tree_end + gap * bs;
            // Zeros where the tree goes (veritysetup keeps old bytes after the
            // superblock in its block, rootseal zeroes them), foreign bytes in the gap.
            let mut bytes = vec![0u8; tree_end as usize];
            bytes.extend(pseudo_random(seed + 2, (gap * bs) as usize));
            fs::write(&hash, bytes).unwrap();
            args.push(format!("--fec-device={}", s(&hash)));
            args.push(format!("--fec-offset={offset}"));
            Side { data, hash: hash.clone(), fec: hash, args }
        }
        Layout::OneFile => {
            fs::write(&data, &data_bytes).unwrap();
            let hash_offset = c.blocks * bs;
            args.push(format!("--data-blocks={}", c.blocks));
            args.push(format!("--hash-offset={hash_offset}"));
            args.push(format!("--fec-device={}", s(&data)));
            args.push(format!("--fec-offset={}", hash_offset + tree_end));
            Side { data: data.clone(), hash: data.clone(), fec: data, args }
        }
    }
}

/// The FEC lines and the device sizes of a format report.
fn fec_lines(text: &str) -> Vec<String> {
    text.lines().filter(|l| l.starts_with("FEC ") || l.starts_with("Hash device size")).map(str::to_string).collect()
}

struct Formatted {
    _dir: tempfile::TempDir,
    ours: Side,
    theirs: Side,
    root: String,
    json: serde_json::Value,
}

/// Formats case `c` with both tools and checks the files byte for byte.
fn format_both(idx: u64, c: &Case) -> Formatted {
    let dir = tempfile::tempdir().unwrap();
    let end = tree_end(dir.path(), c);
    let theirs = side(dir.path(), "vs", c, 500 + idx, end);
    let ours = side(dir.path(), "rs", c, 500 + idx, end);
    let out = vs(&[strings(&["format", &s(&theirs.data), &s(&theirs.hash)]), theirs.args.clone()].concat());
    assert!(out.status.success(), "{c:?}: {}", describe(&out));
    let root = parse_root_hash(&out.stdout);
    let their_text = String::from_utf8_lossy(&out.stdout).to_string();

    let base = [strings(&["verity", "format", &s(&ours.data), &s(&ours.hash)]), ours.args.clone()].concat();
    let text = rootseal(&base);
    assert!(text.status.success(), "{c:?}: {}", describe(&text));
    assert_eq!(parse_root_hash(&text.stdout), root, "{c:?}");
    assert_eq!(fec_lines(&String::from_utf8_lossy(&text.stdout)), fec_lines(&their_text), "{c:?}");
    for (a, b) in [(&ours.data, &theirs.data), (&ours.hash, &theirs.hash), (&ours.fec, &theirs.fec)] {
        assert!(fs::read(a).unwrap() == fs::read(b).unwrap(), "{c:?}: {} differs from veritysetup's", s(a));
    }
    // The JSON report, from a second format (same salt and UUID, same result).
    let json = rootseal(&[base, vec!["--json".into()]].concat());
    assert!(json.status.success(), "{c:?}: {}", describe(&json));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["root_hash"], root.as_str());
    assert!(fs::read(&ours.fec).unwrap() == fs::read(&theirs.fec).unwrap(), "{c:?}: second format");
    Formatted { _dir: dir, ours, theirs, root, json }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { blocks: 600,  bs: 4096, alg: "sha256", roots: 2,  layout: Layout::Separate { trailing: 0 } },
    Case { blocks: 777,  bs: 4096, alg: "sha512", roots: 24, layout: Layout::Separate { trailing: 0 } },
    Case { blocks: 1,    bs: 4096, alg: "sha256", roots: 3,  layout: Layout::Separate { trailing: 0 } },
    Case { blocks: 2000, bs: 512,  alg: "sha256", roots: 17, layout: Layout::Separate { trailing: 0 } },
    Case { blocks: 700,  bs: 4096, alg: "sha256", roots: 8,  layout: Layout::Separate { trailing: 3 * 4096 + 100 } },
    Case { blocks: 800,  bs: 4096, alg: "sha256", roots: 2,  layout: Layout::InHash { gap: 0 } },
    Case { blocks: 900,  bs: 512,  alg: "sha512", roots: 24, layout: Layout::InHash { gap: 2 } },
    Case { blocks: 640,  bs: 4096, alg: "sha256", roots: 2,  layout: Layout::OneFile },
    Case { blocks: 2500, bs: 512,  alg: "sha256", roots: 24, layout: Layout::OneFile },
];

#[test]
fn format_with_fec_is_byte_identical_to_veritysetup_in_every_layout() {
    for (idx, c) in CASES.iter().enumerate() {
        let f = format_both(idx as u64, c);
        let bs = c.bs as u64;
        let rsn = 255 - c.roots as u64;
        let fec_blocks = f.json["fec_blocks"].as_u64().unwrap();
        let parity = fec_blocks.div_ceil(rsn) * c.roots as u64;
        assert_eq!(f.json["fec_roots"], c.roots, "{c:?}");
        assert_eq!(f.json["fec_parity_blocks"], parity, "{c:?}");
        let fec_size = fs::metadata(&f.theirs.fec).unwrap().len();
        // The parity area ends the FEC file: its start block is the table's fec_start.
        assert_eq!(f.json["fec_start"].as_u64().unwrap() * bs, fec_size - parity * bs, "{c:?}");
    }
}

/// What veritysetup refuses, rootseal refuses with one line and exit 2, creating and
/// changing nothing; and two overlaps veritysetup lets through (a parity offset inside
/// the tree, one not a whole number of blocks) are refused too.
#[test]
fn format_refusals_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    fs::write(&data, pseudo_random(3, 300 * 4096)).unwrap();
    let original = fs::read(&data).unwrap();
    let (hash, fec) = (s(&d.join("hash")), s(&d.join("fec")));
    let data_s = s(&data);
    let cases: Vec<(Vec<&str>, bool)> = vec![
        (vec![&data_s, &hash, "--fec-device", &fec, "--fec-roots", "1"], true),
        (vec![&data_s, &hash, "--fec-device", &fec, "--fec-roots", "25"], true),
        (vec![&data_s, &hash, "--fec-device", &fec, "--data-block-size", "512"], true),
        // FEC in the hash file over the tree (veritysetup writes it over the tree).
        (vec![&data_s, &hash, "--fec-device", &hash, "--fec-offset", "4096"], false),
        // FEC over the data.
        (vec![&data_s, &hash, "--fec-device", &data_s, "--fec-offset", "0"], true),
        // Not a whole number of blocks (the kernel counts fec_start in blocks).
        (vec![&data_s, &hash, "--fec-device", &fec, "--fec-offset", "512"], false),
        // FEC beyond the end of the hash file that is to hold it.
        (vec![&data_s, &hash, "--fec-device", &hash, "--fec-offset", "1048576"], false),
        // FEC options without a FEC device.
        (vec![&data_s, &hash, "--fec-roots", "3"], false),
    ];
    for (args, veritysetup_refuses) in cases {
        let mut ours = strings(&["verity", "format"]);
        ours.extend(strings(&args));
        let out = rootseal(&ours);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("rootseal: error: ") && err.lines().count() == 1, "{args:?}: {err}");
        assert!(!Path::new(&hash).exists() && !Path::new(&fec).exists(), "{args:?} created a file");
        assert!(fs::read(&data).unwrap() == original, "{args:?} changed the data");
        if veritysetup_refuses {
            let out = vs(&[strings(&["format"]), strings(&args)].concat());
            assert!(!out.status.success(), "veritysetup accepts {args:?}");
        }
        let _ = fs::remove_file(&hash);
        let _ = fs::remove_file(&fec);
    }
}

/// Builds the dm shim into `dir`.
fn dmshim(dir: &Path) -> PathBuf {
    let shim = dir.join("dmshim.so");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/dmshim.c");
    let out = Command::new("cc").args(["-shared", "-fPIC", "-o", &s(&shim), &s(&source)]).output().unwrap();
    assert!(out.status.success(), "building the dm shim: {}", describe(&out));
    shim
}

/// The table line with the device names (which libcryptsetup gives as loop devices)
/// replaced by DEV.
fn without_devices(line: &str) -> String {
    let mut words: Vec<&str> = line.split(' ').collect();
    for k in [4, 5] {
        words[k] = "DEV";
    }
    if let Some(k) = words.iter().position(|w| *w == "use_fec_from_device") {
        words[k + 1] = "DEV";
    }
    words.join(" ")
}

#[test]
fn table_with_fec_matches_libcryptsetup() {
    let shim_dir = tempfile::tempdir().unwrap();
    let shim = dmshim(shim_dir.path());
    for (idx, c) in CASES.iter().enumerate().filter(|(i, _)| [0, 1, 4, 5, 7].contains(i)) {
        let f = format_both(100 + idx as u64, c);
        let t = &f.theirs;
        let mut open = strings(&["open", &s(&t.data), "rootseal-fec-probe", &s(&t.hash), &f.root]);
        open.extend(reuse_args(t));
        let out = Command::new(veritysetup()).args(&open).env("LD_PRELOAD", &shim).env("LC_ALL", "C").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let theirs = stderr
            .lines()
            .find_map(|l| l.strip_prefix("DMTABLE: "))
            .unwrap_or_else(|| panic!("{c:?}: no table line: {}", describe(&out)));
        assert!(theirs.contains("use_fec_from_device"), "{c:?}: {theirs}");

        let mut ours = strings(&["verity", "table", &s(&t.data), &s(&t.hash), &f.root]);
        ours.extend(reuse_args(t));
        let out = rootseal(&ours);
        assert!(out.status.success(), "{c:?}: {}", describe(&out));
        let line = String::from_utf8(out.stdout).unwrap();
        assert_eq!(without_devices(line.trim_end()), without_devices(theirs), "{c:?}");
        assert!(line.contains(&format!("use_fec_from_device {} ", s(&t.fec))), "{c:?}: {line}");
        // The numbers are the ones format reported.
        let fec_words: Vec<&str> = line.split_whitespace().skip_while(|w| *w != "fec_start").collect();
        assert_eq!(fec_words[1], f.json["fec_start"].to_string(), "{c:?}");
        assert_eq!(fec_words[3], f.json["fec_blocks"].to_string(), "{c:?}");
    }
}

fn verify_args(side: &Side, root: &str, tool_verb: &[&str]) -> Vec<String> {
    let mut args = strings(tool_verb);
    args.extend([s(&side.data), s(&side.hash), root.to_string()]);
    args.extend(reuse_args(side));
    args
}

/// The options that open, verify, repair and table need besides the superblock: the
/// FEC placement and the hash offset.
fn reuse_args(side: &Side) -> Vec<String> {
    side.args.iter().filter(|a| a.starts_with("--fec-") || a.starts_with("--hash-offset")).cloned().collect()
}

fn block_offset(c: &Case, side: &Side, stream_block: u64, tree_start_block: u64) -> u64 {
    let bs = c.bs as u64;
    if stream_block < c.blocks {
        stream_block * bs
    } else {
        let _ = side;
        (tree_start_block + stream_block - c.blocks) * bs
    }
}

fn flip(path: &Path, offset: u64, seed: u64, len: usize) {
    let file = fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&pseudo_random(seed, len), offset).unwrap();
}

/// Both tools verify each other's parity; a damaged parity block is reported as FEC
/// damage (exit 1), not as data damage; damaged data is reported as repairable.
#[test]
fn verify_with_fec_both_ways() {
    for (idx, c) in CASES.iter().enumerate().filter(|(i, _)| [0, 5, 7].contains(i)) {
        let f = format_both(200 + idx as u64, c);
        for side in [&f.ours, &f.theirs] {
            let out = vs(&verify_args(side, &f.root, &["verify"]));
            assert!(out.status.success(), "{c:?} veritysetup verify: {}", describe(&out));
            let out = rootseal(&verify_args(side, &f.root, &["verity", "verify"]));
            assert!(out.status.success(), "{c:?} rootseal verify: {}", describe(&out));
        }
        // Damage one parity block of ours.
        let bs = c.bs as u64;
        let parity_start = f.json["fec_start"].as_u64().unwrap() * bs;
        flip(&f.ours.fec, parity_start + bs, 9, 16);
        let mut args = verify_args(&f.ours, &f.root, &["verity", "verify"]);
        args.push("--json".into());
        let out = rootseal(&args);
        assert_eq!(out.status.code(), Some(1), "{c:?}: {}", describe(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["corrupted_fec_blocks"], serde_json::json!([1]), "{c:?}");
        assert_eq!(report["corrupted_data_blocks"], serde_json::json!([]), "{c:?}");
        // Damage a data block of theirs: repairable.
        flip(&f.theirs.data, 3 * bs, 10, 100);
        let mut args = verify_args(&f.theirs, &f.root, &["verity", "verify"]);
        args.push("--json".into());
        let out = rootseal(&args);
        assert_eq!(out.status.code(), Some(1), "{c:?}: {}", describe(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["corrupted_data_blocks"], serde_json::json!([3]), "{c:?}");
        assert_eq!(report["repairable_data_blocks"], serde_json::json!([3]), "{c:?}");
        assert_eq!(report["repairable"], true, "{c:?}");
    }
}

/// Random damage within the code's capability (up to `roots` bad blocks per round,
/// data and tree blocks) in every layout: `repair` restores the image byte for byte,
/// and veritysetup verifies it. A dry run first changes nothing.
#[test]
fn repair_restores_random_damage_in_every_layout() {
    let mut largest = 0usize;
    for (idx, c) in CASES.iter().enumerate() {
        let f = format_both(300 + idx as u64, c);
        let originals: Vec<(PathBuf, Vec<u8>)> =
            [&f.ours.data, &f.ours.hash, &f.ours.fec].iter().map(|p| ((*p).clone(), fs::read(p).unwrap())).collect();
        let tree_start = f.json["hash_start_block"].as_u64().unwrap();
        let hash_blocks = f.json["hash_blocks"].as_u64().unwrap();
        let covered = c.blocks + hash_blocks;
        let rounds = f.json["fec_blocks"].as_u64().unwrap().div_ceil(255 - c.roots as u64);
        let mut rng = Rng::new(idx as u64 + 77);
        // Up to `roots` blocks of one round, plus one block of every other round hit.
        let round = rng.below(rounds);
        let mut blocks: Vec<u64> =
            (0..255 - c.roots as u64).map(|i| i * rounds + round).filter(|&b| b < covered).collect();
        for k in 0..blocks.len() {
            let j = k + rng.below((blocks.len() - k) as u64) as usize;
            blocks.swap(k, j);
        }
        blocks.truncate(c.roots as usize);
        let bs = c.bs as u64;
        for (n, &b) in blocks.iter().enumerate() {
            let file = if b < c.blocks { &f.ours.data } else { &f.ours.hash };
            let len = 1 + rng.below(bs) as usize;
            let at = rng.below(bs - len as u64 + 1);
            flip(file, block_offset(c, &f.ours, b, tree_start) + at, 1000 + n as u64, len);
        }
        // A damaged block under a damaged hash block is hidden from the tree: an unknown
        // error costs two parity bytes, so `roots` such blocks are beyond capability.
        // Undo the damage the tree cannot see; the rest (all of it, mostly) must go.
        let mut check = strings(&["verity", "verify", &s(&f.ours.data), &s(&f.ours.hash), &f.root, "--json"]);
        check.extend(reuse_args(&f.ours).into_iter().filter(|a| a.starts_with("--hash-offset")));
        let seen: serde_json::Value = serde_json::from_slice(&rootseal(&check).stdout).unwrap();
        let listed =
            |key: &str| -> Vec<u64> { seen[key].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect() };
        let (seen_data, seen_hash) = (listed("corrupted_data_blocks"), listed("corrupted_hash_blocks"));
        let mut visible = 0;
        for &b in &blocks {
            let shown =
                if b < c.blocks { seen_data.contains(&b) } else { seen_hash.contains(&(tree_start + b - c.blocks)) };
            if shown {
                visible += 1;
                continue;
            }
            let (file, original) =
                if b < c.blocks { (&f.ours.data, &originals[0].1) } else { (&f.ours.hash, &originals[1].1) };
            let at = block_offset(c, &f.ours, b, tree_start);
            fs::OpenOptions::new()
                .write(true)
                .open(file)
                .unwrap()
                .write_all_at(&original[at as usize..(at + bs) as usize], at)
                .unwrap();
        }
        largest = largest.max(visible);
        let damaged: Vec<Vec<u8>> = originals.iter().map(|(p, _)| fs::read(p).unwrap()).collect();

        let mut dry = verify_args(&f.ours, &f.root, &["verity", "repair"]);
        dry.extend(["--dry-run".into(), "--json".into()]);
        let out = rootseal(&dry);
        assert!(out.status.success(), "{c:?} dry run: {}", describe(&out));
        for ((p, _), before) in originals.iter().zip(&damaged) {
            assert!(fs::read(p).unwrap() == *before, "{c:?}: the dry run wrote {}", s(p));
        }
        let out = rootseal(&verify_args(&f.ours, &f.root, &["verity", "repair"]));
        assert!(out.status.success(), "{c:?} repair: {}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Repair done"), "{c:?}: {text}");
        for (p, original) in &originals {
            assert!(fs::read(p).unwrap() == *original, "{c:?}: {} is not restored ({blocks:?})", s(p));
        }
        let out = vs(&verify_args(&f.ours, &f.root, &["verify"]));
        assert!(out.status.success(), "{c:?}: {}", describe(&out));
        // Nothing left to do.
        let out = rootseal(&verify_args(&f.ours, &f.root, &["verity", "repair"]));
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("succeeded"),
            "{}",
            describe(&out)
        );
    }
    eprintln!("largest repair: {largest} damaged blocks in one round of codewords");
    assert!(largest >= 20, "largest repair {largest} blocks of one round");
}

/// One bad block more than roots in a round: exit 1, the blocks named, every file
/// unchanged. Damaged parity alone is rewritten by repair.
#[test]
fn repair_beyond_capability_writes_nothing_and_parity_is_rewritten() {
    let c = CASES[0];
    let f = format_both(400, &c);
    let rounds = f.json["fec_blocks"].as_u64().unwrap().div_ceil(253);
    let bs = c.bs as u64;
    for i in 0..3u64 {
        flip(&f.ours.data, (i * rounds + 1) * bs + 7, 50 + i, 1);
    }
    let files = [&f.ours.data, &f.ours.hash, &f.ours.fec];
    let before: Vec<Vec<u8>> = files.iter().map(|p| fs::read(p).unwrap()).collect();
    let out = rootseal(&verify_args(&f.ours, &f.root, &["verity", "repair"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot repair data block") && text.contains("nothing was written"), "{text}");
    for (p, b) in files.iter().zip(&before) {
        assert!(fs::read(p).unwrap() == *b, "{} changed", s(p));
    }

    // Parity damage only: repair rewrites it, veritysetup's parity comes back.
    let g = format_both(401, &c);
    flip(&g.ours.fec, 5, 51, 300);
    let out = rootseal(&verify_args(&g.ours, &g.root, &["verity", "repair"]));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(fs::read(&g.ours.fec).unwrap() == fs::read(&g.theirs.fec).unwrap());
}

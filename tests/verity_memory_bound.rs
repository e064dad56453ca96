//! Peak memory stays bounded whatever the image size: the data is read with `pread`
//! into a few buffers per worker, nothing is mapped. Alone in its own test binary so
//! that no other test moves this process's high-water mark (the address-space test
//! runs the command in a process of its own).

use rootseal::verity::{self, RunOptions, VerityOptions};

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn format_and_verify_of_256_mib_stay_far_below_the_image_size() {
    const IMAGE_MIB: u64 = 256;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.img");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&data).unwrap());
        let chunk: Vec<u8> = (0..1u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8).collect();
        for i in 0..IMAGE_MIB {
            let mut chunk = chunk.clone();
            chunk[0] = i as u8;
            file.write_all(&chunk).unwrap();
        }
    }
    let hash = dir.path().join("hash.img");
    let opts = VerityOptions { salt: Some(vec![7; 32]), ..Default::default() };

    let before = peak_rss_kib();
    // 16 threads where there are 16 cores (the count is capped at the cores).
    let run = RunOptions { threads: Some(16), ..Default::default() };
    let built = verity::format_paths(&data, &hash, &opts, &run).unwrap();
    let report = verity::verify_paths(&data, &hash, &opts, &built.root_hash, &run).unwrap();
    let grown_mib = (peak_rss_kib() - before) / 1024;

    assert!(report.is_intact());
    println!("peak RSS grew by {grown_mib} MiB for a {IMAGE_MIB} MiB image");
    assert!(grown_mib < IMAGE_MIB / 8, "peak RSS grew by {grown_mib} MiB for a {IMAGE_MIB} MiB image");
    assert!(grown_mib <= 64, "peak RSS grew by {grown_mib} MiB");
}

/// Format and verify of a 16 GiB image (sparse) under `ulimit -v 262144`: the address
/// space, not only the resident set, is bounded, on every core (the default thread
/// count). veritysetup needs about 7 MiB here; a whole-file mapping could not even start.
#[test]
fn format_and_verify_of_16_gib_fit_in_256_mib_of_address_space() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.img");
    let hash = dir.path().join("hash.img");
    std::fs::File::create(&data).unwrap().set_len(16 << 30).unwrap();
    let limited = |args: &str| {
        let script = format!("ulimit -v 262144 && exec \"$0\" verity {args}");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_rootseal"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "verity {args}: {:?} {stderr}", out.status);
        String::from_utf8(out.stdout).unwrap()
    };
    let (d, h) = (data.to_str().unwrap(), hash.to_str().unwrap());
    let formatted = limited(&format!("format --salt 00 {d} {h}"));
    let root = formatted
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:"))
        .map(|r| r.trim().to_string())
        .unwrap_or_else(|| panic!("no root hash in {formatted}"));
    // Before this engine both commands failed at once: "mapping …: Cannot allocate memory".
    limited(&format!("verify {d} {h} {root}"));
}

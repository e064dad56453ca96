//! Peak memory stays bounded whatever the image size: the data is memory-mapped, and
//! hashed pages are dropped from the resident set as the walk passes them. Alone in its
//! own test binary so that no other test moves this process's high-water mark.

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
    let built = verity::format_paths(&data, &hash, &opts, &RunOptions::default()).unwrap();
    let report = verity::verify_paths(&data, &hash, &opts, &built.root_hash, &RunOptions::default()).unwrap();
    let grown_mib = (peak_rss_kib() - before) / 1024;

    assert!(report.is_intact());
    println!("peak RSS grew by {grown_mib} MiB for a {IMAGE_MIB} MiB image");
    assert!(grown_mib < IMAGE_MIB / 8, "peak RSS grew by {grown_mib} MiB for a {IMAGE_MIB} MiB image");
}

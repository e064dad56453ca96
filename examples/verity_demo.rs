//! The main job on a built-in example: build a small image, give it a dm-verity tree,
//! verify it, flip one byte, and watch verification name the corrupted block.
//!
//! Run with `cargo run --release --example verity_demo`.

use rootseal::text::encode_hex;
use rootseal::verity::{self, RunOptions, TableOptions, VerityOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let image = dir.path().join("usr.img");

    // A Flatcar-style USR partition: 16 MiB of "file system", then the superblock and
    // tree in the same file, right after the data.
    let data_blocks: u64 = 4096;
    let fs: Vec<u8> = (0..data_blocks * 4096).map(|i| (i.wrapping_mul(0x9e37_79b9) >> 11) as u8).collect();
    std::fs::write(&image, &fs)?;
    let opts = VerityOptions { data_blocks: Some(data_blocks), hash_offset: data_blocks * 4096, ..Default::default() };

    let built = verity::format_paths(&image, &image, &opts, &RunOptions::default())?;
    println!("formatted {} ({} data blocks of 4096 bytes, sha256)", image.display(), data_blocks);
    println!("  salt:      {}", encode_hex(&built.config.salt));
    println!("  root hash: {}", encode_hex(&built.root_hash));
    println!("  tree:      {} hash blocks from block {}", built.layout.hash_blocks(), built.layout.hash_start_block());
    let table =
        verity::kernel_table(&built.config, "/dev/sda3", "/dev/sda3", &built.root_hash, &TableOptions::default())?;
    println!("  dm table:  {table}");

    let report = verity::verify_paths(&image, &image, &opts, &built.root_hash, &RunOptions::default())?;
    println!("verify of the pristine image: {}", if report.is_intact() { "intact" } else { "CORRUPTED" });

    // One bit of one byte in data block 1234 goes bad, as on a failing disk.
    let mut bytes = std::fs::read(&image)?;
    bytes[1234 * 4096 + 99] ^= 0x01;
    std::fs::write(&image, &bytes)?;
    let report = verity::verify_paths(&image, &image, &opts, &built.root_hash, &RunOptions::default())?;
    println!(
        "after flipping one bit at byte {}: corrupted data blocks {:?}, corrupted hash blocks {:?}",
        1234 * 4096 + 99,
        report.corrupted_data_blocks,
        report.corrupted_hash_blocks
    );
    if report.corrupted_data_blocks != [1234] {
        return Err("the corruption was not pinned to block 1234".into());
    }
    println!("the kernel would refuse to read block 1234; every other block still verifies.");
    Ok(())
}

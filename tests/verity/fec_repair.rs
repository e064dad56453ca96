//! Repair through the library API: a power cut after every write of a repair (as the
//! GPT crash campaign cuts GPT writes) leaves every block old or new, never a new bad
//! one, and a second run finishes the job; bad FEC placements are refused.

use crate::common::{pseudo_random, run_options};
use rootseal::io::{BlockRead, BlockWrite, MemoryDevice};
use rootseal::verity::fec::{self, EncodeOptions, FecError, FecOptions, FecPlacement, Sharing};
use rootseal::verity::{self, VerityOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A memory device whose writes fail once a shared budget is spent: the power cut.
struct Cut {
    inner: MemoryDevice,
    budget: Arc<AtomicUsize>,
}

impl BlockRead for Cut {
    fn size(&self) -> std::io::Result<u64> {
        self.inner.size()
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> std::io::Result<&'a [u8]> {
        self.inner.read_view(offset, len, scratch)
    }
}

impl BlockWrite for Cut {
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        match self.budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => self.inner.write_at(offset, data),
            Err(_) => Err(std::io::Error::other("power cut")),
        }
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn capacity(&self) -> std::io::Result<Option<u64>> {
        self.inner.capacity()
    }
}

struct Image {
    data: Vec<u8>,
    hash: Vec<u8>,
    fec: Vec<u8>,
    opts: VerityOptions,
    root: Vec<u8>,
    placement: FecPlacement,
}

fn image(blocks: u64, roots: u32) -> Image {
    let data = pseudo_random(roots as u64, (blocks * 4096) as usize);
    let hash = MemoryDevice::default();
    let opts = VerityOptions { salt: Some(vec![7; 32]), ..Default::default() };
    let built = verity::format(&data, &hash, false, &opts, &run_options()).unwrap();
    let hash = hash.into_inner();
    let fec_opts = FecOptions { roots, ..Default::default() };
    let placement =
        FecPlacement::new(&built.config, &built.layout, hash.len() as u64, Sharing::default(), &fec_opts).unwrap();
    let fec = MemoryDevice::default();
    fec::encode(&data, &hash, &placement.layout, &fec, 0, &EncodeOptions::default()).unwrap();
    Image { data, hash, fec: fec.into_inner(), opts, root: built.root_hash, placement }
}

fn run(
    img: &Image,
    data: &[u8],
    hash: &[u8],
    fec: &[u8],
    budget: usize,
) -> (Result<fec::RepairReport, FecError>, [Vec<u8>; 3]) {
    let budget = Arc::new(AtomicUsize::new(budget));
    let dev = |b: &[u8]| Cut { inner: MemoryDevice::new(b.to_vec()), budget: budget.clone() };
    let (d, h, f) = (dev(data), dev(hash), dev(fec));
    let result = fec::repair(&d, &h, &f, false, &img.opts, &img.root, &img.placement, &run_options(), true);
    (result, [d.inner.into_inner(), h.inner.into_inner(), f.inner.into_inner()])
}

#[test]
fn power_cut_after_every_write_of_a_repair_then_a_second_run_finishes() {
    let img = image(700, 4);
    let rounds = img.placement.layout.rounds();
    let (mut data, mut hash, mut fec) = (img.data.clone(), img.hash.clone(), img.fec.clone());
    // Four bad data blocks in round 2, the top tree block (round 1, hiding every data
    // block below it), a bad data block in round 0, and a damaged parity block of round 0.
    for (k, block) in [2, rounds + 2, 2 * rounds + 2, 5 * rounds + 2, 0].into_iter().enumerate() {
        let at = (block * 4096 + 100) as usize;
        data[at..at + 50].copy_from_slice(&pseudo_random(k as u64, 50));
    }
    hash[4096 + 10] ^= 0x40; // the first tree block after the superblock
    fec[4096 * 3 + 9] ^= 1;
    let bad_before = verity::verify(&data, &hash, false, &img.opts, &img.root, &run_options()).unwrap();
    assert!(!bad_before.is_intact());

    let (full, _) = run(&img, &data, &hash, &fec, usize::MAX);
    let report = full.unwrap();
    assert!(report.written && report.is_repairable());
    let writes =
        report.repairable_data_blocks.len() + report.repairable_hash_blocks.len() + report.parity_mismatch_blocks.len();
    assert!(writes >= 6, "{report:?}");

    for budget in 0..writes {
        let (result, [d, h, f]) = run(&img, &data, &hash, &fec, budget);
        assert!(matches!(result, Err(FecError::Io { .. })), "budget {budget}: {result:?}");
        // Every block is old or new: nothing the tree sees as bad was not bad before.
        let mid = verity::verify(&d, &h, false, &img.opts, &img.root, &run_options()).unwrap();
        for b in &mid.corrupted_data_blocks {
            assert!(report.repairable_data_blocks.contains(b), "budget {budget}: data block {b} newly bad");
        }
        for b in &mid.corrupted_hash_blocks {
            assert!(report.repairable_hash_blocks.contains(b), "budget {budget}: hash block {b} newly bad");
        }
        let (second, [d2, h2, f2]) = run(&img, &d, &h, &f, usize::MAX);
        second.unwrap_or_else(|e| panic!("budget {budget}: second run {e}"));
        assert!(d2 == img.data && h2 == img.hash && f2 == img.fec, "budget {budget}: not restored");
    }
}

#[test]
fn bad_placements_are_refused() {
    let img = image(300, 2);
    let config = img.placement_config();
    let tree = config.validate().unwrap();
    let tree_end = tree.hash_end_bytes().unwrap();
    let place = |size: u64, sharing: Sharing, roots: u32, offset: u64| {
        FecPlacement::new(&config, &tree, size, sharing, &FecOptions { roots, offset, backend: None })
    };
    let in_hash = Sharing { with_hash: true, with_data: false };
    assert!(matches!(place(tree_end, Sharing::default(), 1, 0), Err(FecError::InvalidRoots(1))));
    assert!(matches!(place(tree_end, Sharing::default(), 25, 0), Err(FecError::InvalidRoots(25))));
    assert!(matches!(place(tree_end, Sharing::default(), 2, 512), Err(FecError::MisalignedOffset { .. })));
    assert!(matches!(place(tree_end, in_hash, 2, 4096), Err(FecError::AreasOverlap { .. })));
    assert!(matches!(place(tree_end, in_hash, 2, tree_end + 4096), Err(FecError::InputTooShort { .. })));
    assert!(place(tree_end, in_hash, 2, tree_end).is_ok());
    let in_data = Sharing { with_hash: false, with_data: true };
    assert!(matches!(place(tree_end, in_data, 2, 4096 * 100), Err(FecError::AreasOverlap { .. })));
    let mut odd = config.clone();
    odd.hash_block_size = 1024;
    let odd_tree = odd.validate().unwrap();
    assert!(matches!(
        FecPlacement::new(&odd, &odd_tree, tree_end, Sharing::default(), &FecOptions::default()),
        Err(FecError::BlockSizesDiffer { .. })
    ));

    // A FEC device shorter than the parity area, and roots disagreeing with its size.
    let short = MemoryDevice::new(img.fec[..img.fec.len() - 1].to_vec());
    let r = fec::repair(
        &MemoryDevice::new(img.data.clone()),
        &MemoryDevice::new(img.hash.clone()),
        &short,
        false,
        &img.opts,
        &img.root,
        &img.placement,
        &run_options(),
        false,
    );
    assert!(matches!(r, Err(FecError::ParityTooShort { .. })), "{r:?}");
    let wrong = fec::existing_placement(
        &config,
        img.hash.len() as u64,
        Sharing::default(),
        Some(img.fec.len() as u64),
        &FecOptions { roots: 24, ..Default::default() },
    );
    assert!(matches!(wrong, Err(FecError::ParityTooShort { .. })), "{wrong:?}");
}

impl Image {
    fn placement_config(&self) -> verity::VerityConfig {
        let dev = MemoryDevice::new(self.hash.clone());
        verity::resolve_existing_config(&dev, &self.opts, self.data.len() as u64).unwrap().0
    }
}

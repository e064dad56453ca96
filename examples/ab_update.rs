//! The Rust twin of `examples/c/ab_update.c`: a whole Flatcar A/B update cycle on a disk
//! image made here with sgdisk.
//!
//! 1. verify the update payload's signature (a P-256 key made at run time stands in for
//!    the vendor's key); 2. write the new /usr image to the idle slot, USR-B; 3. build its
//!    dm-verity tree inside the slot and print the kernel table line; 4. mark-update USR-B;
//!    5. the boot loader's `next` uses the try, checking the bytes it loads against the
//!    root hash; 6. mark-good; 7. a later update to USR-A never comes up, and the boot
//!    after its trial falls back to USR-B. At the end `sgdisk -v`, `cgpt show` and
//!    `veritysetup verify` must accept the disk and the slot.
//!
//! Needs `sgdisk` (gdisk), `cgpt` and `veritysetup`: `./scripts/setup.sh` installs them.

use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use rootseal::crypto::CryptoContext;
use rootseal::gpt::{self, BlockSize, FlatcarSlots, Guid};
use rootseal::io::{BlockRead, BlockWrite};
use rootseal::sig::{Policy, TrustStore};
use rootseal::verity::{self, RunOptions, TableOptions, VerityOptions};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::process::Command;
use std::sync::Arc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn tool(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One partition of the image file, as a rootseal device: `[base, base + size)`.
struct Window {
    file: File,
    base: u64,
    size: u64,
}

impl Window {
    fn check(&self, offset: u64, len: usize) -> io::Result<u64> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.size => Ok(self.base + offset),
            _ => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "outside the partition")),
        }
    }
}

impl BlockRead for Window {
    fn size(&self) -> io::Result<u64> {
        Ok(self.size)
    }
    fn read_view<'a>(&'a self, offset: u64, len: usize, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        scratch.resize(len, 0);
        self.file.read_exact_at(scratch, self.check(offset, len)?)?;
        Ok(scratch)
    }
}

impl BlockWrite for Window {
    fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, self.check(offset, data.len())?)
    }
    fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }
    fn capacity(&self) -> io::Result<Option<u64>> {
        Ok(Some(self.size))
    }
}

fn make_disk(path: &str) -> Result<()> {
    File::create(path)?.set_len(64 << 20)?;
    let usr = Guid::FLATCAR_USR.to_string();
    let args = [
        "-o".to_string(),
        "-n=1:0:+8M".into(),
        "-t=1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b".into(),
        "-c=1:EFI-SYSTEM".into(),
        "-n=3:0:+16M".into(),
        format!("-t=3:{usr}"),
        "-c=3:USR-A".into(),
        format!("-u=3:{}", gpt::USR_A_PARTUUID),
        "-n=4:0:+16M".into(),
        format!("-t=4:{usr}"),
        "-c=4:USR-B".into(),
        format!("-u=4:{}", gpt::USR_B_PARTUUID),
        "-n=9:0:0".into(),
        "-t=9:3884dd41-8582-4404-b9a8-e9b84f2df50e".into(),
        "-c=9:ROOT".into(),
        path.into(),
    ];
    tool("sgdisk", &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    Ok(())
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let image = dir.path().join("flatcar.img");
    let path = image.to_str().ok_or("temporary path is not UTF-8")?;
    make_disk(path)?;
    let disk = gpt::open_path(&image, BlockSize::Detect, true)?;
    let slots = FlatcarSlots::find(&disk.read()?, Guid::FLATCAR_USR)?;
    let (a, b) = (slots.a.index, slots.b.index);
    let show = |step: &str| -> Result<()> {
        let table = disk.read()?;
        let (wa, wb) = (table.partition(a)?.attributes, table.partition(b)?.attributes);
        println!(
            "   {step:<44} USR-A P{} T{} S{}   USR-B P{} T{} S{}",
            wa.priority(),
            wa.tries(),
            u8::from(wa.successful()),
            wb.priority(),
            wb.tries(),
            u8::from(wb.successful())
        );
        Ok(())
    };
    let boot = |why: &str| -> Result<u32> {
        let next = disk.next(Guid::FLATCAR_USR)?;
        let name = if next.partition.index == a { "USR-A" } else { "USR-B" };
        let what = if next.written { "one try used, table written" } else { "no try needed, nothing written" };
        println!("{why}: the boot loader picks {name} ({what})");
        Ok(next.partition.index)
    };

    disk.mark_good(a, Guid::FLATCAR_USR)?;
    println!("0. a 64 MiB Flatcar disk image: the running system is on USR-A");
    show("after the image build")?;

    // 1. The vendor signs the payload; the agent installs nothing it cannot verify.
    let payload: Vec<u8> = (0..8u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    let signature = signer.sign_oneshot_to_vec(&payload)?;
    let mut store = TrustStore::new(Arc::new(CryptoContext::default_provider()));
    store.add_bytes(&key.public_key_to_pem()?, "the vendor's update key")?;
    let verified = store.verify_bytes_auto(&payload, &signature, Policy::Default)?;
    println!("1. the payload signature verifies ({}, provider {})", verified.scheme, verified.provider);
    let mut tampered = payload.clone();
    tampered[payload.len() / 2] ^= 1;
    let refused = store.verify_bytes_auto(&tampered, &signature, Policy::Default).expect_err("tampered payload");
    println!("   the same payload with one bit flipped: {refused}");
    let foreign = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let foreign_signature = Signer::new(MessageDigest::sha256(), &foreign)?.sign_oneshot_to_vec(&payload)?;
    let refused = store.verify_bytes_auto(&payload, &foreign_signature, Policy::Default).expect_err("untrusted key");
    println!("   the same payload signed by a key that is not trusted: {refused}");

    // 2. The idle slot gets the image.
    let slot = disk.read()?.partition(b)?;
    let usr_b = Window {
        file: File::options().read(true).write(true).open(&image)?,
        base: slot.first_lba * 512,
        size: (slot.last_lba - slot.first_lba + 1) * 512,
    };
    usr_b.write_at(0, &payload)?;
    usr_b.flush()?;
    println!(
        "2. {} bytes written to USR-B (LBA {}-{}, PARTUUID {})",
        payload.len(),
        slot.first_lba,
        slot.last_lba,
        slot.unique_guid
    );

    // 3. The tree goes after the file system in the same partition (Flatcar's layout).
    let opts = VerityOptions {
        data_blocks: Some(payload.len() as u64 / 4096),
        hash_offset: payload.len() as u64,
        ..Default::default()
    };
    let tree = verity::format(&usr_b, &usr_b, true, &opts, &RunOptions::default())?;
    let device = format!("/dev/disk/by-partuuid/{}", slot.unique_guid);
    let table = verity::kernel_table(&tree.config, &device, &device, &tree.root_hash, &TableOptions::default())?;
    println!("3. verity tree built in USR-B after the data; the kernel table line:\n   {table}");

    // 4. One trial boot for the new slot.
    disk.mark_update(b, Guid::FLATCAR_USR)?;
    println!("4. mark-update USR-B: highest priority, one try, not yet successful");
    show("after mark-update")?;

    // 5. The boot loader chooses, and checks what it loads before trusting it.
    assert_eq!(boot("5. reboot")?, b);
    let loaded = verity::verify_range(&usr_b, &usr_b, true, &opts, &tree.root_hash, 0..1 << 20, &Default::default())?;
    assert!(loaded.is_intact());
    println!("   it checks the first MiB it loads from USR-B against the root hash: intact");
    show("during the trial boot")?;

    // 6. The new system came up.
    disk.mark_good(b, Guid::FLATCAR_USR)?;
    println!("6. USR-B came up and marks itself good");
    show("after mark-good")?;
    assert_eq!(boot("   next reboot")?, b);

    // 7. The next update, to USR-A, never comes up.
    disk.mark_update(a, Guid::FLATCAR_USR)?;
    println!("7. a later update is installed to USR-A the same way and marked for update");
    show("after mark-update")?;
    assert_eq!(boot("   reboot")?, a);
    println!("   USR-A hangs before it can mark itself good; the machine is reset");
    assert_eq!(boot("   reboot")?, b);
    println!("   rolled back: USR-A has no tries left and was never successful, USR-B still is");
    show("after the rollback")?;
    drop(disk);

    // The peers agree: both GPT copies are sound and veritysetup accepts the slot.
    let verdict = tool("sgdisk", &["-v", path])?;
    assert!(verdict.contains("No problems found"), "sgdisk -v: {verdict}");
    let shown = tool("cgpt", &["show", path])?;
    assert!(!shown.contains("INVALID"), "cgpt show: {shown}");
    let partition = dir.path().join("usr-b.img");
    let mut bytes = vec![0u8; usr_b.size as usize];
    usr_b.file.read_exact_at(&mut bytes, usr_b.base)?;
    std::fs::write(&partition, bytes)?;
    let part = partition.to_str().ok_or("temporary path is not UTF-8")?;
    let root = rootseal::text::encode_hex(&tree.root_hash);
    tool("veritysetup", &["verify", &format!("--hash-offset={}", opts.hash_offset), part, part, &root])?;
    println!("sgdisk -v, cgpt show and veritysetup verify accept the result");
    Ok(())
}

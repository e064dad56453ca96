//! The freestanding boot library (issue 13, part 2): `scripts/build-boot.sh` prints the
//! archive's path last; the archive needs only memcpy/memmove/memset/memcmp (checked
//! here with nm and by linking it into a program with no libc at all); the committed
//! include/rootseal_boot.h is what cbindgen generates and compiles with
//! `-ffreestanding -nostdinc`; and tests/c/boot_smoke.c, linked against the archive,
//! reads what veritysetup, sha256sum and sha512sum say it should.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::c_support::{VALGRIND, manifest_dir, run, wrapped};

/// The archive, built once per test run by the documented command.
fn archive() -> &'static Path {
    crate::c_support::boot_archive()
}

fn boot_header() -> PathBuf {
    manifest_dir().join("include/rootseal_boot.h")
}

#[test]
fn committed_boot_header_matches_cbindgen() {
    let dir = manifest_dir();
    let config = cbindgen::Config::from_file(dir.join("boot/cbindgen.toml")).expect("boot/cbindgen.toml parses");
    // cbindgen follows the `mod` items of boot/src/ffi/mod.rs to the other files.
    let builder = cbindgen::Builder::new().with_config(config).with_src(dir.join("boot/src/ffi/mod.rs"));
    let mut fresh = Vec::new();
    builder.generate().expect("cbindgen generates the boot header").write(&mut fresh);
    let fresh = String::from_utf8(fresh).unwrap();
    if std::env::var_os("ROOTSEAL_BLESS").is_some() {
        std::fs::write(boot_header(), &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(boot_header()).expect("include/rootseal_boot.h is committed");
    assert!(
        fresh == committed,
        "include/rootseal_boot.h is stale: regenerate it with `ROOTSEAL_BLESS=1 cargo test --test c_abi -- boot::` and commit it"
    );
    for name in
        ["rootseal_boot_verity_superblock_read", "rootseal_boot_kernel_usrhash_read", "ROOTSEAL_BOOT_IO_VERSION"]
    {
        assert!(committed.contains(name), "{name} missing from the boot header");
    }
}

/// GCC's own freestanding headers (stdint.h, stddef.h), and nothing of libc.
fn freestanding_include() -> String {
    let out = run(Command::new("cc").arg("-print-file-name=include"));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn boot_header_compiles_freestanding_as_c_and_cxx() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("use.c");
    std::fs::write(
        &source,
        "#include \"rootseal_boot.h\"\nstatic rootseal_boot_io io;\nuint32_t use(void) { return io.version + rootseal_boot_version(); }\n",
    )
    .unwrap();
    let include = manifest_dir().join("include");
    for (compiler, std) in [("cc", "-std=c99"), ("c++", "-std=c++11")] {
        run(Command::new(compiler)
            .args(["-ffreestanding", "-nostdinc", "-isystem", &freestanding_include(), std])
            .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"])
            .args(if compiler == "c++" { &["-x", "c++"][..] } else { &[] })
            .arg("-I")
            .arg(&include)
            .arg(&source));
    }
}

#[test]
fn archive_needs_only_the_four_mem_functions() {
    let out = run(Command::new("nm").arg("--undefined-only").arg(archive()));
    let needed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.trim().strip_prefix("U "))
        .map(str::to_string)
        .collect();
    for symbol in &needed {
        assert!(["memcpy", "memmove", "memset", "memcmp"].contains(&symbol.as_str()), "the archive needs {symbol}");
    }
    let out = run(Command::new("nm").args(["--defined-only", "--extern-only"]).arg(archive()));
    let exported = String::from_utf8(out.stdout).unwrap();
    for line in exported.lines().filter(|l| l.contains(' ')) {
        let name = line.rsplit(' ').next().unwrap();
        assert!(name.starts_with("rootseal_boot_"), "the archive exports {name}, which could clash with firmware");
    }

    // And the proof a boot loader gets: a program with no libc, no start files and no
    // default libraries links against it, given only the four functions.
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("bare.c");
    std::fs::write(&source, BARE_PROGRAM).unwrap();
    let exe = dir.path().join("bare");
    run(Command::new("cc")
        .args(["-ffreestanding", "-nostdinc", "-isystem", &freestanding_include(), "-std=c99", "-O1"])
        .args(["-nostdlib", "-nostartfiles", "-static", "-fno-pie", "-no-pie", "-Wl,--gc-sections"])
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg(&source)
        .arg(archive())
        .arg("-o")
        .arg(&exe));
    // It runs, too: its exit status is the SHA-256 check's result.
    let status = Command::new(&exe).status().unwrap();
    assert_eq!(status.code(), Some(0), "the libc-free program failed: {status:?}");
}

/// Calls every entry point with only the four mem functions around it; exits 0 when
/// SHA-256("abc") is right.
const BARE_PROGRAM: &str = r#"
#include "rootseal_boot.h"
void *memcpy(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; if (a < b) while (n--) *a++ = *b++; else while (n--) a[n] = b[n]; return d; }
void *memset(void *d, int c, size_t n) { unsigned char *a = d; while (n--) *a++ = (unsigned char)c; return d; }
int memcmp(const void *x, const void *y, size_t n) { const unsigned char *a = x, *b = y; for (; n--; a++, b++) if (*a != *b) return *a - *b; return 0; }
static void leave(long code) { __asm__ volatile("syscall" :: "a"(60L), "D"(code) : "rcx", "r11", "memory"); for (;;) {} }
static const uint8_t ABC_SHA256[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
/* The kernel enters with the stack 16-byte aligned, not as a call would leave it. */
__asm__(".globl _start\n_start:\n\txor %ebp, %ebp\n\tand $-16, %rsp\n\tcall bare_main\n\thlt\n");
void bare_main(void);
void bare_main(void) {
    uint8_t out[64], zero[576] = { 0 };
    char text[96];
    uint32_t arch;
    rootseal_boot_verity_superblock sb;
    rootseal_boot_io io = { 0 };
    int bad = rootseal_boot_version() != ROOTSEAL_BOOT_VERSION;
    bad |= rootseal_boot_sha256((const uint8_t *)"abc", 3, out, 32) != ROOTSEAL_BOOT_STATUS_OK;
    bad |= memcmp(out, ABC_SHA256, 32) != 0;
    bad |= rootseal_boot_sha512((const uint8_t *)"abc", 3, out, 64) != ROOTSEAL_BOOT_STATUS_OK;
    bad |= rootseal_boot_verity_superblock_parse(zero, 512, &sb) != ROOTSEAL_BOOT_STATUS_VERITY_NO_SUPERBLOCK;
    bad |= rootseal_boot_verity_superblock_read(&io, 0, &sb) != ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION;
    bad |= rootseal_boot_kernel_usrhash_parse(zero, sizeof zero, 0, text, sizeof text, &arch) != ROOTSEAL_BOOT_STATUS_VERITY_NOT_A_KERNEL;
    bad |= rootseal_boot_kernel_usrhash_read(&io, 0, 0, text, sizeof text, &arch) != ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION;
    bad |= rootseal_boot_kernel_cmdline_suffix(zero, sizeof zero, 1, text, sizeof text) != ROOTSEAL_BOOT_STATUS_VERITY_NO_USR_HASH;
    rootseal_boot_verity_params params = { 0 };
    rootseal_boot_verity_range_result result;
    size_t need;
    bad |= rootseal_boot_verity_range_scratch_size(&params, &need) != ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION;
    bad |= rootseal_boot_verity_verify_range(&params, 0, 1, out, sizeof out, &result) != ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION;
    leave(bad);
}
"#;

const HASH: &str = "6a1f6c3e0e4d2b9a8c7f5e3d1b0a99887766554433221100ffeeddccbbaa0918";

/// A kernel image of `arch` ("x86_64" or "arm64") as Flatcar's build leaves it: the magic
/// and the usr hash in its slot, then some body.
fn kernel_image(arch: &str, hash: &str) -> Vec<u8> {
    let mut image = vec![0x5au8; 8192];
    image[..1024].fill(0);
    let (magic_at, magic, slot): (usize, &[u8], usize) =
        if arch == "x86_64" { (0x202, b"HdrS", 0x40) } else { (0x38, b"ARM\x64", 512) };
    image[magic_at..magic_at + 4].copy_from_slice(magic);
    image[slot..slot + 64].copy_from_slice(hash.as_bytes());
    image
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(key))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{key} missing from:\n{text}"))
}

fn tool_digest(tool: &str, path: &Path) -> String {
    let out = run(Command::new(tool).arg(path));
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[test]
fn boot_smoke_reads_what_veritysetup_and_sha_sums_say() {
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::c_support::compile_boot("boot_smoke.c", dir.path());
    let data = dir.path().join("data.img");
    let bytes: Vec<u8> = (0..300u32 * 1024).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
    std::fs::write(&data, &bytes).unwrap();
    for (arch, number, hash_alg, block, salt) in
        [("x86_64", 1, "sha256", "4096", "deadbeef"), ("arm64", 2, "sha512", "1024", "00112233445566778899")]
    {
        let hash = dir.path().join(format!("hash-{arch}.img"));
        let _ = std::fs::remove_file(&hash);
        let formatted = run(Command::new("veritysetup")
            .args(["format", "--hash", hash_alg, "--data-block-size", block, "--salt", salt])
            .args(["--uuid", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"])
            .arg(&data)
            .arg(&hash));
        let root = crate::common::parse_root_hash(&formatted.stdout);
        let dump = String::from_utf8(run(Command::new("veritysetup").arg("dump").arg(&hash)).stdout).unwrap();
        let kernel = dir.path().join(format!("vmlinuz-{arch}"));
        std::fs::write(&kernel, kernel_image(arch, HASH)).unwrap();

        // Under valgrind where it is installed: no invalid access on any path.
        let wrapper: &[&str] = if Path::new("/usr/bin/valgrind").exists() { &VALGRIND } else { &[] };
        let out = run(wrapped(&exe, wrapper).arg(&hash).arg(&kernel).arg(&data).arg(&root));
        let got = String::from_utf8(out.stdout).unwrap();
        assert!(got.contains(" 0 failed"), "C checks failed:\n{got}");
        let superblock = field(&got, "superblock ");
        let expected = format!(
            "hash_type={} data_block_size={} hash_block_size={} data_blocks={} algorithm={} digest_size={}",
            field(&dump, "Hash type:"),
            field(&dump, "Data block size:"),
            field(&dump, "Hash block size:"),
            field(&dump, "Data blocks:"),
            field(&dump, "Hash algorithm:"),
            if hash_alg == "sha256" { 32 } else { 64 },
        );
        assert_eq!(superblock, expected, "superblock fields differ from veritysetup dump");
        assert_eq!(field(&got, "salt "), field(&dump, "Salt:"));
        assert_eq!(field(&got, "uuid "), field(&dump, "UUID:").replace('-', ""));
        assert_eq!(field(&got, "usrhash "), format!("{HASH} arch={number}"));
        // GRUB's rule: a space, verity.usrhash=, the 64 characters.
        assert_eq!(got.lines().find_map(|l| l.strip_prefix("cmdline ")).unwrap(), format!(" verity.usrhash={HASH}"));
        assert_eq!(field(&got, "sha256 "), tool_digest("sha256sum", &data));
        assert_eq!(field(&got, "sha512 "), tool_digest("sha512sum", &data));
        assert_eq!(field(&got, "sha256-empty "), tool_digest("sha256sum", Path::new("/dev/null")));
        check_ranges(&got, &data, &hash, &root, block.parse().unwrap());
    }
}

/// The range verifications the C program printed ("range LABEL status first count
/// first-hash hash-count"), against what veritysetup verify says of the same bytes.
fn check_ranges(got: &str, data: &Path, hash: &Path, root: &str, block_size: usize) {
    let outcome = |label: &str| field(got, &format!("range {label} ")).to_string();
    let verifies = |data: &Path, hash: &Path| {
        Command::new("veritysetup").arg("verify").arg(data).arg(hash).arg(root).output().unwrap().status.success()
    };
    assert!(verifies(data, hash), "veritysetup refuses the intact image");
    for label in ["whole", "middle", "geometry", "beside"] {
        assert_eq!(outcome(label), "0 0 0 0 0", "{label}");
    }
    // The flips the C program made, made again for veritysetup.
    let dir = data.parent().unwrap();
    let mut bytes = std::fs::read(data).unwrap();
    bytes[7 * block_size + 100] ^= 0x10;
    let flipped = dir.join("flipped.img");
    std::fs::write(&flipped, &bytes).unwrap();
    assert!(!verifies(&flipped, hash), "veritysetup accepts the flipped data");
    assert_eq!(outcome("flipped"), "100 7 1 0 0", "the flipped data block is 7");
    let mut tree = std::fs::read(hash).unwrap();
    let hash_block = 4096;
    let at = tree.len() - hash_block + 5;
    tree[at] ^= 0x01;
    let bad_tree = dir.join("bad-tree.img");
    std::fs::write(&bad_tree, &tree).unwrap();
    assert!(!verifies(data, &bad_tree), "veritysetup accepts the damaged tree");
    let last_block = (tree.len() / hash_block - 1) as u64;
    assert_eq!(outcome("tree"), format!("100 0 0 {last_block} 1"), "the damaged hash block is the last");
    assert!(outcome("short-data").starts_with("106 "));
    assert!(outcome("short-hash").starts_with("107 "));
    assert!(outcome("failing").starts_with("8 "));

    // The verified reader: every byte of the data file, then the flipped block refused.
    let data_len = std::fs::metadata(data).unwrap().len();
    assert_eq!(field(got, "reader read "), format!("{data_len} same 1"));
    let before = (block_size as u64).min(1000);
    assert_eq!(field(got, "reader before "), before.to_string(), "the read before block 7 stops at it");
    assert_eq!(field(got, "reader flipped "), "100 7 0 0", "block 7 refused, no bytes");
}

/// `NAME = number` pairs of the enumerators starting with `prefix` in a header.
fn enumerators(header: &Path, prefix: &str) -> Vec<(String, i64)> {
    std::fs::read_to_string(header)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().strip_prefix(prefix)?.split_once(" = ")?;
            Some((name.to_string(), value.trim_end_matches(',').parse().ok()?))
        })
        .collect()
}

/// Every boot status means what the host status of the same name means, with the same
/// number: one code base can handle both libraries' results with one table.
#[test]
fn boot_statuses_have_the_host_numbers() {
    let host = enumerators(&manifest_dir().join("include/rootseal.h"), "ROOTSEAL_STATUS_");
    let boot = enumerators(&boot_header(), "ROOTSEAL_BOOT_STATUS_");
    assert!(boot.len() >= 30, "too few boot statuses parsed: {boot:?}");
    for (name, number) in &boot {
        let same = host.iter().find(|(host_name, _)| host_name == name);
        assert_eq!(same.map(|(_, n)| n), Some(number), "ROOTSEAL_BOOT_STATUS_{name} = {number}");
    }
}

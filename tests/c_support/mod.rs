//! Building and running the C test programs against the libraries cargo built for this
//! test run, shared by the C tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo put librootseal.a and librootseal.so for this test run: next to the test
/// executable (`target/<profile>/deps`), which `cargo test` fills without uplifting.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    assert!(
        deps.join("librootseal.a").exists() && deps.join("librootseal.so").exists(),
        "librootseal.a/.so not found in {}",
        deps.display()
    );
    deps.to_path_buf()
}

/// Runs `cmd` and fails the test, with both output streams, unless it succeeds.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Compiles `tests/c/<source>` as strict C99 against the committed header and links it
/// against the static or the shared library.
pub fn compile(source: &str, static_link: bool, dir: &Path) -> PathBuf {
    let exe = dir.join(format!("{source}-{}", if static_link { "static" } else { "shared" }));
    let mut cc = Command::new("cc");
    cc.args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wundef"])
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg(manifest_dir().join("tests/c").join(source))
        .arg("-o")
        .arg(&exe);
    if static_link {
        cc.arg(lib_dir().join("librootseal.a")).args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"]);
        // The payload-signature code links the system OpenSSL, which the .a does not bundle.
        cc.args(["-lssl", "-lcrypto"]);
    } else {
        // Cargo leaves an unversioned librootseal.so; the loader asks for the SONAME.
        let libs = dir.join("lib");
        std::fs::create_dir_all(&libs).unwrap();
        for name in ["librootseal.so", "librootseal.so.0"] {
            let _ = std::os::unix::fs::symlink(lib_dir().join("librootseal.so"), libs.join(name));
        }
        cc.arg("-L").arg(&libs).arg("-lrootseal").arg(format!("-Wl,-rpath,{}", libs.display()));
    }
    if cfg!(feature = "test-panic") {
        cc.arg("-DROOTSEAL_TEST_PANIC");
    }
    run(&mut cc);
    exe
}

/// The command that runs `exe`, under `wrapper` (e.g. valgrind) when one is given.
pub fn wrapped(exe: &Path, wrapper: &[&str]) -> Command {
    match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(exe);
            cmd
        }
        None => Command::new(exe),
    }
}

pub const VALGRIND: [&str; 5] =
    ["valgrind", "--quiet", "--error-exitcode=1", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect"];

/// librootseal_boot.a, built once per test binary by the documented command
/// (`scripts/build-boot.sh`, whose last line is the archive's path).
pub fn boot_archive() -> &'static Path {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let out = run(Command::new("bash").arg(manifest_dir().join("scripts/build-boot.sh")));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let last = stdout.lines().last().expect("build-boot.sh printed the archive path");
        let path = PathBuf::from(last);
        assert!(path.ends_with("librootseal_boot.a") && path.is_file(), "not an archive: {last:?}");
        path
    })
}

/// Compiles `tests/c/<source>` as strict C99 against include/rootseal_boot.h and links
/// it against the boot archive.
pub fn compile_boot(source: &str, dir: &Path) -> PathBuf {
    let exe = dir.join(source.trim_end_matches(".c"));
    run(Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wundef"])
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg(manifest_dir().join("tests/c").join(source))
        .arg(boot_archive())
        .arg("-o")
        .arg(&exe));
    exe
}

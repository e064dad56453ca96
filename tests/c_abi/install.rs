//! scripts/install.sh into a temporary prefix, then the way a distribution user builds
//! against it: a C program compiled with nothing but `pkg-config --cflags --libs
//! rootseal`, as C99 and as C++, run from the prefix, and linked statically through
//! `pkg-config --static`. Also checks the installed layout, the SONAME and that the
//! shared library exports only `rootseal_*` symbols.
//!
//! The libraries installed are the ones cargo built for this test run (passed to the
//! script through ROOTSEAL_LIB_DIR), so the test never depends on a stale release build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::c_support;
use crate::common;

use c_support::{lib_dir, manifest_dir, run};

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Installs into `<dir>/prefix` and returns the prefix.
fn install(dir: &Path) -> PathBuf {
    let prefix = dir.join("prefix");
    let out = run(Command::new("bash")
        .arg(manifest_dir().join("scripts/install.sh"))
        .arg(&prefix)
        .env("ROOTSEAL_LIB_DIR", lib_dir())
        .env("ROOTSEAL_BIN", env!("CARGO_BIN_EXE_rootseal")));
    assert!(text(&out).contains("installed rootseal"), "{}", text(&out));
    prefix
}

fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let out = run(Command::new("pkg-config")
        .args(args)
        .arg("rootseal")
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .env_remove("PKG_CONFIG_LIBDIR"));
    text(&out).split_whitespace().map(str::to_string).collect()
}

fn readelf_dynamic(file: &Path) -> String {
    text(&run(Command::new("readelf").arg("-d").arg(file)))
}

fn app_source() -> PathBuf {
    manifest_dir().join("tests/c/installed_app.c")
}

/// Compiles the app with `compiler` and the pkg-config flags, and returns its path.
fn build_app(dir: &Path, name: &str, compiler: &[&str], flags: &[String]) -> PathBuf {
    let exe = dir.join(name);
    let (program, args) = compiler.split_first().unwrap();
    run(Command::new(program).args(args).arg(app_source()).arg("-o").arg(&exe).args(flags));
    exe
}

fn run_app(exe: &Path, prefix: Option<&Path>) -> String {
    let mut cmd = Command::new(exe);
    match prefix {
        Some(prefix) => cmd.env("LD_LIBRARY_PATH", prefix.join("lib")),
        None => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    let out = text(&run(&mut cmd));
    assert!(out.contains(&format!("installed ok: rootseal/{}", env!("CARGO_PKG_VERSION"))), "{out}");
    out
}

#[test]
fn installed_layout_soname_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = install(dir.path());
    let lib = prefix.join("lib");
    let version = env!("CARGO_PKG_VERSION");
    let major = env!("CARGO_PKG_VERSION_MAJOR");

    assert_eq!(
        std::fs::read(prefix.join("include/rootseal.h")).unwrap(),
        std::fs::read(manifest_dir().join("include/rootseal.h")).unwrap()
    );
    let real = lib.join(format!("librootseal.so.{version}"));
    assert!(std::fs::symlink_metadata(&real).unwrap().file_type().is_file());
    assert_eq!(
        std::fs::read_link(lib.join(format!("librootseal.so.{major}"))).unwrap(),
        Path::new(&format!("librootseal.so.{version}"))
    );
    assert_eq!(std::fs::read_link(lib.join("librootseal.so")).unwrap(), Path::new(&format!("librootseal.so.{major}")));
    assert!(lib.join("librootseal.a").is_file());

    // The SONAME is librootseal.so.<major>, and the header's ABI version is that major.
    let dynamic = readelf_dynamic(&real);
    assert!(dynamic.contains(&format!("Library soname: [librootseal.so.{major}]")), "{dynamic}");
    assert_eq!(rootseal::ffi::version::ROOTSEAL_ABI_VERSION.to_string(), major);

    let symbols = text(&run(Command::new("nm").args(["-D", "--defined-only", "--format=posix"]).arg(&real)));
    let names: Vec<&str> = symbols.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(names.contains(&"rootseal_verity_verify_range_io"), "{symbols}");
    let stray: Vec<&&str> = names.iter().filter(|n| !n.starts_with("rootseal_")).collect();
    assert!(stray.is_empty(), "the shared library exports non-rootseal symbols: {stray:?}");

    // The .pc file: this prefix, this version, OpenSSL for static links only.
    assert_eq!(pkg_config(&prefix, &["--modversion"]), [version]);
    assert_eq!(pkg_config(&prefix, &["--variable=prefix"]), [prefix.to_str().unwrap()]);
    let shared = pkg_config(&prefix, &["--libs"]);
    assert!(!shared.iter().any(|f| f == "-lssl"), "OpenSSL belongs in the static link line only: {shared:?}");
    let static_libs = pkg_config(&prefix, &["--static", "--libs"]);
    for flag in ["-lrootseal", "-lssl", "-lcrypto", "-lpthread", "-ldl"] {
        assert!(static_libs.iter().any(|f| f == flag), "{flag} missing from {static_libs:?}");
    }
}

#[test]
fn pkg_config_builds_c99_and_cpp_programs_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = install(dir.path());
    let flags = pkg_config(&prefix, &["--cflags", "--libs"]);
    let c99 = build_app(dir.path(), "app-c99", &["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"], &flags);
    let cpp =
        build_app(dir.path(), "app-cpp", &["g++", "-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror"], &flags);
    for exe in [&c99, &cpp] {
        let dynamic = readelf_dynamic(exe);
        assert!(dynamic.contains(&format!("[librootseal.so.{}]", env!("CARGO_PKG_VERSION_MAJOR"))), "{dynamic}");
        run_app(exe, Some(&prefix));
    }
    // pkg-config's flags add no run path: the program finds the library where the
    // system (here LD_LIBRARY_PATH) says, as packaged programs do.
    let dynamic = readelf_dynamic(&c99);
    assert!(!dynamic.contains("RPATH") && !dynamic.contains("RUNPATH"), "{dynamic}");

    let valgrind = Command::new("valgrind")
        .args(["--quiet", "--error-exitcode=1", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect"])
        .arg(&c99)
        .env("LD_LIBRARY_PATH", prefix.join("lib"))
        .output()
        .expect("valgrind (scripts/setup.sh installs it)");
    assert!(valgrind.status.success(), "valgrind:\n{}", common::describe(&valgrind));
}

/// `pkg-config --static` gives the whole link line; only librootseal itself is asked
/// for statically, since the linker would otherwise prefer the .so next to the .a.
#[test]
fn pkg_config_static_link_line_links_librootseal_a() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = install(dir.path());
    let mut flags = pkg_config(&prefix, &["--cflags"]);
    for flag in pkg_config(&prefix, &["--static", "--libs"]) {
        if flag == "-lrootseal" {
            flags.extend(["-Wl,-Bstatic", "-lrootseal", "-Wl,-Bdynamic"].map(String::from));
        } else {
            flags.push(flag);
        }
    }
    let exe = build_app(dir.path(), "app-static", &["cc", "-std=c99", "-Wall", "-Wextra", "-Werror"], &flags);
    let dynamic = readelf_dynamic(&exe);
    assert!(!dynamic.contains("librootseal"), "linked against the shared library:\n{dynamic}");
    assert!(dynamic.contains("libcrypto.so"), "{dynamic}");
    run_app(&exe, None);
}

/// Without ROOTSEAL_LIB_DIR the script looks in $CARGO_TARGET_DIR/release, and says
/// what to do when nothing was built there.
#[test]
fn install_script_reads_cargo_target_dir_and_explains_a_missing_build() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(manifest_dir().join("scripts/install.sh"))
        .arg(dir.path().join("prefix"))
        .env("CARGO_TARGET_DIR", dir.path().join("empty-target"))
        .env_remove("ROOTSEAL_LIB_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", common::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("empty-target/release/librootseal.so is missing") && stderr.contains("cargo build --release"),
        "{stderr}"
    );
    assert!(!dir.path().join("prefix").exists(), "nothing may be installed from a missing build");

    let relative =
        Command::new("bash").arg(manifest_dir().join("scripts/install.sh")).arg("relative/prefix").output().unwrap();
    assert_eq!(relative.status.code(), Some(2), "{}", common::describe(&relative));
}

/// The command, its man pages (one per subcommand, each rendered by `man -l`, each with
/// the exit-status section) and the bash, zsh and fish completions.
#[test]
fn installs_the_command_man_pages_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = install(dir.path());

    let version = text(&run(Command::new(prefix.join("bin/rootseal")).arg("--version")));
    assert_eq!(version.trim(), format!("rootseal {}", env!("CARGO_PKG_VERSION")));

    let man1 = prefix.join("share/man/man1");
    let mut pages: Vec<String> =
        std::fs::read_dir(&man1).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    pages.sort();
    for expected in
        ["rootseal.1", "rootseal-verity.1", "rootseal-verity-format.1", "rootseal-gpt.1", "rootseal-gpt-next.1"]
    {
        assert!(pages.iter().any(|p| p == expected), "{expected} missing from {pages:?}");
    }
    for hidden in ["rootseal-generate.1", "rootseal-help.1"] {
        assert!(!pages.iter().any(|p| p == hidden), "{hidden} should not be installed: {pages:?}");
    }
    for page in &pages {
        let out = run(Command::new("man")
            .arg("-l")
            .arg(man1.join(page))
            .env("MANWIDTH", "100")
            .env("MAN_KEEP_FORMATTING", ""));
        let rendered = String::from_utf8_lossy(&out.stdout).replace('\u{8}', "");
        assert!(rendered.contains("Exit status:"), "{page} has no exit-status section:\n{rendered}");
        assert!(rendered.contains("SYNOPSIS") || rendered.contains("S\u{8}SY"), "{page} did not render:\n{rendered}");
    }
    let main_page =
        String::from_utf8_lossy(&run(Command::new("man").arg("-l").arg(man1.join("rootseal.1"))).stdout).into_owned();
    assert!(main_page.contains("payload") && main_page.contains("roothash"), "{main_page}");

    // bash loads the completion and it completes the subcommands.
    let bash = prefix.join("share/bash-completion/completions/rootseal");
    let script = format!(
        "source '{}' && COMP_WORDS=(rootseal gp) && COMP_CWORD=1 && _rootseal rootseal gp rootseal && echo \"${{COMPREPLY[@]}}\"",
        bash.display()
    );
    let out = text(&run(Command::new("bash").arg("-c").arg(script)));
    assert!(out.split_whitespace().any(|w| w == "gpt"), "bash completion of `rootseal gp`: {out:?}");
    assert!(prefix.join("share/zsh/site-functions/_rootseal").is_file());
    let fish = std::fs::read_to_string(prefix.join("share/fish/vendor_completions.d/rootseal.fish")).unwrap();
    assert!(fish.contains("complete -c rootseal"), "{fish}");
}

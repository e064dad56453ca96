//! The committed C header is what cbindgen generates now, its version macros match
//! Cargo.toml, and it exports only rootseal_/ROOTSEAL_ names.
//! Regenerate with `ROOTSEAL_BLESS=1 cargo test --test header`.

use std::path::PathBuf;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/rootseal.h")
}

fn committed() -> String {
    std::fs::read_to_string(header_path()).expect("include/rootseal.h is committed")
}

#[test]
fn committed_header_matches_cbindgen() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings =
        cbindgen::Builder::new().with_crate(dir).with_config(config).generate().expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).unwrap();
    if std::env::var_os("ROOTSEAL_BLESS").is_some() {
        std::fs::write(header_path(), &fresh).unwrap();
    }
    assert!(
        fresh == committed(),
        "include/rootseal.h is stale: regenerate it with `ROOTSEAL_BLESS=1 cargo test --test header` and commit it"
    );
}

fn macro_value(header: &str, name: &str) -> String {
    header
        .lines()
        .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
        .unwrap_or_else(|| panic!("{name} is not defined in the header"))
        .trim()
        .to_string()
}

#[test]
fn version_macros_match_cargo_toml() {
    let header = committed();
    assert_eq!(macro_value(&header, "ROOTSEAL_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(macro_value(&header, "ROOTSEAL_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(macro_value(&header, "ROOTSEAL_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(macro_value(&header, "ROOTSEAL_ABI_VERSION"), rootseal::ffi::version::ROOTSEAL_ABI_VERSION.to_string());
}

#[test]
fn header_exports_only_prefixed_names() {
    let header = committed();
    let mut names = Vec::new();
    for line in header.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            names.push(rest.split_whitespace().next().unwrap().to_string());
        } else if line.starts_with("typedef ") {
            if let Some(start) = line.find("(*") {
                // Function pointer: typedef int64_t (*name)(args);
                names.push(line[start + 2..].split(')').next().unwrap().to_string());
            } else {
                let last = line.trim_end_matches(';').split_whitespace().last().unwrap();
                if last != "{" {
                    names.push(last.to_string());
                }
            }
        } else if let Some(open) = line.find('(')
            && !line.starts_with([' ', '#', '/', '}'])
        {
            names.push(line[..open].split_whitespace().last().unwrap().trim_start_matches('*').to_string());
        }
    }
    assert!(names.len() > 20, "parsed too few names: {names:?}");
    let stray: Vec<_> = names.iter().filter(|n| !(n.starts_with("rootseal_") || n.starts_with("ROOTSEAL_"))).collect();
    assert!(stray.is_empty(), "non-prefixed names in the header: {stray:?}");
}

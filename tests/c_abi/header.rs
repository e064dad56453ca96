//! The committed C header is what cbindgen generates now, its version macros match
//! Cargo.toml, and it exports only rootseal_/ROOTSEAL_ names.
//! Regenerate with `ROOTSEAL_BLESS=1 cargo test --test c_abi -- header::`.

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
        "include/rootseal.h is stale: regenerate it with `ROOTSEAL_BLESS=1 cargo test --test c_abi -- header::` and commit it"
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

/// The item a header line declares, if it is one that needs a doc comment: a function
/// prototype, a struct (opaque or not), a struct field, a function-pointer typedef or
/// the status enum.
fn declared_item(line: &str, in_struct: bool) -> Option<String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with(['#', '/', '*', '}']) || line.starts_with(' ') && !in_struct {
        return None;
    }
    if in_struct {
        // A field: `  type name;` or `  type name[N];`.
        return trimmed.strip_suffix(';').map(|f| format!("field {}", f.split_whitespace().last().unwrap()));
    }
    if line.starts_with("typedef struct ") || line.starts_with("enum ") {
        return Some(line.trim_end_matches(['{', ' ']).to_string());
    }
    if line.starts_with("typedef ") {
        return line.contains("(*").then(|| line.to_string());
    }
    line.contains('(').then(|| line.to_string())
}

#[test]
fn every_function_struct_and_field_has_a_doc_comment() {
    let header = committed();
    let lines: Vec<&str> = header.lines().collect();
    let mut undocumented = Vec::new();
    let mut in_struct = false;
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("typedef struct ") && line.ends_with('{') {
            in_struct = true;
        } else if in_struct && line.starts_with('}') {
            in_struct = false;
            continue;
        }
        let Some(item) = declared_item(line, in_struct && !line.starts_with("typedef struct ")) else { continue };
        checked += 1;
        // The doc comment ends on the line above, conditional-compilation lines aside.
        let above = lines[..i].iter().rev().find(|l| !l.starts_with("#if"));
        let documented = above.is_some_and(|l| l.trim() == "*/") && {
            let start = lines[..i].iter().rposition(|l| l.trim_start().starts_with("/*")).unwrap_or(0);
            lines[start].trim_start().starts_with("/**") && lines[start + 1..i].iter().any(|l| l.trim().len() > 2)
        };
        if !documented {
            undocumented.push(format!("line {}: {item}", i + 1));
        }
    }
    assert!(checked > 150, "parsed too few declarations ({checked}); has the header format changed?");
    assert!(undocumented.is_empty(), "declarations without a doc comment:\n{}", undocumented.join("\n"));
}

/// Every params struct says which of its fields are reserved, and every function
/// that takes or returns an owned object says how it is freed.
#[test]
fn reserved_fields_and_ownership_are_documented() {
    let header = committed();
    let lines: Vec<&str> = header.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let field = line.trim();
        if line.starts_with("  ") && field.split_whitespace().nth(1).is_some_and(|n| n.starts_with("reserved")) {
            let doc = lines[i.saturating_sub(3)..i].join(" ");
            assert!(
                doc.contains("eserved") || doc.contains("adding"),
                "line {}: {field} is not documented as reserved",
                i + 1
            );
        }
        let prototype = !line.starts_with([' ', '#', '/', '}']) && line.contains('(') && !line.starts_with("typedef");
        let end = lines[i..].iter().position(|l| l.ends_with(';')).map_or(i, |n| i + n);
        if prototype && lines[i..=end].join(" ").contains("**") {
            // An out-param that receives an object: its doc must name the function that frees it.
            let start = lines[..i].iter().rposition(|l| l.starts_with("/**")).unwrap();
            let doc = lines[start..i].join(" ");
            assert!(
                doc.contains("_free") || doc.contains("_close") || doc.contains("rootseal_gpt_close"),
                "line {}: {line} hands out an object without saying how it is freed",
                i + 1
            );
        }
    }
}

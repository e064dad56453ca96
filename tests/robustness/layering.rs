//! The architecture's "never" rules (`docs/architecture.json`), held against the code:
//! every `crate::…` path in `src/` (and `rootseal::…` in the command) is an arrow from
//! the part that holds the file to the part that holds the module it names. An arrow the
//! document says must never exist fails the test with its file and line.
//!
//! The files are found by walking `src/`, not from a list, so a new file or folder is
//! checked the day it appears.

use serde_json::Value;
use std::path::{Path, PathBuf};

struct Rules {
    /// (part, path prefix) pairs; a file belongs to the part with the longest prefix.
    parts: Vec<(String, String)>,
    /// (from, to, why).
    nevers: Vec<(String, String, String)>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rules() -> Rules {
    let text = std::fs::read_to_string(root().join("docs/architecture.json")).expect("docs/architecture.json");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let mut parts = Vec::new();
    for (name, part) in doc["parts"].as_object().expect("parts") {
        for prefix in part["is"].as_array().expect("is") {
            parts.push((name.clone(), prefix.as_str().expect("a path").to_string()));
        }
    }
    let nevers = doc["never"]
        .as_array()
        .expect("never")
        .iter()
        .map(|n| {
            let field = |i: usize| n[i].as_str().expect("never: [from, to, why]").to_string();
            (field(0), field(1), field(2))
        })
        .collect();
    Rules { parts, nevers }
}

impl Rules {
    fn part_of(&self, path: &str) -> Option<&str> {
        self.parts
            .iter()
            .filter(|(_, prefix)| path.starts_with(prefix.as_str()))
            .max_by_key(|(_, prefix)| prefix.len())
            .map(|(name, _)| name.as_str())
    }

    /// The part of the module `crate::<first>`: `src/<first>/` or `src/<first>.rs`.
    fn part_of_module(&self, first: &str) -> Option<&str> {
        self.part_of(&format!("src/{first}/")).or_else(|| self.part_of(&format!("src/{first}.rs")))
    }

    /// Every arrow in `source` (the text of file `path`) that breaks a never, as
    /// `path:line: from -> to (why)`.
    fn violations(&self, path: &str, source: &str) -> Vec<String> {
        let Some(from) = self.part_of(path) else { return Vec::new() };
        let prefix = if path.starts_with("src/bin/") { "rootseal::" } else { "crate::" };
        let mut found = Vec::new();
        for (number, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices(prefix) {
                let before = code[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                let first: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let Some(to) = self.part_of_module(&first) else { continue };
                for (never_from, never_to, why) in &self.nevers {
                    if never_from == from && never_to == to {
                        found.push(format!("{path}:{}: {from} -> {to} ({why}): {}", number + 1, line.trim()));
                    }
                }
            }
        }
        found
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source tree") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_never_of_the_architecture_is_broken() {
    let rules = rules();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut violations = Vec::new();
    let mut unplaced = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        if rules.part_of(&relative).is_none() && relative != "src/lib.rs" {
            unplaced.push(relative.clone());
        }
        violations.extend(rules.violations(&relative, &std::fs::read_to_string(file).unwrap()));
    }
    assert!(files.len() > 50, "the walk found only {} files", files.len());
    assert!(unplaced.is_empty(), "files on no part of docs/architecture.json: {unplaced:?}");
    assert!(violations.is_empty(), "broken nevers:\n{}", violations.join("\n"));
}

/// The checker itself: a forbidden arrow is found, an allowed one and a comment are not.
#[test]
fn the_checker_sees_a_forbidden_arrow() {
    let rules = rules();
    let source = "use crate::io::BlockRead;\nuse crate::ffi::status;\n// crate::ffi in a comment\nlet x = crate::gpt::Guid::ZERO;\n";
    let found = rules.violations("src/verity/example.rs", source);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("src/verity/example.rs:2: Verity -> Ffi"), "{found:?}");
    assert!(found[1].starts_with("src/verity/example.rs:4: Verity -> Gpt"), "{found:?}");
    assert!(rules.violations("src/bin/rootseal/x.rs", "use rootseal::verity::Error;\n").is_empty());
    assert_eq!(rules.violations("src/text.rs", "use crate::sig::Error;\n").len(), 1);
}

/// No process-wide mode or context outside the C ABI: a `static` that can change (a
/// lock, an atomic, a cell, a lazily set value, `static mut`) exists only in `src/ffi/`,
/// where the C setters that predate per-call engines keep their default.
#[test]
fn no_mutable_static_outside_the_c_abi() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mutable = ["Mutex", "RwLock", "Atomic", "OnceLock", "OnceCell", "Cell<", "LazyLock", "thread_local"];
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        if relative.starts_with("src/ffi/") {
            continue;
        }
        for (number, line) in std::fs::read_to_string(file).unwrap().lines().enumerate() {
            let code = line.trim_start();
            let is_static = code.starts_with("static ")
                || code.starts_with("pub static ")
                || code.starts_with("pub(crate) static ");
            if code.contains("static mut ")
                || code.starts_with("thread_local!")
                || (is_static && mutable.iter().any(|m| code.contains(m)))
            {
                found.push(format!("{relative}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "mutable statics outside src/ffi/:\n{}", found.join("\n"));
}

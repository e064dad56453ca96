//! Build steps plain cargo cannot do:
//! - gives the shared library the SONAME `librootseal.so.<major>` that the packaging
//!   promises;
//! - generates the status table (`ALL`, `COUNT`, the `rootseal_strerror` texts) from the
//!   one definition of the C status enum in `src/ffi/status.rs`, so the list is never
//!   kept by hand twice.

use std::fmt::Write as _;

const STATUS_SOURCE: &str = "src/ffi/status.rs";

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librootseal.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={STATUS_SOURCE}");
    write_status_table();
}

/// One status: its variant name and the text after its `/// strerror: "…"` line.
struct Status {
    name: String,
    strerror: String,
}

/// Reads the variants of `pub enum rootseal_status` and their strerror lines. Every
/// variant must have exactly one; anything else stops the build with the line at fault.
fn parse_statuses(source: &str) -> Vec<Status> {
    let body = source
        .split_once("pub enum rootseal_status {")
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("{STATUS_SOURCE}: `pub enum rootseal_status {{` not found"));
    let mut statuses = Vec::new();
    let mut strerror: Option<String> = None;
    for line in body.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("/// strerror: ") {
            let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
            let text = text.unwrap_or_else(|| panic!("{STATUS_SOURCE}: strerror text must be quoted: {line}"));
            assert!(!text.contains(['"', '\\']), "{STATUS_SOURCE}: no quotes or backslashes in {line}");
            assert!(strerror.replace(text.to_string()).is_none(), "{STATUS_SOURCE}: two strerror lines before {line}");
        } else if let Some((name, _number)) = line.strip_suffix(',').and_then(|l| l.split_once(" = ")) {
            let strerror = strerror.take().unwrap_or_else(|| panic!("{STATUS_SOURCE}: {name} has no strerror line"));
            statuses.push(Status { name: name.to_string(), strerror });
        }
    }
    assert!(strerror.is_none(), "{STATUS_SOURCE}: a strerror line after the last variant");
    statuses
}

fn write_status_table() {
    let source = std::fs::read_to_string(STATUS_SOURCE).expect("reading the status enum");
    let statuses = parse_statuses(&source);
    let mut out = String::new();
    let count = statuses.len();
    writeln!(out, "impl rootseal_status {{").unwrap();
    writeln!(out, "    /// How many statuses exist.").unwrap();
    writeln!(out, "    pub const COUNT: usize = {count};").unwrap();
    writeln!(out, "    /// Every status, in the order of the enum.").unwrap();
    writeln!(out, "    pub(crate) const ALL: [rootseal_status; {count}] = [").unwrap();
    for status in &statuses {
        writeln!(out, "        Self::{},", status.name).unwrap();
    }
    writeln!(out, "    ];").unwrap();
    writeln!(out, "    /// The static text `rootseal_strerror` gives for the status.").unwrap();
    writeln!(out, "    pub fn description(self) -> &'static CStr {{").unwrap();
    writeln!(out, "        match self {{").unwrap();
    for status in &statuses {
        writeln!(out, "            Self::{} => c\"{}\",", status.name, status.strerror).unwrap();
    }
    writeln!(out, "        }}\n    }}\n}}").unwrap();
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo");
    std::fs::write(format!("{dir}/status_table.rs"), out).expect("writing the status table");
}

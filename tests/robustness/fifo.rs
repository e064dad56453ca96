//! A FIFO (or any path that is not a regular file or a block device) is refused at once:
//! never a hang waiting for a writer, from the command line or through the C entry
//! points that take paths. Each command runs against a FIFO nobody writes to, and must
//! exit 2 within a few seconds.

use crate::common;
use crate::sig_support;

use common::describe;
use sig_support::*;
use std::ffi::CString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(10);

fn mkfifo(path: &Path) {
    let out = Command::new("mkfifo").arg(path).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
}

/// Runs `rootseal args` and returns its output, failing the test if it runs past the
/// deadline (the process is killed first, so a hang fails instead of blocking CI).
fn rootseal_within_deadline(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootseal"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("rootseal {args:?} hung on a FIFO: {}", describe(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn every_command_refuses_a_fifo_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let key = genkey(dir.path(), "key", "rsa:2048");
    let data = dir.path().join("data");
    std::fs::write(&data, vec![7u8; 64 * 4096]).unwrap();
    let sig = dir.path().join("data.sig");
    sign(&key, "sha256", false, &data, &sig);
    let (f, k, d, g) = (s(&fifo), s(&key.public), s(&data), s(&sig));
    let hash = dir.path().join("hash");
    let h = s(&hash);
    // A real tree, so that each command gets as far as the FIFO argument.
    let formatted = rootseal_within_deadline(&["verity", "format", d, h, "--salt", "-"]);
    assert!(formatted.status.success(), "{}", describe(&formatted));
    let root = String::from_utf8(formatted.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:").map(|r| r.trim().to_string()))
        .unwrap();
    let other_hash = s(&dir.path().join("other-hash")).to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["sign", "verify", "--key", k, "--sig", g, f],
        vec!["sign", "verify", "--key", f, "--sig", g, d],
        vec!["sign", "verify", "--key", k, "--sig", f, d],
        vec!["payload", "verify", "--key", k, f],
        vec!["payload", "verify", "--key", f, d],
        vec!["roothash", "verify", "--cert", f, "--sig", g, &root],
        vec!["verity", "format", f, h],
        vec!["verity", "format", d, f],
        vec!["verity", "verify", f, h, &root],
        vec!["verity", "verify", d, f, &root],
        vec!["verity", "verify", d, h, "--root-hash-file", f],
        vec!["verity", "dump", f],
        vec!["verity", "table", f, h, &root, "--no-superblock"],
        vec!["verity", "table", d, f, &root],
        vec!["verity", "format", d, &other_hash, "--root-hash-file", f],
        vec!["gpt", "show", f],
        vec!["gpt", "next", f],
        vec!["gpt", "repair", f],
    ];
    for args in &commands {
        let out = rootseal_within_deadline(args);
        assert_eq!(out.status.code(), Some(2), "rootseal {args:?}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not a regular file or") && stderr.lines().count() == 1,
            "rootseal {args:?} must say why in one line: {}",
            describe(&out)
        );
    }
}

#[test]
fn c_entry_points_refuse_a_fifo_at_once() {
    use rootseal::ffi::gpt::*;
    use rootseal::ffi::sig::*;
    use rootseal::ffi::status::rootseal_status as S;
    use rootseal::ffi::verity::*;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let path = CString::new(s(&fifo)).unwrap();
    let other = CString::new(s(&dir.path().join("other"))).unwrap();
    // Each call runs on its own thread, so a hang fails the test at the deadline.
    let within_deadline = |what: &str, call: Box<dyn FnOnce() -> S + Send>| {
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || send.send(call()).unwrap());
        let status = receive.recv_timeout(DEADLINE).unwrap_or_else(|_| panic!("{what} hung on a FIFO"));
        assert_ne!(status, S::Ok, "{what}");
        assert!(matches!(status, S::Io | S::InvalidArgument), "{what}: {status:?}");
    };
    let (p1, p2) = (path.clone(), other.clone());
    within_deadline(
        "rootseal_verity_format",
        Box::new(move || {
            // SAFETY: zeroed params with the version set are valid; the paths are C strings.
            unsafe {
                let mut params: rootseal_verity_params = std::mem::zeroed();
                params.version = ROOTSEAL_VERITY_PARAMS_VERSION;
                rootseal_verity_format(&params, p1.as_ptr(), p2.as_ptr(), std::ptr::null_mut())
            }
        }),
    );
    let p = path.clone();
    within_deadline(
        "rootseal_gpt_open_path",
        Box::new(move || {
            let mut gpt = std::ptr::null_mut();
            // SAFETY: NULL params mean the defaults; the path is a C string.
            unsafe { rootseal_gpt_open_path(p.as_ptr(), std::ptr::null(), &mut gpt) }
        }),
    );
    let p = path.clone();
    within_deadline(
        "rootseal_trust_store_add_key_file",
        Box::new(move || {
            // SAFETY: the handles come from the constructors and are freed once.
            unsafe {
                let (mut ctx, mut store) = (std::ptr::null_mut(), std::ptr::null_mut());
                assert_eq!(rootseal_sig_context_new(&mut ctx), S::Ok);
                assert_eq!(rootseal_trust_store_new(ctx, &mut store), S::Ok);
                let status = rootseal_trust_store_add_key_file(store, p.as_ptr());
                rootseal_trust_store_free(store);
                rootseal_sig_context_free(ctx);
                status
            }
        }),
    );
}

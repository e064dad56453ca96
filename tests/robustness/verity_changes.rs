//! A data file truncated, grown or rewritten while `verity format` or `verify` reads it
//! gives "changed while reading" (exit 2), never a signal and never a root hash or a
//! report about bytes that never existed together (issue 15 item 5, issue 17). The data
//! is read with `pread` (in the page cache) or streamed with direct I/O (cold); every
//! round runs both ways. A memory-mapped read would die of SIGBUS on the truncation.

use rootseal::io::ChangedWhileReading;
use rootseal::verity::{self, Error, RunOptions, VerityOptions};
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

const BIG: u64 = 1 << 30;

#[derive(Debug, Clone, Copy)]
enum Change {
    /// `set_len` to this many bytes.
    Resize(u64),
    /// Block 0, then the last block, rewritten in place (same size).
    Rewrite,
}

fn apply(path: &Path, change: Change) {
    let file = OpenOptions::new().write(true).open(path).unwrap();
    match change {
        Change::Resize(len) => file.set_len(len).unwrap(),
        Change::Rewrite => {
            file.write_all_at(&[0xa5; 4096], 0).unwrap();
            file.write_all_at(&[0x5a; 4096], BIG - 4096).unwrap();
        }
    }
}

/// Reads the whole file, so that its pages are in the page cache and the walk reads
/// them with `pread`; without this the file is cold (holes are never cached until read)
/// and the walk streams it with direct I/O.
fn warm(path: &Path) {
    std::io::copy(&mut std::fs::File::open(path).unwrap(), &mut std::io::sink()).unwrap();
}

/// Back to 1 GiB of zeros, sparse.
fn restore(path: &Path) {
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(0).unwrap();
    file.set_len(BIG).unwrap();
}

fn while_changing<T>(path: &Path, change: Change, delay: Duration, run: impl FnOnce() -> T) -> T {
    std::thread::scope(|scope| {
        scope.spawn(move || {
            std::thread::sleep(delay);
            apply(path, change);
        });
        run()
    })
}

fn changed_while_reading(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if ChangedWhileReading::of(source).is_some())
}

#[test]
fn verity_format_and_verify_of_a_changing_file_fail_never_crash_never_answer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.img");
    let hash = dir.path().join("hash.img");
    std::fs::File::create(&data).unwrap().set_len(BIG).unwrap();
    let opts = VerityOptions { salt: Some(vec![3; 32]), ..Default::default() };
    let run = RunOptions::default();
    let original = verity::format_paths(&data, &hash, &opts, &run).unwrap().root_hash;
    // The root hash of the rewritten contents, the only other honest answer (the change
    // landed before the file was opened).
    apply(&data, Change::Rewrite);
    let rewritten = verity::format_paths(&data, &dir.path().join("other.img"), &opts, &run).unwrap().root_hash;
    restore(&data);

    let changes = [Change::Resize(4096), Change::Rewrite, Change::Resize(BIG / 2), Change::Resize(BIG + 4096)];
    let rounds = changes.into_iter().flat_map(|change| [(change, false), (change, true)]);
    let mut failed = [0, 0];
    for (round, (change, cached)) in rounds.enumerate() {
        let delay = Duration::from_millis(20 + 15 * (round as u64 % 3));
        if cached {
            warm(&data);
        }
        match while_changing(&data, change, delay, || verity::format_paths(&data, &hash, &opts, &run)) {
            Err(e) if changed_while_reading(&e) => {
                failed[cached as usize] += 1;
                assert!(e.to_string().contains("changed while reading"), "{e}");
            }
            // Changed after the last read, or before the open: an answer about one
            // version of the file, never a mix.
            Ok(built) => assert!(
                built.root_hash == original || built.root_hash == rewritten || matches!(change, Change::Resize(_)),
                "round {round} {change:?}: a root hash of bytes that never existed together"
            ),
            Err(Error::NoDataBlocks { .. } | Error::DataTooShort { .. }) => {}
            Err(other) => panic!("round {round} {change:?}: format: {other}"),
        }
        restore(&data);
        let built = verity::format_paths(&data, &hash, &opts, &run).unwrap();
        assert_eq!(built.root_hash, original);
        if cached {
            warm(&data);
        }
        match while_changing(&data, change, delay, || verity::verify_paths(&data, &hash, &opts, &original, &run)) {
            Err(e) if changed_while_reading(&e) => failed[cached as usize] += 1,
            Ok(report) => {
                // A report is about one version: intact (the change came after) or with the
                // rewritten blocks named (the change came before the open).
                let bad = report.corrupted_data_blocks;
                assert!(bad.is_empty() || matches!(change, Change::Rewrite), "round {round}: {bad:?}");
            }
            Err(Error::DataTooShort { .. }) => {}
            Err(other) => panic!("round {round} {change:?}: verify: {other}"),
        }
        restore(&data);
    }
    assert!(failed[0] > 0, "no cold round changed the file mid-read: the test proves nothing for direct I/O");
    assert!(failed[1] > 0, "no cached round changed the file mid-read: the test proves nothing for pread");

    // The command survives too: exit 2 with the message, or an answer when the change
    // missed the read; never a signal.
    for change in [Change::Resize(4096), Change::Rewrite] {
        let out = while_changing(&data, change, Duration::from_millis(40), || {
            std::process::Command::new(env!("CARGO_BIN_EXE_rootseal"))
                .args(["verity", "format", "--salt", "03"])
                .arg(&data)
                .arg(&hash)
                .output()
                .unwrap()
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 2)), "killed or wrong exit: {:?} {stderr}", out.status);
        if out.status.code() == Some(2) {
            assert!(stderr.contains("rootseal: error:"), "{stderr}");
        }
        restore(&data);
    }
}

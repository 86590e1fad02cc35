//! `ls` (issue 16, item 4): the verified listing of an archive, with every
//! check of `verify`; nothing is listed unless everything passed — not even
//! from a pipe read once, where the listing is held back until the gate.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;

fn demo() -> std::path::PathBuf {
    repo().join("fixtures/demo")
}

#[test]
fn ls_lists_a_signed_encrypted_archive_after_verifying_it() {
    let out = bin()
        .current_dir(demo())
        .args([
            "ls",
            "2026-11-24_120000-demo-initial.tar.gz.age",
            "--trust",
            "../../keys",
            "-i",
            "secret/demo-age-identity.txt",
            "--strip-components",
            "1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        text.contains("-rw-r--r--           59 2025-11-24 16:00:00  README.md"),
        "{text}"
    );
    assert!(text.contains("lrw-r--r--"), "{text}");
    assert!(text.contains("NOTES -> docs/notes.txt"), "{text}");
    assert!(
        text.contains("-rwxr-xr-x") && text.contains("bin/run.sh"),
        "{text}"
    );
    assert!(err.contains("signed by minisign:"), "{err}");
    let out = bin()
        .current_dir(demo())
        .args(["ls", "2026-11-23_090000-demo-older.tar.gz", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 12, "{v}");
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "symlink" && e["target"] == "docs/notes.txt"));
    assert!(entries
        .iter()
        .all(|e| e["mtime"].as_str().unwrap().ends_with('Z')));
    assert_eq!(v["checksum"]["matched"], true);
}

/// From a pipe (one pass) with a checksum that does not match: exit 4, and
/// not one entry reached standard output.
#[test]
fn nothing_is_listed_when_verification_fails_even_in_one_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = gzip(&Tar::new().file("secret-plan.txt", b"x").finish());
    let sums = tmp.path().join("sums");
    std::fs::write(&sums, format!("{}  a.tar.gz\n", "0".repeat(64))).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_projectrestore"))
        .args(["ls", "-", "--checksum", sums.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&archive).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A hostile entry: exit 5, nothing listed.
    let mut t = Tar::new();
    t.file("ok.txt", b"fine");
    t.header(b"../escape", REG, 1, b"", 0o644).data(b"x");
    let path = tmp.path().join("evil.tar");
    std::fs::write(&path, t.finish()).unwrap();
    let out = bin().args(["ls", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stdout.is_empty());
}

/// An archive may claim any mtime (PAX `mtime` beyond year 9999, or before
/// 1970): the listing shows the number, never a panic.
#[test]
fn any_mtime_is_listed_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = Tar::new();
    t.pax(b'x', &[("mtime", b"999999999999999")]);
    t.file("far-future.txt", b"x");
    let path = tmp.path().join("t.tar");
    std::fs::write(&path, t.finish()).unwrap();
    let out = bin().args(["ls", path.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("999999999999999") && text.contains("far-future.txt"),
        "{text}"
    );
}

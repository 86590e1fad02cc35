//! Attacks an adversarial review of issue 15's change found: where the new
//! pieces (the event file, sidecars through sources, the plan, the run cut into
//! passes) could be made to do something they must not.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn crypto(name: &str) -> String {
    repo()
        .join("fixtures/crypto")
        .join(name)
        .display()
        .to_string()
}

/// A symlink planted where `--events` writes would truncate the file it names.
#[test]
fn an_events_path_that_is_a_symlink_is_refused_and_its_target_kept() {
    let scene = Scene::new();
    let victim = scene.tmp.path().join("victim.txt");
    std::fs::write(&victim, b"precious\n").unwrap();
    let planted = scene.tmp.path().join("events.jsonl");
    symlink(&victim, &planted).unwrap();
    let archive = scene.archive("a.tar", &Tar::new().file("a.txt", b"a").finish());
    let r = restore(
        &archive,
        &scene.dest,
        &["--events", planted.to_str().unwrap()],
    );
    assert_eq!(r.code, 64, "{}", r.err);
    assert!(r.err.contains("symbolic link"), "{}", r.err);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    assert!(scene.dest.join("old/keep.txt").exists(), "nothing ran");
    // A real file is created private to its owner.
    let file = scene.tmp.path().join("ev.jsonl");
    let ok = restore(&archive, &scene.dest, &["--events", file.to_str().unwrap()]);
    assert_eq!(ok.code, 0, "{}", ok.err);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// `--events -`: standard output carries the stream and nothing else, for
/// `preview` too; `--interactive` (whose preview goes there) refuses it.
#[test]
fn preview_with_events_on_stdout_prints_only_json_lines() {
    let scene = Scene::new();
    let archive = scene.archive("a.tar", &Tar::new().file("new.txt", b"n").finish());
    let r = run_bin(
        None,
        &[
            "preview",
            archive.to_str().unwrap(),
            "--to",
            scene.dest.to_str().unwrap(),
            "--events",
            "-",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    for line in r.out.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["schema"], 1);
    }
    assert!(r.out.lines().last().unwrap().contains("\"finished\""));
    let i = restore(&archive, &scene.dest, &["--interactive", "--events", "-"]);
    assert_eq!(i.code, 64, "{}", i.err);
}

/// A sidecar that is a symlink is refused (it could name any file the user can
/// read); one that is a FIFO is not a sidecar and never blocks the run.
#[test]
fn sidecars_that_are_links_are_refused_and_fifos_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("data.tar.gz");
    std::fs::copy(crypto("data.tar.gz"), &archive).unwrap();
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, b"root-only line\n").unwrap();
    symlink(&secret, tmp.path().join("data.tar.gz.sha256")).unwrap();
    let r = run_bin(None, &["verify", archive.to_str().unwrap()], &[]);
    assert_eq!(r.code, 4, "a planted link is tampering: {}", r.err);
    assert!(r.err.contains("symbolic link"), "{}", r.err);
    assert!(!r.err.contains("root-only"), "{}", r.err);
    std::fs::remove_file(tmp.path().join("data.tar.gz.sha256")).unwrap();
    sh(
        &format!(
            "mkfifo {}",
            tmp.path().join("data.tar.gz.minisig").display()
        ),
        tmp.path(),
    );
    let mut child = child_command()
        .args(["verify", archive.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_or_fail(&mut child, "a FIFO named like a sidecar blocked verify");
    assert!(child.wait().unwrap().success());
}

/// A held lock is reported as such (exit 3) without draining a one-pass input:
/// setup failures are the destination's, not the archive's.
#[test]
fn a_locked_destination_does_not_drain_standard_input() {
    if !have_tool("flock") {
        return;
    }
    let scene = Scene::new();
    let a = scene.archive("a.tar", &Tar::new().file("a.txt", b"a").finish());
    let first = restore(&a, &scene.dest, &[]);
    assert_eq!(first.code, 0, "{}", first.err);
    let lock = scene.state().join("lock");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // With a trust store there is something to verify: the path that drains the
    // input to let a verification failure be the reported cause.
    let keys = repo().join("keys");
    let mut child = child_command()
        .args(["restore", "-", "--to"])
        .arg(&scene.dest)
        .args(["--trust", keys.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A producer that never ends: the restore must stop on its own.
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(&Tar::new().file("b.txt", b"b").buf);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the restore waited for the end of standard input");
        }
        let _ = stdin.write_all(&[0u8; 4096]);
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(status.code(), Some(3));
}

/// The plan of a dry run of an inline-signed OpenPGP archive says when its
/// signature is really checked, and does not predict a refusal that does not come.
#[test]
fn a_dry_run_plan_of_an_inline_signed_archive_tells_the_truth() {
    let scene = Scene::new();
    let trust = repo().join("fixtures/crypto/trust").display().to_string();
    let r = restore(
        std::path::Path::new(&crypto("data.tar.gz.signed-by-ed.gpg")),
        &scene.dest,
        &[
            "--trust",
            &trust,
            "-i",
            &crypto("secret/gpg-enc25519.asc"),
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(
        v["signatures_checked"],
        "inline signature, checked after decryption"
    );
    assert_eq!(
        v["plan"]["checks"]["signatures_checked"],
        v["signatures_checked"]
    );
    assert!(
        v["plan"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| !n.as_str().unwrap().contains("refuse")),
        "{}",
        v["plan"]["notes"]
    );
}

/// `plan --anchor` plans the append (with the log's key, loaded and checked).
#[test]
fn plan_with_an_anchor_lists_the_append() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    sh(
        &format!(
            "cp -r {} {}",
            repo().join("fixtures/log/log").display(),
            log.display()
        ),
        tmp.path(),
    );
    let key = repo().join("fixtures/log/log.key");
    let archive = repo().join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let r = run_bin(
        None,
        &[
            "plan",
            archive.to_str().unwrap(),
            "--to",
            tmp.path().join("app").to_str().unwrap(),
            "--anchor",
            log.to_str().unwrap(),
            "--log-key",
            key.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["after"][0]["step"], "anchor");
    assert!(
        !r.out.contains("PRIVATE+KEY"),
        "the signing key is not in the plan"
    );
}

/// A project settings file is never echoed: a link planted as
/// `.projectrestore.rc` to a secret is refused without reading it, and a parse
/// error names the line and column but shows no text (control characters in a
/// planted file cannot reach the terminal).
#[test]
fn a_planted_settings_file_cannot_leak_or_inject_text() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("identity.txt");
    std::fs::write(
        &secret,
        "# a key\nAGE-SECRET-KEY-1NOTREALLYASECRETBUTTREATEDASONE\n",
    )
    .unwrap();
    let dir = tmp.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    symlink(&secret, dir.join(".projectrestore.rc")).unwrap();
    let r = run_bin(
        Some(&dir),
        &["restore", "x.tar", "--to", "d", "--json"],
        &[],
    );
    assert_eq!(r.code, 64, "{}", r.err);
    assert!(
        !r.out.contains("AGE-SECRET") && !r.err.contains("AGE-SECRET"),
        "{}{}",
        r.out,
        r.err
    );
    assert!(r.out.contains("symbolic link"), "{}", r.out);
    std::fs::remove_file(dir.join(".projectrestore.rc")).unwrap();
    std::fs::write(
        dir.join(".projectrestore.rc"),
        "keep = 1\x1b]0;PWNED\x07\x1b[2J\n",
    )
    .unwrap();
    let r = run_bin(Some(&dir), &["restore", "x.tar", "--to", "d"], &[]);
    assert_eq!(r.code, 64, "{}", r.err);
    assert!(
        !r.err.contains('\x1b') && !r.err.contains("PWNED"),
        "{:?}",
        r.err
    );
    assert!(r.err.contains("line 1, column"), "{}", r.err);
}

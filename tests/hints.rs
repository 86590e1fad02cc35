//! Hints are chosen by cause, not by exit code (issue 16, item 9): each of
//! these failures gets its own hint, and the hint says something the error
//! did not.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;

fn crypto(name: &str) -> String {
    repo()
        .join("fixtures/crypto")
        .join(name)
        .display()
        .to_string()
}

/// The `hint:` line of a failure, and its error line.
fn hint_of(r: &Run) -> (String, String) {
    let error = r
        .err
        .lines()
        .find(|l| l.contains("error:"))
        .unwrap_or_default()
        .to_string();
    let hint = r
        .err
        .lines()
        .find_map(|l| l.trim().strip_prefix("hint: "))
        .unwrap_or_default()
        .to_string();
    (error, hint)
}

fn expect(r: &Run, code: i32, words: &str) {
    assert_eq!(r.code, code, "{}", r.err);
    let (error, hint) = hint_of(r);
    assert!(
        hint.contains(words),
        "hint should say {words:?}:\n{}",
        r.err
    );
    assert!(
        !error.contains(&hint),
        "the hint repeats the error:\n{}",
        r.err
    );
    assert!(
        !hint.contains("Do not restore it"),
        "a generic hint:\n{}",
        r.err
    );
}

#[test]
fn a_mistyped_trust_path() {
    let scene = Scene::new();
    let r = restore(
        Path::new(&crypto("data.tar.gz")),
        &scene.dest,
        &["--trust", &crypto("trusst")],
    );
    expect(&r, 4, "check the path");
}

#[test]
fn one_signature_short_of_the_threshold() {
    let scene = Scene::new();
    let r = restore(
        Path::new(&crypto("data.tar.gz")),
        &scene.dest,
        &[
            "--trust",
            &crypto("trust"),
            "--threshold",
            "2",
            "--signature",
            &crypto("data.tar.gz.minisig"),
        ],
    );
    expect(&r, 4, "fewer trusted keys signed it than --threshold");
}

#[test]
fn no_signature_where_the_trust_store_asks_for_one() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("data.tar.gz");
    std::fs::copy(crypto("data.tar.gz"), &a).unwrap();
    let scene = Scene::new();
    let r = restore(&a, &scene.dest, &["--trust", &crypto("trust")]);
    expect(&r, 4, "--signature FILE");
}

#[test]
fn a_signature_by_a_key_not_in_the_trust_store() {
    let scene = Scene::new();
    let r = restore(
        Path::new(&crypto("data.tar.gz")),
        &scene.dest,
        &[
            "--trust",
            &crypto("trust"),
            "--signature",
            &crypto("data.tar.gz.untrusted.minisig"),
        ],
    );
    expect(&r, 4, "add their public key");
}

#[test]
fn a_legacy_minisign_signature() {
    let scene = Scene::new();
    let r = restore(
        Path::new(&crypto("data.tar.gz")),
        &scene.dest,
        &[
            "--trust",
            &crypto("trust"),
            "--signature",
            &crypto("data.tar.gz.legacy.minisig"),
        ],
    );
    expect(&r, 4, "--allow-legacy-minisign");
}

#[test]
fn signatures_without_a_trust_store() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("data.tar.gz");
    std::fs::copy(crypto("data.tar.gz"), &a).unwrap();
    std::fs::copy(
        crypto("data.tar.gz.minisig"),
        tmp.path().join("data.tar.gz.minisig"),
    )
    .unwrap();
    let scene = Scene::new();
    let r = restore(&a, &scene.dest, &[]);
    expect(&r, 4, "--trust DIR");
}

#[test]
fn a_mistyped_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let pass = tmp.path().join("p");
    std::fs::write(&pass, "not it\n").unwrap();
    let scene = Scene::new();
    let r = restore(
        Path::new(&crypto("data.tar.gz.passphrase.age")),
        &scene.dest,
        &["--passphrase-file", pass.to_str().unwrap()],
    );
    expect(&r, 6, "try again");
}

#[test]
fn damaged_ciphertext() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(crypto("data.tar.gz.x25519.age")).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0x55;
    let a = tmp.path().join("a.tar.gz.age");
    std::fs::write(&a, bytes).unwrap();
    let scene = Scene::new();
    let r = restore(&a, &scene.dest, &["-i", &crypto("secret/age.txt")]);
    expect(&r, 6, "fetch it again");
}

#[test]
fn a_log_verify_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo().join("fixtures/log/log"))
        .arg(&log)
        .status()
        .unwrap();
    assert!(copied.success());
    let verify = || {
        Run::from(
            bin()
                .args(["log", "verify"])
                .arg(&log)
                .arg("--vkey")
                .arg(repo().join("fixtures/log/log.vkey"))
                .output()
                .unwrap(),
        )
    };
    let r = verify();
    assert_eq!(r.code, 0, "the untouched copy verifies: {}", r.err);
    let entries = std::fs::read_to_string(log.join("entries.jsonl")).unwrap();
    std::fs::write(
        log.join("entries.jsonl"),
        entries.replacen("\"size\":", "\"size\":1", 1),
    )
    .unwrap();
    let r = verify();
    expect(&r, 4, "restore the log directory from a copy you trust");
}

#[test]
fn a_broken_settings_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rc = tmp.path().join("rc.toml");
    std::fs::write(&rc, "keep = \"many\"\n").unwrap();
    let r = Run::from(
        bin()
            .args([
                "--config",
                rc.to_str().unwrap(),
                "verify",
                &crypto("data.tar.gz"),
            ])
            .output()
            .unwrap(),
    );
    expect(&r, 64, "projectrestore config");
}

#[test]
fn a_missing_signature_or_checksum_file() {
    for flag in ["--signature", "--checksum"] {
        let scene = Scene::new();
        let r = restore(
            Path::new(&crypto("data.tar.gz")),
            &scene.dest,
            &[flag, &crypto("no-such-file")],
        );
        expect(&r, 4, "check the path");
        assert!(r.err.contains("cannot read the"), "{}", r.err);
    }
}

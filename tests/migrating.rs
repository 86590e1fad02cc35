//! MIGRATING.md (issue 16, items 1–2): every 4.x command line it shows runs as
//! written against the demo backups — the ones marked `ok` succeed with a
//! deprecation line naming the new form, the ones marked `64` are refused
//! with their explanation (never clap's "unexpected argument").
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The `# ok` / `# 64` lines of MIGRATING.md's runnable block.
fn documented_lines() -> Vec<(i32, String)> {
    let text = std::fs::read_to_string(repo().join("MIGRATING.md")).unwrap();
    let section = text
        .split("## 4.x command lines, as they run here")
        .nth(1)
        .expect("the runnable section");
    let block = section
        .split("```sh")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let mut out = Vec::new();
    let mut expect = None;
    for line in block.lines().map(str::trim) {
        match line {
            "# ok" => expect = Some(0),
            "# 64" => expect = Some(64),
            l if l.starts_with("projectrestore") => {
                out.push((expect.take().expect("every line is marked"), l.to_string()))
            }
            _ => {}
        }
    }
    out
}

fn run(dir: &Path, line: &str) -> (i32, String) {
    let bin = assert_cmd::cargo::cargo_bin("projectrestore");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(line).current_dir(dir).env("PATH", path);
    for (k, _) in std::env::vars() {
        if k.starts_with("PROJECTRESTORE_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"));
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn the_4x_command_lines_of_migrating_md_run_as_written() {
    let lines = documented_lines();
    assert!(lines.len() >= 8, "{lines:?}");
    for (want, line) in lines {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("fixtures/demo"), &tmp.path().join("backups"));
        let (code, err) = run(tmp.path(), &line);
        assert_eq!(code, want, "{line}\n{err}");
        assert!(!err.contains("unexpected argument"), "{line}\n{err}");
        if want == 0 {
            assert!(
                err.contains("deprecated") || err.contains("4.x spelling"),
                "a 4.x line says what its new form is: {line}\n{err}"
            );
            if !line.contains("--dry-run") {
                let restored = tmp
                    .path()
                    .join("restored/2026-11-23_090000-demo-older/README.md");
                assert!(restored.is_file(), "{line}: nothing restored\n{err}");
            }
        } else {
            assert!(err.contains("error:"), "{line}\n{err}");
            assert!(
                err.contains("gone") || err.contains("not supported"),
                "a refused 4.x flag says why: {line}\n{err}"
            );
        }
    }
}

/// The other tools' words for the destination get the tip, not a parse error.
#[test]
fn dest_and_target_get_the_tip() {
    for flag in ["--dest", "--target"] {
        let r = bin()
            .args(["restore", "a.tar.gz", flag, "x"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(64), "{err}");
        assert!(err.contains("the destination flag is --to"), "{err}");
    }
}

/// A new-style command line prints no deprecation line.
#[test]
fn new_command_lines_print_no_deprecation() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("fixtures/demo"), &tmp.path().join("backups"));
    let (code, err) = run(
        tmp.path(),
        "projectrestore restore backups/2026-11-23_090000-demo-older.tar.gz --to restored",
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

//! docs/json.md (issue 16, item 10) against real output: the report's fields
//! from restore, restore --dry-run, preview, ls, verify with a log and verify
//! with warnings — every documented field appears, and nothing undocumented.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

fn paths(v: &Value, pre: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if pre.is_empty() {
                    k.clone()
                } else {
                    format!("{pre}.{k}")
                };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{pre}[]"), out);
            }
        }
        _ => {}
    }
}

/// The backticked field paths of the "Fields of the report" list.
fn documented() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("docs/json.md")).unwrap();
    let list = text.split("### Fields of the report").nth(1).unwrap();
    let mut out = BTreeSet::new();
    for line in list.lines().filter(|l| l.starts_with("- `")) {
        let names = line.split(": ").next().unwrap();
        for (i, part) in names.split('`').enumerate() {
            if i % 2 == 1 {
                out.insert(part.to_string());
            }
        }
    }
    out
}

fn json(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_json_reference_matches_real_output() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p).display().to_string();
    let demo = repo().join("fixtures/demo");
    let crypto = repo().join("fixtures/crypto");
    let signed = [
        "2026-11-24_120000-demo-initial.tar.gz.age",
        "--trust",
        "../../keys",
        "-i",
        "secret/demo-age-identity.txt",
    ];
    let mut seen = BTreeSet::new();
    let mut run = |dir: &std::path::Path, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        paths(&json(dir, &args), "", &mut seen);
    };
    let with = |head: &[&str], rest: &[&str]| -> Vec<String> {
        head.iter().chain(rest).map(|s| s.to_string()).collect()
    };
    run(
        &demo,
        with(
            &["restore"],
            &[&signed[..], &["--to", &t("app"), "--yes", "--json"]].concat(),
        ),
    );
    run(
        &demo,
        with(
            &["restore"],
            &[&signed[..], &["--to", &t("app2"), "--dry-run", "--json"]].concat(),
        ),
    );
    run(
        &demo,
        with(
            &[
                "preview",
                "2026-11-23_090000-demo-older.tar.gz",
                "--to",
                &t("app"),
                "--json",
            ],
            &[],
        ),
    );
    run(
        &demo,
        with(
            &["ls", "2026-11-23_090000-demo-older.tar.gz", "--json"],
            &[],
        ),
    );
    run(
        &demo,
        with(
            &[
                "restore",
                "2026-11-23_090000-demo-older.tar.gz",
                "README.md",
                "--to",
                &t("part"),
            ],
            &["--strip-components", "1", "--json"],
        ),
    );
    run(
        &demo,
        with(
            &[
                "verify",
                "2026-11-24_120000-demo-initial.tar.gz",
                "--require-anchored",
                "../log/log",
                "--log-vkey",
                "../log/log.vkey",
                "--allow-unsigned",
                "--json",
            ],
            &[],
        ),
    );
    run(
        &crypto,
        with(
            &[
                "verify",
                "data.tar.gz.x25519.age",
                "-i",
                "secret/age.txt",
                "--allow-unsigned",
                "--json",
            ],
            &[],
        ),
    );
    let doc = documented();
    let undocumented: Vec<_> = seen.difference(&doc).collect();
    let unseen: Vec<_> = doc.difference(&seen).collect();
    assert!(
        undocumented.is_empty(),
        "fields printed but not in docs/json.md: {undocumented:?}"
    );
    assert!(
        unseen.is_empty(),
        "fields in docs/json.md that no run printed: {unseen:?}"
    );
}

//! `--events FILE`: the typed event stream of issue 15, as JSON lines. Order and
//! types of the events of a signed+encrypted restore, a refused hostile archive,
//! a wrong key and an interrupted restore; the last line's report equals what
//! `--json` prints; typed warnings and `"schema": 1` in `--json`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn position(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no {name} event in {names:?}"))
}

fn demo(extra: &[&str]) -> Run {
    let demo = repo().join("fixtures/demo");
    let mut args = vec![
        "restore",
        "2026-11-24_120000-demo-initial.tar.gz.age",
        "--trust",
        "../../keys",
        "-i",
        "secret/demo-age-identity.txt",
    ];
    args.extend_from_slice(extra);
    run_bin(Some(&demo), &args, &[])
}

#[test]
fn a_signed_encrypted_restore_streams_its_verdicts_in_order_and_ends_with_the_json_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("app");
    let file = tmp.path().join("events.jsonl");
    let r = demo(&[
        "--to",
        dest.to_str().unwrap(),
        "--json",
        "--events",
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let events = lines(&file);
    assert!(events.iter().all(|e| e["schema"] == 1), "{events:?}");
    let n = names(&events);
    assert_eq!(n.first().map(String::as_str), Some("started"));
    assert_eq!(n.last().map(String::as_str), Some("finished"));
    assert_eq!(n.iter().filter(|x| *x == "finished").count(), 1);
    // Verify-first: every verdict before pass 2 begins, the commit after the swap.
    let restoring = events
        .iter()
        .position(|e| e["event"] == "phase-started" && e["phase"] == "restoring")
        .unwrap();
    let verifying = events
        .iter()
        .position(|e| e["event"] == "phase-started" && e["phase"] == "verifying")
        .unwrap();
    for verdict in ["checksum", "signature", "gate-decided"] {
        let at = position(&n, verdict);
        assert!(verifying < at && at < restoring, "{verdict} at {at}: {n:?}");
    }
    let gate = &events[position(&n, "gate-decided")];
    assert_eq!(gate["outcome"]["verdict"], "verified");
    let layers: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "layer-found")
        .map(|e| &e["format"])
        .collect();
    assert_eq!(layers, ["age", "gzip", "tar"]);
    let swapping = events
        .iter()
        .position(|e| e["event"] == "phase-started" && e["phase"] == "swapping")
        .unwrap();
    let committed = position(&n, "committed");
    assert!(restoring < swapping && swapping < committed);
    assert_eq!(
        events[committed]["destination"],
        dest.display().to_string().as_str()
    );
    // Progress counts rise and never pass the stored size.
    let mut last = 0;
    for p in events.iter().filter(|e| e["event"] == "progress") {
        let b = p["bytes"].as_u64().unwrap();
        assert!(b <= p["total"].as_u64().unwrap());
        if p["phase"] == "restoring" {
            assert!(b >= last);
            last = b;
        }
    }
    // The last event's report is the --json report, field for field.
    let json: Value = serde_json::from_str(&r.out).unwrap();
    // Entries done are counted in the passes that parse (issue 16, item 5):
    // the last count is every entry of the archive; pass 1 only hashes.
    let progress: Vec<&Value> = events.iter().filter(|e| e["event"] == "progress").collect();
    assert!(progress
        .iter()
        .filter(|p| p["phase"] == "verifying")
        .all(|p| p["entries"].is_null()));
    let last = progress
        .iter()
        .rev()
        .find(|p| p["phase"] == "restoring")
        .unwrap();
    let s = &json["summary"];
    let all: u64 = ["files", "dirs", "symlinks", "hardlinks"]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .sum();
    assert_eq!(last["entries"].as_u64(), Some(all), "{last}");
    assert_eq!(json["schema"], 1);
    assert_eq!(events.last().unwrap()["report"], json);
}

#[test]
fn a_hostile_archive_ends_in_failed_with_its_exit_code_and_no_commit() {
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let archive = scene.archive(
        "evil.tar",
        &Tar::new()
            .file("ok.txt", b"fine")
            .file("../escape.txt", b"x")
            .finish(),
    );
    let file = scene.tmp.path().join("events.jsonl");
    let r = restore(&archive, &scene.dest, &["--events", file.to_str().unwrap()]);
    assert_eq!(r.code, 5, "{}", r.err);
    let events = lines(&file);
    let n = names(&events);
    assert!(!n.contains(&"committed".to_string()), "{n:?}");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "failed");
    assert_eq!(last["category"], "unsafe");
    assert_eq!(last["exit_code"], 5);
    assert!(
        last["message"].as_str().unwrap().contains("escape.txt"),
        "{last}"
    );
    assert!(last["hint"].as_str().is_some());
    assert_eq!(snapshot(&scene.dest), before);
}

#[test]
fn a_wrong_key_ends_in_failed_after_the_refusing_signature() {
    let crypto = repo().join("fixtures/crypto");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.jsonl");
    let r = run_bin(
        Some(&crypto),
        &[
            "verify",
            "data.tar.gz",
            "--signature",
            "data.tar.gz.untrusted.minisig",
            "--trust",
            "trust/minisign.pub",
            "--events",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 4, "{}", r.err);
    let events = lines(&file);
    let n = names(&events);
    let sig = &events[position(&n, "signature")];
    assert_eq!(sig["trusted"], false);
    let gate = position(&n, "gate-decided");
    assert_eq!(events[gate]["outcome"]["verdict"], "failed");
    // Nothing was decrypted or parsed after the refusal: verify-first stops there.
    assert!(!events[gate..]
        .iter()
        .any(|e| e["event"] == "phase-started" && e["phase"] != "verifying"));
    let last = events.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["exit_code"].as_u64()),
        (Some("failed"), Some(4))
    );
    assert_eq!(last["category"], "verification");
}

#[test]
fn an_interrupted_restore_ends_in_failed_interrupted() {
    let scene = Scene::new();
    // 8 MiB streamed on standard input, half of it sent: the restore is under
    // way (progress events) and cannot finish before the signal.
    let mut t = Tar::new();
    for i in 0..8 {
        t.file(&format!("f{i}.bin"), &vec![i as u8; 1 << 20]);
    }
    let tar = t.finish();
    let file = scene.tmp.path().join("events.jsonl");
    let mut child = child_command()
        .args(["restore", "-", "--to"])
        .arg(&scene.dest)
        .args(["--yes", "--events", file.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    use std::io::Write;
    stdin.write_all(&tar[..tar.len() / 2]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains("\"event\":\"progress\"") {
            break;
        }
        assert!(Instant::now() < deadline, "no progress event: {text}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    let events = lines(&file);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "failed", "{events:?}");
    assert_eq!(last["category"], "interrupted");
    assert_eq!(last["exit_code"], 2);
    assert!(!names(&events).contains(&"committed".to_string()));
    assert!(scene.dest.join("old/keep.txt").exists());
}

#[test]
fn events_on_standard_output_replace_the_summary_and_refuse_json_beside_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("app");
    let r = demo(&["--to", dest.to_str().unwrap(), "--events", "-"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let events: Vec<Value> = r
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.last().unwrap()["event"], "finished");
    let both = demo(&["--to", dest.to_str().unwrap(), "--json", "--events", "-"]);
    assert_eq!(both.code, 64, "{}", both.err);
    // With --json on the line, the refusal is the JSON error document.
    let v: Value = serde_json::from_str(both.out.trim()).unwrap();
    assert_eq!(v["exit_code"], 64);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("both write to standard output"),
        "{v}"
    );
}

#[test]
fn json_reports_carry_the_schema_and_typed_warnings() {
    let scene = Scene::new();
    let archive = scene.archive("a.tar", &Tar::new().file("a.txt", b"a").finish());
    let keys = repo().join("keys");
    let r = restore(
        &archive,
        &scene.dest,
        &[
            "--trust",
            keys.to_str().unwrap(),
            "--allow-unsigned",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["schema"], 1);
    let w = &v["warnings"][0];
    assert_eq!(w["kind"], "unsigned-allowed", "{v}");
    assert!(w["message"].as_str().unwrap().contains("UNSIGNED"));
    // An error as JSON carries the schema too.
    let bad = restore(
        &scene.tmp.path().join("missing.tar"),
        &scene.dest,
        &["--json"],
    );
    assert_ne!(bad.code, 0);
    let e: Value = serde_json::from_str(&bad.out).unwrap();
    assert_eq!(e["schema"], 1);
}

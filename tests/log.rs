//! The append-only log through the binary: commands, tampering (each detected
//! with a precise message and exit 4), restore integration bound to the exact
//! digest, rollback protection, crash safety and the audit.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{bin, require_test_hooks, snapshot, Run, Tar};

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    run_env(args, &[])
}

fn run_env(args: &[&dyn AsRef<std::ffi::OsStr>], env: &[(&str, &str)]) -> Run {
    let mut cmd = bin();
    for a in args {
        cmd.arg(a);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.write_stdin("").output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A temp dir with a log key, its vkey, an empty log and a few archives.
struct World {
    tmp: tempfile::TempDir,
    key: PathBuf,
    vkey: String,
    log: PathBuf,
}

impl World {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("log.key");
        let r = run(&[
            &"log",
            &"keygen",
            &"--origin",
            &"example.com/test-log",
            &"-o",
            &key,
        ]);
        assert_eq!(r.code, 0, "{}", r.err);
        let vkey = r.out.trim().to_string();
        let log = tmp.path().join("LOG");
        let r = run(&[&"log", &"init", &log, &"--key", &key]);
        assert_eq!(r.code, 0, "{}", r.err);
        World {
            tmp,
            key,
            vkey,
            log,
        }
    }

    /// A projectclone-named archive of project `app` made at `time` (HHMMSS on 2026-11-2D).
    fn archive(&self, day: u32, time: &str, content: &str) -> PathBuf {
        let name = format!("2026-11-{day:02}_{time}-app-daily.tar.gz");
        let tar = Tar::new()
            .dir("app/")
            .file("app/README", content.as_bytes())
            .finish();
        let p = self.tmp.path().join(name);
        std::fs::write(&p, common::gzip(&tar)).unwrap();
        p
    }

    fn append(&self, archive: &Path) -> Run {
        run(&[&"log", &"append", &self.log, &archive, &"--key", &self.key])
    }

    fn verify(&self, extra: &[&str]) -> Run {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
            vec![&"log", &"verify", &self.log, &"--vkey", &self.vkey];
        for e in extra {
            args.push(e);
        }
        run(&args)
    }

    fn entries(&self) -> PathBuf {
        self.log.join("entries.jsonl")
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.entries())
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    fn write_lines(&self, lines: &[String]) {
        let mut s = lines.join("\n");
        s.push('\n');
        std::fs::write(self.entries(), s).unwrap();
    }

    /// A log with three archives; returns them.
    fn with_three(&self) -> Vec<PathBuf> {
        let a = vec![
            self.archive(21, "090000", "one"),
            self.archive(22, "090000", "two"),
            self.archive(23, "090000", "three"),
        ];
        for x in &a {
            let r = self.append(x);
            assert_eq!(r.code, 0, "{}", r.err);
        }
        a
    }
}

fn assert_fails(r: &Run, code: i32, needle: &str) {
    assert_eq!(r.code, code, "stdout: {}\nstderr: {}", r.out, r.err);
    assert!(
        r.err.contains(needle) || r.out.contains(needle),
        "expected {needle:?} in\n{}{}",
        r.err,
        r.out
    );
}

#[test]
fn keygen_init_append_verify_prove_show() {
    let w = World::new();
    assert!(w.vkey.starts_with("example.com/test-log+"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&w.key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // keygen never overwrites a key.
    let r = run(&[&"log", &"keygen", &"--origin", &"x", &"-o", &w.key]);
    assert_eq!(r.code, 1);
    let archives = w.with_three();
    // The same archive is not logged twice.
    let r = w.append(&archives[1]);
    assert_eq!(r.code, 0);
    assert!(r.out.contains("already entry 1"), "{}", r.out);
    let r = w.verify(&[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("3 entries"), "{}", r.out);
    let r = run(&[&"log", &"verify", &w.log, &"--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["size"], 3);
    assert_eq!(v["key_source"], "log-directory");
    assert!(r.err.is_empty() || v["warnings"].as_array().unwrap().len() == 1);

    let proof_file = w.tmp.path().join("p.tlog");
    let r = run(&[
        &"log",
        &"prove",
        &w.log,
        &archives[2],
        &"--json",
        &"--tlog-proof",
        &proof_file,
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let p: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(p["leaf_index"], 2);
    assert_eq!(p["tree_size"], 3);
    assert_eq!(p["audit_path"].as_array().unwrap().len(), 1);
    assert!(p["checkpoint"]
        .as_str()
        .unwrap()
        .starts_with("example.com/test-log\n3\n"));
    let text = std::fs::read_to_string(&proof_file).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "));
    assert!(text.contains("\nindex 2\n"));

    let r = run(&[&"log", &"show", &w.log, &"--json"]);
    let s: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(s["entries"].as_array().unwrap().len(), 3);
    assert_eq!(s["entries"][0]["project"], "app");
    assert_eq!(s["entries"][0]["archive_time"], "2026-11-21T09:00:00");

    // The proof checks independently: leaf hash from the entry line, path to the root.
    let entry = p["entry"].as_str().unwrap();
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update([0u8]);
    h.update(entry.as_bytes());
    assert_eq!(hex::encode(h.finalize()), p["leaf_hash"].as_str().unwrap());
}

#[test]
fn append_verifies_the_archive_first() {
    let w = World::new();
    let a = w.archive(21, "090000", "one");
    // A checksum sidecar that does not match: verification fails, nothing appended.
    std::fs::write(
        format!("{}.sha256", a.display()),
        format!("{}  x\n", "0".repeat(64)),
    )
    .unwrap();
    let r = w.append(&a);
    assert_eq!(r.code, 4, "{}", r.err);
    assert_eq!(std::fs::read_to_string(w.entries()).unwrap(), "");
    // The wrong key cannot append.
    let other = w.tmp.path().join("other.key");
    run(&[
        &"log",
        &"keygen",
        &"--origin",
        &"example.com/test-log",
        &"-o",
        &other,
    ]);
    std::fs::remove_file(format!("{}.sha256", a.display())).unwrap();
    let r = run(&[&"log", &"append", &w.log, &a, &"--key", &other]);
    assert_ne!(r.code, 0);
    assert_eq!(std::fs::read_to_string(w.entries()).unwrap(), "");
}

#[test]
fn edited_entry_is_detected() {
    let w = World::new();
    w.with_three();
    let mut lines = w.lines();
    lines[1] = lines[1].replace("\"size\":", "\"size\":1");
    w.write_lines(&lines);
    assert_fails(
        &w.verify(&[]),
        4,
        "entry 1 (entries.jsonl line 2) is not the entry that was appended",
    );
}

#[test]
fn dropped_entry_is_detected() {
    let w = World::new();
    w.with_three();
    let mut lines = w.lines();
    lines.remove(1);
    w.write_lines(&lines);
    assert_fails(&w.verify(&[]), 4, "line 2 has seq 2 where 1 belongs");
}

#[test]
fn reordered_entries_are_detected() {
    let w = World::new();
    w.with_three();
    let mut lines = w.lines();
    lines.swap(0, 1);
    w.write_lines(&lines);
    assert_fails(&w.verify(&[]), 4, "line 1 has seq 1 where 0 belongs");
    // Renumbered to hide the swap: the hashes recorded at append time still tell.
    let mut lines = w.lines();
    lines[0] = lines[0].replace("\"seq\":1", "\"seq\":0");
    lines[1] = lines[1].replace("\"seq\":0", "\"seq\":1");
    w.write_lines(&lines);
    assert_fails(
        &w.verify(&[]),
        4,
        "entry 0 (entries.jsonl line 1) is not the entry that was appended",
    );
}

#[test]
fn truncated_log_is_detected() {
    let w = World::new();
    w.with_three();
    let mut lines = w.lines();
    lines.pop();
    w.write_lines(&lines);
    assert_fails(
        &w.verify(&[]),
        4,
        "holds 2 entries but the signed checkpoint covers 3",
    );
}

#[test]
fn rollback_of_the_whole_log_is_caught_by_a_kept_checkpoint() {
    let w = World::new();
    let a = w.with_three();
    let kept = w.tmp.path().join("kept-checkpoint");
    std::fs::copy(w.log.join("checkpoint"), &kept).unwrap();
    // A consistent extension passes.
    w.append(&w.archive(24, "090000", "four"));
    let r = w.verify(&["--checkpoint", kept.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r
        .out
        .contains("consistent with the older checkpoint of 3 entries"));
    // The whole log replaced by an older copy (signed, self-consistent, size 1).
    let old = World::new();
    std::fs::copy(&w.key, &old.key).unwrap();
    std::fs::remove_dir_all(&old.log).unwrap();
    run(&[&"log", &"init", &old.log, &"--key", &old.key]);
    old.append(&a[0]);
    let r = run(&[
        &"log",
        &"verify",
        &old.log,
        &"--vkey",
        &w.vkey,
        &"--checkpoint",
        &kept,
    ]);
    assert_fails(&r, 4, "the log was truncated or rolled back");
}

#[test]
fn fork_is_detected() {
    // Same key, different history: consistent with nothing the owner kept.
    let w = World::new();
    w.with_three();
    let kept = w.tmp.path().join("kept-checkpoint");
    std::fs::copy(w.log.join("checkpoint"), &kept).unwrap();
    let fork = w.tmp.path().join("FORK");
    run(&[&"log", &"init", &fork, &"--key", &w.key]);
    for (d, c) in [(21, "uno"), (22, "dos"), (23, "tres"), (24, "cuatro")] {
        let a = w.archive(d, "100000", c);
        let r = run(&[&"log", &"append", &fork, &a, &"--key", &w.key]);
        assert_eq!(r.code, 0, "{}", r.err);
    }
    let r = run(&[&"log", &"verify", &fork, &"--vkey", &w.vkey]);
    assert_eq!(r.code, 0, "a fork is a valid log on its own");
    let r = run(&[
        &"log",
        &"verify",
        &fork,
        &"--vkey",
        &w.vkey,
        &"--checkpoint",
        &kept,
    ]);
    assert_fails(&r, 4, "its history was rewritten (a fork)");
}

#[test]
fn forged_and_foreign_checkpoints_are_refused() {
    let w = World::new();
    w.with_three();
    let cp_path = w.log.join("checkpoint");
    let good = std::fs::read_to_string(&cp_path).unwrap();
    // Forged signature: one base64 character changed after the key id.
    let sig_at = good.find('\u{2014}').unwrap();
    let mut forged = good.clone().into_bytes();
    let pos = forged.len() - 10;
    forged[pos] = if forged[pos] == b'A' { b'B' } else { b'A' };
    std::fs::write(&cp_path, &forged).unwrap();
    assert_fails(&w.verify(&[]), 4, "does not verify");
    // Changed size under the original signature.
    std::fs::write(&cp_path, good.replacen("\n3\n", "\n2\n", 1)).unwrap();
    assert_fails(&w.verify(&[]), 4, "does not verify");
    // Signed by another key with the same name.
    let other = w.tmp.path().join("other.key");
    run(&[
        &"log",
        &"keygen",
        &"--origin",
        &"example.com/test-log",
        &"-o",
        &other,
    ]);
    let other_log = w.tmp.path().join("OTHER");
    run(&[&"log", &"init", &other_log, &"--key", &other]);
    std::fs::copy(other_log.join("checkpoint"), &cp_path).unwrap();
    assert_fails(
        &w.verify(&[]),
        4,
        "has no signature by example.com/test-log+",
    );
    // A carriage return (or any control character) in the signed text.
    std::fs::write(&cp_path, good.replacen("\n3\n", "\r\n3\n", 1)).unwrap();
    assert_fails(&w.verify(&[]), 4, "control character U+000D");
    std::fs::write(&cp_path, good.replacen("\n3\n", "\n3\u{1b}[2J\n", 1)).unwrap();
    assert_fails(&w.verify(&[]), 4, "control character U+001B");
    let _ = sig_at;
    // A replaced vkey is caught when the key is pinned.
    std::fs::write(&cp_path, &good).unwrap();
    std::fs::copy(other_log.join("vkey"), w.log.join("vkey")).unwrap();
    assert_fails(&w.verify(&[]), 4, "not the pinned key");
}

#[test]
fn damaged_tiles_are_detected_and_block_appends() {
    let w = World::new();
    w.with_three();
    let tile = w.log.join("tile/0/000.p/3");
    let mut t = std::fs::read(&tile).unwrap();
    t[40] ^= 1;
    std::fs::write(&tile, &t).unwrap();
    assert_fails(&w.verify(&[]), 4, "is not the entry that was appended");
    let before = std::fs::read(w.entries()).unwrap();
    let r = w.append(&w.archive(24, "090000", "four"));
    assert_fails(&r, 4, "the tiles were changed");
    assert_eq!(std::fs::read(w.entries()).unwrap(), before);
}

#[test]
fn interrupted_append_and_torn_line_are_reported_and_set_aside() {
    require_test_hooks();
    let w = World::new();
    w.with_three();
    let a = w.archive(24, "090000", "four");
    let r = run_env(
        &[&"log", &"append", &w.log, &a, &"--key", &w.key],
        &[("PROJECTRESTORE_CRASH_AT", "log-before-checkpoint")],
    );
    assert_ne!(r.code, 0, "the append was to be interrupted");
    // The entry line is on disk but not covered: the log is still the old 3 entries.
    assert_eq!(w.lines().len(), 4);
    let r = w.verify(&[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("3 entries"));
    assert!(r.err.contains("not covered by the checkpoint"), "{}", r.err);
    // A torn half line after it (a crash in the middle of a write).
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(w.entries())
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"seq\":4,\"sha").unwrap();
    drop(f);
    let r = w.verify(&[]);
    assert_eq!(r.code, 0, "{}", r.err);
    // The next append moves the uncommitted bytes aside (kept, named) and goes on.
    let b = w.archive(25, "090000", "five");
    let r = w.append(&b);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.err.contains("moved to"), "{}", r.err);
    let aside: Vec<_> = common::names(&w.log)
        .into_iter()
        .filter(|n| n.starts_with("uncommitted-"))
        .collect();
    assert_eq!(aside.len(), 1);
    let kept = std::fs::read_to_string(w.log.join(&aside[0])).unwrap();
    assert!(kept.contains("\"seq\":3") && kept.ends_with("{\"seq\":4,\"sha"));
    let r = w.verify(&[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("4 entries"));
    assert!(!r.err.contains("not covered"), "{}", r.err);
}

#[test]
fn concurrent_appends_are_serialised() {
    let w = World::new();
    let archives: Vec<PathBuf> = (0..8)
        .map(|i| w.archive(10 + i, "120000", &format!("n{i}")))
        .collect();
    let handles: Vec<_> = archives
        .iter()
        .map(|a| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("projectrestore"));
            c.args(["log", "append"])
                .arg(&w.log)
                .arg(a)
                .arg("--key")
                .arg(&w.key);
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for h in handles {
        let o = h.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let r = w.verify(&[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("8 entries"), "{}", r.out);
}

#[test]
fn restore_requires_inclusion_bound_to_the_digest() {
    let w = World::new();
    let logged = w.archive(21, "090000", "logged");
    w.append(&logged);
    let unlogged = w.archive(22, "090000", "not logged");
    let dest = w.tmp.path().join("dest");
    let log = w.log.to_str().unwrap();
    // Not in the log: exit 4, nothing written.
    let r = common::restore(
        &unlogged,
        &dest,
        &["--require-anchored", log, "--log-vkey", &w.vkey],
    );
    assert_fails(&r, 4, "is not in the log");
    assert!(!dest.exists());
    // In the log: restored, and the report names the entry.
    let r = common::restore(
        &logged,
        &dest,
        &["--require-anchored", log, "--log-vkey", &w.vkey, "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["log"]["anchored"]["leaf_index"], 0);
    // Single pass from standard input: checked at the gate, staging discarded.
    let dest2 = w.tmp.path().join("dest2");
    let o = bin()
        .args(["restore", "-", "--to"])
        .arg(&dest2)
        .args([
            "--require-anchored",
            log,
            "--log-vkey",
            &w.vkey,
            "--project",
            "app",
        ])
        .write_stdin(std::fs::read(&unlogged).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4));
    assert!(!dest2.exists());
    assert!(common::names(w.tmp.path())
        .iter()
        .all(|n| !n.contains("dest2.projectrestore")
            || common::names(&w.tmp.path().join(n))
                .iter()
                .all(|s| !s.starts_with("staging"))));
    // The log entry for the archive edited (its size): no longer vouches for it.
    let mut lines = w.lines();
    lines[0] = lines[0].replace("\"project\":\"app\"", "\"project\":\"app2\"");
    w.write_lines(&lines);
    let dest3 = w.tmp.path().join("dest3");
    let r = common::restore(
        &logged,
        &dest3,
        &["--require-anchored", log, "--log-vkey", &w.vkey],
    );
    assert_fails(&r, 4, "not covered by the signed checkpoint");
    assert!(!dest3.exists());
}

#[test]
fn proof_files_are_bound_to_their_archive() {
    let w = World::new();
    let a = w.archive(21, "090000", "archive A");
    let b = w.archive(22, "090000", "archive B");
    w.append(&a);
    w.append(&b);
    let proof_a = w.tmp.path().join("a.tlog");
    let r = run(&[&"log", &"prove", &w.log, &a, &"--tlog-proof", &proof_a]);
    assert_eq!(r.code, 0, "{}", r.err);
    let pa = proof_a.to_str().unwrap();
    let dest = w.tmp.path().join("dest");
    // A's proof presented for B.
    let r = common::restore(
        &b,
        &dest,
        &[
            "--require-anchored",
            pa,
            "--log-vkey",
            &w.vkey,
            "--allow-older",
        ],
    );
    assert_fails(&r, 4, "proves archive");
    assert!(!dest.exists());
    // A's proof with B's entry swapped in (extra line): the path no longer leads to the root.
    let bline = w.lines()[1].clone();
    use base64::Engine as _;
    let text = std::fs::read_to_string(&proof_a).unwrap();
    let forged: String = text
        .lines()
        .map(|l| {
            if l.starts_with("extra ") {
                let fake = bline.replace("\"seq\":1", "\"seq\":0");
                format!(
                    "extra {}",
                    base64::engine::general_purpose::STANDARD.encode(fake)
                )
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let forged_path = w.tmp.path().join("forged.tlog");
    std::fs::write(&forged_path, forged).unwrap();
    let r = common::restore(
        &b,
        &dest,
        &[
            "--require-anchored",
            forged_path.to_str().unwrap(),
            "--log-vkey",
            &w.vkey,
        ],
    );
    assert_fails(&r, 4, "does not lead to the expected root");
    assert!(!dest.exists());
    // Without a pinned key a proof file cannot be checked.
    let r = common::restore(&a, &dest, &["--require-anchored", pa]);
    assert_fails(&r, 1, "needs the log's key");
    // The right proof for the right archive.
    let r = common::restore(
        &a,
        &dest,
        &["--require-anchored", pa, "--log-vkey", &w.vkey],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("included as entry 0 of 2"), "{}", r.out);
}

#[test]
fn rollback_to_an_older_backup_needs_allow_older() {
    let w = World::new();
    let old = w.archive(21, "090000", "old");
    let new = w.archive(22, "090000", "new");
    w.append(&old);
    w.append(&new);
    let dest = w.tmp.path().join("dest");
    let log = w.log.to_str().unwrap();
    let r = common::restore(
        &new,
        &dest,
        &["--require-anchored", log, "--log-vkey", &w.vkey],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let before = snapshot(&dest);
    let r = common::restore(
        &old,
        &dest,
        &["--require-anchored", log, "--log-vkey", &w.vkey],
    );
    assert_fails(
        &r,
        4,
        "is older than the newest logged backup of project \"app\"",
    );
    assert_eq!(snapshot(&dest), before, "destination unchanged");
    // An unlogged older archive is caught by its name's time too.
    let older = w.archive(20, "090000", "older, unlogged");
    let r = common::restore(
        &older,
        &dest,
        &["--anchor", log, "--log-key", w.key.to_str().unwrap()],
    );
    assert_fails(&r, 4, "is older than the newest logged backup");
    assert_eq!(snapshot(&dest), before);
    // Asked for explicitly: allowed, with a warning.
    let r = common::restore(
        &old,
        &dest,
        &[
            "--require-anchored",
            log,
            "--log-vkey",
            &w.vkey,
            "--allow-older",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.err.contains("--allow-older"), "{}", r.err);
    assert_ne!(snapshot(&dest), before);
}

#[test]
fn anchor_appends_after_a_verified_restore() {
    let w = World::new();
    let a = w.archive(21, "090000", "anchored");
    let dest = w.tmp.path().join("dest");
    let log = w.log.to_str().unwrap();
    let key = w.key.to_str().unwrap();
    let r = common::restore(&a, &dest, &["--anchor", log, "--log-key", key, "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["log"]["appended"], 0);
    let r = common::restore(&a, &dest, &["--anchor", log, "--log-key", key, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["log"]["already_logged"], 0);
    assert_eq!(w.lines().len(), 1);
    // A failed restore appends nothing.
    let bad = w.tmp.path().join("2026-11-22_090000-app-daily.tar.gz");
    std::fs::write(&bad, b"not an archive").unwrap();
    let r = common::restore(&bad, &dest, &["--anchor", log, "--log-key", key]);
    assert_eq!(r.code, 5);
    assert_eq!(w.lines().len(), 1);
    // --anchor without the key is a usage error.
    let r = common::restore(&a, &dest, &["--anchor", log]);
    assert_eq!(r.code, 64);
}

#[test]
fn audit_reverifies_a_backup_directory() {
    let w = World::new();
    let dir = w.tmp.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    let mut paths = Vec::new();
    for (d, c) in [(21, "a"), (22, "b"), (23, "c")] {
        let a = w.archive(d, "090000", c);
        let to = dir.join(a.file_name().unwrap());
        std::fs::rename(&a, &to).unwrap();
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(std::fs::read(&to).unwrap()))
        };
        std::fs::write(
            format!("{}.sha256", to.display()),
            format!("{sha}  {}\n", to.file_name().unwrap().to_string_lossy()),
        )
        .unwrap();
        paths.push(to);
    }
    w.append(&paths[0]);
    w.append(&paths[1]);
    std::fs::write(dir.join("backup_2026-11-23.log"), "log text").unwrap();
    let r = run(&[&"audit", &"--backup-dir", &dir]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("3 archives, 0 failed"), "{}", r.out);
    // With the log: the unlogged one fails.
    let r = run(&[
        &"audit",
        &"--backup-dir",
        &dir,
        &"--log",
        &w.log,
        &"--log-vkey",
        &w.vkey,
        &"--json",
    ]);
    assert_eq!(r.code, 4, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["failed"], 1);
    let rows = v["archives"].as_array().unwrap();
    let c = rows
        .iter()
        .find(|r| r["archive"].as_str().unwrap().starts_with("2026-11-23"))
        .unwrap();
    assert_eq!(c["ok"], false);
    assert!(c["problem"].as_str().unwrap().contains("not in the log"));
    // A changed archive fails its checksum.
    let mut bytes = std::fs::read(&paths[1]).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 1;
    std::fs::write(&paths[1], bytes).unwrap();
    let r = run(&[&"audit", &"--backup-dir", &dir]);
    assert_eq!(r.code, 4);
    assert!(r.out.contains("MISMATCH"), "{}", r.out);
    assert!(r.out.contains("3 archives, 1 failed"), "{}", r.out);
}

#[test]
fn independent_tools_check_the_log() {
    // Python's hashlib recomputes the RFC 6962 root; the openssl command checks
    // the Ed25519 signed note. Nothing of projectrestore is involved.
    if !common::have_tool("openssl") || !common::have_tool("python3") {
        return;
    }
    let w = World::new();
    w.with_three();
    let script = common::repo().join("tests/data/independent_log_check.py");
    let o = std::process::Command::new("python3")
        .arg(&script)
        .arg(&w.log)
        .arg(&w.vkey)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.starts_with("ok 3 "), "{out}");
    // And it disagrees when an entry changes.
    let mut lines = w.lines();
    lines[2] = lines[2].replace("\"size\":", "\"size\":9");
    w.write_lines(&lines);
    let o = std::process::Command::new("python3")
        .arg(&script)
        .arg(&w.log)
        .arg(&w.vkey)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

/// A verifier key's text (`NAME+KEYID+BASE64`) is also a relative path: a file
/// planted under that name in the current directory, holding the attacker's
/// key, must not stand in for the key the text spells.
#[test]
fn a_planted_file_named_as_the_key_text_is_not_the_key() {
    let real = World::new();
    let evil = World::new(); // the attacker's own log and key
    let cwd = tempfile::tempdir().unwrap();
    let planted = cwd.path().join(&real.vkey);
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(&planted, format!("{}\n", evil.vkey)).unwrap();
    let o = bin()
        .current_dir(cwd.path())
        .args(["log", "verify"])
        .arg(&evil.log)
        .arg("--vkey")
        .arg(&real.vkey)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(4),
        "the attacker's log passed under the real key's text: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The key given as a file still works.
    let file = real.tmp.path().join("log.vkey");
    std::fs::write(&file, format!("{}\n", real.vkey)).unwrap();
    let r = run(&[&"log", &"verify", &real.log, &"--vkey", &file]);
    assert_eq!(r.code, 0, "{}", r.err);
}

/// `--tlog-proof FILE` where someone planted FILE as a symbolic link to a
/// file of yours: the link is replaced by the proof, its target untouched.
#[test]
fn a_planted_symlink_at_the_proof_path_is_not_written_through() {
    let w = World::new();
    let a = w.archive(24, "120000", "one");
    assert_eq!(w.append(&a).code, 0);
    let victim = w.tmp.path().join("victim.txt");
    std::fs::write(&victim, "mine\n").unwrap();
    let proof = w.tmp.path().join("proof.txt");
    std::os::unix::fs::symlink(&victim, &proof).unwrap();
    let r = run(&[&"log", &"prove", &w.log, &a, &"--tlog-proof", &proof]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine\n");
    let meta = std::fs::symlink_metadata(&proof).unwrap();
    assert!(meta.file_type().is_file());
    assert!(std::fs::read_to_string(&proof)
        .unwrap()
        .starts_with("c2sp.org/tlog-proof@v1\n"));
}

/// `log prove HEX` proves the digest given, even when a file named HEX (an
/// archive that is in the log) was planted in the current directory.
#[test]
fn a_file_planted_under_a_digest_does_not_change_what_is_proved() {
    let w = World::new();
    let logged = w.archive(24, "120000", "logged");
    assert_eq!(w.append(&logged).code, 0);
    let absent = "ab".repeat(32);
    let cwd = tempfile::tempdir().unwrap();
    std::fs::copy(&logged, cwd.path().join(&absent)).unwrap();
    let o = bin()
        .current_dir(cwd.path())
        .args(["log", "prove"])
        .arg(&w.log)
        .arg(&absent)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(4),
        "the planted file was proved instead of the digest: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

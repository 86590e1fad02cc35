//! Preview, interactive restore, history, rollback, rc files and precedence,
//! completions and man, through the binary.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{bin, require_test_hooks, snapshot, Run, Tar};

fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = bin();
    cmd.current_dir(cwd).args(args);
    // No rc file of the machine running the tests may leak in.
    cmd.env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd.join(".config"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.write_stdin(stdin).output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

struct Work {
    tmp: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        Work {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    fn root(&self) -> &Path {
        self.tmp.path()
    }
    /// A projectclone-like archive: one top folder `app/` with the given files.
    fn archive(&self, name: &str, files: &[(&str, &[u8], u32)]) -> PathBuf {
        let mut t = Tar::new();
        t.dir("app/");
        for (p, data, mode) in files {
            t.file_mode(&format!("app/{p}"), data, *mode);
        }
        let p = self.root().join(name);
        std::fs::write(&p, common::gzip(&t.finish())).unwrap();
        p
    }
    fn run(&self, args: &[&str]) -> Run {
        run_in(self.root(), args, &[], "")
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn restore(w: &Work, archive: &Path, dest: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "restore",
        s(archive),
        "--to",
        s(dest),
        "--yes",
        "--strip-components",
        "1",
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

#[test]
fn preview_writes_nothing_and_lists_changes() {
    let w = Work::new();
    let a = w.archive(
        "a.tar.gz",
        &[
            ("same.txt", b"same\n", 0o644),
            ("changed.txt", b"one\ntwo\nthree\n", 0o644),
            ("gone.txt", b"bye\n", 0o644),
            ("mode.sh", b"#!/bin/sh\n", 0o644),
            ("blob.bin", b"\x00\x01\x02", 0o644),
        ],
    );
    let b = w.archive(
        "b.tar.gz",
        &[
            ("same.txt", b"same\n", 0o644),
            ("changed.txt", b"one\n2\nthree\n", 0o644),
            ("new.txt", b"hello\n", 0o644),
            ("mode.sh", b"#!/bin/sh\n", 0o755),
            ("blob.bin", b"\x00\x01\x03", 0o644),
        ],
    );
    let parent = w.root().join("parent");
    std::fs::create_dir(&parent).unwrap();
    let dest = parent.join("app");

    // To a new path: everything is added, and nothing at all is created.
    let before = snapshot(&parent);
    let r = w.run(&[
        "preview",
        s(&a),
        "--to",
        s(&dest),
        "--strip-components",
        "1",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    let p = &v["preview"];
    assert_eq!(p["added"].as_array().unwrap().len(), 5);
    assert_eq!(p["removed"].as_array().unwrap().len(), 0);
    assert_eq!(p["totals"]["added_bytes"], 5 + 14 + 4 + 10 + 3);
    assert_eq!(snapshot(&parent), before, "preview created something");

    let r = restore(&w, &a, &dest, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    // The same archive again: nothing would change.
    let r = w.run(&[
        "preview",
        s(&a),
        "--to",
        s(&dest),
        "--strip-components",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("would change nothing"), "{}", r.out);

    // Watch the whole parent (destination, state directory, generations).
    let before = snapshot(&parent);
    let r = w.run(&[
        "preview",
        s(&b),
        "--to",
        s(&dest),
        "--strip-components",
        "1",
        "--diff",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(snapshot(&parent), before, "preview changed something");
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    let p = &v["preview"];
    let paths = |k: &str| -> Vec<String> {
        p[k].as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths("added"), ["new.txt"]);
    assert_eq!(paths("removed"), ["gone.txt"]);
    let mut modified = paths("modified");
    modified.sort();
    assert_eq!(modified, ["blob.bin", "changed.txt"]);
    assert_eq!(paths("mode_changed"), ["mode.sh"]);
    assert_eq!(p["mode_changed"][0]["new_mode"], "0755");
    assert_eq!(p["unchanged"], 1, "same.txt (app/ itself is stripped)");
    let m = p["modified"].as_array().unwrap();
    let text = m.iter().find(|c| c["path"] == "changed.txt").unwrap();
    assert!(
        text["diff"].as_str().unwrap().contains("-two\n+2\n"),
        "{}",
        text["diff"]
    );
    let bin_diff = m.iter().find(|c| c["path"] == "blob.bin").unwrap();
    assert!(bin_diff["diff"]
        .as_str()
        .unwrap()
        .starts_with("Binary files"));

    // The human form.
    let r = w.run(&[
        "preview",
        s(&b),
        "--to",
        s(&dest),
        "--strip-components",
        "1",
        "--diff",
    ]);
    assert!(r.out.contains("+ new.txt (6 B)"), "{}", r.out);
    assert!(r.out.contains("- gone.txt (4 B)"), "{}", r.out);
    assert!(r.out.contains("M changed.txt (14 B -> 12 B)"), "{}", r.out);
    assert!(r.out.contains("m mode.sh (0644 -> 0755)"), "{}", r.out);
    assert!(r.out.contains("--- a/changed.txt"), "{}", r.out);
    assert_eq!(snapshot(&parent), before);
}

#[test]
fn long_diffs_are_cut() {
    let w = Work::new();
    let old: String = (0..1000).map(|i| format!("line {i}\n")).collect();
    let new: String = (0..1000).map(|i| format!("LINE {i}\n")).collect();
    let a = w.archive("a.tar.gz", &[("f.txt", old.as_bytes(), 0o644)]);
    let b = w.archive("b.tar.gz", &[("f.txt", new.as_bytes(), 0o644)]);
    let dest = w.root().join("app");
    restore(&w, &a, &dest, &[]);
    let r = w.run(&[
        "preview",
        s(&b),
        "--to",
        s(&dest),
        "--strip-components",
        "1",
        "--diff",
    ]);
    assert!(r.out.contains("diff truncated"), "{}", r.out);
}

#[test]
fn interactive_restore_asks_once() {
    let w = Work::new();
    let a = w.archive("a.tar.gz", &[("f.txt", b"a\n", 0o644)]);
    let b = w.archive("b.tar.gz", &[("f.txt", b"b\n", 0o644)]);
    let dest = w.root().join("app");
    restore(&w, &a, &dest, &[]);
    let before = snapshot(&dest);
    let args = [
        "restore",
        s(&b),
        "--to",
        s(&dest),
        "--strip-components",
        "1",
        "--interactive",
    ];
    let r = run_in(w.root(), &args, &[], "n\n");
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.out.contains("M f.txt"), "{}", r.out);
    assert!(r.err.contains("Restore it? [y/N]"));
    assert_eq!(snapshot(&dest), before);
    // A no is a choice (issue 16, item 6): "Aborted.", not an error to fix with --yes.
    assert!(r.err.trim_end().ends_with("Aborted."), "{}", r.err);
    assert!(
        !r.err.contains("error:") && !r.err.contains("--yes"),
        "{}",
        r.err
    );
    // End of input is no, too.
    let r = run_in(w.root(), &args, &[], "");
    assert_eq!(r.code, 1);
    assert_eq!(snapshot(&dest), before);
    let r = run_in(w.root(), &args, &[], "y\n");
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(std::fs::read(dest.join("f.txt")).unwrap(), b"b\n");
}

fn history(w: &Work, dest: &Path) -> serde_json::Value {
    let r = w.run(&["history", s(dest), "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    serde_json::from_str(&r.out).unwrap()
}

fn content(dest: &Path) -> String {
    std::fs::read_to_string(dest.join("f.txt")).unwrap()
}

#[test]
fn rollback_after_rollback_and_history() {
    let w = Work::new();
    let dest = w.root().join("app");
    for c in ["A", "B", "C"] {
        let a = w.archive(&format!("{c}.tar.gz"), &[("f.txt", c.as_bytes(), 0o644)]);
        assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
    }
    let h = history(&w, &dest);
    assert!(h["current"]["archive"]
        .as_str()
        .unwrap()
        .ends_with("C.tar.gz"));
    let gens = h["generations"].as_array().unwrap();
    assert_eq!(gens.len(), 2);
    // Newest first, each describing the tree it holds.
    assert!(gens[0]["meta"]["archive"]
        .as_str()
        .unwrap()
        .ends_with("B.tar.gz"));
    assert_eq!(gens[0]["number"], 1);
    assert!(gens[1]["meta"]["archive"]
        .as_str()
        .unwrap()
        .ends_with("A.tar.gz"));
    assert_eq!(gens[1]["meta"]["files"], 1);

    // Without a terminal and without --yes: nothing changes.
    let r = w.run(&["rollback", s(&dest)]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("--yes"), "{}", r.err);
    assert_eq!(content(&dest), "C");

    let r = w.run(&["rollback", s(&dest), "--yes"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(content(&dest), "B");
    // A rollback is recorded as a generation: rolling back again undoes it.
    let r = w.run(&["rollback", s(&dest), "--yes", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(content(&dest), "C");
    let h = history(&w, &dest);
    assert_eq!(h["current"]["how"], "rollback");
    assert_eq!(h["generations"].as_array().unwrap().len(), 2);
    // To a chosen one by number, then by id.
    let r = w.run(&["rollback", s(&dest), "--yes", "--generation", "2"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(content(&dest), "A");
    let h = history(&w, &dest);
    let id = h["generations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["meta"]["archive"].as_str().unwrap().ends_with("C.tar.gz"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = w.run(&["rollback", s(&dest), "--yes", "--generation", &id]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(content(&dest), "C");
    let r = w.run(&["rollback", s(&dest), "--yes", "--generation", "9"]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("there is no generation 9"), "{}", r.err);
    // A directory never restored has nothing to roll back to, and history creates nothing.
    let other = w.root().join("other");
    let r = w.run(&["rollback", s(&other), "--yes"]);
    assert_eq!(r.code, 1);
    // A path that does not exist is a typo to report (exit 1)...
    let r = w.run(&["history", s(&other)]);
    assert_eq!(r.code, 1);
    assert!(r.err.contains("does not exist"), "{}", r.err);
    // ...a directory that exists has no history yet.
    std::fs::create_dir(&other).unwrap();
    let r = w.run(&["history", s(&other)]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains("not restored by projectrestore"),
        "{}",
        r.out
    );
    assert!(!w.root().join(".other.projectrestore").exists());
}

#[test]
fn before_picks_the_right_generation() {
    let w = Work::new();
    let dest = w.root().join("app");
    for c in ["A", "B", "C"] {
        let a = w.archive(&format!("{c}.tar.gz"), &[("f.txt", c.as_bytes(), 0o644)]);
        assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
        // Generation times have one-second resolution.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let h = history(&w, &dest);
    let gens = h["generations"].as_array().unwrap();
    let b_time = gens[0]["meta"]["time"].as_str().unwrap().to_string();
    // Before B was put in place: A.
    let r = w.run(&["rollback", s(&dest), "--yes", "--before", &b_time]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(content(&dest), "A");
    // Nothing was put in place two hours ago.
    let r = w.run(&["rollback", s(&dest), "--yes", "--before", "2h"]);
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains("no kept generation was put in place before"),
        "{}",
        r.err
    );
    let r = w.run(&["rollback", s(&dest), "--yes", "--before", "yesterday-ish"]);
    assert_eq!(r.code, 64);
}

#[test]
fn keep_limits_prune_the_oldest() {
    let w = Work::new();
    let dest = w.root().join("app");
    for c in ["A", "B", "C", "D"] {
        let a = w.archive(&format!("{c}.tar.gz"), &[("f.txt", c.as_bytes(), 0o644)]);
        assert_eq!(restore(&w, &a, &dest, &["--keep", "2"]).code, 0);
    }
    let h = history(&w, &dest);
    let names: Vec<String> = h["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["meta"]["archive"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["C.tar.gz", "B.tar.gz"]);
    let e = w.archive("E.tar.gz", &[("f.txt", b"E", 0o644)]);
    assert_eq!(restore(&w, &e, &dest, &["--keep", "0"]).code, 0);
    assert!(history(&w, &dest)["generations"]
        .as_array()
        .unwrap()
        .is_empty());
    let gens = w.root().join(".app.projectrestore/generations");
    assert!(common::names(&gens).is_empty());
}

#[test]
fn a_crash_during_rollback_loses_nothing() {
    require_test_hooks();
    let w = Work::new();
    let dest = w.root().join("app");
    for (point, portable) in projectrestore::commit::crash_points()
        .iter()
        .flat_map(|p| [(p, false), (p, true)])
    {
        let _ = std::fs::remove_dir_all(&dest);
        let _ = std::fs::remove_dir_all(w.root().join(".app.projectrestore"));
        for c in ["A", "B"] {
            let a = w.archive(&format!("{c}.tar.gz"), &[("f.txt", c.as_bytes(), 0o644)]);
            assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
        }
        let mut env = vec![("PROJECTRESTORE_CRASH_AT", *point)];
        if portable {
            env.push(("PROJECTRESTORE_PORTABLE_FS", "1"));
        }
        let r = run_in(w.root(), &["rollback", s(&dest), "--yes"], &env, "");
        let r2 = w.run(&["recover", s(&dest)]);
        assert_eq!(r2.code, 0, "{point}: {}", r2.err);
        let now = content(&dest);
        let h = history(&w, &dest);
        let gens = h["generations"].as_array().unwrap();
        // Both trees still exist: one in place, the other kept.
        let kept: Vec<String> = gens
            .iter()
            .map(|g| {
                std::fs::read_to_string(Path::new(g["path"].as_str().unwrap()).join("f.txt"))
                    .unwrap()
            })
            .collect();
        let mut all = kept.clone();
        all.push(now.clone());
        all.sort();
        assert_eq!(
            all,
            ["A", "B"],
            "{point} portable={portable} (exit {}): in place {now}, kept {kept:?}",
            r.code
        );
        // And current.json says what is in place.
        assert!(
            h["current"]["archive"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{now}.tar.gz")),
            "{point}: {}",
            h["current"]
        );
    }
}

#[test]
fn rc_files_environment_and_flags_in_order() {
    let w = Work::new();
    let a = w.archive("a.tar.gz", &[("f.txt", b"a\n", 0o644)]);
    let dir = w.root();
    let dest = dir.join("dest");
    // Report how many entries --strip-components removed: 1 when it is 1, 0 when 0.
    let stripped = |env: &[(&str, &str)], extra: &[&str]| -> u64 {
        let mut args = vec!["restore", s(&a), "--to", s(&dest), "--dry-run", "--json"];
        args.extend_from_slice(extra);
        let r = run_in(dir, &args, env, "");
        assert_eq!(r.code, 0, "{}", r.err);
        let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
        v["summary"]["stripped"].as_u64().unwrap()
    };
    assert_eq!(stripped(&[], &[]), 0, "default");
    std::fs::create_dir_all(dir.join(".config/projectrestore")).unwrap();
    std::fs::write(
        dir.join(".config/projectrestore/config.toml"),
        "strip_components = 1\n",
    )
    .unwrap();
    assert_eq!(stripped(&[], &[]), 1, "user file over default");
    std::fs::write(dir.join(".projectrestore.rc"), "strip_components = 0\n").unwrap();
    assert_eq!(stripped(&[], &[]), 0, "project file over user file");
    let env = [("PROJECTRESTORE_STRIP_COMPONENTS", "1")];
    assert_eq!(stripped(&env, &[]), 1, "environment over project file");
    assert_eq!(
        stripped(&env, &["--strip-components", "0"]),
        0,
        "flag over environment"
    );
    // --config replaces the search.
    let other = dir.join("other.toml");
    std::fs::write(&other, "strip_components = 1\n").unwrap();
    assert_eq!(stripped(&[], &["--config", s(&other)]), 1);
    // `config` says where each value came from.
    let r = run_in(dir, &["config", "--json"], &env, "");
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(
        v["strip_components"]["source"],
        "environment $PROJECTRESTORE_STRIP_COMPONENTS"
    );
    assert_eq!(v["keep"]["source"], "default");
    let r = run_in(dir, &["config"], &[], "");
    assert!(r.out.contains("strip_components = 0"), "{}", r.out);
    assert!(r.out.contains(".projectrestore.rc:1"), "{}", r.out);
    // `to` from the rc file: --to may be left out, once the user file allows
    // this directory's project file to name destinations (issue 14, item 7).
    std::fs::write(
        dir.join(".config/projectrestore/config.toml"),
        format!("allow_project_dirs = [\"{}\"]\n", s(dir)),
    )
    .unwrap();
    std::fs::write(
        dir.join(".projectrestore.rc"),
        format!("to = \"{}\"\nstrip_components = 1\nkeep = 1\n", s(&dest)),
    )
    .unwrap();
    let r = run_in(dir, &["restore", s(&a), "--yes"], &[], "");
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(std::fs::read(dest.join("f.txt")).unwrap(), b"a\n");
    let r = run_in(dir, &["history", "--json"], &[], "");
    assert_eq!(r.code, 0, "{}", r.err);
}

#[test]
fn a_broken_rc_file_names_its_line() {
    let w = Work::new();
    let dir = w.root();
    std::fs::write(dir.join(".projectrestore.rc"), "keep = 3\nkepe = 4\n").unwrap();
    let r = run_in(dir, &["restore", "x.tar", "--to", "d"], &[], "");
    assert_eq!(r.code, 64);
    assert!(r.err.contains(".projectrestore.rc"), "{}", r.err);
    assert!(r.err.contains("line 2, column 1"), "{}", r.err);
    assert!(r.err.contains("kepe"), "{}", r.err);
    std::fs::write(dir.join(".projectrestore.rc"), "threshold = \"two\"\n").unwrap();
    let r = run_in(dir, &["config"], &[], "");
    assert_eq!(r.code, 64);
    assert!(r.err.contains("line 1, column 13"), "{}", r.err);
    let r = run_in(
        dir,
        &["list", "--backup-dir", "."],
        &[("PROJECTRESTORE_KEEP", "x")],
        "",
    );
    assert_eq!(r.code, 64);
    assert!(r.err.contains("PROJECTRESTORE_KEEP"), "{}", r.err);
}

#[test]
fn completions_and_man() {
    let w = Work::new();
    for shell in ["bash", "zsh", "fish"] {
        let r = w.run(&["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.err);
        assert!(
            r.out.contains("projectrestore") && r.out.contains("rollback"),
            "{shell}"
        );
    }
    let r = w.run(&["man"]);
    assert_eq!(r.code, 0);
    assert!(r.out.contains(".TH projectrestore 1"), "{}", &r.out[..200]);
    assert!(r.out.contains("preview"));
    let r = w.run(&["completions", "tcsh"]);
    assert_eq!(r.code, 64);
}

#[test]
fn old_generations_are_removed_after_the_report() {
    require_test_hooks();
    // A crash while removing the old generation (after the swap) comes after the
    // report was printed; the new tree is in place and recovery removes the trash.
    let w = Work::new();
    let dest = w.root().join("app");
    let a = w.archive("A.tar.gz", &[("f.txt", b"A", 0o644)]);
    let b = w.archive("B.tar.gz", &[("f.txt", b"B", 0o644)]);
    assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
    let args = [
        "restore",
        s(&b),
        "--to",
        s(&dest),
        "--yes",
        "--strip-components",
        "1",
        "--keep",
        "0",
    ];
    let r = run_in(
        w.root(),
        &args,
        &[("PROJECTRESTORE_CRASH_AT", "after-trash")],
        "",
    );
    assert_ne!(r.code, 0, "the prune was to be interrupted");
    assert!(
        r.out.contains("restored into"),
        "the report comes first: {}",
        r.out
    );
    assert_eq!(content(&dest), "B");
    let state = w.root().join(".app.projectrestore");
    assert!(common::names(&state)
        .iter()
        .any(|n| n.starts_with("trash-")));
    assert_eq!(w.run(&["recover", s(&dest)]).code, 0);
    assert!(common::names(&state)
        .iter()
        .all(|n| !n.starts_with("trash-")));
    assert!(history(&w, &dest)["generations"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// `prune DIR` (issue 16, item 7): explicit, under the lock, by count and by
/// age; the tree in place is never touched; a never-restored path is an error
/// that makes nothing.
#[test]
fn prune_removes_generations_by_count_and_age() {
    let w = Work::new();
    let dest = w.root().join("app");
    for c in ["A", "B", "C", "D"] {
        let a = w.archive(&format!("{c}.tar.gz"), &[("f.txt", c.as_bytes(), 0o644)]);
        assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
    }
    assert_eq!(
        history(&w, &dest)["generations"].as_array().unwrap().len(),
        3
    );
    // history says who signed each generation and what they all hold.
    let h = w.run(&["history", s(&dest)]);
    assert!(
        h.out.contains("SIGNED BY") && h.out.contains("unverified"),
        "{}",
        h.out
    );
    assert!(
        h.out.contains("3 generations hold 3 B of file contents"),
        "{}",
        h.out
    );
    let r = w.run(&["prune", s(&dest)]);
    assert_eq!(r.code, 64, "neither --keep nor --older-than: {}", r.err);
    // Both: only what is beyond the newest N *and* older (the newest N stay).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = w.run(&[
        "prune",
        s(&dest),
        "--keep",
        "2",
        "--older-than",
        "1s",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(
        (v["removed"].as_u64(), v["kept"].as_u64()),
        (Some(1), Some(2))
    );
    let r = w.run(&["prune", s(&dest), "--keep", "1", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(
        (v["removed"].as_u64(), v["kept"].as_u64()),
        (Some(1), Some(1))
    );
    let h = history(&w, &dest);
    let gens = h["generations"].as_array().unwrap();
    assert_eq!(gens.len(), 1);
    assert!(gens[0]["meta"]["archive"]
        .as_str()
        .unwrap()
        .ends_with("C.tar.gz"));
    // All were replaced just now: nothing is older than an hour.
    let r = w.run(&["prune", s(&dest), "--older-than", "1h"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("removed 0 generations, 1 kept"), "{}", r.out);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = w.run(&["prune", s(&dest), "--older-than", "1s"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("removed 1 generation, 0 kept"), "{}", r.out);
    assert_eq!(content(&dest), "D", "the tree in place is never touched");
    let never = w.root().join("never");
    let r = w.run(&["prune", s(&never), "--keep", "1"]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(!w.root().join(".never.projectrestore").exists());
}

/// Generations cost disk (issue 16, item 7): the same tree restored again is
/// not kept twice; a tree that differs in one byte only (same size, same
/// modification time: what a careless comparison would call "the same") is
/// kept; the summary and `history` say what generations take on disk; a
/// crash while the duplicate is removed loses nothing.
#[test]
fn the_same_tree_is_not_kept_twice() {
    require_test_hooks();
    let w = Work::new();
    let dest = w.root().join("app");
    let a = w.archive(
        "A.tar.gz",
        &[("f.txt", b"AAAA", 0o644), ("g.txt", b"g", 0o600)],
    );
    assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
    let r = restore(&w, &a, &dest, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["replaced_generation"], serde_json::Value::Null);
    assert_eq!(v["generations"]["identical_not_kept"], true);
    assert_eq!(v["generations"]["kept_bytes"], serde_json::Value::Null);
    assert_eq!(v["generations"]["count"], 0);
    assert!(history(&w, &dest)["generations"]
        .as_array()
        .unwrap()
        .is_empty());
    let r = restore(&w, &a, &dest, &[]);
    assert!(r.out.contains("not kept twice"), "{}", r.out);

    // One byte changed, size and modification time put back.
    let f = dest.join("f.txt");
    let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
    std::fs::write(&f, b"AAAB").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let r = restore(&w, &a, &dest, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert!(v["replaced_generation"].is_string(), "{v}");
    assert_eq!(v["generations"]["identical_not_kept"], false);
    assert!(v["generations"]["kept_bytes"].as_u64().unwrap() > 0);
    assert_eq!(v["generations"]["count"], 1);
    let h = history(&w, &dest);
    let gens = h["generations"].as_array().unwrap();
    assert_eq!(gens.len(), 1);
    assert!(gens[0]["disk_bytes"].as_u64().unwrap() > 0);
    assert_eq!(h["disk_bytes"], gens[0]["disk_bytes"]);
    let kept = Path::new(gens[0]["path"].as_str().unwrap()).join("f.txt");
    assert_eq!(std::fs::read(kept).unwrap(), b"AAAB");
    let r = w.run(&["history", s(&dest)]);
    assert!(
        r.out.contains("ON DISK") && r.out.contains("on disk"),
        "{}",
        r.out
    );

    // A crash while the duplicate goes: the restored tree is in place, and
    // recovery removes the half-removed duplicate.
    let args = [
        "restore",
        s(&a),
        "--to",
        s(&dest),
        "--yes",
        "--strip-components",
        "1",
    ];
    let r = run_in(
        w.root(),
        &args,
        &[("PROJECTRESTORE_CRASH_AT", "after-trash")],
        "",
    );
    assert_ne!(r.code, 0, "the removal was to be interrupted");
    assert_eq!(content(&dest), "AAAA");
    assert_eq!(w.run(&["recover", s(&dest)]).code, 0);
    let state = w.root().join(".app.projectrestore");
    assert!(common::names(&state)
        .iter()
        .all(|n| !n.starts_with("trash-")));
    let h = history(&w, &dest);
    assert_eq!(h["generations"].as_array().unwrap().len(), 1, "{h}");
}

/// The attack: a tree 10,000 directories deep in the destination (anyone who
/// can write there can build one; no archive may, `--max-depth` is 128).
/// Measuring, comparing and removing it walked one stack frame and one
/// descriptor per level: restore, `history` and `prune` died of a stack
/// overflow. Now each stops at a bounded depth (a deeper tree is "not the
/// same" and goes unmeasured), and removal moves deep parts up first.
#[test]
fn a_very_deep_tree_in_the_destination_is_kept_measured_and_pruned_safely() {
    if !common::have_tool("python3") {
        return;
    }
    let w = Work::new();
    let dest = w.root().join("app");
    let a = w.archive("A.tar.gz", &[("f.txt", b"A", 0o644)]);
    assert_eq!(restore(&w, &a, &dest, &[]).code, 0);
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg("import os, sys\nos.chdir(sys.argv[1])\nfor _ in range(10000):\n    os.mkdir('d')\n    os.chdir('d')\n")
        .arg(&dest)
        .status()
        .unwrap();
    assert!(made.success());
    let r = restore(&w, &a, &dest, &[]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("previous tree kept as generation 1"),
        "{}",
        r.out
    );
    assert_eq!(content(&dest), "A");
    let r = w.run(&["history", s(&dest)]);
    assert_eq!(r.code, 0, "{}", r.err);
    let h = history(&w, &dest);
    assert_eq!(h["generations"].as_array().unwrap().len(), 1, "{h}");
    assert!(h["generations"][0]["disk_bytes"].is_null(), "{h}");
    // Pruning removes the deep tree, whole.
    let r = w.run(&["prune", s(&dest), "--keep", "0"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let state = w.root().join(".app.projectrestore");
    assert!(
        common::names(&state)
            .iter()
            .all(|n| !n.starts_with("trash-") && !n.starts_with(".projectrestore-remove-")),
        "{:?}",
        common::names(&state)
    );
    assert!(history(&w, &dest)["generations"]
        .as_array()
        .unwrap()
        .is_empty());
}

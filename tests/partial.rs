//! Partial restores (issue 16, item 3): `restore ARCHIVE PATH…`, `--include`,
//! `--exclude`. The whole archive is verified and validated exactly as for a
//! whole restore; only the selection is written; a selection never silently
//! replaces a tree that is there.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;

fn tar_of_a_project() -> Vec<u8> {
    let mut t = Tar::new();
    t.dir("p")
        .dir("p/src")
        .file("p/src/main.py", b"print('main')\n")
        .dir("p/src/util")
        .file("p/src/util/helpers.py", b"def h(): pass\n")
        .file("p/README.md", b"# p\n")
        .dir("p/tests")
        .file("p/tests/test_main.py", b"assert True\n");
    t.header(b"p/src/again.py", LNK, 0, b"p/src/main.py", 0o644);
    t.finish()
}

fn run(args: &[&str]) -> Run {
    Run::from(bin().args(args).output().unwrap())
}

#[test]
fn paths_and_globs_select_and_parents_are_made() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, tar_of_a_project()).unwrap();
    let a = a.to_str().unwrap();
    let one = tmp.path().join("one");
    let r = run(&[
        "restore",
        a,
        "src/util",
        "--to",
        one.to_str().unwrap(),
        "--strip-components",
        "1",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["selected"]["files"], 1, "{v}");
    assert_eq!(v["summary"]["files"], 4, "the whole archive was read: {v}");
    let snap = snapshot(&one);
    assert_eq!(
        snap.keys().cloned().collect::<Vec<_>>(),
        ["", "src", "src/util", "src/util/helpers.py"]
    );
    let py = tmp.path().join("py");
    let r = run(&[
        "restore",
        a,
        "--include",
        "*.py",
        "--exclude",
        "tests",
        "--to",
        py.to_str().unwrap(),
        "--strip-components",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(py.join("src/main.py").is_file() && py.join("src/util/helpers.py").is_file());
    assert!(
        py.join("src/again.py").is_file(),
        "a hard link whose target is selected"
    );
    assert!(!py.join("tests").exists() && !py.join("README.md").exists());
}

#[test]
fn a_selection_never_silently_replaces_a_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, tar_of_a_project()).unwrap();
    let a = a.to_str().unwrap();
    let dest = tmp.path().join("app");
    let d = dest.to_str().unwrap();
    assert_eq!(
        run(&["restore", a, "--to", d, "--strip-components", "1"]).code,
        0
    );
    let before = snapshot(&dest);
    let r = run(&[
        "restore",
        a,
        "README.md",
        "--to",
        d,
        "--strip-components",
        "1",
        "--yes",
    ]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("--replace-with-selection"), "{}", r.err);
    assert_eq!(snapshot(&dest), before);
    // Asked for: the tree becomes the selection, the old one a generation.
    let r = run(&[
        "restore",
        a,
        "README.md",
        "--to",
        d,
        "--strip-components",
        "1",
        "--replace-with-selection",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(snapshot(&dest).len(), 2, "the root and README.md");
    let h = run(&["history", d, "--json"]);
    let h: serde_json::Value = serde_json::from_str(&h.out).unwrap();
    assert_eq!(h["generations"].as_array().unwrap().len(), 1);
}

/// The selection changes what is written, never what is checked: a hostile
/// entry or a checksum mismatch outside the selection refuses the archive.
#[test]
fn the_whole_archive_is_still_verified_and_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = Tar::new();
    t.file("ok.txt", b"fine");
    t.header(b"../escape", REG, 1, b"", 0o644).data(b"x");
    let evil = tmp.path().join("evil.tar");
    std::fs::write(&evil, t.finish()).unwrap();
    let out = tmp.path().join("out");
    let r = run(&[
        "restore",
        evil.to_str().unwrap(),
        "ok.txt",
        "--to",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(!out.exists() && !tmp.path().join("escape").exists());
    let good = tmp.path().join("good.tar");
    std::fs::write(&good, tar_of_a_project()).unwrap();
    std::fs::write(
        tmp.path().join("good.tar.sha256"),
        format!("{}  good.tar\n", "0".repeat(64)),
    )
    .unwrap();
    let r = run(&[
        "restore",
        good.to_str().unwrap(),
        "p/README.md",
        "--to",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(!out.exists());
}

#[test]
fn a_hard_link_to_what_is_left_out_and_an_empty_selection_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, tar_of_a_project()).unwrap();
    let a = a.to_str().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let r = run(&["restore", a, "p/src/again.py", "--to", o]);
    assert_eq!(r.code, 64, "{}", r.err);
    assert!(r.err.contains("hard link to p/src/main.py"), "{}", r.err);
    assert!(!out.exists());
    let r = run(&["restore", a, "no/such/path", "--to", o]);
    assert_eq!(r.code, 64, "{}", r.err);
    assert!(r.err.contains("matched nothing"), "{}", r.err);
    assert!(!Path::new(o).exists());
}

/// Review findings: a parent made for a selected entry keeps the archive's
/// mode for it (a 0700 directory stays private); history records what was
/// written, as a partial restore; a dry run refuses what the restore would.
#[test]
fn made_parents_keep_their_mode_and_history_says_partial() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut t = Tar::new();
    t.header(b"p/", DIR, 0, b"", 0o755);
    t.header(b"p/.ssh/", DIR, 0, b"", 0o700);
    t.file_mode("p/.ssh/id.key", b"secret", 0o600);
    t.file("p/README.md", b"# p\n");
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, t.finish()).unwrap();
    let a = a.to_str().unwrap();
    let out = tmp.path().join("keys");
    let o = out.to_str().unwrap();
    let r = run(&["restore", a, "--include", "*.key", "--to", o]);
    assert_eq!(r.code, 0, "{}", r.err);
    let mode = std::fs::metadata(out.join("p/.ssh"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "the private directory stayed private");
    let h: serde_json::Value = serde_json::from_str(&run(&["history", o, "--json"]).out).unwrap();
    assert_eq!(h["current"]["how"], "partial-restore", "{h}");
    assert_eq!(h["current"]["files"], 1, "{h}");
    // A dry run of a selection into a tree that is there is refused too.
    let r = run(&["restore", a, "p/README.md", "--to", o, "--dry-run"]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("--replace-with-selection"), "{}", r.err);
}

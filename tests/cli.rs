//! The command line end to end: round trips of archives made by GNU tar and by
//! Python's tarfile (as projectclone writes them), the invariants of DESIGN.md
//! (nothing written before the gate, dry runs write nothing, the lock, the swap and
//! its generations, recovery after a crash at every step, signals), and exit codes.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command as Std;

use common::*;

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new(&$a)),*] };
}

/// A small project tree with the things real projects have.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("src/deep/er")).unwrap();
    std::fs::write(root.join("README.md"), b"# project\n").unwrap();
    std::fs::write(root.join("src/main.rs"), b"fn main() {}\n").unwrap();
    std::fs::write(root.join("src/deep/er/empty"), b"").unwrap();
    std::fs::write(root.join("src/deep/big.bin"), vec![7u8; 300_000]).unwrap();
    let long = "x".repeat(120);
    std::fs::write(root.join(format!("src/{long}.txt")), b"long name").unwrap();
    std::fs::write(root.join("caf\u{e9}.txt"), b"unicode").unwrap();
    std::fs::write(root.join("run.sh"), b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        root.join("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    symlink("src/main.rs", root.join("main-link")).unwrap();
    std::fs::hard_link(root.join("README.md"), root.join("README.hard")).unwrap();
}

fn gnu_tar(src: &Path, out: &Path, flags: &[&str]) {
    let status = Std::new("tar")
        .args(flags)
        .arg("-f")
        .arg(out)
        .arg("-C")
        .arg(src)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn round_trip_gnu_tar_gzip_and_zstd_and_plain() {
    if !have_tool("tar") || !have_tool("zstd") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    let expected = snapshot(&src);
    for (name, flags) in [
        ("a.tar.gz", vec!["-cz"]),
        ("a.tar.zst", vec!["--zstd", "-c"]),
        ("a.tar", vec!["-c"]),
        ("pax.tar.gz", vec!["--format=pax", "-cz"]),
    ] {
        let archive = tmp.path().join(name);
        gnu_tar(&src, &archive, &flags);
        let dest = tmp.path().join(format!("out-{name}"));
        let (code, _, err) = run(args![OsStr::new("restore"), archive, "--to", dest]);
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(snapshot(&dest), expected, "{name}: restored tree differs");
        assert_eq!(
            inode(&dest.join("README.md")),
            inode(&dest.join("README.hard")),
            "{name}: hardlink"
        );
    }
}

/// projectclone writes gzip over PAX tar with one top-level folder (made by Python's tarfile).
#[test]
fn projectclone_archive_with_strip_components() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = repo().join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let dest = tmp.path().join("proj");
    let (code, out, err) = run(args![
        OsStr::new("restore"),
        archive,
        "--to",
        dest,
        "--strip-components",
        "1"
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("checksum: ok"),
        "the .sha256 sidecar is checked: {out}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("docs/notes.txt")).unwrap(),
        "Backup note: older\n"
    );
    assert_eq!(
        std::fs::read_link(dest.join("NOTES")).unwrap().to_str(),
        Some("docs/notes.txt")
    );
    assert_eq!(snapshot(&dest)["bin/run.sh"].1, 0o755);
}

#[test]
fn restore_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("d");
    let t = zstd(&Tar::new().file("a.txt", b"from stdin").finish());
    let out = bin()
        .args(["restore", "-", "--to"])
        .arg(&dest)
        .write_stdin(t)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dest.join("a.txt")).unwrap(), b"from stdin");
}

/// Invariant: --dry-run and verify write nothing at all, not even the state directory.
#[test]
fn dry_run_and_verify_write_nothing() {
    let scene = Scene::new();
    let before = snapshot(&scene.parent);
    let a = scene.archive(
        "a.tar.gz",
        &gzip(&Tar::new().file("new.txt", b"x").finish()),
    );
    let (code, out, err) = run(args![
        OsStr::new("restore"),
        a,
        "--to",
        scene.dest,
        "--dry-run",
        "--yes"
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("checked 1 file ("), "{out}"); // issue 16: plurals (was "1 files")
    let (code, _, err) = run(args![OsStr::new("verify"), a]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(snapshot(&scene.parent), before);
}

#[test]
fn json_report() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, Tar::new().file("a.txt", b"x").finish()).unwrap();
    let (code, out, _) = run(args![OsStr::new("verify"), a, "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    let (code, out, _) = run(args![
        OsStr::new("verify"),
        tmp.path().join("missing.tar"),
        "--json"
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exit_code"], 1);
}

/// A wrong .sha256 sidecar fails the gate with exit 4, and the destination is untouched.
#[test]
fn checksum_mismatch_is_exit_4() {
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let a = scene.archive(
        "a.tar.gz",
        &gzip(&Tar::new().file("new.txt", b"x").finish()),
    );
    std::fs::write(
        scene.tmp.path().join("a.tar.gz.sha256"),
        format!("{}  a.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();
    for mode in ["--verify-first", "--single-pass"] {
        let (code, _, err) = run(args![
            OsStr::new("restore"),
            a,
            "--to",
            scene.dest,
            "--yes",
            mode
        ]);
        assert_eq!(code, 4, "{mode}: {err}");
        assert!(err.contains("SHA-256"), "{err}");
        assert_eq!(snapshot(&scene.dest), before);
        assert!(scene.leftover_staging().is_empty());
    }
}

/// A flipped byte breaks the gzip stream too; the reported cause is the checksum (exit 4).
#[test]
fn tampered_archive_reports_verification_not_parse_error() {
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let good = gzip(&Tar::new().file("new.txt", &vec![b'a'; 50_000]).finish());
    let sum = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&good))
    };
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    let a = scene.archive("a.tar.gz", &bad);
    let ck = scene.tmp.path().join("SHA256SUMS");
    std::fs::write(&ck, format!("{sum}  a.tar.gz\n")).unwrap();
    for mode in ["--verify-first", "--single-pass"] {
        let (code, _, err) = run(args![
            OsStr::new("restore"),
            a,
            "--to",
            scene.dest,
            "--yes",
            "--checksum",
            ck,
            mode
        ]);
        assert_eq!(code, 4, "{mode}: {err}");
        assert_eq!(snapshot(&scene.dest), before);
    }
}

/// Invariant 5: a non-empty directory projectrestore did not create is replaced only
/// with confirmation, and then kept as a generation.
#[test]
fn foreign_destination_needs_yes_and_is_kept() {
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let a = scene.archive("a.tar", &Tar::new().file("new.txt", b"new").finish());
    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", scene.dest]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(snapshot(&scene.dest), before);
    let (code, out, err) = run(args![OsStr::new("restore"), a, "--to", scene.dest, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("generation"), "{out}");
    assert_eq!(names(&scene.dest), ["new.txt"]);
    let gens = names(&scene.state().join("generations"));
    assert_eq!(gens.len(), 1);
    let kept = scene
        .state()
        .join("generations")
        .join(&gens[0])
        .join("tree");
    assert_eq!(snapshot(&kept), before, "the replaced tree is kept whole");
    // A managed destination needs no --yes the second time; --keep 1 prunes.
    let b = scene.archive("b.tar", &Tar::new().file("newer.txt", b"newer").finish());
    let (code, _, err) = run(args![
        OsStr::new("restore"),
        b,
        "--to",
        scene.dest,
        "--keep",
        "1"
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(&scene.dest), ["newer.txt"]);
    assert_eq!(names(&scene.state().join("generations")).len(), 1);
}

/// Invariant: a held lock → exit 3 at once, destination untouched.
#[test]
fn held_lock_is_exit_3() {
    if !have_tool("flock") {
        return;
    }
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let a = scene.archive("a.tar", &Tar::new().file("new.txt", b"new").finish());
    // A first restore creates the state directory and its lock file.
    let (code, _, err) = run(args![
        OsStr::new("restore"),
        a,
        "--to",
        scene.dest,
        "--yes",
        "--dry-run"
    ]);
    assert_eq!(code, 0, "{err}");
    std::fs::create_dir_all(scene.state()).unwrap();
    std::fs::set_permissions(
        scene.state(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    // What the tool writes when it creates a state directory (else it is refused).
    std::fs::write(scene.state().join("projectrestore-state"), b"").unwrap();
    let lock = scene.state().join("lock");
    std::fs::write(&lock, b"").unwrap();
    let mut holder = Std::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", scene.dest, "--yes"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code, 3, "{err}");
    assert_eq!(snapshot(&scene.dest), before);
}

#[test]
fn usage_errors_are_exit_64() {
    let (code, _, _) = run(args![OsStr::new("restore"), "--no-such-flag"]);
    assert_eq!(code, 64);
    let (code, _, _) = run(args![OsStr::new("restore"), "a.tar"]);
    assert_eq!(code, 64, "--to is required");
    let (code, out, _) = run(args![OsStr::new("restore"), "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Examples:"));
}

/// One error style (issue 16, item 9): clap's errors read like the tool's —
/// one `projectrestore: error:` line, one `hint:` line with clap's tip, the
/// usage and the `--help` of the subcommand named — not clap's own layout.
#[test]
fn clap_errors_speak_in_the_tools_style() {
    for (args, error, help) in [
        (
            vec!["restore", "--no-such-flag"],
            "projectrestore: error: unexpected argument '--no-such-flag' found",
            "see `projectrestore restore --help`",
        ),
        (
            vec!["restore", "a.tar", "--to", "x", "--max-files", "many"],
            "projectrestore: error: invalid value 'many' for '--max-files <N>'",
            "see `projectrestore restore --help`",
        ),
        (
            vec!["log", "verify"],
            "projectrestore: error: the following required arguments were not provided: <LOG>",
            "see `projectrestore log verify --help`",
        ),
    ] {
        let os: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let (code, out, err) = run(&os);
        assert_eq!(code, 64, "{args:?}: {err}");
        assert!(out.is_empty(), "{out}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].starts_with(error), "{args:?}: {err}");
        assert!(lines[1].starts_with("  hint: "), "{args:?}: {err}");
        assert!(lines[1].ends_with(help), "{args:?}: {err}");
        assert!(!err.contains("For more information"), "{err}");
    }
}

#[test]
fn list_and_latest_backup_discovery() {
    let dir = repo().join("fixtures/demo");
    let (code, out, err) = run(args![OsStr::new("list"), "--backup-dir", dir]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("2026-11-24_120000-demo-initial.tar.gz"),
        "newest first: {out}"
    );
    assert!(!out.contains("backup_2026"), "logs are not archives: {out}");
    assert!(
        !out.contains(".sha256\n"),
        "sidecars are not archives: {out}"
    );
    // Without ARCHIVE: the newest plain backup matching the pattern.
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("p");
    let (code, _, err) = run(args![
        OsStr::new("restore"),
        "--backup-dir",
        dir,
        "--pattern",
        "*-demo-*.tar.gz",
        "--to",
        dest,
        "--strip-components",
        "1"
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dest.join("docs/notes.txt")).unwrap(),
        "Backup note: initial\n"
    );
}

#[test]
fn recover_without_anything_to_do_is_a_no_op() {
    let scene = Scene::new();
    let before = snapshot(&scene.parent);
    let (code, out, err) = run(args![OsStr::new("recover"), scene.dest]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no interrupted swap"), "{out}");
    assert_eq!(snapshot(&scene.parent), before);
}

use std::ffi::OsStr;

/// Invariant 5 on a full disk: a restore into a 2 MiB tmpfs fails with ENOSPC named,
/// exit 1, the old tree intact and staging removed. Needs root (CI runs as root).
#[test]
fn full_disk_loses_nothing() {
    if !rustix::process::geteuid().is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run as root for this test"
        );
        eprintln!("skipping: needs root to mount a small tmpfs");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let st = Std::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(st.success(), "mount tmpfs");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Std::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    let dest = mnt.join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("old.txt"), b"old").unwrap();
    let first = tmp.path().join("first.tar");
    std::fs::write(&first, Tar::new().file("old.txt", b"old").finish()).unwrap();
    let (code, _, err) = run(args![OsStr::new("restore"), first, "--to", dest, "--yes"]);
    assert_eq!(code, 0, "{err}");
    let before = snapshot(&dest);
    let mut t = Tar::new();
    for i in 0..8 {
        t.file(&format!("big{i}.bin"), &vec![i as u8; 1 << 20]);
    }
    let big = tmp.path().join("big.tar");
    std::fs::write(&big, t.finish()).unwrap();
    let (code, _, err) = run(args![OsStr::new("restore"), big, "--to", dest]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(snapshot(&dest), before);
    let state = mnt.join(".dest.projectrestore");
    assert!(
        names(&state).iter().all(|n| !n.starts_with("staging")),
        "{:?}",
        names(&state)
    );
}

/// 16 concurrent restores of different archives to one destination serialise under
/// the lock (--wait): every run succeeds and the destination is one whole tree.
#[test]
fn concurrent_restores_serialise() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dest");
    let mut archives = Vec::new();
    for i in 0..16 {
        let mut t = Tar::new();
        for j in 0..50 {
            t.file(
                &format!("f{j}.txt"),
                format!("archive {i} file {j}\n").as_bytes(),
            );
        }
        let a = tmp.path().join(format!("a{i}.tar"));
        std::fs::write(&a, t.finish()).unwrap();
        archives.push(a);
    }
    let children: Vec<_> = archives
        .iter()
        .map(|a| {
            Std::new(env!("CARGO_BIN_EXE_projectrestore"))
                .arg("restore")
                .arg(a)
                .arg("--to")
                .arg(&dest)
                .args(["--wait", "--keep", "10"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(dest.join("f0.txt")).unwrap();
    let i: usize = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    for j in 0..50 {
        assert_eq!(
            std::fs::read_to_string(dest.join(format!("f{j}.txt"))).unwrap(),
            format!("archive {i} file {j}\n")
        );
    }
    assert_eq!(
        names(&tmp.path().join(".dest.projectrestore/generations")).len(),
        10,
        "the ten newest replaced trees (--keep 10)"
    );
}

/// Hostile surroundings: each is a clear error (exit 1) and nothing is lost.
#[test]
fn hostile_surroundings_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, Tar::new().file("new.txt", b"new").finish()).unwrap();
    // The destination is a file.
    let file = tmp.path().join("file");
    std::fs::write(&file, b"precious").unwrap();
    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", file, "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a directory"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
    // The destination is a symlink to a directory.
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("keep"), b"keep").unwrap();
    let link = tmp.path().join("link");
    symlink(&real, &link).unwrap();
    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", link, "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("symlink"), "{err}");
    assert_eq!(names(&real), ["keep"]);
    // ... unless asked to follow it: then the real directory is restored, the link stays.
    let (code, _, err) = run(args![
        OsStr::new("restore"),
        a,
        "--to",
        link,
        "--yes",
        "--follow-dest-symlink"
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(&real), ["new.txt"]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // A lock file that is a symlink.
    let d = tmp.path().join("d");
    let state = tmp.path().join(".d.projectrestore");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::write(state.join("projectrestore-state"), b"").unwrap();
    symlink(&file, state.join("lock")).unwrap();
    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", d]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("lock file"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
    // A state directory planted by another user (needs root to plant it).
    if rustix::process::geteuid().is_root() {
        let e = tmp.path().join("e");
        let planted = tmp.path().join(".e.projectrestore");
        std::fs::create_dir(&planted).unwrap();
        std::fs::set_permissions(
            &planted,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        std::os::unix::fs::chown(&planted, Some(12345), Some(12345)).unwrap();
        let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", e]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("another user"), "{err}");
        assert!(!e.exists());
    }
}

/// As root (CI): a destination that is a mount point, a read-only parent, and a
/// user without permission. Each is exit 1 with the reason, and nothing is lost.
#[test]
fn mounts_and_permissions() {
    if !rustix::process::geteuid().is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run as root for this test"
        );
        eprintln!("skipping: needs root");
        return;
    }
    struct Unmount(Vec<std::path::PathBuf>);
    impl Drop for Unmount {
        fn drop(&mut self) {
            for m in &self.0 {
                let _ = Std::new("umount").arg(m).status();
            }
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let a = tmp.path().join("a.tar");
    std::fs::write(&a, Tar::new().file("new.txt", b"new").finish()).unwrap();
    std::fs::set_permissions(&a, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let dest = tmp.path().join("mounted");
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&dest).unwrap();
    std::fs::create_dir(&ro).unwrap();
    let mut guard = Unmount(Vec::new());
    assert!(Std::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&dest)
        .status()
        .unwrap()
        .success());
    guard.0.push(dest.clone());
    std::fs::write(dest.join("keep.txt"), b"keep").unwrap();
    assert!(Std::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
        .arg(&ro)
        .status()
        .unwrap()
        .success());
    guard.0.push(ro.clone());

    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", dest, "--yes"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("mount point"), "{err}");
    assert_eq!(names(&dest), ["keep.txt"]);

    let (code, _, err) = run(args![OsStr::new("restore"), a, "--to", ro.join("dest")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");

    let nobody = tmp.path().join("owned-by-root");
    std::fs::create_dir(&nobody).unwrap();
    std::fs::set_permissions(&nobody, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Std::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_projectrestore"))
        .arg("restore")
        .arg(&a)
        .arg("--to")
        .arg(nobody.join("dest"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert!(names(&nobody).is_empty());
}

/// A projectclone archive restored as it is (one top directory named like the
/// archive) gets the tip to use --strip-components 1; with it, no tip.
#[test]
fn a_projectclone_archive_without_strip_components_gets_the_tip() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = repo().join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let dest = tmp.path().join("app");
    let r = restore(&archive, &dest, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err
            .contains("hint: the archive holds one top directory, 2026-11-23_090000-demo-older/")
            && r.err.contains("--strip-components 1"),
        "{}",
        r.err
    );
    let dest2 = tmp.path().join("app2");
    let r = restore(&archive, &dest2, &["--strip-components", "1"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!r.err.contains("hint:"), "{}", r.err);
    assert!(dest2.join("README.md").is_file());
}

/// `man --out DIR`: one page per subcommand (nested ones too), each with the
/// sections a manual needs beyond --help; `man` alone prints the root page.
#[test]
fn man_writes_one_page_per_subcommand_with_exit_status_environment_files_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("man1");
    let r = bin().args(["man", "--out"]).arg(&out).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for page in [
        "projectrestore.1",
        "projectrestore-restore.1",
        "projectrestore-verify.1",
        "projectrestore-log-append.1",
        "projectrestore-rollback.1",
    ] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        for section in ["EXIT STATUS", "ENVIRONMENT", "FILES", "OPTIONS"] {
            assert!(
                text.contains(&format!(".SH \"{section}\""))
                    || text.contains(&format!(".SH {section}")),
                "{page}: {section}"
            );
        }
        if page != "projectrestore.1" {
            assert!(text.contains(".SH \"EXAMPLES\""), "{page}: EXAMPLES");
        }
    }
    let root = bin().arg("man").output().unwrap();
    let text = String::from_utf8_lossy(&root.stdout);
    assert!(text.contains(".SH \"EXIT STATUS\""), "{text}");
}

/// `--to` with missing parents makes them (issue 16, item 8), beneath-only:
/// a '..' in the missing part or a file where a parent should be is refused
/// with nothing made; `history` of a missing path makes nothing.
#[test]
fn missing_parents_of_the_destination_are_made() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = repo().join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let dest = tmp.path().join("a/b/c/app");
    let r = restore(&archive, &dest, &["--strip-components", "1"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(dest.join("README.md").is_file());
    let before = snapshot(tmp.path());
    let r = restore(&archive, &tmp.path().join("x/../y/app"), &[]);
    assert_ne!(r.code, 0);
    assert!(r.err.contains("'..'"), "{}", r.err);
    std::fs::write(tmp.path().join("file"), b"not a directory").unwrap();
    let r = restore(&archive, &tmp.path().join("file/sub/app"), &[]);
    assert_ne!(r.code, 0);
    let h = bin()
        .arg("history")
        .arg(tmp.path().join("q/r/app"))
        .output()
        .unwrap();
    // A path that does not exist is an error that says so (a typo), and
    // makes nothing.
    assert_eq!(h.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&h.stderr).contains("does not exist"));
    let mut after = snapshot(tmp.path());
    after.remove("file");
    assert_eq!(
        after, before,
        "a refused or read-only command made something"
    );
}

/// The root, the home directory and the current directory are never replaced
/// as a whole, not even with --yes (issue 16, item 6); nothing is written.
#[test]
fn root_home_and_cwd_are_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("mine.txt"), b"keep").unwrap();
    let archive = repo().join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let before = snapshot(tmp.path());
    for (to, env_home, cwd, what) in [
        ("/", None, tmp.path().to_path_buf(), "the root directory"),
        (
            home.to_str().unwrap(),
            Some(&home),
            tmp.path().to_path_buf(),
            "your home directory",
        ),
        (".", None, home.clone(), "the current directory"),
    ] {
        let mut cmd = bin();
        cmd.current_dir(&cwd)
            .args(["restore", archive.to_str().unwrap(), "--to", to, "--yes"]);
        if let Some(h) = env_home {
            cmd.env("HOME", h);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{to}: {err}");
        assert!(
            err.contains(what) && err.contains("never replaced"),
            "{to}: {err}"
        );
        assert!(!err.contains("pass --yes"), "{to}: {err}");
    }
    assert_eq!(snapshot(tmp.path()), before);
}

/// With --json on the command line, usage errors are JSON too (issue 16,
/// item 10): clap's, the 4.x translation's, and missing arguments.
#[test]
fn usage_errors_are_json_with_json() {
    for args in [
        &["verify", "x.tar.gz", "--json", "--no-such-flag"][..],
        &["restore", "x.tar.gz", "--dest", "y", "--json"],
        &["verify", "--json"],
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(v["schema"], 1);
        assert_eq!(v["exit_code"], 64);
        assert!(
            v["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty() && !e.starts_with("error:")),
            "{v}"
        );
        assert!(v["hint"].is_string(), "{v}");
    }
    let out = bin()
        .args(["verify", "x.tar.gz", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(out.stdout.is_empty());
}

/// Ask before the long work (issue 16, item 6): a held lock is exit 3 and a
/// foreign tree's question is asked before pass 1 reads the archive; a no (or
/// nobody to ask) leaves no state directory behind.
#[test]
fn the_lock_and_the_question_come_before_pass_one() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = gzip(&Tar::new().file("a.txt", b"new").finish());
    let archive = tmp.path().join("a.tar.gz");
    std::fs::write(&archive, &bytes).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    std::fs::write(
        tmp.path().join("a.tar.gz.sha256"),
        format!("{sha}  a.tar.gz\n"),
    )
    .unwrap();
    let events = tmp.path().join("events.jsonl");
    let phases = |path: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "phase-started")
            .map(|v| v["phase"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // A foreign tree, nobody to ask: refused before pass 1, nothing made.
    let foreign = tmp.path().join("theirs");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("f"), b"theirs").unwrap();
    let r = Run::from(
        bin()
            .arg("restore")
            .arg(&archive)
            .arg("--to")
            .arg(&foreign)
            .args(["--events", events.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains("--yes"),
        "nobody was asked: the error says how to answer: {}",
        r.err
    );
    assert!(
        phases(&events).is_empty(),
        "pass 1 ran: {:?}",
        phases(&events)
    );
    assert!(
        !tmp.path().join(".theirs.projectrestore").exists(),
        "a state directory was left"
    );
    // A held lock: exit 3 before pass 1 (and --wait would wait instead).
    let dest = tmp.path().join("app");
    let r = restore(&archive, &dest, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let lock = tmp.path().join(".app.projectrestore/lock");
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        // flock(1) holds it once it has opened the file; wait until it does.
        let probe = std::process::Command::new("flock")
            .args(["-n", "-s"])
            .arg(&lock)
            .arg("true")
            .status()
            .unwrap();
        if !probe.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let r = restore(&archive, &dest, &["--events", events.to_str().unwrap()]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        phases(&events).is_empty(),
        "pass 1 ran: {:?}",
        phases(&events)
    );
}

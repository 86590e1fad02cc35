//! Invariant 2: the destination is always the whole old tree or the whole new tree,
//! also after `kill -9` at any instant; `recover` (or the next run) finishes or
//! undoes the swap and removes stale staging; the lock never stays held.
//! Signals: SIGINT/SIGTERM stop the restore with exit 2 and change nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// An archive of `n` files whose contents name `tag`, so old and new differ everywhere.
fn archive(n: usize, tag: &str) -> Vec<u8> {
    let mut t = Tar::new();
    for i in 0..n {
        t.file(
            &format!("d{}/f{i}.txt", i % 17),
            format!("{tag} {i}\n").repeat(50).as_bytes(),
        );
    }
    gzip(&t.finish())
}

/// A scene whose destination holds a tree restored from `old`, plus the snapshot a
/// clean restore of `new` gives.
fn setup(n: usize) -> (Scene, std::path::PathBuf, Snapshot, Snapshot) {
    let scene = Scene::new();
    let old = scene.archive("old.tar.gz", &archive(n, "old"));
    let new = scene.archive("new.tar.gz", &archive(n, "new"));
    std::fs::remove_dir_all(&scene.dest).unwrap();
    let out = bin()
        .arg("restore")
        .arg(&old)
        .arg("--to")
        .arg(&scene.dest)
        .arg("--yes")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old_snap = snapshot(&scene.dest);
    let reference = scene.tmp.path().join("reference");
    let out = bin()
        .arg("restore")
        .arg(&new)
        .arg("--to")
        .arg(&reference)
        .output()
        .unwrap();
    assert!(out.status.success());
    (scene, new, old_snap, snapshot(&reference))
}

fn recover_and_check(scene: &Scene, old: &Snapshot, new: &Snapshot, what: &str) -> bool {
    let out = bin().arg("recover").arg(&scene.dest).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: recover failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now = snapshot(&scene.dest);
    assert!(
        now == *old || now == *new,
        "{what}: destination is neither the old nor the new tree"
    );
    assert!(
        scene.leftover_staging().is_empty(),
        "{what}: staging left: {:?}",
        scene.leftover_staging()
    );
    // Generations hold whole trees only.
    for g in names(&scene.state().join("generations")) {
        let tree = snapshot(&scene.state().join("generations").join(&g).join("tree"));
        assert!(
            tree == *old || tree.is_empty() || tree == *new,
            "{what}: generation {g} is not a whole tree"
        );
    }
    now == *new
}

/// The next restore is not blocked by a stale lock and succeeds.
fn next_restore_works(scene: &Scene, archive: &std::path::Path, new: &Snapshot) {
    let out = bin()
        .arg("restore")
        .arg(archive)
        .arg("--to")
        .arg(&scene.dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "next restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(&scene.dest), *new);
}

/// A crash (abort) at every named step of the commit and of pruning, with the
/// atomic exchange and with the two-rename fallback (PROJECTRESTORE_PORTABLE_FS=1,
/// which also switches to the O_NOFOLLOW walk instead of openat2).
#[test]
fn crash_at_every_commit_step_then_recover() {
    require_test_hooks();
    let mut fired = std::collections::BTreeSet::new();
    for portable in ["0", "1"] {
        for point in projectrestore::commit::crash_points() {
            let (scene, new_archive, old, new) = setup(20);
            let out = bin()
                .arg("restore")
                .arg(&new_archive)
                .arg("--to")
                .arg(&scene.dest)
                .arg("--keep")
                .arg("0")
                .env("PROJECTRESTORE_CRASH_AT", point)
                .env("PROJECTRESTORE_PORTABLE_FS", portable)
                .output()
                .unwrap();
            if out.status.success() {
                continue; // this step is not on this path (e.g. the fallback's park)
            }
            fired.insert(*point);
            let what = format!("{point} (portable={portable})");
            recover_and_check(&scene, &old, &new, &what);
            next_restore_works(&scene, &new_archive, &new);
        }
    }
    let all: std::collections::BTreeSet<_> = projectrestore::commit::crash_points()
        .iter()
        .copied()
        .collect();
    assert_eq!(fired, all, "every crash point fires on some path");
}

/// A restore of `archive` into `dest` in the background, output discarded.
fn spawn_restore(archive: &std::path::Path, dest: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_projectrestore"))
        .arg("restore")
        .arg(archive)
        .arg("--to")
        .arg(dest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// 50 real SIGKILLs at spread-out instants of a restore (seeded, reproducible).
#[test]
fn kill_9_at_random_instants_then_recover() {
    let mut rng = Rng(0x5eed_2026);
    let (mut finished, mut rolled_back) = (0, 0);
    for round in 0..50 {
        let (scene, new_archive, old, new) = setup(300);
        let delay = Duration::from_millis(rng.next() % 250);
        let mut child = spawn_restore(&new_archive, &scene.dest);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if recover_and_check(
            &scene,
            &old,
            &new,
            &format!("round {round}, kill after {delay:?}"),
        ) {
            finished += 1;
        } else {
            rolled_back += 1;
        }
        next_restore_works(&scene, &new_archive, &new);
    }
    eprintln!("kill -9: {finished} ended with the new tree, {rolled_back} with the old");
}

/// SIGINT and SIGTERM while the archive is still streaming in: exit 2, nothing
/// changed, staging removed, lock released.
#[test]
fn signals_stop_cleanly() {
    for signal in ["INT", "TERM"] {
        let (scene, _, old, new) = setup(5);
        let big = archive(3000, "streamed");
        let mut child = Command::new(env!("CARGO_BIN_EXE_projectrestore"))
            .args(["restore", "-", "--to"])
            .arg(&scene.dest)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        use std::io::Write;
        stdin.write_all(&big[..big.len() / 2]).unwrap();
        // Wait until staging exists, so the signal lands mid-extraction.
        let start = Instant::now();
        while scene.leftover_staging().is_empty() && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "SIG{signal}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            snapshot(&scene.dest),
            old,
            "SIG{signal}: destination changed"
        );
        assert!(
            scene.leftover_staging().is_empty(),
            "SIG{signal}: staging left"
        );
        // One message line (issue 16, item 14): no hint repeating it.
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines,
            ["projectrestore: error: interrupted; nothing was changed"],
            "SIG{signal}"
        );
        let _ = new;
        let again = scene.archive("again.tar.gz", &archive(3, "again"));
        let out = bin()
            .arg("restore")
            .arg(&again)
            .arg("--to")
            .arg(&scene.dest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "SIG{signal}: lock not released: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// SIGINT and SIGTERM at seeded instants of restores from a file: exit 2 with the
/// old tree and no staging, or (when the swap had already happened) exit 0 with
/// the new tree; the lock is always released.
#[test]
fn signals_at_random_instants() {
    let mut rng = Rng(0x51_6e_a1);
    let mut outcomes = std::collections::BTreeMap::new();
    for round in 0..10u32 {
        let (scene, new_archive, old, new) = setup(600);
        let delay = Duration::from_millis(20 + rng.next() % 160);
        let signal = if round.is_multiple_of(2) {
            "INT"
        } else {
            "TERM"
        };
        let child = spawn_restore(&new_archive, &scene.dest);
        std::thread::sleep(delay);
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        let out = child.wait_with_output().unwrap();
        let now = snapshot(&scene.dest);
        match out.status.code() {
            Some(2) => assert_eq!(
                now, old,
                "round {round}: exit 2 but the destination changed"
            ),
            Some(0) => assert_eq!(now, new, "round {round}: exit 0 but not the new tree"),
            other => panic!("round {round}: unexpected exit {other:?}"),
        }
        assert!(
            scene.leftover_staging().is_empty(),
            "round {round}: staging left"
        );
        *outcomes.entry(out.status.code()).or_insert(0) += 1;
        next_restore_works(&scene, &new_archive, &new);
    }
    eprintln!("signals: {outcomes:?}");
}

/// A partial restore is decided after recovery (review finding): a crash in
/// the two-rename swap leaves the destination missing; a partial restore then
/// recovers the old tree first and must refuse to replace it with only the
/// selection (no --replace-with-selection), leaving the old tree whole.
#[test]
fn a_partial_restore_after_an_interrupted_swap_keeps_the_recovered_tree() {
    require_test_hooks();
    let (scene, new_archive, old, _new) = setup(5);
    let out = bin()
        .arg("restore")
        .arg(&new_archive)
        .arg("--to")
        .arg(&scene.dest)
        .env("PROJECTRESTORE_CRASH_AT", "after-park")
        .env("PROJECTRESTORE_PORTABLE_FS", "1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the crash point fired");
    assert!(
        !scene.dest.exists(),
        "the old tree is parked, nothing in place"
    );
    let out = bin()
        .arg("restore")
        .arg(&new_archive)
        .arg("d0/f0.txt")
        .arg("--to")
        .arg(&scene.dest)
        .env("PROJECTRESTORE_PORTABLE_FS", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--replace-with-selection"), "{err}");
    assert_eq!(
        snapshot(&scene.dest),
        old,
        "the recovered old tree is whole"
    );
}

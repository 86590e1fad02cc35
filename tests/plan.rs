//! `projectrestore plan` and the `plan` object of `restore --dry-run --json`
//! (issue 15): keys, signatures and checksum loaded and checked, the archive read
//! no further than the format sniff, the destination probed without writing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn demo_plan(dest: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "plan",
        "2026-11-24_120000-demo-initial.tar.gz.age",
        "--to",
        dest.to_str().unwrap(),
        "--trust",
        "../../keys",
        "-i",
        "secret/demo-age-identity.txt",
    ];
    args.extend_from_slice(extra);
    run_bin(Some(&repo().join("fixtures/demo")), &args, &[])
}

#[test]
fn plan_says_what_a_restore_would_do_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("app");
    let before = snapshot(tmp.path());
    let r = demo_plan(&dest, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(snapshot(tmp.path()), before, "plan wrote something");
    let p: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(p["schema"], 1);
    assert_eq!(p["action"], "restore");
    assert_eq!(p["passes"]["mode"], "verify-first");
    assert_eq!(p["outer_format"], "age");
    assert_eq!(p["checks"]["signatures"][0]["scheme"], "minisign");
    // Spelled as the reports spell keys, with who and where from.
    assert_eq!(p["checks"]["keys"][0]["key"], "minisign:7FAC16D288BD2D30");
    assert_eq!(p["checks"]["keys"][0]["signer"], "7FAC16D288BD2D30");
    assert_eq!(
        p["checks"]["keys"][0]["file"],
        "../../keys/demo-minisign.pub"
    );
    assert_eq!(
        p["checks"]["signatures_checked"],
        "before any byte was decrypted or parsed"
    );
    assert!(p["checks"]["checksum"]
        .as_str()
        .unwrap()
        .ends_with(".sha256"));
    assert_eq!(p["target"]["state"], "missing");
    assert_eq!(p["after"][0]["step"], "prune");
    // No secret: the identity is named by its path, its key is not in the plan.
    let identity =
        std::fs::read_to_string(repo().join("fixtures/demo/secret/demo-age-identity.txt")).unwrap();
    let key = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY"))
        .unwrap();
    assert!(!r.out.contains(key));
    // The human form says the same.
    let human = demo_plan(&dest, &[]);
    assert_eq!(human.code, 0, "{}", human.err);
    assert!(
        human.out.contains("verify-first") && human.out.contains("minisign"),
        "{}",
        human.out
    );
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn plan_reads_only_the_sniffed_head() {
    // A FIFO that gives 4 KiB and then nothing, without ever closing: a plan
    // that read past the sniff would wait forever.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("backup.tar.gz");
    sh(&format!("mkfifo {}", fifo.display()), tmp.path());
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        let mut head = gzip(&Tar::new().file("a.txt", b"a").finish());
        head.resize(4096, 0);
        let _ = f.write_all(&head);
        let _ = f.flush();
        // Hold the FIFO open (no end of file) until the plan has finished.
        let _ = done_rx.recv_timeout(Duration::from_secs(120));
    });
    let dest = tmp.path().join("app");
    let mut child = child_command()
        .args([
            "plan",
            fifo.to_str().unwrap(),
            "--to",
            dest.to_str().unwrap(),
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_or_fail(
        &mut child,
        "plan read past the sniffed head (it waited for more of the FIFO)",
    );
    let out = child.wait_with_output().unwrap();
    let _ = done_tx.send(());
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["outer_format"], "gzip");
    assert_eq!(p["layers_expected"], serde_json::json!(["gzip", "tar"]));
    assert_eq!(p["passes"]["mode"], "single-pass");
    assert_eq!(p["source"]["rereadable"], false);
    assert!(!dest.exists());
}

#[test]
fn a_dry_run_reports_its_plan() {
    let scene = Scene::new();
    let archive = scene.archive("a.tar", &Tar::new().file("a.txt", b"a").finish());
    let before = snapshot(&scene.parent);
    let r = restore(&archive, &scene.dest, &["--dry-run", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(snapshot(&scene.parent), before);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["plan"]["action"], "dry-run");
    assert_eq!(v["plan"]["target"]["state"], "foreign");
    assert_eq!(v["plan"]["layers_expected"], serde_json::json!(["tar"]));
    assert_eq!(v["plan"]["passes"]["mode"], "single-pass");
    assert!(v["plan"]["after"].as_array().unwrap().is_empty());
    // A real restore's report carries no plan (null, as every absent field).
    let real = restore(&archive, &scene.dest, &["--json"]);
    assert_eq!(real.code, 0, "{}", real.err);
    let v: Value = serde_json::from_str(&real.out).unwrap();
    assert_eq!(v.get("plan"), Some(&Value::Null));
}

#[test]
fn plan_checks_keys_and_names_a_trust_path_without_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("keys");
    std::fs::create_dir(&empty).unwrap();
    let r = demo_plan(
        &tmp.path().join("app"),
        &["--trust", empty.to_str().unwrap()],
    );
    assert_ne!(r.code, 0);
    assert!(r.err.contains("holds no public key"), "{}", r.err);
}

/// The library's pinned plan (`restore --interactive` stands on it): a restore
/// pinned to other bytes than the archive now holds is refused (exit 4) and
/// leaves the destination alone; pinned to the archive's own bytes it restores.
#[test]
fn a_pinned_plan_restores_only_the_pinned_bytes() {
    use projectrestore::interact::NoInteraction;
    use projectrestore::plan::Pinned;
    use projectrestore::restore::{self, Action, Options};
    use projectrestore::source::Input;
    use sha2::Digest;

    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("a.tar.gz");
    let bytes = gzip(&Tar::new().file("a.txt", b"pinned").finish());
    std::fs::write(&archive, &bytes).unwrap();
    let dest = tmp.path().join("dest");
    let opts = Options {
        input: Some(Input::File(archive)),
        action: Action::Restore { dest: dest.clone() },
        ..Options::default()
    };
    let ui = NoInteraction::shared();
    let events = projectrestore::event::NoEvents;
    let real = hex::encode(sha2::Sha256::digest(&bytes));
    for wrong in [
        Pinned {
            sha256: "0".repeat(64),
            size: bytes.len() as u64,
        },
        // The right digest but another size is not the same pin either.
        Pinned {
            sha256: real.clone(),
            size: bytes.len() as u64 + 1,
        },
    ] {
        let mut prepared = restore::prepare(&opts).unwrap();
        prepared.pin(wrong.clone());
        assert_eq!(prepared.plan().unwrap().pinned, Some(wrong));
        let err = prepared.execute(&events, &ui).unwrap_err();
        assert_eq!(
            err.category(),
            projectrestore::Category::Verification,
            "{err}"
        );
        // Refused at the gate: the destination was never created (the state
        // directory beside it, where staging lived, is allowed as in hostile.rs).
        assert!(!dest.exists(), "a refused pin wrote the destination");
    }
    let mut prepared = restore::prepare(&opts).unwrap();
    prepared.pin(Pinned {
        sha256: real,
        size: bytes.len() as u64,
    });
    let report = prepared.execute(&events, &ui).unwrap();
    assert!(report.summary.files > 0);
    assert!(dest.is_dir());
}

/// `--interactive` through the library: the archive replaced between the
/// preview and the yes (same path, other valid bytes) is refused, exit 4, and
/// nothing is written; the question was asked once.
#[test]
fn an_archive_swapped_after_its_preview_is_refused() {
    use projectrestore::interact::Answers;
    use projectrestore::restore::{self, Action, Options};
    use projectrestore::source::Input;

    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("a.tar.gz");
    std::fs::write(
        &archive,
        gzip(&Tar::new().file("a.txt", b"previewed").finish()),
    )
    .unwrap();
    let dest = tmp.path().join("dest");
    let opts = Options {
        input: Some(Input::File(archive.clone())),
        action: Action::Restore { dest: dest.clone() },
        ..Options::default()
    };
    let ui: projectrestore::interact::SharedInteraction = std::sync::Arc::new(Answers {
        passphrase: None,
        confirm: true,
    });
    let mut shown = 0;
    let err = restore::run_previewed(&opts, &projectrestore::event::NoEvents, &ui, &mut |r| {
        shown += 1;
        assert!(r.preview.is_some());
        // The attacker's moment: after the preview, before the restore.
        let swapped = tmp.path().join("swap");
        std::fs::write(
            &swapped,
            gzip(&Tar::new().file("a.txt", b"swapped!!").finish()),
        )
        .unwrap();
        std::fs::rename(&swapped, &archive).unwrap();
        Ok(())
    })
    .err()
    .expect("a swapped archive must be refused");
    assert_eq!(shown, 1);
    assert_eq!(
        err.category(),
        projectrestore::Category::Verification,
        "{err}"
    );
    assert!(!dest.exists(), "nothing may be written");
}

/// In verify-first, a wrong pin is refused right after pass 1: before the
/// destination is locked, recovered or staged (no state directory appears).
#[test]
fn a_wrong_pin_is_refused_before_anything_is_staged() {
    use projectrestore::interact::NoInteraction;
    use projectrestore::plan::Pinned;
    use projectrestore::restore::{self, Action, Options, PassMode};
    use projectrestore::source::Input;
    use sha2::Digest;

    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("a.tar.gz");
    let bytes = gzip(&Tar::new().file("a.txt", b"pinned").finish());
    std::fs::write(&archive, &bytes).unwrap();
    let sums = tmp.path().join("a.tar.gz.sha256");
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    std::fs::write(&sums, format!("{sha}  a.tar.gz\n")).unwrap();
    let dest = tmp.path().join("dest");
    let opts = Options {
        input: Some(Input::File(archive)),
        action: Action::Restore { dest: dest.clone() },
        mode: PassMode::VerifyFirst,
        ..Options::default()
    };
    let mut prepared = restore::prepare(&opts).unwrap();
    prepared.pin(Pinned {
        sha256: "1".repeat(64),
        size: bytes.len() as u64,
    });
    let err = prepared
        .execute(&projectrestore::event::NoEvents, &NoInteraction::shared())
        .unwrap_err();
    assert_eq!(
        err.category(),
        projectrestore::Category::Verification,
        "{err}"
    );
    assert!(!dest.exists());
    assert!(
        !tmp.path().join(".dest.projectrestore").exists(),
        "the pin is checked before the destination's state directory is made"
    );
}

/// The interactive yes covers the tree the preview was shown: a foreign tree
/// that appears after the preview is asked about again (here: no), and stays.
#[test]
fn a_foreign_tree_that_appears_after_the_preview_is_asked_about_again() {
    use projectrestore::interact::{Interaction, SharedInteraction};
    use projectrestore::restore::{self, Action, Options};
    use projectrestore::source::Input;
    use std::sync::Mutex;

    struct Script(Mutex<Vec<String>>);
    impl Interaction for Script {
        fn passphrase(
            &self,
            _: &str,
        ) -> Result<Option<projectrestore::interact::SecretString>, String> {
            Ok(None)
        }
        fn confirm(&self, question: &str) -> bool {
            let mut asked = self.0.lock().unwrap();
            asked.push(question.to_string());
            asked.len() == 1 // yes to the preview, no to anything after
        }
    }

    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("a.tar.gz");
    std::fs::write(&archive, gzip(&Tar::new().file("a.txt", b"new").finish())).unwrap();
    let dest = tmp.path().join("dest");
    let opts = Options {
        input: Some(Input::File(archive)),
        action: Action::Restore { dest: dest.clone() },
        ..Options::default()
    };
    let script = std::sync::Arc::new(Script(Mutex::new(Vec::new())));
    let ui: SharedInteraction = script.clone();
    let err = restore::run_previewed(&opts, &projectrestore::event::NoEvents, &ui, &mut |_| {
        // After the preview (of a missing destination), someone's tree appears.
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("theirs.txt"), b"not yours to replace").unwrap();
        Ok(())
    })
    .err()
    .expect("the second question was answered no");
    let asked = script.0.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked[1].contains("not restored by projectrestore"),
        "{asked:?}"
    );
    assert!(
        matches!(err, projectrestore::Error::NotConfirmed(_)),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dest.join("theirs.txt")).unwrap(),
        b"not yours to replace"
    );
}

/// A yes covers the tree it was given for: a foreign tree swapped for another
/// after the question (here: while answering it) is asked about again under
/// the lock, and a no keeps the new tree untouched.
#[test]
fn a_yes_covers_only_the_tree_it_was_given_for() {
    use projectrestore::interact::{Interaction, SharedInteraction};
    use projectrestore::restore::{self, Action, Options};
    use projectrestore::source::Input;
    use std::path::PathBuf;
    use std::sync::Mutex;

    struct Swapper {
        dest: PathBuf,
        asked: Mutex<Vec<String>>,
    }
    impl Interaction for Swapper {
        fn passphrase(
            &self,
            _: &str,
        ) -> Result<Option<projectrestore::interact::SecretString>, String> {
            Ok(None)
        }
        fn confirm(&self, question: &str) -> bool {
            let mut asked = self.asked.lock().unwrap();
            asked.push(question.to_string());
            if asked.len() == 1 {
                // Yes to tree A — and, meanwhile, someone puts tree B there.
                std::fs::rename(&self.dest, self.dest.with_extension("a")).unwrap();
                std::fs::create_dir(&self.dest).unwrap();
                std::fs::write(self.dest.join("b.txt"), b"tree B").unwrap();
                return true;
            }
            false
        }
    }

    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("a.tar.gz");
    std::fs::write(&archive, gzip(&Tar::new().file("new.txt", b"new").finish())).unwrap();
    let dest = tmp.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("a.txt"), b"tree A").unwrap();
    let opts = Options {
        input: Some(Input::File(archive)),
        action: Action::Restore { dest: dest.clone() },
        ..Options::default()
    };
    let ui = std::sync::Arc::new(Swapper {
        dest: dest.clone(),
        asked: Mutex::new(Vec::new()),
    });
    let shared: SharedInteraction = ui.clone();
    let err = restore::run(&opts, &projectrestore::event::NoEvents, &shared).unwrap_err();
    assert!(
        matches!(err, projectrestore::Error::NotConfirmed(_)),
        "{err}"
    );
    assert_eq!(ui.asked.lock().unwrap().len(), 2, "tree B was asked about");
    assert_eq!(std::fs::read(dest.join("b.txt")).unwrap(), b"tree B");
}

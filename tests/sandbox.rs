//! The Wasm-sandboxed extractor (invariant 10): the same trees and the same
//! refusals as native code; `auto` picks it for bytes no signature
//! authenticated; hostile guests (written in WebAssembly text, compiled by the
//! `wat` crate) cannot open files, sockets or clocks, spin, or allocate past
//! the cap; and a guest that lies — passes `../x`, absolute symlinks, oversize
//! entries — is caught by the host's own validation, with the destination
//! untouched each time.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use projectrestore_archive::wire::{EndRecord, EntryRecord, Record};

/// `restore ARCHIVE --to DEST --yes ARGS…` with `env`.
fn restore_env(archive: &Path, dest: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut a = vec![
        "restore",
        archive.to_str().unwrap(),
        "--to",
        dest.to_str().unwrap(),
        "--yes",
    ];
    a.extend_from_slice(args);
    run_bin(None, &a, env)
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.out).unwrap_or_else(|e| panic!("{e}: {} / {}", run.out, run.err))
}

/// A project with files, directories, links, an empty file and a large one.
fn project_tar() -> Vec<u8> {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    Tar::new()
        .dir("proj/")
        .file("proj/README.md", b"# hello\n")
        .dir("proj/src/")
        .file("proj/src/main.rs", b"fn main() {}\n")
        .file_mode("proj/run.sh", b"#!/bin/sh\n", 0o755)
        .file("proj/empty", b"")
        .file("proj/deep/er/still/file.txt", b"implicit parents\n")
        .symlink("proj/link", "src/main.rs")
        .hardlink("proj/hard", "proj/README.md")
        .file("proj/big.bin", &big)
        .finish()
}

#[test]
fn wasm_and_native_restore_the_same_tree_from_every_format() {
    let tar = project_tar();
    let mut archives: Vec<(&str, Vec<u8>)> = vec![
        ("p.tar", tar.clone()),
        ("p.tar.gz", gzip(&tar)),
        ("p.tar.zst", zstd(&tar)),
    ];
    // Multi-member gzip and multi-frame zstd with a skippable frame between.
    let (a, b) = tar.split_at(tar.len() / 2);
    let mut gz2 = gzip(a);
    gz2.extend(gzip(b));
    archives.push(("multi.tar.gz", gz2));
    let mut zst2 = zstd(a);
    zst2.extend([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
    zst2.extend(zstd(b));
    archives.push(("multi.tar.zst", zst2));
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in &archives {
        let file = tmp.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let mut trees = Vec::new();
        for mode in ["native", "wasm"] {
            let dest = tmp.path().join(format!("{name}-{mode}"));
            let out = restore_env(
                &file,
                &dest,
                &["--sandbox", mode, "--strip-components", "1", "--json"],
                &[],
            );
            assert_eq!(out.code, 0, "{name} {mode}: {}", out.err);
            let report = json(&out);
            assert_eq!(report["extractor"]["kind"], mode, "{name}: {report}");
            trees.push(snapshot(&dest));
        }
        assert_eq!(trees[0], trees[1], "{name}: the trees differ");
    }
}

#[test]
fn the_demo_and_crypto_fixtures_give_the_same_trees() {
    let repo = repo();
    let cases: Vec<(PathBuf, Vec<String>)> = vec![
        (
            repo.join("fixtures/demo/2026-11-24_120000-demo-initial.tar.gz.age"),
            vec![
                "--trust".into(),
                repo.join("keys").display().to_string(),
                "-i".into(),
                repo.join("fixtures/demo/secret/demo-age-identity.txt")
                    .display()
                    .to_string(),
            ],
        ),
        (
            repo.join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz"),
            vec!["--allow-unsigned".into()],
        ),
        (
            repo.join("fixtures/crypto/data.tar.gz"),
            vec!["--allow-unsigned".into()],
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (archive, extra)) in cases.iter().enumerate() {
        let mut trees = Vec::new();
        for mode in ["native", "wasm"] {
            let dest = tmp.path().join(format!("{i}-{mode}"));
            let mut args: Vec<&str> = extra.iter().map(String::as_str).collect();
            args.extend(["--sandbox", mode]);
            let out = restore_env(archive, &dest, &args, &[]);
            assert_eq!(out.code, 0, "{} {mode}: {}", archive.display(), out.err);
            trees.push(snapshot(&dest));
        }
        assert_eq!(
            trees[0],
            trees[1],
            "{}: the trees differ",
            archive.display()
        );
    }
}

#[test]
fn auto_picks_native_after_a_verified_signature_and_wasm_otherwise() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    // Verified first by a trusted minisign key: native.
    let signed = repo.join("fixtures/demo/2026-11-24_120000-demo-initial.tar.gz.age");
    let out = restore_env(
        &signed,
        &tmp.path().join("signed"),
        &[
            "--trust",
            repo.join("keys").to_str().unwrap(),
            "-i",
            repo.join("fixtures/demo/secret/demo-age-identity.txt")
                .to_str()
                .unwrap(),
            "--json",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.err);
    let r = json(&out);
    assert_eq!(r["extractor"]["kind"], "native", "{r}");
    assert!(
        r["extractor"]["reason"]
            .as_str()
            .unwrap()
            .contains("authenticated"),
        "{r}"
    );
    // Unsigned: wasm, and the events say so.
    let unsigned = repo.join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let events = tmp.path().join("events.jsonl");
    let out = restore_env(
        &unsigned,
        &tmp.path().join("unsigned"),
        &[
            "--allow-unsigned",
            "--json",
            "--events",
            events.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(json(&out)["extractor"]["kind"], "wasm");
    let lines = std::fs::read_to_string(&events).unwrap();
    let chosen: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "extractor-chosen")
        .collect();
    assert_eq!(chosen.len(), 1, "{lines}");
    assert_eq!(chosen[0]["extractor"], "wasm", "{lines}");
    // Standard input (one pass, nothing verified first): wasm.
    let bytes = std::fs::read(&unsigned).unwrap();
    let out = bin()
        .args([
            "restore",
            "-",
            "--allow-unsigned",
            "--yes",
            "--json",
            "--to",
        ])
        .arg(tmp.path().join("stdin"))
        .write_stdin(bytes)
        .output()
        .unwrap();
    let run: Run = out.into();
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(json(&run)["extractor"]["kind"], "wasm");
    // `plan` says which it will be.
    let out = run_bin(
        None,
        &[
            "plan",
            unsigned.to_str().unwrap(),
            "--allow-unsigned",
            "--to",
            tmp.path().join("planned").to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.err);
    let p = json(&out);
    assert_eq!(p["extractor"]["kind"], "wasm", "{p}");
}

#[test]
fn a_project_file_cannot_turn_the_sandbox_off() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".projectrestore.rc"), "sandbox = \"native\"\n").unwrap();
    let archive = repo().join("fixtures/demo/2026-11-23_090000-demo-older.tar.gz");
    let out = run_bin(
        Some(&project),
        &[
            "restore",
            archive.to_str().unwrap(),
            "--allow-unsigned",
            "--yes",
            "--json",
            "--to",
            tmp.path().join("out").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.err);
    assert_eq!(json(&out)["extractor"]["kind"], "wasm", "{}", out.err);
    assert!(
        out.err.contains("sandbox"),
        "the dropped key is named: {}",
        out.err
    );
}

// ---- hostile guests (test builds only: PROJECTRESTORE_SANDBOX_GUEST)

/// A scene with an old tree, a small valid archive, and a guest module.
struct Hostile {
    scene: Scene,
    archive: PathBuf,
    guest: PathBuf,
}

impl Hostile {
    fn new(wat: &str) -> Self {
        require_test_hooks();
        let scene = Scene::new();
        let archive = scene.archive("ok.tar", &Tar::new().file("a.txt", b"hello").finish());
        let guest = scene.tmp.path().join("guest.wasm");
        std::fs::write(&guest, wat::parse_str(wat).unwrap()).unwrap();
        Hostile {
            scene,
            archive,
            guest,
        }
    }

    /// Restore with the guest; the run must fail with exit 5, saying `what`,
    /// and leave everything as it was.
    fn refused(&self, extra: &[&str], what: &[&str]) {
        let before = snapshot(&self.scene.dest);
        let parent_before = names(&self.scene.parent);
        let mut args = vec!["--allow-unsigned", "--sandbox", "wasm"];
        args.extend_from_slice(extra);
        let out = restore_env(
            &self.archive,
            &self.scene.dest,
            &args,
            &[("PROJECTRESTORE_SANDBOX_GUEST", self.guest.to_str().unwrap())],
        );
        assert_eq!(out.code, 5, "exit code; stderr: {}", out.err);
        for w in what {
            assert!(out.err.contains(w), "stderr should say {w:?}: {}", out.err);
        }
        assert_eq!(snapshot(&self.scene.dest), before, "destination changed");
        assert!(
            self.scene.leftover_staging().is_empty(),
            "staging left behind: {:?}",
            self.scene.leftover_staging()
        );
        let mut now = names(&self.scene.parent);
        now.retain(|n| n != ".dest.projectrestore");
        assert_eq!(now, parent_before, "something new beside the destination");
        for escaped in ["x", "escaped"] {
            assert!(!self.scene.parent.join(escaped).exists());
            assert!(!self.scene.tmp.path().join(escaped).exists());
        }
    }
}

/// A guest with the given extra imports and the body of `run`.
fn guest(imports: &str, memory_pages: u32, run: &str) -> String {
    format!(
        r#"(module
  (import "projectrestore" "read" (func $read (param i32 i32) (result i32)))
  (import "projectrestore" "emit" (func $emit (param i32 i32) (result i32)))
  {imports}
  (memory (export "memory") {memory_pages})
  (func (export "alloc") (param i32) (result i32) (i32.const 49152))
  (func (export "run") (param i32 i32) (result i32)
    {run}
    (i32.const 0)))"#
    )
}

#[test]
fn a_guest_that_opens_a_file_does_not_load() {
    Hostile::new(&guest(
        r#"(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))"#,
        1,
        "",
    ))
    .refused(&[], &["wasi_snapshot_preview1::path_open", "does not give"]);
}

#[test]
fn a_guest_that_opens_a_socket_does_not_load() {
    Hostile::new(&guest(
        r#"(import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))"#,
        1,
        "",
    ))
    .refused(&[], &["sock_accept", "does not give"]);
}

#[test]
fn a_guest_that_reads_the_clock_does_not_load() {
    Hostile::new(&guest(
        r#"(import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))"#,
        1,
        "",
    ))
    .refused(&[], &["clock_time_get", "does not give"]);
}

#[test]
fn a_guest_that_spins_is_stopped_by_the_time_budget() {
    Hostile::new(&guest("", 1, "(loop $forever (br $forever))")).refused(
        &["--sandbox-fuel", "50M"],
        &["time budget", "--sandbox-fuel"],
    );
}

#[test]
fn a_guest_that_allocates_a_gibibyte_is_stopped_by_the_memory_cap() {
    // Grow by 16384 pages (1 GiB); a refused grow returns -1, and the guest traps.
    Hostile::new(&guest(
        "",
        1,
        "(if (i32.eq (memory.grow (i32.const 16384)) (i32.const -1)) (then unreachable))",
    ))
    .refused(&[], &["memory limit", "256 MiB", "--sandbox-memory"]);
}

#[test]
fn a_guest_that_asks_for_a_gibibyte_up_front_does_not_start() {
    Hostile::new(&guest("", 16384, "")).refused(&[], &["memory limit"]);
}

#[test]
fn a_guest_that_ends_without_a_word_is_refused() {
    Hostile::new(&guest("", 1, "")).refused(&[], &["without an end-of-archive record"]);
}

#[test]
fn a_guest_that_reads_into_memory_it_does_not_have_traps() {
    Hostile::new(&guest(
        "",
        1,
        "(drop (call $read (i32.const 65000) (i32.const 60000)))",
    ))
    .refused(&[], &["memory it does not have"]);
}

/// A guest that reads its input to the end, then sends `records` and the end.
fn lying_guest(records: &[Record]) -> String {
    lying_guest_then(records, true)
}

fn lying_guest_then(records: &[Record], end: bool) -> String {
    let mut data = String::new();
    let mut calls = String::from(
        "(block $done (loop $more (br_if $done (i32.le_s (call $read (i32.const 32768) (i32.const 4096)) (i32.const 0))) (br $more)))\n",
    );
    let mut at = 1024usize;
    let mut all = records.to_vec();
    if end {
        all.push(Record::End(EndRecord::default()));
    }
    for r in &all {
        let bytes = r.encode();
        let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
        data.push_str(&format!("(data (i32.const {at}) \"{escaped}\")\n"));
        calls.push_str(&format!(
            "(drop (call $emit (i32.const {at}) (i32.const {})))\n",
            bytes.len()
        ));
        at += bytes.len() + 16;
    }
    guest(&data, 1, &calls)
}

fn file(path: &str, size: u64) -> EntryRecord {
    EntryRecord {
        kind: 0,
        implicit: false,
        mode: 0o644,
        mtime: 0,
        uid: 0,
        gid: 0,
        size,
        path: path.as_bytes().to_vec(),
        target: Vec::new(),
    }
}

fn symlink(path: &str, target: &str) -> EntryRecord {
    EntryRecord {
        kind: 2,
        target: target.as_bytes().to_vec(),
        ..file(path, 0)
    }
}

#[test]
fn a_lying_guest_cannot_pass_dotdot() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("../x", 1)),
        Record::Data(b"x".to_vec()),
    ]))
    .refused(&[], &["../x"]);
}

#[test]
fn a_lying_guest_cannot_pass_an_absolute_path() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("/tmp/escaped", 1)),
        Record::Data(b"x".to_vec()),
    ]))
    .refused(&[], &["escaped"]);
}

#[test]
fn a_lying_guest_cannot_pass_an_absolute_symlink() {
    Hostile::new(&lying_guest(&[Record::Entry(symlink(
        "link",
        "/etc/passwd",
    ))]))
    .refused(&[], &["absolute symlink target"]);
}

#[test]
fn a_lying_guest_cannot_pass_a_symlink_out_of_the_tree() {
    Hostile::new(&lying_guest(&[Record::Entry(symlink(
        "link",
        "../../escaped",
    ))]))
    .refused(&[], &["leaves the tree"]);
}

#[test]
fn a_lying_guest_cannot_write_through_its_own_symlink() {
    Hostile::new(&lying_guest(&[
        Record::Entry(symlink("d", "sub")),
        Record::Entry(EntryRecord {
            kind: 1,
            ..file("sub", 0)
        }),
        Record::Entry(file("d/x", 1)),
        Record::Data(b"x".to_vec()),
    ]))
    .refused(&[], &["beneath the symlink"]);
}

#[test]
fn a_lying_guest_cannot_pass_an_oversize_entry() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("big", 1000)),
        Record::Data(vec![0; 1000]),
    ]))
    .refused(
        &["--max-entry-size", "100"],
        &["size of one file", "--max-entry-size"],
    );
}

#[test]
fn a_lying_guest_cannot_send_more_data_than_the_size() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("a", 1)),
        Record::Data(b"xyz".to_vec()),
    ]))
    .refused(&[], &["more data than the file's size"]);
}

#[test]
fn a_lying_guest_cannot_send_less_data_than_the_size() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("a", 10)),
        Record::Data(b"xyz".to_vec()),
    ]))
    .refused(&[], &["truncated"]);
}

#[test]
fn a_lying_guest_cannot_send_a_path_twice_or_a_device() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("a", 0)),
        Record::Entry(file("a", 0)),
    ]))
    .refused(&[], &["appears twice"]);
    Hostile::new(&lying_guest(&[Record::Entry(EntryRecord {
        kind: 7,
        ..file("dev", 0)
    })]))
    .refused(&[], &["unknown entry kind"]);
}

#[test]
fn a_lying_guest_cannot_skip_a_parent_or_send_a_noncanonical_path() {
    Hostile::new(&lying_guest(&[Record::Entry(file("a/b", 0))]))
        .refused(&[], &["before its parent directory"]);
    Hostile::new(&lying_guest(&[Record::Entry(file("./a", 0))])).refused(&[], &["not canonical"]);
}

#[test]
fn a_lying_guest_cannot_exceed_the_entry_count() {
    Hostile::new(&lying_guest(&[
        Record::Entry(file("a", 0)),
        Record::Entry(file("b", 0)),
        Record::Entry(file("c", 0)),
    ]))
    .refused(&["--max-files", "2"], &["number of entries", "--max-files"]);
}

#[test]
fn a_lying_guests_setuid_bit_is_stripped() {
    require_test_hooks();
    let scene = Scene::new();
    let archive = scene.archive("ok.tar", &Tar::new().file("a.txt", b"hello").finish());
    let guest_file = scene.tmp.path().join("guest.wasm");
    let wat = lying_guest(&[
        Record::Entry(EntryRecord {
            mode: 0o6777,
            ..file("suid", 1)
        }),
        Record::Data(b"x".to_vec()),
    ]);
    std::fs::write(&guest_file, wat::parse_str(&wat).unwrap()).unwrap();
    let out = restore_env(
        &archive,
        &scene.dest,
        &["--allow-unsigned", "--sandbox", "wasm"],
        &[("PROJECTRESTORE_SANDBOX_GUEST", guest_file.to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{}", out.err);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(scene.dest.join("suid"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o7777,
        0o755,
        "setuid/setgid and group/world write stripped"
    );
}

#[test]
fn a_guest_that_ends_without_reading_its_input_is_refused() {
    // It claims the end of the archive but never read it: what it did not
    // read was never checked.
    let records = [Record::End(EndRecord::default())];
    let mut data = String::new();
    let mut calls = String::new();
    let bytes = records[0].encode();
    let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    data.push_str(&format!("(data (i32.const 1024) \"{escaped}\")"));
    calls.push_str(&format!(
        "(drop (call $emit (i32.const 1024) (i32.const {})))",
        bytes.len()
    ));
    Hostile::new(&guest(&data, 1, &calls)).refused(&[], &["before the end of its input"]);
}

#[test]
fn empty_data_records_earn_no_time() {
    // An entry, then empty data records for ever: each used to earn fuel.
    let entry = Record::Entry(file("a", 1)).encode();
    let escaped: String = entry.iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = guest(
        &format!("(data (i32.const 1024) \"{escaped}\") (data (i32.const 2048) \"\\02\")"),
        1,
        &format!(
            "(drop (call $emit (i32.const 1024) (i32.const {})))
             (loop $again (drop (call $emit (i32.const 2048) (i32.const 1))) (br $again))",
            entry.len()
        ),
    );
    Hostile::new(&wat).refused(&[], &["empty data record"]);
}

#[test]
fn a_refused_guest_that_spins_is_stopped_at_once() {
    // The host refuses `../x` while the guest goes on computing: the guest is
    // stopped by the epoch check, not after its whole time budget (1000G
    // instructions would take minutes: the hang detector fails the test).
    require_test_hooks();
    let records = [Record::Entry(file("../x", 0))];
    let mut wat = lying_guest_then(&records, false);
    wat = wat.replacen(
        "    (i32.const 0)))",
        "    (loop $forever (br $forever))\n    (i32.const 0)))",
        1,
    );
    let h = Hostile::new(&wat);
    let mut child = child_command()
        .arg("restore")
        .arg(&h.archive)
        .arg("--to")
        .arg(&h.scene.dest)
        .args([
            "--yes",
            "--allow-unsigned",
            "--sandbox",
            "wasm",
            "--sandbox-fuel",
            "1000G",
        ])
        .env("PROJECTRESTORE_SANDBOX_GUEST", &h.guest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_or_fail(&mut child, "a refused, spinning guest held the run");
    assert_eq!(status.code(), Some(5));
}

#[test]
fn a_guests_words_are_escaped_before_they_are_shown() {
    use projectrestore_archive::wire::{Stop, WireArchiveError};
    let stop = Record::Stop(Stop::Archive(WireArchiveError::Malformed(
        "\x1b[2Jyou have been hacked".into(),
    )));
    let wat = lying_guest_then(&[stop], false);
    let h = Hostile::new(&wat);
    h.refused(&[], &["\\u{1b}[2Jyou have been hacked"]);
}

#[test]
fn parents_the_archive_did_not_list_are_not_entries_in_either_extractor() {
    // One file ten directories deep under --max-files 1: natively its
    // parents are not counted; the host's recheck must not count them either.
    let tar = Tar::new()
        .file("a/b/c/d/e/f/g/h/i/j/file", b"deep")
        .finish();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("deep.tar");
    std::fs::write(&archive, tar).unwrap();
    for mode in ["native", "wasm"] {
        let out = restore_env(
            &archive,
            &tmp.path().join(mode),
            &["--allow-unsigned", "--sandbox", mode, "--max-files", "1"],
            &[],
        );
        assert_eq!(out.code, 0, "{mode}: {}", out.err);
    }
}

//! .tar.xz and .tar.bz2 (issue 16, item 13), compressed by the real `xz` and
//! `bzip2`: restored through pure-Rust decoders under the same limits as gzip
//! and zstd — the ratio guard stops a bomb, the decoder-memory limit stops an
//! xz dictionary before it is allocated, and hostile entries are refused the
//! same way whatever the compression.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

/// `tool ARGS` with `data` on standard input; its standard output.
fn compress(tool: &str, args: &[&str], data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} failed");
    out.stdout
}

fn tools() -> bool {
    have_tool("xz") && have_tool("bzip2")
}

#[test]
fn xz_and_bzip2_archives_restore() {
    if !tools() {
        return;
    }
    let tar = Tar::new()
        .dir("app")
        .file("app/README.md", b"# hello\n")
        .file("app/src/main.rs", &b"fn main() {}\n".repeat(1000))
        .finish();
    for (name, bytes, layer) in [
        ("a.tar.xz", compress("xz", &["-6", "-c"], &tar), "xz"),
        ("a.tar.bz2", compress("bzip2", &["-9", "-c"], &tar), "bzip2"),
        // Two streams, as `cat a.xz b.xz` makes: both are read.
        (
            "two.tar.xz",
            [
                compress("xz", &["-c"], &tar[..tar.len() - 1024]),
                compress("xz", &["-c"], &tar[tar.len() - 1024..]),
            ]
            .concat(),
            "xz",
        ),
    ] {
        let scene = Scene::new();
        let archive = scene.archive(name, &bytes);
        let r = restore(
            &archive,
            &scene.dest,
            &["--strip-components", "1", "--json"],
        );
        assert_eq!(r.code, 0, "{name}: {}", r.err);
        let report: serde_json::Value = serde_json::from_str(&r.out).unwrap();
        assert_eq!(report["layers"][0], layer, "{name}: {report}");
        assert_eq!(
            std::fs::read(scene.dest.join("src/main.rs")).unwrap(),
            b"fn main() {}\n".repeat(1000),
            "{name}"
        );
    }
}

#[test]
fn an_xz_or_bzip2_bomb_is_stopped_by_the_ratio_guard() {
    if !tools() {
        return;
    }
    let mut t = Tar::new();
    t.header(b"zeros.bin", REG, 64 << 20, b"", 0o644)
        .data(&vec![0u8; 64 << 20]);
    let tar = t.finish();
    for (name, bytes) in [
        ("bomb.tar.xz", compress("xz", &["-c"], &tar)),
        ("bomb.tar.bz2", compress("bzip2", &["-c"], &tar)),
    ] {
        let scene = Scene::new();
        let before = snapshot(&scene.dest);
        let archive = scene.archive(name, &bytes);
        let r = restore(&archive, &scene.dest, &["--max-ratio", "100"]);
        assert_eq!(r.code, 5, "{name}: {}", r.err);
        assert!(r.err.contains("ratio"), "{name}: {}", r.err);
        assert_eq!(snapshot(&scene.dest), before, "{name}");
        assert!(scene.leftover_staging().is_empty(), "{name}");
    }
}

/// An xz block whose dictionary is larger than the decoder-memory limit is
/// refused before the dictionary is allocated (exit 5, naming the limit).
#[test]
fn an_xz_dictionary_over_the_memory_limit_is_refused() {
    if !tools() {
        return;
    }
    let tar = Tar::new().file("a.txt", b"small").finish();
    // -6 declares an 8 MiB dictionary, whatever the input's size.
    let bytes = compress("xz", &["-6", "-c"], &tar);
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let archive = scene.archive("a.tar.xz", &bytes);
    let r = restore(&archive, &scene.dest, &["--max-zstd-window", "1M"]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(
        r.err
            .contains("xz dictionary (decoder memory) (8388608 > 1048576)"),
        "{}",
        r.err
    );
    assert!(
        r.err.contains("--max-zstd-window"),
        "the hint names the flag: {}",
        r.err
    );
    assert_eq!(snapshot(&scene.dest), before);
    // Within the limit, the same archive restores.
    let r = restore(&archive, &scene.dest, &["--max-zstd-window", "16M"]);
    assert_eq!(r.code, 0, "{}", r.err);
}

/// The validator is the same behind every decompressor.
#[test]
fn a_hostile_entry_inside_xz_is_refused_like_anywhere() {
    if !tools() {
        return;
    }
    let mut t = Tar::new();
    t.header(b"../escape.txt", REG, 4, b"", 0o644).data(b"evil");
    let bytes = compress("xz", &["-c"], &t.finish());
    let scene = Scene::new();
    let archive = scene.archive("evil.tar.xz", &bytes);
    let r = restore(&archive, &scene.dest, &[]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(!scene.parent.join("escape.txt").exists());
}

//! Progress on a terminal (issue 16, item 5), through a pty made by
//! util-linux `script`: numbered passes, binary units, and the bar cleared
//! before the summary.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

#[test]
fn progress_numbers_the_passes_and_names_the_swap() {
    if !have_tool("script") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut t = Tar::new();
    t.header(b"big.bin", REG, 24 << 20, b"", 0o644)
        .data(&vec![7u8; 24 << 20]);
    let bytes = t.finish();
    let archive = tmp.path().join("a.tar");
    std::fs::write(&archive, &bytes).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    // A checksum beside it: verify-first, two passes.
    std::fs::write(tmp.path().join("a.tar.sha256"), format!("{sha}  a.tar\n")).unwrap();
    let line = format!(
        "{} restore {} --to {}",
        assert_cmd::cargo::cargo_bin("projectrestore").display(),
        archive.display(),
        tmp.path().join("out").display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("[1/2] verifying"), "{text}");
    assert!(text.contains("[2/2] restoring"), "{text}");
    assert!(text.contains("MiB"), "binary units: {text}");
    assert!(!text.contains(" MB/s"), "one unit system: {text}");
    // The swap's words are drawn when the swap lasts long enough to be seen
    // (progress::tests checks which steps have words).
    // The summary comes after the bar is gone, and leaves out zero counts.
    let summary = text.split("restored into").nth(1).expect("a summary");
    assert!(
        summary.contains("wrote 1 file (24.0 MiB of file contents)"),
        "{summary}"
    );
    assert!(
        !summary.contains("0 symlinks") && !summary.contains("0 hard links"),
        "{summary}"
    );
}

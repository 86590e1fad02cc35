//! The crate layering of issue 15, checked with `cargo tree` on the lock file:
//! arrows point one way (archive ← fs ← projectrestore ← projectrestore-cli), the
//! library links nothing of a command line (a Python wheel or an agent must not
//! link clap, indicatif, rpassword or signal-hook), and the archive layer depends
//! on no file-system or C crate (it is the Wasm guest's code).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

fn tree(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .current_dir(common::repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_library_links_no_command_line_crate() {
    let lib = tree("projectrestore");
    assert!(lib.contains("sequoia-openpgp") && lib.contains("projectrestore-fs"));
    for cli_only in [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "rpassword",
        "signal-hook",
        "projectrestore-cli",
    ] {
        assert!(!lib.contains(cli_only), "the library depends on {cli_only}");
    }
}

/// The Python extension stands on the library alone: no command-line crate
/// (its Ctrl-C comes from Python, not signal-hook), and nothing of Python in
/// the library.
#[test]
fn the_python_binding_stands_on_the_library_alone() {
    let py = tree("projectrestore-python");
    assert!(py.contains("projectrestore") && py.contains("pyo3"));
    for cli_only in [
        "clap",
        "indicatif",
        "rpassword",
        "signal-hook",
        "projectrestore-cli",
    ] {
        assert!(
            !py.contains(cli_only),
            "the Python binding depends on {cli_only}"
        );
    }
    assert!(!tree("projectrestore").contains("pyo3"));
}

#[test]
fn arrows_point_one_way() {
    let fs = tree("projectrestore-fs");
    assert!(fs.contains("projectrestore-archive"));
    assert!(
        !fs.contains("projectrestore"),
        "the fs layer depends on the library"
    );
    let archive = tree("projectrestore-archive");
    for above in ["projectrestore-fs", "projectrestore", "projectrestore-cli"] {
        assert!(
            !archive.contains(above),
            "the archive layer depends on {above}"
        );
    }
    // Pure Rust without a file-system layer: no rustix, no C libraries.
    for impure in [
        "rustix",
        "libc-sys",
        "zstd-sys",
        "openssl-sys",
        "libz-sys",
        "cc",
    ] {
        assert!(
            !archive.contains(impure),
            "the archive layer depends on {impure}"
        );
    }
    let cli = tree("projectrestore-cli");
    assert!(cli.contains("projectrestore") && cli.contains("clap"));
}

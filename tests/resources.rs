//! Bounded cost for attacker bytes (issue 14, items 11–12; invariant 9):
//! compression inside OpenPGP encryption is under the same ratio guard as gzip
//! and zstd, and the zstd window (decoder memory) is capped at 128 MiB unless
//! `--max-zstd-window` raises it. Inputs are made live by gpg and zstd.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};

use common::*;

/// A tar of 256 MiB of zeros, bzip2-compressed inside a passphrase-encrypted
/// OpenPGP message: a few kilobytes stored. Refused as a compression bomb
/// (exit 5) after the grace, not inflated to the end.
#[test]
fn compression_inside_openpgp_is_ratio_guarded() {
    if !have_tool("gpg") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    sh(
        "head -c 268435456 /dev/zero > zeros && tar cf - zeros | \
         gpg --batch --yes --quiet --homedir . --pinentry-mode loopback --passphrase pw \
             --compress-algo bzip2 -z 9 --symmetric -o bomb.gpg && rm zeros && \
         printf 'pw\\n' > pass",
        tmp.path(),
    );
    let stored = std::fs::metadata(tmp.path().join("bomb.gpg"))
        .unwrap()
        .len();
    assert!(stored < 1 << 20, "{stored}");
    let out = bin()
        .arg("verify")
        .arg(tmp.path().join("bomb.gpg"))
        .arg("--passphrase-file")
        .arg(tmp.path().join("pass"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("compression ratio"), "{err}");
    // A generous ratio lets the same archive through: the guard is what refused.
    let out = bin()
        .arg("verify")
        .arg(tmp.path().join("bomb.gpg"))
        .arg("--passphrase-file")
        .arg(tmp.path().join("pass"))
        .args(["--max-ratio", "100000000"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Peak resident memory (KiB) of `projectrestore ARGS`, measured by Python's
/// resource module around the one child (no other process counts).
fn peak_kib(args: &[&str]) -> (i32, u64, String) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import resource,subprocess,sys\n\
             p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE)\n\
             sys.stderr.write(p.stderr.decode(errors='replace'))\n\
             print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
            env!("CARGO_BIN_EXE_projectrestore"),
        ])
        .args(args)
        .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let code = it.next().unwrap().parse().unwrap();
    let kib = it.next().unwrap().parse().unwrap();
    (code, kib, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A frame made with `zstd --long=31` from a pipe declares a 2 GiB window. By
/// default it is refused before the decoder allocates it, and peak memory stays
/// within the README's figure (64 MiB); `--max-zstd-window 2G` restores it.
#[test]
fn a_long31_zstd_window_is_capped_by_default() {
    if !have_tool("zstd") || !have_tool("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut t = Tar::new();
    t.file("a.txt", b"hello, long window\n");
    std::fs::write(tmp.path().join("a.tar"), t.finish()).unwrap();
    sh("cat a.tar | zstd -q --long=31 -c > a.tar.zst", tmp.path());
    let head = std::fs::read(tmp.path().join("a.tar.zst")).unwrap();
    assert_eq!(
        projectrestore::archive::decompress::zstd_window(&head),
        Some(1 << 31),
        "zstd did not declare a 2 GiB window"
    );
    let a = tmp.path().join("a.tar.zst").display().to_string();
    let (code, kib, err) = peak_kib(&["verify", &a]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("zstd window"), "{err}");
    assert!(err.contains("--max-zstd-window"), "{err}");
    assert!(kib < 64 * 1024, "peak {kib} KiB");
    let (code, _, err) = peak_kib(&["verify", &a, "--max-zstd-window", "2G"]);
    assert_eq!(code, 0, "{err}");
}

//! `--gpg-agent` (issue 16, item 12): OpenPGP decryption with the secret keys
//! a real gpg-agent holds, in a GnuPG home made for the test. The agent only
//! decrypts the session key: the signature gate, the checksum and every
//! entry check are the same as with `-i`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn crypto(name: &str) -> PathBuf {
    repo().join("fixtures/crypto").join(name)
}

/// A GnuPG home holding the fixture's OpenPGP secret key; its agent is
/// stopped when the test ends.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(import: &[PathBuf]) -> Self {
        // A short path: the agent's socket lives in it (sun_path is ~108 bytes).
        let dir = tempfile::Builder::new()
            .prefix("pr-gnupg")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        for key in import {
            let ok = Command::new("gpg")
                .env("GNUPGHOME", dir.path())
                .args(["--batch", "--quiet", "--import"])
                .arg(key)
                .output()
                .unwrap();
            assert!(
                ok.status.success(),
                "{}",
                String::from_utf8_lossy(&ok.stderr)
            );
        }
        Home { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn restore(&self, archive: &Path, dest: &Path, extra: &[&str]) -> Run {
        let o = bin()
            .env("GNUPGHOME", self.path())
            .arg("restore")
            .arg(archive)
            .arg("--to")
            .arg(dest)
            .args(extra)
            .output()
            .unwrap();
        Run {
            code: o.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

#[test]
fn the_agent_decrypts_with_the_keyring_and_the_gate_still_decides() {
    if !have_tool("gpg") || !have_tool("gpgconf") {
        return;
    }
    let home = Home::new(&[crypto("secret/gpg-enc25519.asc")]);
    let tmp = tempfile::tempdir().unwrap();
    let archive = crypto("data.tar.gz.cv25519.gpg");

    // The key is in the agent, not on the command line.
    let dest = tmp.path().join("out");
    let r = home.restore(
        &archive,
        &dest,
        &["--gpg-agent", "--allow-unsigned", "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["encryption"], "openpgp");
    assert!(dest.is_dir());

    // Without the flag nothing asks the agent: exit 6, and the error says
    // what was tried.
    let dest2 = tmp.path().join("out2");
    let r = home.restore(&archive, &dest2, &["--allow-unsigned"]);
    assert_eq!(r.code, 6, "{}", r.err);
    assert!(!dest2.exists());

    // The agent decrypts; it does not vouch: with a trust store and no
    // signature the gate refuses (exit 4) and nothing is written.
    let dest3 = tmp.path().join("out3");
    let trust = crypto("trust");
    let r = home.restore(
        &archive,
        &dest3,
        &["--gpg-agent", "--trust", trust.to_str().unwrap()],
    );
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(!dest3.exists());
}

#[test]
fn an_agent_without_the_key_says_whom_the_archive_is_for() {
    if !have_tool("gpg") || !have_tool("gpgconf") {
        return;
    }
    let home = Home::new(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let r = home.restore(
        &crypto("data.tar.gz.cv25519.gpg"),
        &dest,
        &["--gpg-agent", "--allow-unsigned"],
    );
    assert_eq!(r.code, 6, "{}", r.err);
    assert!(r.err.contains("gpg-agent"), "{}", r.err);
    assert!(r.err.contains("the archive is for"), "{}", r.err);
    assert!(!dest.exists());
}

/// The attack: a message to hundreds of recipients would cost a `gpg` run
/// and an agent round trip each. Only the first 16 distinct recipients are
/// looked up (a `gpg` in front of the real one counts its runs).
#[test]
fn a_message_to_many_recipients_is_looked_up_a_bounded_number_of_times() {
    use openpgp::cert::CertBuilder;
    use openpgp::policy::StandardPolicy;
    use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message};
    use sequoia_openpgp as openpgp;
    use std::io::Write;

    if !have_tool("gpg") || !have_tool("gpgconf") {
        return;
    }
    let home = Home::new(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let certs: Vec<openpgp::Cert> = (0..40)
        .map(|i| {
            CertBuilder::general_purpose(Some(format!("r{i}@example.org")))
                .generate()
                .unwrap()
                .0
        })
        .collect();
    let policy = StandardPolicy::new();
    let recipients = certs.iter().flat_map(|c| {
        c.keys()
            .with_policy(&policy, None)
            .supported()
            .for_transport_encryption()
    });
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Encryptor::for_recipients(message, recipients)
        .build()
        .unwrap();
    let mut w = LiteralWriter::new(message).build().unwrap();
    w.write_all(b"not even a tar").unwrap();
    w.finalize().unwrap();
    let archive = tmp.path().join("many.tar.gpg");
    std::fs::write(&archive, &sink).unwrap();

    // A gpg that logs each run, then is the real one.
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let log = tmp.path().join("gpg-runs");
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v gpg"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let wrapper = bin_dir.join("gpg");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = bin()
        .env("GNUPGHOME", home.path())
        .env("PATH", path)
        .arg("restore")
        .arg(&archive)
        .arg("--to")
        .arg(tmp.path().join("out"))
        .args(["--gpg-agent", "--allow-unsigned"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let runs = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count();
    assert!(runs > 0, "the agent path was not taken");
    assert!(runs <= 16, "gpg ran {runs} times for one message");
}

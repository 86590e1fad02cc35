//! Signatures end to end (issue: verification layer). Every scheme with keys and
//! signatures made by the real tools (fixtures/make-crypto.sh): a valid signature
//! restores; one flipped byte is exit 4 with the destination unchanged; an untrusted
//! key is exit 4. Then the policy: expiry, revocation, SSH namespaces, thresholds,
//! fail-closed without signatures, --allow-unsigned, escaping. Last, the tools run
//! live on fresh keys (under CI=true a missing tool fails).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn crypto() -> PathBuf {
    repo().join("fixtures/crypto")
}

fn sig(name: &str) -> String {
    crypto()
        .join(format!("data.tar.gz.{name}"))
        .display()
        .to_string()
}

fn trust() -> String {
    crypto().join("trust").display().to_string()
}

const SCHEMES: [&str; 7] = [
    "gpg-ed.sig",
    "gpg-ed.asc",
    "gpg-rsa.sig",
    "minisig",
    "ssh.sig",
    "signify.sig",
    "comment.minisig",
];

/// A valid signature of each scheme restores.
#[test]
fn every_scheme_restores_with_a_trusted_key() {
    for s in SCHEMES {
        let scene = Scene::new();
        let r = restore(
            &crypto().join("data.tar.gz"),
            &scene.dest,
            &["--trust", &trust(), "--signature", &sig(s)],
        );
        assert_eq!(r.code, 0, "{s}: {}", r.err);
        assert!(r.out.contains("good, trusted"), "{s}: {}", r.out);
        assert!(scene.dest.join("proj/src/main.rs").exists(), "{s}");
    }
}

/// One flipped byte in the archive: every scheme says no, and nothing changes.
#[test]
fn every_scheme_refuses_a_flipped_byte() {
    let mut bytes = std::fs::read(crypto().join("data.tar.gz")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    for s in SCHEMES {
        for mode in ["--verify-first", "--single-pass"] {
            let scene = Scene::new();
            let before = snapshot(&scene.dest);
            let a = scene.archive("data.tar.gz", &bytes);
            let r = restore(
                &a,
                &scene.dest,
                &["--trust", &trust(), "--signature", &sig(s), mode],
            );
            assert_eq!(r.code, 4, "{s} {mode}: {}", r.err);
            assert_eq!(snapshot(&scene.dest), before, "{s} {mode}");
            assert!(scene.leftover_staging().is_empty());
        }
    }
}

fn refused(extra: &[&str], why: &str) {
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let r = restore(&crypto().join("data.tar.gz"), &scene.dest, extra);
    assert_eq!(r.code, 4, "{extra:?}: {}", r.err);
    assert!(
        r.err.contains(why),
        "{extra:?}: expected {why:?} in {}",
        r.err
    );
    assert_eq!(snapshot(&scene.dest), before);
}

#[test]
fn untrusted_keys_are_refused() {
    refused(
        &["--trust", &trust(), "--signature", &sig("gpg-stranger.sig")],
        "not in the trust store",
    );
    refused(
        &[
            "--trust",
            &trust(),
            "--signature",
            &sig("untrusted.minisig"),
        ],
        "not in the trust store",
    );
}

#[test]
fn expired_and_revoked_openpgp_keys_are_refused() {
    refused(
        &["--trust", &trust(), "--signature", &sig("gpg-expired.sig")],
        "expired",
    );
    refused(
        &["--trust", &trust(), "--signature", &sig("gpg-revoked.sig")],
        "revoked",
    );
}

#[test]
fn wrong_ssh_namespace_is_refused() {
    refused(
        &["--trust", &trust(), "--signature", &sig("ssh-other-ns.sig")],
        "namespace",
    );
}

#[test]
fn legacy_minisign_needs_its_flag() {
    refused(
        &["--trust", &trust(), "--signature", &sig("legacy.minisig")],
        "--allow-legacy-minisign",
    );
    let scene = Scene::new();
    let r = restore(
        &crypto().join("data.tar.gz"),
        &scene.dest,
        &[
            "--trust",
            &trust(),
            "--signature",
            &sig("legacy.minisig"),
            "--allow-legacy-minisign",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
}

/// Threshold 2: one signer is not enough, the same signature twice counts once,
/// two different trusted keys pass.
#[test]
fn threshold_counts_distinct_keys() {
    refused(
        &[
            "--trust",
            &trust(),
            "--threshold",
            "2",
            "--signature",
            &sig("minisig"),
        ],
        "1 distinct trusted signer, 2 required",
    );
    refused(
        &[
            "--trust",
            &trust(),
            "--threshold",
            "2",
            "--signature",
            &sig("minisig"),
            "--signature",
            &sig("minisig"),
        ],
        "1 distinct trusted signer, 2 required",
    );
    refused(
        &[
            "--trust",
            &trust(),
            "--threshold",
            "2",
            "--signature",
            &sig("gpg-ed.sig"),
            "--signature",
            &sig("gpg-ed.asc"),
        ],
        "1 distinct trusted signer, 2 required",
    );
    let scene = Scene::new();
    let r = restore(
        &crypto().join("data.tar.gz"),
        &scene.dest,
        &[
            "--trust",
            &trust(),
            "--threshold",
            "2",
            "--signature",
            &sig("minisig"),
            "--signature",
            &sig("ssh.sig"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("signed by 2 trusted keys"), "{}", r.out);
}

/// Fail-closed: a trust store and no signature is exit 4; --allow-unsigned restores, loudly.
#[test]
fn unsigned_with_a_trust_store() {
    let scene = Scene::new();
    let a = scene.archive(
        "plain.tar.gz",
        &std::fs::read(crypto().join("data.tar.gz")).unwrap(),
    );
    let before = snapshot(&scene.dest);
    let r = restore(&a, &scene.dest, &["--trust", &trust()]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains("no signature"), "{}", r.err);
    assert_eq!(snapshot(&scene.dest), before);
    let r = restore(&a, &scene.dest, &["--trust", &trust(), "--allow-unsigned"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.err.contains("UNSIGNED"), "{}", r.err);
}

/// Sidecars beside the archive are found by name and recognised by content.
#[test]
fn sidecar_signatures_are_used() {
    let scene = Scene::new();
    let a = scene.archive(
        "b.tar.gz",
        &std::fs::read(crypto().join("data.tar.gz")).unwrap(),
    );
    std::fs::copy(sig("minisig"), scene.tmp.path().join("b.tar.gz.minisig")).unwrap();
    let r = restore(&a, &scene.dest, &["--trust", &trust()]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("minisign"), "{}", r.out);
}

/// Trusted comments are shown only after verification and escaped: the ESC
/// sequences of the fixture reach neither the terminal nor the JSON raw.
#[test]
fn trusted_comment_is_escaped() {
    let scene = Scene::new();
    let r = restore(
        &crypto().join("data.tar.gz"),
        &scene.dest,
        &["--trust", &trust(), "--signature", &sig("comment.minisig")],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!r.out.contains('\x1b'), "raw escape in output: {:?}", r.out);
    assert!(r.out.contains("evil\\u{1b}[2J"), "{}", r.out);
}

/// minisign refuses to write a trusted comment with `\r`, so this signer is
/// hand-made (ed25519-dalek): a valid signature whose comment carries `\r` and ESC.
#[test]
fn hand_made_trusted_comment_with_carriage_return_is_escaped() {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let b64 = base64::engine::general_purpose::STANDARD;
    let tmp = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let id = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let mut pk = b"Ed".to_vec();
    pk.extend_from_slice(&id);
    pk.extend_from_slice(key.verifying_key().as_bytes());
    std::fs::write(
        tmp.path().join("k.pub"),
        format!(
            "untrusted comment: minisign public key\n{}\n",
            b64.encode(&pk)
        ),
    )
    .unwrap();
    let data = std::fs::read(crypto().join("data.tar.gz")).unwrap();
    let sig = key.sign(&<blake2::Blake2b512 as blake2::Digest>::digest(&data));
    let comment = "line1\rOVERWRITTEN \x1b[2Jcleared";
    let mut global_msg = sig.to_bytes().to_vec();
    global_msg.extend_from_slice(comment.as_bytes());
    let global = key.sign(&global_msg);
    let mut raw = b"ED".to_vec();
    raw.extend_from_slice(&id);
    raw.extend_from_slice(&sig.to_bytes());
    let text = format!(
        "untrusted comment: x\n{}\ntrusted comment: {comment}\n{}\n",
        b64.encode(&raw),
        b64.encode(global.to_bytes())
    );
    std::fs::write(tmp.path().join("d.minisig"), text).unwrap();
    let out = bin()
        .args(["verify"])
        .arg(crypto().join("data.tar.gz"))
        .arg("--trust")
        .arg(tmp.path().join("k.pub"))
        .arg("--signature")
        .arg(tmp.path().join("d.minisig"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains('\r') && !stdout.contains('\x1b'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("line1\\rOVERWRITTEN \\u{1b}[2Jcleared"),
        "{stdout}"
    );
}

#[test]
fn malformed_key_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("broken.pub"),
        b"untrusted comment: x\nnot base64!!\n",
    )
    .unwrap();
    let scene = Scene::new();
    let r = restore(
        &crypto().join("data.tar.gz"),
        &scene.dest,
        &[
            "--trust",
            tmp.path().to_str().unwrap(),
            "--signature",
            &sig("minisig"),
        ],
    );
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains("broken.pub"), "{}", r.err);
}

#[test]
fn inline_signed_message_is_not_a_detached_signature() {
    refused(
        &["--trust", &trust(), "--signature", &sig("gpg-inline.gpg")],
        "not a detached signature",
    );
}

/// Fresh keys and signatures by the real tools, verified through the binary.
#[test]
fn live_tools_sign_and_we_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("a.tar.gz");
    std::fs::write(&data, gzip(&Tar::new().file("live.txt", b"live").finish())).unwrap();
    let store = t.join("store");
    std::fs::create_dir(&store).unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut sigs: Vec<PathBuf> = Vec::new();
    if have_tool("minisign") {
        run(Command::new("minisign")
            .args(["-G", "-W", "-f", "-p"])
            .arg(store.join("m.pub"))
            .arg("-s")
            .arg(t.join("m.key")));
        run(Command::new("minisign")
            .arg("-S")
            .arg("-s")
            .arg(t.join("m.key"))
            .arg("-m")
            .arg(&data)
            .arg("-x")
            .arg(t.join("a.minisig")));
        sigs.push(t.join("a.minisig"));
    }
    if have_tool("ssh-keygen") {
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(t.join("id")));
        let pubkey = std::fs::read_to_string(t.join("id.pub")).unwrap();
        std::fs::write(
            store.join("allowed_signers"),
            format!("me@example.org {pubkey}"),
        )
        .unwrap();
        run(Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", "file", "-f"])
            .arg(t.join("id"))
            .arg(&data));
        std::fs::rename(t.join("a.tar.gz.sig"), t.join("a.ssh.sig")).unwrap();
        sigs.push(t.join("a.ssh.sig"));
    }
    if have_tool("signify-openbsd") {
        run(Command::new("signify-openbsd")
            .args(["-G", "-n", "-p"])
            .arg(store.join("s.pub"))
            .arg("-s")
            .arg(t.join("s.sec")));
        run(Command::new("signify-openbsd")
            .args(["-S", "-s"])
            .arg(t.join("s.sec"))
            .arg("-m")
            .arg(&data)
            .arg("-x")
            .arg(t.join("a.signify")));
        sigs.push(t.join("a.signify"));
    }
    if have_tool("gpg") {
        let home = t.join("gnupg");
        std::fs::create_dir(&home).unwrap();
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let gpg = |args: &[&str]| {
            let mut c = Command::new("gpg");
            c.env("GNUPGHOME", &home)
                .args([
                    "--batch",
                    "--yes",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    "",
                ])
                .args(args);
            c
        };
        run(&mut gpg(&[
            "--quick-gen-key",
            "Live <live@example.org>",
            "ed25519",
            "sign",
            "0",
        ]));
        let out = gpg(&["--armor", "--export", "live@example.org"])
            .output()
            .unwrap();
        std::fs::write(store.join("live.asc"), out.stdout).unwrap();
        run(gpg(&["-u", "live@example.org", "--detach-sign", "-o"])
            .arg(t.join("a.gpg.sig"))
            .arg(&data));
        sigs.push(t.join("a.gpg.sig"));
    }
    let n = sigs.len();
    if n == 0 {
        return;
    }
    let mut cmd = bin();
    cmd.arg("verify")
        .arg(&data)
        .arg("--trust")
        .arg(&store)
        .arg("--threshold")
        .arg(n.to_string());
    for s in &sigs {
        cmd.arg("--signature").arg(s);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let words = if n == 1 {
        "trusted key"
    } else {
        "trusted keys"
    };
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("signed by {n} {words}")));
}

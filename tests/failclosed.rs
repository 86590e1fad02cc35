//! Fail closed, for real (issue 14): the attacks an adversarial pass found, one
//! test each, written before the fix. Items: 3 (detached signatures of OpenPGP
//! archives in pass 1), 4 (certificates merged by fingerprint), 5 (threshold by
//! key material), 6 (empty trust paths, the default store, unchecked sidecars),
//! 7 (planted project files), 8 (audit of encrypted archives), 9 (planted state
//! directories and journals; no recovery before a single-pass gate), 10
//! (escaping of state-directory text).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::*;
use ed25519_dalek::Signer;
use sequoia_openpgp as openpgp;

fn crypto(name: &str) -> PathBuf {
    repo().join("fixtures/crypto").join(name)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("{e}: {} {}", r.out, r.err))
}

/// A copy of `archive` in a fresh directory, with a minisign signature made
/// by the trusted test key over `signed` (the copy itself when `None`).
fn signed_copy(dir: &Path, archive: &Path, signed: Option<&[u8]>) -> PathBuf {
    let name = archive.file_name().unwrap();
    let a = dir.join(name);
    std::fs::copy(archive, &a).unwrap();
    let target = dir.join("signed-bytes");
    match signed {
        Some(b) => std::fs::write(&target, b).unwrap(),
        None => {
            std::fs::copy(archive, &target).unwrap();
        }
    }
    let out = std::process::Command::new("minisign")
        .args(["-S", "-s"])
        .arg(crypto("secret/minisign.key"))
        .arg("-m")
        .arg(&target)
        .arg("-x")
        .arg(dir.join(format!("{}.minisig", name.to_string_lossy())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    a
}

// ---------------------------------------------------------------- item 3

/// A bad detached signature over an OpenPGP-encrypted archive is found in
/// pass 1, before any byte is decrypted: exit 4 even without an identity, in
/// both pass modes — never "could not decrypt" (exit 6).
#[test]
fn openpgp_archives_have_their_detached_signature_checked_first() {
    if !have_tool("minisign") {
        return;
    }
    let trust = s(&crypto("trust"));
    let tmp = tempfile::tempdir().unwrap();
    let bad = signed_copy(
        tmp.path(),
        &crypto("data.tar.gz.cv25519.gpg"),
        Some(b"other bytes"),
    );
    for mode in ["--verify-first", "--single-pass"] {
        let r = run_bin(None, &["verify", &s(&bad), "--trust", &trust, mode], &[]);
        assert_eq!(r.code, 4, "{mode}: {}", r.err);
        assert!(r.err.contains("BAD signature"), "{mode}: {}", r.err);
    }
    // A good one: verified in pass 1, then decrypted (exit 6 without identity,
    // 0 with it), and the report says when the signatures were checked.
    let tmp = tempfile::tempdir().unwrap();
    let good = signed_copy(tmp.path(), &crypto("data.tar.gz.cv25519.gpg"), None);
    let r = run_bin(None, &["verify", &s(&good), "--trust", &trust], &[]);
    assert_eq!(r.code, 6, "{}", r.err);
    let id = s(&crypto("secret/gpg-enc25519.asc"));
    let r = run_bin(
        None,
        &["verify", &s(&good), "--trust", &trust, "-i", &id, "--json"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r);
    assert_eq!(
        v["signatures_checked"], "before any byte was decrypted or parsed",
        "{v}"
    );
    assert_eq!(v["signatures"]["outcome"]["verdict"], "verified");
    // Only an inline signature: the report says it waited for decryption.
    let r = run_bin(
        None,
        &[
            "verify",
            &s(&crypto("data.tar.gz.signed-by-ed.gpg")),
            "--trust",
            &trust,
            "-i",
            &id,
            "--json",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        json(&r)["signatures_checked"],
        "inline signature, checked after decryption"
    );
}

// ---------------------------------------------------------------- item 4

/// The revoked key's certificate twice in the store: once as exported before
/// its revocation, once with it. Whichever file sorts first, the revocation wins.
#[test]
fn a_revocation_in_any_copy_wins() {
    use openpgp::parse::Parse;
    use openpgp::serialize::Serialize;
    let revoked = std::fs::read(crypto("trust/gpg-revoked.asc")).unwrap();
    let cert = openpgp::Cert::from_bytes(&revoked).unwrap();
    let packets: Vec<openpgp::Packet> = cert
        .into_packets()
        .filter(|p| match p {
            openpgp::Packet::Signature(s) => {
                s.typ() != openpgp::types::SignatureType::KeyRevocation
            }
            _ => true,
        })
        .collect();
    let unrevoked = openpgp::Cert::from_packets(packets.into_iter()).unwrap();
    let mut stripped = Vec::new();
    unrevoked.armored().serialize(&mut stripped).unwrap();
    let sig = s(&crypto("data.tar.gz.gpg-revoked.sig"));
    let data = s(&crypto("data.tar.gz"));
    // The control: the stripped copy alone is accepted (so the merge is what refuses).
    let alone = tempfile::tempdir().unwrap();
    std::fs::write(alone.path().join("k.asc"), &stripped).unwrap();
    let r = run_bin(
        None,
        &[
            "verify",
            &data,
            "--trust",
            &s(alone.path()),
            "--signature",
            &sig,
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    for (first, second) in [("a.asc", "b.asc"), ("b.asc", "a.asc")] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(first), &stripped).unwrap();
        std::fs::write(dir.path().join(second), &revoked).unwrap();
        let r = run_bin(
            None,
            &[
                "verify",
                &data,
                "--trust",
                &s(dir.path()),
                "--signature",
                &sig,
            ],
            &[],
        );
        assert_eq!(r.code, 4, "{first}: {}", r.err);
        assert!(r.err.contains("revoked"), "{first}: {}", r.err);
    }
}

// ---------------------------------------------------------------- item 5

/// One Ed25519 key, made here, present in the store three times: as a minisign
/// key, a signify key and an SSH key, each under its own key id. It signs the
/// archive under all three schemes.
struct OneKeyThreeSchemes {
    dir: tempfile::TempDir,
}

impl OneKeyThreeSchemes {
    fn new(data: &[u8]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let trust = dir.path().join("trust");
        std::fs::create_dir(&trust).unwrap();
        let seed = [7u8; 32];
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let pk = key.verifying_key().to_bytes();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        // minisign, key id 1..8, prehashed.
        let (mid, sid) = ([1u8, 2, 3, 4, 5, 6, 7, 8], [9u8, 9, 9, 9, 9, 9, 9, 9]);
        let mut raw = b"Ed".to_vec();
        raw.extend(mid);
        raw.extend(pk);
        std::fs::write(
            trust.join("minisign.pub"),
            format!("untrusted comment: minisign public key\n{}\n", b64(&raw)),
        )
        .unwrap();
        let prehash = {
            use blake2::Digest;
            blake2::Blake2b512::digest(data)
        };
        let sig = key.sign(&prehash).to_bytes();
        let mut line = b"ED".to_vec();
        line.extend(mid);
        line.extend(sig);
        let comment = "one key";
        let mut global = sig.to_vec();
        global.extend(comment.as_bytes());
        let global = key.sign(&global).to_bytes();
        std::fs::write(
            dir.path().join("a.minisig"),
            format!(
                "untrusted comment: x\n{}\ntrusted comment: {comment}\n{}\n",
                b64(&line),
                b64(&global)
            ),
        )
        .unwrap();
        // signify, another key id, plain Ed25519 over the data.
        let mut raw = b"Ed".to_vec();
        raw.extend(sid);
        raw.extend(pk);
        std::fs::write(
            trust.join("signify.pub"),
            format!("untrusted comment: signify public key\n{}\n", b64(&raw)),
        )
        .unwrap();
        let mut line = b"Ed".to_vec();
        line.extend(sid);
        line.extend(key.sign(data).to_bytes());
        std::fs::write(
            dir.path().join("a.sig"),
            format!(
                "untrusted comment: verify with signify.pub\n{}\n",
                b64(&line)
            ),
        )
        .unwrap();
        // SSH, the same key as an allowed signer.
        let ssh = ssh_key::PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&seed));
        std::fs::write(
            trust.join("allowed_signers"),
            format!(
                "one@example.org {}\n",
                ssh.public_key().to_openssh().unwrap()
            ),
        )
        .unwrap();
        let sshsig = ssh.sign("file", ssh_key::HashAlg::Sha512, data).unwrap();
        std::fs::write(
            dir.path().join("a.ssh.sig"),
            sshsig.to_pem(ssh_key::LineEnding::LF).unwrap(),
        )
        .unwrap();
        OneKeyThreeSchemes { dir }
    }

    fn p(&self, name: &str) -> String {
        s(&self.dir.path().join(name))
    }
}

#[test]
fn one_key_under_three_schemes_is_one_signer() {
    let data = crypto("data.tar.gz");
    let k = OneKeyThreeSchemes::new(&std::fs::read(&data).unwrap());
    let three = [
        "--signature",
        &k.p("a.minisig"),
        "--signature",
        &k.p("a.sig"),
        "--signature",
        &k.p("a.ssh.sig"),
    ];
    let trust = k.p("trust");
    let mut args = vec!["verify", data.to_str().unwrap(), "--trust", &trust];
    args.extend(three);
    // Each signature is good and trusted: threshold 1 passes...
    let r = run_bin(None, &[&args[..], &["--json"]].concat(), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r);
    let sigs = v["signatures"]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3);
    assert!(
        sigs.iter()
            .all(|s| s["valid"] == true && s["trusted"] == true),
        "{v}"
    );
    assert_eq!(
        v["signatures"]["outcome"]["signers"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{v}"
    );
    // ...but they are one key: threshold 2 is refused.
    let r = run_bin(None, &[&args[..], &["--threshold", "2"]].concat(), &[]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(
        r.err.contains("1 distinct trusted signer, 2 required"),
        "{}",
        r.err
    );
    // A second, really different key makes two.
    let both = tempfile::tempdir().unwrap();
    for f in ["minisign.pub", "allowed_signers", "signify.pub"] {
        std::fs::copy(k.dir.path().join("trust").join(f), both.path().join(f)).unwrap();
    }
    std::fs::copy(crypto("trust/gpg-ed.asc"), both.path().join("gpg-ed.asc")).unwrap();
    let mut args2 = vec![
        "verify",
        data.to_str().unwrap(),
        "--trust",
        both.path().to_str().unwrap(),
    ];
    args2.extend(three);
    let gpg = s(&crypto("data.tar.gz.gpg-ed.sig"));
    args2.extend(["--signature", &gpg, "--threshold", "2"]);
    let r = run_bin(None, &args2, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
}

// ---------------------------------------------------------------- item 6

#[test]
fn a_trust_path_without_keys_is_an_error_naming_it() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("README.md"), "keys go here\n").unwrap();
    let data = s(&crypto("data.tar.gz"));
    let r = run_bin(None, &["verify", &data, "--trust", &s(empty.path())], &[]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains(&s(empty.path())), "{}", r.err);
    assert!(r.err.contains("holds no public key"), "{}", r.err);
}

/// A signature beside the archive and nothing to check it with: refused, with
/// the way out named. The default store, when it exists, is what checks it.
#[test]
fn sidecar_signatures_without_keys_are_refused_and_the_default_store_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("data.tar.gz");
    std::fs::copy(crypto("data.tar.gz"), &a).unwrap();
    std::fs::copy(
        crypto("data.tar.gz.minisig"),
        tmp.path().join("data.tar.gz.minisig"),
    )
    .unwrap();
    let scene = Scene::new();
    let before = snapshot(&scene.dest);
    let r = restore(&a, &scene.dest, &[]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains("no trust store to check them"), "{}", r.err);
    assert!(r.err.contains("--allow-unsigned"), "{}", r.err);
    assert_eq!(snapshot(&scene.dest), before);
    let r = restore(&a, &scene.dest, &["--allow-unsigned"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.err.contains("UNSIGNED"), "{}", r.err);
    // The default store: $XDG_CONFIG_HOME/projectrestore/keys.
    let cfg = tempfile::tempdir().unwrap();
    let keys = cfg.path().join("projectrestore/keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::copy(crypto("trust/minisign.pub"), keys.join("minisign.pub")).unwrap();
    let r = run_bin(
        None,
        &["verify", &s(&a), "--json"],
        &[("XDG_CONFIG_HOME", &s(cfg.path()))],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v = json(&r);
    assert_eq!(v["signatures"]["outcome"]["verdict"], "verified", "{v}");
    assert!(
        v["trust_store"]["origin"]
            .as_str()
            .unwrap()
            .starts_with("default store"),
        "{v}"
    );
    assert_eq!(v["trust_store"]["keys"], 1);
    // An explicit --trust replaces the default store.
    let r = run_bin(
        None,
        &["verify", &s(&a), "--trust", &s(&crypto("trust")), "--json"],
        &[("XDG_CONFIG_HOME", &s(cfg.path()))],
    );
    assert_eq!(json(&r)["trust_store"]["origin"], "command line (--trust)");
}

// ---------------------------------------------------------------- item 7

/// Someone who can write the directory the user restores from plants a
/// `.projectrestore.rc` that trusts their own key, points `to` elsewhere and
/// raises a limit. None of it is taken unless the user file allows the directory.
#[test]
fn a_planted_project_file_cannot_change_trust_or_destination() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().join("downloads");
    std::fs::create_dir(&cwd).unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(home.join(".config/projectrestore")).unwrap();
    // The attacker's key and a signature by it over their archive.
    let evil = cwd.join("evil-keys");
    std::fs::create_dir(&evil).unwrap();
    std::fs::copy(
        crypto("other/minisign-untrusted.pub"),
        evil.join("minisign.pub"),
    )
    .unwrap();
    let a = cwd.join("data.tar.gz");
    std::fs::copy(crypto("data.tar.gz"), &a).unwrap();
    std::fs::copy(
        crypto("data.tar.gz.untrusted.minisig"),
        cwd.join("data.tar.gz.minisig"),
    )
    .unwrap();
    let victim = work.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("precious"), b"mine").unwrap();
    std::fs::write(
        cwd.join(".projectrestore.rc"),
        format!(
            "trust = [\"evil-keys\"]\nto = \"{}\"\nmax_files = 99999999\nkeep = 0\nstrip_components = 1\n",
            s(&victim)
        ),
    )
    .unwrap();
    let env = [
        ("HOME", s(&home)),
        ("XDG_CONFIG_HOME", s(&home.join(".config"))),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dest = work.path().join("dest");
    let r = run_bin(
        Some(&cwd),
        &["restore", "data.tar.gz", "--to", &s(&dest), "--yes"],
        &env,
    );
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(
        r.err.contains("sets to, trust, max_files, keep"),
        "{}",
        r.err
    );
    assert!(!dest.exists());
    // Without --to the planted destination is not taken either.
    let r = run_bin(Some(&cwd), &["restore", "data.tar.gz", "--yes"], &env);
    assert_eq!(r.code, 64, "{}", r.err);
    assert_eq!(std::fs::read(victim.join("precious")).unwrap(), b"mine");
    assert_eq!(names(&victim), ["precious"]);
    // strip_components (harmless) is still taken; `config` shows what counts.
    let r = run_bin(Some(&cwd), &["config", "--json"], &env);
    let v = json(&r);
    assert_eq!(v["strip_components"]["value"], 1, "{v}");
    assert_eq!(v["trust"]["value"], serde_json::Value::Null, "{v}");
    // Once the user file allows the directory, its project file counts.
    std::fs::write(
        home.join(".config/projectrestore/config.toml"),
        format!("allow_project_dirs = [\"{}\"]\n", s(&cwd)),
    )
    .unwrap();
    let r = run_bin(Some(&cwd), &["config", "--json"], &env);
    let v = json(&r);
    assert!(
        v["trust"]["source"]
            .as_str()
            .unwrap()
            .contains(".projectrestore.rc"),
        "{v}"
    );
    let r = run_bin(Some(&cwd), &["verify", "data.tar.gz", "--json"], &env);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        json(&r)["trust_store"]["origin"]
            .as_str()
            .unwrap()
            .contains(".projectrestore.rc:1"),
        "{}",
        r.out
    );
}

// ---------------------------------------------------------------- item 8

fn audit(dir: &Path, trust: &Path) -> Run {
    run_bin(
        None,
        &[
            "audit",
            "--backup-dir",
            &s(dir),
            "--trust",
            &s(trust),
            "--json",
        ],
        &[],
    )
}

#[test]
fn audit_checks_encrypted_archives_and_never_passes_an_unchecked_one() {
    if !have_tool("minisign") {
        return;
    }
    // Only an inline signature: cannot be checked without decrypting.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crypto("data.tar.gz.signed-by-ed.gpg"),
        dir.path().join("2026-11-24_120000-proj-x.tar.gz.gpg"),
    )
    .unwrap();
    let r = audit(dir.path(), &crypto("trust"));
    assert_eq!(r.code, 4, "{} {}", r.out, r.err);
    let v = json(&r);
    assert_eq!(v["archives"][0]["ok"], false, "{v}");
    assert!(
        v["archives"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("cannot check without decrypting"),
        "{v}"
    );
    // A detached signature over an encrypted archive is checked like any other.
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("2026-11-24_120000-proj-x.tar.gz.gpg");
    std::fs::copy(crypto("data.tar.gz.cv25519.gpg"), &name).unwrap();
    let copy = tempfile::tempdir().unwrap();
    let bad = signed_copy(copy.path(), &crypto("data.tar.gz.cv25519.gpg"), Some(b"x"));
    std::fs::copy(
        bad.with_extension("gpg.minisig"),
        dir.path()
            .join("2026-11-24_120000-proj-x.tar.gz.gpg.minisig"),
    )
    .unwrap();
    let r = audit(dir.path(), &crypto("trust"));
    assert_eq!(r.code, 4, "{} {}", r.out, r.err);
    assert!(r.out.contains("BAD signature"), "{}", r.out);
    let good = signed_copy(copy.path(), &crypto("data.tar.gz.cv25519.gpg"), None);
    std::fs::copy(
        good.with_extension("gpg.minisig"),
        dir.path()
            .join("2026-11-24_120000-proj-x.tar.gz.gpg.minisig"),
    )
    .unwrap();
    let r = audit(dir.path(), &crypto("trust"));
    assert_eq!(r.code, 0, "{} {}", r.out, r.err);
}

// ---------------------------------------------------------------- item 9

/// A restore to make a real state directory, then a tampered journal.
fn restored_scene() -> (Scene, PathBuf) {
    let scene = Scene::new();
    let mut t = Tar::new();
    t.file("a.txt", b"new\n");
    let a = scene.archive("a.tar", &t.finish());
    let r = restore(&a, &scene.dest, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    (scene, a)
}

#[test]
fn a_journal_naming_paths_outside_the_state_directory_is_refused() {
    for (field, value) in [
        ("staging", "../../victim"),
        ("staging", "/tmp/victim"),
        ("generation", "../../victim"),
        ("parked", "parked-../../x"),
        ("rollback_of", "../victim"),
    ] {
        let (scene, a) = restored_scene();
        let victim = scene.tmp.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("precious"), b"mine").unwrap();
        let mut j = serde_json::json!({
            "staging": "staging-1-2",
            "generation": "00000000000000000001",
            "new": [1, 2],
            "old": [3, 4],
            "parked": null,
            "meta": {"archive": "", "sha256": "", "signers": [], "time": ""},
        });
        j[field] = value.into();
        std::fs::write(scene.state().join("journal"), j.to_string()).unwrap();
        // The lock file holds the pid of the last run: not compared.
        let unlocked = |p: &Path| {
            let mut m = snapshot(p);
            m.remove(".dest.projectrestore/lock");
            m
        };
        let before = unlocked(&scene.parent);
        let r = run_bin(None, &["recover", &s(&scene.dest)], &[]);
        assert_eq!(r.code, 1, "{field}: {}", r.err);
        assert!(
            r.err.contains("projectrestore never writes"),
            "{field}: {}",
            r.err
        );
        let r = restore(&a, &scene.dest, &[]);
        assert_eq!(r.code, 1, "{field}: {}", r.err);
        assert_eq!(unlocked(&scene.parent), before, "{field}");
        assert_eq!(names(&victim), ["precious"]);
    }
}

/// A state directory unpacked from an archive or planted by a process of the
/// same user: it has no marker, so nothing in it is read.
#[test]
fn a_state_directory_without_the_marker_is_refused() {
    let scene = Scene::new();
    std::fs::create_dir(scene.state()).unwrap();
    std::fs::set_permissions(
        scene.state(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    std::fs::create_dir(scene.state().join("staging-1-1")).unwrap();
    std::fs::write(scene.state().join("journal"), b"{}").unwrap();
    let before = snapshot(&scene.parent);
    let mut t = Tar::new();
    t.file("a.txt", b"new\n");
    let a = scene.archive("a.tar", &t.finish());
    let r = restore(&a, &scene.dest, &[]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains("was not created by projectrestore"),
        "{}",
        r.err
    );
    let r = run_bin(None, &["recover", &s(&scene.dest)], &[]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert_eq!(snapshot(&scene.parent), before);
}

/// A single-pass restore of an archive that fails verification runs no
/// recovery first: leftovers of an interrupted run stay until a restore has
/// passed its gate.
#[test]
fn no_recovery_before_a_single_pass_gate() {
    let (scene, _) = restored_scene();
    let stale = scene.state().join("staging-1-1");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("x"), b"x").unwrap();
    let mut t = Tar::new();
    t.file("b.txt", b"newer\n");
    let bytes = t.finish();
    let a = scene.archive("b.tar", &bytes);
    let sum = scene.archive(
        "wrong-sum.txt",
        format!("{}  b.tar\n", "0".repeat(64)).as_bytes(),
    );
    let r = restore(&a, &scene.dest, &["--single-pass", "--checksum", &s(&sum)]);
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(stale.exists(), "recovery ran before the gate");
    let r = restore(&a, &scene.dest, &["--single-pass"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!stale.exists(), "recovery after the gate");
    assert!(
        r.err.contains("recovered an interrupted restore"),
        "{}",
        r.err
    );
    assert_eq!(std::fs::read(scene.dest.join("b.txt")).unwrap(), b"newer\n");
}

// ---------------------------------------------------------------- item 10

/// Text from the state directory's metadata is escaped where it is printed.
#[test]
fn state_directory_text_is_escaped() {
    let (scene, a) = restored_scene();
    let r = restore(&a, &scene.dest, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let gens = names(&scene.state().join("generations"));
    let meta = scene
        .state()
        .join("generations")
        .join(&gens[0])
        .join("meta.json");
    let evil = "\u{1b}[2J\u{1b}]0;owned\u{7}é";
    let m = serde_json::json!({
        "archive": evil, "sha256": "ééééééééééééééééé", "signers": [],
        "time": evil, "how": "restore", "replaced": evil,
    });
    std::fs::write(&meta, m.to_string()).unwrap();
    std::fs::write(scene.state().join("current.json"), m.to_string()).unwrap();
    let r = run_bin(None, &["history", &s(&scene.dest)], &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        !r.out.contains('\u{1b}') && !r.out.contains('\u{7}'),
        "{:?}",
        r.out
    );
    // The rollback question (asked through a terminal: `script` gives one).
    if have_tool("script") {
        let cmd = format!(
            "{} rollback {}",
            env!("CARGO_BIN_EXE_projectrestore"),
            s(&scene.dest)
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("XDG_CONFIG_HOME", repo().join("target/no-such-config-home"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(b"n\n")?;
                c.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Replace"), "{text:?}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
    }
}

/// Links planted in the state directory are not followed: a generation that is
/// a symlink to a tree outside is neither listed nor rolled back to, a linked
/// `current.json` is not read, and a rollback journal whose generation is a
/// link is refused.
#[test]
fn links_in_the_state_directory_are_not_followed() {
    let (scene, _) = restored_scene();
    let outside = scene.tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("tree")).unwrap();
    std::fs::write(outside.join("tree/evil.txt"), b"planted").unwrap();
    let meta = serde_json::json!({
        "archive": "PLANTED-OUTSIDE", "sha256": "", "signers": [], "time": "2026-01-01T00:00:00Z",
        "how": "restore",
    });
    std::fs::write(outside.join("meta.json"), meta.to_string()).unwrap();
    let id = "09999999999999999999";
    std::os::unix::fs::symlink(&outside, scene.state().join("generations").join(id)).unwrap();
    let current = scene.state().join("current.json");
    std::fs::remove_file(&current).unwrap();
    std::os::unix::fs::symlink(outside.join("meta.json"), &current).unwrap();
    let dest = s(&scene.dest);
    let r = run_bin(None, &["history", &dest, "--json"], &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!r.out.contains(id), "{}", r.out);
    assert!(!r.out.contains("PLANTED-OUTSIDE"), "{}", r.out);
    let before = snapshot(&scene.dest);
    let r = run_bin(None, &["rollback", &dest, "--generation", id, "--yes"], &[]);
    assert_ne!(r.code, 0, "{}", r.out);
    assert_eq!(snapshot(&scene.dest), before);
    assert_eq!(names(&outside), ["meta.json", "tree"]);
    // A journal of an interrupted rollback through that link.
    std::fs::remove_file(&current).unwrap();
    let j = serde_json::json!({
        "staging": format!("generations/{id}/tree"),
        "generation": "00000000000000000001",
        "new": [1, 2], "old": [3, 4], "parked": null,
        "meta": {"archive": "", "sha256": "", "signers": [], "time": ""},
        "rollback_of": id,
    });
    std::fs::write(scene.state().join("journal"), j.to_string()).unwrap();
    let r = run_bin(None, &["recover", &dest], &[]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("which is not a directory"), "{}", r.err);
    assert_eq!(names(&outside.join("tree")), ["evil.txt"]);
    assert_eq!(snapshot(&scene.dest), before);
}

/// A FIFO planted as the journal or `current.json` would block `open` forever;
/// it is refused (journal) or ignored (metadata) at once.
#[test]
fn fifos_in_the_state_directory_do_not_hang() {
    let (scene, a) = restored_scene();
    let current = scene.state().join("current.json");
    std::fs::remove_file(&current).unwrap();
    sh("mkfifo current.json journal", &scene.state());
    let dest = s(&scene.dest);
    let start = std::time::Instant::now();
    let r = run_bin(None, &["history", &dest], &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let r = restore(&a, &scene.dest, &[]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("not a regular file"), "{}", r.err);
    // Bounded, not a speed test: a hang would be killed by the harness much later.
    assert!(start.elapsed().as_secs() < 30);
}

/// Verify-first, but the only signature is inside the OpenPGP encryption, so it
/// is checked only after pass 2: no recovery runs before that gate either.
#[test]
fn no_recovery_before_an_inline_signature_is_checked() {
    let (scene, _) = restored_scene();
    let stale = scene.state().join("staging-1-1");
    std::fs::create_dir(&stale).unwrap();
    let trust = s(&crypto("trust"));
    let id = s(&crypto("secret/gpg-enc25519.asc"));
    let r = restore(
        &crypto("data.tar.gz.signed-by-stranger.gpg"),
        &scene.dest,
        &["--trust", &trust, "-i", &id, "--verify-first"],
    );
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(
        stale.exists(),
        "recovery ran before the inline signature was checked"
    );
    let r = restore(
        &crypto("data.tar.gz.signed-by-ed.gpg"),
        &scene.dest,
        &["--trust", &trust, "-i", &id, "--verify-first"],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!stale.exists());
}

/// The attack: a FIFO where a signature, checksum, trust-store key or
/// identity file is named (a path someone else controls, or a mistake).
/// Opening it waited for a writer forever. Now a FIFO without a writer reads
/// as empty at once and is refused as what it is not; nothing is written.
/// A pipe that has a writer (`-i <(pass show key)`) still works.
#[test]
fn fifos_named_as_signature_checksum_key_or_identity_do_not_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let bytes = Tar::new().file("a.txt", b"a").finish();
    let archive = tmp.path().join("a.tar");
    std::fs::write(&archive, &bytes).unwrap();
    let f = fifo.to_str().unwrap();
    for (flag, code) in [
        ("--signature", 4),
        ("--checksum", 4),
        ("--trust", 4),
        ("--identity", 6),
    ] {
        let dest = tmp
            .path()
            .join(format!("out{}", flag.trim_start_matches('-')));
        let out = bin()
            .arg("restore")
            .arg(&archive)
            .arg("--to")
            .arg(&dest)
            .args([flag, f, "--allow-unsigned"])
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{flag}: {err}");
        assert!(!dest.exists(), "{flag}");
    }
    // A pipe with a writer is read: the checksum through the FIFO.
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let out = bin()
        .arg("restore")
        .arg(&archive)
        .arg("--to")
        .arg(tmp.path().join("piped"))
        .args(["--allow-unsigned", "--json"])
        .arg("--checksum")
        .arg("/dev/fd/0")
        .write_stdin(format!("{sha}  a.tar\n"))
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checksum"]["matched"], true);
}

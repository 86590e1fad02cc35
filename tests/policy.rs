//! The OpenPGP signature policy (issue 14, items 1–2; invariant 7): a data
//! signature is judged as a signature, not only by its maths. Every signature
//! here is cryptographically valid and made by a trusted key over the very
//! archive, and must still be refused:
//! - SHA-1 and MD5 data signatures (gpg, fixtures/make-policy.sh), and a SHA-1
//!   signature that claims a creation time from before SHA-1 was deprecated
//!   (made with sequoia: an attacker picks any time);
//! - a text-mode signature, with a message that says so;
//! - a critical notation nobody knows (gpg) and an unknown critical subpacket;
//! - a signature whose own expiration time has passed (made in 2020 for one day);
//! - a certification signature over the archive's bytes, as a document signature,
//!   in `verify`, `restore` and `audit`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use common::*;
use openpgp::cert::CertBuilder;
use openpgp::packet::signature::subpacket::{Subpacket, SubpacketTag, SubpacketValue};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::serialize::Serialize;
use openpgp::types::{HashAlgorithm, SignatureType};
use sequoia_openpgp as openpgp;

fn policy() -> PathBuf {
    repo().join("fixtures/policy")
}

fn data() -> PathBuf {
    repo().join("fixtures/crypto/data.tar.gz")
}

fn run(cmd: &str, archive: &Path, args: &[&str]) -> Run {
    let mut all = vec![cmd, archive.to_str().unwrap()];
    all.extend_from_slice(args);
    run_bin(None, &all, &[])
}

/// `verify` and `restore` (both pass modes) refuse with exit 4 and `why`; the
/// destination is unchanged.
fn refused(trust: &Path, sig: &Path, why: &str) {
    let (t, s) = (trust.display().to_string(), sig.display().to_string());
    let r = run("verify", &data(), &["--trust", &t, "--signature", &s]);
    assert_eq!(r.code, 4, "verify {s}: {}", r.err);
    assert!(r.err.contains(why), "verify {s}: want {why:?} in {}", r.err);
    for mode in ["--verify-first", "--single-pass"] {
        let scene = Scene::new();
        let before = snapshot(&scene.dest);
        let r = restore(
            &data(),
            &scene.dest,
            &["--trust", &t, "--signature", &s, mode],
        );
        assert_eq!(r.code, 4, "restore {s} {mode}: {}", r.err);
        assert!(r.err.contains(why), "restore {s} {mode}: {}", r.err);
        assert_eq!(snapshot(&scene.dest), before, "{s} {mode}");
        assert!(scene.leftover_staging().is_empty());
    }
}

fn trust() -> PathBuf {
    policy().join("trust")
}

/// The control: the same key's SHA-512 binary signature verifies, so each refusal
/// below is the policy's and not a broken key.
#[test]
fn the_good_signature_verifies() {
    let t = trust().display().to_string();
    let s = policy().join("good.sig").display().to_string();
    let r = run("verify", &data(), &["--trust", &t, "--signature", &s]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("good, trusted"), "{}", r.out);
}

#[test]
fn weak_hash_algorithms_are_refused() {
    refused(
        &trust(),
        &policy().join("sha1.sig"),
        "SHA1 is not collision resistant",
    );
    refused(
        &trust(),
        &policy().join("md5.sig"),
        "MD5 is not collision resistant",
    );
}

#[test]
fn a_text_mode_signature_is_refused_as_such() {
    refused(&trust(), &policy().join("text.sig"), "text-mode signature");
}

#[test]
fn a_critical_notation_is_refused() {
    refused(
        &trust(),
        &policy().join("critical.sig"),
        "Critical notation",
    );
}

/// Made on 2020-01-01, expiring a day later: valid at its creation time (which is
/// all the old check looked at), dead now.
#[test]
fn an_expired_signature_is_refused() {
    refused(
        &trust(),
        &policy().join("sig-expired.sig"),
        "the signature itself expired",
    );
}

/// A trusted key of our own making, for signatures gpg will not make.
struct Forger {
    tmp: tempfile::TempDir,
    cert: openpgp::Cert,
}

impl Forger {
    fn new() -> Self {
        let (cert, _) = CertBuilder::new()
            .add_userid("Forger <forger@example.org>")
            .set_creation_time(UNIX_EPOCH + Duration::from_secs(1_200_000_000))
            .add_signing_subkey()
            .generate()
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("trust")).unwrap();
        let mut armored = Vec::new();
        cert.armored().serialize(&mut armored).unwrap();
        std::fs::write(tmp.path().join("trust/forger.asc"), armored).unwrap();
        Forger { tmp, cert }
    }

    fn trust(&self) -> PathBuf {
        self.tmp.path().join("trust")
    }

    /// Sign the archive's bytes (binary hashing) with the signing subkey.
    fn sign(&self, name: &str, builder: SignatureBuilder, algo: HashAlgorithm) -> PathBuf {
        let key = self
            .cert
            .keys()
            .subkeys()
            .secret()
            .next()
            .unwrap()
            .key()
            .clone();
        let mut pair = key.into_keypair().unwrap();
        let mut hash = algo.context().unwrap().for_signature(4);
        hash.update(&std::fs::read(data()).unwrap());
        let sig = builder
            .set_hash_algo(algo)
            .set_issuer_fingerprint(pair.public().fingerprint())
            .unwrap()
            .sign_hash(&mut pair, hash)
            .unwrap();
        let mut bytes = Vec::new();
        openpgp::Packet::from(sig).serialize(&mut bytes).unwrap();
        let p = self.tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

#[test]
fn forged_control_verifies() {
    let f = Forger::new();
    let s = f.sign(
        "ok.sig",
        SignatureBuilder::new(SignatureType::Binary),
        HashAlgorithm::SHA512,
    );
    let t = f.trust().display().to_string();
    let r = run(
        "verify",
        &data(),
        &["--trust", &t, "--signature", &s.display().to_string()],
    );
    assert_eq!(r.code, 0, "{}", r.err);
}

/// SHA-1 that claims 2010 as its creation time: a policy that judges the hash by
/// the signature's own claimed time would accept it.
#[test]
fn a_backdated_sha1_signature_is_refused() {
    let f = Forger::new();
    let when = UNIX_EPOCH + Duration::from_secs(1_270_000_000);
    let s = f.sign(
        "sha1.sig",
        SignatureBuilder::new(SignatureType::Binary)
            .set_signature_creation_time(when)
            .unwrap(),
        HashAlgorithm::SHA1,
    );
    refused(&f.trust(), &s, "SHA1 is not collision resistant");
}

#[test]
fn an_unknown_critical_subpacket_is_refused() {
    let f = Forger::new();
    let b = SignatureBuilder::new(SignatureType::Binary)
        .modify_hashed_area(|mut a| {
            a.add(Subpacket::new(
                SubpacketValue::Unknown {
                    tag: SubpacketTag::Private(105),
                    body: vec![1, 2, 3],
                },
                true,
            )?)?;
            Ok(a)
        })
        .unwrap();
    let s = f.sign("critical.sig", b, HashAlgorithm::SHA512);
    refused(&f.trust(), &s, "critical signature subpacket");
}

/// A certification (and a key-binding) signature whose hash covers the archive's
/// bytes verifies mathematically; it is still not a document signature.
#[test]
fn certification_signatures_are_not_document_signatures() {
    let f = Forger::new();
    for (name, typ) in [
        ("cert.sig", SignatureType::PositiveCertification),
        ("generic.sig", SignatureType::GenericCertification),
        ("binding.sig", SignatureType::SubkeyBinding),
    ] {
        let s = f.sign(name, SignatureBuilder::new(typ), HashAlgorithm::SHA512);
        refused(&f.trust(), &s, "not a signature over a document; refused");
        // audit: the same signature as a sidecar in a backup directory.
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("2026-11-24_120000-proj-x.tar.gz");
        std::fs::copy(data(), &a).unwrap();
        std::fs::copy(&s, dir.path().join("2026-11-24_120000-proj-x.tar.gz.sig")).unwrap();
        let out = bin()
            .args(["audit", "--backup-dir"])
            .arg(dir.path())
            .arg("--trust")
            .arg(f.trust())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "audit {name}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("not a signature over a document"),
            "audit {name}: {text}"
        );
    }
}

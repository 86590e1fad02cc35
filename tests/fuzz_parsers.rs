//! The nightly-free fuzz harness: proptest drives every parser that reads
//! attacker-controlled bytes — the tar validator (whole archives in), format
//! sniffing, signature files, trust-store files, checksum files — with random
//! bytes and with random mutations of valid inputs made by the real tools. A
//! parser may refuse; it may never panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use proptest::prelude::*;

use common::*;
use projectrestore::archive::{self, EntryPolicy, Limits, NullSink};
use projectrestore::verify::{checksum, Signatures, TrustStore};

fn valid_tar() -> Vec<u8> {
    Tar::new()
        .dir("d/")
        .file("d/a.txt", b"hello")
        .symlink("d/l", "a.txt")
        .hardlink("d/h", "d/a.txt")
        .pax(PAX, &[("path", b"d/long-name.txt")])
        .file("x", b"pax named")
        .finish()
}

fn mutate(mut base: Vec<u8>, edits: &[(usize, u8)]) -> Vec<u8> {
    for (at, x) in edits {
        if !base.is_empty() {
            let i = at % base.len();
            base[i] ^= x | 1;
        }
    }
    base
}

fn signature_fixtures() -> Vec<PathBuf> {
    [
        "minisig",
        "legacy.minisig",
        "ssh.sig",
        "signify.sig",
        "gpg-ed.sig",
        "gpg-ed.asc",
    ]
    .iter()
    .map(|s| {
        repo()
            .join("fixtures/crypto")
            .join(format!("data.tar.gz.{s}"))
    })
    .collect()
}

fn key_fixtures() -> Vec<PathBuf> {
    [
        "minisign.pub",
        "signify.pub",
        "allowed_signers",
        "gpg-ed.asc",
    ]
    .iter()
    .map(|s| repo().join("fixtures/crypto/trust").join(s))
    .collect()
}

fn extract(bytes: &[u8]) {
    let _ = archive::sniff(bytes);
    let _ = archive::extract(
        bytes,
        &Limits::default(),
        &EntryPolicy::default(),
        &mut NullSink,
    );
    if let Ok(mut r) =
        archive::decompress::decompressor(archive::Format::Gzip, bytes, &Limits::default())
    {
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn validator_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        extract(&bytes);
    }

    #[test]
    fn validator_never_panics_on_mutated_archives(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        extract(&mutate(valid_tar(), &edits));
        extract(&mutate(gzip(&valid_tar()), &edits));
    }

    #[test]
    fn signature_parsers_never_panic(which in 0usize..6, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), random in proptest::collection::vec(any::<u8>(), 0..600)) {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::read(&signature_fixtures()[which]).unwrap();
        let a = tmp.path().join("mutated");
        std::fs::write(&a, mutate(base, &edits)).unwrap();
        let b = tmp.path().join("random");
        std::fs::write(&b, &random).unwrap();
        let _ = Signatures::load(&[a]);
        let _ = Signatures::load(&[b]);
    }

    #[test]
    fn trust_store_loader_never_panics(which in 0usize..4, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), random in proptest::collection::vec(any::<u8>(), 0..600)) {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::read(&key_fixtures()[which]).unwrap();
        let a = tmp.path().join("mutated");
        std::fs::write(&a, mutate(base, &edits)).unwrap();
        let b = tmp.path().join("random");
        std::fs::write(&b, &random).unwrap();
        let _ = TrustStore::load(&[a]);
        let _ = TrustStore::load(&[b]);
    }

    #[test]
    fn checksum_parser_never_panics(text in ".{0,300}") {
        let _ = checksum::parse(&text, Some("a.tar.gz"));
    }
}

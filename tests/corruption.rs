//! Corrupted input (seeded, reproducible): random bytes flipped in valid plain,
//! signed and encrypted archives, restored through the library over an existing
//! tree. Never a panic; a signed or encrypted archive always fails with the
//! destination unchanged; a plain archive either fails with the destination
//! unchanged or restores a tree that differs from the original only in the files the
//! flipped bytes belonged to.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use projectrestore::interact::NoInteraction;
use projectrestore::restore::{self, Options};
use projectrestore::source::Input;

/// Flip one to three bytes; returns the bytes and how many were flipped.
fn flipped(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut out = bytes.to_vec();
    let n = 1 + (rng.next() % 3) as usize;
    for _ in 0..n {
        let at = (rng.next() % out.len() as u64) as usize;
        out[at] ^= 1 + (rng.next() % 255) as u8;
    }
    (out, n)
}

fn old_tree(dest: &Path) {
    std::fs::create_dir_all(dest.join("keep")).unwrap();
    std::fs::write(dest.join("keep/old.txt"), b"old tree").unwrap();
}

fn attempt(
    archive: &Path,
    dest: &Path,
    extra: impl FnOnce(&mut Options),
) -> Result<(), projectrestore::Error> {
    let mut opts = Options {
        input: Some(Input::File(archive.to_path_buf())),
        action: restore::Action::Restore {
            dest: dest.to_path_buf(),
        },
        yes: true,
        ..Options::default()
    };
    extra(&mut opts);
    restore::run(
        &opts,
        &projectrestore::event::NoEvents,
        &NoInteraction::shared(),
    )
    .map(|_| ())
}

fn crypto(name: &str) -> PathBuf {
    repo().join("fixtures/crypto").join(name)
}

#[test]
fn five_hundred_bit_flips() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x0b17_f11b_5eed);
    // Plain: an uncompressed tar of 12 files (so a flipped data byte leaves a valid
    // archive) and the same gzip'd.
    let mut t = Tar::new();
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..12 {
        let body = format!("file {i}\n").repeat(40 + i * 7);
        t.file(&format!("d/f{i}.txt"), body.as_bytes());
        expected.insert(format!("d/f{i}.txt"), body.into_bytes());
    }
    let tar = t.finish();
    let gz = gzip(&tar);
    let signed = std::fs::read(crypto("data.tar.gz")).unwrap();
    let encrypted = std::fs::read(crypto("data.tar.gz.x25519.age")).unwrap();
    let (mut failed, mut restored_with_changes, mut restored_intact) = (0, 0, 0);
    for case in 0..500 {
        let dest = tmp.path().join(format!("dest{case}"));
        old_tree(&dest);
        let before = snapshot(&dest);
        let archive = tmp.path().join(format!("a{case}"));
        let kind = case % 4;
        let source = match kind {
            0 => &tar,
            1 => &gz,
            2 => &signed,
            _ => &encrypted,
        };
        let (bytes, flips) = flipped(source, &mut rng);
        std::fs::write(&archive, bytes).unwrap();
        let result = match kind {
            0 | 1 => attempt(&archive, &dest, |_| {}),
            2 => attempt(&archive, &dest, |o| {
                o.trust = vec![crypto("trust")];
                o.signatures = vec![crypto("data.tar.gz.minisig")];
            }),
            _ => attempt(&archive, &dest, |o| {
                o.identities = vec![crypto("secret/age.txt")];
                o.checksum = None;
            }),
        };
        match result {
            Err(_) => {
                failed += 1;
                assert_eq!(
                    snapshot(&dest),
                    before,
                    "case {case}: a failed restore changed the destination"
                );
            }
            Ok(()) => {
                // Signed archives never pass; an age ciphertext is authenticated too.
                assert!(
                    kind < 2,
                    "case {case}: a corrupted signed or encrypted archive restored"
                );
                let differing = expected
                    .iter()
                    .filter(|(name, body)| {
                        std::fs::read(dest.join(name)).ok().as_ref() != Some(*body)
                    })
                    .count();
                assert!(
                    differing <= flips,
                    "case {case}: {differing} files differ after {flips} flipped bytes"
                );
                if differing > 0 {
                    restored_with_changes += 1;
                } else {
                    restored_intact += 1;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dest);
        let _ = std::fs::remove_dir_all(tmp.path().join(format!(".dest{case}.projectrestore")));
        let _ = std::fs::remove_file(&archive);
    }
    eprintln!("500 bit-flip cases: {failed} refused, {restored_with_changes} restored with the flipped files changed, {restored_intact} restored intact");
}

//! The public age test vectors (C2SP CCTV, tests/data/cctv-age) through
//! `projectrestore decrypt` (issue 14, item 13): this tool and the reference
//! implementations must agree on what is a valid age file, since a parser
//! differential is an attack surface. Every vector that needs no post-quantum
//! (hybrid ML-KEM) identity must pass: `success` decrypts to the payload's
//! SHA-256, every failure kind is a non-zero exit with nothing written. The
//! hybrid vectors are counted apart (this build's age crate has no ML-KEM).
//!
//! Also: a header with tens of thousands of stanzas is refused in bounded time
//! (the age crate's own parser is quadratic in the stanza count).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use common::*;
use sha2::Digest;

struct Vector {
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    passphrase: Option<String>,
    body: Vec<u8>,
}

fn parse(bytes: &[u8]) -> Vector {
    let split = bytes.windows(2).position(|w| w == b"\n\n").unwrap();
    let head = std::str::from_utf8(&bytes[..split]).unwrap();
    let mut v = Vector {
        expect: String::new(),
        payload: None,
        identities: Vec::new(),
        passphrase: None,
        body: bytes[split + 2..].to_vec(),
    };
    let mut compressed = false;
    for line in head.lines() {
        let (k, val) = line.split_once(": ").unwrap();
        match k {
            "expect" => v.expect = val.into(),
            "payload" => v.payload = Some(val.into()),
            "identity" => v.identities.push(val.into()),
            "passphrase" => v.passphrase = Some(val.into()),
            "compressed" => compressed = val == "zlib",
            _ => {}
        }
    }
    if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&v.body[..])
            .read_to_end(&mut out)
            .unwrap();
        v.body = out;
    }
    v
}

#[test]
fn cctv_age_vectors_agree() {
    let dir = repo().join("tests/data/cctv-age");
    let mut names: Vec<String> = names(&dir)
        .into_iter()
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    let (mut passed, mut hybrid, mut failed) = (0, Vec::new(), Vec::new());
    for name in &names {
        let v = parse(&std::fs::read(dir.join(name)).unwrap());
        if v.identities
            .iter()
            .any(|i| !i.starts_with("AGE-SECRET-KEY-1"))
            || name.contains("hybrid")
        {
            hybrid.push(name.clone());
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file.age");
        std::fs::write(&file, &v.body).unwrap();
        let out = tmp.path().join("out");
        let mut cmd = bin();
        cmd.arg("decrypt").arg(&file).arg("-o").arg(&out);
        let ids = tmp.path().join("ids.txt");
        if !v.identities.is_empty() {
            std::fs::write(&ids, v.identities.join("\n") + "\n").unwrap();
            cmd.arg("-i").arg(&ids);
        }
        if let Some(p) = &v.passphrase {
            let pf = tmp.path().join("pass");
            std::fs::write(&pf, format!("{p}\n")).unwrap();
            cmd.arg("--passphrase-file").arg(&pf);
        }
        let res = cmd.write_stdin("").output().unwrap();
        let ok = res.status.success();
        let agree = if v.expect == "success" {
            ok && v.payload.as_deref().is_some_and(|p| {
                hex::encode(sha2::Sha256::digest(
                    std::fs::read(&out).unwrap_or_default(),
                )) == p
            })
        } else {
            !ok && !Path::new(&out).exists()
        };
        if agree {
            passed += 1;
        } else {
            failed.push(format!(
                "{name} (expect {}): exit {:?} {}",
                v.expect,
                res.status.code(),
                String::from_utf8_lossy(&res.stderr).trim()
            ));
        }
    }
    eprintln!(
        "CCTV age: {passed} agree, {} disagree, {} hybrid (post-quantum) vectors not run: {}",
        failed.len(),
        hybrid.len(),
        hybrid.join(" ")
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(passed > 100, "{passed}");
}

/// 50,000 stanzas: the pre-scan stops at its limit after reading a few
/// kilobytes; the age crate alone would re-parse the header 50,000 times.
#[test]
fn tens_of_thousands_of_stanzas_are_refused_quickly() {
    let mut file = b"age-encryption.org/v1\n".to_vec();
    for _ in 0..50_000 {
        file.extend_from_slice(b"-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\nhjabGXwSLQ9c3S6Lw2i+S2Tu2fiwQHHslbBN6B41FLE\n");
    }
    file.extend_from_slice(b"--- ORM4jo0+tfqd57vT3+pUVZg/sHurDuHFHhXkG7S+RE4\n");
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("many.age");
    std::fs::write(&a, &file).unwrap();
    let started = Instant::now();
    let res = bin()
        .arg("decrypt")
        .arg(&a)
        .arg("-o")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(6), "{err}");
    assert!(err.contains("more than 256 recipient stanzas"), "{err}");
    // Not a timing test of speed: a bound far above what the pre-scan takes and
    // far below what quadratic parsing of this header does.
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

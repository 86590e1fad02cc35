//! Known-answer tests: published RFC 6962 tree heads and proofs (transparency-dev)
//! and the signed-note vector of Go's sumdb/note, as data in tests/data.
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use projectrestore::log::merkle::{self, Hash};
use projectrestore::log::note::{self, SignerKey, VerifierKey};
use serde_json::Value;

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rfc6962-vectors.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn h(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(h).collect()
}

fn leaves(v: &Value) -> Vec<Hash> {
    v["leaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| merkle::leaf_hash(&hex::decode(l.as_str().unwrap()).unwrap()))
        .collect()
}

#[test]
fn tree_heads_and_leaf_hashes() {
    let v = vectors();
    let leaves = leaves(&v);
    assert_eq!(leaves, hashes(&v["leaf_hashes"]));
    for (size, root) in hashes(&v["roots"]).iter().enumerate() {
        assert_eq!(merkle::root_of(&leaves[..size]), *root, "size {size}");
        let mut src: &[Hash] = &leaves[..size];
        assert_eq!(merkle::root(&mut src, size as u64).unwrap(), *root);
    }
}

#[test]
fn inclusion_proofs_and_their_corruptions() {
    let v = vectors();
    let leaves = leaves(&v);
    let roots = hashes(&v["roots"]);
    let some = [0xabu8; 32];
    for case in v["inclusion"].as_array().unwrap() {
        let (i, n) = (
            case["index"].as_u64().unwrap(),
            case["size"].as_u64().unwrap(),
        );
        let want = hashes(&case["proof"]);
        let mut src: &[Hash] = &leaves[..n as usize];
        assert_eq!(merkle::inclusion_proof(&mut src, i, n).unwrap(), want);
        let (leaf, root) = (leaves[i as usize], roots[n as usize]);
        merkle::verify_inclusion(i, n, &leaf, &want, &root).unwrap();
        // transparency-dev's probes: each must fail.
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (i.wrapping_sub(1), n, leaf, root, want.clone()),
            (i + 1, n, leaf, root, want.clone()),
            (i ^ 2, n, leaf, root, want.clone()),
            (i, n * 2, leaf, root, want.clone()),
            (i, n / 2, leaf, root, want.clone()),
            (i, n, some, root, want.clone()),
            (i, n, leaf, roots[0], want.clone()),
            (i, n, leaf, some, want.clone()),
            (i, n, leaf, root, [want.clone(), vec![root]].concat()),
            (i, n, leaf, root, [vec![root], want.clone()].concat()),
        ];
        for k in 0..want.len() {
            let mut p = want.clone();
            p[k][0] ^= 8;
            probes.push((i, n, leaf, root, p));
        }
        if !want.is_empty() {
            probes.push((i, n, leaf, root, want[..want.len() - 1].to_vec()));
        }
        for (k, (pi, pn, pl, pr, pp)) in probes.iter().enumerate() {
            if (*pi, *pn, pl, pr, pp) == (i, n, &leaf, &root, &want) {
                continue;
            }
            assert!(
                merkle::verify_inclusion(*pi, *pn, pl, pp, pr).is_err(),
                "probe {k} for leaf {i} of {n} verified"
            );
        }
    }
}

#[test]
fn consistency_proofs_and_their_corruptions() {
    let v = vectors();
    let leaves = leaves(&v);
    let roots = hashes(&v["roots"]);
    for case in v["consistency"].as_array().unwrap() {
        let (m, n) = (case["old"].as_u64().unwrap(), case["new"].as_u64().unwrap());
        let want = hashes(&case["proof"]);
        let mut src: &[Hash] = &leaves[..n as usize];
        assert_eq!(merkle::consistency_proof(&mut src, m, n).unwrap(), want);
        let (r1, r2) = (roots[m as usize], roots[n as usize]);
        merkle::verify_consistency(m, n, &r1, &r2, &want).unwrap();
        if want.is_empty() {
            continue;
        }
        let bad: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (m - 1, n, r1, r2, want.clone()),
            (m + 1, n, r1, r2, want.clone()),
            (m ^ 2, n, r1, r2, want.clone()),
            (m, n * 2, r1, r2, want.clone()),
            (m, n / 2, r1, r2, want.clone()),
            (m, n, r2, r1, want.clone()),
            (m, n, r1, r2, vec![]),
            (m, n, r1, r2, [want.clone(), vec![r1]].concat()),
            (m, n, r1, r2, [vec![r2], want.clone()].concat()),
            (m, n, r1, r2, want[..want.len() - 1].to_vec()),
        ];
        for (k, (a, b, x, y, p)) in bad.iter().enumerate() {
            assert!(
                merkle::verify_consistency(*a, *b, x, y, p).is_err(),
                "probe {k} for {m}->{n} verified"
            );
        }
        for k in 0..want.len() {
            let mut p = want.clone();
            p[k][0] ^= 16;
            assert!(merkle::verify_consistency(m, n, &r1, &r2, &p).is_err());
        }
    }
    // The same tree as a transparency-dev testdata file (base64 form).
    let f = &v["consistency_file_vector"];
    let b = |s: &Value| -> Hash { B64.decode(s.as_str().unwrap()).unwrap().try_into().unwrap() };
    let proof: Vec<Hash> = f["proof"].as_array().unwrap().iter().map(b).collect();
    merkle::verify_consistency(1, 8, &b(&f["root1"]), &b(&f["root2"]), &proof).unwrap();
}

#[test]
fn go_signed_note_vector() {
    let v = vectors();
    let n = &v["signed_note"];
    let s = |k: &str| n[k].as_str().unwrap().to_string();
    let signer = SignerKey::parse(&s("skey")).unwrap();
    assert_eq!(signer.verifier().encode(), s("vkey"));
    assert_eq!(signer.sign(&s("text")).unwrap(), s("signed"));
    let peter = VerifierKey::parse(&s("vkey")).unwrap();
    let enoch = VerifierKey::parse(&s("other_vkey")).unwrap();
    // Two signatures: each key verifies its own, and ignores the other's.
    let both = format!("{}{}", s("signed"), s("other_signature_line"));
    assert_eq!(
        note::open(both.as_bytes(), &peter).unwrap().text(),
        s("text")
    );
    assert_eq!(
        note::open(both.as_bytes(), &enoch).unwrap().text(),
        s("text")
    );
    assert!(note::open(s("signed").as_bytes(), &enoch).is_err());
}

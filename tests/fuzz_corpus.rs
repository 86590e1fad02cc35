//! Replays the fuzz targets' committed inputs through the same entry points the
//! targets call (`projectrestore::fuzzing`): every seed in `fuzz/seeds/TARGET/`
//! and every input a fuzzer ever crashed on, kept in `fuzz/regressions/TARGET/`.
//! So a crash found once by `scripts/fuzz.sh` stays fixed in every `cargo test`
//! run, on machines without libFuzzer. Also checks that every target in
//! `fuzz/Cargo.toml` has seeds and is replayed here.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::repo;
use projectrestore::fuzzing::{self, Keys};

fn run(target: &str, data: &[u8], keys: &Keys) {
    match target {
        "tar" => fuzzing::tar(data),
        "gzip" => fuzzing::gzip(data),
        "zstd" => fuzzing::zstd(data),
        "xz" => fuzzing::xz(data),
        "bzip2" => fuzzing::bzip2(data),
        "age" => fuzzing::age(data, keys),
        "openpgp_message" => fuzzing::openpgp_message(data, keys),
        "signature_minisign" | "signature_signify" | "signature_ssh" | "signature_openpgp" => {
            fuzzing::signature(data, keys)
        }
        "trust_store" => fuzzing::trust_store(data),
        "checksum" => fuzzing::checksum(data),
        "note" => fuzzing::note(data, keys),
        "checkpoint" => fuzzing::checkpoint(data, keys),
        "log_entry" => fuzzing::log_entry(data),
        "tlog_proof" => fuzzing::tlog_proof(data, keys),
        "config" => fuzzing::config(data),
        "state_files" => fuzzing::state_files(data),
        "sandbox_records" => fuzzing::sandbox_records(data),
        other => {
            panic!("fuzz target {other} is not replayed by tests/fuzz_corpus.rs: add it to run()")
        }
    }
}

/// The targets `fuzz/Cargo.toml` declares.
fn declared() -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(repo().join("fuzz/Cargo.toml")).unwrap();
    let doc: toml::Table = manifest.parse().unwrap();
    doc["bin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect()
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn every_target_has_seeds_and_every_input_replays_without_a_panic() {
    let keys = Keys::load(&repo()).unwrap();
    let targets = declared();
    assert!(
        targets.len() >= 19,
        "fuzz/Cargo.toml lost targets: {targets:?}"
    );
    let mut replayed = 0;
    for t in &targets {
        let seeds = files(&repo().join("fuzz/seeds").join(t));
        assert!(
            !seeds.is_empty(),
            "fuzz target {t} has no seeds in fuzz/seeds/{t}"
        );
        let regressions = files(&repo().join("fuzz/regressions").join(t));
        for f in seeds.iter().chain(&regressions) {
            let data = std::fs::read(f).unwrap();
            run(t, &data, &keys);
            replayed += 1;
        }
    }
    // Every regression directory belongs to a declared target.
    let stray = files(&repo().join("fuzz/regressions"));
    assert!(
        stray.is_empty(),
        "stray files in fuzz/regressions: {stray:?}"
    );
    if let Ok(rd) = std::fs::read_dir(repo().join("fuzz/regressions")) {
        for e in rd {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                targets.contains(&name),
                "fuzz/regressions/{name} is no target"
            );
        }
    }
    assert!(replayed > 200, "only {replayed} inputs replayed");
}

/// The seeds reach the parsers' accepting paths, not only their first refusal:
/// the fixtures the seeds come from are valid, so the parsers must accept them.
#[test]
fn seeds_are_valid_inputs_of_their_parsers() {
    use projectrestore::archive::{self, EntryPolicy, Limits, NullSink};
    let seeds = repo().join("fuzz/seeds");
    let tar = std::fs::read(seeds.join("tar/tree-pax.tar")).unwrap();
    let summary = archive::extract(
        &tar[..],
        &Limits::default(),
        &EntryPolicy::default(),
        &mut NullSink,
    )
    .unwrap();
    assert!(summary.files >= 20 && summary.symlinks == 1 && summary.hardlinks == 1);
    let keys = Keys::load(&repo()).unwrap();
    let proof = std::fs::read(seeds.join("tlog_proof/initial.tlog-proof")).unwrap();
    let anchored = projectrestore::log::check_proof(
        "initial.tlog-proof",
        &proof,
        &keys.log_vkey,
        "fe0c7e18d66e175cfcbab1e7cbaf65b68b5d587cb5511487d5d07ed8e69575a2",
        518,
    )
    .unwrap();
    assert_eq!((anchored.leaf_index, anchored.tree_size), (1, 2));
    let sig = std::fs::read(seeds.join("signature_minisign/data.tar.gz.minisig")).unwrap();
    assert!(projectrestore::verify::Signatures::parse("m", &sig).is_ok());
    let key = std::fs::read(seeds.join("trust_store/minisign.pub")).unwrap();
    assert_eq!(
        projectrestore::verify::TrustStore::parse("k", &key)
            .unwrap()
            .len(),
        1
    );
    let journal = std::fs::read(seeds.join("state_files/journal")).unwrap();
    projectrestore::commit::check_journal(&journal).unwrap();
    let rc = std::fs::read_to_string(seeds.join("config/full.rc")).unwrap();
    let s = projectrestore::config::parse(Path::new("/p/.projectrestore.rc"), &rc).unwrap();
    assert_eq!(s.threshold, Some(2));
}

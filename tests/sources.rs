//! Sources (issue 15): the pipeline reads an archive and finds its sidecars only
//! through the `Source` trait, so a bucket or a peer can supply both later; pass 2
//! must read the object pass 1 read (the pin), or verification fails closed.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::repo;
use projectrestore::event::NoEvents;
use projectrestore::interact::NoInteraction;
use projectrestore::restore::{self, Options};
use projectrestore::source::{Capabilities, Input, Opened, Pin, Sibling, Source, SourceError};
use projectrestore::verify::Outcome;
use projectrestore::Category;

/// An archive in memory with its sidecars, as an object store would hold them.
/// `versions`: what each successive open returns (the last one repeats).
#[derive(Debug)]
struct Memory {
    versions: Vec<Vec<u8>>,
    siblings: BTreeMap<String, Vec<u8>>,
    opens: AtomicUsize,
    reopen_checks_pin: bool,
}

impl Memory {
    fn version(&self) -> (usize, Vec<u8>) {
        let n = self.opens.fetch_add(1, Ordering::SeqCst);
        let i = n.min(self.versions.len() - 1);
        (i, self.versions[i].clone())
    }
}

impl Source for Memory {
    fn display(&self) -> String {
        "mem://bucket/data.tar.gz".into()
    }
    fn file_name(&self) -> Option<String> {
        Some("data.tar.gz".into())
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rereadable: true,
            size_known: true,
            siblings: true,
        }
    }
    fn open(&self) -> Result<Opened, SourceError> {
        let (i, bytes) = self.version();
        Ok(Opened {
            size: Some(bytes.len() as u64),
            reader: Box::new(Cursor::new(bytes)),
            pin: Some(Pin(format!("version-{i}"))),
        })
    }
    fn reopen(&self, pin: &Pin) -> Result<Opened, SourceError> {
        let opened = self.open()?;
        if self.reopen_checks_pin && opened.pin.as_ref() != Some(pin) {
            return Err(SourceError::Changed(self.display()));
        }
        Ok(opened)
    }
    fn sibling(&self, suffix: &str, _max: u64) -> Result<Option<Sibling>, SourceError> {
        // Deliberately ignores `max`: the pipeline must not trust a source's bound.
        Ok(self.siblings.get(suffix).map(|b| Sibling {
            name: format!("mem://bucket/data.tar.gz{suffix}"),
            bytes: b.clone(),
        }))
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("fixtures/crypto").join(name)).unwrap()
}

fn memory(versions: Vec<Vec<u8>>, reopen_checks_pin: bool) -> Arc<Memory> {
    let mut siblings = BTreeMap::new();
    siblings.insert(".minisig".to_string(), fixture("data.tar.gz.minisig"));
    Arc::new(Memory {
        versions,
        siblings,
        opens: AtomicUsize::new(0),
        reopen_checks_pin,
    })
}

fn verify(source: Arc<Memory>) -> Result<projectrestore::report::Report, projectrestore::Error> {
    let opts = Options {
        input: Some(Input::Source(source)),
        trust: vec![repo().join("fixtures/crypto/trust/minisign.pub")],
        ..Options::default()
    };
    restore::run(&opts, &NoEvents, &NoInteraction::shared())
}

#[test]
fn sidecars_come_from_the_source() {
    let src = memory(vec![fixture("data.tar.gz")], true);
    let report = verify(Arc::clone(&src)).unwrap();
    assert_eq!(report.mode, projectrestore::plan::PassKind::VerifyFirst);
    assert!(matches!(
        report.signature_outcome(),
        Some(Outcome::Verified { .. })
    ));
    let sig = &report.signatures.as_ref().unwrap().signatures[0];
    assert_eq!(sig.file, "mem://bucket/data.tar.gz.minisig");
    // Two reads: the verification pass and the extraction pass.
    assert_eq!(src.opens.load(Ordering::SeqCst), 2);
}

#[test]
fn an_object_replaced_between_the_passes_is_refused_by_its_pin() {
    let mut other = fixture("data.tar.gz");
    let last = other.len() - 1;
    other[last] ^= 1;
    let src = memory(vec![fixture("data.tar.gz"), other], true);
    let err = verify(src).unwrap_err();
    assert_eq!(err.category(), Category::Verification, "{err}");
    assert!(
        err.to_string()
            .contains("changed while it was being restored"),
        "{err}"
    );
}

#[test]
fn a_source_that_ignores_its_pin_is_still_caught_by_the_pass_check() {
    // The pin is the source's promise; the keyed pass check is the proof.
    let mut other = fixture("data.tar.gz");
    let last = other.len() - 1;
    other[last] ^= 1;
    let src = memory(vec![fixture("data.tar.gz"), other], false);
    let err = verify(src).unwrap_err();
    assert_eq!(err.category(), Category::Verification, "{err}");
}

#[test]
fn an_oversized_sidecar_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("data.tar.gz");
    std::fs::write(&archive, fixture("data.tar.gz")).unwrap();
    std::fs::write(
        tmp.path().join("data.tar.gz.minisig"),
        vec![b'a'; (1 << 20) + 1],
    )
    .unwrap();
    let r = common::run_bin(
        None,
        &["verify", archive.to_str().unwrap(), "--allow-unsigned"],
        &[],
    );
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains("larger than"), "{}", r.err);
}

#[test]
fn a_source_that_returns_an_oversized_sibling_is_refused() {
    let src = memory(vec![fixture("data.tar.gz")], true);
    let mut siblings = BTreeMap::new();
    siblings.insert(".sha256".to_string(), vec![b'0'; (1 << 20) + 1]);
    let src = Arc::new(Memory {
        versions: src.versions.clone(),
        siblings,
        opens: AtomicUsize::new(0),
        reopen_checks_pin: true,
    });
    let err = verify(src).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

//! Verify-first: the archive file changing between the verification pass and the
//! extraction pass is caught (exit 4 class), whatever the change does to parsing,
//! and the destination is untouched. The change is made at the exact moment pass 2
//! starts, through the library's progress hook.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use projectrestore::event::{Event, Events, Phase};
use projectrestore::interact::NoInteraction;
use projectrestore::restore::{self, Options, PassMode};
use projectrestore::source::Input;
use projectrestore::Category;

/// Flips one byte of `path` at `offset` when the extraction pass begins.
struct Tamper {
    path: PathBuf,
    offset: u64,
    done: Mutex<bool>,
}

impl Events for Tamper {
    fn emit(&self, event: &Event) {
        if let Event::PhaseStarted {
            phase: Phase::Restoring,
            ..
        } = event
        {
            let mut done = self.done.lock().unwrap();
            if !*done {
                let mut f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&self.path)
                    .unwrap();
                let mut b = [0u8; 1];
                f.seek(SeekFrom::Start(self.offset)).unwrap();
                std::io::Read::read_exact(&mut f, &mut b).unwrap();
                f.seek(SeekFrom::Start(self.offset)).unwrap();
                f.write_all(&[b[0] ^ 0x55]).unwrap();
                *done = true;
            }
        }
    }
}

fn case(name: &str, bytes: Vec<u8>, offset: impl Fn(&[u8]) -> u64) {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join(name);
    std::fs::write(&archive, &bytes).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let sums = tmp.path().join("SHA256SUMS");
    std::fs::write(&sums, format!("{sha}  {name}\n")).unwrap();
    let dest = tmp.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("old"), b"the old tree").unwrap();
    let before = common::snapshot(&dest);
    let opts = Options {
        input: Some(Input::File(archive.clone())),
        action: restore::Action::Restore { dest: dest.clone() },
        checksum: Some(sums),
        mode: PassMode::VerifyFirst,
        yes: true,
        ..Options::default()
    };
    let tamper = Tamper {
        path: archive,
        offset: offset(&bytes),
        done: Mutex::new(false),
    };
    let err = restore::run(&opts, &tamper, &NoInteraction::shared()).unwrap_err();
    assert!(*tamper.done.lock().unwrap());
    assert_eq!(err.category(), Category::Verification, "{name}: {err}");
    assert!(
        err.to_string()
            .contains("changed while it was being restored"),
        "{err}"
    );
    assert_eq!(
        common::snapshot(&dest),
        before,
        "{name}: destination changed"
    );
    let state = tmp.path().join(".dest.projectrestore");
    assert!(common::names(&state)
        .iter()
        .all(|n| !n.starts_with("staging")));
}

fn tar() -> Vec<u8> {
    let content = vec![b'x'; 100_000];
    common::Tar::new()
        .file("a.txt", &content)
        .file("b.txt", b"bee")
        .finish()
}

#[test]
fn a_change_inside_file_data_is_caught_at_the_gate() {
    // Plain tar: the flipped byte is file content, so pass 2 parses fine and only
    // the pass check can tell.
    case("data.tar", tar(), |_| 50_000);
}

#[test]
fn a_change_that_breaks_parsing_is_still_reported_as_a_change() {
    // gzip: the flipped byte breaks the deflate stream (or its CRC) in pass 2.
    let gz = common::gzip(&tar());
    case("data.tar.gz", gz, |b| b.len() as u64 / 2);
}

#[test]
fn a_change_in_a_header_is_still_reported_as_a_change() {
    // The second entry's header: pass 2 sees a bad checksum or a different entry.
    case("data.tar", tar(), |_| 512 + 100_352 + 10);
}

/// zstd's frame checksum is skipped only when a trusted signature verified the
/// bytes: an unsigned archive (alone, or with a matching SHA-256 sidecar, which
/// anyone can write) whose frame checksum is wrong is still refused.
#[test]
fn zstd_frame_checksums_are_checked_without_a_signature() {
    use std::io::Write as _;
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_checksum(true).unwrap();
    enc.write_all(&tar()).unwrap();
    let mut bytes = enc.finish().unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff; // the XXH64 at the end of the frame
    for with_sidecar in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let archive = tmp.path().join("data.tar.zst");
        std::fs::write(&archive, &bytes).unwrap();
        if with_sidecar {
            use sha2::Digest;
            std::fs::write(
                tmp.path().join("data.tar.zst.sha256"),
                format!(
                    "{}  data.tar.zst\n",
                    hex::encode(sha2::Sha256::digest(&bytes))
                ),
            )
            .unwrap();
        }
        let dest = tmp.path().join("dest");
        let r = common::restore(&archive, &dest, &[]);
        assert_eq!(r.code, 5, "sidecar={with_sidecar}: {}", r.err);
        assert!(!dest.exists());
    }
}

//! What the fuzz targets share: the fixtures' keys, loaded once per process.

use std::path::Path;
use std::sync::OnceLock;

pub use projectrestore::fuzzing;
use projectrestore::fuzzing::Keys;

/// Run once before the first input (every target's `init:`). libfuzzer-sys
/// installs a panic hook that aborts, so that every panic is a crash. A panic
/// inside `projectrestore::contain` is not one: the tool catches it and refuses
/// the input as damaged, which is the behaviour under test (tests/decryption.rs
/// holds the attack). Every other panic still aborts and is reported.
pub fn init() {
    let crash = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !projectrestore::contain::containing() {
            crash(info);
        }
    }));
}

/// The fixtures' trust store, identities and log keys (the repository is the
/// parent of this crate). A harness without its fixtures cannot run: that is
/// a setup error, reported before any input is tried.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        match Keys::load(&repo) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("fuzz: cannot load the fixtures' keys: {e}");
                std::process::exit(2);
            }
        }
    })
}

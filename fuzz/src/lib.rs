//! What the fuzz targets share: the fixtures' keys, loaded once per process.

use std::path::Path;
use std::sync::OnceLock;

pub use projectrestore::fuzzing;
use projectrestore::fuzzing::Keys;

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

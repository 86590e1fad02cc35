//! Test hooks, compiled only with the `test-hooks` feature (`scripts/test.sh`
//! builds with it; release builds and library users do not):
//! `PROJECTRESTORE_CRASH_AT=POINT` aborts the process at a named step, exactly as
//! `kill -9` there would, and `PROJECTRESTORE_PORTABLE_FS=1` forces the portable
//! code paths (the O_NOFOLLOW walk, the two-rename swap, per-file fsync) on Linux
//! so that they are tested code. Without the feature neither variable is read: no
//! library call can abort its host, and the environment cannot change how the
//! library does I/O. This module is the only one allowed to, by name, past the
//! crate's `clippy.toml`.
#![allow(clippy::disallowed_methods)]

/// Abort here if the crash tests asked for it (with `test-hooks`; else nothing).
#[cfg(feature = "test-hooks")]
pub fn crash_point(name: &str) {
    use std::sync::OnceLock;
    static AT: OnceLock<Option<String>> = OnceLock::new();
    if AT
        .get_or_init(|| std::env::var("PROJECTRESTORE_CRASH_AT").ok())
        .as_deref()
        == Some(name)
    {
        std::process::abort();
    }
}

/// Abort here if the crash tests asked for it (with `test-hooks`; else nothing).
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn crash_point(_name: &str) {}

/// Take the portable code paths on Linux too? (With `test-hooks` and
/// `PROJECTRESTORE_PORTABLE_FS=1`; else never.)
pub fn portable() -> bool {
    #[cfg(feature = "test-hooks")]
    {
        use std::sync::OnceLock;
        static PORTABLE: OnceLock<bool> = OnceLock::new();
        *PORTABLE.get_or_init(|| {
            std::env::var_os("PROJECTRESTORE_PORTABLE_FS").is_some_and(|v| v == "1")
        })
    }
    #[cfg(not(feature = "test-hooks"))]
    false
}

/// A Wasm module to run as the sandbox's guest instead of the built one (with
/// `test-hooks` and `PROJECTRESTORE_SANDBOX_GUEST=FILE`: the tests' hostile
/// guests); else never.
pub fn sandbox_guest() -> Option<std::path::PathBuf> {
    #[cfg(feature = "test-hooks")]
    {
        std::env::var_os("PROJECTRESTORE_SANDBOX_GUEST").map(std::path::PathBuf::from)
    }
    #[cfg(not(feature = "test-hooks"))]
    None
}

/// Whether this build has the hooks (the crash tests refuse to run without them).
pub const ENABLED: bool = cfg!(feature = "test-hooks");

#[cfg(all(test, not(feature = "test-hooks")))]
mod tests {
    /// Without the feature, the crash variable is not even read: the call
    /// returns (with the hooks, this test process would abort).
    #[test]
    fn without_the_feature_no_variable_is_read() {
        std::env::set_var("PROJECTRESTORE_CRASH_AT", "after-journal");
        std::env::set_var("PROJECTRESTORE_PORTABLE_FS", "1");
        std::env::set_var("PROJECTRESTORE_SANDBOX_GUEST", "/tmp/hostile.wasm");
        super::crash_point("after-journal");
        assert!(!super::portable());
        assert!(super::sandbox_guest().is_none());
    }
}

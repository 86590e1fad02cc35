//! [`SafeRelPath`]: an archive path validated once (STYLE.md 9).
//!
//! STUB: implemented by the archive work.

/// A relative, normalised path: UTF-8, `/`-separated, no empty, `.` or `..`
/// components, no NUL or control characters, within the length limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeRelPath(String);

impl SafeRelPath {
    /// The path as a `/`-separated string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SafeRelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

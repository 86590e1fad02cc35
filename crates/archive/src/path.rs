//! [`SafeRelPath`]: an archive path validated once (STYLE.md 9).
//!
//! Archive paths are bytes. A path becomes a `SafeRelPath` only if it is UTF-8
//! (non-UTF-8 names are refused, not guessed at), relative, free of `..`, NUL and
//! control characters, and within the depth and length limits; `./` prefixes,
//! repeated and trailing slashes and interior `.` components are normalised away.

use unicode_normalization::UnicodeNormalization;

use super::Limits;

/// A relative, normalised path: UTF-8, `/`-separated, no empty, `.` or `..`
/// components, no NUL or control characters, within the length limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeRelPath(String);

/// Why a path was refused: the rule's text, and the limit flag when it is a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// A rule of the entry policy.
    Rule(&'static str),
    /// A limit: what, the value, the limit, which limit.
    Limit(&'static str, u64, u64, crate::LimitKind),
}

/// Is this character refused in names? C0 and C1 controls and DEL.
fn is_control(c: char) -> bool {
    c.is_control()
}

/// A name that is traversal or confusion on another supported platform
/// (issue 14, item 14): `..` between backslashes (Windows separates paths with
/// them), and names whose compatibility normalisation (NFKC) is `.` or `..` or
/// holds a separator (fullwidth full stops, one-dot leaders, fullwidth solidus).
pub(crate) fn confusable(name: &str) -> Result<(), PathError> {
    if name.contains('\\') && name.split('\\').any(|seg| seg == "..") {
        return Err(PathError::Rule(
            "a backslash-separated '..' (a path traversal on Windows)",
        ));
    }
    if name.is_ascii() {
        return Ok(());
    }
    for seg in name.split('\\') {
        let folded: String = seg.nfkc().collect();
        if folded == "." || folded == ".." {
            return Err(PathError::Rule(
                "a name that normalises (NFKC) to '.' or '..'",
            ));
        }
        if folded.contains('/') || folded.contains('\\') {
            return Err(PathError::Rule(
                "a name that normalises (NFKC) to one with a path separator",
            ));
        }
    }
    Ok(())
}

impl SafeRelPath {
    /// Validate raw archive bytes. `Ok(None)` is the archive root (`.`, `./`).
    pub fn parse(raw: &[u8], limits: &Limits) -> Result<Option<SafeRelPath>, PathError> {
        if raw.contains(&0) {
            return Err(PathError::Rule("the name contains a NUL byte"));
        }
        let s =
            std::str::from_utf8(raw).map_err(|_| PathError::Rule("the name is not valid UTF-8"))?;
        if s.chars().any(is_control) {
            return Err(PathError::Rule("the name contains control characters"));
        }
        if s.starts_with('/') {
            return Err(PathError::Rule("absolute path"));
        }
        if raw.len() > limits.max_path_bytes {
            return Err(PathError::Limit(
                "path length",
                raw.len() as u64,
                limits.max_path_bytes as u64,
                crate::LimitKind::PathLength,
            ));
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in s.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(PathError::Rule("the path contains '..'")),
                p => {
                    confusable(p)?;
                    if p.len() > limits.max_name_bytes {
                        return Err(PathError::Limit(
                            "name length",
                            p.len() as u64,
                            limits.max_name_bytes as u64,
                            crate::LimitKind::NameLength,
                        ));
                    }
                    parts.push(p);
                }
            }
        }
        if parts.len() > limits.max_depth {
            return Err(PathError::Limit(
                "path depth",
                parts.len() as u64,
                limits.max_depth as u64,
                crate::LimitKind::Depth,
            ));
        }
        if parts.is_empty() {
            return Ok(None);
        }
        Ok(Some(SafeRelPath(parts.join("/"))))
    }

    /// The path as a `/`-separated string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The components.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The number of components.
    pub fn depth(&self) -> usize {
        self.components().count()
    }

    /// The parent, or `None` for a top-level name.
    pub fn parent(&self) -> Option<SafeRelPath> {
        self.0
            .rsplit_once('/')
            .map(|(p, _)| SafeRelPath(p.to_string()))
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit_once('/').map_or(self.0.as_str(), |(_, n)| n)
    }

    /// Every proper ancestor, outermost first (`a`, `a/b` for `a/b/c`).
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(|(i, _)| &self.0[..i])
    }

    /// Drop `n` leading components; `None` if nothing is left.
    pub fn strip(&self, n: usize) -> Option<SafeRelPath> {
        if n == 0 {
            return Some(self.clone());
        }
        let mut it = self.0.splitn(n + 1, '/');
        for _ in 0..n {
            it.next();
        }
        it.next().map(|rest| SafeRelPath(rest.to_string()))
    }

    /// The key under which two spellings of one name collide: the NFC form.
    pub fn fold_key(&self) -> String {
        fold_key(&self.0)
    }
}

/// The NFC form of a path string (NFC and NFD spellings of one name are one path).
pub fn fold_key(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        s.nfc().collect()
    }
}

impl std::fmt::Display for SafeRelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<Option<String>, PathError> {
        SafeRelPath::parse(s.as_bytes(), &Limits::default()).map(|o| o.map(|p| p.0))
    }

    #[test]
    fn normalises() {
        assert_eq!(p("./a//b/./c/"), Ok(Some("a/b/c".into())));
        assert_eq!(p("./"), Ok(None));
        assert_eq!(p("."), Ok(None));
    }

    #[test]
    fn refuses() {
        assert_eq!(p("/etc/passwd"), Err(PathError::Rule("absolute path")));
        assert_eq!(
            p("a/../../b"),
            Err(PathError::Rule("the path contains '..'"))
        );
        assert_eq!(p(".."), Err(PathError::Rule("the path contains '..'")));
        assert!(matches!(p("a\u{1b}[2J"), Err(PathError::Rule(_))));
        assert!(
            matches!(p("a\u{85}b"), Err(PathError::Rule(_))),
            "C1 control"
        );
        assert!(SafeRelPath::parse(b"a\xffb", &Limits::default()).is_err());
        assert!(SafeRelPath::parse(b"a\0b", &Limits::default()).is_err());
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_depth: 2,
            max_name_bytes: 3,
            max_path_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            SafeRelPath::parse(b"a/b/c", &l),
            Err(PathError::Limit("path depth", 3, 2, _))
        ));
        assert!(matches!(
            SafeRelPath::parse(b"abcd", &l),
            Err(PathError::Limit("name length", 4, 3, _))
        ));
        assert!(matches!(
            SafeRelPath::parse(b"a/b/ccc/dd/e", &l),
            Err(PathError::Limit("path length", ..))
        ));
    }

    #[test]
    fn strip_and_ancestors() {
        let x = SafeRelPath("a/b/c".into());
        assert_eq!(x.strip(1).unwrap().as_str(), "b/c");
        assert_eq!(x.strip(3), None);
        assert_eq!(x.ancestors().collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(x.parent().unwrap().as_str(), "a/b");
        assert_eq!(x.file_name(), "c");
    }

    #[test]
    fn nfc_and_nfd_fold_together() {
        let nfc = SafeRelPath::parse("caf\u{e9}".as_bytes(), &Limits::default())
            .unwrap()
            .unwrap();
        let nfd = SafeRelPath::parse("cafe\u{301}".as_bytes(), &Limits::default())
            .unwrap()
            .unwrap();
        assert_ne!(nfc, nfd);
        assert_eq!(nfc.fold_key(), nfd.fold_key());
    }

    proptest! {
        #[test]
        fn never_escapes(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(Some(path)) = SafeRelPath::parse(&raw, &Limits::default()) {
                prop_assert!(!path.as_str().starts_with('/'));
                prop_assert!(path.components().all(|c| !c.is_empty() && c != "." && c != ".."));
            }
        }

        #[test]
        fn dotted_paths_never_escape(parts in proptest::collection::vec(prop_oneof![Just(".."), Just("."), Just(""), Just("a"), Just("b")], 0..8)) {
            let raw = parts.join("/");
            if let Ok(Some(path)) = SafeRelPath::parse(raw.as_bytes(), &Limits::default()) {
                prop_assert!(path.components().all(|c| c == "a" || c == "b"));
            }
        }
    }
}

//! Partial restores: which entries are written (`restore ARCHIVE PATH…`,
//! `--include GLOB`, `--exclude GLOB`, restic's names). The selection is a
//! sink in front of the real one: every entry of the archive still passes the
//! validator and every byte is still verified (signatures cover the whole
//! archive); entries outside the selection are read and dropped. The parents
//! of a selected entry are made as directories when the archive's own entries
//! for them were not selected.
//!
//! What a partial restore does to the destination is explicit: by default the
//! selection becomes a new tree at `--to` (missing or empty); replacing a tree
//! that is there with only the selection needs `replace` (the replaced tree is
//! kept as a generation, as always).

use std::collections::HashSet;
use std::io::{self, Read};

use crate::archive::{EntryKind, SafeEntry, SafeRelPath, Sink};

/// Which entries a restore writes; empty selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    paths: Vec<String>,
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
    /// Replace a non-empty destination with only the selection.
    pub replace: bool,
}

/// A selection that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SelectError<E> {
    /// The sink behind the selection failed.
    #[error(transparent)]
    Inner(E),
    /// Reading an entry that is not selected failed.
    #[error(transparent)]
    Io(io::Error),
    /// A selected hard link whose target is not selected.
    #[error(
        "{link} is a hard link to {target}, which the selection leaves out; select {target} too"
    )]
    HardlinkTarget { link: String, target: String },
}

impl Selection {
    /// From PATH arguments (entries at or beneath them, after
    /// `--strip-components`) and glob patterns (a pattern without `/` also
    /// matches a base name; a match on a directory covers what is beneath it).
    pub fn new(paths: &[String], include: &[String], exclude: &[String]) -> Result<Self, String> {
        let glob = |p: &String| {
            if p.is_empty() || p.starts_with('/') {
                return Err(format!(
                    "{:?}: a pattern matches paths inside the archive (relative, as `ls` shows them)",
                    crate::report::escape(p)
                ));
            }
            // Spelled as paths are (`secret/`, `a//b`, `./a`): else it matches nothing.
            let normal: Vec<&str> = p
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            if normal.is_empty() {
                return Err(format!("{:?} matches no path", crate::report::escape(p)));
            }
            glob::Pattern::new(&normal.join("/"))
                .map_err(|e| format!("{:?} is not a valid glob: {e}", crate::report::escape(p)))
        };
        let paths = paths
            .iter()
            .map(|raw| {
                // `./a//b/` is `a/b`; absolute paths, `..` and nothing are not paths inside.
                let parts: Vec<&str> = raw
                    .split('/')
                    .filter(|c| !c.is_empty() && *c != ".")
                    .collect();
                if raw.starts_with('/') || parts.is_empty() || parts.contains(&"..") {
                    Err(format!(
                        "{:?} is not a path inside the archive (relative, as `ls` shows them)",
                        crate::report::escape(raw)
                    ))
                } else {
                    Ok(parts.join("/"))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Selection {
            paths,
            include: include.iter().map(glob).collect::<Result<_, _>>()?,
            exclude: exclude.iter().map(glob).collect::<Result<_, _>>()?,
            replace: false,
        })
    }

    /// Does it select everything (a whole restore)?
    pub fn is_all(&self) -> bool {
        self.paths.is_empty() && self.include.is_empty() && self.exclude.is_empty()
    }

    /// Is the entry at `path` (a validated, stripped path) selected?
    pub fn selects(&self, path: &str) -> bool {
        // `*` stays within a component; `**` crosses them.
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let covers = |pat: &glob::Pattern| {
            let no_slash = !pat.as_str().contains('/');
            let mut here = Some(path);
            while let Some(p) = here {
                let base = p.rsplit('/').next().unwrap_or(p);
                if pat.matches_with(p, opts) || (no_slash && pat.matches_with(base, opts)) {
                    return true;
                }
                here = p.rsplit_once('/').map(|(up, _)| up);
            }
            false
        };
        if self.exclude.iter().any(covers) {
            return false;
        }
        if self.paths.is_empty() && self.include.is_empty() {
            return true;
        }
        self.paths.iter().any(|p| {
            path == p
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        }) || self.include.iter().any(covers)
    }
}

/// The selection in front of `inner`; `written` counts what reached it.
pub struct Selecting<'a, S> {
    inner: &'a mut S,
    selection: &'a Selection,
    dirs: HashSet<String>,
    /// Directories the archive had but the selection left out: their mode,
    /// time and owner, for when they are made as parents.
    left_out: std::collections::HashMap<String, (u32, i64, u64, u64)>,
    given: HashSet<String>,
    /// Entries given to the sink behind (parents made for them included).
    pub written: crate::archive::Summary,
}

impl<'a, S> Selecting<'a, S> {
    pub fn new(inner: &'a mut S, selection: &'a Selection) -> Self {
        Selecting {
            inner,
            selection,
            dirs: HashSet::new(),
            left_out: std::collections::HashMap::new(),
            given: HashSet::new(),
            written: crate::archive::Summary::default(),
        }
    }
}

impl<S: Sink> Sink for Selecting<'_, S> {
    type Error = SelectError<S::Error>;

    fn entry(&mut self, entry: &SafeEntry, data: &mut dyn Read) -> Result<(), Self::Error> {
        let path = entry.path.as_str();
        if !self.selection.selects(path) {
            if entry.kind == EntryKind::Dir {
                let attrs = (entry.mode, entry.mtime, entry.uid, entry.gid);
                self.left_out.insert(path.to_string(), attrs);
            }
            io::copy(data, &mut io::sink()).map_err(SelectError::Io)?;
            return Ok(());
        }
        if entry.kind == EntryKind::Dir && self.dirs.contains(path) {
            // Made already as a parent (its entry came after a child's): not twice.
            return Ok(());
        }
        // Parents whose own entries were left out, outermost first.
        let mut parents = Vec::new();
        let mut up = entry.path.parent();
        while let Some(p) = up {
            if self.dirs.contains(p.as_str()) {
                break;
            }
            up = p.parent();
            parents.push(p);
        }
        for p in parents.into_iter().rev() {
            self.make_dir(p, entry)?;
        }
        if let EntryKind::Hardlink { target } = &entry.kind {
            if !self.given.contains(target.as_str()) {
                return Err(SelectError::HardlinkTarget {
                    link: crate::report::escape(path),
                    target: crate::report::escape(target.as_str()),
                });
            }
        }
        self.inner.entry(entry, data).map_err(SelectError::Inner)?;
        self.count(&entry.kind);
        self.given.insert(path.to_string());
        if entry.kind == EntryKind::Dir {
            self.dirs.insert(path.to_string());
        }
        Ok(())
    }
}

impl<S: Sink> Selecting<'_, S> {
    fn make_dir(
        &mut self,
        path: SafeRelPath,
        child: &SafeEntry,
    ) -> Result<(), SelectError<S::Error>> {
        // As the archive had it, when its entry came; else private (0700)
        // rather than a guess that could open up a directory meant to be closed.
        let (mode, mtime, uid, gid) = self.left_out.get(path.as_str()).copied().unwrap_or((
            0o700,
            child.mtime,
            child.uid,
            child.gid,
        ));
        let dir = SafeEntry {
            path,
            kind: EntryKind::Dir,
            mode,
            mtime,
            uid,
            gid,
        };
        self.inner
            .entry(&dir, &mut io::empty())
            .map_err(SelectError::Inner)?;
        self.count(&EntryKind::Dir);
        self.dirs.insert(dir.path.as_str().to_string());
        self.given.insert(dir.path.as_str().to_string());
        Ok(())
    }

    fn count(&mut self, kind: &EntryKind) {
        let w = &mut self.written;
        match kind {
            EntryKind::File { size } => {
                w.files += 1;
                w.bytes += size;
            }
            EntryKind::Dir => w.dirs += 1,
            EntryKind::Symlink { .. } => w.symlinks += 1,
            EntryKind::Hardlink { .. } => w.hardlinks += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(paths: &[&str], inc: &[&str], exc: &[&str]) -> Selection {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Selection::new(&s(paths), &s(inc), &s(exc)).unwrap()
    }

    #[test]
    fn paths_select_themselves_and_what_is_beneath() {
        let s = sel(&["src/util/"], &[], &[]);
        assert!(s.selects("src/util") && s.selects("src/util/a.py"));
        assert!(!s.selects("src") && !s.selects("src/utility.py") && !s.selects("README.md"));
    }

    #[test]
    fn paths_are_normalised_and_outside_paths_refused() {
        let s = sel(&["./a//b/"], &[], &[]);
        assert!(s.selects("a/b/c"));
        for bad in ["/etc", ".", "./", "", "a/../b"] {
            assert!(Selection::new(&[bad.into()], &[], &[]).is_err(), "{bad:?}");
        }
        for bad in ["", "/b/*"] {
            assert!(Selection::new(&[], &[bad.into()], &[]).is_err(), "{bad:?}");
            assert!(Selection::new(&[], &[], &[bad.into()]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn patterns_are_spelled_as_paths_are() {
        let s = sel(&[], &[], &["secret/"]);
        assert!(!s.selects("secret/key"), "a trailing slash still excludes");
        let s = sel(&[], &[], &["./a//b"]);
        assert!(!s.selects("a/b/c"));
    }

    #[test]
    fn a_star_stays_in_its_component() {
        let s = sel(&[], &[], &["b/*.txt"]);
        assert!(!s.selects("b/c.txt"));
        assert!(s.selects("b/c/d.txt"), "* does not cross /");
        let s = sel(&[], &[], &["b/**/*.txt"]);
        assert!(!s.selects("b/c/d.txt"));
    }

    #[test]
    fn globs_match_paths_base_names_and_subtrees() {
        let s = sel(&[], &["*.py"], &["src/util"]);
        assert!(s.selects("src/main.py"));
        assert!(!s.selects("src/util/helpers.py"), "excluded subtree");
        assert!(!s.selects("README.md"));
        let s = sel(&[], &[], &["*.log"]);
        assert!(s.selects("a/b.txt") && !s.selects("a/b.log"));
        assert!(Selection::new(&["../x".into()], &[], &[]).is_err());
        assert!(Selection::new(&[], &["[".into()], &[]).is_err());
    }
}

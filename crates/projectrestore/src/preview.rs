//! Preview: what a restore would change in the destination, found during the full
//! verified pass without writing anything. Files are compared by content hash.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::{EntryKind, SafeEntry, Sink};

/// Files up to this size are kept for `--diff`.
const DIFF_MAX_BYTES: u64 = 256 * 1024;
/// Lines of one file's diff shown before it is cut.
const DIFF_MAX_LINES: usize = 200;

/// One changed path.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub path: String,
    /// "file", "dir", "symlink".
    pub kind: &'static str,
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
    /// Octal.
    pub old_mode: Option<String>,
    pub new_mode: Option<String>,
    /// Unified diff (with `--diff`, text files), or a note why there is none.
    pub diff: Option<String>,
}

/// What a restore would do to the destination.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    pub destination: String,
    pub added: Vec<Change>,
    pub removed: Vec<Change>,
    pub modified: Vec<Change>,
    pub mode_changed: Vec<Change>,
    /// Paths that would stay exactly as they are.
    pub unchanged: u64,
    pub totals: Totals,
}

/// Sums over the changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub added_bytes: u64,
    pub removed_bytes: u64,
    pub modified_old_bytes: u64,
    pub modified_new_bytes: u64,
}

impl Preview {
    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.modified.is_empty()
            && self.mode_changed.is_empty()
    }
}

#[derive(Debug, Clone)]
struct Existing {
    kind: &'static str,
    mode: u32,
    size: u64,
    target: Option<String>,
}

/// A sink that compares each entry with the destination and writes nothing.
pub struct PreviewSink {
    dest: PathBuf,
    diff: bool,
    existing: BTreeMap<String, Existing>,
    seen: HashSet<String>,
    /// Content hash of each archive file (for hard links).
    hashes: HashMap<String, ([u8; 32], u64)>,
    out: Preview,
}

fn mode(m: u32) -> Option<String> {
    Some(format!("{:04o}", m & 0o7777))
}

fn walk(root: &Path, rel: &str, out: &mut BTreeMap<String, Existing>) -> io::Result<()> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    for e in std::fs::read_dir(&dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        // DirEntry::metadata does not follow symlinks.
        let m = e.metadata()?;
        let ft = m.file_type();
        let (kind, target) = if ft.is_symlink() {
            let t = std::fs::read_link(e.path())?;
            ("symlink", Some(t.to_string_lossy().into_owned()))
        } else if ft.is_dir() {
            ("dir", None)
        } else if ft.is_file() {
            ("file", None)
        } else {
            ("other", None)
        };
        out.insert(
            path.clone(),
            Existing {
                kind,
                mode: m.mode(),
                size: if ft.is_file() { m.len() } else { 0 },
                target,
            },
        );
        if ft.is_dir() {
            walk(root, &path, out)?;
        }
    }
    Ok(())
}

fn hash_file(path: &Path, keep: bool) -> io::Result<([u8; 32], Option<Vec<u8>>)> {
    let mut f = File::options()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    hash_reader(&mut f, keep)
}

fn hash_reader(r: &mut dyn Read, keep: bool) -> io::Result<([u8; 32], Option<Vec<u8>>)> {
    let mut h = Sha256::new();
    let mut kept = keep.then(Vec::new);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
    }
    Ok((h.finalize().into(), kept))
}

fn text(b: &[u8]) -> Option<&str> {
    if b.contains(&0) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

fn unified(path: &str, old: &[u8], new: &[u8]) -> String {
    let (Some(a), Some(b)) = (text(old), text(new)) else {
        return format!("Binary files a/{path} and b/{path} differ\n");
    };
    let diff = similar::TextDiff::from_lines(a, b);
    let full = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    let lines: Vec<&str> = full.lines().collect();
    if lines.len() <= DIFF_MAX_LINES {
        return full;
    }
    let mut s = lines[..DIFF_MAX_LINES].join("\n");
    s.push_str(&format!(
        "\n... diff truncated: {} more lines\n",
        lines.len() - DIFF_MAX_LINES
    ));
    s
}

impl PreviewSink {
    /// Read the destination's current tree (without following symlinks).
    pub fn new(dest: &Path, diff: bool) -> io::Result<Self> {
        let mut existing = BTreeMap::new();
        match std::fs::symlink_metadata(dest) {
            Ok(m) if m.is_dir() => walk(dest, "", &mut existing)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a directory", dest.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(PreviewSink {
            dest: dest.to_path_buf(),
            diff,
            existing,
            seen: HashSet::new(),
            hashes: HashMap::new(),
            out: Preview {
                destination: dest.display().to_string(),
                ..Preview::default()
            },
        })
    }

    fn added(&mut self, path: &str, kind: &'static str, size: Option<u64>, m: u32) {
        self.out.totals.added_bytes += size.unwrap_or(0);
        self.out.added.push(Change {
            path: path.to_string(),
            kind,
            old_size: None,
            new_size: size,
            old_mode: None,
            new_mode: mode(m),
            diff: None,
        });
    }

    fn file(
        &mut self,
        path: &str,
        e: &SafeEntry,
        hash: [u8; 32],
        size: u64,
        content: Option<Vec<u8>>,
    ) -> io::Result<()> {
        let Some(old) = self.existing.get(path).cloned() else {
            self.added(path, "file", Some(size), e.mode);
            return Ok(());
        };
        if old.kind != "file" {
            self.type_changed(path, &old, "file", Some(size), e.mode);
            return Ok(());
        }
        let want_diff = self.diff && old.size <= DIFF_MAX_BYTES && content.is_some();
        let (old_hash, old_content) = hash_file(&self.dest.join(path), want_diff)?;
        if old_hash != hash {
            let diff = if !self.diff {
                None
            } else {
                match (old_content, content) {
                    (Some(a), Some(b)) => Some(unified(path, &a, &b)),
                    _ => Some(format!(
                        "(not diffed: larger than {} KiB)\n",
                        DIFF_MAX_BYTES / 1024
                    )),
                }
            };
            self.out.totals.modified_old_bytes += old.size;
            self.out.totals.modified_new_bytes += size;
            self.out.modified.push(Change {
                path: path.to_string(),
                kind: "file",
                old_size: Some(old.size),
                new_size: Some(size),
                old_mode: mode(old.mode),
                new_mode: mode(e.mode),
                diff,
            });
        } else {
            self.mode_or_same(path, "file", &old, e.mode, Some(size));
        }
        Ok(())
    }

    fn mode_or_same(
        &mut self,
        path: &str,
        kind: &'static str,
        old: &Existing,
        m: u32,
        size: Option<u64>,
    ) {
        if old.mode & 0o7777 != m & 0o7777 {
            self.out.mode_changed.push(Change {
                path: path.to_string(),
                kind,
                old_size: size,
                new_size: size,
                old_mode: mode(old.mode),
                new_mode: mode(m),
                diff: None,
            });
        } else {
            self.out.unchanged += 1;
        }
    }

    fn type_changed(
        &mut self,
        path: &str,
        old: &Existing,
        kind: &'static str,
        size: Option<u64>,
        m: u32,
    ) {
        self.out.totals.modified_old_bytes += old.size;
        self.out.totals.modified_new_bytes += size.unwrap_or(0);
        self.out.modified.push(Change {
            path: path.to_string(),
            kind,
            old_size: Some(old.size),
            new_size: size,
            old_mode: mode(old.mode),
            new_mode: mode(m),
            diff: Some(format!("(a {} becomes a {kind})\n", old.kind)),
        });
    }

    /// Add what would be removed and return the preview.
    pub fn finish(mut self) -> Preview {
        let gone: Vec<(String, Existing)> = self
            .existing
            .iter()
            .filter(|(p, _)| !self.seen.contains(*p))
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect();
        for (p, e) in gone {
            self.out.totals.removed_bytes += e.size;
            self.out.removed.push(Change {
                path: p,
                kind: e.kind,
                old_size: (e.kind == "file").then_some(e.size),
                new_size: None,
                old_mode: mode(e.mode),
                new_mode: None,
                diff: None,
            });
        }
        self.out
    }
}

impl Sink for PreviewSink {
    type Error = io::Error;

    fn entry(&mut self, e: &SafeEntry, data: &mut dyn Read) -> Result<(), io::Error> {
        let path = e.path.as_str().to_string();
        // Synthetic parents and repeated directories are seen once.
        if !self.seen.insert(path.clone()) && matches!(e.kind, EntryKind::Dir) {
            return Ok(());
        }
        match &e.kind {
            EntryKind::File { size } => {
                let keep = self.diff && *size <= DIFF_MAX_BYTES;
                let (hash, content) = hash_reader(data, keep)?;
                self.hashes.insert(path.clone(), (hash, *size));
                self.file(&path, e, hash, *size, content)?;
            }
            EntryKind::Hardlink { target } => {
                let (hash, size) = self
                    .hashes
                    .get(target.as_str())
                    .copied()
                    .unwrap_or(([0u8; 32], 0));
                self.file(&path, e, hash, size, None)?;
            }
            EntryKind::Dir => match self.existing.get(&path).cloned() {
                None => self.added(&path, "dir", None, e.mode),
                Some(old) if old.kind == "dir" => {
                    self.mode_or_same(&path, "dir", &old, e.mode, None)
                }
                Some(old) => self.type_changed(&path, &old, "dir", None, e.mode),
            },
            EntryKind::Symlink { target } => match self.existing.get(&path).cloned() {
                None => self.added(&path, "symlink", None, 0o777),
                Some(old) if old.kind == "symlink" => {
                    if old.target.as_deref() == Some(target.as_str()) {
                        self.out.unchanged += 1;
                    } else {
                        self.out.modified.push(Change {
                            path: path.clone(),
                            kind: "symlink",
                            old_size: None,
                            new_size: None,
                            old_mode: None,
                            new_mode: None,
                            diff: Some(format!(
                                "-> {} becomes -> {}\n",
                                old.target.unwrap_or_default(),
                                target
                            )),
                        });
                    }
                }
                Some(old) => self.type_changed(&path, &old, "symlink", None, 0o777),
            },
        }
        Ok(())
    }
}

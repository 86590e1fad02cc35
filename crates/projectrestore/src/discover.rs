//! Latest-backup discovery in a projectclone backup directory.
//!
//! projectclone names archives `YYYY-MM-DD_HHMMSS-PROJECT-NOTE.tar.gz` and writes
//! `.sha256` sidecars and `backup_*.log` files beside them; only archives are listed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::source::SourceError;

/// projectclone's naming (and its encrypted or zstd variants).
pub const DEFAULT_PATTERN: &str = "????-??-??_??????-*.tar*";

/// Sidecar suffixes that are never archives themselves.
pub const SIDECARS: [&str; 4] = ["sha256", "minisig", "sig", "asc"];

/// One archive in a backup directory.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Backup {
    /// Full path.
    pub path: PathBuf,
    /// File name (escaped for display).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// The time in the name (`YYYY-MM-DDTHH:MM:SS`, local time: the name
    /// carries no offset), if it follows projectclone's naming.
    pub archive_time: Option<String>,
    /// Modification time, RFC 3339.
    pub modified: String,
    /// Which sidecars exist: `sha256`, `minisig`, `sig`, `asc`.
    pub sidecars: Vec<&'static str>,
    #[serde(skip)]
    sort_key: (String, SystemTime),
    /// The name as stored (not escaped), for opening it.
    #[serde(skip)]
    raw_name: String,
}

impl Backup {
    /// A listed archive: where it is, its stored name, size, modification time
    /// and the sidecars beside it.
    pub fn new(
        path: PathBuf,
        name: &str,
        size: u64,
        modified: SystemTime,
        sidecars: Vec<&'static str>,
    ) -> Self {
        let date = name_date(name);
        Backup {
            name: crate::report::escape(name),
            size,
            modified: humantime::format_rfc3339_seconds(modified).to_string(),
            sidecars,
            sort_key: (date.clone().unwrap_or_default(), modified),
            archive_time: date,
            path,
            raw_name: name.to_string(),
        }
    }

    /// The name as stored.
    pub fn raw_name(&self) -> &str {
        &self.raw_name
    }
}

/// `pattern` as a glob, or a message saying why it is not one.
pub fn glob(pattern: &str) -> Result<glob::Pattern, SourceError> {
    glob::Pattern::new(pattern).map_err(|e| {
        SourceError::NotFound(format!("--pattern {pattern:?} is not a valid glob: {e}"))
    })
}

/// Does `name` match `glob` and name an archive (not a sidecar or a log)?
pub fn is_archive_name(glob: &glob::Pattern, name: &str) -> bool {
    glob.matches(name)
        && !SIDECARS.iter().any(|s| name.ends_with(&format!(".{s}")))
        && !(name.starts_with("backup_") && name.ends_with(".log"))
}

/// Newest first: by the time in the name, then by modification time.
pub fn sort_newest_first(list: &mut [Backup]) {
    list.sort_by(|a, b| b.sort_key.cmp(&a.sort_key));
}

/// `~/project_backups`, for `home` (the caller's `$HOME`).
pub fn default_backup_dir(home: Option<&Path>) -> PathBuf {
    home.map(Path::to_path_buf)
        .unwrap_or_default()
        .join("project_backups")
}

/// The archives in `dir` whose names match `pattern`, newest first.
pub fn list(dir: &Path, pattern: &str) -> Result<Vec<Backup>, SourceError> {
    let glob = glob(pattern)?;
    let io_err = |source| SourceError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_archive_name(&glob, &name) {
            continue;
        }
        let meta = entry.metadata().map_err(io_err)?;
        if !meta.is_file() {
            continue;
        }
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let path = entry.path();
        let sidecars = SIDECARS
            .iter()
            .copied()
            .filter(|s| {
                let mut n = path.as_os_str().to_os_string();
                n.push(format!(".{s}"));
                Path::new(&n).is_file()
            })
            .collect();
        out.push(Backup::new(path, &name, meta.len(), modified, sidecars));
    }
    sort_newest_first(&mut out);
    Ok(out)
}

/// The newest archive in `dir` matching `pattern`.
pub fn latest(dir: &Path, pattern: &str) -> Result<Backup, SourceError> {
    DirCatalog::new(dir).latest(pattern)
}

/// Where backups are listed and opened from: a local directory
/// ([`DirCatalog`]) today, a bucket prefix or a peer later. `audit` and "the
/// newest backup" work on any catalog.
pub trait Catalog {
    /// Where it lists from, for messages.
    fn display(&self) -> String;
    /// The archives matching `pattern`, newest first.
    fn list(&self, pattern: &str) -> Result<Vec<Backup>, SourceError>;
    /// The newest archive matching `pattern`.
    fn latest(&self, pattern: &str) -> Result<Backup, SourceError> {
        self.list(pattern)?.into_iter().next().ok_or_else(|| {
            SourceError::NotFound(format!(
                "no archive matching {pattern:?} in {}; give the archive path, or --backup-dir/--pattern",
                self.display()
            ))
        })
    }
    /// The input that reads `backup` (and finds its sidecars).
    fn input(&self, backup: &Backup) -> crate::source::Input;
}

/// A backup directory on the local file system.
#[derive(Debug, Clone)]
pub struct DirCatalog {
    pub dir: PathBuf,
}

impl DirCatalog {
    pub fn new(dir: &Path) -> Self {
        DirCatalog {
            dir: dir.to_path_buf(),
        }
    }
}

impl Catalog for DirCatalog {
    fn display(&self) -> String {
        self.dir.display().to_string()
    }
    fn list(&self, pattern: &str) -> Result<Vec<Backup>, SourceError> {
        list(&self.dir, pattern)
    }
    fn input(&self, backup: &Backup) -> crate::source::Input {
        crate::source::Input::File(backup.path.clone())
    }
}

/// `2024-01-31_235959-…` → `2024-01-31T23:59:59` (local time, as the log's
/// `archive_time`: the name carries no offset).
fn name_date(name: &str) -> Option<String> {
    let b = name.as_bytes();
    if b.len() < 17 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'_'
        && digits(11..17);
    shape.then(|| {
        format!(
            "{}T{}:{}:{}",
            &name[0..10],
            &name[11..13],
            &name[13..15],
            &name[15..17]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_and_sidecars_are_not_archives() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "2024-01-01_120000-proj-a.tar.gz",
            "2024-03-01_090000-proj-b.tar.gz",
            "2024-03-01_090000-proj-b.tar.gz.sha256",
            "2024-02-01_000000-proj-c.tar.zst",
            "backup_2024-03-01.log",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        let list = list(dir.path(), DEFAULT_PATTERN).unwrap();
        let names: Vec<_> = list.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "2024-03-01_090000-proj-b.tar.gz",
                "2024-02-01_000000-proj-c.tar.zst",
                "2024-01-01_120000-proj-a.tar.gz"
            ]
        );
        assert_eq!(list[0].sidecars, ["sha256"]);
        assert_eq!(list[0].archive_time.as_deref(), Some("2024-03-01T09:00:00"));
        assert_eq!(latest(dir.path(), DEFAULT_PATTERN).unwrap().name, names[0]);
    }

    #[test]
    fn empty_directory_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = latest(dir.path(), DEFAULT_PATTERN).unwrap_err().to_string();
        assert!(err.contains("no archive matching"), "{err}");
    }
}

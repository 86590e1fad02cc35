//! The staging writer: every validated entry is created beneath the private staging
//! directory, never following a symlink (invariant 3).
//!
//! Files are created with `O_CREAT | O_EXCL | O_NOFOLLOW` through
//! [`crate::fs::open_beneath`], written through one reusable buffer, then given
//! their mode and time. Directories are created owner-writable and get their
//! archive mode and time in [`StagingWriter::finish`], deepest first. Durability is
//! one `syncfs` of the staging file system, not one fsync per file.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};

use crate::fs::{kind_at, open_beneath, open_parent, sync_filesystem};
use projectrestore_archive::{EntryKind, SafeEntry, Sink};

/// Options for writing entries.
#[derive(Debug, Clone, Default)]
pub struct StageOptions {
    /// Apply archive ownership (only honoured when running as root).
    pub same_owner: bool,
}

/// What the staging writer wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageStats {
    /// Bytes written to files.
    pub bytes: u64,
    /// Warnings (e.g. modes the file system could not keep).
    pub warnings: Vec<String>,
}

/// A failure while writing staging.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// An I/O operation failed (exit 1), e.g. ENOSPC.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
    /// The destination file system cannot hold this entry (exit 5).
    #[error("entry {path} cannot be created here: {why}")]
    Unsupported { path: String, why: String },
}

/// Buffer for copying file data: large enough that a read is one decompressed chunk.
const COPY_BUFFER: usize = 256 << 10;

/// Writes entries into a staging directory.
#[derive(Debug)]
pub struct StagingWriter {
    root: OwnedFd,
    options: StageOptions,
    stats: StageStats,
    /// Directories whose mode and time are applied at the end.
    dirs: Vec<(String, u32, i64)>,
    buf: Vec<u8>,
    as_root: bool,
    /// One syncfs at the end covers every file (Linux); else fsync each.
    syncfs: bool,
    traits: FsTraits,
}

/// What the staging (and so the destination's) file system does to names and modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FsTraits {
    /// `README` and `readme` are one name (APFS and HFS+ by default, exFAT, vfat, ext4 casefold).
    pub folds_case: bool,
    /// NFC and NFD spellings are one name (APFS, HFS+).
    pub folds_normalization: bool,
    /// `chmod` is kept (not on exFAT or vfat).
    pub keeps_modes: bool,
}

impl Default for FsTraits {
    fn default() -> Self {
        FsTraits {
            folds_case: false,
            folds_normalization: false,
            keeps_modes: true,
        }
    }
}

/// Find out, with a probe file in `dir` (removed again), whether the file system
/// folds case or Unicode normalization and whether it keeps modes.
pub fn probe(dir: BorrowedFd<'_>) -> io::Result<FsTraits> {
    const NAME: &str = ".projectrestore-probe-Ab\u{e9}";
    const OTHER_CASE: &str = ".projectrestore-probe-aB\u{e9}";
    const NFD: &str = ".projectrestore-probe-Abe\u{301}";
    let fd = rfs::openat(
        dir,
        NAME,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(io::Error::from)?;
    let result = (|| {
        rfs::fchmod(&fd, Mode::from_raw_mode(0o640)).map_err(io::Error::from)?;
        let st = rfs::fstat(&fd).map_err(io::Error::from)?;
        let same = |name: &str| -> io::Result<bool> {
            match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                // Staging is new and private: the probe is the only file there, so
                // any hit is the probe under another spelling. (Inode numbers are
                // not compared: FUSE file systems number each spelling apart.)
                Ok(_) => Ok(true),
                Err(rustix::io::Errno::NOENT) => Ok(false),
                // A name the file system cannot even spell (EILSEQ) is not a fold.
                Err(rustix::io::Errno::ILSEQ | rustix::io::Errno::INVAL) => Ok(false),
                Err(e) => Err(e.into()),
            }
        };
        Ok(FsTraits {
            folds_case: same(OTHER_CASE)?,
            folds_normalization: same(NFD)?,
            keeps_modes: st.st_mode & 0o777 == 0o640,
        })
    })();
    drop(fd);
    let _ = rfs::unlinkat(dir, NAME, AtFlags::empty());
    result
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

impl StagingWriter {
    /// `root` is an open handle of an empty, private staging directory.
    pub fn new(root: OwnedFd, options: StageOptions) -> Self {
        StagingWriter {
            root,
            options,
            stats: StageStats::default(),
            dirs: Vec::new(),
            buf: vec![0; COPY_BUFFER],
            as_root: rustix::process::geteuid().is_root(),
            syncfs: crate::fs::syncfs_covers_files(),
            traits: FsTraits::default(),
        }
    }

    /// What [`probe`] found for the staging file system (for the report).
    pub fn with_traits(mut self, traits: FsTraits) -> Self {
        self.traits = traits;
        self
    }

    /// Apply directory modes and times (deepest first, so that a read-only
    /// directory is closed only after everything beneath it), then make everything
    /// durable with one `syncfs`.
    ///
    /// The staging root becomes the destination: it gets `root`'s mode and time
    /// (the archive's `./` entry), or mode 0755 when the archive has none.
    pub fn finish(mut self, root: Option<(u32, i64)>) -> Result<StageStats, StageError> {
        self.dirs
            .sort_by_key(|(p, _, _)| std::cmp::Reverse(p.matches('/').count()));
        for (path, mode, mtime) in &self.dirs {
            let fd = open_beneath(
                self.root.as_fd(),
                path,
                OFlags::RDONLY | OFlags::DIRECTORY,
                Mode::empty(),
            )
            .map_err(|e| io_err("open", path, e))?;
            rfs::fchmod(&fd, crate::fs::mode(*mode))
                .map_err(|e| io_err("chmod", path, e.into()))?;
            let _ = rfs::futimens(&fd, &times(*mtime));
            if !self.syncfs {
                rfs::fsync(&fd).map_err(|e| io_err("fsync", path, e.into()))?;
            }
        }
        if !self.traits.keeps_modes {
            self.stats.warnings.push(
                "this file system does not keep permission bits (exFAT, vfat and the like: every mode reads back as 0777), so the archive's modes were not kept".into(),
            );
        }
        let (mode, mtime) = root.unwrap_or((0o755, -1));
        rfs::fchmod(&self.root, crate::fs::mode(mode))
            .map_err(|e| io_err("chmod", ".", e.into()))?;
        if mtime >= 0 {
            let _ = rfs::futimens(&self.root, &times(mtime));
        }
        sync_filesystem(self.root.as_fd()).map_err(|e| io_err("sync", "staging", e))?;
        Ok(self.stats)
    }

    fn file(
        &mut self,
        entry: &SafeEntry,
        size: u64,
        data: &mut dyn Read,
    ) -> Result<(), StageError> {
        let path = entry.path.as_str();
        let fd = open_beneath(
            self.root.as_fd(),
            path,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| create_err(path, e))?;
        let mut file = File::from(fd);
        let mut written = 0u64;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A read error belongs to an earlier stage: pass it on as it is.
                Err(e) => {
                    return Err(StageError::Io {
                        op: "read archive data for",
                        path: path.to_string(),
                        source: e,
                    })
                }
            };
            file.write_all(&self.buf[..n])
                .map_err(|e| io_err("write", path, e))?;
            written += n as u64;
        }
        if written != size {
            return Err(io_err(
                "write",
                path,
                io::Error::new(io::ErrorKind::UnexpectedEof, "short data"),
            ));
        }
        self.stats.bytes += written;
        if self.options.same_owner && self.as_root {
            let uid = u32::try_from(entry.uid).ok().map(rustix::fs::Uid::from_raw);
            let gid = u32::try_from(entry.gid).ok().map(rustix::fs::Gid::from_raw);
            rfs::fchown(&file, uid, gid).map_err(|e| io_err("chown", path, e.into()))?;
        }
        rfs::fchmod(&file, crate::fs::mode(entry.mode))
            .map_err(|e| io_err("chmod", path, e.into()))?;
        rfs::futimens(&file, &times(entry.mtime))
            .map_err(|e| io_err("set the time of", path, e.into()))?;
        if !self.syncfs {
            // No syncfs here: each file reaches the drive itself; `finish` then
            // flushes the drive's cache once (F_FULLFSYNC on macOS).
            rfs::fsync(&file).map_err(|e| io_err("fsync", path, e.into()))?;
        }
        Ok(())
    }

    fn dir(&mut self, entry: &SafeEntry) -> Result<(), StageError> {
        let path = entry.path.as_str();
        let (parent, name) = open_parent(self.root.as_fd(), path)
            .map_err(|e| io_err("open the parent of", path, e))?;
        match rfs::mkdirat(&parent, name, Mode::from_raw_mode(0o700)) {
            Ok(()) => {}
            Err(rustix::io::Errno::EXIST)
                if kind_at(parent.as_fd(), name).map_err(|e| io_err("stat", path, e))?
                    == Some(FileType::Directory) => {}
            Err(e) => return Err(create_err(path, e.into())),
        }
        self.dirs.retain(|(p, _, _)| p != path);
        self.dirs.push((path.to_string(), entry.mode, entry.mtime));
        Ok(())
    }

    fn symlink(&mut self, entry: &SafeEntry, target: &str) -> Result<(), StageError> {
        let path = entry.path.as_str();
        let (parent, name) = open_parent(self.root.as_fd(), path)
            .map_err(|e| io_err("open the parent of", path, e))?;
        rfs::symlinkat(target, &parent, name).map_err(|e| match e {
            rustix::io::Errno::NOSYS | rustix::io::Errno::PERM | rustix::io::Errno::OPNOTSUPP => {
                StageError::Unsupported {
                    path: path.to_string(),
                    why: "this file system cannot hold symlinks".into(),
                }
            }
            e => create_err(path, e.into()),
        })?;
        let _ = rfs::utimensat(
            &parent,
            name,
            &times(entry.mtime),
            AtFlags::SYMLINK_NOFOLLOW,
        );
        Ok(())
    }

    fn hardlink(&mut self, entry: &SafeEntry, target: &str) -> Result<(), StageError> {
        let path = entry.path.as_str();
        let (tparent, tname) = open_parent(self.root.as_fd(), target)
            .map_err(|e| io_err("open the parent of", target, e))?;
        let (parent, name) = open_parent(self.root.as_fd(), path)
            .map_err(|e| io_err("open the parent of", path, e))?;
        rfs::linkat(&tparent, tname, &parent, name, AtFlags::empty())
            .map_err(|e| create_err(path, e.into()))
    }
}

fn io_err(op: &'static str, path: &str, source: io::Error) -> StageError {
    StageError::Io {
        op,
        path: path.to_string(),
        source,
    }
}

/// Creating an entry failed: names the file system cannot hold are exit 5.
fn create_err(path: &str, e: io::Error) -> StageError {
    match e.raw_os_error() {
        Some(code)
            if code == rustix::io::Errno::NAMETOOLONG.raw_os_error()
                || code == rustix::io::Errno::ILSEQ.raw_os_error() =>
        {
            StageError::Unsupported {
                path: crate::escape(path),
                why: e.to_string(),
            }
        }
        _ => io_err("create", path, e),
    }
}

impl Sink for StagingWriter {
    type Error = StageError;
    fn entry(&mut self, entry: &SafeEntry, data: &mut dyn Read) -> Result<(), StageError> {
        match &entry.kind {
            EntryKind::File { size } => self.file(entry, *size, data),
            EntryKind::Dir => self.dir(entry),
            EntryKind::Symlink { target } => self.symlink(entry, target),
            EntryKind::Hardlink { target } => self.hardlink(entry, target.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_on_a_case_sensitive_file_system() {
        let tmp = tempfile::tempdir().unwrap();
        let fd = rfs::open(
            tmp.path(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        let t = probe(fd.as_fd()).unwrap();
        assert_eq!(
            t,
            FsTraits {
                folds_case: false,
                folds_normalization: false,
                keeps_modes: true
            }
        );
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "probe removed"
        );
    }
    use projectrestore_archive::{Limits, SafeRelPath};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn e(path: &str, kind: EntryKind, mode: u32) -> SafeEntry {
        SafeEntry {
            path: SafeRelPath::parse(path.as_bytes(), &Limits::default())
                .unwrap()
                .unwrap(),
            kind,
            mode,
            mtime: 1_600_000_000,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn writes_files_dirs_links_with_modes_and_times() {
        let tmp = tempfile::tempdir().unwrap();
        let fd = rfs::open(
            tmp.path(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        let mut w = StagingWriter::new(fd, StageOptions::default());
        w.entry(&e("ro", EntryKind::Dir, 0o555), &mut io::empty())
            .unwrap();
        w.entry(
            &e("ro/f.txt", EntryKind::File { size: 5 }, 0o640),
            &mut &b"hello"[..],
        )
        .unwrap();
        w.entry(
            &e(
                "ro/link",
                EntryKind::Symlink {
                    target: "f.txt".into(),
                },
                0o777,
            ),
            &mut io::empty(),
        )
        .unwrap();
        let target = SafeRelPath::parse(b"ro/f.txt", &Limits::default())
            .unwrap()
            .unwrap();
        w.entry(
            &e("ro/hard", EntryKind::Hardlink { target }, 0o640),
            &mut io::empty(),
        )
        .unwrap();
        let stats = w.finish(None).unwrap();
        assert_eq!(stats.bytes, 5);
        let f = tmp.path().join("ro/f.txt");
        assert_eq!(std::fs::read(&f).unwrap(), b"hello");
        let m = std::fs::metadata(&f).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o640);
        assert_eq!(m.mtime(), 1_600_000_000);
        assert_eq!(
            std::fs::metadata(tmp.path().join("ro"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o555
        );
        assert_eq!(
            std::fs::read_link(tmp.path().join("ro/link"))
                .unwrap()
                .to_str(),
            Some("f.txt")
        );
        assert_eq!(
            std::fs::metadata(tmp.path().join("ro/hard")).unwrap().ino(),
            m.ino()
        );
        std::fs::set_permissions(
            tmp.path().join("ro"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }

    /// A symlink planted in staging (by anyone) is never written through.
    #[test]
    fn planted_symlink_is_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let stage = tmp.path().join("stage");
        std::fs::create_dir(&stage).unwrap();
        std::fs::create_dir(tmp.path().join("outside")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), stage.join("d")).unwrap();
        let fd = rfs::open(&stage, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let mut w = StagingWriter::new(fd, StageOptions::default());
        let r = w.entry(
            &e("d/evil", EntryKind::File { size: 1 }, 0o644),
            &mut &b"x"[..],
        );
        assert!(r.is_err());
        assert!(!tmp.path().join("outside/evil").exists());
    }

    #[test]
    fn short_data_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let fd = rfs::open(
            tmp.path(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        let mut w = StagingWriter::new(fd, StageOptions::default());
        assert!(w
            .entry(
                &e("f", EntryKind::File { size: 10 }, 0o644),
                &mut &b"abc"[..]
            )
            .is_err());
    }
}

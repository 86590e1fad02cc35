//! Commit: the state directory, the lock, the atomic swap, the journal, recovery
//! and generations (invariants 2 and 5).
//!
//! Everything projectrestore keeps for a destination `DIR` lives in the sibling
//! `.DIR.projectrestore/`: `lock`, `journal`, `managed`, `staging-*/`, and
//! `generations/<id>/{tree/, meta.json}`. The swap is one `renameat2(RENAME_EXCHANGE)`
//! (or `RENAME_NOREPLACE` for a first restore); where the file system cannot
//! exchange, two renames guarded by the journal. Before the swap the journal records
//! the identity (device, inode) of the new and the old tree, so recovery can tell
//! from what now sits at `DIR` whether the swap happened, and finish or undo it.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustix::fs::{self as rfs, FileType, FlockOperation, Mode, OFlags};

use crate::fs::{self, identity_at, kind_at, remove_tree};

/// A failure in the state directory or the swap.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Another restore holds the lock (exit 3).
    #[error("another restore of {dest} is running (pid {pid})")]
    Locked { dest: String, pid: String },
    /// The surroundings are unsafe or unusable (exit 1).
    #[error("{0}")]
    Refused(String),
    /// An I/O operation failed (exit 1).
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
}

/// What a destination looks like before a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestState {
    /// Does not exist yet.
    Missing,
    /// An empty directory.
    Empty,
    /// A tree that projectrestore put there.
    Managed,
    /// A non-empty directory projectrestore did not create.
    Foreign,
}

/// What is known of a tree: kept as `current.json` while it is the destination,
/// and as `generations/<id>/meta.json` once it was replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenerationMeta {
    /// The archive it was restored from (empty for a tree projectrestore did not make).
    pub archive: String,
    /// That archive's SHA-256.
    pub sha256: String,
    /// Trusted signers of that archive.
    pub signers: Vec<String>,
    /// When it was put in place (RFC 3339).
    pub time: String,
    /// Bytes of file contents.
    #[serde(default)]
    pub bytes: u64,
    /// Number of files.
    #[serde(default)]
    pub files: u64,
    /// "restore" or "rollback"; empty for a tree projectrestore did not put there.
    #[serde(default)]
    pub how: String,
    /// When it was replaced (set when it became a generation).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub replaced: String,
}

/// A kept generation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generation {
    pub id: String,
    pub path: PathBuf,
    pub meta: GenerationMeta,
}

/// What `recover` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Recovery {
    /// "none", "finished" or "undone".
    pub swap: String,
    /// Stale staging directories removed.
    pub removed_staging: usize,
}

/// The outcome of a commit.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Committed {
    /// The generation that now holds the replaced tree, if there was one.
    pub replaced: Option<String>,
}

/// The held lock; released on drop (and by the kernel if the process dies).
#[derive(Debug)]
pub struct Lock {
    _fd: OwnedFd,
}

/// A staging directory inside the state directory.
#[derive(Debug)]
pub struct Staging {
    /// Directory name inside the state directory.
    pub name: String,
    /// Open handle of the staging directory.
    pub fd: OwnedFd,
}

/// The journal of a swap in progress.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Journal {
    /// The staging directory holding the new tree (and, after an exchange, the old).
    staging: String,
    /// The generation the old tree goes to.
    generation: String,
    /// Identity of the new tree's root.
    new: (u64, u64),
    /// Identity of the old tree's root, if there was one.
    old: Option<(u64, u64)>,
    /// Where the two-rename fallback parks the old tree.
    parked: Option<String>,
    /// Metadata of the new tree (becomes `current.json`).
    meta: GenerationMeta,
    /// Metadata of the replaced tree (becomes the generation's `meta.json`).
    #[serde(default)]
    old_meta: Option<GenerationMeta>,
    /// For a rollback: the generation whose tree is being put back.
    #[serde(default)]
    rollback_of: Option<String>,
}

const GENERATIONS: &str = "generations";
/// Written when this tool creates a state directory; a directory without it was
/// not made here (planted, or unpacked from somewhere) and is refused before any
/// recovery reads it.
const MARKER: &str = "projectrestore-state";
const MARKER_TEXT: &[u8] =
    b"a state directory created by projectrestore; see `projectrestore history`\n";
const JOURNAL: &str = "journal";
const MANAGED: &str = "managed";
const CURRENT: &str = "current.json";

/// Named steps where `PROJECTRESTORE_CRASH_AT` aborts the process (crash tests).
pub fn crash_points() -> &'static [&'static str] {
    &[
        "after-journal",
        "after-swap",
        "after-park",
        "after-move-old",
        "after-marker",
        "after-journal-removed",
        "after-trash",
    ]
}

use crate::hooks::crash_point;

/// A staging directory under the destination's lock that is discarded when
/// dropped unless it was committed: every early return, `?` and panic between
/// staging and commit leaves nothing behind (invariant 5), without a manual
/// `discard` at each exit.
pub struct StagingGuard {
    state: StateDir,
    lock: Lock,
    staging: Option<Staging>,
}

impl StagingGuard {
    /// Create a staging directory in `state` under `lock`.
    pub fn create(state: StateDir, lock: Lock) -> Result<Self, CommitError> {
        let staging = state.create_staging(&lock)?;
        Ok(StagingGuard {
            state,
            lock,
            staging: Some(staging),
        })
    }

    pub fn state(&self) -> &StateDir {
        &self.state
    }

    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// The staging directory (present until committed).
    pub fn staging(&self) -> Option<&Staging> {
        self.staging.as_ref()
    }

    /// Swap staging into place; on failure recovery finishes or undoes the step
    /// that failed and removes staging. The lock is held until the result is dropped.
    pub fn commit(&mut self, meta: &GenerationMeta) -> Result<Committed, CommitError> {
        let staging = self
            .staging
            .take()
            .ok_or_else(|| CommitError::Refused("staging was already committed".into()))?;
        match self.state.commit(&self.lock, staging, meta) {
            Ok(c) => Ok(c),
            Err(e) => {
                let _ = self.state.recover(&self.lock);
                Err(e)
            }
        }
    }
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            let _ = self.state.discard(&self.lock, staging);
        }
    }
}

/// Did projectrestore put the tree at `dest` there? (Its state directory holds
/// the `managed` marker.) A read-only look, for predictions such as a plan; a
/// restore decides again under its lock with [`StateDir::dest_state`].
pub fn is_managed(dest: &Path) -> bool {
    state_dir_path(dest).is_ok_and(|s| s.join(MANAGED).exists())
}

/// Is another restore of `dest` running? A look without holding anything:
/// the lock file, if there is one, is locked shared and let go at once, so
/// a run can say "exit 3" before its long first pass instead of after it.
/// Nothing is created; the restore takes the lock for real later.
pub fn probe_lock(dest: &Path) -> Result<(), CommitError> {
    let path = state_dir_path(dest)?.join("lock");
    let fd = match rfs::open(
        &path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        // Missing, a link, anything odd: the real lock decides (and refuses).
        Err(_) => return Ok(()),
    };
    match rfs::fstat(&fd) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => {}
        _ => return Ok(()),
    }
    match flock_briefly(&fd, FlockOperation::NonBlockingLockShared) {
        Err(rustix::io::Errno::WOULDBLOCK) => Err(held_by(fd, dest)),
        // Got it (released as `fd` closes), or cannot tell: the real lock decides.
        _ => Ok(()),
    }
}

/// "Another restore holds the lock": with the pid its holder wrote (escaped).
fn held_by(lock: OwnedFd, dest: &Path) -> CommitError {
    let mut pid = String::new();
    let _ = std::fs::File::from(lock).take(32).read_to_string(&mut pid);
    let pid = pid.trim();
    CommitError::Locked {
        dest: dest.display().to_string(),
        pid: if pid.is_empty() {
            "unknown".into()
        } else {
            crate::escape(pid)
        },
    }
}

/// A non-blocking `flock`, tried a few times over about 100 ms before it
/// says "held": a lock is also held for a moment by a probe ([`probe_lock`])
/// or by a child process between its fork and exec (the fd is close-on-exec,
/// but not before exec), and neither is another restore.
fn flock_briefly(fd: &OwnedFd, op: FlockOperation) -> Result<(), rustix::io::Errno> {
    for _ in 0..5 {
        match rfs::flock(fd, op) {
            Err(rustix::io::Errno::WOULDBLOCK) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
    rfs::flock(fd, op)
}

/// `.DIRNAME.projectrestore/` beside a destination.
#[derive(Debug)]
pub struct StateDir {
    dest: PathBuf,
    name: String,
    parent: OwnedFd,
    dir: OwnedFd,
    path: PathBuf,
}

/// The state directory's path for `dest` (it may not exist).
pub fn state_dir_path(dest: &Path) -> Result<PathBuf, CommitError> {
    let (parent, name) = split_dest(dest)?;
    Ok(parent.join(format!(".{name}.projectrestore")))
}

fn split_dest(dest: &Path) -> Result<(PathBuf, String), CommitError> {
    let abs = if dest.is_absolute() {
        dest.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| io_err("resolve", dest, e))?
            .join(dest)
    };
    let name = abs
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "." && *n != "..")
        .ok_or_else(|| {
            CommitError::Refused(format!(
                "{} does not name a directory to restore into",
                dest.display()
            ))
        })?
        .to_string();
    let parent = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    Ok((parent, name))
}

/// The destination's parent, made first when it is missing (as `mkdir -p`,
/// as restic does): from the deepest ancestor that exists, each missing
/// component is made with `mkdirat` and opened with `O_NOFOLLOW`, so a link
/// planted meanwhile is refused, never followed. A missing part with `..` in
/// it is refused (it would name a place other than it seems to).
fn open_or_create_parent(parent: &Path) -> Result<OwnedFd, CommitError> {
    let dir = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut missing = Vec::new();
    let mut existing = parent;
    loop {
        match std::fs::symlink_metadata(existing) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("open the parent directory", existing, e)),
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(up)) if existing.ends_with(name) => {
                missing.push(name.to_os_string());
                existing = up;
            }
            _ => {
                return Err(CommitError::Refused(format!(
                    "{} does not exist, and its missing part has '..' in it; create the parent directories first",
                    parent.display()
                )))
            }
        }
    }
    let mut fd = rfs::open(existing, dir, Mode::empty())
        .map_err(|e| io_err("open the parent directory", existing, e.into()))?;
    let mut made = existing.to_path_buf();
    for name in missing.iter().rev() {
        made.push(name);
        let raced = match rfs::mkdirat(&fd, name.as_os_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) => false,
            // Someone made it between the look and the mkdir: checked below.
            Err(rustix::io::Errno::EXIST) => true,
            Err(e) => return Err(io_err("create the parent directory", &made, e.into())),
        };
        fd = rfs::openat(&fd, name.as_os_str(), dir | OFlags::NOFOLLOW, Mode::empty()).map_err(
            |e| match e {
                rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => CommitError::Refused(format!(
                    "{} became a symlink or a file while its parents were being made; nothing is written through it",
                    made.display()
                )),
                e => io_err("open the parent directory", &made, e.into()),
            },
        )?;
        if raced {
            let st = rfs::fstat(&fd).map_err(|e| io_err("stat", &made, e.into()))?;
            if st.st_uid != rustix::process::geteuid().as_raw() || st.st_mode & 0o022 != 0 {
                return Err(CommitError::Refused(format!(
                    "{} appeared while its parents were being made, and is another user's or writable by others; nothing is restored beneath it",
                    made.display()
                )));
            }
        }
    }
    Ok(fd)
}

fn io_err(op: &'static str, path: &Path, source: io::Error) -> CommitError {
    CommitError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

fn errno(e: rustix::io::Errno) -> io::Error {
    e.into()
}

/// Create the state directory with its marker in it, atomically: made under a
/// private name, marked, then renamed into place without replacing, so no
/// concurrent run ever sees it unmarked. Losing the race to another run is fine.
fn create_state_dir(parent: &OwnedFd, name: &str, path: &Path) -> Result<(), CommitError> {
    if kind_at(parent.as_fd(), name)
        .map_err(|e| io_err("stat", path, e))?
        .is_some()
    {
        return Ok(());
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = format!("{name}.new-{}-{nanos}", std::process::id());
    rfs::mkdirat(parent, tmp.as_str(), Mode::from_raw_mode(0o700))
        .map_err(|e| io_err("create the state directory", path, e.into()))?;
    let made = (|| -> io::Result<()> {
        let dir = rfs::openat(
            parent,
            tmp.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let fd = rfs::openat(
            &dir,
            MARKER,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let mut f = std::fs::File::from(fd);
        f.write_all(MARKER_TEXT)?;
        f.sync_all()?;
        fs::fsync_dir(dir.as_fd())
    })();
    let moved =
        made.and_then(|()| fs::rename_noreplace(parent.as_fd(), &tmp, parent.as_fd(), name));
    match moved {
        Ok(()) => fs::fsync_dir(parent.as_fd()).map_err(|e| io_err("fsync", path, e)),
        Err(e) => {
            let _ = remove_tree(parent.as_fd(), &tmp);
            if matches!(
                e.kind(),
                io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
            ) {
                Ok(())
            } else {
                Err(io_err("create the state directory", path, e))
            }
        }
    }
}

/// Is `s` `prefix` followed by `groups` runs of ASCII digits joined by `-`?
/// The exact shapes this tool writes for names in the state directory.
fn digits_form(s: &str, prefix: &str, groups: usize) -> bool {
    let Some(rest) = s.strip_prefix(prefix) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    parts.len() == groups
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 40 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A generation id as [`StateDir::swap_in`] writes it: 20 digits.
pub fn is_generation_id(s: &str) -> bool {
    s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Why a journal's bytes are refused.
enum BadJournal {
    /// Not the JSON this tool writes.
    Damaged(serde_json::Error),
    /// A name of a form this tool never writes (the field and its value).
    Names(String),
}

/// The checks recovery applies to the bytes of a state directory's `journal`
/// before it acts on one (an attacker may have planted it), for the fuzz
/// targets: the JSON shape and every name's form. `Ok` means these pass;
/// recovery also checks, on the file system, that the directories the journal
/// goes through are real ones.
#[doc(hidden)]
pub fn check_journal(bytes: &[u8]) -> Result<(), String> {
    Journal::parse(bytes).map(drop).map_err(|bad| match bad {
        BadJournal::Damaged(e) => e.to_string(),
        BadJournal::Names(field) => field,
    })
}

impl Journal {
    fn parse(bytes: &[u8]) -> Result<Journal, BadJournal> {
        let journal: Journal = serde_json::from_slice(bytes).map_err(BadJournal::Damaged)?;
        journal.validate().map_err(BadJournal::Names)?;
        Ok(journal)
    }

    /// Every name the journal gives is a single path component of the exact form
    /// this tool writes (invariant 8): no `/`, no `..`, no absolute path. A
    /// journal that names anything else was not written here and is refused.
    fn validate(&self) -> Result<(), String> {
        let staging_ok = digits_form(&self.staging, "staging-", 2)
            || self
                .staging
                .strip_prefix("generations/")
                .and_then(|r| r.strip_suffix("/tree"))
                .is_some_and(is_generation_id);
        if !staging_ok {
            return Err(format!("staging {:?}", crate::escape(&self.staging)));
        }
        if !is_generation_id(&self.generation) {
            return Err(format!("generation {:?}", crate::escape(&self.generation)));
        }
        if let Some(p) = &self.parked {
            if p.strip_prefix("parked-")
                .is_none_or(|g| !is_generation_id(g))
            {
                return Err(format!("parked {:?}", crate::escape(p)));
            }
        }
        if let Some(r) = &self.rollback_of {
            if !is_generation_id(r) {
                return Err(format!("rollback_of {:?}", crate::escape(r)));
            }
        }
        Ok(())
    }
}

impl StateDir {
    /// Open (creating if needed, mode 0700) the state directory of `dest`,
    /// whose parent must exist.
    pub fn open(dest: &Path) -> Result<Self, CommitError> {
        Self::open_in(dest, false)
    }

    /// As [`StateDir::open`], making `dest`'s missing parent directories first
    /// (a restore into a new place, as restic does).
    pub fn create(dest: &Path) -> Result<Self, CommitError> {
        Self::open_in(dest, true)
    }

    fn open_in(dest: &Path, make_parents: bool) -> Result<Self, CommitError> {
        let (parent_path, name) = split_dest(dest)?;
        let dest_abs = parent_path.join(&name);
        let parent = if make_parents {
            open_or_create_parent(&parent_path)?
        } else {
            rfs::open(
                &parent_path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io_err("open the parent directory", &parent_path, e.into()))?
        };
        match kind_at(parent.as_fd(), &name).map_err(|e| io_err("stat", &dest_abs, e))? {
            None => {}
            Some(FileType::Directory) => {
                let here = rfs::statat(&parent, name.as_str(), rfs::AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| io_err("stat", &dest_abs, e.into()))?;
                let up = rfs::fstat(&parent).map_err(|e| io_err("stat", &parent_path, e.into()))?;
                if here.st_dev != up.st_dev {
                    return Err(CommitError::Refused(format!(
                        "{} is a mount point (another file system than its parent), so it cannot be swapped atomically; restore into a directory inside it",
                        dest_abs.display()
                    )));
                }
            }
            Some(FileType::Symlink) => {
                return Err(CommitError::Refused(format!(
                    "{} is a symlink; restore into the directory it points to (or pass --follow-dest-symlink), so that nothing is written through a link",
                    dest_abs.display()
                )))
            }
            Some(_) => {
                return Err(CommitError::Refused(format!("{} exists and is not a directory", dest_abs.display())));
            }
        }
        let state_name = format!(".{name}.projectrestore");
        let path = parent_path.join(&state_name);
        create_state_dir(&parent, &state_name, &path)?;
        let dir = rfs::openat(
            &parent,
            state_name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => CommitError::Refused(format!(
                "the state directory {} is a symlink or not a directory; remove it if you did not make it",
                path.display()
            )),
            e => io_err("open the state directory", &path, e.into()),
        })?;
        let mut st = rfs::fstat(&dir).map_err(|e| io_err("stat", &path, e.into()))?;
        if st.st_uid == rustix::process::geteuid().as_raw()
            && st.st_mode & 0o022 != 0
            && !keeps_modes(&dir)
        {
            // A file system that keeps no modes (exFAT, vfat: everything reads
            // 0777): access is what the mount options say, and the mode means
            // nothing. Where modes are kept, an open state directory is refused:
            // others may have planted things in it.
            st.st_mode &= !0o022;
        }
        if st.st_uid != rustix::process::geteuid().as_raw() || st.st_mode & 0o022 != 0 {
            return Err(CommitError::Refused(format!(
                "the state directory {} belongs to another user or is writable by others; refusing to use it",
                path.display()
            )));
        }
        let state = StateDir {
            dest: dest_abs,
            name,
            parent,
            dir,
            path,
        };
        state.check_marker()?;
        Ok(state)
    }

    /// Refuse a state directory without the marker this tool writes when it
    /// creates one: it was planted or unpacked, and nothing in it is read.
    fn check_marker(&self) -> Result<(), CommitError> {
        match kind_at(self.dir(), MARKER).map_err(|e| io_err("stat", &self.at(MARKER), e))? {
            Some(FileType::RegularFile) => Ok(()),
            _ => Err(CommitError::Refused(format!(
                "the state directory {} was not created by projectrestore (it has no {MARKER} file); refusing to read or recover it; nothing was changed. If you did not make it, remove it. If a projectrestore from before 2026-12 made it, check what it holds and adopt it with `touch {}`",
                self.path.display(),
                self.at(MARKER).display()
            ))),
        }
    }

    /// The state directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    fn dir(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }

    fn at(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// What the destination holds now.
    pub fn dest_state(&self) -> Result<DestState, CommitError> {
        if kind_at(self.parent.as_fd(), &self.name)
            .map_err(|e| io_err("stat", &self.dest, e))?
            .is_none()
        {
            return Ok(DestState::Missing);
        }
        if kind_at(self.dir(), MANAGED)
            .map_err(|e| io_err("stat", &self.at(MANAGED), e))?
            .is_some()
        {
            return Ok(DestState::Managed);
        }
        let fd = rfs::openat(
            &self.parent,
            self.name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err("open", &self.dest, e.into()))?;
        let mut dir = rfs::Dir::read_from(&fd).map_err(|e| io_err("read", &self.dest, e.into()))?;
        let empty = dir.all(|e| e.is_ok_and(|e| matches!(e.file_name().to_bytes(), b"." | b"..")));
        Ok(if empty {
            DestState::Empty
        } else {
            DestState::Foreign
        })
    }

    /// Take the exclusive lock (waiting if `wait`).
    pub fn lock(&self, wait: bool) -> Result<Lock, CommitError> {
        let path = self.at("lock");
        let fd = rfs::openat(
            self.dir(),
            "lock",
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP => CommitError::Refused(format!(
                "the lock file {} is a symlink; refusing to use it",
                path.display()
            )),
            e => io_err("open the lock", &path, e.into()),
        })?;
        let st = rfs::fstat(&fd).map_err(|e| io_err("stat", &path, e.into()))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(CommitError::Refused(format!(
                "the lock file {} is not a regular file",
                path.display()
            )));
        }
        match flock_briefly(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) if wait => {
                rfs::flock(&fd, FlockOperation::LockExclusive)
                    .map_err(|e| io_err("lock", &path, e.into()))?
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(held_by(fd, &self.dest));
            }
            Err(e) => return Err(io_err("lock", &path, e.into())),
        }
        let mut file = std::fs::File::from(fd);
        let _ = file.set_len(0);
        let _ = file.write_all(format!("{}\n", std::process::id()).as_bytes());
        Ok(Lock { _fd: file.into() })
    }

    fn read_journal(&self) -> Result<Option<Journal>, CommitError> {
        let path = self.at(JOURNAL);
        let Some(bytes) = read_small(self.dir(), JOURNAL).map_err(|e| io_err("read", &path, e))?
        else {
            return Ok(None);
        };
        let journal = Journal::parse(&bytes).map_err(|bad| {
            CommitError::Refused(match bad {
                BadJournal::Damaged(e) => format!(
                    "the journal {} is damaged ({e}); inspect the state directory by hand",
                    path.display()
                ),
                BadJournal::Names(field) => format!(
                    "the journal {} names {field}, which projectrestore never writes; refusing to recover (nothing was touched). Inspect the state directory by hand",
                    path.display()
                ),
            })
        })?;
        // A rollback's staging is `generations/<id>/tree`: recovery renames and
        // stats through it, so both directories must be real ones, not links.
        if let Some(id) = journal
            .staging
            .strip_prefix("generations/")
            .and_then(|r| r.strip_suffix("/tree"))
        {
            for rel in [GENERATIONS.to_string(), format!("{GENERATIONS}/{id}")] {
                let kind =
                    kind_at(self.dir(), &rel).map_err(|e| io_err("stat", &self.at(&rel), e))?;
                if kind.is_some_and(|k| k != FileType::Directory) {
                    return Err(CommitError::Refused(format!(
                        "the journal {} goes through {}, which is not a directory; refusing to recover (nothing was touched)",
                        path.display(),
                        self.at(&rel).display()
                    )));
                }
            }
        }
        Ok(Some(journal))
    }

    /// Write a small file durably: temporary file, fsync, rename, directory fsync.
    fn write_durably(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        data: &[u8],
        shown: &Path,
    ) -> Result<(), CommitError> {
        let tmp = format!("{name}.tmp");
        let fd = rfs::openat(
            dir,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| io_err("create", shown, e.into()))?;
        let mut f = std::fs::File::from(fd);
        f.write_all(data).map_err(|e| io_err("write", shown, e))?;
        f.sync_all().map_err(|e| io_err("fsync", shown, e))?;
        fs::rename(dir, &tmp, dir, name).map_err(|e| io_err("rename", shown, e))?;
        fs::fsync_dir(dir).map_err(|e| io_err("fsync", shown, e))
    }

    fn remove_journal(&self) -> Result<(), CommitError> {
        match rfs::unlinkat(self.dir(), JOURNAL, rfs::AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(io_err("remove", &self.at(JOURNAL), e.into())),
        }
        fs::fsync_dir(self.dir()).map_err(|e| io_err("fsync", &self.path, e))
    }

    fn generations_dir(&self) -> Result<OwnedFd, CommitError> {
        let path = self.at(GENERATIONS);
        match rfs::mkdirat(self.dir(), GENERATIONS, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(io_err("create", &path, e.into())),
        }
        rfs::openat(
            self.dir(),
            GENERATIONS,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err("open", &path, e.into()))
    }

    /// Move the old tree (now at `from` in the state directory) into its generation.
    fn keep_generation(&self, from: &str, journal: &Journal) -> Result<(), CommitError> {
        let gens = self.generations_dir()?;
        let gpath = self.at(GENERATIONS).join(&journal.generation);
        match rfs::mkdirat(
            &gens,
            journal.generation.as_str(),
            Mode::from_raw_mode(0o700),
        ) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(io_err("create", &gpath, e.into())),
        }
        let gdir = rfs::openat(
            &gens,
            journal.generation.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err("open", &gpath, e.into()))?;
        let meta = serde_json::to_vec_pretty(&journal.old_meta.clone().unwrap_or_default())
            .unwrap_or_default();
        self.write_durably(gdir.as_fd(), "meta.json", &meta, &gpath.join("meta.json"))?;
        fs::rename(self.dir(), from, gdir.as_fd(), "tree")
            .map_err(|e| io_err("move the old tree to", &gpath, e))?;
        crash_point("after-move-old");
        fs::fsync_dir(gdir.as_fd()).map_err(|e| io_err("fsync", &gpath, e))?;
        fs::fsync_dir(self.dir()).map_err(|e| io_err("fsync", &self.path, e))
    }

    fn mark_managed(&self) -> Result<(), CommitError> {
        if kind_at(self.dir(), MANAGED)
            .map_err(|e| io_err("stat", &self.at(MANAGED), e))?
            .is_none()
        {
            self.write_durably(
                self.dir(),
                MANAGED,
                b"this destination was restored by projectrestore\n",
                &self.at(MANAGED),
            )?;
        }
        crash_point("after-marker");
        Ok(())
    }

    /// After the swap: record the new tree, remove a rolled-back generation's husk.
    fn finish_swap(&self, j: &Journal) -> Result<(), CommitError> {
        let data = serde_json::to_vec_pretty(&j.meta).unwrap_or_default();
        self.write_durably(self.dir(), CURRENT, &data, &self.at(CURRENT))?;
        if let Some(id) = &j.rollback_of {
            let gens = self.generations_dir()?;
            if kind_at(gens.as_fd(), &format!("{id}/tree"))
                .map_err(|e| io_err("stat", &self.at(GENERATIONS).join(id), e))?
                .is_none()
            {
                remove_tree(gens.as_fd(), id)
                    .map_err(|e| io_err("remove", &self.at(GENERATIONS).join(id), e))?;
            }
        }
        self.mark_managed()
    }

    /// Is there an interrupted swap or stale staging to clean up?
    pub fn needs_recovery(&self) -> Result<bool, CommitError> {
        Ok(kind_at(self.dir(), JOURNAL)
            .map_err(|e| io_err("stat", &self.at(JOURNAL), e))?
            .is_some()
            || self.names()?.iter().any(|n| is_leftover(n)))
    }

    /// Finish or undo an interrupted swap and remove stale staging.
    pub fn recover(&self, lock: &Lock) -> Result<Recovery, CommitError> {
        self.recover_keeping(lock, None)
    }

    /// [`recover`](Self::recover), leaving the staging directory `keep` (a
    /// restore's own, made before recovery ran) alone.
    pub fn recover_keeping(
        &self,
        _lock: &Lock,
        keep: Option<&str>,
    ) -> Result<Recovery, CommitError> {
        let mut swap = "none";
        if let Some(j) = self.read_journal()? {
            let now = identity_at(self.parent.as_fd(), &self.name)
                .map_err(|e| io_err("stat", &self.dest, e))?;
            let at_staging = identity_at(self.dir(), &j.staging)
                .map_err(|e| io_err("stat", &self.at(&j.staging), e))?;
            let parked = match &j.parked {
                Some(p) => identity_at(self.dir(), p)
                    .map_err(|e| io_err("stat", &self.at(p), e))?
                    .map(|id| (p.clone(), id)),
                None => None,
            };
            if now == Some(j.new) {
                // The new tree is in place: keep the old one, wherever it is.
                swap = "finished";
                if let (Some(old), Some(id)) = (j.old, at_staging) {
                    if id == old {
                        self.keep_generation(&j.staging, &j)?;
                    }
                }
                if let (Some(old), Some((name, id))) = (j.old, &parked) {
                    if *id == old {
                        self.keep_generation(name, &j)?;
                    }
                }
                self.finish_swap(&j)?;
            } else {
                swap = "undone";
                if now.is_none() {
                    if let Some((name, _)) = &parked {
                        // The two-rename fallback stopped between its renames: put the old tree back.
                        fs::rename(self.dir(), name, self.parent.as_fd(), &self.name)
                            .map_err(|e| io_err("restore the old tree to", &self.dest, e))?;
                        fs::fsync_dir(self.parent.as_fd())
                            .map_err(|e| io_err("fsync", &self.dest, e))?;
                    }
                }
            }
            self.remove_journal()?;
        }
        let mut removed_staging = 0;
        for name in self.names()? {
            if is_leftover(&name) && Some(name.as_str()) != keep {
                remove_tree(self.dir(), &name).map_err(|e| io_err("remove", &self.at(&name), e))?;
                if name.starts_with("staging-") {
                    removed_staging += 1;
                }
            }
        }
        Ok(Recovery {
            swap: swap.into(),
            removed_staging,
        })
    }

    fn names(&self) -> Result<Vec<String>, CommitError> {
        names_in(self.dir(), &self.path)
    }

    /// A new, empty, private staging directory.
    pub fn create_staging(&self, _lock: &Lock) -> Result<Staging, CommitError> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("staging-{}-{nanos}", std::process::id());
        let path = self.at(&name);
        rfs::mkdirat(self.dir(), name.as_str(), Mode::from_raw_mode(0o700))
            .map_err(|e| io_err("create", &path, e.into()))?;
        let fd = rfs::openat(
            self.dir(),
            name.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err("open", &path, e.into()))?;
        Ok(Staging { name, fd })
    }

    /// Remove a staging directory and everything in it.
    pub fn discard(&self, _lock: &Lock, staging: Staging) -> Result<(), CommitError> {
        drop(staging.fd);
        remove_tree(self.dir(), &staging.name)
            .map_err(|e| io_err("remove", &self.at(&staging.name), e))
    }

    /// Swap staging into place atomically and keep the replaced tree as a generation.
    pub fn commit(
        &self,
        lock: &Lock,
        staging: Staging,
        meta: &GenerationMeta,
    ) -> Result<Committed, CommitError> {
        self.swap_in(lock, staging, meta, None)
    }

    /// Put generation `id`'s tree back in place, atomically; the tree it replaces
    /// becomes the newest generation (so a rollback can itself be undone).
    pub fn rollback(&self, lock: &Lock, id: &str, time: &str) -> Result<Committed, CommitError> {
        let gen = self
            .generations()?
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| {
                CommitError::Refused(format!("no generation {id} in {}", self.path.display()))
            })?;
        let rel = format!("{GENERATIONS}/{id}/tree");
        let fd = rfs::openat(
            self.dir(),
            rel.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_err("open", &gen.path, e.into()))?;
        let meta = GenerationMeta {
            how: "rollback".into(),
            time: time.to_string(),
            replaced: String::new(),
            ..gen.meta
        };
        self.swap_in(lock, Staging { name: rel, fd }, &meta, Some(id.to_string()))
    }

    /// What is known of the tree now at the destination.
    pub fn current(&self) -> Option<GenerationMeta> {
        read_small(self.dir(), CURRENT)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    fn swap_in(
        &self,
        _lock: &Lock,
        staging: Staging,
        meta: &GenerationMeta,
        rollback_of: Option<String>,
    ) -> Result<Committed, CommitError> {
        let spath = self.at(&staging.name);
        rfs::fsync(&staging.fd).map_err(|e| io_err("fsync", &spath, e.into()))?;
        let st = rfs::fstat(&staging.fd).map_err(|e| io_err("stat", &spath, e.into()))?;
        drop(staging.fd);
        let new = fs::identity(&st);
        let old = identity_at(self.parent.as_fd(), &self.name)
            .map_err(|e| io_err("stat", &self.dest, e))?;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let old_meta = old.map(|_| GenerationMeta {
            replaced: now,
            ..self.current().unwrap_or_else(|| GenerationMeta {
                archive: "(a tree projectrestore did not restore)".into(),
                ..GenerationMeta::default()
            })
        });
        let mut journal = Journal {
            staging: staging.name.clone(),
            generation: format!("{nanos:020}"),
            new,
            old,
            parked: None,
            meta: meta.clone(),
            old_meta,
            rollback_of,
        };
        let write_journal = |j: &Journal| {
            let data = serde_json::to_vec(j).unwrap_or_default();
            self.write_durably(self.dir(), JOURNAL, &data, &self.at(JOURNAL))
        };
        write_journal(&journal)?;
        crash_point("after-journal");
        let replaced = if old.is_none() {
            fs::rename_noreplace(self.dir(), &staging.name, self.parent.as_fd(), &self.name)
                .map_err(|e| io_err("move the restored tree to", &self.dest, e))?;
            crash_point("after-swap");
            fs::fsync_dir(self.parent.as_fd()).map_err(|e| io_err("fsync", &self.dest, e))?;
            None
        } else {
            match fs::rename_exchange(self.dir(), &staging.name, self.parent.as_fd(), &self.name) {
                Ok(()) => {
                    crash_point("after-swap");
                    fs::fsync_dir(self.parent.as_fd())
                        .map_err(|e| io_err("fsync", &self.dest, e))?;
                    self.keep_generation(&staging.name, &journal)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    // Two renames, guarded by the journal: park the old tree, move the new one in.
                    let parked = format!("parked-{}", journal.generation);
                    journal.parked = Some(parked.clone());
                    write_journal(&journal)?;
                    fs::rename(self.parent.as_fd(), &self.name, self.dir(), &parked)
                        .map_err(|e| io_err("move the old tree from", &self.dest, e))?;
                    crash_point("after-park");
                    fs::rename(self.dir(), &staging.name, self.parent.as_fd(), &self.name)
                        .map_err(|e| io_err("move the restored tree to", &self.dest, e))?;
                    crash_point("after-swap");
                    fs::fsync_dir(self.parent.as_fd())
                        .map_err(|e| io_err("fsync", &self.dest, e))?;
                    self.keep_generation(&parked, &journal)?;
                }
                Err(e) => return Err(io_err("swap the restored tree into", &self.dest, e)),
            }
            Some(journal.generation.clone())
        };
        self.finish_swap(&journal)?;
        self.remove_journal()?;
        crash_point("after-journal-removed");
        Ok(Committed { replaced })
    }

    /// Remove generations beyond the newest `keep`; returns how many were removed.
    /// Crash-safe: a generation is renamed to `trash-*` before it is deleted, and
    /// `recover` removes leftover trash.
    pub fn prune(&self, lock: &Lock, keep: usize) -> Result<usize, CommitError> {
        self.prune_where(lock, |i, _| i >= keep)
    }

    /// Remove each generation `doomed` says (given its place, 0 = newest),
    /// crash-safe as [`StateDir::prune`]. Returns how many went.
    pub fn prune_where(
        &self,
        _lock: &Lock,
        doomed: impl Fn(usize, &Generation) -> bool,
    ) -> Result<usize, CommitError> {
        let gens = self.generations()?;
        let mut removed = 0;
        let doomed: Vec<&Generation> = gens
            .iter()
            .enumerate()
            .filter(|(i, g)| doomed(*i, g))
            .map(|(_, g)| g)
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        let gdir = self.generations_dir()?;
        for g in doomed {
            let trash = format!("trash-{}", g.id);
            fs::rename(gdir.as_fd(), &g.id, self.dir(), &trash)
                .map_err(|e| io_err("prune", &g.path, e))?;
            crash_point("after-trash");
            remove_tree(self.dir(), &trash).map_err(|e| io_err("remove", &self.at(&trash), e))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Bytes on disk of each of `gens` (as [`StateDir::generations`] listed
    /// them), in their order, and of all of them together (a file shared by
    /// hard links counts once).
    pub fn usage(&self, gens: &[Generation]) -> Result<(Vec<u64>, u64), CommitError> {
        let gpath = self.at(GENERATIONS);
        let mut seen = std::collections::HashSet::new();
        let mut each = Vec::new();
        let mut total = 0;
        if gens.is_empty() {
            return Ok((each, 0));
        }
        let gdir = self.generations_dir()?;
        for g in gens {
            let dir = fs::open_beneath(
                gdir.as_fd(),
                &g.id,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io_err("open", &gpath.join(&g.id), e))?;
            let n = fs::tree_usage(dir.as_fd(), c"tree", &mut seen)
                .map_err(|e| io_err("measure", &g.path, e))?;
            total += n;
            each.push(n);
        }
        Ok((each, total))
    }

    /// Remove generation `id` when its tree is the same as the tree in place
    /// (restoring the same archive again keeps nothing twice). Crash-safe as
    /// [`StateDir::prune`]. Returns whether it went.
    pub fn drop_if_same(&self, lock: &Lock, id: &str) -> Result<bool, CommitError> {
        if !is_generation_id(id) {
            return Ok(false);
        }
        let gpath = self.at(GENERATIONS).join(id);
        let gdir = self.generations_dir()?;
        let dir = match fs::open_beneath(
            gdir.as_fd(),
            id,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_err("open", &gpath, e)),
        };
        let name = std::ffi::CString::new(self.name.as_str())
            .map_err(|_| CommitError::Refused("a destination name with a NUL byte".into()))?;
        let same = fs::same_tree(dir.as_fd(), c"tree", self.parent.as_fd(), &name)
            .map_err(|e| io_err("compare", &gpath.join("tree"), e))?;
        if !same {
            return Ok(false);
        }
        Ok(self.prune_where(lock, |_, g| g.id == id)? == 1)
    }

    /// The kept generations, newest first.
    pub fn generations(&self) -> Result<Vec<Generation>, CommitError> {
        let gpath = self.at(GENERATIONS);
        let gdir = match rfs::openat(
            self.dir(),
            GENERATIONS,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(Vec::new()),
            Err(e) => return Err(io_err("open", &gpath, e.into())),
        };
        let mut out = Vec::new();
        for id in names_in(gdir.as_fd(), &gpath)? {
            // Only names of the form this tool writes are generations; anything
            // else is neither listed, rolled back to, nor pruned.
            // A symlink in place of a generation would lead out of the state
            // directory: only real directories are generations.
            if !is_generation_id(&id)
                || kind_at(gdir.as_fd(), &id).map_err(|e| io_err("stat", &gpath.join(&id), e))?
                    != Some(FileType::Directory)
            {
                continue;
            }
            // A generation whose tree was moved out (a rollback interrupted after
            // its swap) is a husk: not listed, removed by recovery.
            if kind_at(gdir.as_fd(), &format!("{id}/tree"))
                .map_err(|e| io_err("stat", &gpath.join(&id), e))?
                != Some(FileType::Directory)
            {
                continue;
            }
            let meta = read_small(gdir.as_fd(), &format!("{id}/meta.json"))
                .ok()
                .flatten()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            out.push(Generation {
                path: gpath.join(&id).join("tree"),
                id,
                meta,
            });
        }
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }
}

/// A small regular file of the state directory (at most 1 MiB), `rel` to
/// `dir`, opened without following a symlink in its last component and without
/// blocking (a planted FIFO would wait forever in `open`); `None` if it is
/// missing. Callers check that every earlier component is a real directory.
fn read_small(dir: BorrowedFd<'_>, rel: &str) -> io::Result<Option<Vec<u8>>> {
    let fd = match rfs::openat(
        dir,
        rel,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(e) => return Err(errno(e)),
    };
    let st = rfs::fstat(&fd).map_err(errno)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{rel} is not a regular file"),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(1 << 20)
        .read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// A name that an interrupted run leaves in the state directory.
fn is_leftover(name: &str) -> bool {
    name.starts_with("staging-")
        || name.starts_with("trash-")
        || name.starts_with("parked-")
        // The deep part of a tree being removed, moved up (fs::remove_tree).
        || name.starts_with(crate::fs::REMOVING_PREFIX)
        || name.ends_with(".tmp")
}

/// Does the file system under `dir` keep permission bits? (A probe file.)
fn keeps_modes(dir: &OwnedFd) -> bool {
    crate::stage::probe(dir.as_fd()).map_or(true, |t| t.keeps_modes)
}

fn names_in(dir: BorrowedFd<'_>, shown: &Path) -> Result<Vec<String>, CommitError> {
    let mut out = Vec::new();
    for entry in rfs::Dir::read_from(dir).map_err(|e| io_err("read", shown, e.into()))? {
        let entry = entry.map_err(|e| io_err("read", shown, errno(e)))?;
        let n = entry.file_name().to_string_lossy().into_owned();
        if n != "." && n != ".." {
            out.push(n);
        }
    }
    Ok(out)
}

/// `projectrestore recover DIR`: a no-op when DIR has no state directory.
pub fn recover_dir(dest: &Path) -> Result<Recovery, CommitError> {
    let state = state_dir_path(dest)?;
    if std::fs::symlink_metadata(&state).is_err() {
        return Ok(Recovery {
            swap: "none".into(),
            removed_staging: 0,
        });
    }
    let dir = StateDir::open(dest)?;
    let lock = dir.lock(false)?;
    dir.recover(&lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(state: &StateDir, lock: &Lock, file: &str) -> Staging {
        let s = state.create_staging(lock).unwrap();
        std::fs::write(state.path().join(&s.name).join(file), file).unwrap();
        s
    }

    #[test]
    fn first_restore_then_swap_keeps_the_old_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        let state = StateDir::open(&dest).unwrap();
        let lock = state.lock(false).unwrap();
        assert_eq!(state.dest_state().unwrap(), DestState::Missing);
        let s = staged(&state, &lock, "one");
        let a = GenerationMeta {
            archive: "a.tar".into(),
            ..Default::default()
        };
        assert_eq!(state.commit(&lock, s, &a).unwrap().replaced, None);
        assert!(dest.join("one").exists());
        assert_eq!(state.dest_state().unwrap(), DestState::Managed);
        let s = staged(&state, &lock, "two");
        let meta = GenerationMeta {
            archive: "b.tar".into(),
            ..Default::default()
        };
        let c = state.commit(&lock, s, &meta).unwrap();
        assert!(dest.join("two").exists() && !dest.join("one").exists());
        let gens = state.generations().unwrap();
        assert_eq!(gens.len(), 1);
        assert_eq!(Some(gens[0].id.clone()), c.replaced);
        assert!(gens[0].path.join("one").exists());
        // The generation describes the tree it holds; current.json the tree in place.
        assert_eq!(gens[0].meta.archive, "a.tar");
        assert!(!gens[0].meta.replaced.is_empty());
        assert_eq!(state.current().unwrap().archive, "b.tar");

        // Rollback puts "one" back and keeps "two" as the newest generation.
        let r = state.rollback(&lock, &gens[0].id, "t1").unwrap();
        assert!(dest.join("one").exists() && !dest.join("two").exists());
        let after = state.generations().unwrap();
        assert_eq!(
            after.len(),
            1,
            "the rolled-back generation is not listed twice"
        );
        assert_eq!(Some(after[0].id.clone()), r.replaced);
        assert_eq!(after[0].meta.archive, "b.tar");
        let cur = state.current().unwrap();
        assert_eq!(
            (cur.archive.as_str(), cur.how.as_str()),
            ("a.tar", "rollback")
        );
        // And undone.
        state.rollback(&lock, &after[0].id, "t2").unwrap();
        assert!(dest.join("two").exists() && !dest.join("one").exists());
        assert_eq!(state.current().unwrap().archive, "b.tar");
        assert_eq!(state.prune(&lock, 0).unwrap(), 1);
        assert!(state.generations().unwrap().is_empty());
        assert_eq!(
            names_in(state.generations_dir().unwrap().as_fd(), &state.path)
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn lock_contention_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        let a = StateDir::open(&dest).unwrap();
        let _held = a.lock(false).unwrap();
        let b = StateDir::open(&dest).unwrap();
        match b.lock(false) {
            Err(CommitError::Locked { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_symlinked_destination_lock_and_state() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("real")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("real"), tmp.path().join("dest")).unwrap();
        assert!(matches!(
            StateDir::open(&tmp.path().join("dest")),
            Err(CommitError::Refused(_))
        ));
        std::os::unix::fs::symlink(
            tmp.path().join("real"),
            tmp.path().join(".d2.projectrestore"),
        )
        .unwrap();
        assert!(matches!(
            StateDir::open(&tmp.path().join("d2")),
            Err(CommitError::Refused(_))
        ));
        let s = StateDir::open(&tmp.path().join("d3")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", s.path().join("lock")).unwrap();
        assert!(matches!(s.lock(false), Err(CommitError::Refused(_))));
    }

    #[test]
    fn refuses_state_directory_writable_by_others() {
        let tmp = tempfile::tempdir().unwrap();
        let st = tmp.path().join(".d.projectrestore");
        std::fs::create_dir(&st).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&st, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(
            StateDir::open(&tmp.path().join("d")),
            Err(CommitError::Refused(_))
        ));
    }

    #[test]
    fn recover_removes_stale_staging_and_undoes_an_unswapped_journal() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("old"), b"old").unwrap();
        let state = StateDir::open(&dest).unwrap();
        let lock = state.lock(false).unwrap();
        let s = staged(&state, &lock, "new");
        let st = rfs::fstat(&s.fd).unwrap();
        let j = Journal {
            staging: s.name.clone(),
            generation: "00000000000000000001".into(),
            new: fs::identity(&st),
            old: identity_at(state.parent.as_fd(), "dest").unwrap(),
            parked: None,
            meta: GenerationMeta::default(),
            old_meta: None,
            rollback_of: None,
        };
        state
            .write_durably(
                state.dir(),
                JOURNAL,
                &serde_json::to_vec(&j).unwrap(),
                &state.at(JOURNAL),
            )
            .unwrap();
        let r = state.recover(&lock).unwrap();
        assert_eq!(r.swap, "undone");
        assert_eq!(r.removed_staging, 1);
        assert!(dest.join("old").exists());
        assert!(state.read_journal().unwrap().is_none());
    }
}

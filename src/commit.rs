//! Commit: the state directory, the lock, the atomic swap, the journal, recovery
//! and generations (invariants 2 and 5).
//!
//! STUB: implemented by the staging/commit work.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// A failure in the state directory or the swap.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Another restore holds the lock (exit 3).
    #[error("another restore of {dest} is running (pid {pid}); wait for it or pass --wait")]
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
        source: std::io::Error,
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

/// Metadata kept with every replaced tree.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct GenerationMeta {
    pub archive: String,
    pub sha256: String,
    pub signers: Vec<String>,
    pub time: String,
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

/// `.DIRNAME.projectrestore/` beside a destination.
#[derive(Debug)]
pub struct StateDir {
    dest: PathBuf,
    path: PathBuf,
}

impl StateDir {
    /// Open (creating if needed, mode 0700) the state directory of `dest`.
    pub fn open(dest: &Path) -> Result<Self, CommitError> {
        Err(CommitError::Refused(format!(
            "not implemented: {}",
            dest.display()
        )))
    }
    /// The state directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }
    /// What the destination holds now.
    pub fn dest_state(&self) -> Result<DestState, CommitError> {
        Ok(DestState::Missing)
    }
    /// Take the exclusive lock (waiting if `wait`).
    pub fn lock(&self, wait: bool) -> Result<Lock, CommitError> {
        let _ = wait;
        Err(CommitError::Refused("not implemented".into()))
    }
    /// Finish or undo an interrupted swap and remove stale staging.
    pub fn recover(&self, _lock: &Lock) -> Result<Recovery, CommitError> {
        Ok(Recovery::default())
    }
    /// A new, empty, private staging directory.
    pub fn create_staging(&self, _lock: &Lock) -> Result<Staging, CommitError> {
        Err(CommitError::Refused("not implemented".into()))
    }
    /// Remove a staging directory and everything in it.
    pub fn discard(&self, _lock: &Lock, _staging: Staging) -> Result<(), CommitError> {
        Ok(())
    }
    /// Swap staging into place atomically and keep the replaced tree as a generation.
    pub fn commit(
        &self,
        _lock: &Lock,
        _staging: Staging,
        _meta: &GenerationMeta,
    ) -> Result<Committed, CommitError> {
        Err(CommitError::Refused("not implemented".into()))
    }
    /// Remove generations beyond the newest `keep`; returns how many were removed.
    /// Crash-safe: a generation is renamed to `trash-*` before it is deleted, and
    /// `recover` removes leftover trash.
    pub fn prune(&self, _lock: &Lock, keep: usize) -> Result<usize, CommitError> {
        let _ = keep;
        Ok(0)
    }
    /// The kept generations, newest first.
    pub fn generations(&self) -> Result<Vec<Generation>, CommitError> {
        Ok(Vec::new())
    }
}

/// `projectrestore recover DIR`: a no-op when DIR has no state directory.
pub fn recover_dir(dest: &Path) -> Result<Recovery, CommitError> {
    let _ = dest;
    Ok(Recovery {
        swap: "none".into(),
        removed_staging: 0,
    })
}

/// Named steps where `PROJECTRESTORE_CRASH_AT` aborts the process (crash tests).
pub fn crash_points() -> &'static [&'static str] {
    &[]
}

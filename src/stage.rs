//! The staging writer: every validated entry is created beneath the private staging
//! directory, never following a symlink (invariant 3).
//!
//! STUB: implemented by the staging/commit work.

use std::io::Read;
use std::os::fd::OwnedFd;

use crate::archive::{SafeEntry, Sink};

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
        source: std::io::Error,
    },
    /// The destination file system cannot hold this entry (exit 5).
    #[error("entry {path} cannot be created here: {why}")]
    Unsupported { path: String, why: String },
}

/// Writes entries into a staging directory.
#[derive(Debug)]
pub struct StagingWriter {
    root: OwnedFd,
    options: StageOptions,
    stats: StageStats,
}

impl StagingWriter {
    /// `root` is an open handle of an empty, private staging directory.
    pub fn new(root: OwnedFd, options: StageOptions) -> Self {
        StagingWriter {
            root,
            options,
            stats: StageStats::default(),
        }
    }

    /// Apply directory modes and times, and make everything durable.
    pub fn finish(self) -> Result<StageStats, StageError> {
        let _ = (&self.root, &self.options);
        Ok(self.stats)
    }
}

impl Sink for StagingWriter {
    type Error = StageError;
    fn entry(&mut self, entry: &SafeEntry, data: &mut dyn Read) -> Result<(), StageError> {
        let _ = data;
        Err(StageError::Unsupported {
            path: entry.path.to_string(),
            why: "not implemented".into(),
        })
    }
}

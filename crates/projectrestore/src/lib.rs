//! projectrestore: restore project backups that trust nothing.
//!
//! The pipeline (see `DESIGN.md`): source → digests → decrypt → decompress → tar
//! reader → validator → sink → gate → commit. Each stage lives in its own module
//! with its own error type; [`Error`] gathers them and [`Error::category`] says
//! which documented exit code a failure maps to. The library never prints.
//!
//! Verifying an archive completely (checksum sidecar, every entry) without writing:
//!
//! ```
//! use projectrestore::interact::NoInteraction;
//! use projectrestore::restore::{self, Options};
//! use projectrestore::source::Input;
//!
//! let opts = Options {
//!     input: Some(Input::File(
//!         concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo/2026-11-23_090000-demo-older.tar.gz").into(),
//!     )),
//!     ..Options::default()
//! };
//! let report = restore::run(&opts, &projectrestore::event::NoEvents, &NoInteraction::shared())?;
//! assert_eq!(report.summary.files, 6);
//! assert!(report.checksum.is_some_and(|c| c.matched));
//! # Ok::<(), projectrestore::Error>(())
//! ```
//!
//! With `action: Action::Restore { dest }` the same call restores into `dest`
//! atomically ([`restore::prepare`] and [`restore::Prepared::execute`] split it
//! into plan and run, for callers that show the plan first). What the
//! run must ask (a passphrase, whether to replace a tree projectrestore did not
//! make) goes through the [`interact::Interaction`] given to it: the library never
//! prompts, never reads the terminal or the environment for answers.

pub mod archive;
pub mod audit;
/// The file-system layer, staging writer and commit (from `projectrestore-fs`).
pub use projectrestore_fs::{commit, fs, stage};
pub mod config;
pub mod contain;
pub mod decrypt;
pub mod discover;
pub mod event;
mod explain;
#[doc(hidden)]
pub mod fuzzing;
pub mod history;
pub mod interact;
pub mod listing;
pub mod log;
#[cfg(feature = "notify")]
pub mod notify;
pub mod pipe;
pub mod plan;
pub mod preview;
pub mod report;
pub mod restore;
pub mod sandbox;
pub mod select;
pub mod source;
pub mod verify;

impl<E> From<select::SelectError<E>> for Error
where
    Error: From<E>,
{
    fn from(e: select::SelectError<E>) -> Self {
        match e {
            select::SelectError::Inner(e) => e.into(),
            select::SelectError::Io(e) => archive::ArchiveError::Io(e).into(),
            select::SelectError::HardlinkTarget { link, target } => Error::Usage(format!(
                "{link} is a hard link to {target}, which the selection leaves out; select {target} too"
            )),
        }
    }
}

/// Every way a run can fail, by stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error(transparent)]
    Verify(#[from] verify::VerifyError),
    #[error(transparent)]
    Decrypt(#[from] decrypt::DecryptError),
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    #[error(transparent)]
    Stage(#[from] stage::StageError),
    #[error(transparent)]
    Commit(#[from] commit::CommitError),
    #[error(transparent)]
    Log(#[from] log::LogError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Sandbox(#[from] sandbox::SandboxError),
    /// SIGINT or SIGTERM arrived; nothing was changed.
    #[error("interrupted; nothing was changed")]
    Interrupted,
    /// Arguments that clap could not check.
    #[error("{0}")]
    Usage(String),
    /// The user declined a confirmation, or one was needed without a terminal.
    #[error("{0}")]
    NotConfirmed(String),
}

/// The documented exit-code classes (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// 1: I/O and other errors.
    Error,
    /// 2: interrupted.
    Interrupted,
    /// 3: another restore holds the lock.
    Locked,
    /// 4: verification failed.
    Verification,
    /// 5: archive rejected as unsafe or over a limit.
    Unsafe,
    /// 6: decryption failed.
    Decryption,
    /// 64: usage error.
    Usage,
}

impl Error {
    /// Which exit-code class this failure belongs to.
    pub fn category(&self) -> Category {
        match self {
            Error::Source(e) if e.is_changed() => Category::Verification,
            Error::Source(e) if source::is_cancelled(e) => Category::Interrupted,
            Error::Source(_) => Category::Error,
            Error::Archive(archive::ArchiveError::Io(e)) if source::changed_in(e) => {
                Category::Verification
            }
            Error::Verify(_) => Category::Verification,
            Error::Decrypt(_) => Category::Decryption,
            Error::Archive(archive::ArchiveError::Io(_)) => Category::Error,
            Error::Archive(_) => Category::Unsafe,
            Error::Stage(stage::StageError::Unsupported { .. }) => Category::Unsafe,
            Error::Stage(_) => Category::Error,
            Error::Commit(commit::CommitError::Locked { .. }) => Category::Locked,
            Error::Commit(_) => Category::Error,
            Error::Log(e) if e.is_verification() => Category::Verification,
            Error::Log(_) => Category::Error,
            Error::Config(_) => Category::Usage,
            Error::Sandbox(sandbox::SandboxError::Unavailable) => Category::Usage,
            Error::Sandbox(_) => Category::Unsafe,
            Error::Interrupted => Category::Interrupted,
            Error::Usage(_) => Category::Usage,
            Error::NotConfirmed(_) => Category::Error,
        }
    }
}

/// Progress of long work. The library calls it; the binary draws it (STYLE.md 1).
pub trait Progress: Sync {
    /// A new phase begins; `total` is the number of stored bytes it will read, if known.
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    /// `bytes` more stored bytes were read.
    fn advance(&self, _bytes: u64) {}
    /// One more entry of the archive was validated (and written, unless
    /// nothing is).
    fn entry(&self) {}
    /// A broken download goes on from where it broke.
    fn resumed(&self, _resume: &source::Resume) {}
    /// The work is done.
    fn done(&self) {}
}

/// No progress output.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

//! projectrestore-archive: format sniffing, the path rules and the tar validator
//! that turns raw tar entries into [`SafeEntry`] values for a [`Sink`]. Pure
//! Rust, `Read` in and entries out: no file system, no C, no threads, so it
//! builds for `wasm32-wasip1` (the sandboxed extractor's guest) and every host.
//! The pure-Rust decoders (gzip, xz, bzip2) and the ratio guard are here behind
//! the `decode` feature; zstd's decoder is the caller's ([`decode::ZstdDecoder`]).
//!
//! The `tar` crate is used as a parser only (`entries_raw`); PAX and GNU
//! long-name/long-link extension headers are interpreted here so that every rule is
//! applied to the final path, link target and size.

#[cfg(feature = "decode")]
pub mod decode;
pub mod path;
pub mod sniff;
mod text;
pub mod validate;
pub mod wire;

use std::io::Read;

/// The error a cancelled read returns (the caller's reader raises it inside an
/// `io::Error`; the validator recognises it and stops quietly).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Cancelled;

/// A bug in this program, caught on one of its own stages (a panic), carried
/// as an `io::Error` payload: never a verdict on the input (exit 1, like an
/// I/O failure; the validator recognises it and does not call the archive
/// malformed).
#[derive(Debug, Clone, thiserror::Error)]
#[error("internal error (a bug in projectrestore, not in the archive): {0}; please report it")]
pub struct Internal(pub String);

pub use path::SafeRelPath;
pub use sniff::{sniff, Format};
pub use text::{escape, escape_bytes};
pub use validate::{classify_read_error, extract};

/// Resource limits, each enforced before the resource is spent (invariant 4), on
/// declared and on actual sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of entries (files, directories, links).
    pub max_files: u64,
    /// Maximum total bytes of file contents.
    pub max_bytes: u64,
    /// Maximum size of one file.
    pub max_entry_bytes: u64,
    /// Maximum number of path components.
    pub max_depth: usize,
    /// Maximum length of a path, in bytes.
    pub max_path_bytes: usize,
    /// Maximum length of one path component, in bytes.
    pub max_name_bytes: usize,
    /// Maximum size of one PAX or GNU long-name/long-link header.
    pub max_pax_bytes: u64,
    /// Maximum ratio of decompressed to compressed bytes (after a small grace).
    pub max_ratio: u64,
    /// Largest zstd window (decoder memory) a frame may ask for, in bytes; as
    /// `zstd --memory`. Frames made with `--long=31` ask for 2 GiB.
    pub max_zstd_window: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: 1_000_000,
            max_bytes: 100 << 30,
            max_entry_bytes: 32 << 30,
            max_depth: 128,
            max_path_bytes: 4096,
            max_name_bytes: 255,
            max_pax_bytes: 1 << 20,
            max_ratio: 1000,
            max_zstd_window: 128 << 20,
        }
    }
}

/// Which of the [`Limits`] was exceeded: a front end maps it to the setting
/// that raises it (the command line's `--max-files` and so on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// `max_files`
    Files,
    /// `max_bytes`
    Bytes,
    /// `max_entry_bytes`
    EntrySize,
    /// `max_depth`
    Depth,
    /// `max_path_bytes`
    PathLength,
    /// `max_name_bytes`
    NameLength,
    /// `max_pax_bytes`
    PaxSize,
    /// `max_ratio`
    Ratio,
    /// `max_zstd_window`
    ZstdWindow,
}

/// What the validator does with entries that are legal but need a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryPolicy {
    /// Drop this many leading path components (as `tar --strip-components`).
    pub strip_components: usize,
    /// Reserved for GNU sparse entries: extracting them is not implemented yet, so
    /// they are refused with or without this flag.
    pub allow_sparse: bool,
    /// Keep setuid/setgid/sticky and group/world write bits.
    pub keep_permissions: bool,
    /// The destination folds case (found at run time by `stage::probe`): two
    /// paths that differ only in case are one name there, so they are refused.
    pub fold_case: bool,
}

/// What an entry is, after every override and check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file of `size` bytes; its data follows in the sink call.
    File { size: u64 },
    /// A directory.
    Dir,
    /// A symlink; `target` is relative and stays inside the restored tree.
    Symlink { target: String },
    /// A hard link to an earlier regular file of the same archive.
    Hardlink { target: SafeRelPath },
}

/// An entry that passed every rule of the entry policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeEntry {
    /// Validated, normalised path (after `--strip-components`).
    pub path: SafeRelPath,
    /// What to create.
    pub kind: EntryKind,
    /// Permission bits after the policy (0o7777 at most).
    pub mode: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Owner, applied only as root with `--same-owner`.
    pub uid: u64,
    /// Group, applied only as root with `--same-owner`.
    pub gid: u64,
}

/// Where validated entries go: the staging writer, or a null sink for dry runs.
pub trait Sink {
    /// The sink's own error type.
    type Error;
    /// Create one entry. For [`EntryKind::File`], `data` yields exactly `size` bytes
    /// (the sink should read it to the end); for other kinds it is empty.
    fn entry(&mut self, entry: &SafeEntry, data: &mut dyn Read) -> Result<(), Self::Error>;

    /// A parent directory the archive did not list, created before the entry
    /// beneath it (mode 0755). The sandbox's guest tells the host it is one;
    /// every other sink treats it as any directory.
    fn implicit_dir(&mut self, entry: &SafeEntry) -> Result<(), Self::Error> {
        self.entry(entry, &mut std::io::empty())
    }
}

/// A sink that reads and discards everything: the whole pass, no writes.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    type Error = std::io::Error;
    fn entry(&mut self, _entry: &SafeEntry, data: &mut dyn Read) -> Result<(), Self::Error> {
        std::io::copy(data, &mut std::io::sink())?;
        Ok(())
    }
}

/// Counts of what an archive held.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Bytes of file contents.
    pub bytes: u64,
    /// Entries skipped by `--strip-components`.
    pub stripped: u64,
    /// Mode and time of the archive's root entry (`./`), if it had one.
    #[serde(skip)]
    pub root: Option<(u32, i64)>,
}

/// Why an archive was refused or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// An entry broke a rule of the entry policy (exit 5).
    #[error("unsafe entry {entry}: {rule}")]
    Rejected { entry: String, rule: String },
    /// A limit would be exceeded (exit 5). The message states the fact; which
    /// setting raises it is the caller's to say (`kind`).
    #[error("limit exceeded: {what} ({value} > {limit})")]
    Limit {
        what: &'static str,
        value: u64,
        limit: u64,
        kind: LimitKind,
    },
    /// The archive is not well-formed (exit 5).
    #[error("malformed archive: {0}")]
    Malformed(String),
    /// Not a tar, gzip or zstd stream (exit 5).
    #[error("unrecognised format: {0}")]
    UnknownFormat(String),
    /// Reading failed (exit 1).
    #[error("read error: {0}")]
    Io(#[source] std::io::Error),
}

/// The result of a whole extraction: what was read, or where it stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError<E> {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("writing entry {entry}")]
    Sink { entry: String, source: E },
}

/// The typed error a decompressor's ratio guard raises inside `io::Error` (found
/// again by [`ratio_error`]).
#[derive(Debug, thiserror::Error)]
#[error("compression ratio over {limit}:1 ({output} bytes out of {input})")]
pub struct RatioExceeded {
    pub input: u64,
    pub output: u64,
    pub limit: u64,
}

/// The ratio error inside an I/O error (possibly wrapped by the tar parser).
pub fn ratio_error(err: &(dyn std::error::Error + 'static)) -> Option<ArchiveError> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        let found = e.downcast_ref::<RatioExceeded>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|i| i.downcast_ref::<RatioExceeded>())
        });
        if let Some(r) = found {
            return Some(ArchiveError::Limit {
                what: "compression ratio",
                value: r.output / r.input.max(1),
                limit: r.limit,
                kind: LimitKind::Ratio,
            });
        }
        cur = e.source();
    }
    None
}

//! The append-only log of archive digests (DESIGN.md "Append-only log").
//!
//! A log is a directory:
//!
//! ```text
//! LOG/vkey            the note verifier key, NAME+KEYID+BASE64 (C2SP signed-note)
//! LOG/checkpoint      the latest C2SP tlog-checkpoint, signed with that key
//! LOG/entries.jsonl   one JSON object per line; leaf i = line i without its newline
//! LOG/tile/...        the tree's hashes as C2SP tlog-tiles (height 8)
//! LOG/lock            appends hold an exclusive flock on it
//! ```
//!
//! Hashing is RFC 6962 ([`merkle`]); anyone can recompute the root from
//! `entries.jsonl` and check the checkpoint with Go's `sumdb/note` or any C2SP tool.
//! Appends are crash-safe: entries are fsynced first, then tiles, then the
//! checkpoint is replaced by write-to-temp + fsync + rename + directory fsync. An
//! interrupted append leaves lines after the last checkpointed entry; they are
//! reported, moved aside to `LOG/uncommitted-<time>.jsonl` by the next append, and
//! never counted.

pub mod anchor;
pub mod gate;
pub mod merkle;
pub mod note;
pub mod tiles;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use merkle::{Hash, ProofError};
use note::{Checkpoint, NoteError, SignerKey, VerifierKey};
use tiles::{TileError, TileReader};

/// Longest entry line accepted (an archive name is at most a few hundred bytes).
pub const MAX_ENTRY_LEN: usize = 64 * 1024;
/// Largest proof file read from outside.
const MAX_PROOF_FILE: u64 = 64 * 1024;
const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Everything that can go wrong with a log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("key {path}: {source}")]
    Key { path: String, source: NoteError },
    #[error("checkpoint {path}: {source}")]
    Checkpoint { path: String, source: NoteError },
    #[error("{0}")]
    Tampered(String),
    #[error("the log's tiles do not match its signed checkpoint: {0}")]
    Tiles(#[from] TileError),
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    #[error("archive {sha256} is not in the log {log} (checked against its signed checkpoint of {size} entries)")]
    NotIncluded {
        sha256: String,
        log: String,
        size: u64,
    },
    #[error("{0}")]
    Older(String),
}

impl LogError {
    /// `true` for findings about integrity (exit 4), `false` for I/O and setup (exit 1).
    pub fn is_verification(&self) -> bool {
        !matches!(
            self,
            LogError::Io { .. } | LogError::Invalid(_) | LogError::Key { .. }
        )
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> LogError + 'a {
    move |source| LogError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

/// One logged archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log (leaf index).
    pub seq: u64,
    /// SHA-256 of the archive as stored (hex).
    pub sha256: String,
    /// Size in bytes as stored.
    pub size: u64,
    /// File name.
    pub archive: String,
    /// Project the archive belongs to.
    pub project: String,
    /// When the backup was made, from projectclone's name (`YYYY-MM-DDTHH:MM:SS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_time: Option<String>,
    /// Trusted signers that verified it when it was logged.
    pub signers: Vec<String>,
    /// When it was logged (RFC 3339, UTC).
    pub time: String,
}

impl Entry {
    /// The order used for rollback protection: backup time when known, then position.
    fn newer_than(&self, other: &Entry) -> bool {
        match (&self.archive_time, &other.archive_time) {
            (Some(a), Some(b)) if a != b => a > b,
            _ => self.seq > other.seq,
        }
    }
}

/// What a new entry records (the log fills in `seq` and `time`).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub sha256: String,
    pub size: u64,
    pub archive: String,
    pub project: String,
    pub signers: Vec<String>,
}

/// `YYYY-MM-DD_HHMMSS-PROJECT-NOTE.tar…` → (`PROJECT`, `YYYY-MM-DDTHH:MM:SS`). The
/// note is the part after the last `-`; a name without one is all project.
pub fn parse_name(name: &str) -> Option<(String, String)> {
    let b = name.as_bytes();
    let shape = b.len() > 18
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'_'
        && b[17] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 13, 14, 15, 16]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !shape {
        return None;
    }
    let time = format!(
        "{}T{}:{}:{}",
        &name[..10],
        &name[11..13],
        &name[13..15],
        &name[15..17]
    );
    let rest = &name[18..];
    let stem = rest.find(".tar").map_or(rest, |i| &rest[..i]);
    let project = stem.rsplit_once('-').map_or(stem, |(p, _)| p);
    (!project.is_empty()).then(|| (project.to_string(), time))
}

/// The project an archive belongs to: `explicit` (`--project`), else from
/// projectclone's name, else the destination directory's name.
pub fn project_of(explicit: Option<&str>, archive: &str, dest: Option<&Path>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| parse_name(archive).map(|(p, _)| p))
        .or_else(|| {
            dest.and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
}

/// Where the log's verifier key came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// Given by the user (`--vkey`, `--log-vkey`, or derived from `--key`).
    Pinned,
    /// Read from `LOG/vkey`, which whoever can write the log can replace.
    LogDirectory,
}

/// An opened log with its verifier key.
pub struct Log {
    dir: PathBuf,
    key: VerifierKey,
    key_source: KeySource,
}

/// A checkpoint whose signature has been verified, with its text.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: String,
}

/// An inclusion proof for one entry.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex.
    pub leaf_hash: String,
    /// Hex, deepest first.
    pub audit_path: Vec<String>,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// The entry line the leaf hash is computed from.
    pub entry: String,
}

/// What [`Log::lookup`] found.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// The first entry of the digest, with its line (the leaf).
    pub found: Option<(Entry, String)>,
    /// The newest entry of the project.
    pub newest: Option<Entry>,
}

/// What `log verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub origin: String,
    pub size: u64,
    /// Base64, as in the checkpoint.
    pub root: String,
    pub key: String,
    pub key_source: KeySource,
    /// Size of the older checkpoint proved consistent, if one was given.
    pub consistent_with: Option<u64>,
    /// Bytes after the last checkpointed entry (an interrupted append).
    pub uncommitted_bytes: u64,
    pub warnings: Vec<String>,
}

/// Create a signing key file (mode 0600, never overwriting) and return its verifier key.
pub fn keygen(origin: &str, out: &Path) -> Result<VerifierKey, LogError> {
    let key = SignerKey::generate(origin).map_err(|source| LogError::Key {
        path: out.display().to_string(),
        source,
    })?;
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(out).map_err(io_err("create", out))?;
    let text = key.encode();
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(io_err("write", out))?;
    Ok(key.verifier())
}

/// Read a signing key file.
pub fn load_signer(path: &Path) -> Result<SignerKey, LogError> {
    let text = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(io_err("read", path))?);
    SignerKey::parse(&text).map_err(|source| LogError::Key {
        path: path.display().to_string(),
        source,
    })
}

/// A verifier key given as text or as a file holding it. The text is tried
/// first: a key's text (`NAME+KEYID+BASE64`) is also a relative path, and a
/// file planted under that name in the current directory must not be able to
/// stand in for the key it spells.
pub fn load_vkey(arg: &str) -> Result<VerifierKey, LogError> {
    if let Ok(key) = VerifierKey::parse(arg) {
        return Ok(key);
    }
    let path = Path::new(arg);
    let text = if path.is_file() {
        fs::read_to_string(path).map_err(io_err("read", path))?
    } else {
        arg.to_string()
    };
    VerifierKey::parse(&text).map_err(|source| LogError::Key {
        path: arg.to_string(),
        source,
    })
}

/// Replace `dir/rel` with `data`: temporary file beside it, fsync, rename (the
/// parent is created if needed; its own fsync is the caller's, see [`write_atomic`]).
fn write_synced(dir: &Path, rel: &str, data: &[u8]) -> io::Result<PathBuf> {
    let path = dir.join(rel);
    let parent = path.parent().unwrap_or(dir);
    fs::create_dir_all(parent)?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// [`write_synced`] and an fsync of the directory: durable once this returns.
fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<(), LogError> {
    write_synced(dir, name, data).map_err(io_err("replace", &dir.join(name)))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err("fsync", dir))
}

/// Create a new, empty log in `dir` (which must not exist or be empty).
pub fn init(dir: &Path, key: &SignerKey) -> Result<SignedCheckpoint, LogError> {
    if dir.exists() {
        let mut it = fs::read_dir(dir).map_err(io_err("read", dir))?;
        if it.next().is_some() {
            return Err(LogError::Invalid(format!(
                "{} is not empty; a log is created in a new or empty directory",
                dir.display()
            )));
        }
    } else {
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    }
    let vkey = key.verifier();
    write_atomic(dir, "vkey", format!("{}\n", vkey.encode()).as_bytes())?;
    write_atomic(dir, "entries.jsonl", b"")?;
    let cp = Checkpoint {
        origin: vkey.name().to_string(),
        size: 0,
        root: merkle::empty_root(),
    };
    let note = sign_checkpoint(key, &cp, Path::new("checkpoint"))?;
    write_atomic(dir, "checkpoint", note.as_bytes())?;
    Ok(SignedCheckpoint {
        checkpoint: cp,
        note,
    })
}

fn sign_checkpoint(key: &SignerKey, cp: &Checkpoint, path: &Path) -> Result<String, LogError> {
    key.sign(&cp.text()).map_err(|source| LogError::Checkpoint {
        path: path.display().to_string(),
        source,
    })
}

/// A flock held on `LOG/lock`.
struct LogLock {
    _file: File,
}

impl Log {
    /// Open the log in `dir`. With `pinned`, `LOG/vkey` must be that key.
    pub fn open(dir: &Path, pinned: Option<VerifierKey>) -> Result<Self, LogError> {
        let vkey_path = dir.join("vkey");
        if !dir.join("checkpoint").is_file() || !vkey_path.is_file() {
            return Err(LogError::Invalid(format!(
                "{} is not a projectrestore log (no checkpoint or vkey); create one with `projectrestore log init`",
                dir.display()
            )));
        }
        let text = fs::read_to_string(&vkey_path).map_err(io_err("read", &vkey_path))?;
        let found = VerifierKey::parse(&text).map_err(|source| LogError::Key {
            path: vkey_path.display().to_string(),
            source,
        })?;
        let (key, key_source) = match pinned {
            Some(p) if p != found => {
                return Err(LogError::Tampered(format!(
                    "{} holds the key {}, not the pinned key {}: the log was replaced or this is another log",
                    vkey_path.display(),
                    found.encode(),
                    p.encode()
                )))
            }
            Some(p) => (p, KeySource::Pinned),
            None => (found, KeySource::LogDirectory),
        };
        Ok(Log {
            dir: dir.to_path_buf(),
            key,
            key_source,
        })
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The verifier key in use.
    pub fn key(&self) -> &VerifierKey {
        &self.key
    }

    /// Whether the key was pinned by the user.
    pub fn key_source(&self) -> &KeySource {
        &self.key_source
    }

    fn lock(&self, exclusive: bool) -> Result<LogLock, LogError> {
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open", &path))?;
        let op = if exclusive {
            rustix::fs::FlockOperation::LockExclusive
        } else {
            rustix::fs::FlockOperation::LockShared
        };
        rustix::fs::flock(&file, op)
            .map_err(io::Error::from)
            .map_err(io_err("lock", &path))?;
        Ok(LogLock { _file: file })
    }

    /// The latest checkpoint, signature checked.
    pub fn checkpoint(&self) -> Result<SignedCheckpoint, LogError> {
        let path = self.dir.join("checkpoint");
        let note = fs::read(&path).map_err(io_err("read", &path))?;
        self.open_checkpoint(&note, &path)
    }

    /// Check a checkpoint (e.g. one kept elsewhere) with this log's key.
    pub fn open_checkpoint(&self, note: &[u8], path: &Path) -> Result<SignedCheckpoint, LogError> {
        let checkpoint =
            note::open_checkpoint(note, &self.key).map_err(|source| LogError::Checkpoint {
                path: path.display().to_string(),
                source,
            })?;
        Ok(SignedCheckpoint {
            checkpoint,
            note: String::from_utf8_lossy(note).into_owned(),
        })
    }

    fn entries_path(&self) -> PathBuf {
        self.dir.join("entries.jsonl")
    }

    /// Byte length of the first `size` lines of entries.jsonl and the length of the
    /// file. Found by bisection (entries are in `seq` order), so an append does not
    /// read the whole log.
    fn committed_len(&self, size: u64) -> Result<(u64, u64), LogError> {
        let path = self.entries_path();
        let mut f = File::open(&path).map_err(io_err("open", &path))?;
        let len = f.metadata().map_err(io_err("stat", &path))?.len();
        if size == 0 {
            return Ok((0, len));
        }
        let (_, end) = self.line_span(&mut f, size - 1, len)?.ok_or_else(|| {
            LogError::Tampered(format!(
                "{} does not hold entry {}, which the signed checkpoint covers: the log was truncated",
                path.display(),
                size - 1
            ))
        })?;
        Ok((end + 1, len))
    }

    /// The byte span (start, end of line without newline) of entry `index` in the
    /// first `len` bytes, by bisection on `seq`.
    fn line_span(
        &self,
        f: &mut File,
        index: u64,
        len: u64,
    ) -> Result<Option<(u64, u64)>, LogError> {
        let path = self.entries_path();
        let mut read_at = |off: u64, n: u64| -> Result<Vec<u8>, LogError> {
            let n = n.min(len.saturating_sub(off));
            let mut buf = vec![0u8; n as usize];
            f.seek(SeekFrom::Start(off))
                .and_then(|_| f.read_exact(&mut buf))
                .map_err(io_err("read", &path))?;
            Ok(buf)
        };
        const WINDOW: u64 = 2 * MAX_ENTRY_LEN as u64 + 2;
        // Invariant: `lo` is a line start and the wanted line starts in [lo, hi).
        let (mut lo, mut hi) = (0u64, len);
        while hi - lo > WINDOW {
            let mid = lo + (hi - lo) / 2;
            let buf = read_at(mid - 1, WINDOW)?;
            let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
                hi = mid;
                continue;
            };
            let s = mid + nl as u64;
            if s >= hi {
                hi = mid;
                continue;
            }
            let rest = &buf[nl + 1..];
            let seq = rest
                .iter()
                .position(|&b| b == b'\n')
                .and_then(|e| entry_seq(&rest[..e]));
            match seq {
                Some(q) if q <= index => lo = s,
                _ => hi = s,
            }
        }
        // A short range: read it (and the longest line that may start in it) and look.
        let buf = read_at(lo, hi - lo + MAX_ENTRY_LEN as u64 + 1)?;
        let mut start = 0usize;
        while let Some(e) = buf[start..].iter().position(|&b| b == b'\n') {
            let line = &buf[start..start + e];
            if entry_seq(line) == Some(index) {
                return Ok(Some((lo + start as u64, lo + (start + e) as u64)));
            }
            start += e + 1;
            if lo + start as u64 >= hi {
                break;
            }
        }
        Ok(None)
    }

    /// The line of entry `index` (found by bisection) under a checkpoint of `size`.
    fn line_at(&self, index: u64, size: u64) -> Result<String, LogError> {
        let (committed, _) = self.committed_len(size)?;
        let path = self.entries_path();
        let mut f = File::open(&path).map_err(io_err("open", &path))?;
        let (s, e) = self
            .line_span(&mut f, index, committed)?
            .ok_or_else(|| LogError::Tampered(format!("entries.jsonl has no entry {index}")))?;
        let mut buf = vec![0u8; (e - s) as usize];
        f.seek(SeekFrom::Start(s))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(io_err("read", &path))?;
        String::from_utf8(buf)
            .map_err(|_| LogError::Tampered(format!("entries.jsonl entry {index} is not UTF-8")))
    }

    /// Append entries (after the caller verified the archives). Returns their indices
    /// and the new checkpoint, plus warnings (an interrupted earlier append).
    pub fn append(
        &self,
        signer: &SignerKey,
        new: &[NewEntry],
        time: &str,
    ) -> Result<(Vec<u64>, SignedCheckpoint, Vec<String>), LogError> {
        if signer.verifier() != self.key {
            return Err(LogError::Invalid(format!(
                "the signing key is {} but this log's key is {}: use the key the log was created with",
                signer.verifier().encode(),
                self.key.encode()
            )));
        }
        let _lock = self.lock(true)?;
        let old = self.checkpoint()?;
        let size = old.checkpoint.size;
        // Tiles must agree with the signed root before anything is built on them.
        let mut reader = TileReader::new(&self.dir, size);
        if merkle::root(&mut reader, size)? != old.checkpoint.root {
            return Err(LogError::Tampered(
                "the root computed from LOG/tile does not match the signed checkpoint: the tiles were changed"
                    .into(),
            ));
        }
        let (committed, len) = self.committed_len(size)?;
        let mut warnings = Vec::new();
        let path = self.entries_path();
        if len > committed {
            let aside = self.set_aside(committed, len, time)?;
            warnings.push(format!(
                "{} bytes after entry {} were not covered by the checkpoint (an interrupted append); moved to {}",
                len - committed,
                size.saturating_sub(1),
                aside.display()
            ));
        }
        let (lines, leaves, indices) = encode_entries(new, size, time)?;
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        f.write_all(&lines)
            .and_then(|()| f.sync_all())
            .map_err(io_err("append to", &path))?;
        let superseded = tiles::extend(&self.dir, size, &leaves)?;
        let new_size = size + leaves.len() as u64;
        let mut reader = TileReader::new(&self.dir, new_size);
        let cp = Checkpoint {
            origin: self.key.name().to_string(),
            size: new_size,
            root: merkle::root(&mut reader, new_size)?,
        };
        let note = sign_checkpoint(signer, &cp, &self.dir.join("checkpoint"))?;
        crash_point("log-before-checkpoint");
        write_atomic(&self.dir, "checkpoint", note.as_bytes())?;
        for rel in superseded {
            let _ = fs::remove_file(self.dir.join(rel));
        }
        Ok((
            indices,
            SignedCheckpoint {
                checkpoint: cp,
                note,
            },
            warnings,
        ))
    }

    fn set_aside(&self, committed: u64, len: u64, time: &str) -> Result<PathBuf, LogError> {
        let path = self.entries_path();
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        let mut tail = vec![0u8; (len - committed) as usize];
        f.seek(SeekFrom::Start(committed))
            .and_then(|_| f.read_exact(&mut tail))
            .map_err(io_err("read", &path))?;
        let name = format!("uncommitted-{}.jsonl", time.replace(':', ""));
        write_atomic(&self.dir, &name, &tail)?;
        f.set_len(committed)
            .and_then(|()| f.sync_all())
            .map_err(io_err("truncate", &path))?;
        Ok(self.dir.join(name))
    }

    /// Call `f(index, line)` for each of the first `size` entries.
    pub fn scan(
        &self,
        size: u64,
        mut f: impl FnMut(u64, &[u8]) -> Result<ControlFlow<()>, LogError>,
    ) -> Result<(), LogError> {
        let path = self.entries_path();
        let file = File::open(&path).map_err(io_err("open", &path))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::with_capacity(512);
        for i in 0..size {
            line.clear();
            let n = r
                .by_ref()
                .take(MAX_ENTRY_LEN as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(io_err("read", &path))?;
            if n == 0 {
                return Err(LogError::Tampered(format!(
                    "{} holds {i} entries but the signed checkpoint covers {size}: entries were removed (the log was truncated)",
                    path.display()
                )));
            }
            if line.last() != Some(&b'\n') {
                return Err(LogError::Tampered(format!(
                    "{}: entry {i} is torn (no newline) or longer than {MAX_ENTRY_LEN} bytes, inside the range the checkpoint covers",
                    path.display()
                )));
            }
            if f(i, &line[..line.len() - 1])?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Find the first committed entry for `sha256` (hex), under the checkpoint `size`.
    pub fn find(&self, size: u64, sha256: &str) -> Result<Option<(Entry, String)>, LogError> {
        let needle = format!("\"sha256\":\"{sha256}\"");
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut found = None;
        self.scan(size, |i, line| {
            if finder.find(line).is_some() {
                let e = parse_entry(i, line)?;
                if e.sha256 == sha256 {
                    found = Some((e, String::from_utf8_lossy(line).into_owned()));
                    return Ok(ControlFlow::Break(()));
                }
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(found)
    }

    /// One scan for what a restore needs to know: the first entry of `sha256` (with
    /// its line) and the newest entry of `project` (by backup time, then position).
    pub fn lookup(&self, size: u64, sha256: &str, project: &str) -> Result<Lookup, LogError> {
        let digest = format!("\"sha256\":\"{sha256}\"");
        let proj = format!(
            "\"project\":{}",
            serde_json::to_string(project).unwrap_or_default()
        );
        let (by_digest, by_project) = (
            memchr::memmem::Finder::new(digest.as_bytes()),
            memchr::memmem::Finder::new(proj.as_bytes()),
        );
        let mut out = Lookup::default();
        self.scan(size, |i, line| {
            let digest_hit = out.found.is_none() && by_digest.find(line).is_some();
            if digest_hit || by_project.find(line).is_some() {
                let e = parse_entry(i, line)?;
                if digest_hit && e.sha256 == sha256 {
                    out.found = Some((e.clone(), String::from_utf8_lossy(line).into_owned()));
                }
                if e.project == project && out.newest.as_ref().is_none_or(|n| e.newer_than(n)) {
                    out.newest = Some(e);
                }
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    /// An inclusion proof for entry `index` under the current checkpoint.
    pub fn prove(&self, index: u64) -> Result<Proof, LogError> {
        let _lock = self.lock(false)?;
        let cp = self.checkpoint()?;
        let size = cp.checkpoint.size;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size }.into());
        }
        let line = self.line_at(index, size)?;
        let leaf = merkle::leaf_hash(line.as_bytes());
        let mut reader = TileReader::new(&self.dir, size);
        let path = merkle::inclusion_proof(&mut reader, index, size)?;
        // Never hand out a proof that does not check: it also catches damaged tiles.
        merkle::verify_inclusion(index, size, &leaf, &path, &cp.checkpoint.root).map_err(|_| {
            LogError::Tampered(format!(
                "entry {index} in entries.jsonl is not the entry the signed checkpoint covers (the entry or the tiles were changed)"
            ))
        })?;
        Ok(Proof {
            leaf_index: index,
            tree_size: size,
            leaf_hash: hex::encode(leaf),
            audit_path: path.iter().map(hex::encode).collect(),
            checkpoint: cp.note,
            entry: line,
        })
    }

    /// Recompute the whole tree from entries.jsonl and check it against the signed
    /// checkpoint, the tiles, and (if given) an older checkpoint kept elsewhere.
    pub fn verify(&self, older: Option<(&[u8], &Path)>) -> Result<VerifyReport, LogError> {
        let _lock = self.lock(false)?;
        let cp = self.checkpoint()?;
        let size = cp.checkpoint.size;
        let mut warnings = Vec::new();
        if self.key_source == KeySource::LogDirectory {
            warnings.push(
                "the key was read from LOG/vkey, which whoever can write the log can replace; pin it with --vkey (or check an older checkpoint with --checkpoint)".into(),
            );
        }
        // Older checkpoint first: a truncated or rolled-back log is named as such.
        let older = match older {
            Some((note, path)) => Some((self.older_checkpoint(note, path, size)?, path)),
            None => None,
        };
        let leaves = self.checked_leaves(size)?;
        let (committed, len) = self.committed_len(size)?;
        if len > committed {
            warnings.push(format!(
                "{} bytes after entry {} are not covered by the checkpoint (an interrupted append or appended junk); they are not part of the log, and the next append moves them aside",
                len - committed,
                size.saturating_sub(1)
            ));
        }
        let root = merkle::root_of(&leaves);
        if root != cp.checkpoint.root {
            return Err(LogError::Tampered(format!(
                "the {size} entries in entries.jsonl hash to {}, but the signed checkpoint says {}: the entries were changed",
                B64.encode(root),
                B64.encode(cp.checkpoint.root)
            )));
        }
        let mut tr = TileReader::new(&self.dir, size);
        if merkle::root(&mut tr, size)? != root {
            return Err(LogError::Tampered(
                "the tiles under LOG/tile do not match the entries and the checkpoint: the tiles were changed".into(),
            ));
        }
        let consistent_with = match older {
            Some((old, path)) => Some(consistent(&leaves, &old, &root, path)?),
            None => None,
        };
        Ok(VerifyReport {
            origin: cp.checkpoint.origin,
            size,
            root: B64.encode(root),
            key: self.key.encode(),
            key_source: self.key_source.clone(),
            consistent_with,
            uncommitted_bytes: len - committed,
            warnings,
        })
    }

    /// An older checkpoint the caller kept: signed by the log's key and not
    /// covering more entries than the log now has.
    fn older_checkpoint(
        &self,
        note: &[u8],
        path: &Path,
        size: u64,
    ) -> Result<SignedCheckpoint, LogError> {
        let old = self.open_checkpoint(note, path)?;
        if old.checkpoint.size > size {
            return Err(LogError::Tampered(format!(
                "the log's checkpoint covers {size} entries but the checkpoint you kept ({}) covers {}: the log was truncated or rolled back",
                path.display(),
                old.checkpoint.size
            )));
        }
        Ok(old)
    }

    /// The leaf hashes of the first `size` entries, each entry parsed and
    /// compared with the hash its tile recorded when it was appended (to name the
    /// entry that changed).
    fn checked_leaves(&self, size: u64) -> Result<Vec<Hash>, LogError> {
        let mut leaves = Vec::with_capacity(size.min(1 << 24) as usize);
        let mut reader = TileReader::new(&self.dir, size);
        let mut tile_leaves: Vec<Hash> = Vec::new();
        self.scan(size, |i, line| {
            parse_entry(i, line)?;
            let leaf = merkle::leaf_hash(line);
            if i % tiles::WIDTH == 0 {
                let bytes = reader.tile(0, i / tiles::WIDTH).map_err(LogError::from);
                tile_leaves = match bytes {
                    Ok(b) => b
                        .chunks_exact(32)
                        .map(|c| c.try_into().unwrap_or([0u8; 32]))
                        .collect(),
                    Err(_) => Vec::new(),
                };
            }
            if let Some(t) = tile_leaves.get((i % tiles::WIDTH) as usize) {
                if *t != leaf {
                    return Err(LogError::Tampered(format!(
                        "entry {i} (entries.jsonl line {}) is not the entry that was appended: it was changed after it was logged",
                        i + 1
                    )));
                }
            }
            leaves.push(leaf);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(leaves)
    }

    /// The last `n` committed entries (for `log show`).
    pub fn tail(&self, size: u64, n: u64) -> Result<Vec<Entry>, LogError> {
        let first = size.saturating_sub(n);
        let mut out = Vec::new();
        self.scan(size, |i, line| {
            if i >= first {
                out.push(parse_entry(i, line)?);
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }
}

pub(crate) fn entry_seq(line: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Seq {
        seq: u64,
    }
    serde_json::from_slice::<Seq>(line).ok().map(|s| s.seq)
}

pub(crate) fn parse_entry(i: u64, line: &[u8]) -> Result<Entry, LogError> {
    let e: Entry = serde_json::from_slice(line).map_err(|e| {
        LogError::Tampered(format!(
            "entries.jsonl line {} is not a valid entry: {e}",
            i + 1
        ))
    })?;
    if e.seq != i {
        return Err(LogError::Tampered(format!(
            "entries.jsonl line {} has seq {} where {i} belongs: entries were removed, inserted or reordered",
            i + 1,
            e.seq
        )));
    }
    Ok(e)
}

use projectrestore_fs::hooks::crash_point;

/// Entries ready to append: their lines, leaf hashes and indices.
type Encoded = (Vec<u8>, Vec<Hash>, Vec<u64>);

/// The lines of `new` entries numbered from `first`, their leaf hashes and
/// their indices.
fn encode_entries(new: &[NewEntry], first: u64, time: &str) -> Result<Encoded, LogError> {
    let mut lines = Vec::new();
    let mut leaves = Vec::new();
    let mut indices = Vec::new();
    for (i, e) in new.iter().enumerate() {
        let entry = Entry {
            seq: first + i as u64,
            sha256: e.sha256.clone(),
            size: e.size,
            archive: e.archive.clone(),
            project: e.project.clone(),
            archive_time: parse_name(&e.archive).map(|(_, t)| t),
            signers: e.signers.clone(),
            time: time.to_string(),
        };
        let line = serde_json::to_string(&entry)
            .map_err(|e| LogError::Invalid(format!("cannot encode an entry: {e}")))?;
        if line.len() > MAX_ENTRY_LEN {
            return Err(LogError::Invalid(format!(
                "the entry for {} is longer than {MAX_ENTRY_LEN} bytes",
                e.archive
            )));
        }
        leaves.push(merkle::leaf_hash(line.as_bytes()));
        lines.extend_from_slice(line.as_bytes());
        lines.push(b'\n');
        indices.push(entry.seq);
    }
    Ok((lines, leaves, indices))
}

/// The log `leaves` (with `root`) extends the older checkpoint `old` kept at
/// `path`: its size, or a fork.
fn consistent(
    leaves: &[Hash],
    old: &SignedCheckpoint,
    root: &Hash,
    path: &Path,
) -> Result<u64, LogError> {
    let size = leaves.len() as u64;
    let mut src: &[Hash] = leaves;
    let proof = merkle::consistency_proof(&mut src, old.checkpoint.size, size)?;
    merkle::verify_consistency(old.checkpoint.size, size, &old.checkpoint.root, root, &proof)
        .map_err(|_| {
            LogError::Tampered(format!(
                "the log is not an extension of the checkpoint you kept ({}, {} entries): its history was rewritten (a fork)",
                path.display(),
                old.checkpoint.size
            ))
        })?;
    Ok(old.checkpoint.size)
}

/// The C2SP tlog-proof text: header, `extra` (the entry line, base64), index,
/// `log verify`: check the log at `dir` (its key pinned to `vkey`, text or
/// file, when given) and, with `checkpoint` (an older checkpoint file kept
/// elsewhere), that the log only grew since.
pub fn verify_dir(
    dir: &Path,
    vkey: Option<&str>,
    checkpoint: Option<&Path>,
) -> Result<VerifyReport, LogError> {
    let log = Log::open(dir, vkey.map(load_vkey).transpose()?)?;
    let older = checkpoint
        .map(|p| fs::read(p).map_err(io_err("read", p)))
        .transpose()?;
    log.verify(older.as_deref().zip(checkpoint))
}

/// Write `proof` as a tlog-proof file at `path`.
///
/// Written to a temporary file beside it and renamed over it: a symbolic link
/// planted under that name (in a directory someone else controls) is replaced,
/// never written through.
pub fn write_tlog_proof(proof: &Proof, path: &Path) -> Result<(), LogError> {
    use std::os::unix::fs::PermissionsExt;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let write = || -> io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
        tmp.write_all(tlog_proof_text(proof).as_bytes())?;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(io_err("write", path))
}

/// The entry of the archive `arg` names (a file, or its hex SHA-256) in the
/// log at `dir` under its current checkpoint, or `NotIncluded`.
pub fn index_of(
    log: &Log,
    dir: &Path,
    arg: &str,
    cancel: &crate::source::Cancel,
) -> Result<u64, crate::Error> {
    let sha = digest_arg(arg, cancel)?;
    let cp = log.checkpoint()?;
    match log.find(cp.checkpoint.size, &sha)? {
        Some((e, _)) => Ok(e.seq),
        None => Err(LogError::NotIncluded {
            sha256: sha,
            log: dir.display().to_string(),
            size: cp.checkpoint.size,
        }
        .into()),
    }
}

/// What `log prove ARCHIVE` looks up: a hex SHA-256 given directly, else the
/// digest of the file. A 64-hex argument is the digest even when a file has
/// that name: a file planted under it must not change which entry is proved.
pub fn digest_arg(arg: &str, cancel: &crate::source::Cancel) -> Result<String, crate::Error> {
    if arg.len() == 64 && arg.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(arg.to_ascii_lowercase());
    }
    crate::source::sha256_file(Path::new(arg), cancel)
}

/// hashes, a blank line, then the signed checkpoint.
pub fn tlog_proof_text(p: &Proof) -> String {
    let mut s = format!("{TLOG_PROOF_HEADER}\n");
    s.push_str(&format!("extra {}\n", B64.encode(p.entry.as_bytes())));
    s.push_str(&format!("index {}\n", p.leaf_index));
    for h in &p.audit_path {
        let raw = hex::decode(h).unwrap_or_default();
        s.push_str(&B64.encode(raw));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(&p.checkpoint);
    s
}

/// An archive proved to be in a log.
#[derive(Debug, Clone, Serialize)]
pub struct Anchored {
    pub origin: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub entry: Entry,
}

/// Check a C2SP tlog-proof file for the archive with digest `sha256`: the
/// checkpoint's signature by `key`, the entry carried in `extra` names exactly
/// this digest, and the inclusion proof leads from that entry to the signed root.
pub fn check_proof_file(
    path: &Path,
    key: &VerifierKey,
    sha256: &str,
    size: u64,
) -> Result<Anchored, LogError> {
    let f = File::open(path).map_err(io_err("open", path))?;
    let mut data = Vec::new();
    f.take(MAX_PROOF_FILE + 1)
        .read_to_end(&mut data)
        .map_err(io_err("read", path))?;
    check_proof(&path.display().to_string(), &data, key, sha256, size)
}

/// [`check_proof_file`] on the proof's bytes, `shown` naming it in errors.
pub fn check_proof(
    shown: &str,
    data: &[u8],
    key: &VerifierKey,
    sha256: &str,
    size: u64,
) -> Result<Anchored, LogError> {
    if data.len() as u64 > MAX_PROOF_FILE {
        return Err(LogError::Tampered(format!(
            "{shown} is larger than {MAX_PROOF_FILE} bytes; not a proof"
        )));
    }
    let bad = |why: &str| LogError::Tampered(format!("{shown}: {why}"));
    let text = std::str::from_utf8(data).map_err(|_| bad("not UTF-8"))?;
    let (head, checkpoint) = text
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line before the checkpoint"))?;
    let mut lines = head.lines();
    if lines.next() != Some(TLOG_PROOF_HEADER) {
        return Err(bad("not a c2sp.org/tlog-proof@v1 proof"));
    }
    let mut line = lines.next().unwrap_or_default();
    let mut extra = None;
    if let Some(e) = line.strip_prefix("extra ") {
        extra = Some(B64.decode(e).map_err(|_| bad("extra is not base64"))?);
        line = lines.next().unwrap_or_default();
    }
    let index: u64 = line
        .strip_prefix("index ")
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| bad("no index line"))?;
    let mut hashes = Vec::new();
    for l in lines {
        if hashes.len() == merkle::MAX_PROOF_HASHES {
            return Err(ProofError::TooLong(hashes.len() + 1).into());
        }
        let raw = B64.decode(l).map_err(|_| bad("a hash is not base64"))?;
        let h: Hash = raw.try_into().map_err(|_| bad("a hash is not 32 bytes"))?;
        hashes.push(h);
    }
    let cp = note::open_checkpoint(checkpoint.as_bytes(), key).map_err(|source| {
        LogError::Checkpoint {
            path: shown.to_string(),
            source,
        }
    })?;
    let entry_bytes = extra.ok_or_else(|| {
        bad("the proof carries no entry (extra line); it cannot be bound to an archive")
    })?;
    let entry = parse_entry(index, &entry_bytes)?;
    if entry.sha256 != sha256 || entry.size != size {
        return Err(LogError::Tampered(format!(
            "{shown} proves archive {} ({} bytes), not this archive {sha256} ({size} bytes)",
            entry.sha256, entry.size
        )));
    }
    if entry.seq != index {
        return Err(bad("the entry's seq is not the proof's index"));
    }
    merkle::verify_inclusion(
        index,
        cp.size,
        &merkle::leaf_hash(&entry_bytes),
        &hashes,
        &cp.root,
    )?;
    Ok(Anchored {
        origin: cp.origin,
        leaf_index: index,
        tree_size: cp.size,
        entry,
    })
}

/// Check that the archive `sha256` is included in the log under its signed
/// checkpoint, by recomputing its inclusion proof from the tiles.
pub fn check_included(log: &Log, sha256: &str, size: u64) -> Result<Anchored, LogError> {
    let cp = log.checkpoint()?;
    let found = log.find(cp.checkpoint.size, sha256)?;
    prove_included(log, &cp, found, sha256, size)
}

/// The second half of [`check_included`], for a caller that already looked the
/// digest up under `cp`: the entry must exist, name this size, and its own line
/// must lead to the signed root through the proof recomputed from the tiles.
pub fn prove_included(
    log: &Log,
    cp: &SignedCheckpoint,
    found: Option<(Entry, String)>,
    sha256: &str,
    size: u64,
) -> Result<Anchored, LogError> {
    let n = cp.checkpoint.size;
    let Some((entry, line)) = found else {
        return Err(LogError::NotIncluded {
            sha256: sha256.to_string(),
            log: log.dir().display().to_string(),
            size: n,
        });
    };
    if entry.size != size {
        return Err(LogError::Tampered(format!(
            "the log records {} bytes for archive {sha256}, but it has {size}",
            entry.size
        )));
    }
    let mut reader = TileReader::new(log.dir(), n);
    let proof = merkle::inclusion_proof(&mut reader, entry.seq, n)?;
    merkle::verify_inclusion(
        entry.seq,
        n,
        &merkle::leaf_hash(line.as_bytes()),
        &proof,
        &cp.checkpoint.root,
    )
    .map_err(|_| {
        LogError::Tampered(format!(
            "entry {} for archive {sha256} is not covered by the signed checkpoint: it was added or changed after signing",
            entry.seq
        ))
    })?;
    Ok(Anchored {
        origin: cp.checkpoint.origin.clone(),
        leaf_index: entry.seq,
        tree_size: n,
        entry,
    })
}

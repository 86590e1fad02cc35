//! Where bytes come from, and the small reader adapters of the first stage:
//! a hashing reader that computes the archive's SHA-256 and every signature's
//! digest in the same read, checks for cancellation and reports progress.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::verify::Digester;
use crate::Progress;

#[cfg(feature = "object-store")]
pub mod object;
pub mod spool;

/// The archive could not be opened or read (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    NotFound(String),
    /// A sidecar over the size a sidecar can have.
    #[error("{path} is larger than {max} bytes; not a sidecar file")]
    TooLarge { path: String, max: u64 },
    /// A sidecar is a symbolic link (it could name any file the user can read).
    #[error("{path} is a symbolic link; a sidecar (signature or checksum) must be a regular file beside the archive")]
    SidecarLink { path: String },
    /// The second read found another object than the first (replaced between passes).
    #[error("{0} was replaced between the verification pass and the extraction pass")]
    Changed(String),
    /// A read found a remote object replaced or removed while it was being
    /// read (a resume or the second pass answered with another version):
    /// nothing read from it is used (exit 4).
    #[error("{0}; nothing read from it was used")]
    Replaced(String),
    /// An object store refused or failed (credentials, access, a missing
    /// bucket or key, the network). No credential is ever in the message.
    #[error("{message}")]
    Store {
        url: String,
        message: String,
        hint: String,
    },
}

impl SourceError {
    /// The bytes are not the ones first read: a verification failure.
    pub fn is_changed(&self) -> bool {
        matches!(self, SourceError::Changed(_) | SourceError::Replaced(_))
    }

    /// What to do about it, when the source knows.
    pub fn hint(&self) -> Option<&str> {
        match self {
            SourceError::Store { hint, .. } if !hint.is_empty() => Some(hint),
            _ => None,
        }
    }
}

/// What reading a remote source cost: bytes downloaded (every pass and
/// resume), and every resume of a broken body. Shared by the source and its
/// readers; the report and the `resumed` events are made from it.
#[derive(Debug, Default)]
pub struct Transfer {
    downloaded: std::sync::atomic::AtomicU64,
    resumes: std::sync::Mutex<Vec<Resume>>,
    /// `resumes.len()`, read on every read of the archive without the lock.
    count: std::sync::atomic::AtomicUsize,
}

/// One resume: where the body broke, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resume {
    /// The byte the download went on from.
    pub offset: u64,
    /// What broke (redacted).
    pub reason: String,
}

impl Transfer {
    /// `n` more bytes arrived.
    pub fn downloaded(&self, n: u64) {
        self.downloaded.fetch_add(n, Ordering::Relaxed);
    }
    /// The body broke at `offset` and is asked for again; returns the resumes so far.
    pub fn resume(&self, offset: u64, reason: String) -> usize {
        match self.resumes.lock() {
            Ok(mut r) => {
                r.push(Resume { offset, reason });
                self.count.store(r.len(), Ordering::Release);
                r.len()
            }
            Err(_) => usize::MAX,
        }
    }
    /// Bytes downloaded so far.
    pub fn bytes(&self) -> u64 {
        self.downloaded.load(Ordering::Relaxed)
    }
    /// Resumes from the `from`-th on.
    pub fn resumes_since(&self, from: usize) -> Vec<Resume> {
        self.resumes
            .lock()
            .map(|r| r.iter().skip(from).cloned().collect())
            .unwrap_or_default()
    }
    /// How many resumes so far.
    pub fn resume_count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
    /// Every resume.
    pub fn resumes(&self) -> Vec<Resume> {
        self.resumes_since(0)
    }
}

/// A cancellation flag set by SIGINT/SIGTERM (or by a caller) and checked on every
/// read, so that every stage stops at its next read.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }
    /// The shared flag, for signal handlers.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
    /// Ask every stage to stop.
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Has a stop been asked for?
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The error a cancelled read returns (found again by [`is_cancelled`]).
pub use projectrestore_archive::Cancelled;

/// The URL schemes of object stores: `s3://`, `gs://`, `az://` and their aliases.
pub const STORE_SCHEMES: [&str; 6] = ["s3", "s3a", "gs", "gcs", "az", "azure"];

/// Does `arg` name an object in a store (whatever follows the scheme), not a local path?
pub fn is_store_url(arg: &str) -> bool {
    arg.split_once("://")
        .is_some_and(|(scheme, _)| STORE_SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s)))
}

/// Where the stored bytes come from: a file, standard input, or any [`Source`].
#[derive(Debug, Clone)]
pub enum Input {
    /// A file, which can be read twice (verify-first).
    File(PathBuf),
    /// Standard input: one pass only.
    Stdin,
    /// Another source (an object store, a network peer, a test).
    Source(Arc<dyn Source>),
}

impl Input {
    /// `-` means standard input.
    pub fn from_arg(arg: &Path) -> Self {
        if arg.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(arg.to_path_buf())
        }
    }

    /// The source behind this input.
    pub fn source(&self) -> Arc<dyn Source> {
        match self {
            Input::File(p) => Arc::new(FileSource::new(p)),
            Input::Stdin => Arc::new(StdinSource),
            Input::Source(s) => Arc::clone(s),
        }
    }

    /// A name for reports.
    pub fn display(&self) -> String {
        self.source().display()
    }

    /// The file name (for checksum files that list several archives).
    pub fn file_name(&self) -> Option<String> {
        self.source().file_name()
    }

    /// Open for reading; returns the reader and the size if known.
    pub fn open(&self) -> Result<(Box<dyn Read + Send>, Option<u64>), SourceError> {
        self.source().open().map(|o| (o.reader, o.size))
    }

    /// Can this input be read twice?
    pub fn is_seekable(&self) -> bool {
        self.source().capabilities().rereadable
    }
}

/// What a source can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// It can be read twice (verify-first), the second read pinned to the first.
    pub rereadable: bool,
    /// Its size is known before reading.
    pub size_known: bool,
    /// It can supply sidecar files (signatures, checksums) beside the archive.
    pub siblings: bool,
}

/// What a second read must match: the same object (for a file: device, inode,
/// size and modification time; for an object store: its ETag or version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin(pub String);

/// An opened source.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub size: Option<u64>,
    /// Present when the source can be read again and pinned to this read.
    pub pin: Option<Pin>,
}

/// A sidecar file supplied by a source.
#[derive(Debug, Clone)]
pub struct Sibling {
    /// How reports name it (a path, a key).
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Where an archive's bytes and its sidecar files come from. New sources
/// (object stores, peers) implement this; the pipeline asks nothing else of them.
pub trait Source: Send + Sync + std::fmt::Debug {
    /// A name for reports (escaped where shown).
    fn display(&self) -> String;
    /// The archive's own name, if it has one (checksum files list names).
    fn file_name(&self) -> Option<String>;
    fn capabilities(&self) -> Capabilities;
    /// Open for reading.
    fn open(&self) -> Result<Opened, SourceError>;
    /// Open again for pass 2: the same object as `pin`, or [`SourceError::Changed`].
    fn reopen(&self, pin: &Pin) -> Result<Opened, SourceError>;
    /// The sidecar `ARCHIVE{suffix}` (e.g. `.minisig`, `.sha256`), at most `max`
    /// bytes ([`SourceError::TooLarge`] beyond), `None` when there is none.
    fn sibling(&self, suffix: &str, max: u64) -> Result<Option<Sibling>, SourceError>;
    /// What kind of source it is, for reports: `file`, `stdin`, `s3`, `gs`, `az`.
    fn kind(&self) -> &'static str {
        "file"
    }
    /// Whether the stored bytes are first copied to a local spool file.
    fn spooled(&self) -> bool {
        false
    }
    /// What reading it has cost (remote sources), shared with its readers.
    fn transfer(&self) -> Option<Arc<Transfer>> {
        None
    }
    /// Stop waiting (on a network, a peer) once `cancel` is set: a source
    /// whose reads can block for long looks at it while it waits.
    fn watch(&self, _cancel: &Cancel) {}
}

/// A local file.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: &Path) -> Self {
        FileSource {
            path: path.to_path_buf(),
        }
    }

    fn io_err(&self, source: io::Error) -> SourceError {
        SourceError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }
}

fn pin_of(meta: &std::fs::Metadata) -> Pin {
    use std::os::unix::fs::MetadataExt;
    Pin(format!(
        "{}:{}:{}:{}.{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec()
    ))
}

impl Source for FileSource {
    fn display(&self) -> String {
        self.path.display().to_string()
    }

    fn file_name(&self) -> Option<String> {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    }

    fn capabilities(&self) -> Capabilities {
        let regular = std::fs::metadata(&self.path).is_ok_and(|m| m.is_file());
        Capabilities {
            rereadable: regular,
            size_known: regular,
            siblings: true,
        }
    }

    fn open(&self) -> Result<Opened, SourceError> {
        let file = File::open(&self.path).map_err(|e| self.io_err(e))?;
        let meta = file.metadata().map_err(|e| self.io_err(e))?;
        if meta.is_dir() {
            return Err(SourceError::NotFound(format!(
                "{} is a directory, not an archive",
                self.path.display()
            )));
        }
        let regular = meta.is_file();
        Ok(Opened {
            reader: Box::new(file),
            size: regular.then_some(meta.len()),
            pin: regular.then(|| pin_of(&meta)),
        })
    }

    fn reopen(&self, pin: &Pin) -> Result<Opened, SourceError> {
        let opened = self.open()?;
        if opened.pin.as_ref() != Some(pin) {
            return Err(SourceError::Changed(self.display()));
        }
        Ok(opened)
    }

    fn sibling(&self, suffix: &str, max: u64) -> Result<Option<Sibling>, SourceError> {
        let Some(name) = self.path.file_name() else {
            return Ok(None);
        };
        let mut name = name.to_os_string();
        name.push(suffix);
        let path = self.path.with_file_name(name);
        let shown = path.display().to_string();
        let err = |source| SourceError::Io {
            path: shown.clone(),
            source,
        };
        // Opened without following a link and without blocking (a FIFO swapped
        // in after a check would hang an open that waits for a writer), then
        // judged by what was opened: only a regular file is a sidecar.
        let file = match crate::fs::open_unfollowed(&path, std::fs::OpenOptions::new().read(true)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if crate::fs::is_symlink_refusal(&e) => {
                return Err(SourceError::SidecarLink { path: shown })
            }
            Err(e) => return Err(err(e)),
        };
        if !file.metadata().map_err(err)?.is_file() {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        file.take(max + 1).read_to_end(&mut bytes).map_err(err)?;
        if bytes.len() as u64 > max {
            return Err(SourceError::TooLarge { path: shown, max });
        }
        Ok(Some(Sibling { name: shown, bytes }))
    }
}

/// Standard input: one pass, no siblings.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdinSource;

impl Source for StdinSource {
    fn display(&self) -> String {
        "-".into()
    }

    fn kind(&self) -> &'static str {
        "stdin"
    }

    fn file_name(&self) -> Option<String> {
        None
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rereadable: false,
            size_known: false,
            siblings: false,
        }
    }

    fn open(&self) -> Result<Opened, SourceError> {
        Ok(Opened {
            reader: Box::new(io::stdin()),
            size: None,
            pin: None,
        })
    }

    fn reopen(&self, _pin: &Pin) -> Result<Opened, SourceError> {
        Err(SourceError::NotFound(
            "standard input cannot be read twice".into(),
        ))
    }

    fn sibling(&self, _suffix: &str, _max: u64) -> Result<Option<Sibling>, SourceError> {
        Ok(None)
    }
}

/// A keyed universal hash (Poly1305 with a fresh random key, kept in this process)
/// of everything fed to it, for telling whether a second read returned the same
/// bytes as the first. It is not a signature: it proves nothing to anyone else,
/// only that nobody changed the file between our two reads. Poly1305 is
/// evaluated over fixed 16-byte blocks whatever the read sizes, so both passes
/// agree; the byte counts are compared as well.
pub struct PassCheck {
    key: zeroize::Zeroizing<[u8; 32]>,
    mac: poly1305::Poly1305,
    partial: [u8; PAR_BYTES],
    filled: usize,
}

/// Four Poly1305 blocks: what its AVX2 code processes in one step.
const PAR_BYTES: usize = 64;

impl PassCheck {
    /// A new check with a random key.
    pub fn random() -> io::Result<Self> {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::getrandom(key.as_mut()).map_err(io::Error::other)?;
        Ok(Self::with_key(key))
    }

    fn with_key(key: zeroize::Zeroizing<[u8; 32]>) -> Self {
        use poly1305::universal_hash::KeyInit;
        let mac = poly1305::Poly1305::new(poly1305::Key::from_slice(key.as_ref()));
        PassCheck {
            key,
            mac,
            partial: [0; PAR_BYTES],
            filled: 0,
        }
    }

    /// The same key, fresh state: for the second pass.
    pub fn again(&self) -> Self {
        Self::with_key(self.key.clone())
    }

    /// Feed bytes (any split gives the same tag).
    pub fn update(&mut self, mut data: &[u8]) {
        use poly1305::universal_hash::UniversalHash;
        // Poly1305's vector code takes four blocks at a time, and falls back to one
        // block at a time for the rest of an update once a call leaves it holding a
        // part of four: so it is only ever given whole multiples of 64 bytes.
        if self.filled > 0 {
            let take = (PAR_BYTES - self.filled).min(data.len());
            self.partial[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < PAR_BYTES {
                return;
            }
            self.mac.update_padded(&self.partial);
            self.filled = 0;
        }
        let whole = data.len() / PAR_BYTES * PAR_BYTES;
        let (blocks, rest) = data.split_at(whole);
        // Whole groups of blocks only: nothing is padded here (and nothing copied).
        self.mac.update_padded(blocks);
        self.partial[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The tag.
    pub fn finish(self) -> [u8; 16] {
        use poly1305::universal_hash::UniversalHash;
        let mut mac = self.mac;
        if self.filled > 0 {
            mac.update_padded(&self.partial[..self.filled]);
        }
        mac.finalize().into()
    }
}

/// Reads the stored bytes once, feeding the SHA-256, the signature digests and the
/// progress, and stopping with [`Cancelled`] when the cancel flag is set.
pub struct HashingReader<'p, R> {
    inner: R,
    sha256: Option<Sha256>,
    check: Option<PassCheck>,
    digester: Option<Digester>,
    count: u64,
    cancel: Cancel,
    progress: &'p dyn Progress,
    /// A remote source's record, whose resumes are passed on to `progress`.
    transfer: Option<(Arc<Transfer>, usize)>,
}

impl<'p, R: Read> HashingReader<'p, R> {
    /// Where this pass reports progress.
    pub fn progress(&self) -> &'p dyn Progress {
        self.progress
    }

    /// Wrap `inner`; `digester` is the signatures' hashers, if this pass checks them.
    pub fn new(
        inner: R,
        digester: Option<Digester>,
        cancel: Cancel,
        progress: &'p dyn Progress,
    ) -> Self {
        HashingReader {
            inner,
            sha256: Some(Sha256::new()),
            check: None,
            digester,
            count: 0,
            cancel,
            progress,
            transfer: None,
        }
    }

    /// Pass on the resumes of this source's downloads as they happen.
    pub fn with_transfer(mut self, transfer: Option<Arc<Transfer>>) -> Self {
        self.transfer = transfer.map(|t| {
            let seen = t.resume_count();
            (t, seen)
        });
        self
    }

    fn pass_on_resumes(&mut self) {
        if let Some((t, seen)) = self.transfer.as_mut() {
            if t.resume_count() > *seen {
                for r in t.resumes_since(*seen) {
                    self.progress.resumed(&r);
                    *seen += 1;
                }
            }
        }
    }

    /// Also feed a [`PassCheck`] (pass 1 and pass 2 of verify-first).
    pub fn with_check(mut self, check: PassCheck) -> Self {
        self.check = Some(check);
        self
    }

    /// Skip the SHA-256 (pass 2 of verify-first: pass 1 computed it, and the
    /// [`PassCheck`] proves these are the same bytes, at a third of the cost).
    pub fn without_sha256(mut self) -> Self {
        self.sha256 = None;
        self
    }

    /// The pass check's tag, if one was fed. Call once, at the end.
    pub fn take_check(&mut self) -> Option<[u8; 16]> {
        self.check.take().map(PassCheck::finish)
    }

    /// Read everything that is left (to hash the whole input after a failure, or
    /// in the verification pass). Returns the number of bytes read.
    pub fn drain(&mut self) -> io::Result<u64> {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0;
        loop {
            match self.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted && !self.cancel.is_set() => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The SHA-256 (hex; empty after [`Self::without_sha256`]) of everything read,
    /// the byte count and the signature digests. Call once, at the end.
    pub fn take_digests(&mut self) -> (String, u64, Option<Digester>) {
        (
            self.sha256
                .as_mut()
                .map(|h| hex::encode(h.finalize_reset()))
                .unwrap_or_default(),
            self.count,
            self.digester.take(),
        )
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_set() {
            return Err(io::Error::other(Cancelled));
        }
        let n = self.inner.read(buf);
        self.pass_on_resumes();
        let n = n?;
        let data = &buf[..n];
        if let Some(h) = self.sha256.as_mut() {
            h.update(data);
        }
        if let Some(c) = self.check.as_mut() {
            c.update(data);
        }
        if let Some(d) = self.digester.as_mut() {
            d.update(data);
        }
        self.count += n as u64;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// The peeked bytes followed by the rest of the reader.
pub type Peeked<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Open a file the user named — a signature, a checksum, a trust-store key,
/// an identity — for reading, never waiting on the open. A FIFO's open
/// blocks until someone opens it for writing, forever if no one does; opened
/// non-blocking, a FIFO with no writer reads as empty at once (and is then
/// refused as what it is not), while a pipe that has one — `-i <(pass show
/// key)` — is read as before. A directory is refused. Symlinks are
/// followed: the path is the user's own. Callers bound how much they read.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a directory, not a file",
        ));
    }
    // Reads block again (a pipe's writer may be slow); with no writer a FIFO
    // still reads as end of file at once.
    let flags = fcntl_getfl(&file)?;
    fcntl_setfl(&file, flags - OFlags::NONBLOCK)?;
    Ok(file)
}

/// Read up to `n` bytes from the front of `reader` (fewer only at end of input) and
/// return them with a reader that yields the same bytes again followed by the rest.
/// The returned reader is buffered (`BufRead`) whenever `reader` is.
pub fn peek<R: Read>(mut reader: R, n: usize) -> io::Result<(Vec<u8>, Peeked<R>)> {
    let mut head = Vec::with_capacity(n);
    (&mut reader).take(n as u64).read_to_end(&mut head)?;
    let again = io::Cursor::new(head.clone()).chain(reader);
    Ok((head, again))
}

/// Does this error (or one it wraps) say the source's bytes changed under
/// the read ([`SourceError::is_changed`])?
pub fn changed_in(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        let found = e.downcast_ref::<SourceError>().or_else(|| {
            e.downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<SourceError>())
        });
        if found.is_some_and(SourceError::is_changed) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Does this error (or one it wraps) come from a cancelled read?
pub fn is_cancelled(err: &(dyn std::error::Error + 'static)) -> bool {
    carries::<Cancelled>(err)
}

/// Does this error, or one it wraps (as a source or inside an `io::Error`),
/// have type `T`?
pub fn carries<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<T>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io.get_ref().is_some_and(|inner| inner.is::<T>()) {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

/// Is `u`'s host a loopback address (127.0.0.0/8, ::1, `localhost`)? The only
/// hosts plain `http://` may reach: object-store endpoints and notification
/// targets alike.
#[cfg(any(feature = "object-store", feature = "notify"))]
pub(crate) fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Refuse a URL where a local path is required. Trust stores, keys,
/// identities, logs, destinations and explicit signature or checksum files
/// never come from an object store: a bucket an attacker can write must not be
/// able to vouch for what it serves (sidecar objects beside an archive are read
/// by themselves).
pub fn require_local(arg: &str) -> Result<(), String> {
    if is_store_url(arg) {
        return Err(format!(
            "{}: must be a local path; trust stores, keys, identities, logs, destinations and explicit signature or checksum files never come from an object store (sidecar objects beside the archive are read by themselves)",
            crate::report::escape(arg)
        ));
    }
    Ok(())
}

/// The SHA-256 (hex) of the file at `path`, read as an archive is (a regular
/// file, not through a symbolic link's surprises), stopping when `cancel` is set.
pub fn sha256_file(path: &std::path::Path, cancel: &Cancel) -> Result<String, crate::Error> {
    let (reader, _) = Input::File(path.to_path_buf()).open()?;
    let mut h = HashingReader::new(reader, None, cancel.clone(), &crate::NoProgress);
    h.drain().map_err(|e| SourceError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    Ok(h.take_digests().0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_pin_refuses_a_replaced_or_touched_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.tar");
        std::fs::write(&path, b"first").unwrap();
        let src = FileSource::new(&path);
        let pin = src.open().unwrap().pin.unwrap();
        assert!(src.reopen(&pin).is_ok(), "the same file must reopen");
        // Replaced by another file of the same size (a rename over it).
        let other = tmp.path().join("b.tar");
        std::fs::write(&other, b"other").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(matches!(src.reopen(&pin), Err(SourceError::Changed(_))));
        // Changed in place: the modification time moves.
        let pin = src.open().unwrap().pin.unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert!(matches!(src.reopen(&pin), Err(SourceError::Changed(_))));
    }

    #[test]
    fn siblings_are_regular_files_of_bounded_size() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.tar");
        std::fs::write(&path, b"x").unwrap();
        let src = FileSource::new(&path);
        assert!(src.sibling(".sig", 10).unwrap().is_none());
        std::fs::write(tmp.path().join("a.tar.sig"), b"0123456789").unwrap();
        assert_eq!(
            src.sibling(".sig", 10).unwrap().unwrap().bytes,
            b"0123456789"
        );
        assert!(matches!(
            src.sibling(".sig", 9),
            Err(SourceError::TooLarge { max: 9, .. })
        ));
        std::fs::create_dir(tmp.path().join("a.tar.asc")).unwrap();
        assert!(src.sibling(".asc", 10).unwrap().is_none());
        assert!(StdinSource.sibling(".sig", 10).unwrap().is_none());
        assert!(!StdinSource.capabilities().rereadable);
    }

    use super::*;
    use crate::NoProgress;

    #[test]
    fn hashes_what_it_reads() {
        let mut r = HashingReader::new(&b"abc"[..], None, Cancel::new(), &NoProgress);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        let (sha, n, _) = r.take_digests();
        assert_eq!(n, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pass_check_ignores_read_sizes_and_sees_changes() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let first = PassCheck::random().unwrap();
        let (mut a, mut b, mut c) = (first.again(), first.again(), first.again());
        a.update(&data);
        for chunk in data.chunks(37) {
            b.update(chunk);
        }
        let mut changed = data.clone();
        changed[54_321] ^= 1;
        for chunk in changed.chunks(4096) {
            c.update(chunk);
        }
        let t = a.finish();
        assert_eq!(t, b.finish());
        assert_ne!(t, c.finish());
        // Any split gives Poly1305 of the whole, padded once at the end.
        let whole = {
            use poly1305::universal_hash::{KeyInit, UniversalHash};
            let mut mac = poly1305::Poly1305::new(poly1305::Key::from_slice(first.key.as_ref()));
            mac.update_padded(&data);
            <[u8; 16]>::from(mac.finalize())
        };
        assert_eq!(t, whole);
        let odd = &data[..99_999];
        let mut one = first.again();
        one.update(odd);
        let one = one.finish();
        for size in [1, 15, 16, 63, 64, 65, 65_552] {
            let mut e = first.again();
            for chunk in odd.chunks(size) {
                e.update(chunk);
            }
            assert_eq!(e.finish(), one, "split into {size}-byte pieces");
        }
        // Another key, another tag.
        let mut d = PassCheck::random().unwrap();
        d.update(&data);
        assert_ne!(t, d.finish());
    }

    #[test]
    fn cancelled_reads_fail() {
        let cancel = Cancel::new();
        cancel.set();
        let mut r = HashingReader::new(&b"abc"[..], None, cancel, &NoProgress);
        let err = r.read(&mut [0u8; 3]).unwrap_err();
        assert!(is_cancelled(&err));
    }

    #[test]
    fn peek_gives_the_bytes_back() {
        let (head, mut rest) = peek(&b"hello world"[..], 5).unwrap();
        assert_eq!(head, b"hello");
        let mut all = String::new();
        rest.read_to_string(&mut all).unwrap();
        assert_eq!(all, "hello world");
    }
}

//! The tar validator: raw tar entries in, [`SafeEntry`] values out.
//!
//! The `tar` crate parses headers (`entries_raw`: no interpretation of extension
//! headers, no writes). PAX (`x`, `g`) and GNU long-name/long-link (`L`, `K`)
//! headers are interpreted here, and every rule of the entry policy is applied to
//! the final path, link target and size. The first broken rule rejects the archive
//! (STYLE.md 9: reject, never skip).

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read};
use std::rc::Rc;

use tar::EntryType;

use super::path::{fold_key, PathError, SafeRelPath};
use super::ratio_error;
use super::{ArchiveError, EntryKind, EntryPolicy, ExtractError, Limits, SafeEntry, Sink, Summary};
use crate::escape_bytes;

/// How many symlinks one target may pass through before it is called a loop.
const MAX_SYMLINK_HOPS: usize = 40;

/// Read a whole tar stream, validate every entry and hand each to `sink`.
///
/// Reads `tar` to its end: after the end-of-archive blocks only zero bytes may
/// follow. Returns the counts of what was extracted.
pub fn extract<R: Read, S: Sink>(
    tar: R,
    limits: &Limits,
    policy: &EntryPolicy,
    sink: &mut S,
) -> Result<Summary, ExtractError<S::Error>> {
    let pos = Rc::new(Cell::new(0u64));
    let mut archive = tar::Archive::new(Position {
        inner: tar,
        pos: Rc::clone(&pos),
    });
    let mut v = Validator::new(limits, policy);
    {
        let entries = archive.entries().map_err(classify)?.raw(true);
        for entry in entries {
            let mut entry = entry.map_err(classify)?;
            v.entry(&mut entry, sink)?;
        }
    }
    if v.pending.any() {
        return Err(ArchiveError::Malformed(
            "an extension header is not followed by an entry".into(),
        )
        .into());
    }
    v.check_symlinks()?;
    // End of archive: the parser stops at EOF or after one zero block.
    let consumed = pos.get();
    if consumed == v.end {
        return Err(ArchiveError::Malformed(
            "the archive ends without the end-of-archive blocks (truncated?)".into(),
        )
        .into());
    }
    let mut rest = archive.into_inner();
    let mut buf = vec![0u8; 64 << 10];
    let mut zeros = 0u64;
    loop {
        let n = match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(classify(e).into()),
        };
        if buf[..n].iter().any(|b| *b != 0) {
            return Err(ArchiveError::Malformed("data after the end of the archive".into()).into());
        }
        zeros += n as u64;
    }
    if zeros < 512 {
        return Err(ArchiveError::Malformed(
            "the archive has one end-of-archive block instead of two (truncated?)".into(),
        )
        .into());
    }
    Ok(v.summary)
}

/// Tracks how many bytes the parser has consumed.
struct Position<R> {
    inner: R,
    pos: Rc<Cell<u64>>,
}

impl<R: Read> Read for Position<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.set(self.pos.get() + n as u64);
        Ok(n)
    }
}

/// A read error of the stream under the validator, judged as the validator
/// judges it (the sandbox's host reads for its guest, and must say the same).
pub fn classify_read_error(e: io::Error) -> ArchiveError {
    classify(e)
}

/// Turn a read error into the archive stage's error: a ratio bomb is a limit, an
/// operating-system error is I/O (exit 1), anything else is a malformed stream.
fn classify(e: io::Error) -> ArchiveError {
    if let Some(limit) = ratio_error(&e) {
        return limit;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.raw_os_error().is_some()
                || io
                    .get_ref()
                    .is_some_and(|i| i.is::<crate::Cancelled>() || i.is::<crate::Internal>())
            {
                return ArchiveError::Io(e);
            }
        }
        cur = err.source();
    }
    // Decryption failures are reported by their own stage; their text is kept here.
    ArchiveError::Malformed(e.to_string())
}

/// What a path is, as far as later entries are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Dir,
    /// A parent created for an entry before its own directory entry came.
    ImplicitDir,
    File,
    Symlink,
    Hardlink,
}

/// Extension headers waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    pax: Option<Vec<(String, Vec<u8>)>>,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

impl Pending {
    fn any(&self) -> bool {
        self.pax.is_some() || self.long_name.is_some() || self.long_link.is_some()
    }

    fn pax(&self, key: &str) -> Option<&[u8]> {
        self.pax
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

struct Validator<'a> {
    limits: &'a Limits,
    policy: &'a EntryPolicy,
    seen: HashMap<String, Seen>,
    symlinks: HashMap<String, (SafeRelPath, String)>,
    /// With `fold_case`: the case-folded key of every path → its first spelling.
    folded: HashMap<String, String>,
    pending: Pending,
    entries: u64,
    bytes: u64,
    summary: Summary,
    /// Where the parser should be after the last entry's data.
    end: u64,
}

/// PAX keywords (issue 14, item 15). Honoured: `path`, `linkpath`, `size`,
/// `mtime`, `uid`, `gid`. Ignored as harmless: `atime`, `ctime`, `uname`,
/// `gname`, `comment`, `charset`, extended attributes and ACLs (`SCHILY.xattr.*`,
/// `LIBARCHIVE.xattr.*`, `SCHILY.acl.*`, `RHT.security.*`), `SCHILY.dev`,
/// `SCHILY.ino`, `SCHILY.nlink`, `SCHILY.fflags`, `LIBARCHIVE.creationtime` and
/// any other keyword. Refused: whatever redefines what an entry is — a type
/// (`*.filetype`), device numbers (`*.devmajor`, `*.devminor`), sparse maps and
/// real sizes (`GNU.sparse.*`, `SCHILY.realsize`, `SUN.holesdata`), and a
/// `hdrcharset` other than UTF-8 (names then mean other bytes).
fn redefining_key(records: &[(String, Vec<u8>)]) -> Option<String> {
    records.iter().find_map(|(k, v)| {
        let refused = k.ends_with(".filetype")
            || k.ends_with(".devmajor")
            || k.ends_with(".devminor")
            || k.starts_with("GNU.sparse")
            || k == "SCHILY.realsize"
            || k == "SUN.holesdata"
            || (k == "hdrcharset" && v.as_slice() != b"ISO-IR 10646 2000 UTF-8");
        refused.then(|| crate::escape(k))
    })
}

fn rejected(entry: &[u8], rule: impl Into<String>) -> ArchiveError {
    ArchiveError::Rejected {
        entry: escape_bytes(entry),
        rule: rule.into(),
    }
}

fn path_error(entry: &[u8], e: PathError) -> ArchiveError {
    match e {
        PathError::Rule(rule) => rejected(entry, rule),
        PathError::Limit(what, value, limit, kind) => ArchiveError::Limit {
            what,
            value,
            limit,
            kind,
        },
    }
}

fn malformed(what: &str, e: io::Error) -> ArchiveError {
    match classify(e) {
        ArchiveError::Malformed(m) => ArchiveError::Malformed(format!("{what}: {m}")),
        other => other,
    }
}

fn parse_decimal(entry: &[u8], key: &str, v: &[u8]) -> Result<u64, ArchiveError> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| rejected(entry, format!("PAX {key} is not a number")))
}

impl<'a> Validator<'a> {
    fn new(limits: &'a Limits, policy: &'a EntryPolicy) -> Self {
        Validator {
            limits,
            policy,
            seen: HashMap::new(),
            symlinks: HashMap::new(),
            folded: HashMap::new(),
            pending: Pending::default(),
            entries: 0,
            bytes: 0,
            summary: Summary::default(),
            end: 0,
        }
    }

    /// Read an extension header's data, bounded by the PAX size limit.
    fn extension_data<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<Vec<u8>, ArchiveError> {
        let size = entry.size();
        if size > self.limits.max_pax_bytes {
            return Err(ArchiveError::Limit {
                what: "extension header size",
                value: size,
                limit: self.limits.max_pax_bytes,
                kind: crate::LimitKind::PaxSize,
            });
        }
        let mut data = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| malformed("extension header", e))?;
        if (data.len() as u64) < size {
            return Err(ArchiveError::Malformed(
                "the archive ends inside an extension header".into(),
            ));
        }
        Ok(data)
    }

    fn pax_records(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ArchiveError> {
        let mut out = Vec::new();
        for ext in tar::PaxExtensions::new(data) {
            let ext = ext.map_err(|e| ArchiveError::Malformed(format!("PAX header: {e}")))?;
            let key = ext
                .key()
                .map_err(|_| ArchiveError::Malformed("PAX header: a key is not UTF-8".into()))?
                .to_string();
            if std::str::from_utf8(ext.value_bytes()).is_err() {
                return Err(ArchiveError::Malformed(format!(
                    "PAX header: the value of {key} is not UTF-8"
                )));
            }
            out.push((key, ext.value_bytes().to_vec()));
        }
        Ok(out)
    }

    /// One raw tar entry: an extension header is kept for the next entry; any
    /// other entry is judged, and passed to the sink only when every rule holds.
    fn entry<R: Read, S: Sink>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        sink: &mut S,
    ) -> Result<(), ExtractError<S::Error>> {
        let size = entry.size();
        self.end = entry.raw_file_position() + size.div_ceil(512) * 512;
        let kind = entry.header().entry_type();
        if self.extension(kind, entry)? {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let header = entry.header().clone();
        let (raw_name, raw_link) = names(&pending, &header)?;
        check_pax(&pending, &raw_name, kind, size, self.policy)?;
        check_fields(&header, kind, &raw_name, raw_link.as_deref())?;
        self.count_entry()?;
        let shape = shape_of(kind, &raw_name, size)?;
        let Some(full) =
            SafeRelPath::parse(&raw_name, self.limits).map_err(|e| path_error(&raw_name, e))?
        else {
            return self
                .archive_root(&header, shape, &raw_name)
                .map_err(Into::into);
        };
        let attrs = self.attributes(&header, &pending, &raw_name)?;
        if shape == Seen::File {
            self.count_bytes(size)?;
        }
        // Link targets, validated before the entry is stripped.
        let target = self.link_target(shape, &raw_name, &raw_link.unwrap_or_default())?;
        let Some(path) = full.strip(self.policy.strip_components) else {
            self.summary.stripped += 1;
            return Ok(());
        };
        let missing = self.place(&path, shape, &raw_name)?;
        for dir in missing {
            self.implicit_dir(&dir, &attrs, &raw_name, sink)?;
        }
        let kind = self.kind_of(shape, size, &path, target, &raw_name)?;
        let safe = SafeEntry {
            path,
            kind,
            mode: attrs.mode,
            mtime: attrs.mtime,
            uid: attrs.uid,
            gid: attrs.gid,
        };
        deliver(safe, entry, sink)
    }

    /// PAX and GNU extension headers: recorded for the next entry (`true`), or
    /// refused when they are ambiguous or change what entries are.
    fn extension<R: Read>(
        &mut self,
        kind: EntryType,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<bool, ArchiveError> {
        match kind {
            EntryType::XHeader => {
                if self.pending.pax.is_some() {
                    return Err(rejected(b"PAX header", "two PAX headers in a row"));
                }
                let data = self.extension_data(entry)?;
                self.pending.pax = Some(Self::pax_records(&data)?);
            }
            EntryType::XGlobalHeader => {
                if self.pending.any() {
                    return Err(rejected(
                        b"PAX global header",
                        "an extension header is followed by a global header",
                    ));
                }
                let data = self.extension_data(entry)?;
                check_global(&Self::pax_records(&data)?)?;
            }
            EntryType::GNULongName | EntryType::GNULongLink => {
                let name = kind == EntryType::GNULongName;
                let taken = if name {
                    self.pending.long_name.is_some()
                } else {
                    self.pending.long_link.is_some()
                };
                if taken {
                    return Err(rejected(
                        b"GNU long-name header",
                        "two GNU long-name or long-link headers in a row",
                    ));
                }
                let mut data = self.extension_data(entry)?;
                while data.last() == Some(&0) {
                    data.pop();
                }
                if name {
                    self.pending.long_name = Some(data);
                } else {
                    self.pending.long_link = Some(data);
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn count_entry(&mut self) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_files {
            return Err(ArchiveError::Limit {
                what: "number of entries",
                value: self.entries,
                limit: self.limits.max_files,
                kind: crate::LimitKind::Files,
            });
        }
        Ok(())
    }

    /// Size limits, on the declared size, before any data is read.
    fn count_bytes(&mut self, size: u64) -> Result<(), ArchiveError> {
        if size > self.limits.max_entry_bytes {
            return Err(ArchiveError::Limit {
                what: "size of one file",
                value: size,
                limit: self.limits.max_entry_bytes,
                kind: crate::LimitKind::EntrySize,
            });
        }
        self.bytes = self.bytes.saturating_add(size);
        if self.bytes > self.limits.max_bytes {
            return Err(ArchiveError::Limit {
                what: "total size of files",
                value: self.bytes,
                limit: self.limits.max_bytes,
                kind: crate::LimitKind::Bytes,
            });
        }
        Ok(())
    }

    /// The archive root `./`: its mode and time go to the restored tree's root.
    fn archive_root(
        &mut self,
        header: &tar::Header,
        shape: Seen,
        raw_name: &[u8],
    ) -> Result<(), ArchiveError> {
        if shape != Seen::Dir {
            return Err(rejected(raw_name, "the archive root is not a directory"));
        }
        let mode = header.mode().map_err(|e| malformed("mode", e))? & 0o7777;
        self.summary.root = Some((
            self.kept_mode(mode),
            header.mtime().map_err(|e| malformed("mtime", e))? as i64,
        ));
        Ok(())
    }

    fn kept_mode(&self, mode: u32) -> u32 {
        if self.policy.keep_permissions {
            mode
        } else {
            mode & !0o7022
        }
    }

    /// Mode, time and owner, with PAX overrides.
    fn attributes(
        &self,
        header: &tar::Header,
        pending: &Pending,
        raw_name: &[u8],
    ) -> Result<Attributes, ArchiveError> {
        let mode = self.kept_mode(header.mode().map_err(|e| malformed("mode", e))? & 0o7777);
        let mtime = match pending.pax("mtime") {
            Some(v) => {
                let s = std::str::from_utf8(v).unwrap_or("");
                s.split('.')
                    .next()
                    .and_then(|i| i.parse::<i64>().ok())
                    .ok_or_else(|| rejected(raw_name, "PAX mtime is not a number"))?
            }
            None => header.mtime().map_err(|e| malformed("mtime", e))? as i64,
        };
        let uid = match pending.pax("uid") {
            Some(v) => parse_decimal(raw_name, "uid", v)?,
            None => header.uid().map_err(|e| malformed("uid", e))?,
        };
        let gid = match pending.pax("gid") {
            Some(v) => parse_decimal(raw_name, "gid", v)?,
            None => header.gid().map_err(|e| malformed("gid", e))?,
        };
        Ok(Attributes {
            mode,
            mtime,
            uid,
            gid,
        })
    }

    /// A symlink's or hardlink's target, checked (not yet stripped).
    fn link_target(
        &self,
        shape: Seen,
        raw_name: &[u8],
        link: &[u8],
    ) -> Result<Option<String>, ArchiveError> {
        Ok(match shape {
            Seen::Symlink => Some(self.symlink_target(raw_name, link)?),
            Seen::Hardlink => {
                let t = SafeRelPath::parse(link, self.limits)
                    .map_err(|e| match e {
                        PathError::Rule(r) => rejected(raw_name, format!("hardlink target: {r}")),
                        other => path_error(raw_name, other),
                    })?
                    .ok_or_else(|| rejected(raw_name, "hardlink to the archive root"))?;
                Some(t.as_str().to_string())
            }
            _ => None,
        })
    }

    /// Where the entry goes: never beneath a symlink or a file of the archive,
    /// never a second time, never a case twin on a case-folding destination.
    /// Returns the parents still missing (created as directories first).
    fn place(
        &mut self,
        path: &SafeRelPath,
        shape: Seen,
        raw_name: &[u8],
    ) -> Result<Vec<String>, ArchiveError> {
        let mut missing = Vec::new();
        for ancestor in path.ancestors() {
            let what = match self.seen.get(&fold_key(ancestor)) {
                Some(Seen::Dir | Seen::ImplicitDir) => continue,
                None => {
                    missing.push(ancestor.to_string());
                    continue;
                }
                Some(Seen::Symlink) => "symlink",
                Some(Seen::File | Seen::Hardlink) => "file",
            };
            return Err(rejected(
                raw_name,
                format!("the entry lies beneath the {what} {ancestor} of the archive"),
            ));
        }
        if self.policy.fold_case {
            for p in missing.iter().map(String::as_str).chain([path.as_str()]) {
                self.fold(p, raw_name)?;
            }
        }
        match self.seen.get(&path.fold_key()) {
            None => {}
            Some(Seen::ImplicitDir) if shape == Seen::Dir => {}
            Some(_) => return Err(rejected(raw_name, "the path appears twice in the archive")),
        }
        Ok(missing)
    }

    /// On a case-insensitive destination, `README` and `readme` (or a directory
    /// `A/` and a symlink `a`) would be one file: refuse before either is written.
    fn fold(&mut self, p: &str, raw_name: &[u8]) -> Result<(), ArchiveError> {
        let nfc = fold_key(p);
        let folded = nfc.to_lowercase();
        match self.folded.get(&folded) {
            Some(other) if *other != nfc => Err(rejected(
                raw_name,
                format!(
                    "{} and {} are one name on this case-insensitive file system",
                    crate::escape(p),
                    crate::escape(other)
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.folded.insert(folded, nfc);
                Ok(())
            }
        }
    }

    /// A parent the archive did not list, given to the sink as a directory.
    fn implicit_dir<S: Sink>(
        &mut self,
        dir: &str,
        attrs: &Attributes,
        raw_name: &[u8],
        sink: &mut S,
    ) -> Result<(), ExtractError<S::Error>> {
        let implicit = SafeEntry {
            path: SafeRelPath::parse(dir.as_bytes(), self.limits)
                .map_err(|e| path_error(raw_name, e))?
                .ok_or_else(|| rejected(raw_name, "empty parent"))?,
            kind: EntryKind::Dir,
            mode: 0o755,
            mtime: attrs.mtime,
            uid: attrs.uid,
            gid: attrs.gid,
        };
        self.seen.insert(fold_key(dir), Seen::ImplicitDir);
        self.summary.dirs += 1;
        sink.implicit_dir(&implicit)
            .map_err(|source| ExtractError::Sink {
                entry: dir.to_string(),
                source,
            })
    }

    /// What the sink is given, recorded as seen and counted.
    fn kind_of(
        &mut self,
        shape: Seen,
        size: u64,
        path: &SafeRelPath,
        target: Option<String>,
        raw_name: &[u8],
    ) -> Result<EntryKind, ArchiveError> {
        let key = path.fold_key();
        let kind = match shape {
            Seen::Dir | Seen::ImplicitDir => EntryKind::Dir,
            Seen::File => EntryKind::File { size },
            Seen::Symlink => {
                let target = target.unwrap_or_default();
                self.symlinks
                    .insert(key.clone(), (path.clone(), target.clone()));
                EntryKind::Symlink { target }
            }
            Seen::Hardlink => EntryKind::Hardlink {
                target: self.hardlink_target(target.unwrap_or_default(), raw_name)?,
            },
        };
        let was_implicit = self.seen.insert(key, shape) == Some(Seen::ImplicitDir);
        match &kind {
            EntryKind::File { .. } => {
                self.summary.files += 1;
                self.summary.bytes += size;
            }
            EntryKind::Dir if !was_implicit => self.summary.dirs += 1,
            EntryKind::Dir => {}
            EntryKind::Symlink { .. } => self.summary.symlinks += 1,
            EntryKind::Hardlink { .. } => self.summary.hardlinks += 1,
        }
        Ok(kind)
    }

    /// A hardlink's target after stripping: an earlier regular file of the archive.
    fn hardlink_target(
        &self,
        target: String,
        raw_name: &[u8],
    ) -> Result<SafeRelPath, ArchiveError> {
        let t = SafeRelPath::parse(target.as_bytes(), self.limits)
            .map_err(|e| path_error(raw_name, e))?
            .and_then(|t| t.strip(self.policy.strip_components))
            .ok_or_else(|| {
                rejected(
                    raw_name,
                    "the hardlink target was removed by --strip-components",
                )
            })?;
        if self.seen.get(&t.fold_key()) != Some(&Seen::File) {
            return Err(rejected(
                raw_name,
                format!("hardlink to {t}, which is not an earlier regular file of the archive"),
            ));
        }
        Ok(t)
    }

    /// A symlink target must be relative and, resolved lexically from the link's
    /// directory, stay inside the tree. (Chains through other links are checked at the end.)
    fn symlink_target(&self, name: &[u8], target: &[u8]) -> Result<String, ArchiveError> {
        let t = std::str::from_utf8(target)
            .map_err(|_| rejected(name, "the symlink target is not UTF-8"))?;
        if t.is_empty() {
            return Err(rejected(name, "empty symlink target"));
        }
        if t.contains('\0') || t.chars().any(char::is_control) {
            return Err(rejected(
                name,
                "the symlink target contains control characters",
            ));
        }
        if t.starts_with('/') {
            return Err(rejected(
                name,
                format!("absolute symlink target {}", crate::escape(t)),
            ));
        }
        if t.len() > self.limits.max_path_bytes {
            return Err(ArchiveError::Limit {
                what: "symlink target length",
                value: t.len() as u64,
                limit: self.limits.max_path_bytes as u64,
                kind: crate::LimitKind::PathLength,
            });
        }
        let name_str = String::from_utf8_lossy(name);
        let parent_depth = name_str
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .count()
            .saturating_sub(1);
        let mut depth = parent_depth as i64;
        for c in t.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(rejected(
                            name,
                            format!("the symlink target {} leaves the tree", crate::escape(t)),
                        ));
                    }
                }
                // A link target is a path too: the same cross-platform rules.
                c => {
                    if let Err(PathError::Rule(rule)) = super::path::confusable(c) {
                        return Err(rejected(
                            name,
                            format!("the symlink target {}: {rule}", crate::escape(t)),
                        ));
                    }
                    depth += 1;
                }
            }
        }
        Ok(t.to_string())
    }

    /// Resolve every symlink through the archive's other symlinks: a chain of links
    /// that each look harmless may still leave the tree.
    fn check_symlinks(&self) -> Result<(), ArchiveError> {
        for (path, target) in self.symlinks.values() {
            let mut stack: Vec<String> = path
                .parent()
                .map(|p| p.components().map(str::to_string).collect())
                .unwrap_or_default();
            let mut todo: VecDeque<String> = target.split('/').map(str::to_string).collect();
            let mut hops = 0;
            let escape = || {
                rejected(
                    path.as_str().as_bytes(),
                    format!(
                        "the symlink target {} leaves the tree through other symlinks",
                        crate::escape(target)
                    ),
                )
            };
            while let Some(c) = todo.pop_front() {
                match c.as_str() {
                    "" | "." => continue,
                    ".." => {
                        if stack.pop().is_none() {
                            return Err(escape());
                        }
                        continue;
                    }
                    _ => stack.push(c),
                }
                let here = fold_key(&stack.join("/"));
                if let Some((_, next)) = self.symlinks.get(&here) {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(rejected(path.as_str().as_bytes(), "symlink loop"));
                    }
                    stack.pop();
                    for part in next.split('/').rev() {
                        todo.push_front(part.to_string());
                    }
                }
            }
        }
        Ok(())
    }
}

/// The host's second judgement of what the sandboxed extractor sent
/// (invariant 10): every entry the guest claims is validated again with the
/// same rules as a tar entry — the path parsed afresh (and required to be in
/// the canonical form the guest must send), the kind, link targets, the
/// duplicate, beneath-a-link and case rules, the limits and the mode policy —
/// before the sink sees it, and a file's data is held to its declared size. A
/// lying guest can make a restore fail; it cannot make the host write what the
/// rules refuse.
///
/// `--strip-components` was applied by the guest: the host's policy has none
/// (the paths it sees are the final ones).
pub struct Recheck<'a> {
    v: Validator<'a>,
    /// Parent directories the guest sent as implicit (not counted as entries,
    /// as natively; bounded by the entries they can be parents of).
    implicit: u64,
}

impl<'a> Recheck<'a> {
    /// `policy` must be the guest's with `strip_components` 0.
    pub fn new(limits: &'a Limits, policy: &'a EntryPolicy) -> Self {
        Recheck {
            v: Validator::new(limits, policy),
            implicit: 0,
        }
    }

    /// One entry from the guest, judged and (when every rule holds) given to
    /// `sink` with `data`, which must yield exactly the file's size.
    pub fn entry<S: Sink>(
        &mut self,
        rec: &crate::wire::EntryRecord,
        data: &mut dyn Read,
        sink: &mut S,
    ) -> Result<(), ExtractError<S::Error>> {
        let v = &mut self.v;
        let raw = rec.path.as_slice();
        let shape = match rec.kind {
            0 => Seen::File,
            1 if rec.implicit => Seen::ImplicitDir,
            1 => Seen::Dir,
            2 => Seen::Symlink,
            3 => Seen::Hardlink,
            k => {
                return Err(
                    rejected(raw, format!("unknown entry kind {k} from the sandbox")).into(),
                )
            }
        };
        if shape != Seen::File && rec.size != 0 {
            return Err(rejected(
                raw,
                "the sandbox gave a size to an entry that is not a file",
            )
            .into());
        }
        if !matches!(shape, Seen::Symlink | Seen::Hardlink) && !rec.target.is_empty() {
            return Err(rejected(raw, "a file or directory with a link target; refused").into());
        }
        if rec.implicit {
            // Natively, a missing parent is no entry of its own: not counted
            // against the entry limit, but never more than the depth of the
            // entries that follow could need, and never a path seen before.
            self.implicit += 1;
            let bound = (v.entries + 1).saturating_mul(v.limits.max_depth as u64);
            if self.implicit > bound {
                return Err(rejected(
                    raw,
                    "the sandbox sent more parent directories than its entries need",
                )
                .into());
            }
        } else {
            v.count_entry()?;
        }
        let path = SafeRelPath::parse(raw, v.limits)
            .map_err(|e| path_error(raw, e))?
            .ok_or_else(|| rejected(raw, "the sandbox sent the archive root as an entry"))?;
        if path.as_str().as_bytes() != raw {
            return Err(rejected(
                raw,
                format!("the sandbox sent the path in a form that is not canonical (it is {path})"),
            )
            .into());
        }
        if shape == Seen::File {
            v.count_bytes(rec.size)?;
        }
        if rec.implicit && v.seen.contains_key(&path.fold_key()) {
            return Err(rejected(
                raw,
                "the sandbox sent a parent directory for a path it had already sent",
            )
            .into());
        }
        let target = v.link_target(shape, raw, &rec.target)?;
        let missing = v.place(
            &path,
            if shape == Seen::ImplicitDir {
                Seen::Dir
            } else {
                shape
            },
            raw,
        )?;
        if let Some(parent) = missing.first() {
            return Err(rejected(
                raw,
                format!(
                    "the sandbox sent the entry before its parent directory {}",
                    crate::escape(parent)
                ),
            )
            .into());
        }
        let kind = v.kind_of(shape, rec.size, &path, target, raw)?;
        let safe = SafeEntry {
            path,
            kind,
            mode: v.kept_mode(rec.mode & 0o7777),
            mtime: rec.mtime,
            uid: rec.uid,
            gid: rec.gid,
        };
        deliver(safe, data, sink)
    }

    /// The end of the archive: links resolved through each other, the counts
    /// (the host's own; only the stripped count and the root's mode and time
    /// are the guest's word, the mode under the same policy).
    pub fn finish(self, end: &crate::wire::EndRecord) -> Result<Summary, ArchiveError> {
        self.v.check_symlinks()?;
        let root = end
            .root
            .map(|(mode, mtime)| (self.v.kept_mode(mode & 0o7777), mtime));
        let mut summary = self.v.summary;
        summary.stripped = end.stripped;
        summary.root = root;
        Ok(summary)
    }
}

/// Yields exactly the entry's declared size; ending early is an error. A read error
/// is kept (the sink sees a copy), so that it is reported as the archive's fault.
struct Exact<'e, R: Read + ?Sized> {
    inner: &'e mut R,
    left: u64,
    error: Option<io::Error>,
}

impl<R: Read + ?Sized> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let err = match self.inner.read(&mut buf[..max]) {
            Ok(0) => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside a file (truncated)",
            ),
            Ok(n) => {
                self.left -= n as u64;
                return Ok(n);
            }
            Err(e) => e,
        };
        let copy = io::Error::new(err.kind(), err.to_string());
        self.error = Some(err);
        Err(copy)
    }
}

/// Mode, time and owner of an entry.
struct Attributes {
    mode: u32,
    mtime: i64,
    uid: u64,
    gid: u64,
}

/// A global PAX header may not change what entries are, nor set their path,
/// link target or size.
fn check_global(records: &[(String, Vec<u8>)]) -> Result<(), ArchiveError> {
    if let Some(key) = redefining_key(records) {
        return Err(rejected(
            b"PAX global header",
            format!("a global header sets {key}, which changes what entries are"),
        ));
    }
    if let Some((key, _)) = records
        .iter()
        .find(|(k, _)| matches!(k.as_str(), "path" | "linkpath" | "size"))
    {
        return Err(rejected(
            b"PAX global header",
            format!("a global header sets {key} for every entry"),
        ));
    }
    Ok(())
}

/// The name and link target after every override; both kinds of override at
/// once is ambiguous.
fn names(
    pending: &Pending,
    header: &tar::Header,
) -> Result<(Vec<u8>, Option<Vec<u8>>), ArchiveError> {
    let raw_name: Vec<u8> = match (pending.pax("path"), &pending.long_name) {
        (Some(_), Some(_)) => {
            return Err(rejected(
                &header.path_bytes(),
                "the path is given by both a PAX and a GNU long-name header",
            ))
        }
        (Some(p), None) => p.to_vec(),
        (None, Some(l)) => l.clone(),
        (None, None) => header.path_bytes().into_owned(),
    };
    let raw_link: Option<Vec<u8>> = match (pending.pax("linkpath"), &pending.long_link) {
        (Some(_), Some(_)) => {
            return Err(rejected(
                &raw_name,
                "the link target is given by both a PAX and a GNU long-link header",
            ))
        }
        (Some(p), None) => Some(p.to_vec()),
        (None, Some(l)) => Some(l.clone()),
        (None, None) => header.link_name_bytes().map(|c| c.into_owned()),
    };
    Ok((raw_name, raw_link))
}

/// The PAX records of one entry: a size that agrees with the header, no sparse
/// keys, nothing that changes what the entry is.
fn check_pax(
    pending: &Pending,
    raw_name: &[u8],
    kind: EntryType,
    size: u64,
    policy: &EntryPolicy,
) -> Result<(), ArchiveError> {
    if let Some(pax_size) = pending.pax("size") {
        let declared = parse_decimal(raw_name, "size", pax_size)?;
        if declared != size {
            return Err(rejected(
                raw_name,
                format!("the PAX size ({declared}) disagrees with the header size ({size})"),
            ));
        }
    }
    let sparse = pending
        .pax
        .as_ref()
        .is_some_and(|p| p.iter().any(|(k, _)| k.starts_with("GNU.sparse")));
    if sparse || kind == EntryType::GNUSparse {
        let even = if policy.allow_sparse {
            ", even with --allow-sparse"
        } else {
            ""
        };
        return Err(rejected(
            raw_name,
            format!(
                "GNU sparse entry: sparse files are not supported yet{even} (re-create the archive without --sparse/-S)"
            ),
        ));
    }
    if let Some(key) = pending.pax.as_ref().and_then(|p| redefining_key(p)) {
        return Err(rejected(
            raw_name,
            format!("PAX record {key} changes what the entry is; refused (see the README's PAX keywords)"),
        ));
    }
    Ok(())
}

/// A file or directory carries no link target and no device numbers.
fn check_fields(
    header: &tar::Header,
    kind: EntryType,
    raw_name: &[u8],
    raw_link: Option<&[u8]>,
) -> Result<(), ArchiveError> {
    let linkless = matches!(
        kind,
        EntryType::Regular | EntryType::Continuous | EntryType::Directory
    );
    if !linkless {
        return Ok(());
    }
    if raw_link.is_some_and(|l| !l.is_empty()) {
        return Err(rejected(
            raw_name,
            "a file or directory with a link target; refused",
        ));
    }
    let device = |v: std::io::Result<Option<u32>>| v.ok().flatten().is_some_and(|d| d != 0);
    if device(header.device_major()) || device(header.device_minor()) {
        return Err(rejected(
            raw_name,
            "a file or directory with device numbers; refused",
        ));
    }
    Ok(())
}

/// What the entry is. A V7 regular entry whose name ends in '/' is a directory.
fn shape_of(kind: EntryType, raw_name: &[u8], size: u64) -> Result<Seen, ArchiveError> {
    let is_dir = kind == EntryType::Directory
        || (matches!(kind, EntryType::Regular) && raw_name.ends_with(b"/") && size == 0);
    match kind {
        _ if is_dir => Ok(Seen::Dir),
        EntryType::Regular | EntryType::Continuous => Ok(Seen::File),
        EntryType::Symlink => Ok(Seen::Symlink),
        EntryType::Link => Ok(Seen::Hardlink),
        EntryType::Char | EntryType::Block => Err(rejected(raw_name, "device file")),
        EntryType::Fifo => Err(rejected(raw_name, "FIFO (named pipe)")),
        other => Err(rejected(
            raw_name,
            format!("unknown entry type {:?}", char::from(other.as_byte())),
        )),
    }
}

/// Give the sink the entry and, for a file, exactly its data.
fn deliver<R: Read + ?Sized, S: Sink>(
    safe: SafeEntry,
    entry: &mut R,
    sink: &mut S,
) -> Result<(), ExtractError<S::Error>> {
    let name = safe.path.to_string();
    let EntryKind::File { size } = safe.kind else {
        return sink
            .entry(&safe, &mut io::empty())
            .map_err(|source| ExtractError::Sink {
                entry: name,
                source,
            });
    };
    let mut data = Exact {
        inner: entry,
        left: size,
        error: None,
    };
    let written = sink.entry(&safe, &mut data);
    if let Some(e) = data.error.take() {
        // The sink failed because the archive could not be read: that is the cause.
        return Err(match classify(e) {
            ArchiveError::Malformed(m) => ArchiveError::Malformed(format!("{name}: {m}")),
            other => other,
        }
        .into());
    }
    written.map_err(|source| ExtractError::Sink {
        entry: name.clone(),
        source,
    })?;
    if data.left > 0 {
        // The sink stopped early: read the rest so that a short archive is still caught.
        io::copy(&mut data, &mut io::sink()).map_err(|e| malformed(&name, e))?;
    }
    Ok(())
}

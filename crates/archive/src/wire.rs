//! The sandbox's protocol: what the host tells the Wasm guest (a [`Config`]) and
//! the records the guest sends back ([`Record`]): an entry's header, a piece of
//! its data, the end of the archive, or the reason it stopped.
//!
//! Records are little-endian fields with length-prefixed byte strings. The host
//! decodes whatever the guest sends with [`Record::decode`], which checks every
//! length against the bytes there are: a guest that lies about a length gets
//! [`WireError`], never an out-of-bounds read. A decoded [`EntryRecord`] is
//! only the guest's claim; the host turns it into a [`crate::SafeEntry`] by
//! validating it again ([`crate::validate::Recheck`]).

use crate::{ArchiveError, EntryPolicy, Format, LimitKind, Limits};

/// The protocol's version: the host refuses a guest that speaks another.
pub const VERSION: u32 = 1;

/// Record tags (the first byte of every record).
const ENTRY: u8 = 1;
const DATA: u8 = 2;
/// The first byte of a data record: the guest writes it before a chunk it reads
/// in place, with no copy.
pub const DATA_TAG: u8 = DATA;
const END: u8 = 3;
const ERROR: u8 = 4;

/// A record the guest sent that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sandbox sent a malformed record: {0}")]
pub struct WireError(pub String);

/// What the guest is asked to do: decode `format` and validate the tar inside
/// with `limits` and `policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub format: Format,
    /// Every stored byte was authenticated (zstd's frame checksums may be skipped).
    pub authenticated: bool,
    pub limits: Limits,
    pub policy: EntryPolicy,
}

/// An entry's header as the guest claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRecord {
    /// 0 file, 1 directory, 2 symlink, 3 hardlink.
    pub kind: u8,
    /// A parent the archive did not list (created as a directory first).
    pub implicit: bool,
    pub mode: u32,
    pub mtime: i64,
    pub uid: u64,
    pub gid: u64,
    /// A file's size (0 for the other kinds).
    pub size: u64,
    pub path: Vec<u8>,
    /// A link's target (empty for the other kinds).
    pub target: Vec<u8>,
}

/// The end of the archive as the guest saw it: only what the host cannot count
/// itself (entries removed by `--strip-components`, the archive root's mode and
/// time) is taken from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndRecord {
    pub stripped: u64,
    pub root: Option<(u32, i64)>,
}

/// Why the guest stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// An archive error, as the validator or a decoder raised it.
    Archive(WireArchiveError),
    /// The host asked it to stop (its sink failed, or the run was cancelled).
    Host,
}

/// [`ArchiveError`] in a form that crosses the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireArchiveError {
    Rejected {
        entry: String,
        rule: String,
    },
    Limit {
        what: String,
        value: u64,
        limit: u64,
        kind: LimitKind,
    },
    Malformed(String),
    UnknownFormat(String),
    /// A read from the host failed (the host knows why).
    Io(String),
}

/// One record from the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Entry(EntryRecord),
    Data(Vec<u8>),
    End(EndRecord),
    Stop(Stop),
}

/// The texts of every limit the archive layer names: a limit from the guest is
/// reported with the same words, or with a generic one it cannot forge.
const LIMIT_WHATS: &[&str] = &[
    "number of entries",
    "total size of files",
    "size of one file",
    "path depth",
    "path length",
    "name length",
    "extension header size",
    "symlink target length",
    "compression ratio",
    "zstd window (decoder memory)",
    "xz dictionary (decoder memory)",
];

const LIMIT_KINDS: &[LimitKind] = &[
    LimitKind::Files,
    LimitKind::Bytes,
    LimitKind::EntrySize,
    LimitKind::Depth,
    LimitKind::PathLength,
    LimitKind::NameLength,
    LimitKind::PaxSize,
    LimitKind::Ratio,
    LimitKind::ZstdWindow,
];

const FORMATS: &[Format] = &[
    Format::Tar,
    Format::Gzip,
    Format::Zstd,
    Format::Xz,
    Format::Bzip2,
];

/// The most of a guest's text the host repeats.
const MAX_TEXT: usize = 4096;

/// A guest's text, made safe to show: an honest guest's is escaped already
/// (it is the validator's), so it is kept as it is; one with control or bidi
/// characters is escaped here, and any is cut at [`MAX_TEXT`] bytes.
fn tame(s: String) -> String {
    let mut s = if s.chars().any(crate::text::is_unsafe) {
        crate::escape(&s)
    } else {
        s
    };
    if s.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl WireArchiveError {
    /// From the guest's own error.
    pub fn from_archive(e: &ArchiveError) -> Self {
        match e {
            ArchiveError::Rejected { entry, rule } => WireArchiveError::Rejected {
                entry: entry.clone(),
                rule: rule.clone(),
            },
            ArchiveError::Limit {
                what,
                value,
                limit,
                kind,
            } => WireArchiveError::Limit {
                what: (*what).to_string(),
                value: *value,
                limit: *limit,
                kind: *kind,
            },
            ArchiveError::Malformed(m) => WireArchiveError::Malformed(m.clone()),
            ArchiveError::UnknownFormat(m) => WireArchiveError::UnknownFormat(m.clone()),
            ArchiveError::Io(e) => WireArchiveError::Io(e.to_string()),
        }
    }

    /// Back into the host's error. An `Io` here is the guest's word only (the
    /// host prefers the read error it kept itself).
    pub fn into_archive(self) -> ArchiveError {
        match self {
            WireArchiveError::Rejected { entry, rule } => ArchiveError::Rejected {
                entry: tame(entry),
                rule: tame(rule),
            },
            WireArchiveError::Limit {
                what,
                value,
                limit,
                kind,
            } => ArchiveError::Limit {
                what: LIMIT_WHATS
                    .iter()
                    .find(|w| **w == what)
                    .copied()
                    .unwrap_or("a limit of the archive layer"),
                value,
                limit,
                kind,
            },
            WireArchiveError::Malformed(m) => ArchiveError::Malformed(tame(m)),
            WireArchiveError::UnknownFormat(m) => ArchiveError::UnknownFormat(tame(m)),
            WireArchiveError::Io(m) => ArchiveError::Malformed(format!(
                "the sandbox could not read its input: {}",
                tame(m)
            )),
        }
    }
}

// ---- encoding

#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        // Lengths above u32 never occur (paths, names and messages are bounded);
        // a longer one is cut, never wrapped.
        let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.0.extend_from_slice(&v[..len as usize]);
        self
    }
}

struct In<'a>(&'a [u8]);

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError(format!(
                "{n} bytes wanted, {} left",
                self.0.len()
            )));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(WireError(format!("{b} is not a boolean"))),
        }
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    fn i64(&mut self) -> Result<i64, WireError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(b))
    }
    fn usize(&mut self) -> Result<usize, WireError> {
        usize::try_from(self.u64()?).map_err(|_| WireError("a count does not fit".into()))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let len = self.u32()? as usize;
        Ok(self.take(len)?.to_vec())
    }
    fn string(&mut self) -> Result<String, WireError> {
        String::from_utf8(self.bytes()?).map_err(|_| WireError("a text is not UTF-8".into()))
    }
    fn end(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError(format!(
                "{} bytes after the record",
                self.0.len()
            )))
        }
    }
}

fn index_of<T: PartialEq>(table: &[T], v: &T) -> u8 {
    // The tables are short (under 256); a value not in them is encoded out of range.
    table
        .iter()
        .position(|t| t == v)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn from_table<T: Copy>(table: &[T], i: u8, what: &str) -> Result<T, WireError> {
    table
        .get(usize::from(i))
        .copied()
        .ok_or_else(|| WireError(format!("{i} is not a {what}")))
}

impl Config {
    /// The bytes the host hands the guest.
    pub fn encode(&self) -> Vec<u8> {
        let l = &self.limits;
        let p = &self.policy;
        let mut o = Out::default();
        o.u32(VERSION)
            .u8(index_of(FORMATS, &self.format))
            .u8(u8::from(self.authenticated))
            .u64(l.max_files)
            .u64(l.max_bytes)
            .u64(l.max_entry_bytes)
            .u64(l.max_depth as u64)
            .u64(l.max_path_bytes as u64)
            .u64(l.max_name_bytes as u64)
            .u64(l.max_pax_bytes)
            .u64(l.max_ratio)
            .u64(l.max_zstd_window)
            .u64(p.strip_components as u64)
            .u8(u8::from(p.allow_sparse))
            .u8(u8::from(p.keep_permissions))
            .u8(u8::from(p.fold_case));
        o.0
    }

    /// Read by the guest.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let mut i = In(b);
        let version = i.u32()?;
        if version != VERSION {
            return Err(WireError(format!(
                "protocol version {version}, expected {VERSION}"
            )));
        }
        let format = from_table(FORMATS, i.u8()?, "format")?;
        let authenticated = i.bool()?;
        let limits = Limits {
            max_files: i.u64()?,
            max_bytes: i.u64()?,
            max_entry_bytes: i.u64()?,
            max_depth: i.usize()?,
            max_path_bytes: i.usize()?,
            max_name_bytes: i.usize()?,
            max_pax_bytes: i.u64()?,
            max_ratio: i.u64()?,
            max_zstd_window: i.u64()?,
        };
        let policy = EntryPolicy {
            strip_components: i.usize()?,
            allow_sparse: i.bool()?,
            keep_permissions: i.bool()?,
            fold_case: i.bool()?,
        };
        i.end()?;
        Ok(Config {
            format,
            authenticated,
            limits,
            policy,
        })
    }
}

impl Record {
    /// The bytes of one record (the guest's side).
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        match self {
            Record::Entry(e) => {
                o.u8(ENTRY)
                    .u8(e.kind)
                    .u8(u8::from(e.implicit))
                    .u32(e.mode)
                    .i64(e.mtime)
                    .u64(e.uid)
                    .u64(e.gid)
                    .u64(e.size)
                    .bytes(&e.path)
                    .bytes(&e.target);
            }
            Record::Data(d) => {
                o.u8(DATA);
                o.0.extend_from_slice(d);
            }
            Record::End(end) => {
                o.u8(END).u64(end.stripped);
                match end.root {
                    Some((mode, mtime)) => o.u8(1).u32(mode).i64(mtime),
                    None => o.u8(0),
                };
            }
            Record::Stop(Stop::Host) => {
                o.u8(ERROR).u8(0);
            }
            Record::Stop(Stop::Archive(e)) => {
                o.u8(ERROR);
                match e {
                    WireArchiveError::Rejected { entry, rule } => {
                        o.u8(1).bytes(entry.as_bytes()).bytes(rule.as_bytes());
                    }
                    WireArchiveError::Limit {
                        what,
                        value,
                        limit,
                        kind,
                    } => {
                        o.u8(2)
                            .bytes(what.as_bytes())
                            .u64(*value)
                            .u64(*limit)
                            .u8(index_of(LIMIT_KINDS, kind));
                    }
                    WireArchiveError::Malformed(m) => {
                        o.u8(3).bytes(m.as_bytes());
                    }
                    WireArchiveError::UnknownFormat(m) => {
                        o.u8(4).bytes(m.as_bytes());
                    }
                    WireArchiveError::Io(m) => {
                        o.u8(5).bytes(m.as_bytes());
                    }
                }
            }
        }
        o.0
    }

    /// Decode one record the guest sent (the host's side): every length is
    /// checked, nothing may follow the record.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let mut i = In(b);
        let record = match i.u8()? {
            ENTRY => Record::Entry(EntryRecord {
                kind: i.u8()?,
                implicit: i.bool()?,
                mode: i.u32()?,
                mtime: i.i64()?,
                uid: i.u64()?,
                gid: i.u64()?,
                size: i.u64()?,
                path: i.bytes()?,
                target: i.bytes()?,
            }),
            DATA => return Ok(Record::Data(i.0.to_vec())),
            END => Record::End(EndRecord {
                stripped: i.u64()?,
                root: if i.bool()? {
                    Some((i.u32()?, i.i64()?))
                } else {
                    None
                },
            }),
            ERROR => Record::Stop(match i.u8()? {
                0 => Stop::Host,
                1 => Stop::Archive(WireArchiveError::Rejected {
                    entry: i.string()?,
                    rule: i.string()?,
                }),
                2 => Stop::Archive(WireArchiveError::Limit {
                    what: i.string()?,
                    value: i.u64()?,
                    limit: i.u64()?,
                    kind: from_table(LIMIT_KINDS, i.u8()?, "limit")?,
                }),
                3 => Stop::Archive(WireArchiveError::Malformed(i.string()?)),
                4 => Stop::Archive(WireArchiveError::UnknownFormat(i.string()?)),
                5 => Stop::Archive(WireArchiveError::Io(i.string()?)),
                c => return Err(WireError(format!("{c} is not a reason to stop"))),
            }),
            t => return Err(WireError(format!("{t} is not a record type"))),
        };
        i.end()?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let records = [
            Record::Entry(EntryRecord {
                kind: 2,
                implicit: false,
                mode: 0o644,
                mtime: -5,
                uid: 1,
                gid: 2,
                size: 0,
                path: b"a/b".to_vec(),
                target: b"../c".to_vec(),
            }),
            Record::Data(b"hello".to_vec()),
            Record::End(EndRecord {
                stripped: 3,
                root: Some((0o755, 7)),
            }),
            Record::Stop(Stop::Host),
            Record::Stop(Stop::Archive(WireArchiveError::Limit {
                what: "path depth".into(),
                value: 9,
                limit: 8,
                kind: LimitKind::Depth,
            })),
        ];
        for r in records {
            assert_eq!(Record::decode(&r.encode()), Ok(r));
        }
        let c = Config {
            format: Format::Zstd,
            authenticated: true,
            limits: Limits::default(),
            policy: EntryPolicy {
                strip_components: 2,
                fold_case: true,
                ..EntryPolicy::default()
            },
        };
        assert_eq!(Config::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn lying_lengths_are_errors_not_reads() {
        let mut b = Record::Entry(EntryRecord {
            kind: 0,
            implicit: false,
            mode: 0,
            mtime: 0,
            uid: 0,
            gid: 0,
            size: 1,
            path: b"x".to_vec(),
            target: Vec::new(),
        })
        .encode();
        // The path's length says 4 GiB.
        let at = b.len() - 4 - 1 - 4;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Record::decode(&b).is_err());
        assert!(Record::decode(&[]).is_err());
        assert!(Record::decode(&[9]).is_err());
        let mut end = Record::End(EndRecord::default()).encode();
        end.push(0);
        assert!(Record::decode(&end).is_err(), "trailing bytes");
    }

    #[test]
    fn a_guests_text_is_escaped_and_cut() {
        let e =
            WireArchiveError::Malformed(format!("\x1b[2J{}", "x".repeat(10_000))).into_archive();
        let text = e.to_string();
        assert!(!text.contains('\x1b') && text.contains("\\u{1b}"), "{text}");
        assert!(text.len() < 4200, "{}", text.len());
        // An honest guest's text (the validator's, escaped already) is kept.
        let e = WireArchiveError::Rejected {
            entry: "a\\\\b".into(),
            rule: "r".into(),
        }
        .into_archive();
        assert_eq!(e.to_string(), "unsafe entry a\\\\b: r");
    }

    #[test]
    fn an_unknown_limit_text_is_not_repeated() {
        let e = WireArchiveError::Limit {
            what: "you have won a prize".into(),
            value: 2,
            limit: 1,
            kind: LimitKind::Files,
        }
        .into_archive();
        assert!(!e.to_string().contains("prize"), "{e}");
    }
}

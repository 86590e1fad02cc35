//! The verified listing of an archive's entries (`projectrestore ls`): every
//! entry as the validator passed it (after `--strip-components`), collected by
//! a sink that writes nothing. A listing is returned only when the whole run —
//! signatures, checksum, decryption, every entry — passed, so what it shows
//! is what a restore would write.

use std::io::{self, Read};

use serde::Serialize;

use crate::archive::{EntryKind, SafeEntry, Sink};
use crate::report::escape;

/// One entry, for people and for `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// `file`, `dir`, `symlink` or `hardlink`.
    pub kind: &'static str,
    /// Permission bits after the policy, as octal text (`0644`).
    pub mode: String,
    /// Bytes of content (files only; 0 for the rest).
    pub size: u64,
    /// RFC 3339, UTC.
    pub mtime: String,
    /// The path inside the restored tree, escaped for display.
    pub path: String,
    /// A symlink's or hardlink's target, escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Collects [`Listed`] entries and reads every file's data to the end (so the
/// run's checks cover every byte), writing nothing.
#[derive(Debug, Default)]
pub struct ListingSink {
    entries: Vec<Listed>,
}

impl ListingSink {
    /// The entries, in archive order.
    pub fn finish(self) -> Vec<Listed> {
        self.entries
    }
}

impl Sink for ListingSink {
    type Error = io::Error;

    fn entry(&mut self, entry: &SafeEntry, data: &mut dyn Read) -> Result<(), Self::Error> {
        io::copy(data, &mut io::sink())?;
        let (kind, size, target) = match &entry.kind {
            EntryKind::File { size } => ("file", *size, None),
            EntryKind::Dir => ("dir", 0, None),
            EntryKind::Symlink { target } => ("symlink", 0, Some(escape(target))),
            EntryKind::Hardlink { target } => ("hardlink", 0, Some(escape(target.as_str()))),
        };
        let mtime = std::time::UNIX_EPOCH
            .checked_add(std::time::Duration::from_secs(
                entry.mtime.max(0).unsigned_abs(),
            ))
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_default();
        self.entries.push(Listed {
            kind,
            mode: format!("{:04o}", entry.mode),
            size,
            mtime,
            path: escape(entry.path.as_str()),
            target,
        });
        Ok(())
    }
}

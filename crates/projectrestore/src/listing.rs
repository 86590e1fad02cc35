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
    pub target: Option<String>,
}

/// An entry's mtime as RFC 3339 (UTC) when it is within years 1970–9999
/// (humantime's range), else the raw number of seconds: an archive may say
/// anything, and a listing must not fail on it.
fn rfc3339(secs: i64) -> String {
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(0..=MAX).contains(&secs) {
        return secs.to_string();
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.unsigned_abs());
    let mut out = String::new();
    use std::fmt::Write;
    match write!(out, "{}", humantime::format_rfc3339_seconds(t)) {
        Ok(()) => out,
        Err(_) => secs.to_string(),
    }
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
        let mtime = rfc3339(entry.mtime);
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

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn any_mtime_is_shown_never_a_panic() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(999_999_999_999_999), "999999999999999");
        assert_eq!(rfc3339(-5), "-5");
        assert_eq!(rfc3339(i64::MAX), i64::MAX.to_string());
    }
}

//! Expected SHA-256 from `--checksum FILE` or an `ARCHIVE.sha256` sidecar.
//!
//! Accepts `sha256sum` output (`<hex>  <name>` or `<hex> *<name>`), projectclone's
//! sidecar (the same form) and a bare hex digest. When the file lists several
//! names, the line for the archive's file name is used.

use std::path::{Path, PathBuf};

use super::VerifyError;

/// Where an expected digest came from, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExpectedChecksum {
    /// The file it was read from.
    pub file: String,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// Largest checksum file we read.
const MAX_CHECKSUM_FILE: u64 = 1 << 20;

/// The sidecar `ARCHIVE.sha256`, if it exists.
pub fn sidecar(archive: &Path) -> Option<PathBuf> {
    let mut name = archive.file_name()?.to_os_string();
    name.push(".sha256");
    let path = archive.with_file_name(name);
    path.is_file().then_some(path)
}

/// Read the expected digest for `archive_name` from `file`.
pub fn load(file: &Path, archive_name: Option<&str>) -> Result<ExpectedChecksum, VerifyError> {
    let fail = |why: String| VerifyError::Checksum(format!("{}: {why}", file.display()));
    use std::io::Read;
    let mut bytes = Vec::new();
    let opened = crate::source::open_regular(file).map_err(|source| VerifyError::Unreadable {
        what: "checksum",
        path: crate::report::escape(&file.display().to_string()),
        source,
    })?;
    opened
        .take(MAX_CHECKSUM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_CHECKSUM_FILE {
        return Err(fail(format!(
            "larger than {MAX_CHECKSUM_FILE} bytes; is this a checksum file?"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
    let sha256 = parse(&text, archive_name).map_err(fail)?;
    Ok(ExpectedChecksum {
        file: file.display().to_string(),
        sha256,
    })
}

/// The expected digest for `archive_name` in the checksum file `bytes`, named
/// `file` in reports (a sidecar a source supplied).
pub fn from_bytes(
    file: &str,
    bytes: &[u8],
    archive_name: Option<&str>,
) -> Result<ExpectedChecksum, VerifyError> {
    let fail = |why: String| VerifyError::Checksum(format!("{file}: {why}"));
    let text = std::str::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
    let sha256 = parse(text, archive_name).map_err(fail)?;
    Ok(ExpectedChecksum {
        file: file.to_string(),
        sha256,
    })
}

/// Largest checksum file a source may supply.
pub const MAX_FILE: u64 = MAX_CHECKSUM_FILE;

/// Parse checksum text; see the module documentation.
pub fn parse(text: &str, archive_name: Option<&str>) -> Result<String, String> {
    let mut candidates = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (hex, name) = match line.split_once(char::is_whitespace) {
            Some((h, rest)) => (h, Some(rest.trim_start().trim_start_matches('*'))),
            None => (line.trim(), None),
        };
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "not a SHA-256 line: {:?}",
                crate::report::escape(line)
            ));
        }
        candidates.push((hex.to_ascii_lowercase(), name.map(str::to_string)));
    }
    match candidates.len() {
        0 => Err("no SHA-256 digest in the file".into()),
        1 => Ok(candidates.remove(0).0),
        _ => {
            let wanted = archive_name.ok_or("several digests and no archive name to choose by")?;
            let matching: Vec<_> = candidates
                .into_iter()
                .filter(|(_, n)| {
                    n.as_deref().is_some_and(|n| {
                        n == wanted || Path::new(n).file_name().is_some_and(|f| f == wanted)
                    })
                })
                .collect();
            match matching.as_slice() {
                [(hex, _)] => Ok(hex.clone()),
                [] => Err(format!("no line for {}", crate::report::escape(wanted))),
                _ => Err(format!("several lines for {wanted}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn sha256sum_and_projectclone_forms() {
        assert_eq!(
            parse(&format!("{H}  2024-01-01_000000-p-n.tar.gz\n"), None).as_deref(),
            Ok(H)
        );
        assert_eq!(
            parse(&format!("{H} *x.tar.gz\n"), Some("x.tar.gz")).as_deref(),
            Ok(H)
        );
        assert_eq!(
            parse(&format!("{}\n", H.to_uppercase()), None).as_deref(),
            Ok(H)
        );
    }

    #[test]
    fn picks_the_archive_line() {
        let other = "0".repeat(64);
        let text = format!("{other}  a.tar.gz\n{H}  dir/b.tar.gz\n");
        assert_eq!(parse(&text, Some("b.tar.gz")).as_deref(), Ok(H));
        assert!(parse(&text, Some("c.tar.gz")).is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("hello  x\n", None).is_err());
        assert!(parse("", None).is_err());
    }
}

//! projectrestore-core: the parts of projectrestore that touch the file system or
//! judge archive entries — the beneath-only file-system layer (`fs`), the tar entry
//! validator (`archive`), the staging writer (`stage`) and the atomic swap with its
//! journal and generations (`commit`).
//!
//! They are a crate of their own so that they can be type-checked for every
//! platform the tool supports (`cargo check -p projectrestore-core --target
//! aarch64-apple-darwin`) without the C and crypto dependencies of the whole tool,
//! which cannot be cross-checked. They have no dependency that needs a C compiler.

pub mod archive;
pub mod commit;
pub mod fs;
pub mod stage;

/// The error a cancelled read returns (the caller's reader raises it inside an
/// `io::Error`; the validator recognises it and stops quietly).
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Cancelled;

/// Escape text that came from outside (file names, trusted comments, signer
/// identities) so that it can be shown on a terminal: control characters and
/// terminal escapes become visible escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_default());
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// Escape raw bytes (possibly not UTF-8) for display.
pub fn escape_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => escape(s),
        Err(_) => b.escape_ascii().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\rb\x1b[31m"), "a\\rb\\u{1b}[31m");
        assert_eq!(escape("plain é"), "plain é");
        assert_eq!(escape_bytes(b"\xff\x1b"), "\\xff\\x1b");
    }
}

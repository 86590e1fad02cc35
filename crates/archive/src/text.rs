//! Showing text that came from outside: the bottom of the crate graph, so that
//! every layer and every message escapes with the same function.

/// Escape text that came from outside (file names, trusted comments, signer
/// identities) so that it can be shown on a terminal: control characters and
/// terminal escapes become visible escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// A character [`escape`] makes visible: a control character or a bidi
/// override or isolate (which reorder what a terminal shows).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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

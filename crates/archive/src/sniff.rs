//! Recognise a stream's format by its first bytes, never by its name.

/// A stored or decrypted stream's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// POSIX/GNU tar.
    Tar,
    /// gzip (one or more members).
    Gzip,
    /// zstd (one or more frames, skippable frames allowed).
    Zstd,
    /// xz (one or more streams).
    Xz,
    /// bzip2 (one or more streams).
    Bzip2,
    /// age, binary header.
    Age,
    /// age, ASCII armor.
    AgeArmored,
    /// OpenPGP message, binary packets (`openpgp` in JSON, as everywhere).
    #[serde(rename = "openpgp")]
    OpenPgp,
    /// OpenPGP message, ASCII armor.
    #[serde(rename = "openpgp-armored")]
    OpenPgpArmored,
}

impl Format {
    /// Is this an encryption layer?
    pub fn is_encrypted(self) -> bool {
        matches!(
            self,
            Format::Age | Format::AgeArmored | Format::OpenPgp | Format::OpenPgpArmored
        )
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Xz => "xz",
            Format::Bzip2 => "bzip2",
            Format::Age => "age",
            Format::AgeArmored => "age (armored)",
            Format::OpenPgp => "openpgp",
            Format::OpenPgpArmored => "openpgp (armored)",
        }
    }
}

/// How many leading bytes [`sniff`] wants to see (fewer only at end of input).
pub const SNIFF_LEN: usize = 512;

/// Recognise `head` (the first up to [`SNIFF_LEN`] bytes of a stream).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"age-encryption.org/") {
        return Some(Format::Age);
    }
    // The age specification allows whitespace before an armored file.
    let trimmed = head
        .iter()
        .position(|b| !b" \t\r\n".contains(b))
        .map_or(&head[..0], |i| &head[i..]);
    if trimmed.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
        return Some(Format::AgeArmored);
    }
    if head.starts_with(b"-----BEGIN PGP MESSAGE-----") {
        return Some(Format::OpenPgpArmored);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Gzip);
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Some(Format::Zstd);
    }
    // A skippable zstd frame (magic 0x184D2A5? little-endian) may come first.
    if head.len() >= 4 && head[1..4] == [0x2a, 0x4d, 0x18] && head[0] & 0xf0 == 0x50 {
        return Some(Format::Zstd);
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return Some(Format::Xz);
    }
    // "BZh", the block size 1–9, then a block's or the end's magic (π or √π).
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
    {
        return Some(Format::Bzip2);
    }
    if is_tar_header(head) {
        return Some(Format::Tar);
    }
    if is_openpgp_message_start(head) {
        return Some(Format::OpenPgp);
    }
    None
}

/// A ustar/GNU magic, or a header block whose checksum is right.
fn is_tar_header(head: &[u8]) -> bool {
    if head.len() < 512 {
        // An empty archive is two zero blocks; anything shorter is not tar.
        return false;
    }
    let block = &head[..512];
    if block.iter().all(|b| *b == 0) {
        // An empty archive: end-of-archive blocks only (the validator checks them).
        return true;
    }
    if &block[257..262] == b"ustar" {
        return true;
    }
    // V7 tar has no magic: check the header checksum.
    let stored = parse_octal(&block[148..156]);
    let mut sum: u64 = 0;
    for (i, b) in block.iter().enumerate() {
        sum += if (148..156).contains(&i) {
            32
        } else {
            u64::from(*b)
        };
    }
    stored == Some(sum)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c: char| c == ' ' || c == '\0');
    u64::from_str_radix(s, 8).ok()
}

/// The packet tags an encrypted OpenPGP message starts with: PKESK (1), SKESK (3),
/// or a marker packet (10), in old or new packet format.
fn is_openpgp_message_start(head: &[u8]) -> bool {
    let Some(&b) = head.first() else { return false };
    if b & 0x80 == 0 {
        return false;
    }
    let tag = if b & 0x40 != 0 {
        b & 0x3f
    } else {
        (b >> 2) & 0x0f
    };
    matches!(tag, 1 | 3 | 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_xz_and_bzip2() {
        assert_eq!(
            sniff(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4]),
            Some(Format::Xz)
        );
        let mut bz = b"BZh9".to_vec();
        bz.extend_from_slice(&[0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);
        assert_eq!(sniff(&bz), Some(Format::Bzip2));
        // Text that starts with "BZh9" is not bzip2.
        assert_eq!(
            sniff(b"BZh9 is not a block magic at all, it is prose"),
            None
        );
    }

    #[test]
    fn recognises_magic_bytes() {
        assert_eq!(
            sniff(b"age-encryption.org/v1\n-> X25519"),
            Some(Format::Age)
        );
        assert_eq!(
            sniff(b"-----BEGIN AGE ENCRYPTED FILE-----\n"),
            Some(Format::AgeArmored)
        );
        assert_eq!(
            sniff(b"-----BEGIN PGP MESSAGE-----\n"),
            Some(Format::OpenPgpArmored)
        );
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Some(Format::Gzip));
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Some(Format::Zstd));
        assert_eq!(sniff(&[0x50, 0x2a, 0x4d, 0x18, 0]), Some(Format::Zstd));
        assert_eq!(sniff(&[0x85, 0x01, 0x0c]), Some(Format::OpenPgp));
        assert_eq!(sniff(&[0xc1, 0x5e]), Some(Format::OpenPgp));
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(sniff(&[0u8; 1024]), Some(Format::Tar), "an empty archive");
        assert_eq!(sniff(&[0u8; 100]), None);
    }

    #[test]
    fn recognises_ustar() {
        let mut block = [0u8; 512];
        block[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff(&block), Some(Format::Tar));
    }
}

//! age: X25519 and SSH identities, passphrases (scrypt with a bounded work
//! factor), armored or binary input.

use std::io::{BufRead, BufReader, Read};

use super::secret::AgeCallbacks;
use super::{DecryptError, Identities, Identity};

/// The largest scrypt work factor (log2 N) accepted. age's scrypt uses r = 8,
/// so memory is 1 KiB · 2^N: 20 is 1 GiB and about a second; 22 would be
/// 4 GiB, which a hostile header could demand of a small machine. The age
/// CLI writes 18; rage tunes to about a second, which is at most 20 on
/// today's machines.
pub const MAX_SCRYPT_WORK_FACTOR: u8 = 20;

/// At most this many recipient stanzas (the age CLI writes one per recipient).
pub const MAX_STANZAS: usize = 256;
/// At most this many header bytes.
pub const MAX_HEADER: usize = 256 << 10;

/// Skip the whitespace the specification allows before an armored file (no
/// more than the format sniff looked at).
fn skip_whitespace<R: BufRead>(r: &mut R) -> std::io::Result<()> {
    let mut skipped = 0;
    while skipped < crate::archive::sniff::SNIFF_LEN {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let n = buf.iter().take_while(|b| b" \t\r\n".contains(b)).count();
        let all = n == buf.len();
        r.consume(n);
        skipped += n;
        if !all {
            return Ok(());
        }
    }
    Ok(())
}

/// Canonical unpadded base64 (standard alphabet, no padding, no stray trailing
/// bits), as the specification requires of body and MAC lines.
fn canonical_b64(line: &[u8]) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(line)
        .is_ok()
}

/// Read the age header (version line, stanzas, MAC line) in one linear pass and
/// check it against the specification's grammar (issue 14, item 13): stanza
/// arguments of visible ASCII, canonical base64 bodies of full 64-character
/// lines ending with a shorter final line (even an empty one), LF line ends,
/// a MAC line of 43 characters; at most [`MAX_STANZAS`] stanzas and
/// [`MAX_HEADER`] bytes. Returns the header's bytes, to be parsed again by the
/// age crate.
pub fn prescan<R: BufRead>(r: &mut R) -> Result<Vec<u8>, DecryptError> {
    let bad = |why: &str| DecryptError::Corrupt(format!("age header: {why}"));
    let mut header = Vec::new();
    let mut line = Vec::new();
    let mut next = |header: &mut Vec<u8>, line: &mut Vec<u8>| -> Result<(), DecryptError> {
        line.clear();
        let room = (MAX_HEADER - header.len()) as u64;
        r.by_ref()
            .take(room)
            .read_until(b'\n', line)
            .map_err(|e| DecryptError::Corrupt(format!("age header: {e}")))?;
        if line.last() != Some(&b'\n') {
            return Err(if header.len() + line.len() >= MAX_HEADER {
                DecryptError::Unsupported(format!(
                    "the age header is larger than {} KiB; refused",
                    MAX_HEADER >> 10
                ))
            } else {
                DecryptError::Corrupt("age header: truncated (a line without its end)".into())
            });
        }
        header.extend_from_slice(line);
        line.pop();
        Ok(())
    };
    next(&mut header, &mut line)?;
    if line != b"age-encryption.org/v1" {
        return Err(if line.starts_with(b"age-encryption.org/") {
            DecryptError::Unsupported("an unsupported age format version".into())
        } else {
            bad("the version line is not age-encryption.org/v1")
        });
    }
    let mut stanzas = 0;
    next(&mut header, &mut line)?;
    loop {
        if let Some(mac) = line.strip_prefix(b"--- ") {
            if mac.len() != 43 || !canonical_b64(mac) {
                return Err(bad("the MAC line is malformed"));
            }
            return Ok(header);
        }
        let Some(args) = line.strip_prefix(b"-> ") else {
            return Err(bad("expected a stanza (-> ...) or the MAC line (--- ...)"));
        };
        stanzas += 1;
        if stanzas > MAX_STANZAS {
            return Err(DecryptError::Unsupported(format!(
                "the age header has more than {MAX_STANZAS} recipient stanzas; refused"
            )));
        }
        if args
            .split(|c| *c == b' ')
            .any(|a| a.is_empty() || !a.iter().all(|c| (0x21..=0x7e).contains(c)))
        {
            return Err(bad("a stanza argument is empty or not visible ASCII"));
        }
        // A passphrase's work factor is refused here, before anyone is asked
        // for the passphrase (the age crate checks it only when decrypting).
        let mut words = args.split(|c| *c == b' ');
        if words.next() == Some(b"scrypt") {
            let factor = words.nth(1).and_then(|w| std::str::from_utf8(w).ok());
            if let Some(n) = factor.and_then(|f| f.parse::<u64>().ok()) {
                if n > u64::from(MAX_SCRYPT_WORK_FACTOR) {
                    return Err(excessive_work(n));
                }
            }
        }
        // The body: full 64-character lines, then a shorter final one.
        loop {
            next(&mut header, &mut line)?;
            if line.len() > 64 || !canonical_b64(&line) {
                return Err(bad(
                    "a stanza body line is not canonical base64 of at most 64 characters",
                ));
            }
            if line.len() < 64 {
                break;
            }
        }
        next(&mut header, &mut line)?;
    }
}

/// A passphrase stanza asks for more scrypt work than [`MAX_SCRYPT_WORK_FACTOR`].
fn excessive_work(required: u64) -> DecryptError {
    DecryptError::Unsupported(format!(
        "the archive's passphrase needs scrypt work factor {required}, over the maximum of {MAX_SCRYPT_WORK_FACTOR}; refusing (a hostile header could demand gigabytes of memory and hours of work); if you made it, decrypt it with `age -d` and pipe the tar in"
    ))
}

fn header_error(e: age::DecryptError) -> DecryptError {
    match e {
        age::DecryptError::Io(e) => DecryptError::Corrupt(format!("age header: {e}")),
        other => DecryptError::Corrupt(format!("age header: {other}")),
    }
}

/// Start decrypting an age file, `armored` (PEM-like text) or binary.
pub fn open<'a, R: Read + Send + 'a>(
    input: R,
    armored: bool,
    ids: &Identities,
) -> Result<(Box<dyn Read + Send + 'a>, String), DecryptError> {
    let input: Box<dyn Read + Send + 'a> = if armored {
        let mut buffered = BufReader::with_capacity(256 << 10, input);
        skip_whitespace(&mut buffered)
            .map_err(|e| DecryptError::Corrupt(format!("age armor: {e}")))?;
        Box::new(age::armor::ArmoredReader::new(buffered))
    } else {
        // Binary: the payload's 64 KiB chunks are read straight from the source
        // (a read larger than the buffer bypasses it), one copy fewer per byte.
        Box::new(input)
    };
    // The header is read and held to the grammar here, linearly and within
    // limits, before the age crate (whose parser re-reads the header after
    // every line) sees it.
    let mut input = BufReader::new(input);
    let header = prescan(&mut input)?;
    // Chain of two BufReads is one: no second buffer in front of the payload.
    let input = std::io::Cursor::new(header).chain(input);
    let decryptor = age::Decryptor::new_buffered(input).map_err(header_error)?;
    if decryptor.is_scrypt() {
        let pass = ids.passphrase.get("the archive")?;
        let mut id = age::scrypt::Identity::new(pass);
        id.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
        let reader = decryptor
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::ExcessiveWork { required, .. } => {
                    excessive_work(required.into())
                }
                age::DecryptError::DecryptionFailed
                | age::DecryptError::KeyDecryptionFailed
                | age::DecryptError::NoMatchingKeys => {
                    DecryptError::WrongPassphrase("the archive".into())
                }
                other => header_error(other),
            })?;
        return Ok((Box::new(reader), "age-passphrase".into()));
    }
    let mut boxed: Vec<Box<dyn age::Identity>> = Vec::new();
    for id in &ids.list {
        match id {
            Identity::AgeX25519 { keys, .. } => boxed.extend(
                keys.iter()
                    .map(|k| Box::new(k.clone()) as Box<dyn age::Identity>),
            ),
            Identity::AgeSsh { file, key, .. } => {
                let cb = AgeCallbacks {
                    passphrase: ids.passphrase.clone(),
                    file: file.clone(),
                };
                boxed.push(Box::new((**key).clone().with_callbacks(cb)));
            }
            Identity::OpenPgp { .. } => {}
        }
    }
    let reader = decryptor
        .decrypt(boxed.iter().map(|b| b.as_ref()))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => DecryptError::NoMatch {
                tried: ids.tried(""),
            },
            age::DecryptError::KeyDecryptionFailed => {
                DecryptError::WrongPassphrase("an encrypted SSH identity".into())
            }
            other => header_error(other),
        })?;
    Ok((Box::new(reader), "age".into()))
}

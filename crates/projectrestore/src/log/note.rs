//! C2SP signed-note (Ed25519) and C2SP tlog-checkpoint, as owned, validated types.
//!
//! A note is UTF-8 text without control characters other than newline, ending in a
//! newline, then a blank line, then signature lines `— NAME BASE64(keyid4 || sig)`.
//! The key id is the first four bytes of `SHA-256(NAME || "\n" || 0x01 || pubkey)`.
//! Keys travel as `NAME+KEYID+BASE64(0x01 || pubkey)` (verifier) and
//! `PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed)` (signer), as in Go's
//! `golang.org/x/mod/sumdb/note`, so that other tools read them.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::merkle::Hash;

const ALG_ED25519: u8 = 1;
const SIG_PREFIX: &str = "\u{2014} ";
/// Go's note package refuses notes with more signatures than this.
const MAX_SIGNATURES: usize = 100;

/// A malformed key, note or checkpoint, or a signature that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed key: {0}")]
    Key(String),
    #[error("malformed note: {0}")]
    Malformed(String),
    #[error("the note has no signature by {name}+{id:08x}")]
    NotSigned { name: String, id: u32 },
    #[error("the signature by {name}+{id:08x} does not verify: the note was changed or forged")]
    BadSignature { name: String, id: u32 },
    #[error("malformed checkpoint: {0}")]
    Checkpoint(String),
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

fn key_id(name: &str, key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A note verifier key (the log's public key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Parse `NAME+KEYID+BASE64`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let bad = |why: &str| NoteError::Key(format!("{why} (expected NAME+KEYID+BASE64)"));
        // The name has no '+'; base64 may.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("not three '+'-separated parts"));
        };
        if !valid_name(name) {
            return Err(bad("bad name"));
        }
        if id.len() != 8 {
            return Err(bad("key id is not 8 hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("key id is not hex"))?;
        let raw = B64.decode(b64).map_err(|_| bad("key is not base64"))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        if key_id(name, &raw) != id {
            return Err(bad("key id does not match the key"));
        }
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&raw[1..]);
        let key = VerifyingKey::from_bytes(&pk).map_err(|_| bad("not a valid Ed25519 point"))?;
        Ok(VerifierKey {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The key name (the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The text form.
    pub fn encode(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

/// A note signer key (the log's private key).
pub struct SignerKey {
    name: String,
    id: u32,
    key: SigningKey,
}

impl SignerKey {
    /// A new random key named `name`.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Key(format!(
                "{name:?} cannot name a log: use a non-empty name without spaces or '+', e.g. example.com/backups"
            )));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(seed.as_mut())
            .map_err(|e| NoteError::Key(format!("no randomness from the system: {e}")))?;
        Ok(Self::from_seed(name, &seed))
    }

    fn from_seed(name: &str, seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(key.verifying_key().as_bytes());
        SignerKey {
            name: name.to_string(),
            id: key_id(name, &raw),
            key,
        }
    }

    /// Parse `PRIVATE+KEY+NAME+KEYID+BASE64`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad =
            |why: &str| NoteError::Key(format!("{why} (expected PRIVATE+KEY+NAME+KEYID+BASE64)"));
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("not a signer key"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("not three '+'-separated parts"));
        };
        if !valid_name(name) || id.len() != 8 {
            return Err(bad("bad name or key id"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("key id is not hex"))?;
        let raw = Zeroizing::new(B64.decode(b64).map_err(|_| bad("key is not base64"))?);
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&raw[1..]);
        let key = Self::from_seed(name, &seed);
        if key.id != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(key)
    }

    /// The text form (secret).
    pub fn encode(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(vec![ALG_ED25519]);
        raw.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(&*raw)
        ))
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// Sign `text` (which must be a valid note text) as a note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the text does not end with a newline".into(),
        ));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(format!(
            "the text contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// A note whose signature by the expected key has been checked. Only
/// [`open`] makes one, so the text is readable only after verification.
#[derive(Debug, Clone)]
pub struct VerifiedNote {
    text: String,
}

impl VerifiedNote {
    /// The signed text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Parse a signed note and check its signature by `key`. Signatures by other keys
/// are allowed (witnesses) and ignored.
pub fn open(msg: &[u8], key: &VerifierKey) -> Result<VerifiedNote, NoteError> {
    let msg = std::str::from_utf8(msg).map_err(|_| NoteError::Malformed("not UTF-8".into()))?;
    if !msg.ends_with('\n') {
        return Err(NoteError::Malformed(
            "does not end with a newline (truncated?)".into(),
        ));
    }
    let split = msg
        .rfind("\n\n")
        .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
    let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
    check_text(text)?;
    let mut found = false;
    for (n, line) in sigs.lines().enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(NoteError::Malformed("more than 100 signatures".into()));
        }
        let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
            NoteError::Malformed(format!("signature line {} does not start with '— '", n + 1))
        })?;
        let (name, b64) = rest.split_once(' ').ok_or_else(|| {
            NoteError::Malformed(format!("signature line {} has no signature", n + 1))
        })?;
        if !valid_name(name) {
            return Err(NoteError::Malformed(format!(
                "signature line {} has a bad name",
                n + 1
            )));
        }
        let blob = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed(format!("signature line {} is not base64", n + 1)))?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed(format!(
                "signature line {} is too short",
                n + 1
            )));
        }
        let id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        if name != key.name || id != key.id {
            continue;
        }
        let sig = Signature::from_slice(&blob[4..]).map_err(|_| NoteError::BadSignature {
            name: key.name.clone(),
            id: key.id,
        })?;
        key.key
            .verify_strict(text.as_bytes(), &sig)
            .map_err(|_| NoteError::BadSignature {
                name: key.name.clone(),
                id: key.id,
            })?;
        found = true;
    }
    if !found {
        return Err(NoteError::NotSigned {
            name: key.name.clone(),
            id: key.id,
        });
    }
    Ok(VerifiedNote {
        text: text.to_string(),
    })
}

/// A C2SP tlog-checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (its key name).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash of those leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: origin, size, base64 root, each on its own line.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parse a verified note as a checkpoint of the log `origin`.
    pub fn from_note(note: &VerifiedNote, origin: &str) -> Result<Self, NoteError> {
        let bad = |why: String| NoteError::Checkpoint(why);
        let mut lines = note.text().split('\n');
        let o = lines.next().unwrap_or_default();
        if o != origin {
            return Err(bad(format!("origin {o:?} is not this log's {origin:?}")));
        }
        let size_text = lines.next().unwrap_or_default();
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(bad(format!(
                "tree size {size_text:?} is not a decimal number"
            )));
        }
        let size: u64 = size_text
            .parse()
            .map_err(|_| bad(format!("tree size {size_text:?} is out of range")))?;
        let root_text = lines.next().unwrap_or_default();
        let raw = B64
            .decode(root_text)
            .map_err(|_| bad("the root hash is not base64".into()))?;
        let root: Hash = raw
            .try_into()
            .map_err(|_| bad("the root hash is not 32 bytes".into()))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// Open a signed checkpoint with `key`.
pub fn open_checkpoint(msg: &[u8], key: &VerifierKey) -> Result<Checkpoint, NoteError> {
    let note = open(msg, key)?;
    Checkpoint::from_note(&note, key.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang.org/x/mod/sumdb/note's published test vector.
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn go_note_vector() {
        let s = SignerKey::parse(SKEY).unwrap();
        assert_eq!(s.verifier().encode(), VKEY);
        assert_eq!(&*s.encode(), SKEY);
        assert_eq!(s.sign(TEXT).unwrap(), SIGNED);
        let v = VerifierKey::parse(VKEY).unwrap();
        assert_eq!(open(SIGNED.as_bytes(), &v).unwrap().text(), TEXT);
    }

    #[test]
    fn manglings_refused() {
        let v = VerifierKey::parse(VKEY).unwrap();
        let bad = SIGNED.replace("ZJkuBS9", "ZJkuBS8");
        assert!(matches!(
            open(bad.as_bytes(), &v),
            Err(NoteError::BadSignature { .. })
        ));
        let changed = SIGNED.replace("cryptography", "cryptographx");
        assert!(matches!(
            open(changed.as_bytes(), &v),
            Err(NoteError::BadSignature { .. })
        ));
        let cr = SIGNED.replace("problem,\n", "problem,\r\n");
        assert!(matches!(
            open(cr.as_bytes(), &v),
            Err(NoteError::Malformed(_))
        ));
        assert!(open(&SIGNED.as_bytes()[..SIGNED.len() - 1], &v).is_err());
        assert!(VerifierKey::parse(
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err());
        let other = SignerKey::generate("PeterNeumann").unwrap();
        assert!(matches!(
            open(other.sign(TEXT).unwrap().as_bytes(), &v),
            Err(NoteError::NotSigned { .. })
        ));
    }

    #[test]
    fn checkpoint_round_trip() {
        let s = SignerKey::generate("example.com/log").unwrap();
        let c = Checkpoint {
            origin: "example.com/log".into(),
            size: 7,
            root: [7u8; 32],
        };
        let signed = s.sign(&c.text()).unwrap();
        assert_eq!(
            open_checkpoint(signed.as_bytes(), &s.verifier()).unwrap(),
            c
        );
        let leading_zero = s
            .sign("example.com/log\n07\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n")
            .unwrap();
        assert!(open_checkpoint(leading_zero.as_bytes(), &s.verifier()).is_err());
    }
}

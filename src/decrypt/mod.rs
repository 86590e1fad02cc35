//! Decryption: age and OpenPGP, streamed (no plaintext temporary files).
//!
//! STUB: implemented by the decryption work.

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::archive::Format;
use crate::verify::SignatureReport;

/// A decryption failure (exit 6). Never contains a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecryptError {
    /// No identity or passphrase could decrypt the archive.
    #[error("no identity could decrypt the archive (tried: {tried}); pass the right one with --identity or --passphrase-file")]
    NoMatch { tried: String },
    /// The ciphertext is damaged, truncated or was tampered with.
    #[error("the encrypted stream is damaged or was tampered with: {0}")]
    Corrupt(String),
    /// An identity or passphrase source could not be used.
    #[error("{0}")]
    Identity(String),
    /// The archive needs something this build refuses (plugins, excessive work factor).
    #[error("{0}")]
    Unsupported(String),
}

/// Where a passphrase comes from, in order of preference.
#[derive(Debug, Clone, Default)]
pub struct PassphraseOptions {
    /// `--passphrase-file`.
    pub file: Option<PathBuf>,
    /// Read `PROJECTRESTORE_PASSPHRASE`.
    pub env: bool,
    /// Prompt on the terminal if nothing else is given.
    pub prompt: bool,
}

/// Identities and passphrase sources for decryption.
#[derive(Default)]
pub struct Identities {
    files: Vec<PathBuf>,
    passphrase: PassphraseOptions,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// Load identity files (age, SSH, OpenPGP secret keys; recognised by content).
    pub fn load(files: &[PathBuf], passphrase: PassphraseOptions) -> Result<Self, DecryptError> {
        Ok(Identities {
            files: files.to_vec(),
            passphrase,
        })
    }
}

/// What decryption learned while streaming: the first stream error and any
/// inline OpenPGP signatures (known only at the end of the stream).
#[derive(Debug, Default, Clone)]
pub struct DecryptStatus {
    /// The first error seen inside the stream.
    pub error: Option<DecryptError>,
    /// Inline signatures of a signed-and-encrypted OpenPGP message.
    pub inline_signatures: Vec<SignatureReport>,
}

/// A plaintext stream and its shared status.
pub struct Decrypted<'a> {
    /// The plaintext.
    pub reader: Box<dyn Read + Send + 'a>,
    /// Filled in as the stream is read.
    pub status: Arc<Mutex<DecryptStatus>>,
    /// How the archive was encrypted, e.g. "age (X25519)".
    pub method: String,
}

/// Start decrypting `input`, whose format `format` was sniffed.
pub fn open<'a, R: Read + Send + 'a>(
    format: Format,
    input: R,
    identities: &Identities,
    certs: &[sequoia_openpgp::Cert],
) -> Result<Decrypted<'a>, DecryptError> {
    let _ = (input, identities, certs, &identities.passphrase);
    Err(DecryptError::Unsupported(format!(
        "{} decryption is not implemented",
        format.name()
    )))
}

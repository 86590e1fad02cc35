//! Decryption: age and OpenPGP, streamed into the validator (no plaintext
//! temporary files).
//!
//! Identities are recognised by content: age identity files, OpenSSH private keys
//! (for age), OpenPGP secret keys. Passphrases are asked for only when an archive
//! or a protected key needs one, and come from `--passphrase-file`,
//! `PROJECTRESTORE_PASSPHRASE`, or the terminal — never from nowhere: without a
//! source the error says so instead of hanging. Secrets live in `secrecy` types
//! and never appear in errors or `Debug` output (invariant 6).

pub(crate) mod age_stream;
mod openpgp_stream;
mod secret;

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::archive::Format;
use crate::verify::SignatureReport;

/// A decryption failure (exit 6). Never contains a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecryptError {
    /// No identity or passphrase could decrypt the archive.
    #[error("no identity could decrypt the archive (tried: {tried})")]
    NoMatch { tried: String },
    /// A passphrase is needed and nothing can supply one (no terminal, no
    /// passphrase source given to the run).
    #[error("{0} needs a passphrase, and no passphrase source is available")]
    NoPassphrase(String),
    /// The passphrase did not decrypt the archive or the key.
    #[error("wrong passphrase for {0}")]
    WrongPassphrase(String),
    /// The ciphertext is damaged, truncated or was tampered with.
    #[error("the encrypted stream is damaged, truncated or was tampered with: {0}")]
    Corrupt(String),
    /// An identity or passphrase source could not be used.
    #[error("{0}")]
    Identity(String),
    /// The archive needs something this build refuses (plugins, excessive work factor).
    #[error("{0}")]
    Unsupported(String),
}

/// One loaded identity; the secret stays inside.
pub(crate) enum Identity {
    /// age X25519 keys from an identity file.
    AgeX25519 { keys: Vec<age::x25519::Identity> },
    /// An OpenSSH private key, for age.
    AgeSsh {
        file: String,
        key: Box<age::ssh::Identity>,
        public: String,
    },
    /// OpenPGP secret keys.
    OpenPgp { cert: Box<sequoia_openpgp::Cert> },
}

impl Identity {
    /// Its public part, for messages.
    fn describe(&self) -> Vec<String> {
        match self {
            Identity::AgeX25519 { keys, .. } => {
                keys.iter().map(|k| k.to_public().to_string()).collect()
            }
            Identity::AgeSsh { public, .. } => vec![public.clone()],
            Identity::OpenPgp { cert, .. } => vec![format!("OpenPGP {}", cert.fingerprint())],
        }
    }
}

/// Identities and passphrase sources for decryption.
#[derive(Default)]
pub struct Identities {
    pub(crate) list: Vec<Identity>,
    pub(crate) passphrase: Arc<secret::Passphrase>,
    /// OpenPGP session keys may be decrypted by gpg-agent (`--gpg-agent`).
    pub(crate) gpg_agent: bool,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("public", &self.describe())
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// Load identity files (age, SSH, OpenPGP secret keys; recognised by content).
    /// Passphrases (of protected keys, of scrypt-encrypted archives) are asked
    /// for through `ui`, at most once, when first needed.
    pub fn load(
        files: &[PathBuf],
        ui: crate::interact::SharedInteraction,
    ) -> Result<Self, DecryptError> {
        let passphrase = Arc::new(secret::Passphrase::new(ui));
        let mut list = Vec::new();
        for f in files {
            list.push(secret::load_identity(f)?);
        }
        Ok(Identities {
            list,
            passphrase,
            gpg_agent: false,
        })
    }

    /// Let gpg-agent decrypt OpenPGP session keys with the secret keys it
    /// holds (the user's GnuPG keyring, smartcards): for each recipient of
    /// the message, its certificate is taken from `gpg --export` and the
    /// agent is asked (it asks for a key's passphrase itself, by pinentry).
    /// An error when this build has no gpg-agent support.
    pub fn with_gpg_agent(mut self, on: bool) -> Result<Self, DecryptError> {
        if on && !cfg!(all(unix, feature = "gpg-agent")) {
            return Err(DecryptError::Unsupported(
                "--gpg-agent: this build of projectrestore has no gpg-agent support (it was built without the `gpg-agent` feature); give the secret key with -i instead (`gpg --export-secret-keys KEYID > key.asc`)".into(),
            ));
        }
        self.gpg_agent = on;
        Ok(self)
    }

    /// The public parts of every identity (never a secret).
    pub fn describe(&self) -> Vec<String> {
        self.list.iter().flat_map(Identity::describe).collect()
    }

    fn tried(&self, extra: &str) -> String {
        let mut d = self.describe();
        if self.gpg_agent {
            d.push("gpg-agent (the secret keys of GnuPG's keyring and smartcards)".into());
        }
        if !extra.is_empty() {
            d.push(extra.to_string());
        }
        if d.is_empty() {
            "nothing: no identity was given".into()
        } else {
            d.join(", ")
        }
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
    /// How the archive was encrypted: `age` (recipients), `age-passphrase` or `openpgp`.
    pub method: String,
}

/// Start decrypting `input`, whose format `format` was sniffed. `certs` are the
/// trusted OpenPGP certificates, for inline signatures.
pub fn open<'a, R: Read + Send + 'a>(
    format: Format,
    input: R,
    identities: &Identities,
    certs: &[sequoia_openpgp::Cert],
) -> Result<Decrypted<'a>, DecryptError> {
    let status = Arc::new(Mutex::new(DecryptStatus::default()));
    // The parsers are contained (crate::contain): a panic on hostile or cut
    // bytes is a refusal of damaged input, never the end of the process.
    let parser = match format {
        Format::Age | Format::AgeArmored => "the age parser (age)",
        Format::OpenPgp | Format::OpenPgpArmored => "the OpenPGP parser (sequoia-openpgp)",
        other => {
            return Err(DecryptError::Unsupported(format!(
                "{} is not an encryption format",
                other.name()
            )))
        }
    };
    // What the decoder reads is ours (hashing, progress events): a bug there
    // is reported as ours, not contained as the decoder's.
    let input = crate::contain::Ours(input);
    let opened = crate::contain::contain(parser, || {
        if matches!(format, Format::Age | Format::AgeArmored) {
            age_stream::open(input, format == Format::AgeArmored, identities)
        } else {
            openpgp_stream::open(input, identities, certs, Arc::clone(&status))
        }
    });
    let (reader, method) = opened.map_err(|p| DecryptError::Corrupt(p.to_string()))??;
    let reader = Box::new(Recorder {
        inner: crate::contain::Contained::new(parser, reader),
        status: Arc::clone(&status),
    });
    Ok(Decrypted {
        reader,
        status,
        method,
    })
}

/// Records the first error of the plaintext stream as a typed [`DecryptError`].
struct Recorder<R> {
    inner: R,
    status: Arc<Mutex<DecryptStatus>>,
}

impl<R: Read> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            // A cancelled read, or a bug of ours beneath, is not a decryption failure.
            if crate::source::is_cancelled(e) || crate::contain::is_internal(e) {
                return;
            }
            if let Ok(mut s) = self.status.lock() {
                if s.error.is_none() {
                    s.error = Some(DecryptError::Corrupt(e.to_string()));
                }
            }
        })
    }
}

/// Shares a `Send` reader with code that wants `Sync` too (sequoia's parser).
pub(crate) struct SyncReader<R>(pub(crate) Mutex<R>);

impl<R: Read> Read for SyncReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.get_mut() {
            Ok(r) => r.read(buf),
            Err(_) => Err(io::Error::other("reader poisoned")),
        }
    }
}

//! Passphrases and identity files. Secrets are `SecretString`s (zeroized on drop)
//! and are never formatted.

use std::path::Path;
use std::sync::Mutex;

use age::secrecy::{ExposeSecret, SecretString};
use openpgp::parse::Parse;
use sequoia_openpgp as openpgp;

use super::{DecryptError, Identity};
use crate::interact::SharedInteraction;

/// A passphrase obtained at most once, when first needed, through the caller's
/// [`Interaction`].
pub struct Passphrase {
    source: SharedInteraction,
    cached: Mutex<Option<SecretString>>,
}

impl Default for Passphrase {
    /// No passphrase to give ([`crate::interact::NoInteraction`]).
    fn default() -> Self {
        Passphrase::new(crate::interact::NoInteraction::shared())
    }
}

impl Passphrase {
    pub fn new(source: SharedInteraction) -> Self {
        Passphrase {
            source,
            cached: Mutex::new(None),
        }
    }

    /// The passphrase for `what` (an archive, a key).
    pub fn get(&self, what: &str) -> Result<SecretString, DecryptError> {
        if let Ok(guard) = self.cached.lock() {
            if let Some(p) = guard.as_ref() {
                return Ok(p.clone());
            }
        }
        let p = match self.source.passphrase(what) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(DecryptError::NoPassphrase(what.to_string())),
            Err(why) => return Err(DecryptError::Identity(why)),
        };
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some(p.clone());
        }
        Ok(p)
    }
}

/// age asks for the passphrase of an encrypted SSH key through these callbacks.
#[derive(Clone)]
pub struct AgeCallbacks {
    pub passphrase: std::sync::Arc<Passphrase>,
    pub file: String,
}

impl age::Callbacks for AgeCallbacks {
    fn display_message(&self, _message: &str) {}
    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }
    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }
    fn request_passphrase(&self, _description: &str) -> Option<SecretString> {
        self.passphrase
            .get(&format!("the SSH key {}", self.file))
            .ok()
    }
}

/// Load one identity file, recognised by content.
pub(crate) fn load_identity(path: &Path) -> Result<Identity, DecryptError> {
    let file = path.display().to_string();
    let err = |why: String| DecryptError::Identity(format!("identity {file}: {why}"));
    // One byte past the limit is enough to refuse it: never read a huge
    // file (or /dev/zero) whole. The bytes are a secret too: wiped on drop.
    let mut data = zeroize::Zeroizing::new(Vec::new());
    {
        use std::io::Read;
        crate::source::open_regular(path)
            .and_then(|f| f.take((1 << 20) + 1).read_to_end(&mut data))
            .map_err(|e| err(e.to_string()))?;
    }
    if data.len() > 1 << 20 {
        return Err(err("larger than 1 MiB; not an identity file".into()));
    }
    let text = std::str::from_utf8(&data).ok();
    if let Some(t) = text {
        if t.contains("AGE-SECRET-KEY-") || t.contains("AGE-PLUGIN-") {
            let mut keys = Vec::new();
            for line in t.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if line.starts_with("AGE-PLUGIN-") {
                    return Err(err("age plugin identities are not supported".into()));
                }
                let key: age::x25519::Identity = line
                    .parse()
                    .map_err(|_| err("a line is not an age identity".into()))?;
                keys.push(key);
            }
            return Ok(Identity::AgeX25519 { keys });
        }
        if t.contains("-----BEGIN OPENSSH PRIVATE KEY-----")
            || t.contains("-----BEGIN RSA PRIVATE KEY-----")
        {
            let public = ssh_key::PrivateKey::from_openssh(t)
                .map(|k| {
                    format!(
                        "SSH {}",
                        k.public_key().fingerprint(ssh_key::HashAlg::Sha256)
                    )
                })
                .unwrap_or_else(|_| format!("SSH key {file}"));
            let key = age::ssh::Identity::from_buffer(t.as_bytes(), Some(file.clone()))
                .map_err(|e| err(e.to_string()))?;
            if let age::ssh::Identity::Unsupported(k) = &key {
                return Err(err(format!("unsupported SSH key type for age: {k:?}")));
            }
            return Ok(Identity::AgeSsh {
                file,
                key: Box::new(key),
                public,
            });
        }
    }
    let parsed = crate::contain::contain("the OpenPGP parser (sequoia-openpgp)", || {
        openpgp::Cert::from_bytes(&data)
    })
    .map_err(|p| err(p.to_string()))?;
    match parsed {
        Ok(cert) if cert.is_tsk() => Ok(Identity::OpenPgp {
            cert: Box::new(cert),
        }),
        Ok(_) => Err(err("an OpenPGP certificate without secret keys".into())),
        Err(_) => Err(err(
            "not an age identity file, an OpenSSH private key or an OpenPGP secret key".into(),
        )),
    }
}

/// A passphrase as an OpenPGP password (sequoia keeps it encrypted in memory).
pub(crate) fn openpgp_password(p: &SecretString) -> openpgp::crypto::Password {
    openpgp::crypto::Password::from(p.expose_secret())
}

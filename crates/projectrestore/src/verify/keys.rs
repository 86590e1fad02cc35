//! The trust store: public keys recognised by content.
//!
//! A directory contributes every regular file except hidden files and `*.md`
//! (documentation); a file that cannot be parsed is an error naming it, never
//! silently skipped.

use std::path::{Path, PathBuf};

use base64::Engine;
use openpgp::parse::Parse;
use sequoia_openpgp as openpgp;

use super::VerifyError;

/// An Ed25519 key in minisign's or signify's format (the same layout: "Ed", 8-byte id, key).
#[derive(Debug, Clone)]
pub struct EdKey {
    pub id: [u8; 8],
    pub key: ed25519_dalek::VerifyingKey,
    pub file: String,
}

impl EdKey {
    /// The id as the tools print it.
    pub fn id_hex(&self) -> String {
        let mut id = self.id;
        id.reverse();
        hex::encode_upper(id)
    }
}

/// One line of an `allowed_signers` file (or a bare OpenSSH public key: any principal).
#[derive(Debug, Clone)]
pub struct SshSigner {
    pub principals: String,
    pub namespaces: Option<Vec<String>>,
    pub valid_after: Option<String>,
    pub valid_before: Option<String>,
    pub key: ssh_key::PublicKey,
    /// The allowed_signers file it came from.
    pub file: String,
}

/// A trusted key, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// `SCHEME:ID`, as a signature report's `key`.
    pub key: String,
    /// Who it belongs to (OpenPGP user ID or fingerprint, SSH principals,
    /// minisign or signify key id).
    pub signer: String,
    /// The trust-store file it came from.
    pub file: String,
}

/// Trusted public keys.
#[derive(Debug, Default)]
pub struct TrustStore {
    pub(crate) openpgp: Vec<openpgp::Cert>,
    pub(crate) minisign: Vec<EdKey>,
    pub(crate) signify: Vec<EdKey>,
    pub(crate) ssh: Vec<SshSigner>,
    /// The files each OpenPGP certificate came from, by fingerprint (copies
    /// in several files are merged into one certificate).
    pub(crate) openpgp_files: std::collections::BTreeMap<openpgp::Fingerprint, Vec<String>>,
}

/// The largest key file read (a keyring of many certificates fits).
const MAX_KEY_FILE: u64 = 4 << 20;

impl TrustStore {
    /// The trust-store files an OpenPGP certificate came from, comma-separated.
    pub(crate) fn openpgp_file(&self, cert: &openpgp::Cert) -> Option<String> {
        self.openpgp_files
            .get(&cert.fingerprint())
            .map(|files| crate::report::escape(&files.join(", ")))
    }

    /// Load every key file in each path (a directory or a file), recognised by content.
    ///
    /// A path that yields no key is an error naming it (a typo or an emptied
    /// directory must never read as "no trust store"). OpenPGP certificates are
    /// merged by fingerprint, so a revocation in any copy wins whatever the file
    /// names and their order.
    pub fn load(paths: &[PathBuf]) -> Result<Self, VerifyError> {
        let mut store = TrustStore::default();
        for path in paths {
            let err = |why: String| VerifyError::TrustStore {
                path: path.display().to_string(),
                why,
            };
            let before = store.len();
            let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
            if meta.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| err(e.to_string()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        let name = p
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        !name.starts_with('.') && !name.ends_with(".md") && p.is_file()
                    })
                    .collect();
                files.sort();
                for f in files {
                    store.load_file(&f)?;
                }
            } else {
                store.load_file(path)?;
            }
            if store.len() == before {
                return Err(err(
                    "holds no public key (hidden files and *.md are skipped); give a directory or file with the keys you trust".into(),
                ));
            }
        }
        store.merge_openpgp()?;
        Ok(store)
    }

    /// One certificate per fingerprint: copies are merged (revocations,
    /// expiry updates and subkeys of every copy count).
    fn merge_openpgp(&mut self) -> Result<(), VerifyError> {
        let mut merged: Vec<openpgp::Cert> = Vec::new();
        for cert in std::mem::take(&mut self.openpgp) {
            match merged
                .iter()
                .position(|m| m.fingerprint() == cert.fingerprint())
            {
                Some(i) => {
                    let first = merged.swap_remove(i);
                    let fpr = first.fingerprint();
                    let both = first
                        .merge_public(cert)
                        .map_err(|e| VerifyError::TrustStore {
                            path: format!("certificate {fpr}"),
                            why: format!("two copies cannot be merged: {e}"),
                        })?;
                    merged.push(both);
                }
                None => merged.push(cert),
            }
        }
        self.openpgp = merged;
        Ok(())
    }

    /// No key at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.openpgp.len() + self.minisign.len() + self.signify.len() + self.ssh.len()
    }

    /// The trusted OpenPGP certificates (for inline signatures of encrypted archives).
    pub fn openpgp_certs(&self) -> &[openpgp::Cert] {
        &self.openpgp
    }

    /// Each key, for reports: its identity as signature reports spell it
    /// (`SCHEME:ID`), who it belongs to, and the file it came from.
    pub fn describe(&self) -> Vec<KeyInfo> {
        use crate::report::escape;
        let mut out = Vec::new();
        out.extend(self.openpgp.iter().map(|c| KeyInfo {
            key: format!("openpgp:{}", c.fingerprint()),
            signer: super::pgp::cert_name(c),
            file: self.openpgp_file(c).unwrap_or_default(),
        }));
        for (scheme, keys) in [("minisign", &self.minisign), ("signify", &self.signify)] {
            out.extend(keys.iter().map(|k| KeyInfo {
                key: format!("{scheme}:{}", k.id_hex()),
                signer: k.id_hex(),
                file: escape(&k.file),
            }));
        }
        out.extend(self.ssh.iter().map(|s| KeyInfo {
            key: format!("ssh:{}", s.key.fingerprint(ssh_key::HashAlg::Sha256)),
            signer: escape(&s.principals),
            file: escape(&s.file),
        }));
        out
    }

    /// A store of the keys in one key file's bytes, `name` shown in reports:
    /// what [`TrustStore::load`] does with each file (for key files that are
    /// not local files, and the fuzz targets).
    pub fn parse(name: &str, data: &[u8]) -> Result<Self, VerifyError> {
        let mut store = TrustStore::default();
        store.add_file(name, data)?;
        store.merge_openpgp()?;
        Ok(store)
    }

    fn load_file(&mut self, path: &Path) -> Result<(), VerifyError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let mut data = Vec::new();
        // One byte past the limit is enough for add_file to refuse the file.
        crate::source::open_regular(path)
            .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut data))
            .map_err(|e| VerifyError::TrustStore {
                path: shown.clone(),
                why: e.to_string(),
            })?;
        self.add_file(&shown, &data)
    }

    fn add_file(&mut self, shown: &str, data: &[u8]) -> Result<(), VerifyError> {
        let err = |why: String| VerifyError::TrustStore {
            path: shown.to_string(),
            why,
        };
        if data.len() as u64 > MAX_KEY_FILE {
            return Err(err("larger than 4 MiB; not a key file".into()));
        }
        let text = std::str::from_utf8(data).ok();
        if let Some(t) = text {
            let t = t.trim_start();
            if t.starts_with("untrusted comment:") {
                let (comment, key) = parse_ed_key(t).map_err(err)?;
                let key = EdKey {
                    id: key.0,
                    key: key.1,
                    file: shown.to_string(),
                };
                if comment.contains("signify") {
                    self.signify.push(key);
                } else {
                    self.minisign.push(key);
                }
                return Ok(());
            }
            if t.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
                return self.load_openpgp(shown, data).map_err(err);
            }
            if t.starts_with("-----BEGIN PGP") {
                return Err(err(
                    "an OpenPGP block that is not a public key block (a secret key or a message?)"
                        .into(),
                ));
            }
            let signers = parse_allowed_signers(t).map_err(err)?;
            if !signers.is_empty() {
                self.ssh.extend(signers.into_iter().map(|s| SshSigner {
                    file: shown.to_string(),
                    ..s
                }));
                return Ok(());
            }
        }
        // Binary OpenPGP: a public-key packet first (tag 6).
        match data.first() {
            Some(0x99 | 0x98 | 0xc6) => self.load_openpgp(shown, data).map_err(err),
            _ => Err(err("not a recognised public key (OpenPGP certificate, minisign or signify public key, OpenSSH allowed_signers)".into())),
        }
    }

    fn load_openpgp(&mut self, shown: &str, data: &[u8]) -> Result<(), String> {
        let mut n = 0;
        let certs = crate::contain::contain("the OpenPGP parser (sequoia-openpgp)", || {
            openpgp::cert::CertParser::from_bytes(data).map(|p| p.collect::<Vec<_>>())
        })
        .map_err(|p| p.to_string())?;
        for cert in certs.map_err(|e| e.to_string())? {
            let cert = cert.map_err(|e| format!("OpenPGP certificate: {e}"))?;
            if cert.is_tsk() {
                return Err(
                    "contains secret key material; put only public certificates in a trust store"
                        .into(),
                );
            }
            let files = self.openpgp_files.entry(cert.fingerprint()).or_default();
            if !files.iter().any(|f| f == shown) {
                files.push(shown.to_string());
            }
            self.openpgp.push(cert);
            n += 1;
        }
        if n == 0 {
            return Err("no OpenPGP certificate in the file".into());
        }
        Ok(())
    }
}

/// `untrusted comment: …` then base64 of "Ed" ‖ id ‖ key: minisign and signify public keys.
pub fn parse_ed_key(
    text: &str,
) -> Result<(String, ([u8; 8], ed25519_dalek::VerifyingKey)), String> {
    let mut lines = text.lines();
    let comment = lines.next().unwrap_or_default().to_string();
    let b64 = lines.next().ok_or("the key line is missing")?.trim();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("bad base64: {e}"))?;
    if raw.len() != 42 || &raw[..2] != b"Ed" {
        return Err("not an Ed25519 public key in minisign/signify format".into());
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&raw[2..10]);
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&raw[10..42]);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&pk)
        .map_err(|e| format!("invalid Ed25519 key: {e}"))?;
    Ok((comment, (id, key)))
}

fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") || t.starts_with("sk-")
}

/// `principals [options] keytype base64 [comment]` per line; `#` comments.
fn parse_allowed_signers(text: &str) -> Result<Vec<SshSigner>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |why: String| format!("line {}: {why}", n + 1);
        let tokens = split_tokens(line);
        let (principals, rest) = if is_key_type(&tokens[0]) {
            ("*".to_string(), &tokens[..])
        } else {
            (tokens[0].clone(), &tokens[1..])
        };
        let (options, rest) = match rest.first() {
            Some(t) if !is_key_type(t) => (Some(t.clone()), &rest[1..]),
            _ => (None, rest),
        };
        let (Some(kt), Some(b64)) = (rest.first(), rest.get(1)) else {
            if out.is_empty() && n == 0 {
                return Ok(Vec::new()); // not an allowed_signers file at all
            }
            return Err(err("expected a key type and key".into()));
        };
        if !is_key_type(kt) {
            if out.is_empty() {
                return Ok(Vec::new());
            }
            return Err(err(format!(
                "unknown key type {}",
                crate::report::escape(kt)
            )));
        }
        let key = ssh_key::PublicKey::from_openssh(&format!("{kt} {b64}"))
            .map_err(|e| err(format!("bad key: {e}")))?;
        let mut signer = SshSigner {
            principals,
            namespaces: None,
            valid_after: None,
            valid_before: None,
            key,
            file: String::new(),
        };
        for opt in options.iter().flat_map(|o| split_options(o)) {
            let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
            let v = v.trim_matches('"').to_string();
            match k.to_ascii_lowercase().as_str() {
                "namespaces" => {
                    signer.namespaces = Some(v.split(',').map(str::to_string).collect())
                }
                "valid-after" => signer.valid_after = Some(v),
                "valid-before" => signer.valid_before = Some(v),
                "cert-authority" => {
                    return Err(err("cert-authority keys are not supported".into()))
                }
                _ => {}
            }
        }
        out.push(signer);
    }
    Ok(out)
}

/// Split options on commas outside double quotes (`namespaces="file,git",valid-after=…`).
fn split_options(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Split on spaces, keeping double-quoted runs (which may hold commas and spaces) together.
fn split_tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_signers_with_options() {
        let line = "alice@example.org namespaces=\"file,git\",valid-after=\"20240101\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgB7pZM6R4vDnYp7G6yTYKJ3y5pPc2MQD9u7nL0jXx1 c";
        let s = parse_allowed_signers(line).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].principals, "alice@example.org");
        assert_eq!(
            s[0].namespaces.as_deref(),
            Some(&["file".to_string(), "git".to_string()][..])
        );
        assert_eq!(s[0].valid_after.as_deref(), Some("20240101"));
    }

    #[test]
    fn garbage_is_not_a_key() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("k"), b"hello world\n").unwrap();
        let e = TrustStore::load(&[tmp.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a recognised public key") && e.contains('k'),
            "{e}"
        );
    }
}

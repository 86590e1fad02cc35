//! Verification: trust store, detached signatures (OpenPGP, minisign, SSH,
//! signify), checksums, and the threshold policy.
//!
//! Signature files are parsed into owned, validated values first (STYLE.md 4).
//! The digests every scheme needs are computed by one [`Digester`] fed from the
//! same read as the archive's SHA-256 — BLAKE2b-512 for minisign, SHA-256/512 for
//! SSH, a streaming Ed25519 verifier for signify, a hash context per OpenPGP
//! signature — so an archive is read once and never held in memory. [`evaluate`]
//! then checks each signature against the trust store and counts distinct trusted
//! keys in one place (STYLE.md 8).

pub mod checksum;
pub(crate) mod identity;
mod keys;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine;
use ed25519_dalek::Signature as EdSignature;
use openpgp::parse::Parse;
use sequoia_openpgp as openpgp;
use sha2::{Sha256, Sha512};

pub use keys::TrustStore;

use crate::report::escape;

/// A failure to load keys or signatures, or a failed verification (exit 4).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A trust-store file could not be read or parsed.
    #[error("trust store {path}: {why}")]
    TrustStore { path: String, why: String },
    /// A signature file could not be read or parsed.
    #[error("signature {path}: {why}")]
    Signature { path: String, why: String },
    /// The checksum did not match, or the checksum file is unusable.
    #[error("checksum: {0}")]
    Checksum(String),
    /// The signature policy was not met.
    #[error("signature check failed: {0}")]
    Policy(String),
    /// The stored bytes changed between the verification pass and the extraction pass.
    #[error("the archive changed while it was being restored (SHA-256 {first} in the verification pass, {second} now)")]
    Changed { first: String, second: String },
}

/// One parsed detached signature.
#[derive(Debug)]
enum Detached {
    Minisign {
        prehashed: bool,
        key_id: [u8; 8],
        sig: EdSignature,
        comment: String,
        global: EdSignature,
    },
    Signify {
        key_id: [u8; 8],
        sig: EdSignature,
    },
    Ssh(Box<ssh_key::SshSig>),
    OpenPgp(Vec<openpgp::packet::Signature>),
}

/// The sidecar suffixes that hold detached signatures, in the order they are read.
pub const SIDECARS: [&str; 3] = [".sig", ".asc", ".minisig"];

/// Largest detached signature file read.
pub const MAX_SIGNATURE_FILE: u64 = 1 << 20;

/// Detached signatures over the archive, parsed and validated.
#[derive(Debug, Default)]
pub struct Signatures {
    items: Vec<(String, Detached)>,
}

impl Signatures {
    /// Parse each file (recognised by content).
    pub fn load(files: &[PathBuf]) -> Result<Self, VerifyError> {
        let mut items = Vec::new();
        for f in files {
            let shown = f.display().to_string();
            let err = |why: String| VerifyError::Signature {
                path: shown.clone(),
                why,
            };
            use std::io::Read;
            let mut data = Vec::new();
            std::fs::File::open(f)
                .and_then(|file| file.take(MAX_SIGNATURE_FILE + 1).read_to_end(&mut data))
                .map_err(|e| err(e.to_string()))?;
            if data.len() as u64 > MAX_SIGNATURE_FILE {
                return Err(err("larger than 1 MiB; not a detached signature".into()));
            }
            items.push((shown.clone(), parse_signature(&data).map_err(err)?));
        }
        Ok(Signatures { items })
    }

    /// Parse one signature file's bytes, `name` shown in reports (what
    /// [`Signatures::load`] does after reading a file; for callers whose
    /// signature is not a local file, and the fuzz targets).
    pub fn parse(name: &str, data: &[u8]) -> Result<Self, VerifyError> {
        let mut sigs = Signatures::default();
        sigs.add(name, data)?;
        Ok(sigs)
    }

    /// Add one more signature file's bytes (a sidecar a source supplied).
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<(), VerifyError> {
        let detached = parse_signature(data).map_err(|why| VerifyError::Signature {
            path: crate::report::escape(name),
            why,
        })?;
        self.items.push((name.to_string(), detached));
        Ok(())
    }

    /// Sidecar signature files beside the archive (`.sig`, `.asc`, `.minisig`).
    pub fn sidecars(archive: &Path) -> Vec<PathBuf> {
        let Some(name) = archive.file_name() else {
            return Vec::new();
        };
        SIDECARS
            .iter()
            .map(|ext| {
                let mut n = name.to_os_string();
                n.push(ext);
                archive.with_file_name(n)
            })
            .filter(|p| p.is_file())
            .collect()
    }

    /// No signature?
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Each signature file with its scheme (`minisign`, `signify`, `ssh`, `openpgp`).
    pub fn describe(&self) -> Vec<(String, &'static str)> {
        self.items
            .iter()
            .map(|(file, d)| {
                let scheme = match d {
                    Detached::Minisign { .. } => "minisign",
                    Detached::Signify { .. } => "signify",
                    Detached::Ssh(_) => "ssh",
                    Detached::OpenPgp(_) => "openpgp",
                };
                (crate::report::escape(file), scheme)
            })
            .collect()
    }

    /// The incremental hashers these signatures need.
    pub fn digester(&self, store: &TrustStore) -> Digester {
        let mut d = Digester::default();
        for (i, (_, s)) in self.items.iter().enumerate() {
            match s {
                Detached::Minisign {
                    prehashed: true, ..
                } => d.blake2 = Some(d.blake2.take().unwrap_or_default()),
                Detached::Minisign {
                    prehashed: false,
                    key_id,
                    sig,
                    ..
                } => d.stream(i, &store.minisign, key_id, sig),
                Detached::Signify { key_id, sig } => d.stream(i, &store.signify, key_id, sig),
                Detached::Ssh(s) => match s.hash_alg() {
                    ssh_key::HashAlg::Sha256 => {
                        d.sha256 = Some(d.sha256.take().unwrap_or_default())
                    }
                    _ => d.sha512 = Some(d.sha512.take().unwrap_or_default()),
                },
                Detached::OpenPgp(sigs) => {
                    for (j, sig) in sigs.iter().enumerate() {
                        if let Ok(b) = sig.hash_algo().context() {
                            d.pgp.push((i, j, b.for_signature(sig.version())));
                        }
                    }
                }
            }
        }
        d
    }
}

fn parse_signature(data: &[u8]) -> Result<Detached, String> {
    let text = std::str::from_utf8(data).ok().map(str::trim_start);
    match text {
        Some(t) if t.starts_with("untrusted comment:") => parse_minisign_or_signify(t),
        Some(t) if t.starts_with("-----BEGIN SSH SIGNATURE-----") => ssh_key::SshSig::from_pem(t)
            .map(|s| Detached::Ssh(Box::new(s)))
            .map_err(|e| format!("SSH signature: {e}")),
        Some(t) if t.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") => {
            Err("a cleartext-signed message, not a detached signature".into())
        }
        Some(t) if t.starts_with("-----BEGIN PGP MESSAGE-----") => {
            Err("an OpenPGP message (inline-signed?), not a detached signature".into())
        }
        _ => parse_openpgp_detached(data),
    }
}

fn decode_line(line: Option<&str>, what: &str) -> Result<Vec<u8>, String> {
    let line = line
        .ok_or_else(|| format!("the {what} line is missing"))?
        .trim();
    base64::engine::general_purpose::STANDARD
        .decode(line)
        .map_err(|e| format!("{what}: bad base64: {e}"))
}

fn ed_sig(b: &[u8]) -> Result<EdSignature, String> {
    let arr: [u8; 64] = b
        .try_into()
        .map_err(|_| "an Ed25519 signature must be 64 bytes".to_string())?;
    Ok(EdSignature::from_bytes(&arr))
}

fn parse_minisign_or_signify(t: &str) -> Result<Detached, String> {
    let mut lines = t.lines();
    lines.next();
    let raw = decode_line(lines.next(), "signature")?;
    if raw.len() != 74 {
        return Err("not a minisign or signify signature (wrong length)".into());
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&raw[2..10]);
    let sig = ed_sig(&raw[10..74])?;
    match lines.next() {
        Some(tc) => {
            let comment = tc
                .strip_prefix("trusted comment: ")
                .ok_or("the third line of a minisign signature must be the trusted comment")?
                .to_string();
            let global = ed_sig(&decode_line(lines.next(), "global signature")?)?;
            let prehashed = match &raw[..2] {
                b"ED" => true,
                b"Ed" => false,
                _ => return Err("unknown minisign signature algorithm".into()),
            };
            Ok(Detached::Minisign {
                prehashed,
                key_id,
                sig,
                comment,
                global,
            })
        }
        None if &raw[..2] == b"Ed" => Ok(Detached::Signify { key_id, sig }),
        None => Err("unknown signify signature algorithm".into()),
    }
}

fn parse_openpgp_detached(data: &[u8]) -> Result<Detached, String> {
    use openpgp::Packet;
    let parsed = crate::contain::contain("the OpenPGP parser (sequoia-openpgp)", || {
        openpgp::PacketPile::from_bytes(data)
    })
    .map_err(|p| p.to_string())?;
    let pile = parsed.map_err(|e| {
        format!("not a recognised signature (minisign, signify, SSH or OpenPGP): {e}")
    })?;
    let mut sigs = Vec::new();
    for p in pile.into_children() {
        match p {
            Packet::Signature(s) => sigs.push(s),
            Packet::Marker(_) => {}
            other => {
                return Err(format!(
                    "an OpenPGP {} packet: this is not a detached signature (inline-signed data is refused)",
                    other.tag()
                ))
            }
        }
    }
    if sigs.is_empty() {
        return Err("no OpenPGP signature packet".into());
    }
    Ok(Detached::OpenPgp(sigs))
}

/// Incremental hashers for every signature, fed with the stored bytes.
#[derive(Default)]
pub struct Digester {
    blake2: Option<blake2b_simd::State>,
    sha256: Option<Sha256>,
    sha512: Option<Sha512>,
    streams: Vec<(usize, ed25519_dalek::StreamVerifier)>,
    pgp: Vec<(usize, usize, openpgp::crypto::hash::Context)>,
}

impl std::fmt::Debug for Digester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digester")
            .field("streams", &self.streams.len())
            .field("openpgp", &self.pgp.len())
            .finish_non_exhaustive()
    }
}

impl Digester {
    fn stream(&mut self, index: usize, keys: &[keys::EdKey], key_id: &[u8; 8], sig: &EdSignature) {
        if let Some(k) = keys.iter().find(|k| &k.id == key_id) {
            if let Ok(v) = k.key.verify_stream(sig) {
                self.streams.push((index, v));
            }
        }
    }

    /// Nothing to hash (no signature needs a digest of the stored bytes).
    pub fn is_idle(&self) -> bool {
        self.blake2.is_none()
            && self.sha256.is_none()
            && self.sha512.is_none()
            && self.streams.is_empty()
            && self.pgp.is_empty()
    }

    /// Feed stored bytes.
    pub fn update(&mut self, data: &[u8]) {
        if let Some(h) = self.blake2.as_mut() {
            h.update(data);
        }
        if let Some(h) = self.sha256.as_mut() {
            sha2::Digest::update(h, data);
        }
        if let Some(h) = self.sha512.as_mut() {
            sha2::Digest::update(h, data);
        }
        for (_, v) in &mut self.streams {
            v.update(data);
        }
        for (_, _, ctx) in &mut self.pgp {
            ctx.update(data);
        }
    }

    /// Finish every hash.
    pub fn finish(self) -> Digests {
        Digests {
            blake2: self.blake2.map(|h| h.finalize().as_bytes().to_vec()),
            sha256: self.sha256.map(|h| sha2::Digest::finalize(h).to_vec()),
            sha512: self.sha512.map(|h| sha2::Digest::finalize(h).to_vec()),
            streams: self
                .streams
                .into_iter()
                .map(|(i, v)| (i, v.finalize_and_verify().is_ok()))
                .collect(),
            pgp: self.pgp,
        }
    }
}

/// Finished digests, ready for [`evaluate`].
#[derive(Default)]
pub struct Digests {
    blake2: Option<Vec<u8>>,
    sha256: Option<Vec<u8>>,
    sha512: Option<Vec<u8>>,
    streams: Vec<(usize, bool)>,
    pgp: Vec<(usize, usize, openpgp::crypto::hash::Context)>,
}

/// The signature policy (STYLE.md 7: safe by default).
#[derive(Debug, Clone)]
pub struct SigPolicy {
    /// Distinct trusted keys required.
    pub threshold: usize,
    /// UNSAFE: accept an archive with no valid trusted signature.
    pub allow_unsigned: bool,
    /// SSH signature namespace.
    pub ssh_namespace: String,
    /// Accept legacy (non-prehashed) minisign signatures.
    pub allow_legacy_minisign: bool,
}

impl Default for SigPolicy {
    fn default() -> Self {
        SigPolicy {
            threshold: 1,
            allow_unsigned: false,
            ssh_namespace: "file".into(),
            allow_legacy_minisign: false,
        }
    }
}

/// One signature's result, for the report. Strings are escaped for display.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignatureReport {
    pub file: String,
    pub scheme: String,
    /// The key's fingerprint or id (the identity counted for `--threshold`).
    pub key: String,
    /// Who the key belongs to (user id, principals), if known.
    pub signer: Option<String>,
    pub trusted: bool,
    pub valid: bool,
    pub reason: Option<String>,
    /// minisign's trusted comment, present only when its signature verified.
    pub trusted_comment: Option<String>,
    /// The public key material of the trusted key (see [`identity`]): what
    /// `--threshold` counts, so one key under several schemes counts once.
    #[serde(skip)]
    pub identities: Vec<String>,
}

impl SignatureReport {
    fn new(file: &str, scheme: &str, key: String) -> Self {
        SignatureReport {
            file: escape(file),
            scheme: scheme.into(),
            key,
            signer: None,
            trusted: false,
            valid: false,
            reason: None,
            trusted_comment: None,
            identities: Vec::new(),
        }
    }

    fn fail(mut self, reason: impl Into<String>) -> Self {
        self.valid = false;
        self.reason = Some(reason.into());
        self
    }
}

/// The decision over all signatures.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Outcome {
    /// At least `threshold` distinct trusted keys signed.
    Verified { signers: Vec<String> },
    /// No trust store and no signatures: nothing was required.
    NotRequired,
    /// Not enough valid trusted signatures, but `--allow-unsigned` was given.
    UnsignedAllowed { reason: String },
    /// The policy was not met.
    Failed { reason: String },
}

/// Every signature's result and the decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignatureVerdict {
    pub signatures: Vec<SignatureReport>,
    pub outcome: Outcome,
}

const BAD: &str = "BAD signature: the archive is not the file that was signed (changed or damaged)";

/// Check every signature against the store and apply the policy.
///
/// `inline` are signatures already checked elsewhere (inside a signed-and-encrypted
/// OpenPGP message); they count like detached ones.
pub fn evaluate(
    store: &TrustStore,
    sigs: &Signatures,
    digests: Digests,
    inline: &[SignatureReport],
    policy: &SigPolicy,
) -> SignatureVerdict {
    let mut reports = Vec::new();
    let mut pgp = digests.pgp;
    for (i, (file, s)) in sigs.items.iter().enumerate() {
        let streamed = digests
            .streams
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, ok)| *ok);
        match s {
            Detached::Minisign {
                prehashed,
                key_id,
                sig,
                comment,
                global,
            } => {
                reports.push(check_minisign(
                    store,
                    file,
                    *prehashed,
                    key_id,
                    sig,
                    comment,
                    global,
                    digests.blake2.as_deref(),
                    streamed,
                    policy,
                ));
            }
            Detached::Signify { key_id, sig: _ } => {
                let id = hex_id(key_id);
                let mut r = SignatureReport::new(file, "signify", format!("signify:{id}"));
                r = match store.signify.iter().find(|k| &k.id == key_id) {
                    None => r.fail(format!("key {id} is not in the trust store")),
                    Some(k) => {
                        r.trusted = true;
                        r.signer = Some(escape(&k.file));
                        r.identities = vec![identity::ed25519(k.key.as_bytes())];
                        if streamed == Some(true) {
                            r.valid = true;
                            r
                        } else {
                            r.fail(BAD)
                        }
                    }
                };
                reports.push(r);
            }
            Detached::Ssh(sig) => reports.push(check_ssh(
                store,
                file,
                sig,
                digests.sha256.as_deref(),
                digests.sha512.as_deref(),
                policy,
            )),
            Detached::OpenPgp(list) => {
                for (j, sig) in list.iter().enumerate() {
                    let ctx = pgp
                        .iter()
                        .position(|(a, b, _)| *a == i && *b == j)
                        .map(|p| pgp.swap_remove(p).2);
                    reports.push(check_openpgp(store, file, sig, ctx));
                }
            }
        }
    }
    reports.extend(inline.iter().cloned());
    decide(store, reports, policy, !sigs.is_empty())
}

/// The one place that counts signers: distinct trusted keys with a valid signature.
pub fn decide(
    store: &TrustStore,
    reports: Vec<SignatureReport>,
    policy: &SigPolicy,
    any_signatures: bool,
) -> SignatureVerdict {
    let sets: Vec<(String, Vec<String>)> = reports
        .iter()
        .filter(|r| r.valid && r.trusted)
        .map(|r| (r.key.clone(), r.identities.clone()))
        .collect();
    let signers = identity::distinct(&sets);
    let threshold = policy.threshold.max(1);
    let bad_trusted: Vec<&SignatureReport> =
        reports.iter().filter(|r| r.trusted && !r.valid).collect();
    let outcome = if store.is_empty() && !any_signatures && reports.is_empty() {
        Outcome::NotRequired
    } else if signers.len() >= threshold && bad_trusted.is_empty() {
        Outcome::Verified { signers }
    } else {
        let mut why = if reports.is_empty() {
            "the archive has no signature, and a trust store is configured".to_string()
        } else if !bad_trusted.is_empty() {
            format!(
                "a signature by trusted key {} was refused",
                bad_trusted[0].key
            )
        } else if signers.is_empty() && store.is_empty() {
            "the archive has signatures, but there is no trust store to check them: pass --trust with the signers' public keys (or put them in ~/.config/projectrestore/keys), or --allow-unsigned to restore without checking".to_string()
        } else {
            format!(
                "{} distinct trusted signer(s), {threshold} required",
                signers.len()
            )
        };
        for r in reports.iter().filter(|r| !(r.valid && r.trusted)) {
            why.push_str(&format!(
                "; {} {}: {}",
                r.scheme,
                r.key,
                r.reason.as_deref().unwrap_or("not trusted")
            ));
        }
        if policy.allow_unsigned {
            Outcome::UnsignedAllowed { reason: why }
        } else {
            Outcome::Failed { reason: why }
        }
    };
    SignatureVerdict {
        signatures: reports,
        outcome,
    }
}

fn hex_id(id: &[u8; 8]) -> String {
    let mut id = *id;
    id.reverse();
    hex::encode_upper(id)
}

#[allow(clippy::too_many_arguments)]
fn check_minisign(
    store: &TrustStore,
    file: &str,
    prehashed: bool,
    key_id: &[u8; 8],
    sig: &EdSignature,
    comment: &str,
    global: &EdSignature,
    blake2: Option<&[u8]>,
    streamed: Option<bool>,
    policy: &SigPolicy,
) -> SignatureReport {
    let id = hex_id(key_id);
    let r = SignatureReport::new(file, "minisign", format!("minisign:{id}"));
    let Some(k) = store.minisign.iter().find(|k| &k.id == key_id) else {
        return r.fail(format!("key {id} is not in the trust store"));
    };
    let mut r = SignatureReport {
        trusted: true,
        signer: Some(escape(&k.file)),
        identities: vec![identity::ed25519(k.key.as_bytes())],
        ..r
    };
    let valid = if prehashed {
        blake2.is_some_and(|d| k.key.verify_strict(d, sig).is_ok())
    } else if !policy.allow_legacy_minisign {
        return r.fail("legacy (non-prehashed) minisign signature; re-sign with minisign -S, or pass --allow-legacy-minisign");
    } else {
        streamed == Some(true)
    };
    if !valid {
        return r.fail(BAD);
    }
    let mut signed = sig.to_bytes().to_vec();
    signed.extend_from_slice(comment.as_bytes());
    if k.key.verify_strict(&signed, global).is_err() {
        return r.fail("the trusted comment's signature does not verify (the comment was changed)");
    }
    r.valid = true;
    r.trusted_comment = Some(escape(comment));
    r
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn check_ssh(
    store: &TrustStore,
    file: &str,
    sig: &ssh_key::SshSig,
    sha256: Option<&[u8]>,
    sha512: Option<&[u8]>,
    policy: &SigPolicy,
) -> SignatureReport {
    use signature::Verifier;
    let key = ssh_key::PublicKey::from(sig.public_key().clone());
    let fpr = key.fingerprint(ssh_key::HashAlg::Sha256).to_string();
    let r = SignatureReport::new(file, "ssh", format!("ssh:{fpr}"));
    let Some(signer) = store
        .ssh
        .iter()
        .find(|s| s.key.key_data() == sig.public_key())
    else {
        return r.fail(format!(
            "key {fpr} is not in the trust store's allowed_signers"
        ));
    };
    let mut r = SignatureReport {
        trusted: true,
        signer: Some(escape(&signer.principals)),
        identities: vec![identity::ssh(sig.public_key())],
        ..r
    };
    if sig.namespace() != policy.ssh_namespace {
        return r.fail(format!(
            "signed for namespace {:?}, not {:?} (--ssh-namespace)",
            escape(sig.namespace()),
            policy.ssh_namespace
        ));
    }
    if let Some(ns) = &signer.namespaces {
        if !ns.iter().any(|n| n == &policy.ssh_namespace || n == "*") {
            return r.fail(format!(
                "allowed_signers does not allow this key for namespace {:?}",
                policy.ssh_namespace
            ));
        }
    }
    let today = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let now: String = today
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    if let Some(after) = &signer.valid_after {
        if now.as_str() < pad_time(after).as_str() {
            return r.fail(format!(
                "the key is valid only after {after} (allowed_signers)"
            ));
        }
    }
    if let Some(before) = &signer.valid_before {
        if now.as_str() >= pad_time(before).as_str() {
            return r.fail(format!(
                "the key was valid only before {before} (allowed_signers)"
            ));
        }
    }
    let (name, digest) = match sig.hash_alg() {
        ssh_key::HashAlg::Sha256 => ("sha256", sha256),
        _ => ("sha512", sha512),
    };
    let Some(digest) = digest else {
        return r.fail("internal: digest missing");
    };
    let mut data = b"SSHSIG".to_vec();
    ssh_string(&mut data, sig.namespace().as_bytes());
    ssh_string(&mut data, b"");
    ssh_string(&mut data, name.as_bytes());
    ssh_string(&mut data, digest);
    if Verifier::<ssh_key::Signature>::verify(&key, &data, sig.signature()).is_err() {
        return r.fail(BAD);
    }
    r.valid = true;
    r
}

/// allowed_signers times are YYYYMMDD[HHMM[SS]]; compare as 14 digits.
fn pad_time(t: &str) -> String {
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    format!("{digits:0<14}")
}

/// The policy for an OpenPGP data signature, apart from its maths (invariant 7):
/// its type, its hash algorithm, its critical subpackets and its own expiry.
///
/// `Signature::verify_hash` checks only the cryptography, so everything a
/// signature says about itself is judged here, for detached and inline
/// signatures alike.
pub(crate) fn openpgp_data_policy(
    sig: &openpgp::packet::Signature,
    now: SystemTime,
) -> Result<(), String> {
    use openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
    use openpgp::types::{HashAlgorithm, SignatureType};
    match sig.typ() {
        SignatureType::Binary => {}
        // Also inside a message: a text signature is over line-end-normalised
        // text, so the tar's bytes could change and still verify.
        SignatureType::Text => {
            return Err("a text-mode signature (made with --textmode or --clearsign): it is over canonicalised text, not the archive's bytes; refused — sign the archive with `gpg --detach-sign` (binary)".into())
        }
        other => {
            return Err(format!(
                "a {other} signature, not a signature over a document; refused"
            ))
        }
    }
    // An allow-list, whatever time the policy would consider: a signature can
    // claim any creation time, and MD5 and SHA-1 have known collisions.
    match sig.hash_algo() {
        HashAlgorithm::SHA256
        | HashAlgorithm::SHA384
        | HashAlgorithm::SHA512
        | HashAlgorithm::SHA224
        | HashAlgorithm::SHA3_256
        | HashAlgorithm::SHA3_512 => {}
        other => {
            return Err(format!(
                "hash algorithm {other} is not collision resistant; refused (re-sign with SHA-256 or SHA-512)"
            ))
        }
    }
    StandardPolicy::at(now)
        .signature(sig, HashAlgoSecurity::CollisionResistance)
        .map_err(|e| format!("refused by the OpenPGP signature policy: {e:#}"))?;
    // The signature's own lifetime, at the time of the check (not at its
    // creation, where it is always alive).
    sig.signature_alive(now, None)
        .map_err(|e| match sig.signature_expiration_time() {
            Some(t) if t <= now => format!(
                "the signature itself expired at {}",
                humantime::format_rfc3339_seconds(t)
            ),
            _ => format!("the signature is not valid now: {e}"),
        })
}

fn check_openpgp(
    store: &TrustStore,
    file: &str,
    sig: &openpgp::packet::Signature,
    ctx: Option<openpgp::crypto::hash::Context>,
) -> SignatureReport {
    use openpgp::cert::amalgamation::ValidAmalgamation;
    use openpgp::policy::StandardPolicy;
    use openpgp::types::RevocationStatus;
    let now = SystemTime::now();
    let policy = StandardPolicy::at(now);
    let issuers = sig.get_issuers();
    let shown = issuers
        .first()
        .map(|h| h.to_string())
        .unwrap_or_else(|| "unknown".into());
    let r = SignatureReport::new(file, "openpgp", format!("openpgp:{shown}"));
    let Some(cert) = store.openpgp.iter().find(|c| {
        c.keys()
            .any(|k| issuers.iter().any(|h| h.aliases(k.key().key_handle())))
    }) else {
        return r.fail(format!("key {shown} is not in the trust store"));
    };
    let mut r = SignatureReport {
        key: format!("openpgp:{}", cert.fingerprint()),
        trusted: true,
        signer: cert
            .userids()
            .next()
            .map(|u| escape(&String::from_utf8_lossy(u.userid().value()))),
        identities: identity::openpgp_cert(cert),
        ..r
    };
    if let Err(why) = openpgp_data_policy(sig, now) {
        return r.fail(why);
    }
    let Some(ctx) = ctx else {
        return r.fail(format!("unsupported hash algorithm {}", sig.hash_algo()));
    };
    let vc = match cert.with_policy(&policy, now) {
        Ok(vc) => vc,
        Err(e) => {
            return r.fail(format!(
                "certificate {} is not valid now: {e}",
                cert.fingerprint()
            ))
        }
    };
    if let RevocationStatus::Revoked(_) = vc.revocation_status() {
        return r.fail(format!("certificate {} is revoked", cert.fingerprint()));
    }
    if let Err(e) = vc.alive() {
        return r.fail(format!(
            "certificate {} is expired: {e}",
            cert.fingerprint()
        ));
    }
    let mut last = String::from("no signing-capable key of the certificate made this signature");
    for ka in vc.keys().for_signing().key_handles(issuers.iter()) {
        if let RevocationStatus::Revoked(_) = ka.revocation_status() {
            last = format!("signing key {} is revoked", ka.key().fingerprint());
            continue;
        }
        if let Err(e) = ka.alive() {
            last = format!("signing key {} is expired: {e}", ka.key().fingerprint());
            continue;
        }
        let checked = crate::contain::contain("the OpenPGP verifier (sequoia-openpgp)", || {
            sig.verify_hash(ka.key(), ctx.clone())
        });
        match checked {
            Ok(Ok(())) => {
                r.valid = true;
                return r;
            }
            Ok(Err(_)) => last = BAD.into(),
            Err(panicked) => last = panicked.to_string(),
        }
    }
    r.fail(last)
}

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
mod minisign;
pub(crate) mod pgp;
mod ssh;

pub(crate) use pgp::openpgp_data_policy;

use std::path::{Path, PathBuf};

use ed25519_dalek::Signature as EdSignature;
use sequoia_openpgp as openpgp;
use sha2::{Sha256, Sha512};

pub use keys::{KeyInfo, TrustStore};

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
    /// A signature or checksum file named on the command line could not be
    /// read (missing, unreadable): nothing was checked yet.
    #[error("cannot read the {what} file {path}: {source}")]
    Unreadable {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// The checksum did not match, or the checksum file is unusable.
    #[error("checksum: {0}")]
    Checksum(String),
    /// The signature policy was not met.
    #[error("signature check failed: {0}")]
    Policy(String),
    /// The signature policy was not met, for a reason a front end can name
    /// its own remedy for (`why`).
    #[error("signature check failed: {reason}")]
    Unmet { reason: String, why: Unmet },
    /// The stored bytes changed between the verification pass and the extraction pass.
    #[error("the archive changed while it was being restored (SHA-256 {first} in the verification pass, {second} now)")]
    Changed { first: String, second: String },
}

/// Why a signature policy was not met, when a front end has a remedy to name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unmet {
    /// Fewer distinct trusted keys signed than the threshold asks, and no
    /// trusted key's signature was bad.
    Threshold { have: usize, need: usize },
    /// Signatures, but no trust store to check them against.
    NoTrustStore,
    /// A trust store, and no signature at all.
    Unsigned,
    /// Signatures, none by a trusted key (and none bad).
    Untrusted,
    /// A trusted key's signature in minisign's legacy (non-prehashed) form.
    LegacyMinisign,
}

impl SignatureVerdict {
    /// The typed error for a failed verdict (`reason` is its outcome's): why
    /// it failed, as [`decide`] counted it.
    pub fn failure(&self, reason: String) -> VerifyError {
        match self.unmet {
            Some(why) => VerifyError::Unmet { reason, why },
            None => VerifyError::Policy(reason),
        }
    }
}

/// One parsed detached signature file of one scheme (one file per scheme:
/// `minisign.rs` with signify, `ssh.rs`, `pgp.rs`). A scheme says which
/// digests of the stored bytes it needs and checks its signatures over them;
/// [`decide`] alone counts signers.
pub(crate) trait Detached: std::fmt::Debug + Send + Sync {
    /// The scheme's name in reports: `minisign`, `signify`, `ssh`, `openpgp`.
    fn scheme(&self) -> &'static str;
    /// Ask `digester` for the digests this file's signatures need; `index`
    /// names the file in [`Digests`].
    fn want(&self, index: usize, store: &TrustStore, digester: &mut Digester);
    /// Check every signature of the file against `store`, one report each.
    fn check(
        &self,
        index: usize,
        file: &str,
        store: &TrustStore,
        digests: &mut Digests,
        policy: &SigPolicy,
    ) -> Vec<SignatureReport>;
}

/// How a refused legacy minisign signature's reason begins.
pub(crate) const LEGACY: &str = "legacy (non-prehashed) minisign signature";

/// The sidecar suffixes that hold detached signatures, in the order they are read.
pub const SIDECARS: [&str; 3] = [".sig", ".asc", ".minisig"];

/// Largest detached signature file read.
pub const MAX_SIGNATURE_FILE: u64 = 1 << 20;

/// Detached signatures over the archive, parsed and validated.
#[derive(Debug, Default)]
pub struct Signatures {
    items: Vec<(String, Box<dyn Detached>)>,
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
            let file =
                crate::source::open_regular(f).map_err(|source| VerifyError::Unreadable {
                    what: "signature",
                    path: crate::report::escape(&shown),
                    source,
                })?;
            file.take(MAX_SIGNATURE_FILE + 1)
                .read_to_end(&mut data)
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
            .map(|(file, d)| (crate::report::escape(file), d.scheme()))
            .collect()
    }

    /// The incremental hashers these signatures need.
    pub fn digester(&self, store: &TrustStore) -> Digester {
        let mut d = Digester::default();
        for (i, (_, s)) in self.items.iter().enumerate() {
            s.want(i, store, &mut d);
        }
        d
    }
}

/// Recognise a signature file by content and parse it with its scheme.
fn parse_signature(data: &[u8]) -> Result<Box<dyn Detached>, String> {
    let text = std::str::from_utf8(data).ok().map(str::trim_start);
    match text {
        Some(t) if t.starts_with("untrusted comment:") => minisign::parse(t),
        Some(t) if t.starts_with("-----BEGIN SSH SIGNATURE-----") => ssh::parse(t),
        Some(t) if t.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") => {
            Err("a cleartext-signed message, not a detached signature".into())
        }
        Some(t) if t.starts_with("-----BEGIN PGP MESSAGE-----") => {
            Err("an OpenPGP message (inline-signed?), not a detached signature".into())
        }
        _ => pgp::parse(data),
    }
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

impl Digests {
    /// The streamed Ed25519 verification of signature file `index`, if one ran.
    fn streamed(&self, index: usize) -> Option<bool> {
        self.streams
            .iter()
            .find(|(j, _)| *j == index)
            .map(|(_, ok)| *ok)
    }
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
    /// Who the key belongs to, for a trusted key: the OpenPGP user ID (or the
    /// fingerprint), the SSH principals, the minisign or signify key id.
    pub signer: Option<String>,
    /// The trust-store file the trusted key came from.
    pub key_file: Option<String>,
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
            key_file: None,
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

/// The decision over all signatures. In JSON every field is present:
/// `{"verdict": "verified", "signers": [...], "reason": null}`.
#[derive(Debug, Clone)]
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

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct View<'a> {
            verdict: &'static str,
            signers: Option<&'a [String]>,
            reason: Option<&'a str>,
        }
        let (verdict, signers, reason) = match self {
            Outcome::Verified { signers } => ("verified", Some(&signers[..]), None),
            Outcome::NotRequired => ("not-required", None, None),
            Outcome::UnsignedAllowed { reason } => ("unsigned-allowed", None, Some(&reason[..])),
            Outcome::Failed { reason } => ("failed", None, Some(&reason[..])),
        };
        View {
            verdict,
            signers,
            reason,
        }
        .serialize(s)
    }
}

/// Every signature's result and the decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignatureVerdict {
    pub signatures: Vec<SignatureReport>,
    pub outcome: Outcome,
    /// Why the policy was not met, when a front end has a remedy to name.
    #[serde(skip)]
    pub unmet: Option<Unmet>,
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
    let mut digests = digests;
    let mut reports = Vec::new();
    for (i, (file, s)) in sigs.items.iter().enumerate() {
        reports.extend(s.check(i, file, store, &mut digests, policy));
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
    let mut reports = reports;
    // Inline OpenPGP signatures are checked inside the decryptor, which knows
    // certificates but not the files they came from.
    for r in reports
        .iter_mut()
        .filter(|r| r.trusted && r.key_file.is_none())
    {
        if let Some(fpr) = r.key.strip_prefix("openpgp:") {
            r.key_file = store
                .openpgp
                .iter()
                .find(|c| c.fingerprint().to_string() == fpr)
                .and_then(|c| store.openpgp_file(c));
        }
    }
    let sets: Vec<(String, Vec<String>)> = reports
        .iter()
        .filter(|r| r.valid && r.trusted)
        .map(|r| (r.key.clone(), r.identities.clone()))
        .collect();
    let signers = identity::distinct(&sets);
    let threshold = policy.threshold.max(1);
    let bad_trusted: Vec<&SignatureReport> =
        reports.iter().filter(|r| r.trusted && !r.valid).collect();
    let mut unmet = None;
    let outcome = if store.is_empty() && !any_signatures && reports.is_empty() {
        Outcome::NotRequired
    } else if signers.len() >= threshold && bad_trusted.is_empty() {
        Outcome::Verified { signers }
    } else {
        let mut why = if reports.is_empty() {
            unmet = Some(Unmet::Unsigned);
            "the archive has no signature, and a trust store is configured".to_string()
        } else if !bad_trusted.is_empty() {
            if bad_trusted
                .iter()
                .all(|r| r.reason.as_deref().is_some_and(|w| w.starts_with(LEGACY)))
            {
                unmet = Some(Unmet::LegacyMinisign);
            }
            format!(
                "a signature by trusted key {} was refused",
                bad_trusted[0].key
            )
        } else if signers.is_empty() && store.is_empty() {
            unmet = Some(Unmet::NoTrustStore);
            "the archive has signatures, but there is no trust store to check them against"
                .to_string()
        } else {
            unmet = Some(if signers.is_empty() {
                Unmet::Untrusted
            } else {
                Unmet::Threshold {
                    have: signers.len(),
                    need: threshold,
                }
            });
            format!(
                "{} distinct trusted {}, {threshold} required",
                signers.len(),
                if signers.len() == 1 {
                    "signer"
                } else {
                    "signers"
                }
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
        unmet,
    }
}

fn hex_id(id: &[u8; 8]) -> String {
    let mut id = *id;
    id.reverse();
    hex::encode_upper(id)
}

//! Reports: findings collected during a run, serialised for `--json`.

use crate::archive::{Format, Summary};
use crate::source::Input;
use crate::verify::{Outcome, SignatureVerdict};

/// The version of every JSON document and event line this library defines
/// (`--json`, `--events`). A change that removes or renames a field, or changes
/// its meaning, raises it; new fields and new event or warning kinds do not.
pub const SCHEMA: u32 = 1;

/// What kind of warning: a stable machine name (kebab-case in JSON) beside the
/// human message, so that scripts branch on the kind, never on the prose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WarningKind {
    /// Restored without a trusted signature because `--allow-unsigned` said so.
    UnsignedAllowed,
    /// Encrypted, but no trusted key signed it: encryption says nothing of who made it.
    EncryptedUnsigned,
    /// The only signature is inside the encryption and was not checked (`audit`).
    InlineSignatureUnchecked,
    /// An interrupted restore of this destination was finished or undone first.
    RecoveredInterrupted,
    /// The destination's file system does not keep permission bits.
    ModesNotKept,
    /// The log's key came from the log directory itself, not from a pin.
    LogKeyUnpinned,
    /// A proof file shows inclusion but cannot show the archive is the newest.
    LogProofOnly,
    /// Older than the newest logged backup, restored because of `--allow-older`.
    OlderAllowed,
    /// Appending to the log repaired something (an interrupted append set aside).
    LogRepaired,
    /// The restore committed, but removing generations beyond `keep` failed
    /// (the next restore retries).
    PruneFailed,
}

/// Something the user should know about a run that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// For people; may change between versions.
    pub message: String,
}

impl Warning {
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a checksum check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChecksumReport {
    pub file: String,
    pub expected: String,
    pub matched: bool,
}

/// What the kept generations of a destination cost on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GenerationsReport {
    /// Bytes on disk of the tree this run replaced and kept, or null when
    /// nothing was kept.
    pub kept_bytes: Option<u64>,
    /// The replaced tree was the same as the restored one (same names, modes,
    /// times, contents), so it was not kept twice.
    pub identical_not_kept: bool,
    /// The `--keep` that applies: generations beyond it are removed after the
    /// report (with 0, the tree just replaced goes too).
    pub keep: usize,
    /// Generations there are once those beyond `keep` are removed.
    pub count: usize,
    /// Bytes on disk they take together (a file shared by hard links counts once).
    pub total_bytes: u64,
}

/// Where the trust store came from, and what it held (issue 14, item 7).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TrustStoreReport {
    /// "command line", a settings file with its line, "environment …", "default
    /// store", or "none".
    pub origin: String,
    /// The paths read.
    pub paths: Vec<String>,
    /// Keys loaded (OpenPGP certificates merged by fingerprint).
    pub keys: usize,
}

impl TrustStoreReport {
    /// The report for trust `paths` that came from `origin` (empty: the
    /// library's caller did not say) and yielded `keys` keys.
    pub fn new(paths: &[std::path::PathBuf], origin: &str, keys: usize) -> Self {
        TrustStoreReport {
            origin: match (paths.is_empty(), origin.is_empty()) {
                (true, _) => "none".into(),
                (false, true) => "given by the caller".into(),
                (false, false) => escape(origin),
            },
            paths: paths
                .iter()
                .map(|p| escape(&p.display().to_string()))
                .collect(),
            keys,
        }
    }
}

/// The result of a restore, a verification or a dry run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// [`SCHEMA`]: the version of this document.
    pub schema: u32,
    /// The archive path, `-` for standard input, or its URL (`s3://bucket/key`).
    pub archive: String,
    /// Where the bytes came from, and what reading them cost.
    pub source: SourceReport,
    /// Bytes of the stored archive.
    pub size: u64,
    /// SHA-256 of the stored archive (hex).
    pub sha256: String,
    /// The layers found, outermost first (e.g. age, zstd, tar).
    pub layers: Vec<Format>,
    /// Which extractor parsed the archive (the Wasm sandbox or native code)
    /// and why; `None` when nothing was parsed.
    pub extractor: Option<crate::sandbox::Extractor>,
    /// `verify-first` or `single-pass`.
    pub mode: crate::plan::PassKind,
    /// Nothing was written.
    pub dry_run: bool,
    /// How the archive was decrypted, if it was encrypted.
    pub encryption: Option<String>,
    /// The checksum check, if there was one.
    pub checksum: Option<ChecksumReport>,
    /// Every signature and the policy decision.
    pub signatures: Option<SignatureVerdict>,
    /// Where the trust store came from.
    pub trust_store: TrustStoreReport,
    /// When the signatures were checked: before any byte was decrypted or parsed
    /// (verify-first), while extracting (single pass), or after decryption (an
    /// inline OpenPGP signature).
    pub signatures_checked: Option<String>,
    /// What the archive held.
    pub summary: Summary,
    /// Where the tree was restored.
    pub destination: Option<String>,
    /// The generation holding the replaced tree.
    pub replaced_generation: Option<String>,
    /// What the kept generations cost on disk, after a restore that committed.
    pub generations: Option<GenerationsReport>,
    /// Generations removed beyond `--keep` (0 when removal happens after the
    /// report: the command-line tool does that, see `restore::prune`).
    pub pruned: usize,
    /// What the destination's file system folds and keeps (found by a probe).
    pub filesystem: Option<crate::stage::FsTraits>,
    /// What the run planned (`restore --dry-run`).
    pub plan: Option<crate::plan::Plan>,
    /// What a restore would change (`preview`).
    pub preview: Option<crate::preview::Preview>,
    /// A partial restore: what the selection wrote (`summary` is the archive's).
    pub selected: Option<crate::archive::Summary>,
    /// Every entry, as the validator passed it (`ls`; only when everything passed).
    pub entries: Option<Vec<crate::listing::Listed>>,
    /// What the append-only log checks found (and whether the archive was anchored).
    pub log: Option<crate::log::gate::LogReport>,
    /// Wall time.
    pub duration_ms: u64,
    /// Things the user should know; the human output shows them loudly.
    pub warnings: Vec<Warning>,
    /// What `--notify` targets were told (only when there are any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<Delivery>,
}

/// A JSON document of a type that does not carry `schema` itself: the
/// version goes first, the document's fields after it.
#[derive(serde::Serialize)]
pub struct Doc<'a, T: serde::Serialize> {
    pub schema: u32,
    #[serde(flatten)]
    pub body: &'a T,
}

impl<'a, T: serde::Serialize> Doc<'a, T> {
    /// `body` under this version of the schema.
    pub fn new(body: &'a T) -> Self {
        Doc {
            schema: SCHEMA,
            body,
        }
    }
}

/// What `recover` did to a destination: the body of `recover --json`.
#[derive(serde::Serialize)]
pub struct Recovered<'a> {
    pub destination: String,
    #[serde(flatten)]
    pub recovery: &'a crate::commit::Recovery,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notifications: &'a [Delivery],
}

impl<'a> Recovered<'a> {
    pub fn new(
        dest: &std::path::Path,
        recovery: &'a crate::commit::Recovery,
        notifications: &'a [Delivery],
    ) -> Self {
        Recovered {
            destination: escape(&dest.display().to_string()),
            recovery,
            notifications,
        }
    }
}

/// One notification target's delivery (`--notify`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    /// Kind and host (never the URL, which may be a secret).
    pub target: String,
    /// The event type told (`restore.succeeded`, …).
    pub event: String,
    /// `delivered`, `failed`, or `gone` (the receiver answered 410).
    pub status: &'static str,
    pub attempts: u32,
    /// Why it failed (without the URL), or `None`.
    pub error: Option<String>,
}

/// Where a run's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceReport {
    /// `file`, `stdin`, `s3`, `gs` or `az`.
    pub kind: &'static str,
    /// How it was read: `verify-first` (twice, the second read pinned to the
    /// first), `spool` (downloaded once into a private local file, both passes
    /// read that) or `single-pass` (once, through the staging gate).
    pub read: &'static str,
    /// Bytes downloaded from the store, every pass and resume counted (null
    /// for a local source).
    pub downloaded_bytes: Option<u64>,
    /// Each time a broken download went on from the byte where it broke.
    pub resumes: Vec<crate::source::Resume>,
}

impl SourceReport {
    /// Before anything is read.
    pub fn new(input: &Input, verify_first: bool) -> Self {
        let source = input.source();
        SourceReport {
            kind: source.kind(),
            read: match (source.spooled(), verify_first) {
                (true, true) => "spool",
                (_, true) => "verify-first",
                (_, false) => "single-pass",
            },
            downloaded_bytes: source.transfer().map(|t| t.bytes()),
            resumes: Vec::new(),
        }
    }

    /// What the source's transfer record says now.
    pub fn update(&mut self, input: &Input) {
        if let Some(t) = input.source().transfer() {
            self.downloaded_bytes = Some(t.bytes());
            self.resumes = t.resumes();
        }
    }
}

impl Report {
    /// An empty report for `input`.
    pub fn new(input: &Input, verify_first: bool, dry_run: bool) -> Self {
        Report {
            schema: SCHEMA,
            archive: escape(&input.display()),
            source: SourceReport::new(input, verify_first),
            size: 0,
            sha256: String::new(),
            layers: Vec::new(),
            extractor: None,
            mode: if verify_first {
                crate::plan::PassKind::VerifyFirst
            } else {
                crate::plan::PassKind::SinglePass
            },
            dry_run,
            encryption: None,
            checksum: None,
            signatures: None,
            trust_store: TrustStoreReport::default(),
            signatures_checked: None,
            summary: Summary::default(),
            destination: None,
            replaced_generation: None,
            generations: None,
            selected: None,
            entries: None,
            pruned: 0,
            log: None,
            preview: None,
            plan: None,
            filesystem: None,
            duration_ms: 0,
            warnings: Vec::new(),
            notifications: Vec::new(),
        }
    }

    /// The policy decision over signatures, if it was made.
    pub fn signature_outcome(&self) -> Option<&Outcome> {
        self.signatures.as_ref().map(|v| &v.outcome)
    }

    /// The distinct trusted signers that made the decision.
    pub fn signers(&self) -> Vec<String> {
        match self.signature_outcome() {
            Some(Outcome::Verified { signers }) => signers.clone(),
            _ => Vec::new(),
        }
    }

    /// Throughput of the stored bytes, in MB/s.
    pub fn throughput_mb_s(&self) -> f64 {
        if self.duration_ms == 0 {
            return 0.0;
        }
        self.size as f64 / 1e6 / (self.duration_ms as f64 / 1e3)
    }
}

/// Escaping of outside text for display (from the archive layer, the bottom of the graph).
pub use projectrestore_archive::{escape, escape_bytes};

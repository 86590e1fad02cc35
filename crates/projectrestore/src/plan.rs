//! The plan: what a run will do, decided before any archive byte past the format
//! sniff is read, and serialisable (`projectrestore plan`, and the `plan` object
//! of `restore --dry-run --json`). It holds no secret.
//!
//! A plan is a prediction: [`crate::restore::run`] decides everything again
//! under the lock, and the gate stays the only authority on what is committed.

use serde::Serialize;

use crate::archive::Format;
use crate::report::TrustStoreReport;

/// What the run is for, by name ([`crate::restore::Action::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ActionKind {
    /// Restore into a destination.
    Restore,
    /// The whole pass with nothing written (`restore --dry-run`).
    DryRun,
    /// Compare with the destination (`preview`).
    Preview,
    /// Check completely, no destination (`verify`).
    Verify,
    /// Check completely and list every entry (`ls`).
    List,
    /// Digests, signatures, checksum and log only; nothing decrypted (`audit`).
    Audit,
}

/// How many times the archive is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PassKind {
    /// Two reads: nothing is decrypted or parsed before the signatures are checked.
    VerifyFirst,
    /// One read: the staging gate protects the destination.
    SinglePass,
}

/// How many times the archive is read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passes {
    pub mode: PassKind,
    pub reason: String,
}

impl std::fmt::Display for PassKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PassKind::VerifyFirst => "verify-first",
            PassKind::SinglePass => "single-pass",
        })
    }
}

impl Passes {
    pub fn verify_first(&self) -> bool {
        self.mode == PassKind::VerifyFirst
    }
}

/// Decide the passes: `requested` by the caller, `seekable` (can the archive be
/// read twice?), `checks` (anything to verify before extraction?), `audit`.
pub(crate) fn passes(
    requested: crate::restore::PassMode,
    seekable: bool,
    checks: bool,
    audit: bool,
) -> Result<Passes, crate::Error> {
    use crate::restore::PassMode;
    let (first, reason) = match requested {
        PassMode::SinglePass => (false, "single pass requested"),
        PassMode::VerifyFirst if !seekable => {
            return Err(crate::Error::Usage(
                "--verify-first needs an archive file that can be read twice; standard input is read once (use --single-pass)".into(),
            ))
        }
        PassMode::VerifyFirst => (true, "verify-first requested"),
        PassMode::Auto if !seekable => (
            false,
            "the archive can be read only once (standard input or a pipe): one pass, and nothing leaves staging before the gate",
        ),
        PassMode::Auto if audit => (true, "an audit reads digests only"),
        PassMode::Auto if checks => (
            true,
            "signatures or a checksum are checked first, before any byte is decrypted or parsed",
        ),
        PassMode::Auto => (
            false,
            "nothing to verify before extraction: one pass, validated entry by entry",
        ),
    };
    if audit && !first {
        return Err(crate::Error::Usage(
            "checking digests only needs an archive file that can be read".into(),
        ));
    }
    Ok(Passes {
        mode: if first {
            PassKind::VerifyFirst
        } else {
            PassKind::SinglePass
        },
        reason: reason.into(),
    })
}

/// Where the archive comes from.
#[derive(Debug, Clone, Serialize)]
pub struct SourcePlan {
    pub display: String,
    pub file_name: Option<String>,
    /// Bytes, when known before reading.
    pub size: Option<u64>,
    /// Can it be read twice (verify-first)?
    pub rereadable: bool,
}

/// One detached signature file that will be checked.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureFile {
    pub file: String,
    /// `minisign`, `signify`, `ssh` or `openpgp`.
    pub scheme: &'static str,
}

/// What will be verified, by which keys.
#[derive(Debug, Clone, Serialize)]
pub struct ChecksPlan {
    pub trust_store: TrustStoreReport,
    /// The trusted keys (public parts only).
    pub keys: Vec<crate::verify::KeyInfo>,
    pub signatures: Vec<SignatureFile>,
    /// Distinct trusted keys required.
    pub threshold: usize,
    pub allow_unsigned: bool,
    /// The checksum file, if one will be compared.
    pub checksum: Option<String>,
    /// When the signatures will be checked: before any byte is decrypted
    /// (verify-first), while extracting (one pass), or after decryption (a
    /// signature inside OpenPGP encryption); `None` when there is nothing to check.
    pub signatures_checked: Option<&'static str>,
    /// Append-only log requirements.
    pub log: LogPlan,
}

/// The log checks and the log after-step.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogPlan {
    /// `--require-anchored`: the log directory or proof file that must include the archive.
    pub require_anchored: Option<String>,
    /// Refuse archives older than the newest logged one of the project.
    pub rollback_protection: bool,
    /// The log's verifier key was pinned by the caller (not read from the log).
    pub key_pinned: bool,
}

/// Where the run writes, as a read-only probe found it (nothing is created or
/// locked to find out).
#[derive(Debug, Clone, Serialize)]
pub struct TargetPlan {
    pub destination: String,
    pub state_dir: String,
    /// `missing`, `empty`, `managed` (put there by projectrestore), `foreign`
    /// (a non-empty directory it did not create), `not-a-directory`, `symlink`.
    pub state: &'static str,
    /// A `foreign` tree is replaced only after a yes (or `--yes`).
    pub needs_confirmation: bool,
    /// Generations kept after the swap.
    pub keep: usize,
}

/// A step after the commit, in order. In JSON every field is present:
/// `{"step": "prune", "keep": 5, "log": null}`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AfterStep {
    /// Append the archive's digest to this log.
    Anchor { log: String },
    /// Remove generations beyond `keep`.
    Prune { keep: usize },
}

impl Serialize for AfterStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            step: &'static str,
            keep: Option<usize>,
            log: Option<&'a str>,
        }
        match self {
            AfterStep::Anchor { log } => View {
                step: "anchor",
                keep: None,
                log: Some(log),
            },
            AfterStep::Prune { keep } => View {
                step: "prune",
                keep: Some(*keep),
                log: None,
            },
        }
        .serialize(s)
    }
}

/// What a run will do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub schema: u32,
    pub action: ActionKind,
    pub source: SourcePlan,
    pub passes: Passes,
    pub checks: ChecksPlan,
    /// The outer layer, from the sniffed head; inner layers show when decrypted.
    pub outer_format: Option<Format>,
    /// The layers the head implies, outermost first, spelled as the report's
    /// `layers`; after an encryption layer the list stops (what is inside is
    /// known once decrypted).
    pub layers_expected: Vec<Format>,
    /// Identity files offered for decryption (paths only; nothing secret).
    pub identities: Vec<String>,
    /// Which extractor will parse the archive (`wasm`: the sandbox, or
    /// `native`) and why.
    pub extractor: crate::sandbox::Extractor,
    pub target: Option<TargetPlan>,
    pub after: Vec<AfterStep>,
    /// Things to know before running.
    pub notes: Vec<String>,
    /// The bytes this plan is pinned to (`restore --interactive`: the previewed
    /// ones); the run refuses others (exit 4).
    pub pinned: Option<Pinned>,
}

/// The archive a plan is pinned to: its SHA-256 and size as a previous run read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pinned {
    pub sha256: String,
    pub size: u64,
}

/// The layers a sniffed outer format implies.
pub(crate) fn layers_expected(outer: Option<Format>) -> Vec<Format> {
    match outer {
        Some(Format::Tar) => vec![Format::Tar],
        Some(f @ (Format::Gzip | Format::Zstd | Format::Xz | Format::Bzip2)) => {
            vec![f, Format::Tar]
        }
        Some(f) => vec![f],
        None => Vec::new(),
    }
}

/// The destination as a read-only probe sees it.
pub(crate) fn probe_target(
    dest: &std::path::Path,
    keep: usize,
) -> Result<TargetPlan, crate::Error> {
    let state_dir = crate::commit::state_dir_path(dest)?;
    let state = match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing",
        Err(e) => {
            return Err(crate::Error::Source(crate::source::SourceError::Io {
                path: dest.display().to_string(),
                source: e,
            }))
        }
        Ok(m) if m.file_type().is_symlink() => "symlink",
        Ok(m) if !m.is_dir() => "not-a-directory",
        Ok(_) if crate::commit::is_managed(dest) => "managed",
        Ok(_) => match std::fs::read_dir(dest).map(|mut d| d.next().is_none()) {
            Ok(true) => "empty",
            Ok(false) => "foreign",
            Err(e) => {
                return Err(crate::Error::Source(crate::source::SourceError::Io {
                    path: dest.display().to_string(),
                    source: e,
                }))
            }
        },
    };
    Ok(TargetPlan {
        destination: crate::report::escape(&dest.display().to_string()),
        state_dir: crate::report::escape(&state_dir.display().to_string()),
        state,
        needs_confirmation: state == "foreign",
        keep,
    })
}

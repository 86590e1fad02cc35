//! The log's part of a restore: `--require-anchored` and the rollback check before
//! the gate opens, `--anchor` after the swap. Every check is bound to the exact
//! SHA-256 and size of the bytes being restored.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::note::{SignerKey, VerifierKey};
use super::{Anchored, Entry, KeySource, Log, LogError, NewEntry};
use crate::report::{Warning, WarningKind};

/// What the user asked of the log.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `--anchor LOG`: append the archive after a verified restore.
    pub anchor: Option<PathBuf>,
    /// `--log-key FILE`: the log's signing key (needed to append).
    pub signer: Option<PathBuf>,
    /// `--require-anchored LOG|PROOF`: refuse an archive the log does not include.
    pub require: Option<PathBuf>,
    /// `--log-vkey KEY|FILE`: pin the log's verifier key.
    pub vkey: Option<String>,
    /// `--allow-older`: restore an archive older than the newest logged one.
    pub allow_older: bool,
    /// `--project NAME`: the project the archive belongs to.
    pub project: Option<String>,
}

impl LogOptions {
    /// Whether any log work was asked for.
    pub fn any(&self) -> bool {
        self.anchor.is_some() || self.require.is_some()
    }
}

/// What the log checks found, for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogReport {
    /// The project the rollback check used.
    pub project: String,
    /// Inclusion proved under a signed checkpoint.
    pub anchored: Option<Anchored>,
    /// The newest logged archive of this project, when it is not this one.
    pub newest: Option<Entry>,
    /// Index of the entry appended by `--anchor`.
    pub appended: Option<u64>,
    /// Already in the anchor log at this index (nothing appended).
    pub already_logged: Option<u64>,
    /// The anchor log was already searched for this digest before the restore.
    #[serde(skip)]
    pub anchor_scanned: bool,
}

/// Keys and logs loaded before the archive is read, so a bad key fails fast.
pub struct LogGate {
    opts: LogOptions,
    signer: Option<SignerKey>,
    pinned: Option<VerifierKey>,
}

impl LogGate {
    /// Load keys; `None` when no log work was asked for.
    pub fn load(opts: &LogOptions) -> Result<Option<Self>, LogError> {
        if !opts.any() {
            return Ok(None);
        }
        let signer = match (&opts.anchor, &opts.signer) {
            (Some(log), None) => {
                return Err(LogError::Invalid(format!(
                    "--anchor {} needs the log's signing key: add --log-key FILE",
                    log.display()
                )))
            }
            (_, Some(path)) => Some(super::load_signer(path)?),
            (None, None) => None,
        };
        let pinned = match &opts.vkey {
            Some(v) => Some(super::load_vkey(v)?),
            None => signer.as_ref().map(SignerKey::verifier),
        };
        Ok(Some(LogGate {
            opts: opts.clone(),
            signer,
            pinned,
        }))
    }

    fn project(&self, archive: &str, dest: Option<&Path>) -> Result<String, LogError> {
        super::project_of(self.opts.project.as_deref(), archive, dest).ok_or_else(|| {
                LogError::Invalid(format!(
                    "cannot tell which project {archive} belongs to (not a projectclone name): pass --project NAME"
                ))
            })
    }

    fn open(&self, dir: &Path, warnings: &mut Vec<Warning>) -> Result<Log, LogError> {
        let log = Log::open(dir, self.pinned.clone())?;
        if *log.key_source() == KeySource::LogDirectory {
            warnings.push(Warning::new(
                WarningKind::LogKeyUnpinned,
                format!(
                    "the key of log {} was read from the log itself; pin it with --log-vkey (or --log-key) so that a replaced log is caught",
                    dir.display()
                ),
            ));
        }
        Ok(log)
    }

    /// Before the gate: inclusion (`--require-anchored`) and rollback protection.
    pub fn check(
        &self,
        sha256: &str,
        size: u64,
        archive: &str,
        dest: Option<&Path>,
        warnings: &mut Vec<Warning>,
    ) -> Result<LogReport, LogError> {
        let project = self.project(archive, dest)?;
        let mut report = LogReport {
            project: project.clone(),
            ..LogReport::default()
        };
        // The log the rollback check reads: the required one, else the anchor log.
        let mut history: Option<&Path> = self.opts.anchor.as_deref();
        if let Some(req) = &self.opts.require {
            if req.is_file() {
                let key = self.pinned.as_ref().ok_or_else(|| {
                    LogError::Invalid(format!(
                        "checking the proof file {} needs the log's key: add --log-vkey KEY",
                        req.display()
                    ))
                })?;
                report.anchored = Some(super::check_proof_file(req, key, sha256, size)?);
                warnings.push(Warning::new(
                    WarningKind::LogProofOnly,
                    "a proof file shows this archive was logged, not that it is the newest: rollback protection needs the log directory",
                ));
            } else {
                history = Some(req);
            }
        }
        let Some(dir) = history else {
            return Ok(report);
        };
        let log = self.open(dir, warnings)?;
        let cp = log.checkpoint()?;
        // One scan: the archive's entry (inclusion) and the project's newest (rollback).
        let found = log.lookup(cp.checkpoint.size, sha256, &project)?;
        if self.opts.anchor.as_deref() == Some(dir) {
            report.already_logged = found.found.as_ref().map(|(e, _)| e.seq);
            report.anchor_scanned = true;
        }
        if self.opts.require.as_deref() == Some(dir) {
            report.anchored = Some(super::prove_included(
                &log,
                &cp,
                found.found.clone(),
                sha256,
                size,
            )?);
        }
        let this = match &report.anchored {
            Some(a) => Some(a.entry.clone()),
            None => found.found.map(|(e, _)| e),
        };
        if let Some(newest) = found.newest.filter(|n| n.sha256 != sha256) {
            self.rollback_check(archive, &project, this.as_ref(), &newest, warnings)?;
            report.newest = Some(newest);
        }
        Ok(report)
    }

    /// Rollback protection: an archive older than the project's newest logged
    /// one is refused, unless `--allow-older` (then a warning).
    fn rollback_check(
        &self,
        archive: &str,
        project: &str,
        this: Option<&Entry>,
        newest: &Entry,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), LogError> {
        let older = match this {
            Some(e) => newest.newer_than(e),
            // Not logged: compare backup times from the names, if both have one.
            None => match (super::parse_name(archive), &newest.archive_time) {
                (Some((_, t)), Some(nt)) => *nt > t,
                _ => false,
            },
        };
        if !older {
            return Ok(());
        }
        let msg = format!(
            "{} is older than the newest logged backup of project {:?}: {} (entry {}, sha256 {}). Restoring it would roll the project back; pass --allow-older if that is what you want",
            crate::report::escape(archive),
            crate::report::escape(project),
            crate::report::escape(&newest.archive),
            newest.seq,
            crate::report::escape(&newest.sha256)
        );
        if !self.opts.allow_older {
            return Err(LogError::Older(msg));
        }
        warnings.push(Warning::new(
            WarningKind::OlderAllowed,
            format!("--allow-older: {msg}"),
        ));
        Ok(())
    }

    /// After the swap: append the archive to the `--anchor` log unless it is there.
    /// `new.project` is replaced by the project the checks used.
    pub fn anchor(
        &self,
        report: &mut LogReport,
        mut new: NewEntry,
        time: &str,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), LogError> {
        let (Some(dir), Some(signer)) = (&self.opts.anchor, &self.signer) else {
            return Ok(());
        };
        if report.already_logged.is_some() {
            return Ok(());
        }
        let log = Log::open(dir, Some(signer.verifier()))?;
        if !report.anchor_scanned {
            let cp = log.checkpoint()?;
            if let Some((e, _)) = log.find(cp.checkpoint.size, &new.sha256)? {
                report.already_logged = Some(e.seq);
                return Ok(());
            }
        }
        new.project = report.project.clone();
        let (idx, _, w) = log.append(signer, &[new], time)?;
        warnings.extend(
            w.into_iter()
                .map(|m| Warning::new(WarningKind::LogRepaired, m)),
        );
        report.appended = idx.first().copied();
        Ok(())
    }
}

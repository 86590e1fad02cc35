//! The pipeline, composed in one place: source → digests → decrypt → decompress →
//! validator → sink → gate → commit.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use crate::archive::{
    self, ArchiveError, EntryPolicy, ExtractError, Format, Limits, NullSink, Sink, Summary,
};
use crate::commit::{DestState, GenerationMeta, StagingGuard, StateDir};
use crate::decrypt::{self, DecryptStatus, Identities};
use crate::event::{Event, Events, Phase, Throttle};
use crate::interact::{Interaction, SharedInteraction};
use crate::log::gate::{LogGate, LogOptions};
use crate::plan::{self, Plan};
use crate::preview::PreviewSink;
use crate::report::escape;
use crate::report::{ChecksumReport, Report, Warning, WarningKind};
use crate::source::{self, Cancel, HashingReader, Input};
use crate::stage::{self, StageError, StageOptions, StagingWriter};
use crate::verify::{self, checksum, Outcome, SigPolicy, Signatures, TrustStore};
use crate::Error;
use std::os::fd::AsFd;

/// How many passes over a seekable archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PassMode {
    /// Verify first when there is something to verify and the input can be read twice.
    #[default]
    Auto,
    /// Pass 1 checks signatures and checksums; pass 2 extracts (DESIGN.md default).
    VerifyFirst,
    /// One pass; the staging gate protects the destination.
    SinglePass,
}

/// What a run is for: the command, as a type. Only `Restore` writes; each
/// variant that looks at a destination carries it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Action {
    /// Digests, signatures, checksum and log only; nothing is decrypted or
    /// parsed (`audit`).
    Audit,
    /// The whole pass, every entry, no destination (`verify`).
    #[default]
    Verify,
    /// As `Verify`, and the report lists every entry (`ls`).
    List,
    /// The whole pass compared with `dest`, writing nothing (`preview`);
    /// `diff` adds line diffs of changed text files.
    Preview { dest: PathBuf, diff: bool },
    /// The whole pass, with the plan, writing nothing (`restore --dry-run`).
    DryRun { dest: PathBuf },
    /// Restore into `dest` atomically.
    Restore { dest: PathBuf },
}

impl Action {
    /// Its serialisable name, for plans and reports.
    pub fn kind(&self) -> plan::ActionKind {
        match self {
            Action::Audit => plan::ActionKind::Audit,
            Action::Verify => plan::ActionKind::Verify,
            Action::List => plan::ActionKind::List,
            Action::Preview { .. } => plan::ActionKind::Preview,
            Action::DryRun { .. } => plan::ActionKind::DryRun,
            Action::Restore { .. } => plan::ActionKind::Restore,
        }
    }

    /// The destination it restores into or looks at.
    pub fn dest(&self) -> Option<&Path> {
        match self {
            Action::Preview { dest, .. } | Action::DryRun { dest } | Action::Restore { dest } => {
                Some(dest)
            }
            Action::Audit | Action::Verify | Action::List => None,
        }
    }

    /// Does it write to the destination?
    pub fn writes(&self) -> bool {
        matches!(self, Action::Restore { .. })
    }
}

/// Everything a restore (or a verification) needs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where the stored bytes come from.
    pub input: Option<Input>,
    /// What the run is for, and where it writes or looks.
    pub action: Action,
    /// Detached signature files (`--signature`); when empty, sidecars are used.
    pub signatures: Vec<PathBuf>,
    /// Trust-store paths.
    pub trust: Vec<PathBuf>,
    /// Where `trust` came from (a flag, a settings file, the default store), for
    /// the report; empty when the caller does not say.
    pub trust_origin: String,
    /// Signature policy.
    pub sig_policy: SigPolicy,
    /// `--checksum FILE`; when `None`, an `ARCHIVE.sha256` sidecar is used.
    pub checksum: Option<PathBuf>,
    /// Decryption identities.
    pub identities: Vec<PathBuf>,
    /// Let gpg-agent decrypt OpenPGP session keys (`--gpg-agent`).
    pub gpg_agent: bool,
    /// Resource limits.
    pub limits: Limits,
    /// Entry policy.
    pub policy: EntryPolicy,
    /// Verify-first or single pass.
    pub mode: PassMode,
    /// Generations to keep.
    pub keep: usize,
    /// Wait for the lock instead of failing with exit 3.
    pub wait: bool,
    /// Replace a non-empty directory projectrestore did not create.
    pub yes: bool,
    /// Apply archive ownership (root only).
    pub same_owner: bool,
    /// When the destination is a symlink, restore into the directory it names.
    pub follow_dest_symlink: bool,
    /// Set by signal handlers.
    pub cancel: Cancel,
    /// Append-only log: `--require-anchored`, `--anchor`, rollback protection.
    pub log: LogOptions,
    /// A partial restore: which entries are written (empty: all).
    pub selection: crate::select::Selection,
    /// The user's home directory (the front end reads `$HOME`): never
    /// replaced as a whole, nor the root or the current directory
    /// ([`never_replaced`], checked by every restore).
    pub home: Option<PathBuf>,
    /// Which extractor parses the archive (`--sandbox`).
    pub sandbox: crate::sandbox::SandboxMode,
    /// The sandbox's memory and time limits.
    pub sandbox_limits: crate::sandbox::SandboxLimits,
}

/// What verification requires, loaded before any byte of the archive is read.
struct Checks {
    store: TrustStore,
    signatures: Signatures,
    checksum: Option<checksum::ExpectedChecksum>,
}

impl Checks {
    fn load(opts: &Options, input: &Input) -> Result<Self, Error> {
        let store = TrustStore::load(&opts.trust)?;
        // Signatures beside the archive are checked even without a trust store:
        // then nothing can vouch for them, and the gate refuses (fail closed)
        // unless unsigned archives are explicitly allowed. Sidecars come from the
        // source (a local directory today; a bucket prefix or a peer later).
        let source = input.source();
        let signatures = if opts.signatures.is_empty() {
            let mut sigs = Signatures::default();
            for ext in verify::SIDECARS {
                if let Some(s) = sidecar(source.as_ref(), ext, verify::MAX_SIGNATURE_FILE)? {
                    sigs.add(&s.name, &s.bytes)?;
                }
            }
            sigs
        } else {
            Signatures::load(&opts.signatures)?
        };
        let name = input.file_name();
        let checksum = match &opts.checksum {
            Some(f) => Some(checksum::load(f, name.as_deref())?),
            None => sidecar(source.as_ref(), ".sha256", checksum::MAX_FILE)?
                .map(|s| checksum::from_bytes(&s.name, &s.bytes, name.as_deref()))
                .transpose()?,
        };
        Ok(Checks {
            store,
            signatures,
            checksum,
        })
    }

    /// Can the signature decision only come from inside the encryption? (An
    /// OpenPGP message, the `outer` format, and no detached signature to check
    /// before decrypting.)
    fn inline_only(&self, outer: Option<Format>) -> bool {
        self.signatures.is_empty()
            && matches!(outer, Some(Format::OpenPgp | Format::OpenPgpArmored))
    }

    /// `audit` (nothing is decrypted) of an archive whose only possible signature
    /// is inside its OpenPGP encryption: a failure when signatures are required.
    fn inline_unchecked(&self, opts: &Options, report: &mut Report) -> Result<(), Error> {
        const WHY: &str = "cannot check without decrypting: the archive has no detached signature, and a signature inside its OpenPGP encryption can only be checked by decrypting it";
        if self.store.is_empty() {
            report.warnings.push(Warning::new(
                WarningKind::InlineSignatureUnchecked,
                format!("{WHY} (no trust store, so none was required)"),
            ));
            return Ok(());
        }
        if opts.sig_policy.allow_unsigned {
            report.warnings.push(Warning::new(
                WarningKind::UnsignedAllowed,
                format!("UNSIGNED: {WHY} (--allow-unsigned)"),
            ));
            return Ok(());
        }
        Err(verify::VerifyError::Policy(format!(
            "{WHY}; verify it with `projectrestore verify -i KEY`, or sign the encrypted file with a detached signature"
        ))
        .into())
    }

    /// Pass 2 of a verify-first run that found inline signatures inside the
    /// encryption as well as the detached ones pass 1 decided on: decide again
    /// over both (a bad inline signature by a trusted key closes the gate too).
    fn with_inline(
        &self,
        inline: &DecryptStatus,
        opts: &Options,
        report: &mut Report,
    ) -> Result<(), Error> {
        if inline.inline_signatures.is_empty() {
            return Ok(());
        }
        let mut reports = report
            .signatures
            .take()
            .map(|v| v.signatures)
            .unwrap_or_default();
        reports.extend(inline.inline_signatures.iter().cloned());
        let verdict = verify::decide(&self.store, reports, &opts.sig_policy, true);
        let outcome = verdict.outcome.clone();
        let failure = |reason| verdict.failure(reason);
        let result = match outcome {
            Outcome::Failed { reason } => Err(failure(reason).into()),
            _ => Ok(()),
        };
        report.signatures = Some(verdict);
        result
    }

    /// Is anything to be verified?
    fn any(&self) -> bool {
        !self.store.is_empty() || !self.signatures.is_empty() || self.checksum.is_some()
    }

    /// The checksum half of the gate.
    fn decide_checksum(&self, sha256: &str, report: &mut Report) -> Result<(), Error> {
        if let Some(expected) = &self.checksum {
            let matched = expected.sha256 == sha256;
            report.checksum = Some(ChecksumReport {
                file: expected.file.clone(),
                expected: expected.sha256.clone(),
                matched,
            });
            if !matched {
                return Err(verify::VerifyError::Checksum(format!(
                    "SHA-256 of the archive is {sha256} but {} says {}; the archive was changed or damaged",
                    expected.file, expected.sha256
                ))
                .into());
            }
        }
        Ok(())
    }

    /// The gate: checksum, then signatures (detached, and inline ones found while
    /// decrypting). Fills the report either way.
    fn decide(
        &self,
        sha256: &str,
        digests: Option<verify::Digester>,
        inline: &DecryptStatus,
        opts: &Options,
        report: &mut Report,
    ) -> Result<(), Error> {
        self.decide_checksum(sha256, report)?;
        let digests = digests.unwrap_or_default().finish();
        let verdict = verify::evaluate(
            &self.store,
            &self.signatures,
            digests,
            &inline.inline_signatures,
            &opts.sig_policy,
        );
        let outcome = verdict.outcome.clone();
        let failed = match &outcome {
            Outcome::Failed { reason } => Some(verdict.failure(reason.clone())),
            _ => None,
        };
        report.signatures = Some(verdict);
        match (failed, outcome) {
            (Some(e), _) => Err(e.into()),
            (None, Outcome::UnsignedAllowed { reason }) => {
                report.warnings.push(Warning::new(
                    WarningKind::UnsignedAllowed,
                    format!("UNSIGNED: restoring without a trusted signature (--allow-unsigned): {reason}"),
                ));
                Ok(())
            }
            (None, _) => Ok(()),
        }
    }
}

/// Run `opts.action`: [`prepare`], [`Prepared::execute`], then the after-steps
/// ([`Prepared::after`]: removing generations beyond `keep`).
///
/// `ui` answers what the run must ask: the passphrase of a protected key or a
/// scrypt-encrypted archive, and whether to replace a tree projectrestore did not
/// put there (unless `opts.yes`).
///
/// What the run does and finds goes to `events` as it happens (see
/// [`crate::event`]); the returned report says the same.
pub fn run(opts: &Options, events: &dyn Events, ui: &SharedInteraction) -> Result<Report, Error> {
    let prepared = prepare(opts)?;
    let mut report = prepared.execute(events, ui)?;
    // The restore committed: a failure to prune is a warning, not its result.
    match prepared.after(events) {
        Ok(n) => report.pruned = n,
        Err(e) => {
            let w = Warning::new(
                WarningKind::PruneFailed,
                format!("restored, but removing generations beyond {} failed: {e}; the next restore retries", opts.keep),
            );
            events.emit(&Event::Warning(w.clone()));
            report.warnings.push(w);
        }
    }
    Ok(report)
}

/// `restore --interactive`: `opts.action` (a restore) previewed first — the
/// whole verified pass compared with the destination, writing nothing — shown
/// by `show`, then one question through `ui`; on yes, the restore is prepared
/// again and pinned to the previewed bytes ([`Prepared::pin`]): an archive that
/// changed since is exit 4. The archive must be readable twice. The after-steps
/// are left to the caller ([`Prepared::after`] on the returned value).
pub fn run_previewed<'o>(
    opts: &'o Options,
    events: &dyn Events,
    ui: &SharedInteraction,
    show: &mut dyn FnMut(&Report) -> Result<(), Error>,
) -> Result<(Prepared<'o>, Report), Error> {
    if matches!(opts.input, Some(Input::Stdin)) {
        return Err(Error::Usage(
            "--interactive reads your answer from standard input, so the archive cannot come from it"
                .into(),
        ));
    }
    let Action::Restore { dest } = &opts.action else {
        return Err(Error::Usage(
            "only a restore can be previewed and confirmed".into(),
        ));
    };
    // Refused before the preview is shown, not after the question.
    never_replaced(dest, opts.home.as_deref())?;
    // The yes covers the tree the preview was shown: a foreign tree seen now.
    // Anything else there at the restore (a foreign tree that appeared since,
    // a symlink's target) is asked about again, as without --interactive.
    let seen_foreign = plan::probe_target(dest, opts.keep)?
        .needs_confirmation
        .then(|| tree_id(dest))
        .flatten();
    let mut first = opts.clone();
    first.action = Action::Preview {
        dest: dest.clone(),
        diff: false,
    };
    first.log.anchor = None;
    let previewed = prepare(&first)?.execute(events, ui)?;
    show(&previewed)?;
    if !ui.confirm("Restore it?") {
        return Err(Error::NotConfirmed(
            "restore not confirmed; nothing was changed".into(),
        ));
    }
    // The answer was yes to replacing what the preview showed.
    let mut prepared = prepare(opts)?;
    prepared.confirmed_tree = seen_foreign;
    prepared.pin(plan::Pinned {
        sha256: previewed.sha256.clone(),
        size: previewed.size,
    });
    let report = prepared.execute(events, ui)?;
    Ok((prepared, report))
}

/// The plan of a run with `opts`: keys, signatures, checksum and log
/// requirements are loaded and checked, the archive's first bytes are sniffed
/// (nothing past them is read), and the destination is probed without writing
/// or locking. Nothing is decrypted; no identity file is read.
pub fn plan(opts: &Options) -> Result<Plan, Error> {
    prepare(opts)?.plan()
}

/// A run planned and ready: what [`prepare`] loaded and decided (the input,
/// trust store, signatures, checksum, log keys and the passes) before reading
/// any archive byte. [`Prepared::plan`] describes it; [`Prepared::execute`]
/// runs it, deciding everything again under the lock (the gate stays the only
/// authority).
pub struct Prepared<'o> {
    opts: &'o Options,
    input: Input,
    checks: Checks,
    log_gate: Option<LogGate>,
    passes: plan::Passes,
    pinned: Option<plan::Pinned>,
    /// Replace a tree projectrestore did not make without asking (`opts.yes`).
    yes: bool,
    /// The tree (device, inode) an interactive yes was given for.
    confirmed_tree: Option<(u64, u64)>,
    /// Where the commit went (a symlinked destination resolved), for the after-steps.
    committed_to: std::sync::OnceLock<PathBuf>,
}

/// Load and check everything a run of `opts` needs before the archive is read:
/// the input, the checks (keys, signatures, checksum), the log gate (keys and
/// logs) and the passes.
pub fn prepare(opts: &Options) -> Result<Prepared<'_>, Error> {
    let input = opts
        .input
        .clone()
        .ok_or_else(|| Error::Usage("no archive given".into()))?;
    input.source().watch(&opts.cancel);
    let checks = Checks::load(opts, &input)?;
    let log_gate = LogGate::load(&opts.log)?;
    let passes = plan::passes(
        opts.mode,
        input.is_seekable(),
        checks.any(),
        opts.action == Action::Audit,
    )?;
    Ok(Prepared {
        opts,
        input,
        checks,
        log_gate,
        passes,
        pinned: None,
        yes: opts.yes,
        confirmed_tree: None,
        committed_to: std::sync::OnceLock::new(),
    })
}

impl Prepared<'_> {
    /// The plan: the archive's first bytes are sniffed (nothing past them is
    /// read) and the destination is probed without writing or locking.
    pub fn plan(&self) -> Result<Plan, Error> {
        let (reader, size) = self.input.open()?;
        let mut head = Vec::with_capacity(archive::sniff::SNIFF_LEN);
        reader
            .take(archive::sniff::SNIFF_LEN as u64)
            .read_to_end(&mut head)
            .map_err(|e| read_error(&self.input, e, &self.opts.cancel))?;
        self.build_plan(archive::sniff(&head), size)
    }

    /// Restore exactly these bytes: the run reads the archive again and refuses
    /// (exit 4) unless its SHA-256 and size are the pinned ones.
    pub fn pin(&mut self, pinned: plan::Pinned) {
        self.pinned = Some(pinned);
    }

    /// Are these the pinned bytes (when the plan is pinned)?
    fn check_pin(&self, sha: &str, count: u64) -> Result<(), Error> {
        match &self.pinned {
            Some(p) if p.sha256 != sha || p.size != count => Err(verify::VerifyError::Changed {
                first: p.sha256.clone(),
                second: format!("{sha} ({count} bytes; {} were previewed)", p.size),
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Both passes, the gate and the commit (for a restore), with the anchor in
    /// the log; not the after-steps ([`Prepared::after`]), so that a caller can
    /// report first.
    pub fn execute(&self, events: &dyn Events, ui: &SharedInteraction) -> Result<Report, Error> {
        let started = Instant::now();
        let opts = self.opts;
        if let Action::Restore { dest } = &opts.action {
            never_replaced(dest, opts.home.as_deref())?;
        }
        // The archive's file name, as the log records it.
        let archive_name = self
            .input
            .file_name()
            .unwrap_or_else(|| self.input.display());
        let verify_first = self.passes.verify_first();
        let mut report = Report::new(&self.input, verify_first, !opts.action.writes());
        report.trust_store = crate::report::TrustStoreReport::new(
            &opts.trust,
            &opts.trust_origin,
            self.checks.store.len(),
        );
        let em = Emitter::new(events);
        em.emit(&Event::Started {
            archive: report.archive.clone(),
            destination: opts
                .action
                .dest()
                .filter(|_| opts.action.writes())
                .map(|d| escape(&d.display().to_string())),
            dry_run: report.dry_run,
        });
        let run = Run {
            opts,
            prepared: self,
            asked_yes: std::cell::Cell::new(None),
            archive_name,
            verify_first,
            ui,
            em: &em,
            started,
        };
        let result = run.execute(&mut report);
        report.source.update(&self.input);
        if result.is_ok() && matches!(opts.action, Action::DryRun { .. }) {
            // The plan of what the dry run did, now that its layers are known.
            let mut plan = self.build_plan(report.layers.first().copied(), Some(report.size))?;
            plan.layers_expected = report.layers.clone();
            report.plan = Some(plan);
        }
        // Whatever the run found before it ended (a refusal too) is in the stream.
        em.sync(&report);
        em.throttle.flush();
        result.map(|()| report)
    }

    /// The after-steps of a restore that committed: generations beyond `keep`
    /// are removed, under the destination's lock (waiting for it only with
    /// `opts.wait`; else a restore that holds it now is exit 3), crash-safe
    /// (each goes to `trash-*` first, which recovery removes). Returns how many
    /// went (a `pruned` event says it too; the report, already out, does not
    /// change). Anything else has no after-steps.
    pub fn after(&self, events: &dyn Events) -> Result<usize, Error> {
        let Some(dest) = self.committed_to.get() else {
            return Ok(0);
        };
        let state = StateDir::open(dest)?;
        let lock = state.lock(self.opts.wait)?;
        let removed = state.prune(&lock, self.opts.keep)?;
        if removed > 0 {
            events.emit(&Event::Pruned {
                destination: escape(&dest.display().to_string()),
                removed,
            });
        }
        Ok(removed)
    }
}

/// A sidecar from `source`, if it can supply one; a sidecar that is too large is
/// refused (verification cannot go on without reading what it claims to be).
fn sidecar(
    source: &dyn source::Source,
    suffix: &str,
    max: u64,
) -> Result<Option<source::Sibling>, Error> {
    if !source.capabilities().siblings {
        return Ok(None);
    }
    let too_large = |path: String| -> Error {
        verify::VerifyError::Signature {
            path: escape(&path),
            why: format!("larger than {max} bytes; not a detached signature or checksum file"),
        }
        .into()
    };
    match source.sibling(suffix, max) {
        // A source's promise of `max` is checked, not trusted.
        Ok(Some(s)) if s.bytes.len() as u64 > max => Err(too_large(s.name)),
        Ok(s) => Ok(s),
        Err(source::SourceError::TooLarge { path, .. }) => Err(too_large(path)),
        // A planted link where a sidecar belongs is tampering: a verification failure.
        Err(source::SourceError::SidecarLink { path }) => Err(verify::VerifyError::Signature {
            path: escape(&path),
            why: "is a symbolic link; a sidecar (signature or checksum) must be a regular file beside the archive".into(),
        }
        .into()),
        Err(other) => Err(other.into()),
    }
}

impl Prepared<'_> {
    fn build_plan(&self, outer: Option<Format>, size: Option<u64>) -> Result<Plan, Error> {
        let (opts, input, checks) = (self.opts, &self.input, &self.checks);
        let action = opts.action.kind();
        let target = match opts.action.dest() {
            Some(d) => Some(plan::probe_target(d, opts.keep)?),
            None => None,
        };
        let mut after = Vec::new();
        if opts.action.writes() {
            if let Some(log) = &opts.log.anchor {
                after.push(plan::AfterStep::Anchor {
                    log: escape(&log.display().to_string()),
                });
            }
            after.push(plan::AfterStep::Prune { keep: opts.keep });
        }
        Ok(Plan {
            schema: crate::report::SCHEMA,
            action,
            source: plan::SourcePlan {
                display: escape(&input.display()),
                file_name: input.file_name().map(|n| escape(&n)),
                size,
                rereadable: input.is_seekable(),
            },
            checks: checks_plan(opts, checks, &self.passes, outer),
            passes: self.passes.clone(),
            outer_format: outer,
            layers_expected: plan::layers_expected(outer),
            identities: opts
                .identities
                .iter()
                .map(|p| escape(&p.display().to_string()))
                .collect(),
            extractor: planned_extractor(opts, input, checks, &self.passes, outer),
            notes: plan_notes(opts, checks, outer, target.as_ref()),
            target,
            after,
            pinned: self.pinned.clone(),
        })
    }
}

/// The extractor a run will use: with `--sandbox auto`, native only when
/// pass 1 will have authenticated every stored byte with a trusted signature
/// (a run whose signatures then fail is refused at the gate, or — with
/// `--allow-unsigned` — parsed in the sandbox after all).
fn planned_extractor(
    opts: &Options,
    input: &Input,
    checks: &Checks,
    passes: &plan::Passes,
    outer: Option<Format>,
) -> crate::sandbox::Extractor {
    let source = input.source();
    let authenticated = passes.verify_first()
        && (source.kind() == "file" || source.spooled())
        && !checks.store.is_empty()
        && !checks.signatures.is_empty()
        && !checks.inline_only(outer);
    crate::sandbox::choose(opts.sandbox, authenticated)
}

/// What the plan says will be verified, by which keys, and when.
fn checks_plan(
    opts: &Options,
    checks: &Checks,
    passes: &plan::Passes,
    outer: Option<Format>,
) -> plan::ChecksPlan {
    let signatures_checked = checks.any().then(|| {
        if checks.inline_only(outer) {
            INLINE_AFTER_DECRYPTION
        } else if passes.verify_first() {
            BEFORE_DECRYPTION
        } else {
            WHILE_EXTRACTING
        }
    });
    plan::ChecksPlan {
        trust_store: crate::report::TrustStoreReport::new(
            &opts.trust,
            &opts.trust_origin,
            checks.store.len(),
        ),
        keys: checks.store.describe(),
        signatures: checks
            .signatures
            .describe()
            .into_iter()
            .map(|(file, scheme)| plan::SignatureFile { file, scheme })
            .collect(),
        threshold: opts.sig_policy.threshold,
        allow_unsigned: opts.sig_policy.allow_unsigned,
        checksum: checks.checksum.as_ref().map(|c| escape(&c.file)),
        signatures_checked,
        log: plan::LogPlan {
            require_anchored: opts
                .log
                .require
                .as_ref()
                .map(|p| escape(&p.display().to_string())),
            rollback_protection: opts.log.require.as_ref().is_some_and(|p| !p.is_file())
                || opts.log.anchor.is_some(),
            key_pinned: opts.log.vkey.is_some() || opts.log.signer.is_some(),
        },
    }
}

/// What to know before running.
fn plan_notes(
    opts: &Options,
    checks: &Checks,
    outer: Option<Format>,
    target: Option<&plan::TargetPlan>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if checks.store.is_empty() && checks.signatures.is_empty() {
        notes.push(
            "no trust store and no signature: nothing will prove who made this archive".to_string(),
        );
    } else if checks.store.is_empty() && !opts.sig_policy.allow_unsigned {
        notes.push(
            "signatures lie beside the archive but no trust store can check them: the gate will refuse it (exit 4)".to_string(),
        );
    } else if checks.signatures.is_empty()
        && !opts.sig_policy.allow_unsigned
        && !checks.inline_only(outer)
    {
        notes.push(
            "no signature beside the archive: the gate will refuse it (exit 4) unless unsigned archives are allowed".to_string(),
        );
    }
    if target.is_some_and(|t| t.needs_confirmation) && !opts.yes {
        notes.push(
            "the destination holds a tree projectrestore did not put there: it is replaced only after a yes".to_string(),
        );
    }
    notes
}

/// One run's inputs, loaded and decided before any archive byte is read.
struct Run<'a> {
    opts: &'a Options,
    prepared: &'a Prepared<'a>,
    /// The tree (device, inode) a yes was given for before pass 1.
    asked_yes: std::cell::Cell<Option<(u64, u64)>>,
    archive_name: String,
    verify_first: bool,
    ui: &'a SharedInteraction,
    em: &'a Emitter<'a>,
    started: Instant,
}

/// Read everything once: SHA-256 (and the pass check, when the signatures need
/// no digest) on the reading thread, the signature digests on this one, each
/// chunk hashed where it lies. Returns the first bytes, for the sniff.
fn digest_pass<R: Read + Send>(
    hashing: &mut HashingReader<'_, R>,
    digester: &mut verify::Digester,
    mut main_check: Option<&mut source::PassCheck>,
) -> io::Result<Vec<u8>> {
    std::thread::scope(|scope| {
        let (pump, mut piped) = crate::pipe::pipe();
        scope.spawn(move || pump.run(hashing));
        let mut head = Vec::with_capacity(archive::sniff::SNIFF_LEN);
        loop {
            let chunk = piped.fill_buf()?;
            let n = chunk.len();
            if n == 0 {
                return Ok(head);
            }
            let want = archive::sniff::SNIFF_LEN.saturating_sub(head.len()).min(n);
            head.extend_from_slice(&chunk[..want]);
            digester.update(chunk);
            if let Some(c) = main_check.as_mut() {
                c.update(chunk);
            }
            piped.consume(n);
        }
    })
}

/// What pass 1 (verify-first) established.
struct PassOne {
    /// SHA-256 of the stored bytes.
    sha: String,
    /// The keyed pass check of what was read, and how much.
    check: Option<PassTag>,
    /// Signature digests whose decision waits for decryption (an inline OpenPGP
    /// signature).
    deferred: Option<verify::Digester>,
    /// What pass 2 must read again.
    pin: Option<source::Pin>,
}

/// Where a restore's pass 2 writes.
struct Target {
    staged: StagingGuard,
    writer: StagingWriter,
    folds_case: bool,
    recover_later: bool,
}

/// What pass 2 extracted and where it is.
struct PassTwo {
    summary: Summary,
    status: DecryptStatus,
    /// The staging directory under the lock (restores only); dropped = discarded.
    staged: Option<StagingGuard>,
    /// Recovery of an interrupted swap waits for the gate (one pass).
    recover_later: bool,
}

impl Run<'_> {
    /// Both passes, the gate and the commit, filling in `report`.
    fn execute(&self, report: &mut Report) -> Result<(), Error> {
        let opts = self.opts;
        let source = self.prepared.input.source();
        // The key that lets pass 2 prove it reads pass 1's bytes (verify-first only).
        let pass_check = self
            .verify_first
            .then(source::PassCheck::random)
            .transpose()
            .map_err(|e| read_error(&self.prepared.input, e, &opts.cancel))?;
        // Before the long work: is another restore running, and may the tree
        // there be replaced? (Both are decided again under the lock.)
        self.ask_first()?;
        let mut first = match &pass_check {
            Some(pc) => Some(self.pass_one(source.as_ref(), pc, report)?),
            None => None,
        };
        if let Some(f) = &first {
            // Before anything is recovered, asked, decrypted or staged.
            let count = f.check.map_or(report.size, |(_, n)| n);
            self.prepared.check_pin(&f.sha, count)?;
        }
        if opts.action == Action::Audit {
            if first.as_ref().is_some_and(|f| f.deferred.is_some()) {
                self.prepared.checks.inline_unchecked(opts, report)?;
            }
            report.duration_ms = self.started.elapsed().as_millis() as u64;
            return Ok(());
        }
        if opts.cancel.is_set() {
            return Err(Error::Interrupted);
        }
        let write = opts.action.writes();
        // Everything that can fail for reasons of its own (identity files, the
        // destination, its lock) fails before pass 2 reads a byte.
        let identities = self.identities()?;
        let preview = preview_sink(&opts.action)?;
        let reader = self.open_pass_two(source.as_ref(), first.as_ref(), write, report)?;
        let target = if write {
            Some(self.open_staging(first.as_ref(), report)?)
        } else {
            None
        };
        let checks = &self.prepared.checks;
        let mut hashing = HashingReader::new(
            reader,
            (!self.verify_first).then(|| checks.signatures.digester(&checks.store)),
            opts.cancel.clone(),
            &self.em.throttle,
        )
        .with_transfer(source.transfer());
        if let Some(pc) = &pass_check {
            // Pass 1 computed the SHA-256; this pass only proves it reads the same bytes.
            hashing = hashing.with_check(pc.again()).without_sha256();
        }
        let extracted = match target {
            Some(t) => self.extract_staged(&mut hashing, &identities, t, first.as_ref(), report),
            None => {
                self.extract_checked(&mut hashing, &identities, preview, first.as_ref(), report)
            }
        };
        let two = extracted.map_err(|e| {
            gate_failure(
                e,
                &mut hashing,
                &self.prepared.checks,
                first.as_ref().map(|f| (f.sha.as_str(), f.check)),
                opts,
                report,
            )
        })?;
        let sha = self.gate(&mut hashing, first.as_mut(), &two, report)?;
        if let Some(staged) = two.staged {
            self.commit(staged, &sha, two.recover_later, report)?;
        }
        warn_encrypted_unsigned(report);
        report.duration_ms = self.started.elapsed().as_millis() as u64;
        Ok(())
    }

    /// What the yeses given so far cover (see [`Confirmed`]).
    fn confirmed(&self) -> Confirmed {
        let sel = &self.opts.selection;
        Confirmed {
            all: self.prepared.yes,
            tree: self.asked_yes.get().or(self.prepared.confirmed_tree),
            partial: !sel.is_all() && !sel.replace,
        }
    }

    /// A restore's questions before pass 1: the lock is probed (exit 3 now,
    /// not after reading the archive; `--wait` waits later instead), and a
    /// foreign tree projectrestore never touched is asked about now; a yes
    /// holds for that tree when the lock is taken.
    fn ask_first(&self) -> Result<(), Error> {
        let (Action::Restore { dest } | Action::DryRun { dest }) = &self.opts.action else {
            return Ok(());
        };
        // One read-only look at the destination serves every question here.
        let target = plan::probe_target(dest, self.opts.keep)?;
        let sel = &self.opts.selection;
        // A dry run says what the restore would: this refusal too.
        if !sel.is_all() && !sel.replace && matches!(target.state, "managed" | "foreign") {
            return Err(partial_into_a_tree(dest));
        }
        if matches!(self.opts.action, Action::DryRun { .. }) {
            return Ok(());
        }
        if !self.opts.wait {
            crate::commit::probe_lock(dest)?;
        }
        if self.prepared.yes
            || self
                .prepared
                .confirmed_tree
                .is_some_and(|t| tree_id(dest) == Some(t))
        {
            return Ok(());
        }
        // Asked early only about a tree projectrestore never touched (no state
        // directory): where one exists, another restore may be mid-swap (its
        // new tree is there before its marker), and the lock decides.
        if crate::commit::state_dir_path(dest).is_ok_and(|s| s.exists()) {
            return Ok(());
        }
        if !target.needs_confirmation {
            return Ok(());
        }
        let shown = escape(&dest.display().to_string());
        let question = format!(
            "{shown} is not empty and was not restored by projectrestore. Replace it? The current tree is kept in {}/generations.",
            target.state_dir
        );
        // The tree the question is about, taken before it is asked.
        let asked_about = tree_id(dest);
        if !self.ui.confirm(&question) {
            return Err(Error::NotConfirmed(format!(
                "{shown} is not empty and was not created by projectrestore; it is not replaced without a yes (the current tree would be kept as a generation)"
            )));
        }
        self.asked_yes.set(asked_about);
        Ok(())
    }

    /// Pass 1: digests only, no parser sees unauthenticated bytes. The detached
    /// signatures, the checksum and the log are decided here.
    fn pass_one(
        &self,
        source: &dyn source::Source,
        pass_check: &source::PassCheck,
        report: &mut Report,
    ) -> Result<PassOne, Error> {
        let (opts, checks) = (self.opts, &self.prepared.checks);
        let opened = source.open()?;
        self.em.phase(Phase::Verifying, opened.size, report);
        let mut hashing =
            HashingReader::new(opened.reader, None, opts.cancel.clone(), &self.em.throttle)
                .with_transfer(source.transfer());
        // SHA-256 on the reading thread, the signature digests on this one; the
        // pass check goes with whichever has less to do.
        let mut digester = checks.signatures.digester(&checks.store);
        let mut main_check = None;
        if digester.is_idle() {
            main_check = Some(pass_check.again());
        } else {
            hashing = hashing.with_check(pass_check.again());
        }
        let head = digest_pass(&mut hashing, &mut digester, main_check.as_mut())
            .map_err(|e| read_error(&self.prepared.input, e, &opts.cancel))?;
        let (sha, count, _) = hashing.take_digests();
        let tag = hashing
            .take_check()
            .or_else(|| main_check.take().map(source::PassCheck::finish));
        report.size = count;
        report.sha256 = sha.clone();
        // A signed-and-encrypted OpenPGP message without a detached signature
        // carries its signature inside: that decision waits for pass 2 (the gate
        // still comes before commit). Detached signatures are checked here, before
        // any byte is decrypted, as for every other format.
        let mut deferred = None;
        if checks.inline_only(archive::sniff(&head)) {
            checks.decide_checksum(&sha, report)?;
            deferred = Some(digester);
            report.signatures_checked = Some(INLINE_AFTER_DECRYPTION.into());
        } else {
            report.signatures_checked = Some(BEFORE_DECRYPTION.into());
            checks.decide(
                &sha,
                Some(digester),
                &DecryptStatus::default(),
                opts,
                report,
            )?;
        }
        if let Some(g) = &self.prepared.log_gate {
            report.log = Some(g.check(
                &sha,
                count,
                &self.archive_name,
                opts.action.dest(),
                &mut report.warnings,
            )?);
        }
        Ok(PassOne {
            sha,
            check: tag.map(|tag| (tag, count)),
            deferred,
            pin: opened.pin,
        })
    }

    /// Open the source for pass 2: after verify-first, the same object as pass 1
    /// (its pin), or the archive changed (exit 4).
    fn open_pass_two(
        &self,
        source: &dyn source::Source,
        first: Option<&PassOne>,
        write: bool,
        report: &Report,
    ) -> Result<Box<dyn Read + Send>, Error> {
        let opened = match first.and_then(|f| f.pin.as_ref().map(|p| (f, p))) {
            Some((f, pin)) => source.reopen(pin).map_err(|e| match e {
                source::SourceError::Changed(what) => Error::from(verify::VerifyError::Changed {
                    first: f.sha.clone(),
                    second: format!("unknown: {} is another file now", escape(&what)),
                }),
                other => other.into(),
            })?,
            None => source.open()?,
        };
        let phase = if write {
            Phase::Restoring
        } else {
            Phase::Checking
        };
        self.em.phase(phase, opened.size, report);
        Ok(opened.reader)
    }

    /// Where pass 2 writes: a staging directory under the destination's lock
    /// (after recovery, unless recovery must wait for the gate). Errors here
    /// are the destination's, reported as they are.
    fn open_staging(&self, first: Option<&PassOne>, report: &mut Report) -> Result<Target, Error> {
        let opts = self.opts;
        let mut dest = opts
            .action
            .dest()
            .map(Path::to_path_buf)
            .ok_or_else(|| Error::Usage("only a restore writes to a destination".into()))?;
        if opts.follow_dest_symlink && dest.is_symlink() {
            // Restore into what the link names; the link itself is never written through.
            dest = std::fs::canonicalize(&dest)
                .map_err(|e| stage_io("resolve", &dest.display().to_string(), e))?;
        }
        let state = StateDir::create(&dest)?;
        let lock = state.lock(opts.wait)?;
        // Recovery changes the destination (it finishes or undoes a swap). In
        // one pass nothing is verified yet, so it waits until the gate has
        // opened; verify-first has verified everything by now.
        // An inline-only OpenPGP signature is not checked before pass 2 either.
        let deferred = first.is_some_and(|f| f.deferred.is_some());
        let recover_later = (!self.verify_first || deferred) && state.needs_recovery()?;
        if !recover_later {
            recover_and_confirm(
                &state,
                &lock,
                None,
                self.confirmed(),
                self.ui.as_ref(),
                report,
            )?;
        }
        let staged = StagingGuard::create(state, lock)?;
        let staging = staged
            .staging()
            .ok_or_else(|| Error::Usage("no staging directory".into()))?;
        let staging_fd = staging
            .fd
            .try_clone()
            .map_err(|e| stage_io("open", &staging.name, e))?;
        // What the destination's file system does to names and modes decides
        // which paths collide there (case-insensitive file systems).
        let traits = stage::probe(staging.fd.as_fd())
            .map_err(|e| stage_io("probe", "the staging file system", e))?;
        report.filesystem = Some(traits);
        let writer = StagingWriter::new(
            staging_fd,
            StageOptions {
                same_owner: opts.same_owner,
            },
        )
        .with_traits(traits);
        Ok(Target {
            staged,
            writer,
            folds_case: traits.folds_case,
            recover_later,
        })
    }

    /// Pass 2 into the staging directory.
    fn extract_staged<R: Read + Send>(
        &self,
        hashing: &mut HashingReader<'_, R>,
        identities: &Identities,
        target: Target,
        first: Option<&PassOne>,
        report: &mut Report,
    ) -> Result<PassTwo, Error> {
        let opts = self.opts;
        let Target {
            staged,
            mut writer,
            folds_case,
            recover_later,
        } = target;
        let mut here = opts.clone();
        here.policy.fold_case = folds_case;
        let authenticated = self.authenticated(first, report);
        let (summary, status) = self.stream_selected(
            authenticated,
            hashing,
            identities,
            &here,
            &mut writer,
            report,
        )?;
        if opts.cancel.is_set() {
            return Err(Error::Interrupted);
        }
        self.em.phase(Phase::Syncing, None, report);
        let stats = writer.finish(summary.root)?;
        report.warnings.extend(
            stats
                .warnings
                .into_iter()
                .map(|m| Warning::new(WarningKind::ModesNotKept, m)),
        );
        Ok(PassTwo {
            summary,
            status,
            staged: Some(staged),
            recover_later,
        })
    }

    /// Pass 2 with nothing written: the null sink, or the preview's comparing sink.
    fn extract_checked<R: Read + Send>(
        &self,
        hashing: &mut HashingReader<'_, R>,
        identities: &Identities,
        mut preview: Option<PreviewSink>,
        first: Option<&PassOne>,
        report: &mut Report,
    ) -> Result<PassTwo, Error> {
        let opts = self.opts;
        let authenticated = self.authenticated(first, report);
        let mut listing = (opts.action == Action::List).then(crate::listing::ListingSink::default);
        let (a, h, i) = (authenticated, hashing, identities);
        let (summary, status) = match (preview.as_mut(), listing.as_mut()) {
            (Some(sink), _) => self.stream_selected(a, h, i, opts, sink, report)?,
            (None, Some(sink)) => self.stream_selected(a, h, i, opts, sink, report)?,
            (None, None) => self.stream_selected(a, h, i, opts, &mut NullSink, report)?,
        };
        report.preview = preview.map(PreviewSink::finish);
        // Held back by the gate: `execute` returns the report only if all passed.
        report.entries = listing.map(crate::listing::ListingSink::finish);
        Ok(PassTwo {
            summary,
            status,
            staged: None,
            recover_later: false,
        })
    }

    /// One pass into `sink`, through the selection of a partial restore (whose
    /// counts go to `report.selected`).
    fn stream_selected<R: Read + Send, S: Sink>(
        &self,
        authenticated: bool,
        hashing: &mut HashingReader<'_, R>,
        identities: &Identities,
        opts: &Options,
        sink: &mut S,
        report: &mut Report,
    ) -> Result<(Summary, DecryptStatus), Error>
    where
        Error: From<S::Error> + From<crate::select::SelectError<S::Error>>,
    {
        let checks = &self.prepared.checks;
        if opts.selection.is_all() {
            return stream(
                authenticated,
                hashing,
                identities,
                checks,
                opts,
                sink,
                report,
            );
        }
        let mut selecting = crate::select::Selecting::new(sink, &opts.selection);
        let done = stream(
            authenticated,
            hashing,
            identities,
            checks,
            opts,
            &mut selecting,
            report,
        )?;
        report.selected = Some(selecting.written.clone());
        Ok(done)
    }

    /// Every stored byte was verified by a trusted signature in pass 1 (and pass 2
    /// proves it reads the same bytes): integrity checks inside the formats add
    /// nothing then.
    ///
    /// Only for a source whose second read cannot be someone else's answer: a
    /// local file, or a private spool of a download. A network source read
    /// twice (an object store) is proven to have sent the same bytes only at
    /// the gate, after they were parsed: those are parsed as unauthenticated
    /// (in the sandbox, with every format's own checks).
    fn authenticated(&self, first: Option<&PassOne>, report: &Report) -> bool {
        let source = self.prepared.input.source();
        let local = source.kind() == "file" || source.spooled();
        local
            && first.is_some_and(|f| f.deferred.is_none())
            && matches!(report.signature_outcome(), Some(Outcome::Verified { .. }))
    }

    fn identities(&self) -> Result<Identities, Error> {
        Ok(
            Identities::load(&self.opts.identities, std::sync::Arc::clone(self.ui))?
                .with_gpg_agent(self.opts.gpg_agent)?,
        )
    }

    /// The gate: every check has passed, or nothing is committed (a staged tree
    /// is discarded when `two` is dropped). Returns the archive's SHA-256.
    fn gate<R: Read>(
        &self,
        hashing: &mut HashingReader<'_, R>,
        first: Option<&mut PassOne>,
        two: &PassTwo,
        report: &mut Report,
    ) -> Result<String, Error> {
        let (opts, checks) = (self.opts, &self.prepared.checks);
        let (sha, count, digester) = hashing.take_digests();
        let second_check = hashing.take_check().map(|tag| (tag, count));
        let sha = first.as_ref().map_or(sha, |f| f.sha.clone());
        report.size = count;
        report.sha256 = sha.clone();
        report.summary = two.summary.clone();
        if report.signatures_checked.is_none() && checks.any() {
            let when = if checks.inline_only(report.layers.first().copied()) {
                INLINE_AFTER_DECRYPTION
            } else {
                WHILE_EXTRACTING
            };
            report.signatures_checked = Some(when.into());
        }
        match first {
            Some(f) if f.check != second_check => {
                return Err(verify::VerifyError::Changed {
                    first: f.sha.clone(),
                    second: format!(
                        "different bytes ({} bytes read, {} in the verification pass)",
                        count,
                        f.check.map_or(0, |(_, n)| n)
                    ),
                }
                .into())
            }
            Some(f) if f.deferred.is_none() => checks.with_inline(&two.status, opts, report)?,
            Some(f) => checks.decide(&sha, f.deferred.take(), &two.status, opts, report)?,
            None => checks.decide(&sha, digester, &two.status, opts, report)?,
        }
        // A pinned plan (`--interactive`): the archive must be the one previewed
        // (checked after pass 1 too, when there is one).
        self.prepared.check_pin(&sha, count)?;
        // The log's checks, bound to the digest of the bytes just read.
        if let (Some(g), None) = (&self.prepared.log_gate, &report.log) {
            let found = g.check(
                &sha,
                count,
                &self.archive_name,
                opts.action.dest(),
                &mut report.warnings,
            )?;
            report.log = Some(found);
        }
        if opts.cancel.is_set() {
            return Err(Error::Interrupted);
        }
        if let Some(s) = &report.selected {
            if s.files + s.dirs + s.symlinks + s.hardlinks == 0 {
                return Err(Error::Usage(
                    "the selection (PATH, --include, --exclude) matched nothing in the archive; the destination was left alone (`projectrestore ls ARCHIVE` lists its paths)".into(),
                ));
            }
        }
        let s = &report.summary;
        if s.files + s.dirs + s.symlinks + s.hardlinks == 0 {
            // Replacing a project with nothing is never what a restore means; most
            // often --strip-components removed everything.
            return Err(ArchiveError::Rejected {
                entry: report.archive.clone(),
                rule: format!(
                    "nothing to restore ({} entries skipped by --strip-components {}); the destination was left alone",
                    s.stripped, opts.policy.strip_components
                ),
            }
            .into());
        }
        Ok(sha)
    }

    /// The gate has opened: recover (if it waited), swap, prune, release the
    /// lock, then append to the log.
    fn commit(
        &self,
        mut staged: StagingGuard,
        sha: &str,
        recover_later: bool,
        report: &mut Report,
    ) -> Result<(), Error> {
        if recover_later {
            let keep = staged.staging().map(|s| s.name.clone());
            recover_and_confirm(
                staged.state(),
                staged.lock(),
                keep.as_deref(),
                self.confirmed(),
                self.ui.as_ref(),
                report,
            )?;
        }
        let meta = GenerationMeta {
            archive: self.prepared.input.display(),
            sha256: sha.to_string(),
            signers: report.signers(),
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            bytes: report.selected.as_ref().unwrap_or(&report.summary).bytes,
            files: report.selected.as_ref().unwrap_or(&report.summary).files,
            how: if report.selected.is_some() {
                "partial-restore".into()
            } else {
                "restore".into()
            },
            replaced: String::new(),
        };
        let previous = staged.state().current();
        self.em.phase(Phase::Swapping, None, report);
        let committed = staged.commit(&meta)?;
        let mut replaced = committed.replaced;
        let mut identical = false;
        // The same tree again (the same archive restored twice, most often)
        // is not kept twice: compared only when the archive or the counts
        // say it may be, so a different tree costs nothing more.
        if let (Some(id), Some(prev)) = (replaced.clone(), &previous) {
            let alike = prev.sha256 == meta.sha256
                || (prev.files == meta.files && prev.bytes == meta.bytes);
            match alike.then(|| staged.state().drop_if_same(staged.lock(), &id)) {
                Some(Ok(true)) => {
                    identical = true;
                    replaced = None;
                }
                // Removed half-way (recovery finishes it): no longer kept.
                Some(Err(_))
                    if !staged
                        .state()
                        .generations()
                        .map(|g| g.iter().any(|g| g.id == id))
                        .unwrap_or(true) =>
                {
                    replaced = None;
                }
                _ => {}
            }
        }
        report.generations = generations_report(
            staged.state(),
            self.prepared.opts.keep,
            replaced.as_deref(),
            identical,
        );
        report.replaced_generation = replaced;
        report.destination = Some(staged.state().dest().display().to_string());
        // Pruning is an after-step (Prepared::after), once the report is out.
        let _ = self
            .prepared
            .committed_to
            .set(staged.state().dest().to_path_buf());
        drop(staged);
        if let (Some(g), Some(found)) = (&self.prepared.log_gate, report.log.as_mut()) {
            g.anchor(
                found,
                crate::log::NewEntry {
                    sha256: sha.to_string(),
                    size: report.size,
                    archive: self.archive_name.clone(),
                    project: String::new(),
                    signers: meta.signers.clone(),
                },
                &meta.time,
                &mut report.warnings,
            )
            .map_err(|e| {
                crate::log::LogError::Invalid(format!(
                    "the restore completed, but appending it to the log failed: {e}"
                ))
            })?;
        }
        Ok(())
    }
}

/// What a yes covers: every tree (`--yes`), or the one tree (device, inode)
/// a question was answered for (before pass 1, or by `--interactive`'s
/// preview). Another tree found there under the lock is asked about again.
#[derive(Debug, Clone, Copy)]
struct Confirmed {
    all: bool,
    tree: Option<(u64, u64)>,
    /// A selection without --replace-with-selection: a tree there is refused.
    partial: bool,
}

impl Confirmed {
    fn covers(&self, dest: &Path) -> bool {
        self.all || self.tree.is_some_and(|t| tree_id(dest) == Some(t))
    }
}

/// A directory's device and inode (not following a link).
fn tree_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// What the generations of `state` cost once those beyond `keep` go (the
/// after-step removes them); `None` when they cannot be measured (the
/// restore itself is done: a failed measurement is not its failure).
fn generations_report(
    state: &StateDir,
    keep: usize,
    kept: Option<&str>,
    identical_not_kept: bool,
) -> Option<crate::report::GenerationsReport> {
    // Only those that stay are measured: the rest are about to go.
    let mut gens = state.generations().ok()?;
    gens.truncate(keep);
    let (each, total) = state.usage(&gens).ok()?;
    Some(crate::report::GenerationsReport {
        kept_bytes: kept.and_then(|id| {
            gens.iter()
                .zip(&each)
                .find(|(g, _)| g.id == id)
                .map(|(_, n)| *n)
        }),
        identical_not_kept,
        keep,
        count: gens.len(),
        total_bytes: total,
    })
}

/// Finish or undo an interrupted swap (leaving `keep`, this run's staging,
/// alone), then ask before replacing a tree projectrestore did not put there.
fn recover_and_confirm(
    state: &StateDir,
    lock: &crate::commit::Lock,
    keep: Option<&str>,
    yes: Confirmed,
    ui: &dyn Interaction,
    report: &mut Report,
) -> Result<(), Error> {
    let recovery = state.recover_keeping(lock, keep)?;
    if recovery.swap != "none" || recovery.removed_staging > 0 {
        report.warnings.push(Warning::new(
            WarningKind::RecoveredInterrupted,
            format!(
            "recovered an interrupted restore first: swap {}, {} stale staging director{} removed",
            recovery.swap,
            recovery.removed_staging,
            if recovery.removed_staging == 1 {
                "y"
            } else {
                "ies"
            }
        ),
        ));
    }
    // A partial restore into a tree that is there, decided after recovery (an
    // interrupted swap may just have put a tree back).
    let partial = yes.partial;
    if partial && matches!(state.dest_state()?, DestState::Managed | DestState::Foreign) {
        return Err(partial_into_a_tree(state.dest()));
    }
    if state.dest_state()? == DestState::Foreign && !yes.covers(state.dest()) {
        let dest = crate::report::escape(&state.dest().display().to_string());
        let question = format!(
            "{dest} is not empty and was not restored by projectrestore. Replace it? The current tree is kept in {}/generations.",
            crate::report::escape(&state.path().display().to_string())
        );
        if !ui.confirm(&question) {
            return Err(Error::NotConfirmed(format!(
                "{dest} is not empty and was not created by projectrestore; it is not replaced without a yes (the current tree would be kept as a generation)"
            )));
        }
    }
    Ok(())
}

/// A partial restore into a tree that is there: refused unless asked for.
fn partial_into_a_tree(dest: &Path) -> Error {
    crate::commit::CommitError::Refused(format!(
        "{} holds a tree, and a partial restore would replace all of it with only the selection; restore the selection into a new directory (--to NEW) and copy what you need, or pass --replace-with-selection if that is what you want",
        escape(&dest.display().to_string())
    ))
    .into()
}

/// Encryption without a trusted signature proves nothing about who made the
/// archive: the report says so.
fn warn_encrypted_unsigned(report: &mut Report) {
    if report.encryption.is_some()
        && matches!(
            report.signature_outcome(),
            Some(Outcome::UnsignedAllowed { .. } | Outcome::NotRequired)
        )
    {
        report.warnings.push(Warning::new(
            WarningKind::EncryptedUnsigned,
            "this archive was encrypted but not signed by a trusted key: encryption does not prove who made it (anyone who knows the recipient key can encrypt to it); sign backups and restore with --trust",
        ));
    }
}

/// The comparing sink of a preview (it reads the destination, never writes).
fn preview_sink(action: &Action) -> Result<Option<PreviewSink>, Error> {
    match action {
        Action::Preview { dest, diff } => PreviewSink::new(dest, *diff)
            .map(Some)
            .map_err(|e| stage_io("read", &dest.display().to_string(), e)),
        _ => Ok(None),
    }
}

/// A pass check's tag and the number of bytes it covered.
type PassTag = ([u8; 16], u64);

/// When signatures were checked, as the report says it (`signatures_checked`).
const BEFORE_DECRYPTION: &str = "before any byte was decrypted or parsed";
const INLINE_AFTER_DECRYPTION: &str = "inline signature, checked after decryption";
const WHILE_EXTRACTING: &str =
    "while extracting, in one pass (the staging gate protects the destination)";

/// One pass through decrypt → decompress → validate → sink.
fn stream<R: Read + Send, S: Sink>(
    authenticated: bool,
    hashing: &mut HashingReader<'_, R>,
    identities: &Identities,
    checks: &Checks,
    opts: &Options,
    sink: &mut S,
    report: &mut Report,
) -> Result<(Summary, DecryptStatus), Error>
where
    Error: From<S::Error>,
{
    let cancel = &opts.cancel;
    // Three stages on their own threads, each a bounded number of chunks ahead:
    // read + hash + decrypt, then decompress, then (here) parse + validate + write.
    // Decryption sits with reading so that the two cores carry about the same load
    // (ChaCha20 beside SHA-256 on one, zstd on the other, writing on both).
    let progress = hashing.progress();
    std::thread::scope(|scope| {
        let (head, stored) = source::peek(&mut *hashing, archive::sniff::SNIFF_LEN)
            .map_err(|e| io_error(e, cancel))?;
        let outer = archive::sniff(&head).ok_or_else(|| unknown_format(&head))?;
        report.layers.push(outer);
        let mut status_cell = None;
        let stored: Box<dyn Read + Send> = if outer.is_encrypted() {
            // OpenPGP may compress inside the encryption (sequoia inflates it):
            // the plaintext is held to the same ratio as gzip and zstd, against
            // the stored bytes (invariant 9).
            let (counted, stored_count) = archive::decompress::counting(stored);
            let decrypted =
                decrypt::open(outer, counted, identities, checks.store.openpgp_certs())?;
            report.encryption = Some(decrypted.method.clone());
            status_cell = Some(decrypted.status);
            archive::decompress::ratio_guarded(decrypted.reader, stored_count, &opts.limits)
        } else {
            Box::new(stored)
        };
        let (read_pump, plain) = crate::pipe::pipe();
        scope.spawn(move || read_pump.run(stored));
        let (head, plain) = source::peek(plain, archive::sniff::SNIFF_LEN)
            .map_err(|e| decrypt_failure(&status_cell).unwrap_or_else(|| io_error(e, cancel)))?;
        let inner = archive::sniff(&head).ok_or_else(|| unknown_format(&head))?;
        if inner.is_encrypted() {
            return Err(ArchiveError::UnknownFormat(format!(
                "{} inside {}: nested encryption is not supported",
                inner.name(),
                outer.name()
            ))
            .into());
        }
        if inner != outer {
            report.layers.push(inner);
        }
        let extractor = crate::sandbox::choose(opts.sandbox, authenticated);
        let kind = extractor.kind;
        report.extractor = Some(extractor);
        let mut counting = Counting {
            inner: sink,
            progress,
        };
        let result = if kind == crate::sandbox::ExtractorKind::Wasm {
            // Unauthenticated bytes: decoded and parsed only in the sandbox,
            // every entry validated again here (invariant 10).
            if inner != Format::Tar {
                report.layers.push(Format::Tar);
            }
            match crate::sandbox::extract(
                plain,
                inner,
                authenticated,
                &opts.limits,
                &opts.policy,
                &opts.sandbox_limits,
                cancel,
                &mut counting,
            ) {
                Ok(summary) => Ok(summary),
                Err(crate::sandbox::Failure::Extract(e)) => Err(e),
                Err(crate::sandbox::Failure::Sandbox(e)) => {
                    if cancel.is_set() {
                        return Err(Error::Interrupted);
                    }
                    return Err(decrypt_failure(&status_cell).unwrap_or_else(|| e.into()));
                }
            }
        } else {
            let tar =
                archive::decompress::decompressor_with(inner, plain, &opts.limits, authenticated)?;
            if inner != Format::Tar {
                report.layers.push(Format::Tar);
            }
            let (unpack_pump, piped) = crate::pipe::pipe();
            scope.spawn(move || unpack_pump.run(tar));
            archive::extract(piped, &opts.limits, &opts.policy, &mut counting)
        };
        let status = status_cell
            .as_ref()
            .map(|s| s.lock().map(|g| g.clone()).unwrap_or_default())
            .unwrap_or_default();
        extracted(result, status, cancel)
    })
}

/// A sink that tells progress about each entry it passes on.
struct Counting<'a, 'p, S> {
    inner: &'a mut S,
    progress: &'p dyn crate::Progress,
}

impl<S: Sink> Sink for Counting<'_, '_, S> {
    type Error = S::Error;
    fn entry(&mut self, entry: &archive::SafeEntry, data: &mut dyn Read) -> Result<(), S::Error> {
        self.inner.entry(entry, data)?;
        self.progress.entry();
        Ok(())
    }
}

/// The validator's result, with the cause that explains a failure best: an
/// interruption, then a decryption failure (the plaintext ended because
/// decryption failed), then the archive or sink error itself.
fn extracted<E>(
    result: Result<Summary, ExtractError<E>>,
    status: DecryptStatus,
    cancel: &Cancel,
) -> Result<(Summary, DecryptStatus), Error>
where
    Error: From<E>,
{
    match result {
        Ok(summary) => Ok((summary, status)),
        Err(e) if cancel.is_set() || error_is_cancel(&e) => Err(Error::Interrupted),
        Err(e) => match status.error {
            Some(err) => Err(err.into()),
            None => Err(match e {
                ExtractError::Archive(a) => a.into(),
                ExtractError::Sink { source, .. } => source.into(),
            }),
        },
    }
}

fn error_is_cancel<E>(e: &ExtractError<E>) -> bool {
    match e {
        ExtractError::Archive(ArchiveError::Io(io)) => source::is_cancelled(io),
        _ => false,
    }
}

fn decrypt_failure(
    status: &Option<std::sync::Arc<std::sync::Mutex<DecryptStatus>>>,
) -> Option<Error> {
    let guard = status.as_ref()?.lock().ok()?;
    guard.error.clone().map(Error::from)
}

/// After a failed pass: when verification was asked for and has not been done,
/// hash the rest of the input and let a failed verification be the reported cause
/// (a tampered archive often also breaks decompression).
fn gate_failure<R: Read>(
    err: Error,
    hashing: &mut HashingReader<'_, R>,
    checks: &Checks,
    first: Option<(&str, Option<PassTag>)>,
    opts: &Options,
    report: &mut Report,
) -> Error {
    if matches!(err, Error::Interrupted) || opts.cancel.is_set() || !checks.any() {
        return if opts.cancel.is_set() {
            Error::Interrupted
        } else {
            err
        };
    }
    if let Err(e) = hashing.drain() {
        if let Some((first_sha, _)) = first {
            // Verify-first: without the rest of the bytes there is no proof
            // that pass 2 read what pass 1 verified, so the parser's verdict
            // is about unproven bytes (a store that lies sends others, then
            // breaks the body): the finding is that the archive could not be
            // read again, never what the parser said of it.
            if source::is_cancelled(&e) {
                return Error::Interrupted;
            }
            // (The message of a source's own error is escaped already.)
            return verify::VerifyError::Changed {
                first: first_sha.to_string(),
                second: format!("unknown: the second read broke before its end: {e}"),
            }
            .into();
        }
        return err;
    }
    if let Some((first_sha, first_check)) = first {
        // Verify-first: a failure in pass 2 may be the file changing under us;
        // if the bytes differ from what pass 1 verified, that is the finding.
        let (_, count, _) = hashing.take_digests();
        let second = hashing.take_check().map(|tag| (tag, count));
        if second != first_check {
            return verify::VerifyError::Changed {
                first: first_sha.to_string(),
                second: format!("different bytes ({count} bytes read)"),
            }
            .into();
        }
        return err;
    }
    let (sha, count, digester) = hashing.take_digests();
    report.sha256 = sha.clone();
    report.size = count;
    if checks.inline_only(report.layers.first().copied()) {
        // The only signature could be inside what failed to decrypt: the
        // checksum may still be the cause; "unsigned" would not be.
        return match checks.decide_checksum(&sha, report) {
            Err(verification) => verification,
            Ok(()) => err,
        };
    }
    match checks.decide(&sha, digester, &DecryptStatus::default(), opts, report) {
        Err(verification) => verification,
        Ok(()) => err,
    }
}

fn unknown_format(head: &[u8]) -> Error {
    // An OpenPGP packet that is not an encryption layer: `gpg --sign` (or
    // `--store`, `--compress`) output, a signed but not encrypted message.
    let tag = head.first().map(|b| match b & 0xc0 {
        0xc0 => b & 0x3f,
        0x80 => (b >> 2) & 0x0f,
        _ => 0,
    });
    if matches!(tag, Some(2 | 4 | 8 | 11)) {
        return ArchiveError::UnknownFormat(
            "the archive is an OpenPGP message that is signed or compressed but not encrypted (`gpg --sign` output): projectrestore restores tar archives, compressed or encrypted or not; sign backups with a detached signature (`gpg --detach-sign`), or unpack this one with `gpg --decrypt FILE | projectrestore restore - …`".into(),
        )
        .into();
    }
    let shown: String = crate::report::escape_bytes(&head[..head.len().min(16)]);
    ArchiveError::UnknownFormat(format!(
        "the archive starts with \"{shown}\", which is not tar, gzip, zstd, xz, bzip2, age or OpenPGP"
    ))
    .into()
}

fn io_error(e: io::Error, cancel: &Cancel) -> Error {
    if cancel.is_set() || source::is_cancelled(&e) {
        Error::Interrupted
    } else {
        ArchiveError::Io(e).into()
    }
}

fn read_error(input: &Input, e: io::Error, cancel: &Cancel) -> Error {
    if cancel.is_set() || source::is_cancelled(&e) {
        Error::Interrupted
    } else if e.get_ref().is_some_and(|i| i.is::<source::SourceError>()) {
        // A remote source's own refusal (access denied, gave up, replaced),
        // with its message and hint.
        match e.into_inner().map(|i| i.downcast::<source::SourceError>()) {
            Some(Ok(s)) => (*s).into(),
            _ => source::SourceError::NotFound(input.display()).into(),
        }
    } else {
        source::SourceError::Io {
            path: input.display(),
            source: e,
        }
        .into()
    }
}

fn stage_io(op: &'static str, path: &str, source: io::Error) -> Error {
    StageError::Io {
        op,
        path: path.to_string(),
        source,
    }
    .into()
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Archive(ArchiveError::Io(e))
    }
}

/// `projectrestore decrypt`: write the decrypted stored stream to `output` (or
/// stdout). The output file is written beside its final name and renamed into place
/// only when the whole stream decrypted and authenticated; on failure it is removed.
pub fn decrypt_to(
    input: &Input,
    identities: &[PathBuf],
    gpg_agent: bool,
    ui: SharedInteraction,
    output: Option<&std::path::Path>,
    cancel: &Cancel,
) -> Result<(), Error> {
    let identities = Identities::load(identities, ui)?.with_gpg_agent(gpg_agent)?;
    let (reader, _) = input.open()?;
    let mut hashing = HashingReader::new(reader, None, cancel.clone(), &crate::NoProgress);
    let (head, stored) =
        source::peek(&mut hashing, archive::sniff::SNIFF_LEN).map_err(|e| io_error(e, cancel))?;
    let format = archive::sniff(&head).ok_or_else(|| unknown_format(&head))?;
    if !format.is_encrypted() {
        return Err(Error::Usage(format!(
            "{} is not encrypted (it is {})",
            input.display(),
            format.name()
        )));
    }
    let decrypted = decrypt::open(format, stored, &identities, &[])?;
    let status = decrypted.status;
    let mut reader = decrypted.reader;
    let fail = |e: io::Error| -> Error {
        decrypt_failure(&Some(status.clone())).unwrap_or_else(|| io_error(e, cancel))
    };
    match output {
        None => {
            let mut stdout = io::stdout().lock();
            io::copy(&mut reader, &mut stdout).map_err(|e| {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    Error::from(e)
                } else {
                    fail(e)
                }
            })?;
        }
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::Builder::new()
                .prefix(".projectrestore-decrypt-")
                .tempfile_in(dir)
                .map_err(|e| stage_io("create", &dir.display().to_string(), e))?;
            io::copy(&mut reader, tmp.as_file_mut()).map_err(fail)?;
            tmp.as_file()
                .sync_all()
                .map_err(|e| stage_io("fsync", &path.display().to_string(), e))?;
            tmp.persist(path)
                .map_err(|e| stage_io("rename", &path.display().to_string(), e.error))?;
        }
    }
    if let Some(e) = decrypt_failure(&Some(status)) {
        return Err(e);
    }
    Ok(())
}

/// Which of the report's findings are already in the event stream.
#[derive(Default)]
struct Sent {
    layers: usize,
    extractor: bool,
    checksum: bool,
    signatures: usize,
    outcome: Option<serde_json::Value>,
    log: Option<serde_json::Value>,
    warnings: usize,
    committed: bool,
}

/// The run's side of the event stream: phases and progress through the
/// throttle, findings as the report gains them. Findings are sent at every
/// phase boundary and when the run ends (refused or not), so a subscriber sees
/// each verdict before the next phase starts, and the stream and the report
/// cannot disagree: the events are made from the report itself.
struct Emitter<'a> {
    throttle: Throttle<'a>,
    sent: std::sync::Mutex<Sent>,
}

impl<'a> Emitter<'a> {
    fn new(events: &'a dyn Events) -> Self {
        Emitter {
            throttle: Throttle::new(events),
            sent: std::sync::Mutex::new(Sent::default()),
        }
    }

    fn emit(&self, event: &Event) {
        self.throttle.emit(event);
    }

    fn phase(&self, phase: Phase, total: Option<u64>, report: &Report) {
        self.sync(report);
        self.throttle.phase(phase, total);
    }

    /// Send what the report found since the last call.
    fn sync(&self, report: &Report) {
        self.throttle.flush();
        let Ok(mut sent) = self.sent.lock() else {
            return;
        };
        for format in report.layers.iter().skip(sent.layers) {
            self.emit(&Event::LayerFound { format: *format });
        }
        sent.layers = report.layers.len();
        if let (Some(x), false) = (&report.extractor, sent.extractor) {
            self.emit(&Event::ExtractorChosen {
                extractor: x.kind,
                reason: x.reason.clone(),
            });
            sent.extractor = true;
        }
        if let (Some(c), false) = (&report.checksum, sent.checksum) {
            self.emit(&Event::Checksum(c.clone()));
            sent.checksum = true;
        }
        if let Some(v) = &report.signatures {
            // The verdict can be decided again at the gate (an inline OpenPGP
            // signature joins the detached ones): send what is new, and the new
            // decision.
            for s in v.signatures.iter().skip(sent.signatures) {
                self.emit(&Event::Signature(Box::new(s.clone())));
            }
            sent.signatures = sent.signatures.max(v.signatures.len());
            let outcome = serde_json::to_value(&v.outcome).ok();
            if outcome != sent.outcome {
                self.emit(&Event::GateDecided {
                    outcome: v.outcome.clone(),
                });
                sent.outcome = outcome;
            }
        }
        if let Some(log) = &report.log {
            let now = serde_json::to_value(log).ok();
            if now != sent.log {
                self.emit(&Event::Log(Box::new(log.clone())));
                sent.log = now;
            }
        }
        for w in report.warnings.iter().skip(sent.warnings) {
            self.emit(&Event::Warning(w.clone()));
        }
        sent.warnings = report.warnings.len();
        if let (Some(dest), false) = (&report.destination, sent.committed) {
            self.emit(&Event::Committed {
                destination: escape(dest),
                replaced_generation: report.replaced_generation.clone(),
            });
            sent.committed = true;
        }
    }
}

/// The root, the home directory and the current directory are never replaced
/// as a whole, with or without --yes (issue 16, item 6): a restore there would
/// swap away the tree a shell and every other program stand in. Only a tree
/// projectrestore put there (managed) or an empty one is restored into. `home`
/// is the user's home directory (front ends read `$HOME`; the library reads no
/// environment).
pub fn never_replaced(
    dest: &std::path::Path,
    home: Option<&std::path::Path>,
) -> Result<(), crate::Error> {
    let Ok(real) = std::fs::canonicalize(dest) else {
        return Ok(()); // missing: nothing to replace
    };
    // The directory itself or one above it: replacing a parent of the home or
    // the current directory swaps those away too.
    let holds = |p: Option<std::path::PathBuf>| {
        p.and_then(|p| std::fs::canonicalize(p).ok())
            .is_some_and(|p| p.starts_with(&real))
    };
    let what = if real == std::path::Path::new("/") {
        "the root directory"
    } else if holds(home.map(std::path::Path::to_path_buf)) {
        "your home directory or a directory above it"
    } else if holds(std::env::current_dir().ok()) {
        "the current directory or a directory above it"
    } else {
        return Ok(());
    };
    let empty = std::fs::read_dir(&real).is_ok_and(|mut d| d.next().is_none());
    if empty || crate::commit::is_managed(&real) {
        return Ok(());
    }
    let shown = crate::report::escape(&dest.display().to_string());
    Err(crate::commit::CommitError::Refused(format!(
        "{shown} is {what}, which is never replaced as a whole, not even with --yes; restore into a new directory (e.g. --to {}/restored) and move what you need",
        shown.trim_end_matches('/')
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Recorder;
    use crate::verify::{SignatureReport, SignatureVerdict};

    fn sig(key: &str, valid: bool) -> SignatureReport {
        SignatureReport {
            file: "f.sig".into(),
            scheme: "openpgp".into(),
            key: key.into(),
            signer: None,
            key_file: None,
            trusted: true,
            valid,
            reason: None,
            trusted_comment: None,
            identities: Vec::new(),
        }
    }

    /// A verdict decided again at the gate (an inline signature joining a
    /// detached one) is sent again: the new signature and the new decision.
    #[test]
    fn a_verdict_decided_again_is_streamed_again() {
        let rec = Recorder::default();
        let em = Emitter::new(&rec);
        let mut report = Report::new(&Input::Stdin, false, true);
        report.signatures = Some(SignatureVerdict {
            signatures: vec![sig("a", true)],
            outcome: Outcome::Verified {
                signers: vec!["a".into()],
            },
            unmet: None,
        });
        em.sync(&report);
        em.sync(&report);
        report.signatures = Some(SignatureVerdict {
            signatures: vec![sig("a", true), sig("b", false)],
            outcome: Outcome::Failed { reason: "b".into() },
            unmet: None,
        });
        em.sync(&report);
        let kinds: Vec<String> = rec
            .events()
            .iter()
            .map(|e| {
                serde_json::to_value(e).unwrap_or_default()["event"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(
            kinds,
            ["signature", "gate-decided", "signature", "gate-decided"]
        );
    }
}

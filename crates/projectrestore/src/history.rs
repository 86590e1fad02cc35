//! History and rollback: the trees a destination held, and going back to one of
//! them atomically under the lock (the tree it replaces is kept in turn).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::commit::{self, Generation, GenerationMeta, StateDir};
use crate::event::{Event, Events};
use crate::interact::Interaction;
use crate::Error;

/// What a destination holds now and what it held before, newest first.
#[derive(Debug, Clone)]
pub struct History {
    pub destination: String,
    /// The tree in place (absent when projectrestore has not restored it).
    pub current: Option<GenerationMeta>,
    /// Kept generations, newest first; `number` 1 is the previous state.
    pub generations: Vec<Numbered>,
    /// Bytes on disk all generations take (a file shared by hard links
    /// counts once), when they could be measured.
    pub disk_bytes: Option<u64>,
    /// An interrupted restore or rollback awaits `recover` (the listing may be stale).
    pub pending_recovery: bool,
}

/// A generation with its number in `history` (1 = newest).
#[derive(Debug, Clone)]
pub struct Numbered {
    pub number: usize,
    pub generation: Generation,
    /// Bytes on disk of its tree, when it could be measured.
    pub disk_bytes: Option<u64>,
}

/// A generation's metadata as JSON shows it: `null` for what is not known
/// (the state directory's file leaves such fields out or empty).
#[derive(Serialize)]
struct MetaView<'a> {
    archive: &'a str,
    sha256: Option<&'a str>,
    signers: &'a [String],
    time: Option<&'a str>,
    bytes: u64,
    files: u64,
    how: Option<&'a str>,
    replaced: Option<&'a str>,
}

impl<'a> From<&'a GenerationMeta> for MetaView<'a> {
    fn from(m: &'a GenerationMeta) -> Self {
        let some = |s: &'a str| (!s.is_empty()).then_some(s);
        MetaView {
            archive: &m.archive,
            sha256: some(&m.sha256),
            signers: &m.signers,
            time: some(&m.time),
            bytes: m.bytes,
            files: m.files,
            how: some(&m.how).map(|h| {
                if h == "partial restore" {
                    "partial-restore"
                } else {
                    h
                }
            }),
            replaced: some(&m.replaced),
        }
    }
}

fn meta_view<S: serde::Serializer>(m: &GenerationMeta, s: S) -> Result<S::Ok, S::Error> {
    MetaView::from(m).serialize(s)
}

impl Serialize for History {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Gen<'a> {
            number: usize,
            id: &'a str,
            path: &'a Path,
            disk_bytes: Option<u64>,
            meta: MetaView<'a>,
        }
        #[derive(Serialize)]
        struct View<'a> {
            schema: u32,
            destination: &'a str,
            current: Option<MetaView<'a>>,
            generations: Vec<Gen<'a>>,
            disk_bytes: Option<u64>,
            pending_recovery: bool,
        }
        View {
            schema: crate::report::SCHEMA,
            destination: &self.destination,
            current: self.current.as_ref().map(MetaView::from),
            generations: self
                .generations
                .iter()
                .map(|g| Gen {
                    number: g.number,
                    id: &g.generation.id,
                    path: &g.generation.path,
                    disk_bytes: g.disk_bytes,
                    meta: MetaView::from(&g.generation.meta),
                })
                .collect(),
            disk_bytes: self.disk_bytes,
            pending_recovery: self.pending_recovery,
        }
        .serialize(s)
    }
}

/// Which generation to go back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The newest generation: the state before the last restore or rollback.
    Previous,
    /// A number from `history` (1 = newest) or a generation id.
    Generation(String),
    /// The newest generation put in place before this time.
    Before(SystemTime),
}

impl Target {
    /// Parse `--before`: RFC 3339 (`2026-11-24T10:00:00Z`, `2026-11-24 10:00`) or a
    /// duration ago (`2h`, `3days`).
    pub fn before(text: &str) -> Result<Self, Error> {
        if let Ok(t) = humantime::parse_rfc3339_weak(text) {
            return Ok(Target::Before(t));
        }
        match humantime::parse_duration(text) {
            Ok(d) => Ok(Target::Before(
                SystemTime::now()
                    .checked_sub(d)
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            )),
            Err(_) => Err(Error::Usage(format!(
                "--before {text:?} is neither an RFC 3339 time (2026-11-24T10:00:00Z) nor a duration ago (2h, 3days)"
            ))),
        }
    }
}

/// What `prune` removed.
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// [`crate::report::SCHEMA`].
    pub schema: u32,
    pub destination: String,
    /// Generations removed.
    pub removed: usize,
    /// Generations kept.
    pub kept: usize,
}

/// Remove kept generations of `dest` explicitly, under its lock (waiting for
/// it with `wait`): with `keep`, those beyond the newest `keep`; with
/// `older_than`, those replaced longer ago than that; with both, those that
/// are both (the newest `keep` always stay). Crash-safe (each goes to
/// `trash-*` first, which recovery removes). The tree in place is never
/// touched.
pub fn prune(
    dest: &Path,
    keep: Option<usize>,
    older_than: Option<std::time::Duration>,
    wait: bool,
    events: &dyn Events,
) -> Result<PruneReport, Error> {
    if keep.is_none() && older_than.is_none() {
        return Err(Error::Usage(
            "prune needs --keep N, --older-than DURATION, or both".into(),
        ));
    }
    let state_path: PathBuf = commit::state_dir_path(dest)?;
    if std::fs::symlink_metadata(&state_path).is_err() {
        return Err(Error::Commit(commit::CommitError::Refused(format!(
            "{} was never restored by projectrestore: there are no generations to prune",
            crate::report::escape(&dest.display().to_string())
        ))));
    }
    let state = StateDir::open(dest)?;
    let lock = state.lock(wait)?;
    state.recover(&lock)?;
    let cutoff = older_than.map(|d| {
        SystemTime::now()
            .checked_sub(d)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    });
    let removed = state.prune_where(&lock, |i, g| {
        // A generation whose replacement time cannot be read is not "old".
        let old = || {
            cutoff.is_some_and(|c| {
                humantime::parse_rfc3339_weak(&g.meta.replaced).is_ok_and(|t| t < c)
            })
        };
        match (keep, cutoff) {
            (Some(k), Some(_)) => i >= k && old(),
            (Some(k), None) => i >= k,
            (None, _) => old(),
        }
    })?;
    let destination = state.dest().display().to_string();
    if removed > 0 {
        events.emit(&Event::Pruned {
            destination: crate::report::escape(&destination),
            removed,
        });
    }
    Ok(PruneReport {
        schema: crate::report::SCHEMA,
        destination: crate::report::escape(&destination),
        removed,
        kept: state.generations()?.len(),
    })
}

/// The result of a rollback.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// [`crate::report::SCHEMA`].
    pub schema: u32,
    pub destination: String,
    /// The generation that was put back.
    pub from_generation: String,
    /// What is in place now.
    #[serde(serialize_with = "meta_view")]
    pub restored: GenerationMeta,
    /// The generation that now holds the tree that was replaced.
    pub replaced_generation: Option<String>,
    /// Generations removed beyond `--keep`.
    pub pruned: usize,
    /// What `--notify` targets were told (only when there are any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<crate::report::Delivery>,
}

/// The history of `dest`; creates nothing.
pub fn history(dest: &Path) -> Result<History, Error> {
    let state = commit::state_dir_path(dest)?;
    let mut h = History {
        destination: dest.display().to_string(),
        current: None,
        generations: Vec::new(),
        disk_bytes: None,
        pending_recovery: false,
    };
    if std::fs::symlink_metadata(&state).is_err() {
        if std::fs::symlink_metadata(dest).is_err() {
            return Err(Error::Commit(commit::CommitError::Refused(format!(
                "{} does not exist (a typo in the path?)",
                crate::report::escape(&dest.display().to_string())
            ))));
        }
        return Ok(h);
    }
    let dir = StateDir::open(dest)?;
    h.pending_recovery = dir.path().join("journal").exists();
    h.current = dir.current();
    let gens = dir.generations()?;
    let usage = dir.usage(&gens).ok();
    h.generations = number(gens);
    if let Some((each, total)) = usage {
        for (g, n) in h.generations.iter_mut().zip(each) {
            g.disk_bytes = Some(n);
        }
        h.disk_bytes = Some(total);
    }
    Ok(h)
}

fn number(gens: Vec<Generation>) -> Vec<Numbered> {
    gens.into_iter()
        .enumerate()
        .map(|(i, generation)| Numbered {
            number: i + 1,
            generation,
            disk_bytes: None,
        })
        .collect()
}

fn parse_time(t: &str) -> SystemTime {
    humantime::parse_rfc3339_weak(t).unwrap_or(SystemTime::UNIX_EPOCH)
}

fn choose(gens: &[Numbered], target: &Target, dest: &Path) -> Result<Numbered, Error> {
    let none = |why: String| {
        Error::Commit(commit::CommitError::Refused(format!(
            "{why}; `projectrestore history {}` lists what is kept",
            dest.display()
        )))
    };
    if gens.is_empty() {
        return Err(none(format!(
            "{} has no kept generations to roll back to",
            dest.display()
        )));
    }
    let found = match target {
        Target::Previous => gens.first(),
        Target::Generation(n) => match n.parse::<usize>() {
            Ok(i) if i >= 1 && i <= gens.len() && n.len() < 6 => gens.get(i - 1),
            _ => gens.iter().find(|g| g.generation.id == *n),
        },
        Target::Before(t) => gens
            .iter()
            .find(|g| parse_time(&g.generation.meta.time) < *t),
    };
    found.cloned().ok_or_else(|| match target {
        Target::Generation(n) => none(format!(
            "there is no generation {}",
            crate::report::escape(n)
        )),
        Target::Before(t) => none(format!(
            "no kept generation was put in place before {}",
            humantime::format_rfc3339_seconds(*t)
        )),
        Target::Previous => none("no generation".into()),
    })
}

/// A generation for a prompt or message. Every field comes from a metadata file
/// in the state directory, so every field is escaped (invariant 8).
fn describe(m: &GenerationMeta) -> String {
    use crate::report::escape;
    if m.how.is_empty() {
        escape(&m.archive)
    } else {
        format!(
            "{} ({} {})",
            escape(&m.archive),
            if m.how == "rollback" {
                "rolled back to on"
            } else {
                "restored"
            },
            escape(&m.time)
        )
    }
}

/// Roll `dest` back to `target`, asking `ui` unless `yes`.
pub fn rollback(
    dest: &Path,
    target: &Target,
    keep: usize,
    wait: bool,
    yes: bool,
    ui: &dyn Interaction,
    events: &dyn Events,
) -> Result<RollbackReport, Error> {
    let state_path: PathBuf = commit::state_dir_path(dest)?;
    if std::fs::symlink_metadata(&state_path).is_err() {
        return Err(Error::Commit(commit::CommitError::Refused(format!(
            "{} was never restored by projectrestore: there is nothing to roll back to",
            dest.display()
        ))));
    }
    let state = StateDir::open(dest)?;
    let lock = state.lock(wait)?;
    state.recover(&lock)?;
    let gens = number(state.generations()?);
    let chosen = choose(&gens, target, dest)?;
    if !yes {
        let now = state
            .current()
            .map(|m| describe(&m))
            .unwrap_or_else(|| "the current tree".into());
        let question = format!(
            "Replace {} ({now}) with generation {} ({})? The current tree is kept as a generation.",
            crate::report::escape(&dest.display().to_string()),
            chosen.number,
            describe(&chosen.generation.meta)
        );
        if !ui.confirm(&question) {
            return Err(Error::NotConfirmed(format!(
                "rollback of {} not confirmed",
                dest.display()
            )));
        }
    }
    let time = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let committed = match state.rollback(&lock, &chosen.generation.id, &time) {
        Ok(c) => c,
        Err(e) => {
            let _ = state.recover(&lock);
            return Err(e.into());
        }
    };
    let pruned = state.prune(&lock, keep)?;
    let destination = state.dest().display().to_string();
    events.emit(&Event::Committed {
        destination: crate::report::escape(&destination),
        replaced_generation: committed.replaced.clone(),
    });
    if pruned > 0 {
        events.emit(&Event::Pruned {
            destination: crate::report::escape(&destination),
            removed: pruned,
        });
    }
    Ok(RollbackReport {
        schema: crate::report::SCHEMA,
        destination,
        from_generation: chosen.generation.id.clone(),
        restored: state.current().unwrap_or_default(),
        replaced_generation: committed.replaced,
        pruned,
        notifications: Vec::new(),
    })
}

//! One typed event stream: what a run is doing and what it found, as it happens.
//!
//! The library emits [`Event`]s to an [`Events`] subscriber; the progress bar,
//! the `--events` JSON lines, a webhook or a Python callback are subscribers, and
//! [`Fanout`] feeds several. Every line `--events` writes is
//! `{"schema": 1, "event": "<kebab-case name>", ...}` ([`Line`]); the last is
//! `finished` (carrying the same document `--json` prints) or `failed`.
//!
//! Progress is coalesced ([`Throttle`]): at most one `progress` event per MiB of
//! stored bytes or per 100 ms, so a subscriber that writes a line per event
//! cannot slow the restore down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::archive::Format;
use crate::log::gate::LogReport;
use crate::report::{ChecksumReport, Warning, SCHEMA};
use crate::verify::{Outcome, SignatureReport};
use crate::Category;

/// A stage of a run, as progress shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Phase {
    /// Pass 1 of verify-first: digests and signatures, nothing decrypted or parsed.
    Verifying,
    /// Decrypting, decompressing and validating into staging.
    Restoring,
    /// The same pass with nothing written (`verify`, `--dry-run`, `preview`).
    Checking,
    /// Making the staged tree durable.
    Syncing,
    /// The atomic swap.
    Swapping,
}

impl Phase {
    /// The name progress bars show.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Verifying => "verifying",
            Phase::Restoring => "restoring",
            Phase::Checking => "checking",
            Phase::Syncing => "syncing",
            Phase::Swapping => "swapping",
        }
    }
}

/// What happened. New variants may be added: match with a wildcard arm.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// A run over one archive begins.
    Started {
        archive: String,
        /// Where it will be restored; `None` when nothing is written.
        destination: Option<String>,
        dry_run: bool,
    },
    /// A phase begins; `total` is the number of stored bytes it reads, if known.
    PhaseStarted { phase: Phase, total: Option<u64> },
    /// Stored bytes read so far in the phase (coalesced), and the entries
    /// (files, directories, links) validated so far in a phase that parses the archive (`None` in
    /// `verifying`, which only hashes).
    Progress {
        phase: Phase,
        bytes: u64,
        total: Option<u64>,
        entries: Option<u64>,
    },
    /// A broken download of a remote archive goes on from `offset` (pinned to
    /// the same version of the object).
    Resumed { offset: u64, reason: String },
    /// A layer of the archive was recognised (outermost first).
    LayerFound { format: Format },
    /// The extractor that parses the archive was chosen: `wasm` (the
    /// sandbox) or `native`, and why.
    ExtractorChosen {
        extractor: crate::sandbox::ExtractorKind,
        reason: String,
    },
    /// The checksum was compared.
    Checksum(ChecksumReport),
    /// One signature was checked.
    Signature(Box<SignatureReport>),
    /// The signature policy decided.
    GateDecided { outcome: Outcome },
    /// The append-only log checks ran (before the gate) or the archive was anchored.
    Log(Box<LogReport>),
    /// Something the user should know.
    Warning(Warning),
    /// The new tree is in place.
    Committed {
        destination: String,
        replaced_generation: Option<String>,
    },
    /// Generations beyond `--keep` were removed.
    Pruned { destination: String, removed: usize },
    /// The command finished; `report` is the document `--json` prints.
    Finished { report: serde_json::Value },
    /// The command failed: how, with the exit code the binary returns.
    Failed {
        category: Category,
        exit_code: u8,
        message: String,
        hint: Option<String>,
    },
}

/// One line of the event stream: the event with the schema version.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub schema: u32,
    #[serde(flatten)]
    pub event: &'a Event,
}

impl<'a> Line<'a> {
    pub fn new(event: &'a Event) -> Self {
        Line {
            schema: SCHEMA,
            event,
        }
    }
}

/// Receives events. Called on the pipeline's threads: an implementation must
/// return quickly and never block on a slow consumer.
pub trait Events: Sync {
    fn emit(&self, event: &Event);
}

/// Discards every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl Events for NoEvents {
    fn emit(&self, _event: &Event) {}
}

/// Feeds every event to each subscriber, in order.
pub struct Fanout<'a>(pub Vec<&'a dyn Events>);

impl Events for Fanout<'_> {
    fn emit(&self, event: &Event) {
        for s in &self.0 {
            s.emit(event);
        }
    }
}

/// Records every event (tests, and hosts that look at the stream afterwards).
#[derive(Debug, Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Events for Recorder {
    fn emit(&self, event: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.clone());
        }
    }
}

/// Turns the readers' byte counts into coalesced `progress` events: one per MiB
/// or per 100 ms, whichever comes first, and a last one when the phase ends.
pub struct Throttle<'a> {
    events: &'a dyn Events,
    state: Mutex<ThrottleState>,
}

struct ThrottleState {
    phase: Option<(Phase, Option<u64>)>,
    bytes: u64,
    sent_bytes: u64,
    entries: u64,
    sent_entries: u64,
    sent_at: Instant,
}

const EVERY_BYTES: u64 = 1 << 20;
const EVERY: Duration = Duration::from_millis(100);

impl<'a> Throttle<'a> {
    pub fn new(events: &'a dyn Events) -> Self {
        Throttle {
            events,
            state: Mutex::new(ThrottleState {
                phase: None,
                bytes: 0,
                sent_bytes: 0,
                entries: 0,
                sent_entries: 0,
                sent_at: Instant::now(),
            }),
        }
    }

    /// The subscriber behind the throttle.
    pub fn events(&self) -> &'a dyn Events {
        self.events
    }

    /// Emit an event as it is (not throttled).
    pub fn emit(&self, event: &Event) {
        self.events.emit(event);
    }

    /// A new phase begins (the previous one's last count is flushed first).
    pub fn phase(&self, phase: Phase, total: Option<u64>) {
        self.flush();
        if let Ok(mut s) = self.state.lock() {
            *s = ThrottleState {
                phase: Some((phase, total)),
                bytes: 0,
                sent_bytes: 0,
                entries: 0,
                sent_entries: 0,
                sent_at: Instant::now(),
            };
        }
        self.events.emit(&Event::PhaseStarted { phase, total });
    }

    /// `n` more stored bytes were read.
    pub fn advance(&self, n: u64) {
        self.send(|s| {
            s.bytes += n;
            s.bytes - s.sent_bytes >= EVERY_BYTES || s.sent_at.elapsed() >= EVERY
        });
    }

    /// One more entry was validated: sent with the next byte count, or on
    /// its own when a tenth of a second passed (many small files in few bytes).
    pub fn entry(&self) {
        self.send(|s| {
            s.entries += 1;
            s.sent_at.elapsed() >= EVERY
        });
    }

    /// Send the count not yet sent.
    pub fn flush(&self) {
        self.send(|s| s.bytes > s.sent_bytes || s.entries > s.sent_entries);
    }

    /// Update the state with `due`; when it says so (and a phase is on), send
    /// the count (outside the lock).
    fn send(&self, due: impl FnOnce(&mut ThrottleState) -> bool) {
        let event = match self.state.lock() {
            Ok(mut s) => match (due(&mut s), s.phase) {
                (true, Some((phase, total))) => {
                    s.sent_bytes = s.bytes;
                    s.sent_entries = s.entries;
                    s.sent_at = Instant::now();
                    Some(Event::Progress {
                        phase,
                        bytes: s.bytes,
                        total,
                        entries: (phase != Phase::Verifying).then_some(s.entries),
                    })
                }
                _ => None,
            },
            Err(_) => None,
        };
        if let Some(e) = event {
            self.events.emit(&e);
        }
    }
}

/// The readers report bytes through the [`crate::Progress`] trait.
impl crate::Progress for Throttle<'_> {
    fn advance(&self, bytes: u64) {
        Throttle::advance(self, bytes);
    }
    fn entry(&self) {
        Throttle::entry(self);
    }
    fn resumed(&self, r: &crate::source::Resume) {
        self.emit(&Event::Resumed {
            offset: r.offset,
            reason: r.reason.clone(),
        });
    }
    fn done(&self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_coalesced_and_flushed() {
        let rec = Recorder::default();
        let t = Throttle::new(&rec);
        t.phase(Phase::Checking, Some(10 << 20));
        for _ in 0..(4 * 16) {
            t.advance(64 << 10); // 4 MiB in 64 KiB reads, fast
        }
        t.advance(1);
        t.flush();
        let ev = rec.events();
        let progress: Vec<u64> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Progress { bytes, .. } => Some(*bytes),
                _ => None,
            })
            .collect();
        assert!(matches!(ev[0], Event::PhaseStarted { .. }));
        assert!(progress.len() >= 4 && progress.len() <= 6, "{progress:?}");
        assert_eq!(progress.last(), Some(&((4 << 20) + 1)));
        assert!(progress.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn lines_carry_the_schema_and_a_kebab_case_name() {
        let e = Event::PhaseStarted {
            phase: Phase::Verifying,
            total: Some(3),
        };
        let v = serde_json::to_value(Line::new(&e)).unwrap_or_default();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["event"], "phase-started");
        assert_eq!(v["phase"], "verifying");
    }
}

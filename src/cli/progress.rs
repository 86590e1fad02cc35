//! The progress bar: an indicatif subscriber of the library's event stream
//! (stderr, terminals only).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use projectrestore::event::{Event, Events, Phase};

/// A progress bar over the stored bytes: numbered passes (`[1/2] verifying`,
/// `[2/2] restoring`), bytes in binary units with MiB/s and an ETA when the
/// size is known, and words with a spinner for the steps that move no bytes
/// (syncing, swapping). Questions suspend it ([`Bar::handle`]).
pub struct Bar {
    bar: ProgressBar,
    /// A verifying pass came first: the next reading pass is pass 2 of 2.
    verified: std::sync::atomic::AtomicBool,
    /// `PROJECTRESTORE_TIMING=1`: print when each phase starts and ends (profiling).
    timing: Option<std::time::Instant>,
}

impl Bar {
    /// A bar on stderr, hidden unless stderr is a terminal (and not `quiet`).
    pub fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        // Nothing until the first phase names itself.
        if let Ok(style) = ProgressStyle::with_template("{msg}") {
            bar.set_style(style);
        }
        let timing = std::env::var_os("PROJECTRESTORE_TIMING")
            .is_some_and(|v| v == "1")
            .then(std::time::Instant::now);
        Bar {
            bar,
            verified: std::sync::atomic::AtomicBool::new(false),
            timing,
        }
    }

    /// The bar of a command with `output`: drawn only on a terminal, and
    /// never with `--quiet` or `--json`.
    pub fn for_output(output: &super::OutputArgs) -> Self {
        use std::io::IsTerminal;
        Bar::new(!output.quiet && !output.json && std::io::stderr().is_terminal())
    }

    /// The bar itself, for suspending it while a question is asked.
    pub fn handle(&self) -> ProgressBar {
        self.bar.clone()
    }
}

impl Bar {
    fn phase(&self, phase: Phase, total: Option<u64>) {
        let name = phase.name();
        if let Some(t) = self.timing {
            eprintln!(
                "timing: {:>8.3} s  {name} starts",
                t.elapsed().as_secs_f64()
            );
        }
        use std::sync::atomic::Ordering;
        if let Some(words) = words(phase) {
            // No bytes move: words and a spinner that keeps turning.
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                self.bar.set_style(style);
            }
            self.bar.set_message(words);
            self.bar
                .enable_steady_tick(std::time::Duration::from_millis(120));
            return;
        }
        let prefix = match phase {
            Phase::Verifying => {
                self.verified.store(true, Ordering::Relaxed);
                format!("[1/2] {name}")
            }
            _ if self.verified.load(Ordering::Relaxed) => format!("[2/2] {name}"),
            _ => name.to_string(),
        };
        let template = if total.is_some() {
            "{prefix:>15} [{bar:20}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}"
        } else {
            "{prefix:>15} {spinner} {binary_bytes} {binary_bytes_per_sec} {msg}"
        };
        self.bar.set_message("");
        self.bar.disable_steady_tick();
        self.bar.set_position(0);
        self.bar.set_length(total.unwrap_or(0));
        if total.is_none() {
            self.bar.unset_length();
        }
        self.bar.set_prefix(prefix);
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        // A new phase is drawn at once, whatever the rate limit.
        self.bar.force_draw();
    }

    /// The run is over: clear the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(t) = self.timing {
            eprintln!("timing: {:>8.3} s  done", t.elapsed().as_secs_f64());
        }
        self.bar.finish_and_clear();
    }
}

/// "· 1,234 entries": entries (files, directories, links) done so far (the total is known only at the end:
/// pass 1 hashes, it does not parse).
fn entries_done(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("· {grouped} {}", if n == 1 { "entry" } else { "entries" })
}

/// What a step that moves no bytes is called on the bar.
fn words(phase: Phase) -> Option<&'static str> {
    match phase {
        Phase::Syncing => Some("syncing to disk…"),
        Phase::Swapping => Some("swapping the new tree into place…"),
        _ => None,
    }
}

impl Events for Bar {
    fn emit(&self, event: &Event) {
        match event {
            Event::PhaseStarted { phase, total } => self.phase(*phase, *total),
            Event::Progress { bytes, entries, .. } => {
                if let Some(n) = entries {
                    self.bar.set_message(entries_done(*n));
                }
                self.bar.set_position(*bytes);
            }
            _ => {}
        }
    }
}

impl Drop for Bar {
    /// Never leave a half-drawn bar behind an error message.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_counted_in_words() {
        assert_eq!(entries_done(1), "· 1 entry");
        assert_eq!(entries_done(999), "· 999 entries");
        assert_eq!(entries_done(1234567), "· 1,234,567 entries");
    }

    /// The steps that move no bytes have words, not a `0 B/s` bar; the
    /// reading passes have none (they get numbers and bytes).
    #[test]
    fn steps_without_bytes_have_words() {
        assert_eq!(words(Phase::Syncing), Some("syncing to disk…"));
        assert_eq!(
            words(Phase::Swapping),
            Some("swapping the new tree into place…")
        );
        for p in [Phase::Verifying, Phase::Restoring, Phase::Checking] {
            assert_eq!(words(p), None);
        }
    }
}

//! The progress bar: an indicatif subscriber of the library's event stream
//! (stderr, terminals only).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use projectrestore::event::{Event, Events, Phase};

/// A progress bar over the stored bytes.
pub struct Bar {
    bar: ProgressBar,
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
        let timing = std::env::var_os("PROJECTRESTORE_TIMING")
            .is_some_and(|v| v == "1")
            .then(std::time::Instant::now);
        Bar { bar, timing }
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
        let template = if total.is_some() {
            "{prefix:>10} [{bar:24}] {bytes}/{total_bytes} {bytes_per_sec}"
        } else {
            "{prefix:>10} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_prefix(name.to_string());
        self.bar.set_position(0);
        self.bar.set_length(total.unwrap_or(0));
        if total.is_none() {
            self.bar.unset_length();
        }
    }

    /// The run is over: clear the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(t) = self.timing {
            eprintln!("timing: {:>8.3} s  done", t.elapsed().as_secs_f64());
        }
        self.bar.finish_and_clear();
    }
}

impl Events for Bar {
    fn emit(&self, event: &Event) {
        match event {
            Event::PhaseStarted { phase, total } => self.phase(*phase, *total),
            Event::Progress { bytes, .. } => self.bar.set_position(*bytes),
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

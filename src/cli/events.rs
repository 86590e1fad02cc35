//! `--events FILE`: the library's event stream as JSON lines (`-` = standard
//! output), one object per event, flushed as it happens, each with
//! `"schema": 1` and `"event": "<kebab-case name>"`. The last line is `finished`
//! (its `report` is what `--json` prints) or `failed`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use projectrestore::event::{Event, Events, Line};

/// Writes every event as one JSON line.
pub struct EventFile {
    out: Mutex<Box<dyn Write + Send>>,
    /// The first write error: reported once at the end, never fatal to a restore.
    failed: Mutex<Option<io::Error>>,
}

impl EventFile {
    /// Open `path` (created or truncated), or standard output for `-`.
    pub fn open(path: &Path) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(io::stdout())
        } else {
            Box::new(BufWriter::new(File::create(path)?))
        };
        Ok(EventFile {
            out: Mutex::new(out),
            failed: Mutex::new(None),
        })
    }

    /// The first error writing the stream, if any.
    pub fn take_error(&self) -> Option<io::Error> {
        self.failed.lock().ok().and_then(|mut f| f.take())
    }
}

impl Events for EventFile {
    fn emit(&self, event: &Event) {
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        let result = serde_json::to_writer(&mut *out, &Line::new(event))
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(e) = result {
            if let Ok(mut f) = self.failed.lock() {
                f.get_or_insert(e);
            }
        }
    }
}

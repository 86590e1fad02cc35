//! `--events FILE`: the library's event stream as JSON lines (`-` = standard
//! output), one object per event, flushed as it happens, each with
//! `"schema": 1` and `"event": "<kebab-case name>"`. The last line is `finished`
//! (its `report` is what `--json` prints) or `failed`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use projectrestore::event::{Event, Events, Line};

fn open_stream_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = projectrestore::fs::open_unfollowed(
        path,
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .mode(0o600),
    )
    .map_err(|e| {
        if projectrestore::fs::is_symlink_refusal(&e) {
            io::Error::other("it is a symbolic link; give the file itself")
        } else {
            e
        }
    })?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        // Truncate only once it is known to be a regular file.
        file.set_len(0)?;
    } else if !kind.is_fifo() {
        return Err(io::Error::other("not a regular file or a pipe"));
    }
    // Opened without blocking (a FIFO without a reader must not hang here);
    // writes block as usual.
    rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty())?;
    Ok(file)
}

/// Writes every event as one JSON line.
pub struct EventFile {
    out: Mutex<Box<dyn Write + Send>>,
    /// The first write error: reported once at the end, never fatal to a restore.
    failed: Mutex<Option<io::Error>>,
}

impl EventFile {
    /// Open `path` (created mode 0600, or truncated), or standard output for
    /// `-`. A symbolic link is refused (a link planted where the stream goes
    /// would truncate the file it names), and so is anything but a regular file
    /// or a pipe.
    pub fn open(path: &Path) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(io::stdout())
        } else {
            Box::new(BufWriter::new(open_stream_file(path)?))
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

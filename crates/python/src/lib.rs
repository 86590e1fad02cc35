//! `projectrestore._projectrestore`: the library as a CPython extension module
//! (abi3, CPython 3.9+). `python/projectrestore/__init__.py` is the public,
//! typed face; this module does the work.
//!
//! One entry point, `call(command, options, events, passphrase, cancel)`:
//! `options` is the dict of the public function's keyword arguments. The work
//! runs on its own thread with the GIL released, while the calling thread
//! waits in short slices: between them it hands the events to the Python
//! callback (on the caller's own thread, so an exception there is an ordinary
//! exception), checks for signals (a Ctrl-C raises `KeyboardInterrupt` there;
//! the library installs no handler) and polls `cancel`. Any of those sets the
//! run's cancel flag; the pipeline stops at its next check, removes its
//! staging, releases the lock, and the Python exception propagates.
//!
//! A result is the JSON document the command line's `--json` prints, as text
//! (the Python side parses it into frozen classes). A failure raises `Failure`
//! with one JSON argument: category, exit code, the CLI's message and hint,
//! and what the typed exception carries (signature verdicts, the entry and
//! rule, the limit, the errno).

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{json, Value};

use projectrestore::event::{Event, Events, Line};
use projectrestore::interact::{Interaction, SecretString, SharedInteraction};
use projectrestore::restore::{self, Action};
use projectrestore::source::Cancel;
use projectrestore::Error;

mod args;

use args::Args;

pyo3::create_exception!(
    _projectrestore,
    Failure,
    pyo3::exceptions::PyException,
    "A failure of the library; its one argument is JSON (projectrestore raises the typed exception)."
);

/// The process's `$HOME` and `$XDG_CONFIG_HOME` (for the default trust store
/// and backup directory). No `PROJECTRESTORE_*` variable and no rc file is
/// read: a library call does what its arguments say.
pub fn env() -> projectrestore::config::Env {
    projectrestore::config::Env {
        vars: Default::default(),
        home: std::env::var_os("HOME").map(PathBuf::from),
        xdg_config_home: std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
    }
}

/// What the events of a failed run said that its exception carries.
#[derive(Default)]
pub struct Seen {
    signatures: Vec<Value>,
    outcome: Option<Value>,
}

/// The first I/O error in `e`'s chain of causes.
fn io_cause(e: &Error) -> Option<&std::io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = c.source();
    }
    None
}

/// The `errno` of an I/O failure, from the OS or from the kind.
fn errno(io: &std::io::Error) -> Option<i32> {
    io.raw_os_error().or(match io.kind() {
        std::io::ErrorKind::NotFound => Some(2),
        std::io::ErrorKind::PermissionDenied => Some(13),
        _ => None,
    })
}

/// The library's failure as the `Failure` exception.
pub fn failure(e: &Error, seen: &Seen) -> PyErr {
    use projectrestore::archive::ArchiveError;
    let category = e.category();
    let mut doc = json!({
        "category": category,
        "exit_code": e.exit_code(),
        "message": e.message(),
        "hint": e.hint(),
    });
    if category == projectrestore::Category::Error {
        if let Some(n) = io_cause(e).and_then(errno) {
            doc["errno"] = json!(n);
        }
        match e {
            Error::Source(projectrestore::source::SourceError::Io { path, .. }) => {
                doc["filename"] = json!(path);
            }
            // "No archive matching …": nothing to open is ENOENT (a
            // malformed store URL, also `NotFound`, is not).
            Error::Source(projectrestore::source::SourceError::NotFound(m))
                if m.starts_with("no archive matching") =>
            {
                doc["errno"] = json!(2);
            }
            _ => {}
        }
    }
    if category == projectrestore::Category::Verification {
        doc["signatures"] = json!(seen.signatures);
        doc["outcome"] = json!(seen.outcome);
    }
    match e {
        Error::NotConfirmed(_) => doc["kind"] = json!("not-confirmed"),
        Error::Commit(projectrestore::commit::CommitError::Refused(_)) => {
            doc["kind"] = json!("refused");
        }
        Error::Archive(ArchiveError::Rejected { entry, rule }) => {
            doc["entry"] = json!(entry);
            doc["rule"] = json!(rule);
        }
        Error::Archive(ArchiveError::Limit {
            what, value, limit, ..
        }) => {
            doc["limit"] = json!({"what": what, "value": value, "limit": limit});
        }
        _ => {}
    }
    Failure::new_err(doc.to_string())
}

/// What the work sends the thread that waits.
enum Msg {
    /// An event, as its `--events` line.
    Event(String),
    /// A passphrase is needed for `what`: ask on the caller's thread (where
    /// Ctrl-C reaches and the caller's thread-locals are) and answer here.
    Passphrase(String, mpsc::Sender<Result<Option<SecretString>, String>>),
}

/// The events of a run, for the thread that waits: each as its `--events`
/// line, progress at most every 100 ms.
struct Channel {
    tx: mpsc::Sender<Msg>,
    /// Is anyone listening (`events=`)? The sender lives either way: a
    /// dropped one would make every wait return at once (a spinning waiter).
    wanted: bool,
    last_progress: Mutex<Option<Instant>>,
    seen: Mutex<Seen>,
}

const PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl Events for Channel {
    fn emit(&self, event: &Event) {
        if let Ok(mut seen) = self.seen.lock() {
            match event {
                Event::Signature(r) => {
                    seen.signatures
                        .push(serde_json::to_value(r).unwrap_or(Value::Null));
                }
                Event::GateDecided { outcome } => {
                    seen.outcome = serde_json::to_value(outcome).ok();
                }
                _ => {}
            }
        }
        if !self.wanted {
            return;
        }
        if matches!(event, Event::Progress { .. }) {
            let Ok(mut last) = self.last_progress.lock() else {
                return;
            };
            let now = Instant::now();
            if last.is_some_and(|t| now.duration_since(t) < PROGRESS_EVERY) {
                return;
            }
            *last = Some(now);
        }
        if let Ok(line) = serde_json::to_string(&Line::new(event)) {
            // The receiver is gone only once the run is over.
            let _ = self.tx.send(Msg::Event(line));
        }
    }
}

/// Passphrases from `passphrase=`, asked of the waiting thread (which holds
/// the `str` or calls the callable, only when one is needed); confirmations
/// answered by `yes=`.
struct PyInteraction {
    tx: Mutex<mpsc::Sender<Msg>>,
    yes: bool,
}

impl Interaction for PyInteraction {
    fn passphrase(&self, what: &str) -> Result<Option<SecretString>, String> {
        let (reply, answer) = mpsc::channel();
        let sent = self
            .tx
            .lock()
            .map_err(|_| "cancelled".to_string())?
            .send(Msg::Passphrase(what.to_string(), reply));
        if sent.is_err() {
            return Ok(None);
        }
        answer.recv().unwrap_or(Ok(None))
    }

    fn confirm(&self, _question: &str) -> bool {
        self.yes
    }
}

/// The answer to a passphrase request: the `str`, or what the callable
/// returns (its exception is kept to propagate, and cancels the run). Never
/// the value in a message.
fn answer_passphrase(
    passphrase: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> Result<Result<Option<SecretString>, String>, PyErr> {
    let Some(p) = passphrase else {
        return Ok(Ok(None));
    };
    let value = if p.is_callable() {
        p.call1((what,))?
    } else {
        p.clone()
    };
    if value.is_none() {
        return Ok(Ok(None));
    }
    Ok(value
        .extract::<String>()
        .map(|s| Some(SecretString::from(s)))
        .map_err(|_| "passphrase= must be a str, or a callable that returns one".into()))
}

/// What a command returns: its `--json` document, and warnings to raise as
/// Python warnings (what the CLI prints on standard error after the report).
struct Outcome {
    doc: Value,
    warnings: Vec<String>,
}

impl Outcome {
    fn doc(doc: Value) -> Self {
        Outcome {
            doc,
            warnings: Vec::new(),
        }
    }
}

/// A document with `"schema"` (as the CLI's `json_doc` writes it).
fn with_schema<T: serde::Serialize>(body: &T) -> Value {
    serde_json::to_value(projectrestore::report::Doc::new(body)).unwrap_or(Value::Null)
}

/// The channel of one call, taken by its one run.
struct Pipe(Option<(mpsc::Sender<Msg>, mpsc::Receiver<Msg>)>);

impl Pipe {
    fn take(&mut self) -> PyResult<(mpsc::Sender<Msg>, mpsc::Receiver<Msg>)> {
        self.0.take().ok_or_else(|| {
            pyo3::exceptions::PyRuntimeError::new_err("internal error: one run per call")
        })
    }
}

/// A finished run: its outcome, and a Python exception that arrived after
/// the work could no longer be cancelled (Ctrl-C or a raising callback just
/// as it ended). That exception still propagates, carrying the result: the
/// caller must learn that the restore happened.
struct Finished {
    outcome: Outcome,
    late: Option<PyErr>,
}

/// Run `work` on its own thread, the GIL released, while this thread relays
/// events to `callback`, answers passphrase requests, checks signals and
/// polls `cancel_event`.
#[allow(clippy::too_many_arguments)]
fn supervise<'py>(
    py: Python<'py>,
    (tx, rx): (mpsc::Sender<Msg>, mpsc::Receiver<Msg>),
    callback: Option<&Bound<'py, PyAny>>,
    passphrase: Option<&Bound<'py, PyAny>>,
    cancel_event: Option<&Bound<'py, PyAny>>,
    cancel: &Cancel,
    work: impl FnOnce(&Channel) -> Result<Outcome, Error> + Send,
) -> PyResult<Finished> {
    let channel = Channel {
        tx,
        wanted: callback.is_some(),
        last_progress: Mutex::new(None),
        seen: Mutex::new(Seen::default()),
    };
    let json_loads = py.import("json")?.getattr("loads")?;
    let mut raised: Option<PyErr> = None;
    let handle_msg = |msg: Msg, raised: &mut Option<PyErr>| match msg {
        Msg::Event(line) => {
            if raised.is_none() {
                if let Some(cb) = callback {
                    if let Err(e) = json_loads.call1((line,)).and_then(|d| cb.call1((d,))) {
                        *raised = Some(e);
                        cancel.set();
                    }
                }
            }
        }
        Msg::Passphrase(what, reply) => {
            let answer = if raised.is_some() {
                Err("cancelled".to_string())
            } else {
                match answer_passphrase(passphrase, &what) {
                    Ok(a) => a,
                    Err(e) => {
                        *raised = Some(e);
                        cancel.set();
                        Err("the passphrase callable raised an exception".to_string())
                    }
                }
            };
            let _ = reply.send(answer);
        }
    };
    // Already cancelled: the work stops at its first check.
    if let Some(ev) = cancel_event {
        if ev.call_method0("is_set")?.is_truthy()? {
            cancel.set();
        }
    }
    let result = std::thread::scope(|s| {
        let channel = &channel;
        let handle = s.spawn(move || work(channel));
        let mut rx = rx;
        loop {
            let (back, got) = py.detach(move || {
                let got = rx.recv_timeout(Duration::from_millis(50));
                (rx, got)
            });
            rx = back;
            if let Ok(msg) = got {
                handle_msg(msg, &mut raised);
            }
            if raised.is_none() {
                if let Err(e) = py.check_signals() {
                    raised = Some(e);
                    cancel.set();
                }
            }
            if raised.is_none() {
                if let Some(ev) = cancel_event {
                    match ev.call_method0("is_set").and_then(|v| v.is_truthy()) {
                        Ok(true) => cancel.set(),
                        Ok(false) => {}
                        Err(e) => {
                            raised = Some(e);
                            cancel.set();
                        }
                    }
                }
            }
            if handle.is_finished() {
                break;
            }
        }
        // What the work sent before it finished and the last slice missed.
        while let Ok(msg) = rx.try_recv() {
            handle_msg(msg, &mut raised);
        }
        // Joined without the GIL.
        py.detach(move || handle.join())
    });
    let result = result.map_err(|_| {
        pyo3::exceptions::PyRuntimeError::new_err(
            "internal error in projectrestore (a bug, not your archive): the worker panicked",
        )
    })?;
    let seen = channel.seen.into_inner().unwrap_or_else(|p| p.into_inner());
    match (result, raised) {
        (Ok(outcome), late) => Ok(Finished { outcome, late }),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(failure(&e, &seen)),
    }
}

/// The commands `projectrestore/__init__.py` calls.
#[pyfunction]
#[pyo3(signature = (command, options, events=None, passphrase=None, cancel=None))]
fn call(
    py: Python<'_>,
    command: &str,
    options: Bound<'_, PyDict>,
    events: Option<Bound<'_, PyAny>>,
    passphrase: Option<Bound<'_, PyAny>>,
    cancel: Option<Bound<'_, PyAny>>,
) -> PyResult<(String, Vec<String>, Option<Py<PyAny>>)> {
    let mut a = Args::new(options);
    let yes = a.bool("yes")?;
    let (tx, rx) = mpsc::channel::<Msg>();
    let shared: SharedInteraction = Arc::new(PyInteraction {
        tx: Mutex::new(tx.clone()),
        yes,
    });
    let mut pipe = Pipe(Some((tx, rx)));
    let pass = passphrase.as_ref();
    let flag = Cancel::new();
    let home = env().home().map(std::path::Path::to_path_buf);
    let out = match command {
        "restore" | "verify" | "preview" | "plan" | "ls" => {
            let store = args::store(&mut a)?;
            let mut opts = args::check(&mut a)?;
            let spec = args::input(&mut a, &store)?;
            opts.cancel = flag.clone();
            let dest = a.path("to")?;
            let need = |what: &str| {
                dest.clone()
                    .ok_or_else(|| args::usage(format!("{what} needs a destination: pass to=DIR")))
            };
            match command {
                "restore" | "plan" => {
                    let dest = need(command)?;
                    opts.log = args::log(&mut a, true)?;
                    opts.keep = a.usize("keep", projectrestore::config::DEFAULT_KEEP)?;
                    opts.wait = a.bool("wait")?;
                    opts.yes = yes;
                    opts.same_owner = a.bool("same_owner")?;
                    opts.follow_dest_symlink = a.bool("follow_dest_symlink")?;
                    let paths = a.strs("paths")?;
                    let include = a.strs("include")?;
                    let exclude = a.strs("exclude")?;
                    opts.selection =
                        projectrestore::select::Selection::new(&paths, &include, &exclude)
                            .map_err(args::usage)?;
                    opts.selection.replace = a.bool("replace_with_selection")?;
                    if opts.selection.replace && opts.selection.is_all() {
                        return Err(args::usage(
                            "replace_with_selection needs a selection: paths, include or exclude"
                                .into(),
                        ));
                    }
                    let dry_run = command == "restore" && a.bool("dry_run")?;
                    opts.action = if dry_run {
                        Action::DryRun { dest }
                    } else {
                        Action::Restore { dest }
                    };
                }
                "preview" => {
                    let dest = need("preview")?;
                    opts.log = args::log(&mut a, false)?;
                    opts.action = Action::Preview {
                        dest,
                        diff: a.bool("diff")?,
                    };
                }
                "ls" => {
                    opts.log = args::log(&mut a, false)?;
                    opts.action = Action::List;
                }
                _ => {
                    opts.log = args::log(&mut a, false)?;
                    opts.action = Action::Verify;
                }
            }
            a.finish(command)?;
            opts.home = home.clone();
            let events = events.as_ref();
            let cancel = cancel.as_ref();
            supervise(py, pipe.take()?, events, pass, cancel, &flag, move |ch| {
                let mut opts = opts;
                opts.input = Some(spec.resolve()?);
                if command == "plan" {
                    return Ok(Outcome::doc(
                        serde_json::to_value(restore::plan(&opts)?).unwrap_or(Value::Null),
                    ));
                }
                if command != "restore" {
                    let report = restore::run(&opts, ch, &shared)?;
                    return Ok(Outcome::doc(
                        serde_json::to_value(&report).unwrap_or(Value::Null),
                    ));
                }
                let prepared = restore::prepare(&opts)?;
                let report = prepared.execute(ch, &shared)?;
                let mut out = Outcome::doc(serde_json::to_value(&report).unwrap_or(Value::Null));
                if let Err(e) = prepared.after(ch) {
                    out.warnings.push(format!(
                        "restored, but removing generations beyond keep={} failed: {}; the next restore retries",
                        opts.keep,
                        e.message()
                    ));
                }
                Ok(out)
            })?
        }
        "list_backups" => {
            let store = args::store(&mut a)?;
            let dir = a
                .any_path("backup_dir")?
                .unwrap_or_else(|| projectrestore::discover::default_backup_dir(home.as_deref()));
            let pattern = a
                .str("pattern")?
                .unwrap_or_else(|| projectrestore::discover::DEFAULT_PATTERN.into());
            a.finish(command)?;
            supervise(py, pipe.take()?, None, pass, cancel.as_ref(), &flag, |_| {
                let list = projectrestore::source::object::catalog(&dir, &store)?.list(&pattern)?;
                Ok(Outcome::doc(with_schema(&json!({ "archives": list }))))
            })?
        }
        "history" | "rollback" | "recover" | "prune" => {
            let dest = a
                .path("dest")?
                .ok_or_else(|| args::usage(format!("{command} needs the restored directory")))?;
            match command {
                "history" => {
                    a.finish(command)?;
                    supervise(py, pipe.take()?, None, pass, None, &flag, |_| {
                        let h = projectrestore::history::history(&dest)?;
                        Ok(Outcome::doc(
                            serde_json::to_value(&h).unwrap_or(Value::Null),
                        ))
                    })?
                }
                "recover" => {
                    a.finish(command)?;
                    supervise(py, pipe.take()?, None, pass, None, &flag, |_| {
                        let r = projectrestore::commit::recover_dir(&dest).map_err(Error::from)?;
                        Ok(Outcome::doc(with_schema(
                            &projectrestore::report::Recovered::new(&dest, &r, &[]),
                        )))
                    })?
                }
                "rollback" => {
                    let target = match (a.str("generation")?, a.str("before")?) {
                        (Some(_), Some(_)) => {
                            return Err(args::usage("give generation or before, not both".into()))
                        }
                        (Some(g), None) => projectrestore::history::Target::Generation(g),
                        (None, Some(b)) => projectrestore::history::Target::before(&b)
                            .map_err(|e| failure(&e, &Seen::default()))?,
                        (None, None) => projectrestore::history::Target::Previous,
                    };
                    let keep = a.usize("keep", projectrestore::config::DEFAULT_KEEP)?;
                    let wait = a.bool("wait")?;
                    a.finish(command)?;
                    let events = events.as_ref();
                    supervise(py, pipe.take()?, events, pass, None, &flag, |ch| {
                        // Calling rollback() is the confirmation.
                        let r = projectrestore::history::rollback(
                            &dest,
                            &target,
                            keep,
                            wait,
                            true,
                            shared.as_ref(),
                            ch,
                        )?;
                        Ok(Outcome::doc(
                            serde_json::to_value(&r).unwrap_or(Value::Null),
                        ))
                    })?
                }
                _ => {
                    let keep = a.int("keep")?.map(|k| k as usize);
                    let older = match a.str("older_than")? {
                        Some(t) => Some(humantime::parse_duration(&t).map_err(|e| {
                            args::usage(format!("older_than: {e} (use e.g. 30days, 2weeks, 12h)"))
                        })?),
                        None => None,
                    };
                    let wait = a.bool("wait")?;
                    a.finish(command)?;
                    supervise(py, pipe.take()?, None, pass, None, &flag, |ch| {
                        let r = projectrestore::history::prune(&dest, keep, older, wait, ch)?;
                        Ok(Outcome::doc(
                            serde_json::to_value(&r).unwrap_or(Value::Null),
                        ))
                    })?
                }
            }
        }
        "log_verify" | "log_prove" | "log_append" => log_command(
            py,
            command,
            a,
            &flag,
            &mut pipe,
            (events.as_ref(), pass, cancel.as_ref()),
            shared,
        )?,
        "sha256" => {
            let path = a
                .any_path("path")?
                .ok_or_else(|| args::usage("compute_sha256 needs a path".into()))?;
            a.finish(command)?;
            supervise(py, pipe.take()?, None, pass, cancel.as_ref(), &flag, |_| {
                Ok(Outcome::doc(json!(projectrestore::source::sha256_file(
                    &path, &flag
                )?)))
            })?
        }
        "checksum_matches" => {
            let archive = a
                .any_path("archive")?
                .ok_or_else(|| args::usage("an archive is needed".into()))?;
            let file = a
                .path("checksum_file")?
                .ok_or_else(|| args::usage("a checksum file is needed".into()))?;
            a.finish(command)?;
            supervise(py, pipe.take()?, None, pass, cancel.as_ref(), &flag, |_| {
                let name = archive
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                let expected = projectrestore::verify::checksum::load(&file, name.as_deref())?;
                let actual = projectrestore::source::sha256_file(&archive, &flag)?;
                Ok(Outcome::doc(json!(expected.sha256 == actual)))
            })?
        }
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown command {other:?}"
            )))
        }
    };
    let late = out.late.map(|e| e.into_value(py).into_any());
    Ok((out.outcome.doc.to_string(), out.outcome.warnings, late))
}

/// The caller's `events=`, `passphrase=` and `cancel=`.
type Hooks<'a, 'py> = (
    Option<&'a Bound<'py, PyAny>>,
    Option<&'a Bound<'py, PyAny>>,
    Option<&'a Bound<'py, PyAny>>,
);

/// `log_verify`, `log_prove` and `log_append`.
fn log_command(
    py: Python<'_>,
    command: &str,
    mut a: Args<'_>,
    flag: &Cancel,
    pipe: &mut Pipe,
    (events, pass, cancel): Hooks<'_, '_>,
    shared: SharedInteraction,
) -> PyResult<Finished> {
    use projectrestore::log::{self, Log};
    let dir: PathBuf = a
        .path("log")?
        .ok_or_else(|| args::usage(format!("{command} needs the log directory")))?;
    let pinned = |vkey: &Option<String>| vkey.as_deref().map(log::load_vkey).transpose();
    match command {
        "log_verify" => {
            let checkpoint = a.path("checkpoint")?;
            let vkey = a.str("vkey")?;
            a.finish("log_verify")?;
            supervise(py, pipe.take()?, None, pass, cancel, flag, |_| {
                let report = log::verify_dir(&dir, vkey.as_deref(), checkpoint.as_deref())?;
                Ok(Outcome::doc(with_schema(&report)))
            })
        }
        "log_prove" => {
            let archive = a.any_path("archive")?;
            let index = a.int("index")?;
            let tlog_proof = a.path("tlog_proof")?;
            let vkey = a.str("vkey")?;
            a.finish("log_prove")?;
            supervise(py, pipe.take()?, None, pass, cancel, flag, |_| {
                let l = Log::open(&dir, pinned(&vkey)?)?;
                let index = match (index, archive) {
                    (Some(i), _) => i,
                    (None, Some(p)) => log::index_of(&l, &dir, &p.to_string_lossy(), flag)?,
                    (None, None) => {
                        return Err(Error::Usage(
                            "log_prove needs an archive (file or SHA-256) or index=".into(),
                        ))
                    }
                };
                let proof = l.prove(index)?;
                if let Some(path) = &tlog_proof {
                    log::write_tlog_proof(&proof, path)?;
                }
                Ok(Outcome::doc(with_schema(&proof)))
            })
        }
        _ => {
            let key = a.path("key")?.ok_or_else(|| {
                args::usage("log_append needs the log's signing key: key=FILE".into())
            })?;
            let store = args::store(&mut a)?;
            let mut opts = args::check(&mut a)?;
            let spec = args::input(&mut a, &store)?;
            let project = a.str("project")?;
            a.finish("log_append")?;
            opts.cancel = flag.clone();
            supervise(py, pipe.take()?, events, pass, cancel, flag, move |ch| {
                let mut opts = opts;
                opts.input = Some(spec.resolve()?);
                let signer = log::load_signer(&key)?;
                let l = Log::open(&dir, Some(signer.verifier()))?;
                let out = log::anchor::append_verified(
                    &l,
                    &signer,
                    &opts,
                    project.as_deref(),
                    ch,
                    &shared,
                )?;
                Ok(Outcome::doc(with_schema(&out)))
            })
        }
    }
}

#[pymodule]
fn _projectrestore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Failure", m.py().get_type::<Failure>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The `schema` of the event lines (`--events`) and of the documents.
    m.add("SCHEMA", projectrestore::report::SCHEMA)?;
    m.add_function(wrap_pyfunction!(call, m)?)?;
    Ok(())
}

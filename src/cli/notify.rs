//! `--notify`, `--notify-secret-file`, `--notify-on` and `[[notify]]`: the
//! targets, read once before anything runs (so a bad target is a usage error
//! before a restore starts), and told the outcome once it is final. A
//! delivery that fails is a warning and a `notifications` entry, never an
//! exit code.

use std::path::Path;

use projectrestore::config::Config;
use projectrestore::notify::{Context, Delivery, EventFilter, Kind, Notice, Target};
use projectrestore::Error;
use secrecy::SecretString;

use super::NotifyArgs;

/// The first line of `path` (a URL or a secret), kept secret. Errors name
/// the flag, not the path: a secret given where its file was meant must not
/// be echoed.
fn first_line(path: &Path, what: &str) -> Result<SecretString, Error> {
    use secrecy::ExposeSecret;
    let line = projectrestore::source::open_regular(path)
        .and_then(super::interact::first_line)
        .map_err(|e| {
            Error::Usage(format!(
                "cannot read the file given as {what}: {}",
                e.kind()
            ))
        })?;
    let trimmed = line.expose_secret().trim();
    if trimmed.is_empty() {
        return Err(Error::Usage(format!("the file given as {what} is empty")));
    }
    Ok(SecretString::from(trimmed.to_string()))
}

/// `[KIND=]URL`, `[KIND=]file:PATH`, `[KIND=]env:NAME`.
fn parse_arg(arg: &str) -> Result<(Option<Kind>, SecretString), Error> {
    let (kind, rest) = match arg.split_once('=') {
        Some((k, r)) if Kind::parse(k).is_some() => (Kind::parse(k), r),
        _ => (None, arg),
    };
    let url = if let Some(p) = rest.strip_prefix("file:") {
        first_line(Path::new(p), "--notify file:")?
    } else if let Some(name) = rest.strip_prefix("env:") {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => SecretString::from(v.trim().to_string()),
            _ => {
                return Err(Error::Usage(format!(
                    "--notify env:{name}: the variable is not set"
                )))
            }
        }
    } else {
        SecretString::from(rest.to_string())
    };
    Ok((kind, url))
}

/// The command a failure is told under (`restore`, …), and whether it was a dry run.
pub type Told = Option<(&'static str, bool)>;

/// A warning on stderr for each delivery that failed.
fn warn(deliveries: &[Delivery]) {
    for d in deliveries.iter().filter(|d| d.status != "delivered") {
        eprintln!(
            "warning: the {} notification to {} was not delivered ({} attempt{}): {}; the {} itself is unaffected",
            d.event,
            d.target,
            d.attempts,
            if d.attempts == 1 { "" } else { "s" },
            d.error.as_deref().unwrap_or(d.status),
            d.event.split('.').next().unwrap_or("run"),
        );
    }
}

/// Where one command's outcome is told.
pub struct Notifier {
    targets: std::sync::Arc<Vec<Target>>,
    pub ctx: Context,
    /// Ctrl-C and SIGTERM end the waiting too.
    cancel: projectrestore::source::Cancel,
    /// One budget for the whole run, from its first notification.
    deadline: std::sync::OnceLock<std::time::Instant>,
    /// A `restore.started` on its way (told beside the restore, never
    /// holding it up), joined before the outcome is told.
    started: std::sync::Mutex<Option<std::thread::JoinHandle<Vec<Delivery>>>>,
}

/// A URL or path as a notification shows it: escaped, without a query.
fn shown(p: &Path) -> String {
    let text = p.display().to_string();
    let text = if projectrestore::source::is_store_url(&text) {
        text.split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        text
    };
    projectrestore::report::escape(&text)
}

impl Notifier {
    /// The targets of the flags and of the settings' `[[notify]]` tables.
    pub fn new(
        args: &NotifyArgs,
        config: &Config,
        cancel: projectrestore::source::Cancel,
    ) -> Result<Self, Error> {
        let usage = |e: projectrestore::notify::NotifyError| Error::Usage(e.to_string());
        let filter = match &args.notify_on {
            Some(t) => EventFilter::parse(t).map_err(usage)?,
            None => EventFilter::default(),
        };
        let secret = args
            .notify_secret_file
            .as_deref()
            .map(|p| first_line(p, "--notify-secret-file"))
            .transpose()?;
        let mut targets = Vec::new();
        for a in &args.notify {
            let (kind, url) = parse_arg(a)?;
            targets.push(Target::new(kind, url, secret.clone(), filter.clone()).map_err(usage)?);
        }
        for n in config.merged().notify.unwrap_or_default() {
            let kind = match &n.kind {
                Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                    Error::Usage(format!(
                        "[[notify]] kind = {k:?}: use webhook, slack, discord or healthchecks"
                    ))
                })?),
                None => None,
            };
            let url = match (&n.url, &n.url_file) {
                (Some(u), None) => SecretString::from(u.clone()),
                (None, Some(f)) => first_line(f, "url_file of [[notify]]")?,
                _ => {
                    return Err(Error::Usage(
                        "[[notify]] needs url or url_file (one of them)".into(),
                    ))
                }
            };
            let secret = n
                .secret_file
                .as_deref()
                .map(|p| first_line(p, "secret_file of [[notify]]"))
                .transpose()?
                .or_else(|| secret.clone());
            let filter = match &n.events {
                Some(e) => EventFilter::parse(&e.join(",")).map_err(usage)?,
                None => filter.clone(),
            };
            targets.push(Target::new(kind, url, secret, filter).map_err(usage)?);
        }
        Ok(Notifier::with(targets, cancel))
    }

    /// A notifier for `targets` (none: one that tells nothing).
    fn with(targets: Vec<Target>, cancel: projectrestore::source::Cancel) -> Self {
        Notifier {
            targets: std::sync::Arc::new(targets),
            ctx: Context {
                id: projectrestore::notify::new_id(),
                started: Some(std::time::Instant::now()),
                ..Context::default()
            },
            cancel,
            deadline: std::sync::OnceLock::new(),
            started: std::sync::Mutex::new(None),
        }
    }

    /// The notifier of `command` (no targets for commands without
    /// `--notify`), and the command name and dry-run flag its failure is
    /// told under.
    pub fn for_command(
        command: &super::Command,
        config: &Config,
        cancel: projectrestore::source::Cancel,
    ) -> Result<(Self, Told), Error> {
        use super::Command;
        let (args, told, archive, dest, threshold) = match command {
            Command::Restore(a) => (
                &a.notify,
                Some(("restore", a.dry_run)),
                a.target.archive.as_deref().map(shown),
                a.target.to.as_deref().map(shown),
                a.target.check.threshold,
            ),
            Command::Verify(a) => (
                &a.notify,
                Some(("verify", false)),
                Some(shown(&a.archive)),
                None,
                a.check.threshold,
            ),
            Command::Ls(a) => (
                &a.verify.notify,
                Some(("verify", false)),
                Some(shown(&a.verify.archive)),
                None,
                a.verify.check.threshold,
            ),
            Command::Rollback(a) => (
                &a.notify,
                Some(("rollback", false)),
                None,
                a.dir.as_deref().map(shown),
                1,
            ),
            Command::Audit(a) => (
                &a.notify,
                Some(("audit", false)),
                a.backup_dir.as_deref().map(shown),
                None,
                a.threshold,
            ),
            Command::Recover(a) => (
                &a.notify,
                Some(("recover", false)),
                None,
                Some(shown(&a.dir)),
                1,
            ),
            _ => return Ok((Notifier::with(Vec::new(), cancel), None)),
        };
        let mut n = Notifier::new(args, config, cancel)?;
        n.ctx.archive = archive;
        n.ctx.destination = dest;
        n.ctx.threshold = threshold;
        Ok((n, told))
    }

    fn deadline(&self) -> std::time::Instant {
        *self
            .deadline
            .get_or_init(|| std::time::Instant::now() + projectrestore::notify::BUDGET)
    }

    /// Tell `restore.started` to the targets that want it, beside the run.
    pub fn start(&self, dry_run: bool) {
        let notice = Notice::started(&self.ctx, dry_run);
        if !self.targets.iter().any(|t| t.wants(&notice.ty, dry_run)) {
            return;
        }
        let (targets, deadline, cancel) =
            (self.targets.clone(), self.deadline(), self.cancel.clone());
        let handle = std::thread::spawn(move || {
            projectrestore::notify::send(&targets, &notice, deadline, &cancel)
        });
        if let Ok(mut s) = self.started.lock() {
            *s = Some(handle);
        }
    }

    /// The `restore.started` deliveries, once done (warned about if failed).
    fn join_started(&self) -> Vec<Delivery> {
        let handle = self.started.lock().ok().and_then(|mut s| s.take());
        let out = handle.and_then(|h| h.join().ok()).unwrap_or_default();
        warn(&out);
        out
    }

    /// An audit that found failing archives.
    pub fn audit_failed<T: serde::Serialize>(&self, report: &T) -> Vec<Delivery> {
        if !self.any() {
            return Vec::new();
        }
        let value = serde_json::to_value(report).unwrap_or_default();
        self.tell(&Notice::audit_failed(&self.ctx, &value))
    }

    /// Are there targets at all?
    pub fn any(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Tell `notice` (after any `restore.started` is done, so a receiver
    /// hears them in order); deliveries that failed are warned about.
    pub fn tell(&self, notice: &Notice) -> Vec<Delivery> {
        if self.targets.is_empty() {
            return Vec::new();
        }
        let mut out = self.join_started();
        let now =
            projectrestore::notify::send(&self.targets, notice, self.deadline(), &self.cancel);
        warn(&now);
        out.extend(now);
        out
    }

    /// A success of `command`, from its `--json` document.
    pub fn succeeded<T: serde::Serialize>(&self, command: &str, report: &T) -> Vec<Delivery> {
        if !self.any() {
            return Vec::new();
        }
        let value = serde_json::to_value(report).unwrap_or_default();
        self.tell(&Notice::succeeded(command, &self.ctx, &value))
    }

    /// A failure of `command`.
    pub fn failed(&self, command: &str, e: &Error, dry_run: bool) {
        if self.any() {
            self.tell(&Notice::failed(command, &self.ctx, e, dry_run));
        }
    }
}

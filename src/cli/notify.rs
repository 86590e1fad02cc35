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

/// The first line of `path` (a URL or a secret), kept secret.
fn first_line(path: &Path, what: &str) -> Result<SecretString, Error> {
    use std::io::Read;
    let mut text = String::new();
    projectrestore::source::open_regular(path)
        .and_then(|f| f.take(64 << 10).read_to_string(&mut text))
        .map_err(|e| {
            Error::Usage(format!(
                "cannot read the {what} file {}: {e}",
                path.display()
            ))
        })?;
    let line = text.lines().next().unwrap_or_default().trim().to_string();
    zeroize::Zeroize::zeroize(&mut text);
    if line.is_empty() {
        return Err(Error::Usage(format!(
            "the {what} file {} is empty",
            path.display()
        )));
    }
    Ok(SecretString::from(line))
}

/// `[KIND=]URL`, `[KIND=]file:PATH`, `[KIND=]env:NAME`.
fn parse_arg(arg: &str) -> Result<(Option<Kind>, SecretString), Error> {
    let (kind, rest) = match arg.split_once('=') {
        Some((k, r)) if Kind::parse(k).is_some() => (Kind::parse(k), r),
        _ => (None, arg),
    };
    let url = if let Some(p) = rest.strip_prefix("file:") {
        first_line(Path::new(p), "notification URL")?
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

/// Where one command's outcome is told.
pub struct Notifier {
    targets: std::sync::Arc<Vec<Target>>,
    pub ctx: Context,
}

/// A `restore.started` notification on its way (told beside the restore,
/// never holding it up).
pub struct Started(Option<std::thread::JoinHandle<Vec<Delivery>>>);

impl Started {
    /// Its deliveries, once done.
    pub fn join(self) -> Vec<Delivery> {
        self.0.and_then(|h| h.join().ok()).unwrap_or_default()
    }
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
    pub fn new(args: &NotifyArgs, config: &Config) -> Result<Self, Error> {
        let usage = |e: projectrestore::notify::NotifyError| Error::Usage(e.to_string());
        let filter = match &args.notify_on {
            Some(t) => EventFilter::parse(t).map_err(usage)?,
            None => EventFilter::default(),
        };
        let secret = args
            .notify_secret_file
            .as_deref()
            .map(|p| first_line(p, "notification secret"))
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
                (None, Some(f)) => first_line(f, "notification URL")?,
                _ => {
                    return Err(Error::Usage(
                        "[[notify]] needs url or url_file (one of them)".into(),
                    ))
                }
            };
            let secret = n
                .secret_file
                .as_deref()
                .map(|p| first_line(p, "notification secret"))
                .transpose()?
                .or_else(|| secret.clone());
            let filter = match &n.events {
                Some(e) => EventFilter::parse(&e.join(",")).map_err(usage)?,
                None => filter.clone(),
            };
            targets.push(Target::new(kind, url, secret, filter).map_err(usage)?);
        }
        Ok(Notifier {
            targets: std::sync::Arc::new(targets),
            ctx: Context {
                id: projectrestore::notify::new_id(),
                started: Some(std::time::Instant::now()),
                ..Context::default()
            },
        })
    }

    /// The notifier of `command` (no targets for commands without
    /// `--notify`), and the command name and dry-run flag its failure is
    /// told under.
    pub fn for_command(command: &super::Command, config: &Config) -> Result<(Self, Told), Error> {
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
            _ => return Ok((Notifier::empty(), None)),
        };
        let mut n = Notifier::new(args, config)?;
        n.ctx.archive = archive;
        n.ctx.destination = dest;
        n.ctx.threshold = threshold;
        Ok((n, told))
    }

    fn empty() -> Self {
        Notifier {
            targets: std::sync::Arc::new(Vec::new()),
            ctx: Context::default(),
        }
    }

    /// Tell `restore.started` to the targets that want it, beside the run.
    pub fn start(&self, dry_run: bool) -> Started {
        let notice = Notice::started(&self.ctx, dry_run);
        if !self.targets.iter().any(|t| t.wants(&notice.ty, dry_run)) {
            return Started(None);
        }
        let targets = self.targets.clone();
        Started(Some(std::thread::spawn(move || {
            projectrestore::notify::send(&targets, &notice)
        })))
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

    /// Tell `notice`; deliveries that failed are warned about on stderr.
    pub fn tell(&self, notice: &Notice) -> Vec<Delivery> {
        if self.targets.is_empty() {
            return Vec::new();
        }
        let out = projectrestore::notify::send(&self.targets, notice);
        for d in out.iter().filter(|d| d.status != "delivered") {
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

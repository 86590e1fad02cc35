//! Notifications: what happened, told to a webhook, Slack, Discord or a
//! healthchecks service once the outcome is final.
//!
//! A front end builds [`Target`]s (from `--notify` and `[[notify]]`), a
//! [`Notice`] from the finished report or the failure, and calls [`send`]. It
//! is never called from inside the pipeline: a success is told only after the
//! swap is durable, and delivery can neither change the exit code nor touch the
//! tree. Each target gets at most [`MAX_ATTEMPTS`] attempts of at most
//! [`ATTEMPT_TIMEOUT`] each, with backoff and jitter, `Retry-After` honoured,
//! within a total [`BUDGET`]; what happened is a [`Delivery`] for the report.
//!
//! - Generic webhooks follow the Standard Webhooks specification: headers
//!   `webhook-id` (the same on retries), `webhook-timestamp` and
//!   `webhook-signature` (`v1,` + base64 HMAC-SHA256 over
//!   `id.timestamp.body`, the key being the base64 after `whsec_`), and the
//!   body `{type, timestamp, data}`.
//! - Slack (incoming webhooks: `text` and `blocks`), Discord (`content` and
//!   `embeds` within Discord's limits, `?wait=true`, no mentions) and
//!   healthchecks (`/start`, the bare URL, `/fail`, the summary as body).
//! - URLs and secrets are [`SecretString`]s: a target is shown only as its kind
//!   and host, and errors are told without their URL.

use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{json, Value};

/// Attempts per target.
pub const MAX_ATTEMPTS: u32 = 3;
/// One attempt's limit (connecting, sending, the answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// All attempts to one target, waits included.
pub const BUDGET: Duration = Duration::from_secs(30);

/// The event types a notification is for.
pub const EVENT_TYPES: [&str; 10] = [
    "restore.started",
    "restore.succeeded",
    "restore.failed",
    "rollback.succeeded",
    "rollback.failed",
    "verify.failed",
    "audit.succeeded",
    "audit.failed",
    "recover.succeeded",
    "recover.failed",
];

/// A target or its settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification target: {0}")]
    Target(String),
    #[error("--notify-on: {0}")]
    Events(String),
}

/// What receives a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Webhook,
    Slack,
    Discord,
    Healthchecks,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Discord => "discord",
            Kind::Healthchecks => "healthchecks",
        }
    }

    /// `webhook`, `slack`, `discord`, `healthchecks`.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "webhook" => Kind::Webhook,
            "slack" => Kind::Slack,
            "discord" => Kind::Discord,
            "healthchecks" => Kind::Healthchecks,
            _ => return None,
        })
    }

    /// The kind a URL's host says (`hooks.slack.com`, Discord's
    /// `/api/webhooks/`, `hc-ping.com`), else a generic webhook.
    fn of(url: &url::Url) -> Kind {
        let host = url.host_str().unwrap_or_default();
        if host == "hooks.slack.com" {
            Kind::Slack
        } else if (host == "discord.com"
            || host.ends_with(".discord.com")
            || host == "discordapp.com")
            && url.path().starts_with("/api/webhooks/")
        {
            Kind::Discord
        } else if host == "hc-ping.com" || host.ends_with(".hc-ping.com") {
            Kind::Healthchecks
        } else {
            Kind::Webhook
        }
    }
}

/// Which event types a target is told: each word is a type
/// (`restore.started`), or the part after its dot (`succeeded`, `failed`,
/// `started`); `dry-run` also tells dry runs, which are otherwise silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    words: Vec<String>,
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            words: vec!["succeeded".into(), "failed".into()],
        }
    }
}

impl EventFilter {
    /// A comma-separated list (`succeeded,failed`, `restore.started,failed`).
    pub fn parse(text: &str) -> Result<Self, NotifyError> {
        let words: Vec<String> = text
            .split(',')
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        for w in &words {
            let known = w == "dry-run"
                || EVENT_TYPES.contains(&w.as_str())
                || EVENT_TYPES
                    .iter()
                    .any(|t| t.split('.').nth(1) == Some(w.as_str()));
            if !known {
                return Err(NotifyError::Events(format!(
                    "unknown event {w:?}; the types are {}, or their last part (succeeded, failed, started), and dry-run",
                    EVENT_TYPES.join(", ")
                )));
            }
        }
        if words.is_empty() {
            return Err(NotifyError::Events("no event named".into()));
        }
        Ok(EventFilter { words })
    }

    /// Does this filter take `ty` (`restore.failed`), of a dry run or not?
    pub fn wants(&self, ty: &str, dry_run: bool) -> bool {
        if dry_run && !self.words.iter().any(|w| w == "dry-run") {
            return false;
        }
        let last = ty.split('.').nth(1).unwrap_or(ty);
        self.words.iter().any(|w| w == ty || w == last)
    }
}

/// Where one notification goes.
#[derive(Clone)]
pub struct Target {
    kind: Kind,
    /// Checked once, by [`Target::new`]; never shown (the Debug below, the
    /// label) and never in an error (`without_url`).
    url: url::Url,
    secret: Option<zeroize::Zeroizing<Vec<u8>>>,
    filter: EventFilter,
    label: String,
}

impl std::fmt::Debug for Target {
    /// Never the URL or the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("label", &self.label)
            .finish()
    }
}

impl Target {
    /// A target for `url` (its kind from `kind`, else from the host), signed
    /// with `secret` (`whsec_…`; generic webhooks need one), told `filter`'s
    /// events. `https://` only, except to a loopback address.
    pub fn new(
        kind: Option<Kind>,
        url: SecretString,
        secret: Option<SecretString>,
        filter: EventFilter,
    ) -> Result<Self, NotifyError> {
        let parsed = url::Url::parse(url.expose_secret().trim())
            .map_err(|e| NotifyError::Target(format!("not a URL ({e}); give https://HOST/PATH")))?;
        let kind = kind.unwrap_or_else(|| Kind::of(&parsed));
        if !matches!(parsed.scheme(), "https" | "http") {
            // Nothing of the text is echoed: it may come from a file.
            return Err(NotifyError::Target(format!(
                "a {} target must be an https:// URL",
                kind.name()
            )));
        }
        let host = parsed.host_str().unwrap_or_default().to_string();
        let label = match parsed.port() {
            Some(p) => format!("{} {host}:{p}", kind.name()),
            None => format!("{} {host}", kind.name()),
        };
        if parsed.scheme() == "http" && !crate::source::is_loopback(&parsed) {
            return Err(NotifyError::Target(format!(
                "{label}: http:// is allowed only to a loopback address; use https://"
            )));
        }
        if parsed.username() != "" || parsed.password().is_some() {
            return Err(NotifyError::Target(format!(
                "{label}: credentials in the URL are not sent; a webhook is signed with --notify-secret-file"
            )));
        }
        let secret = match secret {
            Some(s) => {
                let text = s.expose_secret().trim();
                let b64 = text.strip_prefix("whsec_").ok_or_else(|| {
                    NotifyError::Target(format!(
                        "{label}: the signing secret must be in the whsec_BASE64 form"
                    ))
                })?;
                let key = B64.decode(b64).map_err(|_| {
                    NotifyError::Target(format!(
                        "{label}: the signing secret after whsec_ is not base64"
                    ))
                })?;
                if key.len() < 16 {
                    return Err(NotifyError::Target(format!(
                        "{label}: the signing secret is shorter than 16 bytes"
                    )));
                }
                Some(zeroize::Zeroizing::new(key))
            }
            None => None,
        };
        if kind == Kind::Webhook && secret.is_none() {
            return Err(NotifyError::Target(format!(
                "{label}: a webhook is signed (Standard Webhooks): give its whsec_ secret with --notify-secret-file FILE (or secret_file in [[notify]])"
            )));
        }
        Ok(Target {
            kind,
            url: parsed,
            secret,
            filter,
            label,
        })
    }

    /// Kind and host: what the report and messages show.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Is this target told `ty`?
    pub fn wants(&self, ty: &str, dry_run: bool) -> bool {
        self.filter.wants(ty, dry_run)
    }
}

pub use crate::report::Delivery;

/// What a notification tells.
#[derive(Debug, Clone)]
pub struct Notice {
    /// `restore.succeeded`, ….
    pub ty: String,
    /// The Standard Webhooks `data` object.
    pub data: Value,
    /// Of a dry run (told only where `dry-run` is asked for).
    pub dry_run: bool,
}

/// Where a notice's facts come from besides the report.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The run's id (also in `data.id`).
    pub id: String,
    pub archive: Option<String>,
    pub destination: Option<String>,
    pub threshold: usize,
    pub started: Option<Instant>,
}

/// A fresh id: 16 random bytes in hex.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::getrandom(&mut b);
    hex::encode(b)
}

fn host() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

fn base(ctx: &Context) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(ctx.id));
    m.insert("host".into(), json!(host()));
    m.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("archive".into(), json!(ctx.archive));
    m.insert("destination".into(), json!(ctx.destination));
    if let Some(t) = ctx.started {
        m.insert("duration_ms".into(), json!(t.elapsed().as_millis() as u64));
    }
    m
}

/// `scheme:KEY` signers as `{scheme, key}`.
fn signers(report: &Value) -> Vec<Value> {
    report["signatures"]["outcome"]["signers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| match s.split_once(':') {
                    Some((scheme, key)) => json!({"scheme": scheme, "key": key}),
                    None => json!({"scheme": null, "key": s}),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Notice {
    /// `restore.started`: what is about to be restored.
    pub fn started(ctx: &Context, dry_run: bool) -> Self {
        let mut m = base(ctx);
        m.insert("dry_run".into(), json!(dry_run));
        Notice {
            ty: "restore.started".into(),
            data: Value::Object(m),
            dry_run,
        }
    }

    /// A success of `command` (`restore`, `rollback`, `audit`, `recover`)
    /// from its `--json` document.
    pub fn succeeded(command: &str, ctx: &Context, report: &Value) -> Self {
        let mut m = base(ctx);
        let summary = &report["summary"];
        let entries: u64 = ["files", "dirs", "symlinks", "hardlinks"]
            .iter()
            .filter_map(|k| summary[k].as_u64())
            .sum();
        let take = |m: &mut serde_json::Map<String, Value>, k: &str, v: &Value| {
            if !v.is_null() {
                m.insert(k.into(), v.clone());
            }
        };
        take(&mut m, "archive", &report["archive"]);
        take(&mut m, "destination", &report["destination"]);
        take(&mut m, "sha256", &report["sha256"]);
        take(&mut m, "size", &report["size"]);
        m.insert("signers".into(), json!(signers(report)));
        m.insert("threshold".into(), json!(ctx.threshold.max(1)));
        take(
            &mut m,
            "replaced_generation",
            &report["replaced_generation"],
        );
        take(&mut m, "generation", &report["from_generation"]);
        if summary.is_object() {
            m.insert("entries".into(), json!(entries));
            take(&mut m, "bytes", &summary["bytes"]);
        }
        take(
            &mut m,
            "archives",
            &report["archives"]
                .as_array()
                .map(|a| json!(a.len()))
                .unwrap_or(Value::Null),
        );
        take(&mut m, "failed", &report["failed"]);
        take(&mut m, "swap", &report["swap"]);
        if let Some(d) = report["duration_ms"].as_u64() {
            m.insert("duration_ms".into(), json!(d));
        }
        let warnings: Vec<Value> = report["warnings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|w| w.get("message").cloned().unwrap_or_else(|| w.clone()))
                    .collect()
            })
            .unwrap_or_default();
        m.insert("warnings".into(), json!(warnings));
        let dry_run = report["dry_run"].as_bool().unwrap_or(false);
        m.insert("dry_run".into(), json!(dry_run));
        Notice {
            ty: format!("{command}.succeeded"),
            data: Value::Object(m),
            dry_run,
        }
    }

    /// A failure of `command`: its stage (the exit-code class), exit code,
    /// message and hint.
    pub fn failed(command: &str, ctx: &Context, e: &crate::Error, dry_run: bool) -> Self {
        let mut m = base(ctx);
        m.insert("stage".into(), json!(e.category()));
        m.insert("exit_code".into(), json!(e.exit_code()));
        m.insert("message".into(), json!(e.message()));
        m.insert("hint".into(), json!(e.hint()));
        m.insert("threshold".into(), json!(ctx.threshold.max(1)));
        m.insert("dry_run".into(), json!(dry_run));
        Notice {
            ty: format!("{command}.failed"),
            data: Value::Object(m),
            dry_run,
        }
    }

    /// An `audit` that found failing archives (exit 4, no error value).
    pub fn audit_failed(ctx: &Context, report: &Value) -> Self {
        let mut n = Notice::succeeded("audit", ctx, report);
        n.ty = "audit.failed".into();
        if let Value::Object(m) = &mut n.data {
            m.insert("exit_code".into(), json!(4));
            m.insert(
                "hint".into(),
                json!("an archive did not verify: run `projectrestore audit` to see which, and do not restore it"),
            );
        }
        n
    }

    fn failed_ty(&self) -> bool {
        self.ty.ends_with(".failed")
    }

    fn text(&self, k: &str) -> Option<String> {
        match &self.data[k] {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            v => Some(v.to_string()),
        }
    }

    /// One line a person reads at a glance.
    pub fn headline(&self) -> String {
        let (what, outcome) = self.ty.split_once('.').unwrap_or((&self.ty, ""));
        let subject = self
            .text("archive")
            .map(|a| a.rsplit('/').next().unwrap_or(&a).to_string())
            .unwrap_or_else(|| "-".into());
        let on = self.text("host").unwrap_or_default();
        let verdict = match outcome {
            "succeeded" => "succeeded",
            "failed" => "FAILED",
            "started" => "started",
            o => o,
        };
        let dry = if self.dry_run {
            " (dry run: nothing was changed)"
        } else {
            ""
        };
        format!("projectrestore {what} of {subject} {verdict} on {on}{dry}")
    }

    /// The facts as (name, value) rows.
    fn rows(&self) -> Vec<(&'static str, String)> {
        let mut rows = Vec::new();
        if let Some(p) = self
            .text("archive")
            .and_then(|a| crate::log::project_of(None, a.rsplit('/').next().unwrap_or(&a), None))
        {
            rows.push(("Project", p));
        }
        for (name, key) in [("Archive", "archive"), ("Destination", "destination")] {
            if let Some(v) = self.text(key) {
                rows.push((name, v));
            }
        }
        let signers: Vec<String> = self.data["signers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        format!(
                            "{}:{}",
                            s["scheme"].as_str().unwrap_or("?"),
                            s["key"].as_str().unwrap_or("?")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !signers.is_empty() {
            rows.push(("Signed by", signers.join(", ")));
        }
        if let Some(d) = self.data["duration_ms"].as_u64() {
            rows.push(("Duration", format!("{:.1} s", d as f64 / 1000.0)));
        }
        if let Some(n) = self.data["entries"].as_u64() {
            rows.push(("Entries", n.to_string()));
        }
        if self.failed_ty() {
            if let Some(m) = self.text("message") {
                rows.push(("Error", m));
            }
            if let Some(c) = self.data["exit_code"].as_u64() {
                rows.push(("Exit code", c.to_string()));
            }
        }
        rows
    }

    /// What to do, on a failure.
    fn advice(&self) -> Option<String> {
        self.failed_ty().then(|| {
            self.text("hint")
                .unwrap_or_else(|| "see the command's output for what failed".into())
        })
    }

    /// The plain-text summary (healthchecks' body).
    pub fn summary(&self) -> String {
        let mut s = self.headline();
        s.push('\n');
        for (k, v) in self.rows() {
            s.push_str(&format!("{k}: {v}\n"));
        }
        if let Some(a) = self.advice() {
            s.push_str(&format!("What to do: {a}\n"));
        }
        s
    }

    /// The Standard Webhooks body.
    pub fn webhook_body(&self) -> Value {
        json!({
            "type": self.ty,
            "timestamp": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            "data": self.data,
        })
    }

    /// A Slack incoming-webhook message: `text` (the notification and
    /// fallback) and `blocks` within Slack's limits; text is escaped so that
    /// an archive's name cannot mention anyone.
    pub fn slack_body(&self) -> Value {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let headline = esc(&self.headline());
        let mut fields = Vec::new();
        for (k, v) in self.rows().into_iter().take(10) {
            fields
                .push(json!({"type": "mrkdwn", "text": cut(&format!("*{k}*\n{}", esc(&v)), 2000)}));
        }
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": cut(&self.headline(), 150)}}),
        ];
        if !fields.is_empty() {
            blocks.push(json!({"type": "section", "fields": fields}));
        }
        if let Some(a) = self.advice() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&format!("*What to do:* {}", esc(&a)), 3000)}}));
        }
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(&esc(&format!("projectrestore {} · {} · run {}", self.text("version").unwrap_or_default(), self.ty, self.text("id").unwrap_or_default())), 3000)}]}));
        json!({"text": cut(&headline, 3000), "blocks": blocks})
    }

    /// A Discord webhook message: `content` of at most 2000 characters, one
    /// embed within Discord's limits, and no mentions parsed.
    pub fn discord_body(&self) -> Value {
        let mut fields = Vec::new();
        for (k, v) in self.rows().into_iter().take(25) {
            fields
                .push(json!({"name": cut(k, 256), "value": cut(&v, 1024), "inline": v.len() < 40}));
        }
        let description = self
            .advice()
            .map(|a| cut(&format!("What to do: {a}"), 4096));
        let mut embed = json!({
            "title": cut(&self.headline(), 256),
            "color": if self.failed_ty() { 0xD0_30_30 } else { 0x2E_A0_43 },
            "fields": fields,
            "footer": {"text": cut(&format!("projectrestore {} · run {}", self.text("version").unwrap_or_default(), self.text("id").unwrap_or_default()), 2048)},
        });
        if let Some(d) = description {
            embed["description"] = json!(d);
        }
        // Discord refuses an embed whose texts add up to more than 6000.
        let total: usize = embed_chars(&embed);
        if total > 6000 {
            if let Some(f) = embed["fields"].as_array_mut() {
                while embed_chars_of(f) + 1500 > 6000 && !f.is_empty() {
                    f.pop();
                }
            }
        }
        json!({
            "content": cut(&discord_escape(&self.headline()), 2000),
            "embeds": [embed],
            "allowed_mentions": {"parse": []},
        })
    }
}

/// Discord markdown made literal: text from an archive's name must not
/// reformat the message (mentions are off by `allowed_mentions`).
fn discord_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '_' | '~' | '`' | '|' | '>' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn embed_chars_of(fields: &[Value]) -> usize {
    fields
        .iter()
        .map(|f| {
            f["name"].as_str().map_or(0, |s| s.chars().count())
                + f["value"].as_str().map_or(0, |s| s.chars().count())
        })
        .sum()
}

fn embed_chars(e: &Value) -> usize {
    let s = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    s(&e["title"])
        + s(&e["description"])
        + s(&e["footer"]["text"])
        + e["fields"].as_array().map_or(0, |f| embed_chars_of(f))
}

/// At most `max` characters (an ellipsis ends a cut text).
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Sign a Standard Webhooks message: `v1,` + base64 HMAC-SHA256 of
/// `id.timestamp.body` under `key`.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    use hmac::Mac;
    // HMAC takes keys of any length: new_from_slice cannot fail.
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// The request of one attempt.
struct Request {
    url: url::Url,
    body: Vec<u8>,
    content_type: &'static str,
    /// Standard Webhooks: the message id and the key.
    signed: Option<(String, zeroize::Zeroizing<Vec<u8>>)>,
}

fn request(t: &Target, n: &Notice) -> Request {
    let mut url = t.url.clone();
    let (body, content_type) = match t.kind {
        Kind::Webhook => (
            n.webhook_body().to_string().into_bytes(),
            "application/json",
        ),
        Kind::Slack => (n.slack_body().to_string().into_bytes(), "application/json"),
        Kind::Discord => {
            url.query_pairs_mut().append_pair("wait", "true");
            (
                n.discord_body().to_string().into_bytes(),
                "application/json",
            )
        }
        Kind::Healthchecks => {
            let suffix = if n.ty.ends_with(".started") {
                Some("start")
            } else if n.failed_ty() {
                Some("fail")
            } else {
                None
            };
            if let Some(s) = suffix {
                let path = format!("{}/{s}", url.path().trim_end_matches('/'));
                url.set_path(&path);
            }
            (n.summary().into_bytes(), "text/plain; charset=utf-8")
        }
    };
    let signed = t
        .secret
        .clone()
        .filter(|_| t.kind == Kind::Webhook)
        .map(|k| (format!("msg_{}", new_id()), k));
    Request {
        url,
        body,
        content_type,
        signed,
    }
}

/// Between attempts: 0.5 s, then 1 s, with up to 250 ms of jitter.
fn backoff(attempt: u32) -> Duration {
    let mut b = [0u8; 2];
    let _ = getrandom::getrandom(&mut b);
    let jitter = u64::from(u16::from_le_bytes(b)) % 250;
    Duration::from_millis(500 * (1 << (attempt.saturating_sub(1)).min(4)) + jitter)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why a delivery stopped before an answer: a cancel, or the budget.
fn stopped(cancel: &crate::source::Cancel) -> String {
    if cancel.is_set() {
        "interrupted".into()
    } else {
        format!(
            "gave up after {} s (the notification budget)",
            BUDGET.as_secs()
        )
    }
}

/// Deliver to one target before `deadline`, giving up when `cancel` is set.
fn deliver(t: &Target, n: &Notice, deadline: Instant, cancel: &crate::source::Cancel) -> Delivery {
    let mut d = Delivery {
        target: t.label.clone(),
        event: n.ty.clone(),
        status: "failed",
        attempts: 0,
        error: None,
    };
    let req = request(t, n);
    let left = || deadline.saturating_duration_since(Instant::now());
    // One client per target: its connection pool serves the retries.
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // No proxy from the environment: a notification goes where its URL
        // says (HTTP_PROXY would see the URL and could answer for the receiver).
        .no_proxy()
        .user_agent(concat!("projectrestore/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            d.error = Some(format!("cannot make an HTTP client: {}", e.without_url()));
            return d;
        }
    };
    while d.attempts < MAX_ATTEMPTS {
        if left().is_zero() || cancel.is_set() {
            d.error = Some(stopped(cancel));
            break;
        }
        d.attempts += 1;
        let mut rb = client
            .post(req.url.clone())
            .timeout(ATTEMPT_TIMEOUT.min(left()))
            .header("content-type", req.content_type)
            .body(req.body.clone());
        if let Some((id, key)) = &req.signed {
            let ts = unix_now();
            rb = rb
                .header("webhook-id", id)
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", sign(key, id, ts, &req.body));
        }
        let retry_after = match rb.send() {
            Ok(resp) => {
                let status = resp.status();
                if status.is_success() {
                    d.status = "delivered";
                    d.error = None;
                    return d;
                }
                let code = status.as_u16();
                d.error = Some(format!("the receiver answered {status}"));
                if code == 410 {
                    d.status = "gone";
                    return d;
                }
                if !(status.is_server_error() || code == 408 || code == 429) {
                    return d;
                }
                // Seconds (an HTTP date is taken as "soon"); never beyond the budget.
                resp.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(BUDGET.as_secs() + 1)))
            }
            Err(e) => {
                d.error = Some(if e.is_timeout() {
                    "no answer in time".to_string()
                } else if e.is_connect() {
                    "cannot connect".to_string()
                } else {
                    e.without_url().to_string()
                });
                None
            }
        };
        if d.attempts >= MAX_ATTEMPTS {
            break;
        }
        let wait = retry_after.unwrap_or_else(|| backoff(d.attempts));
        if wait >= left() {
            d.error = Some(format!(
                "{}; the next attempt would pass the {} s budget",
                d.error.take().unwrap_or_default(),
                BUDGET.as_secs()
            ));
            break;
        }
        // Sleep in slices: a Ctrl-C ends the wait.
        let until = Instant::now() + wait;
        while Instant::now() < until && !cancel.is_set() {
            std::thread::sleep(
                until
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100)),
            );
        }
    }
    d
}

/// Tell every target that wants `notice`, in parallel, before `deadline`
/// (a run's notifications share one: [`BUDGET`] from its first), stopping
/// when `cancel` is set; one [`Delivery`] each. Each delivery runs on a
/// thread of its own that is not waited for past the deadline: a resolver or
/// a receiver that hangs cannot hold the caller.
pub fn send(
    targets: &[Target],
    notice: &Notice,
    deadline: Instant,
    cancel: &crate::source::Cancel,
) -> Vec<Delivery> {
    let wanted: Vec<Target> = targets
        .iter()
        .filter(|t| t.wants(&notice.ty, notice.dry_run))
        .filter(|t| !(notice.dry_run && t.kind == Kind::Healthchecks))
        .cloned()
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    for (i, t) in wanted.iter().cloned().enumerate() {
        let (tx, n, cancel) = (tx.clone(), notice.clone(), cancel.clone());
        std::thread::spawn(move || {
            let d = deliver(&t, &n, deadline, &cancel);
            let _ = tx.send((i, d));
        });
    }
    drop(tx);
    let mut out: Vec<Option<Delivery>> = vec![None; wanted.len()];
    let mut pending = wanted.len();
    let mut cancelled_at: Option<Instant> = None;
    while pending > 0 {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok((i, d)) => {
                out[i] = Some(d);
                pending -= 1;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // An attempt's own timeout ends at the deadline; a resolver
                // that hangs does not, so this waits no longer either.
                if Instant::now() > deadline + Duration::from_millis(500) {
                    break;
                }
                // Interrupted: a second for attempts in flight, no more.
                if cancel.is_set()
                    && cancelled_at.get_or_insert_with(Instant::now).elapsed()
                        > Duration::from_secs(1)
                {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    out.into_iter()
        .zip(&wanted)
        .map(|(d, t)| {
            d.unwrap_or_else(|| Delivery {
                target: t.label.clone(),
                event: notice.ty.clone(),
                status: "failed",
                attempts: 1,
                error: Some(stopped(cancel)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks example (its specification's test vector).
    #[test]
    fn signs_like_the_specification() {
        let key = B64
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_default();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn filters_and_targets() {
        let f = EventFilter::default();
        assert!(f.wants("restore.failed", false) && f.wants("audit.succeeded", false));
        assert!(!f.wants("restore.started", false) && !f.wants("restore.failed", true));
        assert!(EventFilter::parse("nope").is_err());
        let g = EventFilter::parse("restore.started,failed,dry-run").unwrap_or_default();
        assert!(g.wants("restore.started", true) && g.wants("verify.failed", false));
        let url = |u: &str| SecretString::from(u.to_string());
        assert!(Target::new(None, url("http://example.com/h"), None, f.clone()).is_err());
        assert!(Target::new(
            Some(Kind::Slack),
            url("http://127.0.0.1:9/h"),
            None,
            f.clone()
        )
        .is_ok());
        let t = Target::new(
            None,
            url("https://hooks.slack.com/services/T/B/SECRET"),
            None,
            f.clone(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.label(), "slack hooks.slack.com");
        assert!(!format!("{t:?}").contains("SECRET"));
        // A generic webhook needs its secret.
        assert!(Target::new(None, url("https://example.com/h"), None, f).is_err());
    }

    #[test]
    fn discord_and_slack_stay_within_their_limits() {
        let ctx = Context {
            id: "x".into(),
            archive: Some(format!("/b/{}.tar.gz", "a".repeat(5000))),
            ..Context::default()
        };
        let e = crate::Error::Usage("@everyone <!channel> ".repeat(400));
        let n = Notice::failed("restore", &ctx, &e, false);
        let d = n.discord_body();
        assert!(d["content"].as_str().map_or(0, |s| s.chars().count()) <= 2000);
        assert!(embed_chars(&d["embeds"][0]) <= 6000);
        assert_eq!(d["allowed_mentions"]["parse"], json!([]));
        let s = n.slack_body().to_string();
        assert!(!s.contains("<!channel>"));
    }
}

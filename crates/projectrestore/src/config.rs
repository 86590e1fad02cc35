//! Settings from `.projectrestore.rc` files and `PROJECTRESTORE_*` variables.
//!
//! Precedence: command-line flag > environment > project file > user file > default.
//! The project file is `./.projectrestore.rc`; the user file is the first of
//! `$XDG_CONFIG_HOME/projectrestore/config.toml` (default `~/.config/…`) and
//! `~/.projectrestore.rc`. `--config FILE` replaces both. Files are TOML; an unknown
//! key or a wrong type is an error naming the file, line and column. Relative paths
//! in a file are relative to the file's directory.
//!
//! The project file lies in the current directory, which anyone who can write
//! files where the user works may control (invariant 8). So it may set only
//! what cannot weaken a restore — `strip_components`, limits lowered below the
//! defaults, `keep` raised — unless the user file lists that directory in
//! `allow_project_dirs` (as git's `safe.directory` and direnv's `allow` do).
//! Everything else it sets is dropped, and [`Config::ignored`] says what.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A configuration problem (exit 64: it is a usage error).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("${var}: {message}")]
    Env { var: String, message: String },
}

/// A size: a number of bytes or text like `500M`, `2G`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    /// Bytes.
    pub fn bytes(&self) -> Result<u64, String> {
        match self {
            Size::Bytes(b) => Ok(*b),
            Size::Text(t) => parse_size(t).map_err(|e| format!("{t:?}: {e}")),
        }
    }
}

/// `500M`, `2G`, `1048576`: sizes as flags, files and variables write them.
pub fn parse_size(s: &str) -> Result<u64, String> {
    parse_size::Config::new()
        .with_binary()
        .parse_size(s)
        .map_err(|e| format!("{e} (use e.g. 500M or 2G)"))
}

/// Every key a file may set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub backup_dir: Option<PathBuf>,
    pub pattern: Option<String>,
    pub to: Option<PathBuf>,
    pub trust: Option<Vec<PathBuf>>,
    pub threshold: Option<usize>,
    pub identities: Option<Vec<PathBuf>>,
    pub passphrase_file: Option<PathBuf>,
    pub max_files: Option<u64>,
    pub max_bytes: Option<Size>,
    pub keep: Option<usize>,
    pub anchor: Option<PathBuf>,
    pub log_key: Option<PathBuf>,
    pub log_vkey: Option<String>,
    pub strip_components: Option<usize>,
    /// Which extractor parses archives: `auto`, `wasm` or `native` (`--sandbox`).
    pub sandbox: Option<String>,
    /// Object-store settings (`[store]`: object_store's keys, as `--store-opt`).
    pub store: Option<StoreTable>,
    /// Notification targets (`[[notify]]`, as `--notify`).
    pub notify: Option<Vec<NotifySetting>>,
    /// Directories whose `.projectrestore.rc` may set every key (read from the
    /// user file or `--config` only; a project file cannot allow itself).
    pub allow_project_dirs: Option<Vec<PathBuf>>,
}

/// The `[store]` table: object_store's keys and values. Values may be
/// credentials: `Debug` shows the keys only (as `config` does).
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct StoreTable(pub std::collections::BTreeMap<String, String>);

impl std::ops::Deref for StoreTable {
    type Target = std::collections::BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Debug for StoreTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// One `[[notify]]` table: where to tell what. Slack and Discord URLs are
/// secrets: prefer `url_file` (its first line) to `url`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySetting {
    /// `webhook`, `slack`, `discord` or `healthchecks` (else from the URL's host).
    pub kind: Option<String>,
    #[serde(skip_serializing)]
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    /// The `whsec_…` signing secret of a webhook, on the first line.
    pub secret_file: Option<PathBuf>,
    /// Event types or their last part (`succeeded`, `failed`, `started`).
    pub events: Option<Vec<String>>,
}

impl std::fmt::Debug for NotifySetting {
    /// Never the URL: it may be a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifySetting")
            .field("kind", &self.kind)
            .field("url", &self.url.as_ref().map(|_| "[redacted]"))
            .field("url_file", &self.url_file)
            .field("secret_file", &self.secret_file)
            .field("events", &self.events)
            .finish()
    }
}

/// The keys, in the order `config` prints them.
pub const KEYS: [&str; 18] = [
    "backup_dir",
    "pattern",
    "to",
    "trust",
    "threshold",
    "identities",
    "passphrase_file",
    "max_files",
    "max_bytes",
    "keep",
    "anchor",
    "log_key",
    "log_vkey",
    "strip_components",
    "sandbox",
    "store",
    "notify",
    "allow_project_dirs",
];

/// Where a layer of settings came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Environment,
    ProjectFile { path: PathBuf },
    UserFile { path: PathBuf },
    ConfigFile { path: PathBuf },
}

/// One layer: its source, its settings, and (for files) its text for line numbers.
#[derive(Debug, Clone)]
pub struct Layer {
    pub source: Source,
    pub settings: Settings,
    text: Option<String>,
    /// Keys this layer set that were dropped (a project file in a directory the
    /// user file does not allow).
    pub ignored: Vec<&'static str>,
}

/// All layers, highest precedence first (the command line is applied by the caller).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub layers: Vec<Layer>,
}

/// The process environment as the front end read it. The library reads no
/// environment variable itself: the binary passes the process's
/// ([`Env::vars`] holds only `PROJECTRESTORE_*`), a Python host or an agent
/// passes its own, or none (`Env::default()`).
#[derive(Clone, Default)]
pub struct Env {
    /// `PROJECTRESTORE_*` variables, by their full names.
    pub vars: std::collections::BTreeMap<String, std::ffi::OsString>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
}

impl Env {
    /// `$HOME`, when it is absolute: an empty or relative `$HOME` would make
    /// the current directory, which anyone may have prepared, the place
    /// settings and the default trust store come from.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref().filter(|h| h.is_absolute())
    }
}

impl std::fmt::Debug for Env {
    /// Names only: a variable's value may be anything the user put there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .field("xdg_config_home", &self.xdg_config_home)
            .finish()
    }
}

fn env_var(key: &str) -> String {
    format!("PROJECTRESTORE_{}", key.to_ascii_uppercase())
}

fn from_env(env: &Env) -> Result<Settings, ConfigError> {
    let get = |k: &str| env.vars.get(&env_var(k)).filter(|v| !v.is_empty()).cloned();
    let num = |k: &str| -> Result<Option<u64>, ConfigError> {
        match get(k) {
            None => Ok(None),
            Some(v) => v
                .to_string_lossy()
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ConfigError::Env {
                    var: env_var(k),
                    message: format!("{:?} is not a whole number", v),
                }),
        }
    };
    let list = |k: &str| get(k).map(|v| std::env::split_paths(&v).collect::<Vec<_>>());
    Ok(Settings {
        backup_dir: get("backup_dir").map(PathBuf::from),
        pattern: get("pattern").map(|v| v.to_string_lossy().into_owned()),
        to: get("to").map(PathBuf::from),
        trust: list("trust"),
        threshold: num("threshold")?.map(|n| n as usize),
        identities: list("identities"),
        passphrase_file: get("passphrase_file").map(PathBuf::from),
        max_files: num("max_files")?,
        max_bytes: get("max_bytes").map(|v| Size::Text(v.to_string_lossy().into_owned())),
        keep: num("keep")?.map(|n| n as usize),
        anchor: get("anchor").map(PathBuf::from),
        log_key: get("log_key").map(PathBuf::from),
        log_vkey: get("log_vkey").map(|v| v.to_string_lossy().into_owned()),
        strip_components: num("strip_components")?.map(|n| n as usize),
        sandbox: get("sandbox").map(|v| v.to_string_lossy().into_owned()),
        notify: None,
        store: None,
        allow_project_dirs: list("allow_project_dirs"),
    })
}

/// Drop from a project file's settings everything that could weaken a restore
/// (trust, thresholds, identities, destinations, logs, raised limits, fewer
/// kept generations, which archive is picked); returns the keys dropped.
fn restrict(s: &mut Settings) -> Vec<&'static str> {
    let mut dropped = Vec::new();
    macro_rules! drop_keys {
        ($($f:ident),*) => { $( if s.$f.take().is_some() { dropped.push(stringify!($f)); } )* };
    }
    drop_keys!(
        backup_dir,
        pattern,
        to,
        trust,
        threshold,
        identities,
        passphrase_file,
        anchor,
        log_key,
        log_vkey,
        store,
        notify,
        allow_project_dirs
    );
    let limits = crate::archive::Limits::default();
    if s.max_files.is_some_and(|n| n > limits.max_files) {
        s.max_files = None;
        dropped.push("max_files");
    }
    if s.max_bytes
        .as_ref()
        .is_some_and(|b| b.bytes().map_or(true, |n| n > limits.max_bytes))
    {
        s.max_bytes = None;
        dropped.push("max_bytes");
    }
    if s.keep.is_some_and(|k| k < DEFAULT_KEEP) {
        s.keep = None;
        dropped.push("keep");
    }
    // A project file may ask for the sandbox, never turn it off.
    if s.sandbox.as_deref().is_some_and(|m| m != "wasm") {
        s.sandbox = None;
        dropped.push("sandbox");
    }
    dropped
}

/// Generations kept by default (`--keep`).
pub const DEFAULT_KEEP: usize = 5;

/// Is `dir` one of `allowed` (compared after resolving symlinks)?
fn allowed(dir: &Path, allowed: &[PathBuf]) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    allowed
        .iter()
        .any(|a| std::fs::canonicalize(a).is_ok_and(|a| a == dir))
}

fn resolve(base: &Path, p: &mut Option<PathBuf>) {
    if let Some(x) = p.as_mut() {
        // A bucket prefix (`backup_dir = "s3://bucket/backups/"`; the other
        // keys refuse URLs above) is no path.
        let url = x.to_str().is_some_and(crate::source::is_store_url);
        if x.is_relative() && !url {
            *x = base.join(&*x);
        }
    }
}

/// Read one file's settings.
pub fn read_file(path: &Path) -> Result<(Settings, String), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let s = parse(path, &text)?;
    Ok((s, text))
}

/// The settings in `text`, the contents of the rc file `path` (relative paths
/// in it are resolved against the file's directory).
pub fn parse(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    let mut s: Settings = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: parse_message(text, &e),
    })?;
    if let Some(Err(m)) = s.max_bytes.as_ref().map(Size::bytes) {
        let line = line_of(text, "max_bytes").unwrap_or(0);
        return Err(ConfigError::Parse {
            path: path.display().to_string(),
            message: format!("line {line}: max_bytes {m}"),
        });
    }
    // Only a backup directory may be in an object store: trust, keys,
    // identities, logs and destinations are local paths (as on the command line).
    let local_only = [
        ("to", s.to.iter().collect::<Vec<_>>()),
        ("passphrase_file", s.passphrase_file.iter().collect()),
        ("anchor", s.anchor.iter().collect()),
        ("log_key", s.log_key.iter().collect()),
        ("trust", s.trust.iter().flatten().collect()),
        ("identities", s.identities.iter().flatten().collect()),
        (
            "allow_project_dirs",
            s.allow_project_dirs.iter().flatten().collect(),
        ),
    ];
    for (key, paths) in local_only {
        if paths
            .iter()
            .any(|p| p.to_str().is_some_and(crate::source::is_store_url))
        {
            let line = line_of(text, key).unwrap_or(0);
            return Err(ConfigError::Parse {
                path: path.display().to_string(),
                message: format!("line {line}: {key} must be a local path, not an object-store URL (only backup_dir may name a bucket)"),
            });
        }
    }
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for p in [
        &mut s.backup_dir,
        &mut s.to,
        &mut s.passphrase_file,
        &mut s.anchor,
        &mut s.log_key,
    ] {
        resolve(&base, p);
    }
    for n in s.notify.iter_mut().flatten() {
        resolve(&base, &mut n.url_file);
        resolve(&base, &mut n.secret_file);
    }
    for list in [&mut s.trust, &mut s.identities, &mut s.allow_project_dirs]
        .into_iter()
        .flatten()
    {
        for p in list.iter_mut() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
    Ok(s)
}

/// Where and what, never the file's text: a settings file planted in the current
/// directory (or a link to a secret) must not get its lines echoed into a
/// terminal, a log or `--json`. The message is escaped.
fn parse_message(text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map(|s| {
        let before = &text[..s.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("line {line}, column {column}: ")
    });
    crate::report::escape(&format!(
        "{}{}",
        at.unwrap_or_default(),
        e.message().trim_end()
    ))
}

fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// `$XDG_CONFIG_HOME` (when absolute), else `~/.config`.
fn config_home(env: &Env) -> Option<PathBuf> {
    env.xdg_config_home
        .clone()
        .filter(|p| p.is_absolute())
        .or_else(|| env.home().map(|h| h.join(".config")))
}

/// The user file: `$XDG_CONFIG_HOME/projectrestore/config.toml`, else `~/.projectrestore.rc`.
pub fn user_file(env: &Env) -> Option<PathBuf> {
    let candidates = [
        config_home(env).map(|x| x.join("projectrestore/config.toml")),
        env.home().map(|h| h.join(".projectrestore.rc")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// The default trust store, `$XDG_CONFIG_HOME/projectrestore/keys` (else
/// `~/.config/projectrestore/keys`), when that directory exists.
pub fn default_trust_store(env: &Env) -> Option<PathBuf> {
    config_home(env)
        .map(|c| c.join("projectrestore/keys"))
        .filter(|p| p.is_dir())
}

impl Config {
    /// Load `env`'s settings and the files it locates (or only `explicit`).
    pub fn load(explicit: Option<&Path>, env: &Env) -> Result<Self, ConfigError> {
        let mut layers = vec![Layer {
            source: Source::Environment,
            settings: from_env(env)?,
            text: None,
            ignored: Vec::new(),
        }];
        let file = |path: PathBuf, source: Source| -> Result<Layer, ConfigError> {
            let (settings, text) = read_file(&path)?;
            Ok(Layer {
                source,
                settings,
                text: Some(text),
                ignored: Vec::new(),
            })
        };
        match explicit {
            Some(p) => layers.push(file(
                p.to_path_buf(),
                Source::ConfigFile {
                    path: p.to_path_buf(),
                },
            )?),
            None => {
                let user = user_file(env)
                    .map(|u| file(u.clone(), Source::UserFile { path: u }))
                    .transpose()?;
                let project = PathBuf::from(".projectrestore.rc");
                let kind = std::fs::symlink_metadata(&project).map(|m| m.file_type());
                if kind.as_ref().is_ok_and(|k| k.is_symlink()) {
                    // A link planted in the directory could name any file the
                    // user can read; a project file is a regular file here.
                    return Err(ConfigError::Parse {
                        path: project.display().to_string(),
                        message: "is a symbolic link; a project settings file must be a regular file in this directory (nothing was read from it)".into(),
                    });
                }
                if kind.is_ok_and(|k| k.is_file()) {
                    let cwd = std::env::current_dir().unwrap_or_default();
                    let abs = cwd.join(&project);
                    let mut layer = file(abs.clone(), Source::ProjectFile { path: abs })?;
                    let allows = user
                        .as_ref()
                        .and_then(|u| u.settings.allow_project_dirs.as_deref())
                        .is_some_and(|dirs| allowed(&cwd, dirs));
                    if !allows {
                        layer.ignored = restrict(&mut layer.settings);
                    } else if layer.settings.allow_project_dirs.take().is_some() {
                        // Never from a project file, even an allowed one.
                        layer.ignored.push("allow_project_dirs");
                    }
                    layers.push(layer);
                }
                layers.extend(user);
            }
        }
        Ok(Config { layers })
    }

    /// Keys a project file set that were not taken, with the file: for a warning.
    pub fn ignored(&self) -> Option<(PathBuf, Vec<&'static str>)> {
        self.layers.iter().find_map(|l| match &l.source {
            Source::ProjectFile { path } if !l.ignored.is_empty() => {
                Some((path.clone(), l.ignored.clone()))
            }
            _ => None,
        })
    }

    /// The value of `key` with the source that set it, highest precedence first.
    pub fn get(&self, key: &str) -> Option<(serde_json::Value, String)> {
        for l in &self.layers {
            let v = serde_json::to_value(&l.settings).ok()?;
            let val = v.get(key)?;
            if !val.is_null() {
                let src = match &l.source {
                    Source::Environment => format!("environment ${}", env_var(key)),
                    Source::ProjectFile { path }
                    | Source::UserFile { path }
                    | Source::ConfigFile { path } => {
                        let line = l
                            .text
                            .as_deref()
                            .and_then(|t| line_of(t, key))
                            .map(|n| format!(":{n}"))
                            .unwrap_or_default();
                        format!("{}{line}", path.display())
                    }
                };
                return Some((val.clone(), src));
            }
        }
        None
    }

    /// The merged settings (each key from its highest-precedence layer).
    pub fn merged(&self) -> Settings {
        let mut out = Settings::default();
        for l in self.layers.iter().rev() {
            let s = l.settings.clone();
            macro_rules! take {
                ($($f:ident),*) => { $( if s.$f.is_some() { out.$f = s.$f; } )* };
            }
            take!(
                backup_dir,
                pattern,
                to,
                trust,
                threshold,
                identities,
                passphrase_file,
                max_files,
                max_bytes,
                keep,
                anchor,
                log_key,
                log_vkey,
                strip_components,
                store,
                notify,
                allow_project_dirs
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings in a `{:?}` (a log line, a panic message) never show a
    /// `[store]` value or a `[[notify]]` URL: either may be a credential.
    #[test]
    fn debug_output_shows_no_store_value_or_notify_url() {
        let p = Path::new("/home/me/.config/projectrestore/config.toml");
        let s = parse(
            p,
            "[store]\naws_secret_access_key = \"TOPSECRET\"\n[[notify]]\nurl = \"https://hooks.slack.com/services/T/B/HOOKSECRET\"\n",
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("aws_secret_access_key"), "{shown}");
        assert!(
            !shown.contains("TOPSECRET") && !shown.contains("HOOKSECRET"),
            "{shown}"
        );
    }

    /// An empty or relative `$HOME` must not make the current directory the
    /// place settings and trust come from (a `./.config/projectrestore/keys`
    /// planted there would be trusted).
    #[test]
    fn a_relative_home_is_no_home() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join(".config/projectrestore/keys");
        std::fs::create_dir_all(&keys).unwrap();
        let cwd = std::env::current_dir().unwrap();
        for home in ["", ".", "relative/home"] {
            let env = Env {
                vars: Default::default(),
                home: Some(PathBuf::from(home)),
                xdg_config_home: None,
            };
            assert_eq!(env.home(), None, "{home:?}");
            assert_eq!(default_trust_store(&env), None, "{home:?}");
            assert_eq!(user_file(&env), None, "{home:?}");
        }
        let env = Env {
            vars: Default::default(),
            home: Some(dir.path().to_path_buf()),
            xdg_config_home: None,
        };
        assert_eq!(default_trust_store(&env), Some(keys));
        assert_eq!(std::env::current_dir().unwrap(), cwd);
    }

    #[test]
    fn only_backup_dir_may_name_a_bucket() {
        let p = Path::new("/home/me/.config/projectrestore/config.toml");
        let s = parse(p, "backup_dir = \"s3://b/backups/\"\n").unwrap();
        assert_eq!(s.backup_dir.unwrap(), PathBuf::from("s3://b/backups/"));
        for text in [
            "to = \"s3://b/dest\"\n",
            "trust = [\"gs://b/keys\"]\n",
            "log_key = \"az://c/k\"\n",
            "anchor = \"s3://b/log\"\n",
        ] {
            let err = parse(p, text).unwrap_err().to_string();
            assert!(err.contains("must be a local path"), "{text}: {err}");
        }
    }

    #[test]
    fn unknown_keys_and_types_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rc");
        std::fs::write(&p, "keep = 3\n\ncolour = \"red\"\n").unwrap();
        let e = read_file(&p).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("colour"), "{e}");
        std::fs::write(&p, "keep = \"three\"\n").unwrap();
        let e = read_file(&p).unwrap_err().to_string();
        assert!(e.contains("line 1, column 8"), "{e}");
        std::fs::write(&p, "trust = [\"keys\"]\nmax_bytes = \"2G\"\n").unwrap();
        let (s, _) = read_file(&p).unwrap();
        assert_eq!(s.trust.unwrap()[0], dir.path().join("keys"));
        assert_eq!(s.max_bytes.unwrap().bytes().unwrap(), 2 << 30);
    }
}

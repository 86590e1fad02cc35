//! Settings from `.projectrestore.rc` files and `PROJECTRESTORE_*` variables.
//!
//! Precedence: command-line flag > environment > project file > user file > default.
//! The project file is `./.projectrestore.rc`; the user file is the first of
//! `$XDG_CONFIG_HOME/projectrestore/config.toml` (default `~/.config/…`) and
//! `~/.projectrestore.rc`. `--config FILE` replaces both. Files are TOML; an unknown
//! key or a wrong type is an error naming the file, line and column. Relative paths
//! in a file are relative to the file's directory.

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
}

/// The keys, in the order `config` prints them.
pub const KEYS: [&str; 14] = [
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
}

/// All layers, highest precedence first (the command line is applied by the caller).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub layers: Vec<Layer>,
}

fn env_var(key: &str) -> String {
    format!("PROJECTRESTORE_{}", key.to_ascii_uppercase())
}

fn from_env() -> Result<Settings, ConfigError> {
    let get = |k: &str| std::env::var_os(env_var(k)).filter(|v| !v.is_empty());
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
    })
}

fn resolve(base: &Path, p: &mut Option<PathBuf>) {
    if let Some(x) = p.as_mut() {
        if x.is_relative() {
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
    let mut s: Settings = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    if let Some(Err(m)) = s.max_bytes.as_ref().map(Size::bytes) {
        let line = line_of(&text, "max_bytes").unwrap_or(0);
        return Err(ConfigError::Parse {
            path: path.display().to_string(),
            message: format!("line {line}: max_bytes {m}"),
        });
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
    for list in [&mut s.trust, &mut s.identities].into_iter().flatten() {
        for p in list.iter_mut() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
    Ok((s, text))
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

/// The user file: `$XDG_CONFIG_HOME/projectrestore/config.toml`, else `~/.projectrestore.rc`.
pub fn user_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let candidates = [
        xdg.map(|x| x.join("projectrestore/config.toml")),
        home.map(|h| h.join(".projectrestore.rc")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

impl Config {
    /// Load the environment and the files (or only `explicit`).
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let mut layers = vec![Layer {
            source: Source::Environment,
            settings: from_env()?,
            text: None,
        }];
        let mut file = |path: PathBuf, source: Source| -> Result<(), ConfigError> {
            let (settings, text) = read_file(&path)?;
            layers.push(Layer {
                source,
                settings,
                text: Some(text),
            });
            Ok(())
        };
        match explicit {
            Some(p) => file(
                p.to_path_buf(),
                Source::ConfigFile {
                    path: p.to_path_buf(),
                },
            )?,
            None => {
                let project = PathBuf::from(".projectrestore.rc");
                if project.is_file() {
                    let abs = std::env::current_dir()
                        .map(|d| d.join(&project))
                        .unwrap_or(project);
                    file(abs.clone(), Source::ProjectFile { path: abs })?;
                }
                if let Some(u) = user_file() {
                    file(u.clone(), Source::UserFile { path: u })?;
                }
            }
        }
        Ok(Config { layers })
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
                strip_components
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

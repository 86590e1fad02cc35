//! Fill in what the command line did not give from the environment and the rc
//! files (flag > environment > project file > user file > default).

use clap::parser::ValueSource;
use clap::ArgMatches;

use projectrestore::config::{Config, Settings};
use projectrestore::Error;

use super::{CheckArgs, Cli, Command, LogCheckArgs, TargetArgs};

/// The process environment, read here once: `PROJECTRESTORE_*`, `$HOME` and
/// `$XDG_CONFIG_HOME` (the library reads none of it itself).
pub fn env() -> &'static projectrestore::config::Env {
    static ENV: std::sync::OnceLock<projectrestore::config::Env> = std::sync::OnceLock::new();
    ENV.get_or_init(|| projectrestore::config::Env {
        vars: std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                // The passphrase is read where it is needed (cli/interact.rs)
                // and never copied into settings.
                (k.starts_with("PROJECTRESTORE_") && k != "PROJECTRESTORE_PASSPHRASE")
                    .then_some((k, v))
            })
            .collect(),
        home: std::env::var_os("HOME").map(std::path::PathBuf::from),
        xdg_config_home: std::env::var_os("XDG_CONFIG_HOME").map(std::path::PathBuf::from),
    })
}

/// `~/project_backups`.
pub fn default_backup_dir() -> std::path::PathBuf {
    projectrestore::discover::default_backup_dir(env().home())
}

fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(m.value_source(id), Some(ValueSource::CommandLine))
}

fn max_bytes(s: &Settings) -> Result<Option<u64>, Error> {
    s.max_bytes
        .as_ref()
        .map(|b| {
            b.bytes()
                .map_err(|e| Error::Usage(format!("max_bytes: {e}")))
        })
        .transpose()
}

/// The trust paths and where they came from: the command line, a settings
/// layer, or the default store (`~/.config/projectrestore/keys`) when it exists.
fn trust(
    trust: &mut Vec<std::path::PathBuf>,
    origin: &mut String,
    m: &ArgMatches,
    s: &Settings,
    cfg: &Config,
) {
    if given(m, "trust") {
        *origin = "command line (--trust)".into();
    } else if let Some(t) = &s.trust {
        *trust = t.clone();
        *origin = cfg
            .get("trust")
            .map(|(_, from)| from)
            .unwrap_or_else(|| "settings".into());
    } else if let Some(d) = projectrestore::config::default_trust_store(env()) {
        *origin = format!("default store {}", d.display());
        *trust = vec![d];
    }
}

/// The `[store]` table, under any `--store-opt` (which are applied after it).
fn store(st: &mut super::StoreArgs, s: &Settings) {
    if let Some(t) = &s.store {
        st.from_settings = t
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
    }
}

fn check(c: &mut CheckArgs, m: &ArgMatches, s: &Settings, cfg: &Config) -> Result<(), Error> {
    store(&mut c.store, s);
    trust(&mut c.trust, &mut c.trust_origin, m, s, cfg);
    if !given(m, "threshold") {
        if let Some(t) = s.threshold {
            c.threshold = t;
        }
    }
    if !given(m, "identity") {
        if let Some(i) = &s.identities {
            c.identity = i.clone();
        }
    }
    if !given(m, "passphrase_file") && s.passphrase_file.is_some() {
        c.passphrase_file = s.passphrase_file.clone();
    }
    if !given(m, "max_files") && s.max_files.is_some() {
        c.limits.max_files = s.max_files;
    }
    if !given(m, "max_bytes") {
        if let Some(b) = max_bytes(s)? {
            c.limits.max_bytes = Some(b);
        }
    }
    if !given(m, "sandbox") {
        if let Some(mode) = &s.sandbox {
            if projectrestore::sandbox::SandboxMode::parse(mode).is_none() {
                return Err(Error::Usage(format!(
                    "sandbox: {} is not auto, wasm or native",
                    projectrestore::report::escape(mode)
                )));
            }
            c.sandbox.sandbox = Some(mode.clone());
        }
    }
    Ok(())
}

fn log(l: &mut LogCheckArgs, m: &ArgMatches, s: &Settings) {
    if !given(m, "log_vkey") && s.log_vkey.is_some() {
        l.log_vkey = s.log_vkey.clone();
    }
}

macro_rules! fill {
    ($m:expr, $s:expr, $args:expr, opt: [$($o:ident),*], val: [$($v:ident),*]) => {
        $( if !given($m, stringify!($o)) && $s.$o.is_some() { $args.$o = $s.$o.clone(); } )*
        $( if !given($m, stringify!($v)) { if let Some(x) = &$s.$v { $args.$v = x.clone(); } } )*
    };
}

fn target(t: &mut TargetArgs, m: &ArgMatches, s: &Settings, cfg: &Config) -> Result<(), Error> {
    fill!(m, s, t, opt: [to, backup_dir], val: [pattern, strip_components]);
    check(&mut t.check, m, s, cfg)?;
    log(&mut t.log, m, s);
    Ok(())
}

/// Apply `cfg` to whatever the command line left unset.
pub fn apply(cli: &mut Cli, matches: &ArgMatches, cfg: &Config) -> Result<(), Error> {
    let s = cfg.merged();
    let Some((_, m)) = matches.subcommand() else {
        return Ok(());
    };
    match &mut cli.command {
        Command::Restore(a) => {
            target(&mut a.target, m, &s, cfg)?;
            fill!(m, s, a, opt: [anchor, log_key], val: [keep]);
        }
        Command::Preview(a) => target(&mut a.target, m, &s, cfg)?,
        Command::Plan(a) => {
            target(&mut a.target, m, &s, cfg)?;
            fill!(m, s, a, opt: [anchor, log_key], val: [keep]);
        }
        Command::Verify(a) => {
            check(&mut a.check, m, &s, cfg)?;
            log(&mut a.log, m, &s);
        }
        Command::Ls(a) => {
            check(&mut a.verify.check, m, &s, cfg)?;
            log(&mut a.verify.log, m, &s);
        }
        Command::List(a) => {
            fill!(m, s, a, opt: [backup_dir], val: [pattern]);
            store(&mut a.store, &s);
        }
        Command::Decrypt(a) => store(&mut a.store, &s),
        Command::Audit(a) => {
            store(&mut a.store, &s);
            fill!(m, s, a, opt: [backup_dir, log_vkey], val: [pattern, threshold]);
            trust(&mut a.trust, &mut a.trust_origin, m, &s, cfg);
        }
        Command::History(a) if a.dir.is_none() => a.dir = s.to.clone(),
        Command::Prune(a) if a.dir.is_none() => a.dir = s.to.clone(),
        Command::Rollback(a) => {
            if a.dir.is_none() {
                a.dir = s.to.clone();
            }
            fill!(m, s, a, opt: [], val: [keep]);
        }
        _ => {}
    }
    Ok(())
}

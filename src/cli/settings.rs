//! Fill in what the command line did not give from the environment and the rc
//! files (flag > environment > project file > user file > default).

use clap::parser::ValueSource;
use clap::ArgMatches;

use projectrestore::config::{Config, Settings};
use projectrestore::Error;

use super::{CheckArgs, Cli, Command, LogCheckArgs, TargetArgs};

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

fn check(c: &mut CheckArgs, m: &ArgMatches, s: &Settings) -> Result<(), Error> {
    if !given(m, "trust") {
        if let Some(t) = &s.trust {
            c.trust = t.clone();
        }
    }
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

fn target(t: &mut TargetArgs, m: &ArgMatches, s: &Settings) -> Result<(), Error> {
    fill!(m, s, t, opt: [to, backup_dir], val: [pattern, strip_components]);
    check(&mut t.check, m, s)?;
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
            target(&mut a.target, m, &s)?;
            fill!(m, s, a, opt: [anchor, log_key], val: [keep]);
        }
        Command::Preview(a) => target(&mut a.target, m, &s)?,
        Command::Verify(a) => {
            check(&mut a.check, m, &s)?;
            log(&mut a.log, m, &s);
        }
        Command::List(a) => {
            fill!(m, s, a, opt: [backup_dir], val: [pattern]);
        }
        Command::Audit(a) => {
            fill!(m, s, a, opt: [backup_dir, log_vkey], val: [pattern, trust, threshold]);
        }
        Command::History(a) if a.dir.is_none() => a.dir = s.to.clone(),
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

//! The Python projectrestore 4.x command line, lowered onto this one
//! (MIGRATING.md). Spellings whose meaning is unchanged keep working and print
//! one deprecation line each, naming the new form; a 4.x call without a
//! subcommand runs `restore`; flags whose meaning is gone are a usage error
//! (exit 64) with a sentence that explains. Nothing here changes what a
//! restore checks: the translated command line is parsed and run like any.

use std::ffi::{OsStr, OsString};

use clap::CommandFactory;

/// Subcommands whose flags the 4.x spellings map onto.
const TRANSLATED: [&str; 6] = ["restore", "preview", "plan", "verify", "list", "audit"];

/// A 4.x spelling with the same meaning here.
struct Renamed {
    old: &'static str,
    new: &'static str,
}

const RENAMED: [Renamed; 5] = [
    Renamed {
        old: "--extract-dir",
        new: "--to",
    },
    Renamed {
        old: "-e",
        new: "--to",
    },
    Renamed {
        old: "-b",
        new: "--backup-dir",
    },
    Renamed {
        old: "-p",
        new: "--pattern",
    },
    Renamed {
        old: "-c",
        new: "--checksum",
    },
];

/// 4.x flags whose meaning is gone, and why.
const GONE: [(&str, &str); 8] = [
    ("--lockfile", "--lockfile is gone: the lock is an flock on the destination's state directory (.DIR.projectrestore/lock), which the kernel releases when a restore ends, so there is no PID file to place and it never goes stale; drop the flag (--wait waits for a running restore)"),
    ("-l", "-l (--lockfile) is gone: the lock is an flock on the destination's state directory, which the kernel releases when a restore ends, so there is no PID file to place; drop the flag (--wait waits for a running restore)"),
    ("--stale-seconds", "--stale-seconds is gone: the lock is an flock that the kernel releases when its holder exits, so it never goes stale; drop the flag"),
    ("--debug", "--debug is gone: there is no debug log; --json prints the whole report and --events FILE records every step as JSON lines"),
    ("--cloud", "--cloud is gone: name the object as the archive, `projectrestore restore s3://BUCKET/FILE --to DIR --store-opt aws_endpoint=URL` (verified first, like a file; see MIGRATING.md)"),
    ("--bucket", "--bucket belonged to --cloud, which is gone: name the object as the archive, `projectrestore restore s3://BUCKET/FILE --to DIR` (see MIGRATING.md)"),
    ("--endpoint", "--endpoint belonged to --cloud, which is gone: `projectrestore restore s3://BUCKET/FILE --to DIR --store-opt aws_endpoint=URL` (see MIGRATING.md)"),
    ("vault-restore", "vault-restore is not supported: its snapshot format lived in a module the published 4.x never shipped (`src.common`), so no 4.x install could run it either; restore the projectclone archive instead (see MIGRATING.md)"),
];

/// Destination spellings of other tools.
const OTHER_DESTINATIONS: [&str; 2] = ["--dest", "--target"];

/// The 4.x `--file NAME`: this tool's hidden `--file`, resolved as 4.x did
/// (`BACKUP_DIR/NAME` when it exists, else `NAME`).
const FILE: &str = "--file";

/// What `translate` made of the command line.
#[derive(Debug)]
pub struct Translated {
    /// The command line to parse.
    pub args: Vec<OsString>,
    /// One line per 4.x spelling used, naming the new form.
    pub deprecations: Vec<String>,
}

/// Lower a 4.x command line onto this one, or explain why it cannot be.
pub fn translate(args: Vec<OsString>, cmd: &clap::Command) -> Result<Translated, String> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut deprecations = Vec::new();
    let mut rest = args.into_iter();
    out.extend(rest.next()); // the program
    let rest: Vec<OsString> = rest.collect();
    let mut i = 0;
    // Global flags before the subcommand.
    while let Some(a) = rest.get(i).and_then(|a| a.to_str()) {
        if a == "--config" {
            // With its value, or alone at the end (clap then says it is missing).
            out.extend(rest.iter().skip(i).take(2).cloned());
            i += 2;
        } else if a.starts_with("--config=") {
            out.push(rest[i].clone());
            i += 1;
        } else {
            break;
        }
    }
    let first = match rest.get(i) {
        None => None,
        Some(a) => match a.to_str() {
            Some(s) => Some(s),
            // Not UTF-8: not a 4.x flag; clap sees the line as it was.
            None => {
                out.extend(rest[i..].iter().cloned());
                return Ok(Translated {
                    args: out,
                    deprecations,
                });
            }
        },
    };
    let sub = match first {
        Some("vault-restore") => return Err(gone("vault-restore").unwrap_or_default()),
        // A flag first, and no subcommand anywhere: a 4.x line. (A flag put
        // before a subcommand, `--json verify X`, is left to clap to refuse.)
        Some(a)
            if a.starts_with('-')
                && !matches!(a, "-h" | "--help" | "-V" | "--version" | "--")
                && !names_a_subcommand(&rest[i..], cmd) =>
        {
            deprecations.push(
                "warning: a 4.x call without a subcommand is deprecated; running `projectrestore restore …` (write `restore` first)".into(),
            );
            out.push("restore".into());
            "restore"
        }
        Some(a) => {
            out.push(rest[i].clone());
            i += 1;
            a
        }
        None => {
            return Ok(Translated {
                args: out,
                deprecations,
            })
        }
    };
    if !TRANSLATED.contains(&sub) {
        out.extend(rest[i..].iter().cloned());
        return Ok(Translated {
            args: out,
            deprecations,
        });
    }
    let takes_value = value_flags(sub);
    let mut tokens = rest[i..].iter();
    while let Some(token) = tokens.next() {
        let Some(t) = token.to_str() else {
            out.push(token.clone());
            continue;
        };
        if t == "--" {
            out.push(token.clone());
            out.extend(tokens.by_ref().cloned());
            break;
        }
        let (name, inline) = match t.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (t, None),
        };
        if let Some(why) = gone(name) {
            return Err(why);
        }
        if OTHER_DESTINATIONS.contains(&name) {
            return Err(format!(
                "the destination flag is --to (`{name}` is another tool's word): projectrestore {sub} ARCHIVE --to DIR"
            ));
        }
        if name == "--allow-pax" {
            deprecations.push("warning: --allow-pax does nothing: PAX and GNU long-name headers are always parsed and checked; drop the flag".into());
            continue;
        }
        let renamed = RENAMED.iter().find(|r| r.old == name).map(|r| r.new);
        // `-bDIR`: a 4.x short flag with its value attached.
        let glued = RENAMED.iter().find(|r| {
            !r.old.starts_with("--") && t.len() > 2 && t.starts_with(r.old) && !t.starts_with("--")
        });
        let flag = if let Some(new) = renamed {
            deprecations.push(format!("warning: {name} is the 4.x spelling; use {new}"));
            match inline {
                Some(v) => out.push(format!("{new}={v}").into()),
                None => out.push(new.into()),
            }
            new
        } else if let Some(r) = glued {
            deprecations.push(format!(
                "warning: {} is the 4.x spelling; use {}",
                r.old, r.new
            ));
            // `-e=out` is `out` to argparse, as `-eout` is.
            let value = t[2..].strip_prefix('=').unwrap_or(&t[2..]);
            out.push(format!("{}={value}", r.new).into());
            continue;
        } else {
            if name == FILE {
                deprecations.push(
                    "warning: --file is the 4.x spelling; give the archive as the first argument"
                        .into(),
                );
            }
            out.push(token.clone());
            name
        };
        // A flag's value is passed on untouched, whatever it looks like.
        if inline.is_none() && takes_value.iter().any(|f| f == flag) {
            out.extend(tokens.next().cloned());
        }
    }
    Ok(Translated {
        args: out,
        deprecations,
    })
}

fn gone(name: &str) -> Option<String> {
    GONE.iter()
        .find(|(flag, _)| *flag == name)
        .map(|(_, why)| (*why).to_string())
}

/// The flags of subcommand `sub` that take a value (`--to`, `-i`, …).
fn value_flags(sub: &str) -> Vec<String> {
    let cmd = super::Cli::command();
    let Some(sc) = cmd.find_subcommand(OsStr::new(sub)) else {
        return Vec::new();
    };
    let mut flags = Vec::new();
    for a in sc.get_arguments() {
        if a.is_positional() || !a.get_action().takes_values() {
            continue;
        }
        flags.extend(a.get_long().map(|l| format!("--{l}")));
        flags.extend(a.get_short().map(|s| format!("-{s}")));
    }
    flags
}

/// Does a word of `args` name one of this tool's subcommands?
fn names_a_subcommand(args: &[OsString], cmd: &clap::Command) -> bool {
    args.iter()
        .filter_map(|a| a.to_str())
        .any(|a| cmd.find_subcommand(a).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Result<(Vec<String>, Vec<String>), String> {
        let mut v: Vec<OsString> = vec!["projectrestore".into()];
        v.extend(args.iter().map(OsString::from));
        translate(v, &<crate::Cli as clap::CommandFactory>::command()).map(|r| {
            (
                r.args
                    .iter()
                    .skip(1)
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
                r.deprecations,
            )
        })
    }

    #[test]
    fn a_4x_call_runs_restore_with_the_new_spellings() {
        let (args, notes) =
            t(&["-b", "backups", "-e", "out", "-p", "*.tar.gz", "--dry-run"]).unwrap();
        assert_eq!(
            args,
            [
                "restore",
                "--backup-dir",
                "backups",
                "--to",
                "out",
                "--pattern",
                "*.tar.gz",
                "--dry-run"
            ]
        );
        assert_eq!(notes.len(), 4, "{notes:?}");
        assert!(notes[0].contains("without a subcommand"));
    }

    #[test]
    fn values_are_never_rewritten() {
        // `-e` as the value of --pattern is a pattern, not --extract-dir.
        let (args, notes) = t(&["restore", "a.tar", "--pattern", "-e", "--to", "-b"]).unwrap();
        assert_eq!(args, ["restore", "a.tar", "--pattern", "-e", "--to", "-b"]);
        assert!(notes.is_empty());
        let (args, _) = t(&["restore", "--", "-e"]).unwrap();
        assert_eq!(args, ["restore", "--", "-e"]);
    }

    #[test]
    fn glued_and_inline_values() {
        let (args, _) = t(&["-bbackups", "--extract-dir=out"]).unwrap();
        assert_eq!(args, ["restore", "--backup-dir=backups", "--to=out"]);
        // argparse reads `-e=out` as `out`.
        let (args, _) = t(&["-b", "x", "-e=out"]).unwrap();
        assert_eq!(args, ["restore", "--backup-dir", "x", "--to=out"]);
        // A trailing --config is passed on for clap to refuse, not dropped.
        let (args, _) = t(&["--config"]).unwrap();
        assert_eq!(args, ["--config"]);
    }

    #[test]
    fn gone_flags_and_other_tools_words_explain() {
        for (flag, word) in [
            ("--lockfile", "flock"),
            ("--stale-seconds", "never goes stale"),
            ("--debug", "--events"),
            ("--cloud", "restore s3://BUCKET/FILE"),
            ("--dest", "the destination flag is --to"),
            ("--target", "the destination flag is --to"),
        ] {
            let err = t(&["restore", flag, "x"]).unwrap_err();
            assert!(err.contains(word), "{flag}: {err}");
        }
        assert!(t(&["vault-restore", "m", "d"])
            .unwrap_err()
            .contains("never shipped"));
    }

    #[test]
    fn new_command_lines_pass_through_untouched() {
        for line in [
            &["restore", "a.tar.gz", "--to", "app", "-i", "k.txt", "-y"][..],
            &["--config", "f.toml", "verify", "a.tar.gz"],
            &["log", "append", "L", "a", "--key", "k"],
            &["--help"],
            &[],
        ] {
            let (args, notes) = t(line).unwrap();
            assert_eq!(args, line, "{line:?}");
            assert!(notes.is_empty(), "{line:?}: {notes:?}");
        }
    }
}

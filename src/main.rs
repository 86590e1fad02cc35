//! The binary: parse arguments, run, print, and map the error to an exit code.
//! This is the only place that exits.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};
use projectrestore::event::{Events, Fanout};
use projectrestore::restore;
use projectrestore::source::Cancel;
use projectrestore::{Category, Error};

/// `verify` and `ls`: the whole checked pass of one archive, with a bar.
fn checked_run(
    args: &cli::VerifyCmd,
    action: restore::Action,
    strip_components: usize,
    cancel: Cancel,
    events: &dyn Events,
) -> Result<projectrestore::report::Report, Failure> {
    let mut opts = args.check.options();
    opts.input = Some(args.check.input(&args.archive)?);
    opts.log = args.log.options();
    opts.action = action;
    opts.policy.strip_components = strip_components;
    opts.cancel = cancel;
    let bar = cli::progress::Bar::for_output(&args.output);
    let report = restore::run(
        &opts,
        &Fanout(vec![&bar, events]),
        &cli::interact::Suspending::shared(args.check.interaction(false), bar.handle()),
    )?;
    bar.finish();
    Ok(report)
}

/// A usage error (exit 64), as JSON with `--json` on the command line.
fn usage_error(message: &str, hint: Option<String>, json: bool) -> ExitCode {
    if json {
        let hint = hint.unwrap_or_else(|| "see --help".into());
        // The same document as every other failure's.
        let value = serde_json::json!({ "schema": projectrestore::report::SCHEMA, "error": message, "exit_code": 64, "hint": hint });
        let _ = writeln!(io::stdout(), "{value}");
    } else {
        eprintln!("projectrestore: error: {message}");
        if let Some(h) = hint {
            eprintln!("  hint: {h}");
        }
    }
    ExitCode::from(64)
}

/// The `--events FILE` of a command line clap refused (not `-`: standard
/// output carries the error itself).
fn events_file_arg(args: &[std::ffi::OsString]) -> Option<std::path::PathBuf> {
    let mut it = args.iter().skip(1).take_while(|a| *a != "--");
    while let Some(a) = it.next() {
        let a = a.to_str()?;
        let value = match a.strip_prefix("--events=") {
            Some(v) => v.to_string(),
            None if a == "--events" => it.next()?.to_str()?.to_string(),
            None => continue,
        };
        return (value != "-").then(|| value.into());
    }
    None
}

/// clap's rendered error as the tool's `error:` message and `hint:` (its tip,
/// then the usage line and the `--help` that explains it).
fn clap_error(text: &str, named: Option<&str>) -> (String, String) {
    let message = text
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_string();
    let tip = text.lines().find_map(|l| l.trim().strip_prefix("tip: "));
    let usage = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(str::trim);
    // "projectrestore restore [OPTIONS] [ARCHIVE]" -> "projectrestore restore".
    let command = usage
        .map(|u| {
            u.split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| match named {
            Some(n) => format!("projectrestore {n}"),
            None => "projectrestore".into(),
        });
    let mut hint = String::new();
    if let Some(t) = tip {
        hint.push_str(t);
        hint.push_str("; ");
    }
    if let Some(u) = usage {
        hint.push_str(&format!("usage: {u}; "));
    }
    hint.push_str(&format!("see `{command} --help`"));
    (message, hint)
}

/// A panic inside a contained parser (projectrestore::contain) is caught and
/// reported as a refusal of the input: the hook says nothing for it. Any other
/// panic is a bug in this tool; the default report is followed by a line
/// that says so.
fn quiet_contained_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if projectrestore::contain::containing() {
            return;
        }
        default(info);
        eprintln!(
            "projectrestore: internal error (a bug in projectrestore, not in your archive); please report it with the lines above"
        );
    }));
}

fn main() -> ExitCode {
    quiet_contained_panics();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let raw_args = args.clone();
    // With --json on the command line, a usage error is JSON too (issue 16, item 10).
    let wants_json = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
        && !args
            .iter()
            .skip(1)
            .any(|a| a == "decrypt" || a == "completions" || a == "man");
    // The Python 4.x spellings (MIGRATING.md), lowered onto this command line.
    let command = Cli::command();
    let translated = match cli::legacy::translate(args, &command) {
        Ok(t) => t,
        Err(why) => return usage_error(&why, None, wants_json),
    };
    for line in &translated.deprecations {
        eprintln!("projectrestore: {line}");
    }
    // The subcommand named, for the `--help` a usage error points to.
    let named = translated
        .args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find_map(|a| command.find_subcommand(a).map(|c| c.get_name().to_string()));
    let parsed = command
        .try_get_matches_from(translated.args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (mut cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(match e.kind() {
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                    _ => 64,
                });
            }
            // clap's errors in the tool's own style (issue 16, item 9): one
            // `error:` line, a `hint:` with clap's tip and where help is.
            let (message, hint) = clap_error(&e.render().to_string(), named.as_deref());
            // The event stream promises a last `failed` line, usage errors too.
            if let Some(file) = events_file_arg(&raw_args) {
                if let Ok(events) = cli::events::EventFile::open(&file) {
                    events.emit(&projectrestore::event::Event::Failed {
                        category: projectrestore::Category::Usage,
                        exit_code: 64,
                        message: message.clone(),
                        hint: Some(hint.clone()),
                    });
                }
            }
            return usage_error(&message, Some(hint), wants_json);
        }
    };
    let cancel = Cancel::new();
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // If registration fails the default disposition stays: the process dies and
        // staging is cleaned up by the next run, so this is not fatal.
        let _ = signal_hook::flag::register(signal, cancel.flag());
    }
    let json = match &cli.command {
        Command::Restore(a) => a.output.json,
        Command::Verify(a) => a.output.json,
        Command::Ls(a) => a.verify.output.json,
        Command::List(a) => a.json,
        Command::Decrypt(_) => false,
        Command::Recover(a) => a.json,
        Command::Preview(a) => a.output.json,
        Command::Plan(a) => a.json,
        Command::History(a) => a.json,
        Command::Rollback(a) => a.json,
        Command::Prune(a) => a.json,
        Command::Config(a) => a.json,
        Command::Completions { .. } | Command::Man { .. } => false,
        Command::Log(cli::LogCmd::Append(a)) => a.json,
        Command::Log(cli::LogCmd::Verify { json, .. })
        | Command::Log(cli::LogCmd::Prove { json, .. })
        | Command::Log(cli::LogCmd::Show { json, .. }) => *json,
        Command::Log(_) => false,
        Command::Audit(a) => a.json,
    };
    // --events: the event stream, opened before anything runs so that a failure
    // is its last line.
    let events_path = match &mut cli.command {
        Command::Restore(a) => events_arg(&mut a.output),
        Command::Verify(a) => events_arg(&mut a.output),
        Command::Ls(a) => events_arg(&mut a.verify.output),
        Command::Preview(a) => events_arg(&mut a.output),
        Command::Audit(a) => a.events.clone(),
        Command::Rollback(a) => a.events.clone(),
        _ => None,
    };
    if events_path.as_deref() == Some(std::path::Path::new("-")) && json {
        let e = Error::Usage(
            "--events - and --json both write to standard output; give --events a file, or drop --json (the last event carries the report)".into(),
        );
        print_error(&e, e.exit_code(), json);
        return ExitCode::from(64);
    }
    let events_file = match events_path.as_deref().map(cli::events::EventFile::open) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            let e = Error::Usage(format!(
                "cannot write the event stream to {}: {e}",
                events_path
                    .as_deref()
                    .unwrap_or(std::path::Path::new("-"))
                    .display()
            ));
            print_error(&e, e.exit_code(), json);
            return ExitCode::from(64);
        }
    };
    let no_events = projectrestore::event::NoEvents;
    let events: &dyn Events = match &events_file {
        Some(f) => f,
        None => &no_events,
    };
    // Settings from the environment and rc files fill in what flags left unset.
    let uses_config = matches!(
        cli.command,
        Command::Restore(_)
            | Command::Preview(_)
            | Command::Plan(_)
            | Command::Verify(_)
            | Command::Ls(_)
            | Command::List(_)
            | Command::Audit(_)
            | Command::History(_)
            | Command::Rollback(_)
            | Command::Prune(_)
            | Command::Config(_)
    );
    let config = if uses_config {
        let loaded =
            projectrestore::config::Config::load(cli.config.as_deref(), cli::settings::env())
                .map_err(Error::from)
                .and_then(|c| cli::settings::apply(&mut cli, &matches, &c).map(|()| c));
        match loaded {
            Ok(c) => {
                if let Some((file, keys)) = c.ignored() {
                    eprintln!(
                        "warning: {} sets {}, which a project file may not set unless your user file allows this directory (allow_project_dirs); ignored",
                        projectrestore::report::escape(&file.display().to_string()),
                        keys.join(", ")
                    );
                }
                c
            }
            Err(e) => {
                let code = e.exit_code();
                failed(events, &e, code);
                print_error(&e, code, json);
                return ExitCode::from(code);
            }
        }
    } else {
        projectrestore::config::Config::default()
    };
    // The notification targets are read before anything runs: a bad one is a
    // usage error, not a surprise after the restore.
    let (notifier, told) =
        match cli::notify::Notifier::for_command(&cli.command, &config, cancel.clone()) {
            Ok(n) => n,
            Err(e) => {
                let code = e.exit_code();
                failed(events, &e, code);
                print_error(&e, code, json);
                return ExitCode::from(code);
            }
        };
    let code = match run(cli, cancel, &config, events, &notifier) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Pipe) => ExitCode::SUCCESS,
        Err(Failure::Exit(code)) => ExitCode::from(code),
        Err(Failure::Error(e)) => {
            let code = e.exit_code();
            failed(events, &e, code);
            print_error(&e, code, json);
            // Told after the failure is out: a slow receiver delays nothing
            // the user reads. A "no" to a question is a choice, not a failure.
            let declined = matches!(e, Error::NotConfirmed(_)) && cli::interact::declined();
            if let (Some((command, dry_run)), false) = (told, declined) {
                notifier.failed(command, &e, dry_run);
            }
            ExitCode::from(code)
        }
    };
    if let Some(e) = events_file
        .as_ref()
        .and_then(cli::events::EventFile::take_error)
    {
        eprintln!("warning: the event stream could not be written completely: {e}");
    }
    code
}

/// The `--events` file of a command that prints a report; with `-` (standard
/// output) the human summary is not printed there.
fn events_arg(output: &mut cli::OutputArgs) -> Option<std::path::PathBuf> {
    if output.events.as_deref() == Some(std::path::Path::new("-")) {
        output.quiet = true;
    }
    output.events.clone()
}

/// The last event of a failed command.
fn failed(events: &dyn Events, e: &Error, code: u8) {
    events.emit(&projectrestore::event::Event::Failed {
        category: e.category(),
        exit_code: code,
        message: e.message(),
        hint: hint(e),
    });
}

pub(crate) enum Failure {
    Error(Error),
    /// stdout was closed (e.g. `| head`): a clean exit.
    Pipe,
    /// The report was printed and says what failed; exit with this code.
    Exit(u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<projectrestore::log::LogError> for Failure {
    fn from(e: projectrestore::log::LogError) -> Self {
        Failure::Error(e.into())
    }
}

impl From<projectrestore::source::SourceError> for Failure {
    fn from(e: projectrestore::source::SourceError) -> Self {
        Failure::Error(e.into())
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::Pipe
        } else {
            Failure::Error(Error::from(e))
        }
    }
}

fn run(
    cli: Cli,
    cancel: Cancel,
    config: &projectrestore::config::Config,
    events: &dyn Events,
    notifier: &cli::notify::Notifier,
) -> Result<(), Failure> {
    match cli.command {
        Command::Restore(args) => {
            let dry_run = args.dry_run;
            let mut opts = args.target.options("restore", |dest| {
                if dry_run {
                    restore::Action::DryRun { dest }
                } else {
                    restore::Action::Restore { dest }
                }
            })?;
            opts.home = cli::settings::env()
                .home()
                .map(std::path::Path::to_path_buf);
            opts.selection =
                projectrestore::select::Selection::new(&args.paths, &args.include, &args.exclude)
                    .map_err(Error::Usage)?;
            opts.selection.replace = args.replace_with_selection;
            if args.replace_with_selection && opts.selection.is_all() {
                return Err(Error::Usage(
                    "--replace-with-selection needs a selection: PATH arguments, --include or --exclude".into(),
                )
                .into());
            }
            opts.same_owner = args.same_owner;
            opts.keep = args.keep;
            opts.wait = args.wait;
            opts.yes = args.yes;
            opts.follow_dest_symlink = args.follow_dest_symlink;
            opts.log.anchor = args.anchor.clone();
            opts.log.signer = args.log_key.clone();
            opts.cancel = cancel;
            let bar = cli::progress::Bar::for_output(&args.output);
            let fan = Fanout(vec![&bar, events]);
            // Not before a person has seen the preview and said yes.
            if !args.interactive {
                notifier.start(dry_run);
            }
            let (prepared, mut report) = if args.interactive {
                if args.output.events.as_deref() == Some(std::path::Path::new("-")) {
                    return Err(Error::Usage(
                        "--interactive shows the preview on standard output, so --events cannot write there; give --events a file".into(),
                    )
                    .into());
                }
                let ui = cli::interact::Suspending::shared(
                    std::sync::Arc::new(cli::interact::Terminal {
                        passphrase_file: args.target.check.passphrase_file.clone(),
                        confirm: true,
                        answer_from_stdin: true,
                    }),
                    bar.handle(),
                );
                restore::run_previewed(&opts, &fan, &ui, &mut |previewed| {
                    bar.finish();
                    if let Some(p) = &previewed.preview {
                        cli::output::preview(p, previewed, false)?;
                    }
                    Ok(())
                })?
            } else {
                let prepared = restore::prepare(&opts)?;
                let report = prepared.execute(
                    &fan,
                    &cli::interact::Suspending::shared(
                        args.target.check.interaction(true),
                        bar.handle(),
                    ),
                )?;
                (prepared, report)
            };
            bar.finish();
            // Told once the swap is durable (execute returned), before the
            // report is printed: the report says what each target was told.
            report.notifications = notifier.succeeded("restore", &report);
            cli::output::report(&report, args.output.json, args.output.quiet)?;
            if !args.output.json && !args.output.quiet && opts.policy.strip_components == 0 {
                if let Some(tip) = cli::output::one_top_directory(&report) {
                    eprintln!("{tip}");
                }
            }
            // Old generations are removed after the report is out (off the
            // critical path); a crash meanwhile leaves trash that recovery removes.
            if let Err(e) = prepared.after(events) {
                eprintln!(
                    "warning: restored, but removing generations beyond --keep {} failed: {e}; the next restore retries",
                    opts.keep
                );
            }
            cli::finished(events, &report);
        }
        Command::Preview(args) => {
            let diff = args.diff;
            let mut opts = args
                .target
                .options("preview", |dest| restore::Action::Preview { dest, diff })?;
            opts.cancel = cancel;
            let bar = cli::progress::Bar::for_output(&args.output);
            let report = restore::run(
                &opts,
                &Fanout(vec![&bar, events]),
                &cli::interact::Suspending::shared(
                    args.target.check.interaction(false),
                    bar.handle(),
                ),
            )?;
            bar.finish();
            let stdout_is_events = args.output.events.as_deref() == Some(std::path::Path::new("-"));
            match &report.preview {
                _ if stdout_is_events => {}
                Some(p) if !args.output.json => {
                    cli::output::preview(p, &report, args.output.quiet)?
                }
                _ => cli::output::report(&report, args.output.json, args.output.quiet)?,
            }
            cli::finished(events, &report);
        }
        Command::Plan(args) => {
            let mut opts = args
                .target
                .options("plan", |dest| restore::Action::Restore { dest })?;
            opts.keep = args.keep;
            opts.yes = args.yes;
            opts.log.anchor = args.anchor.clone();
            opts.log.signer = args.log_key.clone();
            let plan = restore::plan(&opts)?;
            cli::output::plan(&plan, args.json)?;
        }
        Command::History(args) => {
            let dir = cli::dir_arg(&args.dir, "history")?;
            let h = projectrestore::history::history(&dir)?;
            cli::output::history(&h, args.json)?;
        }
        Command::Rollback(args) => {
            let dir = cli::dir_arg(&args.dir, "rollback")?;
            let target = match (&args.generation, &args.before) {
                (Some(g), _) => projectrestore::history::Target::Generation(g.clone()),
                (None, Some(b)) => projectrestore::history::Target::before(b)?,
                (None, None) => projectrestore::history::Target::Previous,
            };
            let mut r = projectrestore::history::rollback(
                &dir,
                &target,
                args.keep,
                args.wait,
                args.yes,
                &cli::interact::Terminal {
                    passphrase_file: None,
                    confirm: true,
                    answer_from_stdin: false,
                },
                events,
            )?;
            r.notifications = notifier.succeeded("rollback", &r);
            if args.events.as_deref() != Some(std::path::Path::new("-")) {
                cli::output::rollback(&r, args.json)?;
            }
            cli::finished(events, &r);
        }
        Command::Prune(args) => {
            let dir = cli::dir_arg(&args.dir, "prune")?;
            let r = projectrestore::history::prune(
                &dir,
                args.keep,
                args.older_than,
                args.wait,
                events,
            )?;
            cli::output::pruned(&r, args.json)?;
        }
        Command::Config(args) => cli::output::config(config, args.json)?,
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "projectrestore",
                &mut io::stdout(),
            );
        }
        Command::Man { out } => {
            for page in cli::man::run(out.as_deref())? {
                println!("{}", page.display());
            }
        }
        Command::Ls(args) => {
            let cli::LsCmd {
                verify: args,
                strip_components,
            } = args;
            let report = checked_run(
                &args,
                restore::Action::List,
                strip_components,
                cancel,
                events,
            )?;
            // With --events -, stdout is the event stream (the report, entries
            // and all, is its last line).
            if args.output.events.as_deref() != Some(std::path::Path::new("-")) {
                cli::output::listing(&report, args.output.json, args.output.quiet)?;
            }
            cli::finished(events, &report);
        }
        Command::Verify(args) => {
            let report = checked_run(&args, restore::Action::Verify, 0, cancel, events)?;
            cli::output::report(&report, args.output.json, args.output.quiet)?;
            cli::finished(events, &report);
        }
        Command::Decrypt(args) => {
            // age's rule: the plaintext is binary (a compressed tar); a terminal
            // would get garbage and its escape sequences.
            if args.output.is_none() && io::stdout().is_terminal() {
                return Err(Error::Usage(
                    "refusing to write the decrypted archive (binary) to a terminal: pass -o FILE, or pipe it (| tar -tzf -)".into(),
                )
                .into());
            }
            let input = args.store.input(&args.archive)?;
            projectrestore::restore::decrypt_to(
                &input,
                &args.identity,
                args.gpg_agent,
                cli::interact::Terminal::shared(args.passphrase_file.clone(), false),
                args.output.as_deref(),
                &cancel,
            )?;
        }
        Command::List(args) => {
            let dir = args
                .backup_dir
                .unwrap_or_else(cli::settings::default_backup_dir);
            let list = args
                .store
                .catalog(&dir)?
                .list(&args.pattern)
                .map_err(Error::from)?;
            cli::output::backups(&list, args.json)?;
        }
        Command::Recover(args) => {
            let recovery = projectrestore::commit::recover_dir(&args.dir).map_err(Error::from)?;
            let told = notifier.succeeded(
                "recover",
                &projectrestore::report::Recovered::new(&args.dir, &recovery, &[]),
            );
            cli::output::recovery(&args.dir, &recovery, &told, args.json)?;
        }
        Command::Log(cmd) => {
            if matches!(cmd, cli::LogCmd::Verify { .. }) {
                LOG_VERIFY.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            cli::logcmd::run(cmd, cancel)?
        }
        Command::Audit(args) => {
            if !cli::logcmd::audit(args, cancel, events, notifier)? {
                return Err(Failure::Exit(Category::Verification.exit_code()));
            }
        }
    }
    Ok(())
}

/// Set while `log verify` runs: its failures get the log's own hint.
static LOG_VERIFY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What to do next: the library's hint, except that from `log verify` itself
/// the log's own report is the news.
fn hint(e: &Error) -> Option<String> {
    use projectrestore::log::LogError;
    if LOG_VERIFY.load(std::sync::atomic::Ordering::Relaxed)
        && matches!(
            e,
            Error::Log(LogError::Tampered(_) | LogError::Checkpoint { .. } | LogError::Tiles(_))
        )
    {
        return Some("the log's history was rewritten, reordered or truncated, or its checkpoint forged: do not trust archives by it; restore the log directory from a copy you trust".into());
    }
    e.hint()
}

fn print_error(e: &Error, code: u8, json: bool) {
    // Someone answered no: that is a choice, not an error to fix (restic, gh).
    if matches!(e, Error::NotConfirmed(_)) && cli::interact::declined() {
        if json {
            let value = serde_json::json!({ "schema": projectrestore::report::SCHEMA, "aborted": true, "error": "Aborted.", "exit_code": code, "hint": null });
            let _ = writeln!(io::stdout(), "{value}");
        } else {
            eprintln!("Aborted.");
        }
        return;
    }
    let message = e.message();
    if json {
        let value = serde_json::json!({ "schema": projectrestore::report::SCHEMA, "error": message, "exit_code": code, "hint": hint(e) });
        // stdout may be closed (`| head`); there is nowhere left to report that.
        let _ = writeln!(io::stdout(), "{value}");
        return;
    }
    eprintln!("projectrestore: error: {message}");
    if let Some(h) = hint(e) {
        eprintln!("  hint: {h}");
    }
}

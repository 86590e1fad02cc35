//! `log …` and `audit`: run the library and print (text or `--json`).

use std::io::{self, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;

use projectrestore::event::Events;
use projectrestore::log::{self, Log, LogError};
use projectrestore::report::escape;
use projectrestore::restore::Options;
use projectrestore::source::Cancel;
use projectrestore::verify::SigPolicy;
use projectrestore::Error;

use super::{AuditArgs, LogAppendArgs, LogCmd};
use crate::Failure;

fn pinned(vkey: &Option<String>) -> Result<Option<log::note::VerifierKey>, LogError> {
    vkey.as_deref().map(log::load_vkey).transpose()
}

/// A log command's JSON document, `"schema"` first.
fn json_out<T: Serialize>(v: &T) -> io::Result<()> {
    super::output::json_doc(&mut io::stdout().lock(), v)
}

/// Run a `log` subcommand.
pub fn run(cmd: LogCmd, cancel: Cancel) -> Result<(), Failure> {
    match cmd {
        LogCmd::Keygen { origin, output } => {
            let vkey = log::keygen(&origin, &output)?;
            println!("{}", vkey.encode());
            eprintln!(
                "wrote the signing key to {} (keep it secret); the line above is the verifier key to pin with --vkey / --log-vkey",
                output.display()
            );
        }
        LogCmd::Init { log: dir, key } => {
            let signer = log::load_signer(&key)?;
            let cp = log::init(&dir, &signer)?;
            println!(
                "created log {} ({}), size {}",
                dir.display(),
                cp.checkpoint.origin,
                cp.checkpoint.size
            );
        }
        LogCmd::Append(args) => append(args, cancel)?,
        LogCmd::Verify {
            log: dir,
            checkpoint,
            vkey,
            json,
        } => {
            let report = log::verify_dir(&dir, vkey.as_deref(), checkpoint.as_deref())?;
            if json {
                json_out(&report)?;
            } else {
                for w in &report.warnings {
                    eprintln!("warning: {w}");
                }
                println!(
                    "log {} ok: {} entries, root {}, signed by {}",
                    escape(&report.origin),
                    report.size,
                    report.root,
                    report.key
                );
                if let Some(n) = report.consistent_with {
                    println!(
                        "  consistent with the older checkpoint of {n} entries: history only grew"
                    );
                }
            }
        }
        LogCmd::Prove {
            log: dir,
            archive,
            index,
            tlog_proof,
            vkey,
            json,
        } => {
            let log = Log::open(&dir, pinned(&vkey)?)?;
            let index = match (index, archive) {
                (Some(i), _) => i,
                (None, Some(a)) => log::index_of(&log, &dir, &a, &cancel)?,
                (None, None) => {
                    return Err(Error::Usage(
                        "give an ARCHIVE (file or SHA-256) or --index N".into(),
                    )
                    .into())
                }
            };
            let proof = log.prove(index)?;
            if let Some(path) = &tlog_proof {
                log::write_tlog_proof(&proof, path)?;
            }
            if json {
                json_out(&proof)?;
            } else {
                println!(
                    "entry {} of {} (leaf hash {})",
                    proof.leaf_index, proof.tree_size, proof.leaf_hash
                );
                for h in &proof.audit_path {
                    println!("  {h}");
                }
                print!("{}", proof.checkpoint);
                if let Some(p) = &tlog_proof {
                    eprintln!("wrote {}", p.display());
                }
            }
        }
        LogCmd::Show {
            log: dir,
            last,
            vkey,
            json,
        } => {
            let log = Log::open(&dir, pinned(&vkey)?)?;
            let cp = log.checkpoint()?;
            let entries = log.tail(cp.checkpoint.size, last)?;
            if json {
                #[derive(Serialize)]
                struct Show<'a> {
                    origin: &'a str,
                    size: u64,
                    root: String,
                    key: String,
                    entries: &'a [log::Entry],
                }
                json_out(&Show {
                    origin: &cp.checkpoint.origin,
                    size: cp.checkpoint.size,
                    root: B64.encode(cp.checkpoint.root),
                    key: log.key().encode(),
                    entries: &entries,
                })?;
            } else {
                println!(
                    "log {}: {} entries, root {}",
                    escape(&cp.checkpoint.origin),
                    cp.checkpoint.size,
                    B64.encode(cp.checkpoint.root)
                );
                println!("key {}", log.key().encode());
                for e in &entries {
                    println!(
                        "{:>6}  {}  {}  {}  {}  {}",
                        e.seq,
                        e.time,
                        &e.sha256[..e.sha256.len().min(16)],
                        escape(&e.project),
                        escape(&e.archive),
                        if e.signers.is_empty() {
                            "-".to_string()
                        } else {
                            escape(&e.signers.join(", "))
                        }
                    );
                }
            }
        }
    }
    Ok(())
}

fn append(args: Box<LogAppendArgs>, cancel: Cancel) -> Result<(), Failure> {
    let signer = log::load_signer(&args.key)?;
    let log = Log::open(&args.log, Some(signer.verifier()))?;
    let mut opts = args.check.options();
    let input = args.check.input(&args.archive)?;
    let name = input.file_name().unwrap_or_default();
    opts.input = Some(input);
    opts.cancel = cancel;
    let out = log::anchor::append_verified(
        &log,
        &signer,
        &opts,
        args.project.as_deref(),
        &projectrestore::event::NoEvents,
        &args.check.interaction(false),
    )?;
    if args.json {
        json_out(&out)?;
    } else {
        for w in &out.warnings {
            eprintln!("warning: {w}");
        }
        if out.appended {
            println!(
                "appended {} as entry {} (log size {})",
                escape(&name),
                out.index,
                out.tree_size
            );
        } else {
            println!(
                "{} is already entry {} of the log; nothing appended",
                escape(&name),
                out.index
            );
        }
    }
    Ok(())
}

/// `audit`: returns whether every archive passed (the caller exits 4 if not).
pub fn audit(
    args: AuditArgs,
    cancel: Cancel,
    events: &dyn Events,
    notifier: &super::notify::Notifier,
) -> Result<bool, Failure> {
    let dir = args
        .backup_dir
        .clone()
        .unwrap_or_else(super::settings::default_backup_dir);
    let catalog = args.store.catalog(&dir)?;
    let log = match &args.log {
        Some(l) => Some(Log::open(l, pinned(&args.log_vkey)?)?),
        None => None,
    };
    let base = Options {
        trust: args.trust.clone(),
        trust_origin: args.trust_origin.clone(),
        sig_policy: SigPolicy {
            threshold: args.threshold,
            allow_unsigned: args.allow_unsigned,
            ssh_namespace: args.ssh_namespace.clone(),
            allow_legacy_minisign: args.allow_legacy_minisign,
        },
        cancel,
        ..Options::default()
    };
    let mut audit =
        projectrestore::audit::audit(catalog.as_ref(), &args.pattern, &base, log.as_ref(), events)?;
    audit.notifications = if audit.failed == 0 {
        notifier.succeeded("audit", &audit)
    } else {
        notifier.audit_failed(&audit)
    };
    let (rows, failed) = (&audit.archives, audit.failed);
    let to_stdout = args.events.as_deref() == Some(std::path::Path::new("-"));
    if args.json {
        // The audit report carries its schema itself.
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &audit).map_err(io::Error::from)?;
        writeln!(out)?;
    } else if to_stdout {
        // Standard output carries the event stream.
    } else {
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "{:<48} {:<19} {:>9} {:<8} {:<24} {:<7} VERDICT",
            "ARCHIVE", "DATE", "SIZE", "CHECKSUM", "SIGNERS", "LOGGED"
        )?;
        for r in rows {
            let signers = if r.signers.is_empty() {
                "-".to_string()
            } else {
                r.signers.join(", ")
            };
            let logged = match (r.logged, &log) {
                (Some(i), _) => format!("#{i}"),
                (None, Some(_)) if r.sha256.is_none() => "?".into(),
                (None, Some(_)) => "no".into(),
                (None, None) => "-".into(),
            };
            writeln!(
                out,
                "{:<48} {:<19} {:>9} {:<8} {:<24} {:<7} {}",
                r.archive,
                r.archive_time
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |t| t.replacen('T', " ", 1)),
                super::output::human_bytes(r.size),
                match r.checksum {
                    Some("mismatch") => "MISMATCH",
                    Some(c) => c,
                    None => "none",
                },
                escape(&signers),
                logged,
                match &r.problem {
                    None => "ok".to_string(),
                    Some(p) => format!("FAIL: {p}"),
                }
            )?;
        }
        writeln!(out, "{} archives, {} failed", rows.len(), failed)?;
    }
    super::finished(events, &audit);
    Ok(failed == 0)
}

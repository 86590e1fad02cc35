//! Human and JSON output. Everything the user reads is printed here.

use std::io::{self, Write};

use projectrestore::commit::Recovery;
use projectrestore::discover::Backup;
use projectrestore::report::{escape, Report};
use projectrestore::verify::Outcome;

/// Print a report: one JSON object, or a short human summary.
pub fn report(r: &Report, json: bool, quiet: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, r)?;
        return writeln!(out);
    }
    let mut err = io::stderr().lock();
    for w in &r.warnings {
        writeln!(err, "warning: {w}")?;
    }
    if quiet {
        return Ok(());
    }
    let layers: Vec<&str> = r.layers.iter().map(|f| f.name()).collect();
    let verb = match (&r.destination, r.dry_run) {
        (Some(d), _) => format!("restored into {d}"),
        (None, true) => "checked (nothing written)".to_string(),
        (None, false) => "checked".to_string(),
    };
    writeln!(out, "{} {verb}", r.archive)?;
    writeln!(
        out,
        "  {} files, {} directories, {} symlinks, {} hardlinks, {} in {:.2} s ({:.0} MB/s)",
        r.summary.files,
        r.summary.dirs,
        r.summary.symlinks,
        r.summary.hardlinks,
        human_bytes(r.summary.bytes),
        r.duration_ms as f64 / 1000.0,
        r.throughput_mb_s()
    )?;
    writeln!(
        out,
        "  archive: {} ({}), sha256 {}, {}",
        human_bytes(r.size),
        layers.join(" > "),
        r.sha256,
        r.mode
    )?;
    if let Some(e) = &r.encryption {
        writeln!(out, "  decrypted: {e}")?;
    }
    if let Some(c) = &r.checksum {
        writeln!(
            out,
            "  checksum: {} ({})",
            if c.matched { "ok" } else { "MISMATCH" },
            c.file
        )?;
    }
    if let Some(v) = &r.signatures {
        for s in &v.signatures {
            let state = match (s.valid, s.trusted) {
                (true, true) => "good, trusted",
                (true, false) => "good, NOT trusted",
                (false, _) => "BAD",
            };
            writeln!(
                out,
                "  signature: {} {} {}{}{}",
                s.scheme,
                s.key,
                state,
                s.signer
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                s.reason
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default(),
            )?;
            if let Some(c) = &s.trusted_comment {
                writeln!(out, "    trusted comment: {c}")?;
            }
        }
        match &v.outcome {
            Outcome::Verified { signers } => writeln!(
                out,
                "  verified: signed by {} trusted key(s)",
                signers.len()
            )?,
            Outcome::NotRequired => writeln!(out, "  signatures: none required (no trust store)")?,
            Outcome::UnsignedAllowed { .. } => {
                writeln!(out, "  signatures: NOT VERIFIED (--allow-unsigned)")?
            }
            Outcome::Failed { reason } => writeln!(out, "  signatures: FAILED: {reason}")?,
        }
    }
    if let Some(l) = &r.log {
        if let Some(a) = &l.anchored {
            writeln!(
                out,
                "  log: included as entry {} of {} in {} (inclusion proof checked against the signed checkpoint)",
                a.leaf_index,
                a.tree_size,
                escape(&a.origin)
            )?;
        }
        if let Some(n) = &l.newest {
            writeln!(
                out,
                "  log: newest logged backup of {} is {} (entry {})",
                escape(&l.project),
                escape(&n.archive),
                n.seq
            )?;
        }
        if let Some(i) = l.appended {
            writeln!(out, "  log: appended as entry {i}")?;
        }
        if let Some(i) = l.already_logged {
            writeln!(out, "  log: already logged as entry {i}")?;
        }
    }
    if let Some(g) = &r.replaced_generation {
        writeln!(out, "  previous tree kept as generation {g}")?;
    }
    Ok(())
}

/// Print the backup list.
pub fn backups(list: &[Backup], json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, list)?;
        return writeln!(out);
    }
    if list.is_empty() {
        return writeln!(out, "no archives");
    }
    for b in list {
        writeln!(
            out,
            "{:<19}  {:>10}  {:<20}  {}",
            b.date.as_deref().unwrap_or(&b.modified),
            human_bytes(b.size),
            if b.sidecars.is_empty() {
                "-".to_string()
            } else {
                b.sidecars.join(",")
            },
            b.name
        )?;
    }
    Ok(())
}

/// Print what `recover` did.
pub fn recovery(dir: &str, r: &Recovery, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, r)?;
        return writeln!(out);
    }
    let swap = match r.swap.as_str() {
        "finished" => "an interrupted swap was finished (the new tree is in place)",
        "undone" => "an interrupted swap was undone (the old tree is in place)",
        _ => "no interrupted swap",
    };
    writeln!(
        out,
        "{}: {swap}; {} stale staging director{} removed",
        escape(dir),
        r.removed_staging,
        if r.removed_staging == 1 { "y" } else { "ies" }
    )
}

/// 1536 → "1.5 KiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

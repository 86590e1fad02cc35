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
        (Some(d), _) => format!("restored into {}", escape(d)),
        (None, true) => "checked (nothing written)".to_string(),
        (None, false) => "checked".to_string(),
    };
    writeln!(out, "{} {verb}", r.archive)?;
    // What was read and what was written (or checked), zero counts left out.
    let secs = r.duration_ms as f64 / 1000.0;
    let mib_s = if secs > 0.0 {
        r.size as f64 / f64::from(1 << 20) / secs
    } else {
        0.0
    };
    let done = if r.destination.is_some() && !r.dry_run {
        "wrote"
    } else {
        "checked"
    };
    let (written, of) = match &r.selected {
        Some(s) => (
            s,
            format!(", a selection of the archive's {}", counts(&r.summary)),
        ),
        None => (&r.summary, String::new()),
    };
    writeln!(
        out,
        "  read {} in {secs:.2} s ({mib_s:.1} MiB/s); {done} {} ({} of file contents{of})",
        human_bytes(r.size),
        counts(written),
        human_bytes(written.bytes),
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
    if let Some(x) = &r.extractor {
        writeln!(out, "  parsed: {} ({})", extractor_name(x.kind), x.reason)?;
    }
    let t = &r.trust_store;
    if t.paths.is_empty() {
        writeln!(out, "  trust store: none")?;
    } else {
        writeln!(
            out,
            "  trust store: {} from {} ({})",
            plural(t.keys as u64, "key", "keys"),
            t.paths.join(", "),
            t.origin.replace(['(', ')'], "")
        )?;
    }
    if let Some(when) = &r.signatures_checked {
        writeln!(out, "  signatures checked: {when}")?;
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
                signer_words(s),
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
                "  verified: signed by {}",
                plural(signers.len() as u64, "trusted key", "trusted keys")
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
    let gens = r.generations.as_ref();
    // The tree just replaced is the newest generation: number 1 in `history`.
    match (&r.replaced_generation, gens) {
        (Some(_), Some(g)) if g.keep == 0 => writeln!(
            out,
            "  previous tree not kept (--keep 0 keeps no generations)"
        )?,
        (Some(id), Some(g)) => writeln!(
            out,
            "  previous tree kept as generation 1 (id {id}{})",
            g.kept_bytes
                .map(|n| format!(", {}", human_bytes(n)))
                .unwrap_or_default()
        )?,
        (Some(id), None) => writeln!(out, "  previous tree kept as generation 1 (id {id})")?,
        (None, Some(g)) if g.identical_not_kept => writeln!(
            out,
            "  previous tree was the same as the restored one: not kept twice"
        )?,
        _ => {}
    }
    if let Some(g) = gens.filter(|g| g.count > 0) {
        writeln!(
            out,
            "  {} {} on disk (`projectrestore prune DIR --keep N` removes old ones)",
            plural(
                g.count as u64,
                "kept generation takes",
                "kept generations take"
            ),
            human_bytes(g.total_bytes)
        )?;
    }
    Ok(())
}

/// Write `body` as a JSON document with `"schema"` first.
pub fn json_doc<T: serde::Serialize>(out: &mut impl Write, body: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &projectrestore::report::Doc::new(body))?;
    writeln!(out)
}

/// Print the backup list.
pub fn backups(list: &[Backup], json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        #[derive(serde::Serialize)]
        struct Archives<'a> {
            archives: &'a [Backup],
        }
        return json_doc(&mut out, &Archives { archives: list });
    }
    if list.is_empty() {
        return writeln!(out, "no archives");
    }
    for b in list {
        writeln!(
            out,
            "{:<19}  {:>10}  {:<20}  {}",
            b.archive_time
                .as_deref()
                .map_or_else(|| b.modified.clone(), |t| t.replacen('T', " ", 1)),
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
pub fn recovery(
    dir: &std::path::Path,
    r: &Recovery,
    notifications: &[projectrestore::report::Delivery],
    json: bool,
) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        return json_doc(
            &mut out,
            &projectrestore::report::Recovered::new(dir, r, notifications),
        );
    }
    let dir = &dir.display().to_string();
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

/// Print what a restore would change.
pub fn preview(p: &projectrestore::preview::Preview, r: &Report, quiet: bool) -> io::Result<()> {
    let mut err = io::stderr().lock();
    for w in &r.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let mut out = io::stdout().lock();
    if p.is_empty() {
        writeln!(
            out,
            "{} would change nothing in {} ({} paths unchanged)",
            r.archive,
            escape(&p.destination),
            p.unchanged
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} would change {}:",
        r.archive,
        escape(&p.destination)
    )?;
    let t = &p.totals;
    writeln!(
        out,
        "  added {} ({}), removed {} ({}), modified {} ({} -> {}), mode changed {}, unchanged {}",
        p.added.len(),
        human_bytes(t.added_bytes),
        p.removed.len(),
        human_bytes(t.removed_bytes),
        p.modified.len(),
        human_bytes(t.modified_old_bytes),
        human_bytes(t.modified_new_bytes),
        p.mode_changed.len(),
        p.unchanged
    )?;
    if quiet {
        return Ok(());
    }
    let slash = |c: &projectrestore::preview::Change| if c.kind == "dir" { "/" } else { "" };
    for c in &p.added {
        let size = c
            .new_size
            .map(|s| format!(" ({})", human_bytes(s)))
            .unwrap_or_default();
        writeln!(out, "+ {}{}{size}", escape(&c.path), slash(c))?;
    }
    for c in &p.removed {
        let size = c
            .old_size
            .map(|s| format!(" ({})", human_bytes(s)))
            .unwrap_or_default();
        writeln!(out, "- {}{}{size}", escape(&c.path), slash(c))?;
    }
    for c in &p.modified {
        let size = match (c.old_size, c.new_size) {
            (Some(a), Some(b)) => format!(" ({} -> {})", human_bytes(a), human_bytes(b)),
            _ => String::new(),
        };
        writeln!(out, "M {}{}{size}", escape(&c.path), slash(c))?;
    }
    for c in &p.mode_changed {
        writeln!(
            out,
            "m {}{} ({} -> {})",
            escape(&c.path),
            slash(c),
            c.old_mode.as_deref().unwrap_or("?"),
            c.new_mode.as_deref().unwrap_or("?")
        )?;
    }
    for c in &p.modified {
        if let Some(d) = &c.diff {
            // Diff text comes from the archive and the disk: escape control characters
            // but keep the newlines.
            for line in d.lines() {
                writeln!(out, "{}", escape(line))?;
            }
        }
    }
    Ok(())
}

/// Print a destination's history.
pub fn history(h: &projectrestore::history::History, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, h)?;
        return writeln!(out);
    }
    if h.pending_recovery {
        writeln!(
            io::stderr(),
            "warning: an interrupted restore or rollback of {} awaits recovery; run `projectrestore recover {}` (the list below may be out of date)",
            escape(&h.destination),
            escape(&h.destination)
        )?;
    }
    match &h.current {
        Some(c) => writeln!(
            out,
            "{} now: {} ({} {}), {} files, {}",
            escape(&h.destination),
            escape(&c.archive),
            if c.how.is_empty() {
                "in place".to_string()
            } else {
                escape(&c.how)
            },
            escape(&c.time),
            c.files,
            human_bytes(c.bytes)
        )?,
        None => writeln!(
            out,
            "{}: not restored by projectrestore",
            escape(&h.destination)
        )?,
    }
    if h.generations.is_empty() {
        return writeln!(out, "no kept generations");
    }
    writeln!(
        out,
        "{:>3}  {:<20}  {:<20}  {:<16}  {:>6}  {:>9}  {:>9}  {:<24}  ARCHIVE",
        "#", "PUT IN PLACE", "REPLACED", "SHA256", "FILES", "SIZE", "ON DISK", "SIGNED BY"
    )?;
    for g in &h.generations {
        let m = &g.generation.meta;
        // Every field comes from a file in the state directory: escaped, and
        // cut by characters (a byte slice could split one).
        let (time, replaced) = (escape(&m.time), escape(&m.replaced));
        let sha: String = escape(&m.sha256).chars().take(16).collect();
        let signed = if m.signers.is_empty() {
            "unverified".to_string()
        } else {
            escape(&m.signers.join(", "))
        };
        writeln!(
            out,
            "{:>3}  {:<20}  {:<20}  {:<16}  {:>6}  {:>9}  {:>9}  {:<24}  {}{}",
            g.number,
            if time.is_empty() { "-" } else { &time },
            replaced,
            if sha.is_empty() { "-" } else { &sha },
            m.files,
            human_bytes(m.bytes),
            g.disk_bytes.map_or_else(|| "-".to_string(), human_bytes),
            signed,
            escape(&m.archive),
            if m.how == "rollback" {
                " (a rollback)"
            } else {
                ""
            }
        )?;
    }
    let total: u64 = h.generations.iter().map(|g| g.generation.meta.bytes).sum();
    let n = h.generations.len();
    let disk = h
        .disk_bytes
        .map(|d| format!(", {} on disk", human_bytes(d)))
        .unwrap_or_default();
    writeln!(
        out,
        "{n} generation{} {} of file contents{disk} (`prune DIR --keep N` removes old ones)",
        if n == 1 { " holds" } else { "s hold" },
        human_bytes(total)
    )
}

/// Print what a rollback did.
pub fn rollback(r: &projectrestore::history::RollbackReport, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, r)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{} rolled back to {} (restored {})",
        escape(&r.destination),
        escape(&r.restored.archive),
        escape(&r.restored.time)
    )?;
    if let Some(g) = &r.replaced_generation {
        writeln!(
            out,
            "  the replaced tree is kept as generation {g}; `rollback` again undoes this"
        )?;
    }
    if r.pruned > 0 {
        writeln!(
            out,
            "  {} removed beyond --keep",
            plural(r.pruned as u64, "old generation", "old generations")
        )?;
    }
    Ok(())
}

/// Print the effective settings and their sources.
pub fn config(c: &projectrestore::config::Config, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let rows: Vec<(&str, Option<(serde_json::Value, String)>)> = projectrestore::config::KEYS
        .iter()
        .map(|k| {
            let v = c.get(k);
            // Object-store settings may be credentials: their names only.
            let v = match (*k, v) {
                ("store", Some((serde_json::Value::Object(m), src))) => Some((
                    serde_json::Value::Array(
                        m.keys().cloned().map(serde_json::Value::String).collect(),
                    ),
                    src,
                )),
                (_, v) => v,
            };
            (*k, v)
        })
        .collect();
    // The variables an object store would read, by name.
    let mut store_env: Vec<String> = super::store_env()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    store_env.sort();
    if json {
        let map: serde_json::Map<String, serde_json::Value> = rows
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Some((value, source)) => serde_json::json!({"value": value, "source": source}),
                    None => serde_json::json!({"value": null, "source": "default"}),
                };
                (k.to_string(), v)
            })
            .collect();
        let mut map = map;
        map.insert("store_environment".into(), serde_json::json!(store_env));
        return json_doc(&mut out, &map);
    }
    for (k, v) in rows {
        match v {
            Some((value, source)) => writeln!(out, "{k} = {value}    # {}", escape(&source))?,
            None => writeln!(out, "# {k}: default")?,
        }
    }
    if !store_env.is_empty() {
        writeln!(
            out,
            "# object stores would read (values not shown): {}",
            escape(&store_env.join(", "))
        )?;
    }
    Ok(())
}

/// `plan`: what a restore would do.
pub fn plan(p: &projectrestore::plan::Plan, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, p)?;
        return writeln!(out);
    }
    let action = serde_json::to_value(p.action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    writeln!(out, "plan: {action} {}", p.source.display)?;
    if let Some(size) = p.source.size {
        writeln!(
            out,
            "  archive:     {} ({})",
            human_bytes(size),
            if p.source.rereadable {
                "can be read twice"
            } else {
                "read once"
            }
        )?;
    }
    writeln!(
        out,
        "  layers:      {}",
        match p.layers_expected.last() {
            None => "unknown format".to_string(),
            Some(last) => {
                let names: Vec<&str> = p.layers_expected.iter().map(|f| f.name()).collect();
                let inside = if last.is_encrypted() {
                    " → (inside the encryption: known once decrypted)"
                } else {
                    ""
                };
                format!("{}{inside}", names.join(" → "))
            }
        }
    )?;
    writeln!(out, "  passes:      {}: {}", p.passes.mode, p.passes.reason)?;
    writeln!(
        out,
        "  extractor:   {}: {}",
        extractor_name(p.extractor.kind),
        p.extractor.reason
    )?;
    let c = &p.checks;
    writeln!(
        out,
        "  trust store: {} ({} key{})",
        c.trust_store.origin,
        c.trust_store.keys,
        if c.trust_store.keys == 1 { "" } else { "s" }
    )?;
    for k in &c.keys {
        let id = k.key.split_once(':').map_or("", |(_, id)| id);
        let who = if k.signer == id {
            String::new()
        } else {
            format!(" {}", k.signer)
        };
        writeln!(out, "               {}{who} ({})", k.key, k.file)?;
    }
    if c.signatures.is_empty() {
        writeln!(out, "  signatures:  none beside the archive")?;
    }
    for s in &c.signatures {
        writeln!(out, "  signature:   {} ({})", s.file, s.scheme)?;
    }
    if let Some(when) = c.signatures_checked {
        writeln!(
            out,
            "  checked:     {when}; {} required{}",
            plural(
                c.threshold as u64,
                "distinct trusted key",
                "distinct trusted keys"
            ),
            if c.allow_unsigned {
                ", unsigned allowed"
            } else {
                ""
            }
        )?;
    }
    match &c.checksum {
        Some(f) => writeln!(out, "  checksum:    {f}")?,
        None => writeln!(out, "  checksum:    none")?,
    }
    if let Some(r) = &c.log.require_anchored {
        writeln!(
            out,
            "  log:         must be included in {r}{}",
            if c.log.rollback_protection {
                ", not older than the newest logged"
            } else {
                ""
            }
        )?;
    }
    if !p.identities.is_empty() {
        writeln!(out, "  identities:  {}", p.identities.join(", "))?;
    }
    if let Some(t) = &p.target {
        writeln!(
            out,
            "  destination: {} ({}){}",
            t.destination,
            t.state,
            if t.needs_confirmation {
                ", replaced only after a yes"
            } else {
                ""
            }
        )?;
    }
    for a in &p.after {
        match a {
            projectrestore::plan::AfterStep::Anchor { log } => {
                writeln!(out, "  then:        append to the log {log}")?
            }
            projectrestore::plan::AfterStep::Prune { keep } => writeln!(
                out,
                "  then:        keep {}",
                plural(*keep as u64, "generation", "generations")
            )?,
            _ => {}
        }
    }
    for n in &p.notes {
        writeln!(out, "  note:        {n}")?;
    }
    Ok(())
}

/// A projectclone archive restored as it is holds its project in one top
/// directory named like the archive: say how to get the project itself.
pub fn one_top_directory(r: &Report) -> Option<String> {
    if r.dry_run {
        return None;
    }
    let dest = std::path::Path::new(r.destination.as_deref()?);
    let mut entries = std::fs::read_dir(dest).ok()?;
    let only = entries.next()?.ok()?;
    if entries.next().is_some() || !only.file_type().ok()?.is_dir() {
        return None;
    }
    let top = only.file_name().into_string().ok()?;
    let archive = std::path::Path::new(&r.archive).file_name()?.to_str()?;
    // projectclone: ARCHIVE is TOP.tar.gz (or .tar.zst, .age, …).
    if !archive.starts_with(&format!("{top}.")) {
        return None;
    }
    Some(format!(
        "hint: the archive holds one top directory, {}/ (projectclone's layout); restore with --strip-components 1 to put the project itself in {}",
        projectrestore::report::escape(&top),
        projectrestore::report::escape(&dest.display().to_string())
    ))
}

/// `ls`: the entries (as `tar -tv` shows them) on stdout, then one line on
/// stderr saying what vouched for them; `--json` prints the whole report.
pub fn listing(r: &Report, json: bool, quiet: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, r)?;
        return writeln!(out);
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    for e in r.entries.iter().flatten() {
        let kind = match e.kind {
            "dir" => 'd',
            "symlink" => 'l',
            "hardlink" => 'h',
            _ => '-',
        };
        let mode = u32::from_str_radix(&e.mode, 8).unwrap_or(0);
        let rwx: String = (0..9)
            .map(|i| {
                let bit = 1 << (8 - i);
                if mode & bit == 0 {
                    '-'
                } else {
                    ['r', 'w', 'x'][i % 3]
                }
            })
            .collect();
        let when = e.mtime.replace('T', " ").trim_end_matches('Z').to_string();
        let slash = if e.kind == "dir" { "/" } else { "" };
        match &e.target {
            Some(t) if e.kind == "symlink" => writeln!(
                out,
                "{kind}{rwx} {:>12} {when}  {}{slash} -> {t}",
                e.size, e.path
            )?,
            Some(t) => writeln!(
                out,
                "{kind}{rwx} {:>12} {when}  {}{slash} link to {t}",
                e.size, e.path
            )?,
            None => writeln!(out, "{kind}{rwx} {:>12} {when}  {}{slash}", e.size, e.path)?,
        }
    }
    if !quiet {
        let n = r.entries.as_ref().map_or(0, Vec::len);
        let vouched = match r.signature_outcome() {
            Some(Outcome::Verified { signers }) => format!("signed by {}", signers.join(", ")),
            Some(Outcome::UnsignedAllowed { .. }) => "UNSIGNED (allowed)".into(),
            _ => "no signature required".into(),
        };
        let checksum = match &r.checksum {
            Some(c) if c.matched => ", checksum ok",
            _ => "",
        };
        eprintln!(
            "{n} entr{} in {}, every one checked; {vouched}{checksum}",
            if n == 1 { "y" } else { "ies" },
            escape(&r.archive)
        );
    }
    Ok(())
}

/// "6 files, 5 directories, 1 symlink": plurals, zero counts left out.
pub fn counts(s: &projectrestore::archive::Summary) -> String {
    let parts: Vec<String> = [
        (s.files, "file", "files"),
        (s.dirs, "directory", "directories"),
        (s.symlinks, "symlink", "symlinks"),
        (s.hardlinks, "hard link", "hard links"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect();
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

/// `prune`: what went and what is kept.
pub fn pruned(r: &projectrestore::history::PruneReport, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, r)?;
        return writeln!(out);
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    writeln!(
        out,
        "{}: removed {} generation{}, {} kept",
        r.destination,
        r.removed,
        plural(r.removed),
        r.kept
    )
}

/// " (Alice <a@example.org>, from keys/alice.asc)": who, when it says more than
/// the key id, and the trust-store file.
fn signer_words(s: &projectrestore::verify::SignatureReport) -> String {
    let id = s.key.split_once(':').map_or("", |(_, id)| id);
    let words: Vec<String> = [
        s.signer.clone().filter(|n| n != id),
        s.key_file.as_deref().map(|f| format!("from {f}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join(", "))
    }
}

/// "1 key", "2 keys".
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How the human output names an extractor.
fn extractor_name(kind: projectrestore::sandbox::ExtractorKind) -> &'static str {
    match kind {
        projectrestore::sandbox::ExtractorKind::Wasm => "in the Wasm sandbox",
        projectrestore::sandbox::ExtractorKind::Native => "natively",
    }
}

//! `log append`: verify an archive completely, then append its digest to the
//! log and sign a new checkpoint (unless it is already there).

use serde::Serialize;

use super::{project_of, Log, NewEntry};
use crate::event::Events;
use crate::interact::SharedInteraction;
use crate::report::{escape, Warning, WarningKind};
use crate::restore::{self, Options};
use crate::Error;

/// What `log append` did.
#[derive(Debug, Clone, Serialize)]
pub struct Appended {
    /// The archive's entry.
    pub index: u64,
    /// `false`: it was already in the log.
    pub appended: bool,
    pub tree_size: u64,
    pub sha256: String,
    /// The signed checkpoint now.
    pub checkpoint: String,
    pub warnings: Vec<Warning>,
}

/// Verify `opts.input` with the same full pass as `verify` (signatures,
/// checksum, decryption, every entry), then append it to `log` with `signer`
/// as `project` (default: from projectclone's name), timed now.
pub fn append_verified(
    log: &Log,
    signer: &super::note::SignerKey,
    opts: &Options,
    project: Option<&str>,
    events: &dyn Events,
    ui: &SharedInteraction,
) -> Result<Appended, Error> {
    let report = restore::run(opts, events, ui)?;
    let name = opts
        .input
        .as_ref()
        .and_then(|i| i.file_name())
        .unwrap_or_default();
    let Some(project) = project_of(project, &name, None) else {
        return Err(Error::Usage(format!(
            "{} does not follow projectclone's naming: pass --project NAME",
            escape(&name)
        )));
    };
    let cp = log.checkpoint()?;
    if let Some((e, _)) = log.find(cp.checkpoint.size, &report.sha256)? {
        return Ok(Appended {
            index: e.seq,
            appended: false,
            tree_size: cp.checkpoint.size,
            sha256: report.sha256,
            checkpoint: cp.note,
            warnings: report.warnings,
        });
    }
    let (idx, cp, repaired) = log.append(
        signer,
        &[NewEntry {
            sha256: report.sha256.clone(),
            size: report.size,
            archive: name,
            project,
            signers: report.signers(),
        }],
        &humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    )?;
    let mut warnings = report.warnings;
    warnings.extend(
        repaired
            .into_iter()
            .map(|m| Warning::new(WarningKind::LogRepaired, m)),
    );
    Ok(Appended {
        index: idx.first().copied().unwrap_or_default(),
        appended: true,
        tree_size: cp.checkpoint.size,
        sha256: report.sha256,
        checkpoint: cp.note,
        warnings,
    })
}

//! `audit`: every backup a catalog lists, checked as far as can be without
//! decrypting or extracting (digests, signatures, the checksum, and inclusion
//! in a log). An archive whose only possible signature is inside its encryption
//! fails the audit when signatures are required, never passes it.

use serde::Serialize;

use crate::discover::Catalog;
use crate::event::Events;
use crate::interact::NoInteraction;
use crate::log::{self, Log};
use crate::report::{Warning, SCHEMA};
use crate::restore::{self, Options};
use crate::Error;

/// One archive's result.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub archive: String,
    /// The time in the name, as [`crate::discover::Backup::archive_time`].
    pub archive_time: Option<String>,
    pub size: u64,
    /// SHA-256 of the stored bytes, once they were read.
    pub sha256: Option<String>,
    /// `ok` or `mismatch`; null without a checksum file.
    pub checksum: Option<&'static str>,
    pub signers: Vec<String>,
    /// The entry proving the archive is in the log, when a log was given.
    pub logged: Option<u64>,
    pub ok: bool,
    pub problem: Option<String>,
    pub warnings: Vec<Warning>,
}

/// The audit of a catalog.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub schema: u32,
    pub backup_dir: String,
    pub archives: Vec<AuditRow>,
    pub failed: usize,
    pub ok: bool,
    /// What `--notify` targets were told (only when there are any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<crate::report::Delivery>,
}

/// Audit every archive of `catalog` matching `pattern`, checked as `base`
/// says (trust store, policy; its input is ignored), and, with `log`, required
/// to be included in it. Each archive's run goes to `events`.
pub fn audit(
    catalog: &dyn Catalog,
    pattern: &str,
    base: &Options,
    log: Option<&Log>,
    events: &dyn Events,
) -> Result<AuditReport, Error> {
    let mut rows = Vec::new();
    for b in catalog.list(pattern)? {
        if base.cancel.is_set() {
            return Err(Error::Interrupted);
        }
        let opts = Options {
            input: Some(catalog.input(&b)),
            action: restore::Action::Audit,
            ..base.clone()
        };
        let mut row = AuditRow {
            archive: b.name.clone(),
            archive_time: b.archive_time.clone(),
            size: b.size,
            sha256: None,
            checksum: None,
            signers: Vec::new(),
            logged: None,
            ok: true,
            problem: None,
            warnings: Vec::new(),
        };
        match restore::run(&opts, events, &NoInteraction::shared()) {
            Ok(r) => fill(&mut row, &r, log),
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => {
                row.ok = false;
                row.problem = Some(e.to_string());
                if let Error::Verify(crate::verify::VerifyError::Checksum(_)) = &e {
                    row.checksum = Some("mismatch");
                }
            }
        }
        rows.push(row);
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    Ok(AuditReport {
        schema: SCHEMA,
        backup_dir: catalog.display(),
        archives: rows,
        failed,
        ok: failed == 0,
        notifications: Vec::new(),
    })
}

fn fill(row: &mut AuditRow, r: &crate::report::Report, log: Option<&Log>) {
    row.sha256 = Some(r.sha256.clone()).filter(|s| !s.is_empty());
    row.checksum = r
        .checksum
        .as_ref()
        .map(|c| if c.matched { "ok" } else { "mismatch" });
    row.signers = r.signers();
    row.warnings = r.warnings.clone();
    if let Some(l) = log {
        match log::check_included(l, &r.sha256, r.size) {
            Ok(a) => row.logged = Some(a.leaf_index),
            Err(e) => {
                row.ok = false;
                row.problem = Some(e.to_string());
            }
        }
    }
}

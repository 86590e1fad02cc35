//! The tar validator: raw tar entries in, [`SafeEntry`] values out.
//!
//! STUB: implemented by the archive work.

use std::io::Read;

use super::{ArchiveError, EntryPolicy, ExtractError, Limits, Sink, Summary};

/// Read a whole tar stream, validate every entry and hand each to `sink`.
///
/// Reads `tar` to its end: after the end-of-archive blocks only zero bytes may
/// follow. Returns the counts of what was extracted.
pub fn extract<R: Read, S: Sink>(
    tar: R,
    limits: &Limits,
    policy: &EntryPolicy,
    sink: &mut S,
) -> Result<Summary, ExtractError<S::Error>> {
    let _ = (tar, limits, policy, sink);
    Err(ArchiveError::Malformed("not implemented".into()).into())
}

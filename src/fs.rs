//! Low-level, beneath-only file-system operations shared by staging and commit.
//!
//! STUB: implemented by the staging/commit work. Linux uses openat2
//! (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) and renameat2; elsewhere an O_NOFOLLOW
//! walk and two renames guarded by the journal.

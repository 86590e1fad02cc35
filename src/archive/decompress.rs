//! Decompression (gzip, zstd) with a compression-ratio guard.
//!
//! STUB: implemented by the archive work.

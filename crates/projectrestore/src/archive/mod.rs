//! Archive formats: sniffing, decompression, and the validator.
//!
//! The types, the path rules, sniffing and the validator live in the pure
//! `projectrestore-archive` crate (no file system, no C: it builds for
//! `wasm32-wasip1`); the decompressors (zstd is C) live here.

pub use projectrestore_archive::*;

pub mod decompress;

//! Archive formats: sniffing, decompression, and the validator.
//!
//! The types, the path rules, sniffing and the validator live in the
//! `projectrestore-core` crate (so that they, with the file-system layer, can be
//! type-checked for macOS targets without the C and crypto dependencies); the
//! decompressors (zstd is C) live here.

pub use projectrestore_core::archive::*;

pub mod decompress;

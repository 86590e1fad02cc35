//! Where bytes come from, and the small reader adapters of the first stage.

/// The archive could not be opened or read (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    NotFound(String),
}

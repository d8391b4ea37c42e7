//! The mail adapter's errors: one for a send attempt, one for everything else.

use std::path::PathBuf;

use steward_domain::StoreError;

/// Why one email did not go out. The relay retries a `Temporary` failure with
/// backoff and gives up on a `Permanent` one. The text never holds the body.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying: the peer is down, timed out, or answered 4xx.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Retrying cannot help: a 5xx answer, an address that does not parse.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Failures of the adapter itself: configuration, the mail directory, the outbox store.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail configuration (URL, sender address) is unusable.
    #[error("mail configuration: {0}")]
    Config(String),
    /// The mail directory cannot be created.
    #[error("mail directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The outbox store failed; the relay logs it and tries again later.
    #[error("outbox store: {0}")]
    Store(#[from] StoreError),
}

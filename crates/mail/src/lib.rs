//! Steward's mail adapter: the outbox relay and the transports it sends through.
//!
//! Use cases never send mail; they enqueue [`steward_domain::notify::OutboxEmail`]s
//! with their change. The [`Relay`] (a worker in the server) claims due rows,
//! renders them (opening a sealed secret at the last moment), sends them through
//! a [`Transport`], and marks them sent, retried with capped exponential backoff,
//! or failed.

mod backoff;
mod error;
mod relay;
mod transport;

use std::path::PathBuf;
use std::sync::Arc;

pub use backoff::backoff;
pub use error::{MailError, SendError};
pub use relay::{Relay, RelayConfig};
pub use transport::{FileTransport, SmtpTransport, Transport, message_id};

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailConfig {
    /// One `<outbox id>.eml` file per email in `dir` (development, tests, audits).
    Files { dir: PathBuf },
    /// An SMTP server: `smtp://host:port` (no TLS), `smtp://host:port?tls=starttls`,
    /// `smtps://host:port` (implicit TLS); `user:password@` for AUTH.
    Smtp { url: String },
}

/// Builds the transport `cfg` names, sending as `from` (e.g. `Steward <steward@localhost>`).
///
/// Returns `MailError::Config` for an unusable URL or sender, `MailError::Io`
/// when the mail directory cannot be created.
pub fn transport_from_config(cfg: &MailConfig, from: &str) -> Result<Arc<dyn Transport>, MailError> {
    let from = transport::parse_from(from)?;
    Ok(match cfg {
        MailConfig::Files { dir } => Arc::new(FileTransport::new(dir.clone(), from)?),
        MailConfig::Smtp { url } => Arc::new(SmtpTransport::new(url, from)?),
    })
}

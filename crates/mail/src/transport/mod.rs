//! Transports: how one rendered email leaves the building.

mod file;
mod message;
mod smtp;

use async_trait::async_trait;
use steward_domain::notify::RenderedEmail;

use crate::error::SendError;

pub use file::FileTransport;
pub use message::message_id;
pub(crate) use message::parse_from;
pub use smtp::SmtpTransport;

/// Sends one rendered email.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `email`. A retried email carries the same Message-ID, so a
    /// duplicate (at-least-once delivery) is recognisable downstream.
    ///
    /// Returns `SendError::Temporary` when a later attempt may succeed and
    /// `SendError::Permanent` when none can.
    async fn send(&self, email: &RenderedEmail) -> Result<(), SendError>;
}

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::error::{DomainError, StoreError};
use crate::id::OutboxId;
use crate::keyring::Keyring;

/// Where a sealed secret goes in a body. Contains control characters, which no
/// validated user text may hold, so user input can never smuggle one in.
pub const SECRET_PLACEHOLDER: &str = "\u{1}SECRET\u{1}";

/// A file sent with an email (an import's failed rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// An email queued with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    pub id: OutboxId,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    /// Plain-text body; may hold [`SECRET_PLACEHOLDER`] once.
    pub body: String,
    /// The secret for the placeholder, sealed to this row's id.
    pub sealed_secret: Option<Vec<u8>>,
    pub attachment: Option<Attachment>,
    pub created_at: OffsetDateTime,
}

/// A queued email claimed by the relay for an attempt.
#[derive(Debug, Clone)]
pub struct PendingEmail {
    pub id: OutboxId,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub body: String,
    pub sealed_secret: Option<Vec<u8>>,
    pub attachment: Option<Attachment>,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What the transport sends. The body may hold a secret, hence `SecretString`.
pub struct RenderedEmail {
    pub id: OutboxId,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub body: SecretString,
    pub attachment: Option<Attachment>,
}

impl PendingEmail {
    /// Opens the sealed secret (if any) into the body.
    pub fn render(&self, keyring: &Keyring) -> Result<RenderedEmail, DomainError> {
        let body = match &self.sealed_secret {
            Some(sealed) => {
                let secret = keyring.open(sealed, self.id.as_uuid().as_bytes())?;
                SecretString::from(self.body.replacen(SECRET_PLACEHOLDER, secret.expose_secret(), 1))
            }
            None if self.body.contains(SECRET_PLACEHOLDER) => {
                // The secret was wiped (already sent once, then re-claimed): never
                // send a body with a hole in it.
                return Err(DomainError::Internal("the secret of this email was already wiped".into()));
            }
            None => SecretString::from(self.body.clone()),
        };
        Ok(RenderedEmail {
            id: self.id,
            to_address: self.to_address.clone(),
            to_name: self.to_name.clone(),
            subject: self.subject.clone(),
            body,
            attachment: self.attachment.clone(),
        })
    }
}

/// The relay's view of the outbox. Several relays (replicas) may run: a claim
/// leases rows so that no two relays attempt the same email at once.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` emails due at `now`, leasing them for `lease`.
    async fn claim_due_emails(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<PendingEmail>, StoreError>;

    /// Delivered: records it and wipes the sealed secret.
    async fn mark_email_sent(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), StoreError>;

    /// A temporary failure: try again at `next_attempt_at`.
    async fn mark_email_retry(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError>;

    /// A permanent failure: give up, record why, wipe the sealed secret.
    async fn mark_email_failed(&self, id: OutboxId, now: OffsetDateTime, error: &str) -> Result<(), StoreError>;
}

//! The messages Steward sends, as data, and the outbox they wait in.
//!
//! Use cases never send mail: they compose an [`OutboxEmail`] and hand it to a
//! store port with the change, so the email commits (or not) with it. A secret
//! the email must carry (a temporary password) is sealed with the server key
//! and only opened by the relay at send time, then wiped from the row.

mod messages;
mod outbox;

pub use messages::Message;
pub use outbox::{Attachment, OutboxEmail, OutboxStore, PendingEmail, RenderedEmail, SECRET_PLACEHOLDER};

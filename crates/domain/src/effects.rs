//! The side effects that must commit with a change: its audit events and the
//! emails it sends. Every mutating store port takes them and writes them in
//! the same transaction as the change itself.

use crate::audit::AuditEvent;
use crate::notify::OutboxEmail;

#[derive(Debug, Default)]
pub struct Effects {
    pub audit: Vec<AuditEvent>,
    pub outbox: Vec<OutboxEmail>,
}

impl Effects {
    pub fn audit(event: AuditEvent) -> Self {
        Self { audit: vec![event], outbox: Vec::new() }
    }

    pub fn with_email(mut self, email: OutboxEmail) -> Self {
        self.outbox.push(email);
        self
    }
}

//! [`OutboxStore`]: the relay's side of the outbox. Rows are queued by
//! [`crate::effects`] with the change that sends them.

use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{DbBackend, QueryResult};
use steward_domain::StoreError;
use steward_domain::id::OutboxId;
use steward_domain::notify::{Attachment, OutboxStore, PendingEmail};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{count, get};
use crate::sql::{all, exec, stmt, time_value, touched};
use crate::{Store, finish};

/// Longest `last_error` kept, in characters.
const MAX_ERROR_CHARS: usize = 1000;

#[async_trait]
impl OutboxStore for Store {
    async fn claim_due_emails(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<PendingEmail>, StoreError> {
        let b = self.backend();
        // PostgreSQL: rows another relay holds are skipped, not waited for.
        // SQLite: BEGIN IMMEDIATE already makes the claim exclusive.
        let lock = if b == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE outbox SET next_attempt_at = $3 WHERE id IN (\
               SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
               ORDER BY next_attempt_at, id LIMIT $2{lock}) \
             RETURNING id, to_address, to_name, subject, body, sealed_secret, attempts, attachment_name, \
             attachment_type, attachment"
        );
        let s = stmt(b, &sql, vec![time_value(b, now), i64::from(limit).into(), time_value(b, now + lease)]);
        let txn = self.begin_write().await?;
        let result = async { all(&txn, s).await?.iter().map(pending_from_row).collect::<Result<Vec<_>, _>>() }.await;
        let mut claimed = finish(txn, result).await?;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    async fn mark_email_sent(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE outbox SET state = 'sent', sent_at = $2, sealed_secret = NULL WHERE id = $1",
            vec![id.as_uuid().into(), time_value(b, now)],
        );
        touched(&exec(self.connection(), s).await?)
    }

    async fn mark_email_retry(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        let s = stmt(
            b,
            "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1",
            vec![id.as_uuid().into(), attempts.into(), time_value(b, next_attempt_at), clip(error).into()],
        );
        touched(&exec(self.connection(), s).await?)
    }

    async fn mark_email_failed(&self, id: OutboxId, _now: OffsetDateTime, error: &str) -> Result<(), StoreError> {
        let s = stmt(
            self.backend(),
            "UPDATE outbox SET state = 'failed', last_error = $2, sealed_secret = NULL WHERE id = $1",
            vec![id.as_uuid().into(), clip(error).into()],
        );
        touched(&exec(self.connection(), s).await?)
    }
}

fn clip(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

fn pending_from_row(r: &QueryResult) -> Result<PendingEmail, StoreError> {
    Ok(PendingEmail {
        id: OutboxId::from_uuid(get::<Uuid>(r, "id")?),
        to_address: get(r, "to_address")?,
        to_name: get(r, "to_name")?,
        subject: get(r, "subject")?,
        body: get(r, "body")?,
        sealed_secret: get(r, "sealed_secret")?,
        attachment: match (
            get::<Option<String>>(r, "attachment_name")?,
            get::<Option<String>>(r, "attachment_type")?,
            get::<Option<Vec<u8>>>(r, "attachment")?,
        ) {
            (Some(filename), Some(content_type), Some(content)) => Some(Attachment { filename, content_type, content }),
            _ => None,
        },
        attempts: count(r, "attempts")?,
    })
}

//! Writing a change's [`Effects`] (audit events, queued emails) with the
//! change itself: every mutating port method calls [`write`] inside its
//! transaction, so the effects commit, or roll back, with the change.
//!
//! One statement per table whatever the count (an import batch carries
//! hundreds): multi-row `VALUES` on SQLite, a JSON record set on PostgreSQL
//! (see [`crate::records`]).

use sea_orm::{ConnectionTrait, DbBackend, Value};
use serde::Serialize;
use steward_domain::StoreError;
use steward_domain::audit::AuditEvent;
use steward_domain::effects::Effects;
use steward_domain::notify::OutboxEmail;
use uuid::Uuid;

use crate::records::{self, recordset};
use crate::sql::{Query, exec, stmt, time_text, time_value};

const AUDIT_COLUMNS: &str = "id, at, actor_id, actor, action, target, request_id, detail";
const OUTBOX_COLUMNS: &str = "id, to_address, to_name, subject, body, sealed_secret, state, attempts, \
     next_attempt_at, last_error, created_at, sent_at, attachment_name, attachment_type, attachment";

pub(crate) async fn write(c: &impl ConnectionTrait, effects: Effects) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    if !effects.audit.is_empty() {
        let s =
            if b == DbBackend::Postgres { audit_recordset(&effects.audit)? } else { audit_values(b, effects.audit) };
        exec(c, s).await?;
    }
    if !effects.outbox.is_empty() {
        let s = if b == DbBackend::Postgres {
            outbox_recordset(&effects.outbox)?
        } else {
            outbox_values(b, effects.outbox)
        };
        exec(c, s).await?;
    }
    Ok(())
}

fn audit_values(b: DbBackend, events: Vec<AuditEvent>) -> sea_orm::Statement {
    let mut q = Query::bulk(b, &format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) VALUES "));
    for (i, e) in events.into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.row(vec![
            e.id.as_uuid().into(),
            time_value(b, e.at),
            e.actor_id.map(|a| a.as_uuid()).into(),
            e.actor.into(),
            e.action.into(),
            e.target.into(),
            e.request_id.into(),
            e.detail.into(),
        ]);
    }
    q.build()
}

#[derive(Serialize)]
struct AuditRecord<'a> {
    id: Uuid,
    at: String,
    actor_id: Option<Uuid>,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    request_id: &'a str,
    detail: &'a str,
}

fn audit_recordset(events: &[AuditEvent]) -> Result<sea_orm::Statement, StoreError> {
    let rows: Vec<AuditRecord> = events
        .iter()
        .map(|e| AuditRecord {
            id: e.id.as_uuid(),
            at: time_text(e.at),
            actor_id: e.actor_id.map(|a| a.as_uuid()),
            actor: &e.actor,
            action: &e.action,
            target: &e.target,
            request_id: &e.request_id,
            detail: &e.detail,
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_events ({AUDIT_COLUMNS}) SELECT {} FROM json_to_recordset($1::json) AS t(id uuid, \
         at timestamptz, actor_id uuid, actor text, action text, target text, request_id text, detail text)",
        records::select_list(AUDIT_COLUMNS)
    );
    Ok(stmt(DbBackend::Postgres, &sql, vec![recordset(&rows)?]))
}

fn outbox_values(b: DbBackend, emails: Vec<OutboxEmail>) -> sea_orm::Statement {
    let mut q = Query::bulk(b, &format!("INSERT INTO outbox ({OUTBOX_COLUMNS}) VALUES "));
    for (i, m) in emails.into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.row(vec![
            m.id.as_uuid().into(),
            m.to_address.into(),
            m.to_name.into(),
            m.subject.into(),
            m.body.into(),
            m.sealed_secret.into(),
            "pending".into(),
            0i32.into(),
            time_value(b, m.created_at),
            Value::from(None::<String>),
            time_value(b, m.created_at),
            crate::sql::time_opt_value(b, None),
            m.attachment.as_ref().map(|a| a.filename.clone()).into(),
            m.attachment.as_ref().map(|a| a.content_type.clone()).into(),
            m.attachment.map(|a| a.content).into(),
        ]);
    }
    q.build()
}

#[derive(Serialize)]
struct OutboxRecord<'a> {
    id: Uuid,
    to_address: &'a str,
    to_name: &'a str,
    subject: &'a str,
    body: &'a str,
    sealed_secret: Option<String>,
    created_at: String,
    attachment_name: Option<&'a str>,
    attachment_type: Option<&'a str>,
    attachment: Option<String>,
}

fn outbox_recordset(emails: &[OutboxEmail]) -> Result<sea_orm::Statement, StoreError> {
    let rows: Vec<OutboxRecord> = emails
        .iter()
        .map(|m| OutboxRecord {
            id: m.id.as_uuid(),
            to_address: &m.to_address,
            to_name: &m.to_name,
            subject: &m.subject,
            body: &m.body,
            sealed_secret: m.sealed_secret.as_deref().map(records::bytes),
            created_at: time_text(m.created_at),
            attachment_name: m.attachment.as_ref().map(|a| a.filename.as_str()),
            attachment_type: m.attachment.as_ref().map(|a| a.content_type.as_str()),
            attachment: m.attachment.as_ref().map(|a| records::bytes(&a.content)),
        })
        .collect();
    let sql = format!(
        "INSERT INTO outbox ({OUTBOX_COLUMNS}) SELECT t.id, t.to_address, t.to_name, t.subject, t.body, \
         decode(t.sealed_secret, 'base64'), 'pending', 0, t.created_at, NULL, t.created_at, NULL, \
         t.attachment_name, t.attachment_type, decode(t.attachment, 'base64') \
         FROM json_to_recordset($1::json) AS t(id uuid, to_address text, to_name text, subject text, body text, \
         sealed_secret text, created_at timestamptz, attachment_name text, attachment_type text, attachment text)"
    );
    Ok(stmt(DbBackend::Postgres, &sql, vec![recordset(&rows)?]))
}

//! Writing a change's [`Effects`] (audit events, queued emails) with the
//! change itself: every mutating port method calls [`write`] inside its
//! transaction, so the effects commit, or roll back, with the change.

use sea_orm::{ConnectionTrait, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;

use crate::sql::{Query, exec, time_value};

pub(crate) async fn write(c: &impl ConnectionTrait, effects: Effects) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    if !effects.audit.is_empty() {
        let mut q = Query::new(
            b,
            "INSERT INTO audit_events (id, at, actor_id, actor, action, target, request_id, detail) VALUES ",
        );
        for (i, e) in effects.audit.into_iter().enumerate() {
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
        exec(c, q.build()).await?;
    }
    if !effects.outbox.is_empty() {
        let mut q = Query::new(
            b,
            "INSERT INTO outbox (id, to_address, to_name, subject, body, sealed_secret, state, attempts, \
             next_attempt_at, last_error, created_at, sent_at, attachment_name, attachment_type, attachment) VALUES ",
        );
        for (i, m) in effects.outbox.into_iter().enumerate() {
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
        exec(c, q.build()).await?;
    }
    Ok(())
}

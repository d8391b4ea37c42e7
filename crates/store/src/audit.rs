//! [`AuditStore`]: the trail, newest first, keyset on the (UUIDv7) event id.
//! Events are written by [`crate::effects`] inside each change's transaction.

use async_trait::async_trait;
use sea_orm::QueryResult;
use steward_domain::StoreError;
use steward_domain::audit::{AuditEvent, AuditFilter, AuditStore};
use steward_domain::id::{AuditEventId, UserId};
use steward_domain::page::PageRequest;
use uuid::Uuid;

use crate::Store;
use crate::rows::get;
use crate::sql::{Query, all};

#[async_trait]
impl AuditStore for Store {
    async fn list_audit_events(&self, filter: &AuditFilter, page: PageRequest) -> Result<Vec<AuditEvent>, StoreError> {
        let mut q = Query::new(
            self.backend(),
            "SELECT id, at, actor_id, actor, action, target, request_id, detail FROM audit_events WHERE 1 = 1",
        );
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND id < {p}"));
        }
        if let Some(actor) = filter.actor_id {
            let p = q.bind(actor.as_uuid());
            q.push(&format!(" AND actor_id = {p}"));
        }
        if let Some(target) = &filter.target {
            let p = q.bind(target.clone());
            q.push(&format!(" AND target = {p}"));
        }
        if let Some(action) = &filter.action {
            let p = q.bind(action.clone());
            q.push(&format!(" AND action = {p}"));
        }
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY id DESC LIMIT {limit}"));
        all(self.connection(), q.build()).await?.iter().map(event_from_row).collect()
    }
}

fn event_from_row(r: &QueryResult) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(get::<Uuid>(r, "id")?),
        at: get(r, "at")?,
        actor_id: get::<Option<Uuid>>(r, "actor_id")?.map(UserId::from_uuid),
        actor: get(r, "actor")?,
        action: get(r, "action")?,
        target: get(r, "target")?,
        request_id: get(r, "request_id")?,
        detail: get(r, "detail")?,
    })
}

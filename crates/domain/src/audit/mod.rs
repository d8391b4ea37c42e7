//! The audit trail: one event per state change, written in the change's
//! transaction. Events hold who, what, on which target, when — never a secret.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::auth::Ctx;
use crate::error::{DomainError, StoreError};
use crate::id::{AuditEventId, UserId};
use crate::page::{Page, PageRequest};
use crate::role::Permission;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub at: OffsetDateTime,
    /// `None` for the system itself (bootstrap, workers).
    pub actor_id: Option<UserId>,
    /// The actor's username at the time, or `system`.
    pub actor: String,
    /// `noun.verb`, e.g. `user.create`, `auth.password_change`.
    pub action: String,
    /// `kind/id`, e.g. `user/0190…`.
    pub target: String,
    pub request_id: String,
    /// A short, secret-free description (field names changed, reason given).
    pub detail: String,
}

impl AuditEvent {
    pub fn by(ctx: &Ctx, at: OffsetDateTime, action: &str, target: String, detail: impl Into<String>) -> Self {
        Self {
            id: AuditEventId::new(),
            at,
            actor_id: Some(ctx.principal.user_id),
            actor: ctx.principal.username.clone(),
            action: action.into(),
            target,
            request_id: ctx.request_id.clone(),
            detail: detail.into(),
        }
    }

    /// An event caused by the user themselves before they hold a principal (login).
    pub fn by_user(
        user_id: UserId,
        username: &str,
        request_id: &str,
        at: OffsetDateTime,
        action: &str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            id: AuditEventId::new(),
            at,
            actor_id: Some(user_id),
            actor: username.into(),
            action: action.into(),
            target: user_target(user_id),
            request_id: request_id.into(),
            detail: detail.into(),
        }
    }

    pub fn by_system(at: OffsetDateTime, action: &str, target: String, detail: impl Into<String>) -> Self {
        Self {
            id: AuditEventId::new(),
            at,
            actor_id: None,
            actor: "system".into(),
            action: action.into(),
            target,
            request_id: String::new(),
            detail: detail.into(),
        }
    }
}

pub fn user_target(id: UserId) -> String {
    format!("user/{id}")
}

/// Filters for listing; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<UserId>,
    pub target: Option<String>,
    pub action: Option<String>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Newest first, keyset on the event id (UUIDv7, so time order).
    async fn list_audit_events(&self, filter: &AuditFilter, page: PageRequest) -> Result<Vec<AuditEvent>, StoreError>;
}

pub struct AuditService {
    store: Arc<dyn AuditStore>,
}

impl AuditService {
    pub fn new(store: Arc<dyn AuditStore>) -> Self {
        Self { store }
    }

    /// Needs `audit.read`.
    pub async fn list(
        &self,
        ctx: &Ctx,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, DomainError> {
        ctx.require(Permission::AuditRead)?;
        let fetch = PageRequest { size: page.size + 1, ..page };
        let rows = self.store.list_audit_events(&filter, fetch).await?;
        Ok(Page::from_rows(rows, page, "audit", |e| e.id.as_uuid()))
    }
}

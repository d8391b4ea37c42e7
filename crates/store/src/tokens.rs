//! [`TokenStore`]: resolving sessions and API keys by their lookup, joined with
//! the owner's current state, and revoking sessions. Also the inserts that
//! other ports' transactions use.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult};
use steward_domain::StoreError;
use steward_domain::auth::{ApiKeyRecord, NewApiKey, NewSession, SessionRecord, TokenStore};
use steward_domain::effects::Effects;
use steward_domain::id::{ApiKeyId, ProjectId, SessionId, UserId};
use steward_domain::role::RoleName;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{flag, get, kind, role, status};
use crate::sql::{Query, exec, one, stmt, time_opt_value, time_value, touched};
use crate::{Store, effects, finish, roles};

/// `role_held`: the token's role is `default` (everyone's) or still assigned.
/// `role_permissions`: what is stored for the role (empty for the built-ins
/// and for a role that no longer exists).
fn token_select(table: &str, extra: &str) -> String {
    format!(
        "SELECT t.id, t.user_id, u.username, u.kind, u.status, t.digest, t.role, t.expires_at, t.revoked_at, {extra}\
         CASE WHEN t.role = '{default}' OR EXISTS (SELECT 1 FROM role_assignments ra \
           WHERE ra.user_id = t.user_id AND ra.role = t.role) THEN 1 ELSE 0 END AS role_held, \
         r.permissions AS role_permissions \
         FROM {table} t JOIN users u ON u.id = t.user_id LEFT JOIN roles r ON r.name = t.role \
         WHERE t.lookup = $1",
        default = RoleName::DEFAULT,
    )
}

#[async_trait]
impl TokenStore for Store {
    async fn find_session(&self, lookup: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = token_select("sessions", "t.password_change_required, ");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![lookup.into()])).await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn find_api_key(&self, lookup: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = token_select("api_keys", "t.project_id, t.last_used_at, ");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![lookup.into()])).await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn revoke_session(&self, id: SessionId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            vec![id.as_uuid().into(), time_value(b, now)],
        );
        let txn = self.begin_write().await?;
        let result = async {
            touched(&exec(&txn, s).await?)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: OffsetDateTime) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
            vec![id.as_uuid().into(), time_value(b, now), time_value(b, now - time::Duration::MINUTE)],
        );
        exec(self.connection(), s).await.map(drop)
    }
}

pub(crate) async fn insert_session(c: &impl ConnectionTrait, s: &NewSession) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let mut q = Query::new(
        b,
        "INSERT INTO sessions (id, user_id, lookup, digest, role, password_change_required, created_at, \
         expires_at, revoked_at) VALUES ",
    );
    q.row(vec![
        s.id.as_uuid().into(),
        s.user_id.as_uuid().into(),
        s.lookup.clone().into(),
        s.digest.clone().into(),
        s.role.as_str().into(),
        s.password_change_required.into(),
        time_value(b, s.created_at),
        time_value(b, s.expires_at),
        time_opt_value(b, None),
    ]);
    exec(c, q.build()).await.map(drop)
}

pub(crate) async fn insert_api_key(c: &impl ConnectionTrait, k: &NewApiKey) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let mut q = Query::new(
        b,
        "INSERT INTO api_keys (id, user_id, name, description, project_id, prefix, lookup, digest, role, \
         created_at, expires_at, revoked_at, last_used_at) VALUES ",
    );
    q.row(vec![
        k.id.as_uuid().into(),
        k.user_id.as_uuid().into(),
        k.name.clone().into(),
        k.description.clone().into(),
        k.project_id.map(|p| p.as_uuid()).into(),
        k.prefix.clone().into(),
        k.lookup.clone().into(),
        k.digest.clone().into(),
        k.role.as_str().into(),
        time_value(b, k.created_at),
        time_opt_value(b, k.expires_at),
        time_opt_value(b, None),
        time_opt_value(b, None),
    ]);
    exec(c, q.build()).await.map(drop)
}

fn stored_permissions(r: &QueryResult) -> Result<Vec<String>, StoreError> {
    Ok(get::<Option<String>>(r, "role_permissions")?.as_deref().map(roles::permission_names).unwrap_or_default())
}

fn session_from_row(r: &QueryResult) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id: SessionId::from_uuid(get::<Uuid>(r, "id")?),
        user_id: UserId::from_uuid(get::<Uuid>(r, "user_id")?),
        username: get(r, "username")?,
        kind: kind(r, "kind")?,
        user_status: status(r, "status")?,
        digest: get(r, "digest")?,
        role: role(r, "role")?,
        role_held: flag(r, "role_held")?,
        role_permissions: stored_permissions(r)?,
        password_change_required: get(r, "password_change_required")?,
        expires_at: get(r, "expires_at")?,
        revoked: get::<Option<OffsetDateTime>>(r, "revoked_at")?.is_some(),
    })
}

fn api_key_from_row(r: &QueryResult) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::from_uuid(get::<Uuid>(r, "id")?),
        user_id: UserId::from_uuid(get::<Uuid>(r, "user_id")?),
        username: get(r, "username")?,
        kind: kind(r, "kind")?,
        user_status: status(r, "status")?,
        digest: get(r, "digest")?,
        role: role(r, "role")?,
        role_held: flag(r, "role_held")?,
        role_permissions: stored_permissions(r)?,
        project_id: get::<Option<Uuid>>(r, "project_id")?.map(ProjectId::from_uuid),
        expires_at: get(r, "expires_at")?,
        last_used_at: get(r, "last_used_at")?,
        revoked: get::<Option<OffsetDateTime>>(r, "revoked_at")?.is_some(),
    })
}

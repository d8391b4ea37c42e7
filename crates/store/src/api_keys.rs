//! [`ApiKeyStore`]: creating, listing and revoking API keys. Resolving a key
//! by its lookup (and "last used") lives with the sessions in `tokens.rs`.

use async_trait::async_trait;
use sea_orm::QueryResult;
use steward_domain::StoreError;
use steward_domain::auth::NewApiKey;
use steward_domain::effects::Effects;
use steward_domain::id::{ApiKeyId, ProjectId, UserId};
use steward_domain::key::{ApiKey, ApiKeyStore};
use steward_domain::page::PageRequest;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{flag, get, role};
use crate::sql::{all, exec, one, stmt, time_value, touched};
use crate::{Store, effects, finish, grants, tokens};

const COLUMNS: &str = "id, user_id, name, description, prefix, role, project_id, created_at, expires_at, \
                       last_used_at, revoked_at";

#[async_trait]
impl ApiKeyStore for Store {
    async fn create_api_key(&self, key: NewApiKey, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            tokens::insert_api_key(&txn, &key).await.map_err(|e| match e {
                // The owner's foreign key: no such user.
                StoreError::NotFound => StoreError::NotFound,
                other => other,
            })?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get_api_key(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![id.as_uuid().into()])).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    async fn list_api_keys(&self, user: UserId, page: PageRequest) -> Result<Vec<ApiKey>, StoreError> {
        let (sql, values) = match page.after {
            Some(after) => (
                format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"),
                vec![user.as_uuid().into(), after.into(), i64::from(page.size).into()],
            ),
            None => (
                format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY id DESC LIMIT $2"),
                vec![user.as_uuid().into(), i64::from(page.size).into()],
            ),
        };
        all(self.connection(), stmt(self.backend(), &sql, values)).await?.iter().map(from_row).collect()
    }

    async fn revoke_api_key(&self, id: ApiKeyId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
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

    async fn project_membership(&self, project: ProjectId, user: UserId) -> Result<Option<bool>, StoreError> {
        let sql = format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM projects WHERE id = $1) THEN 1 ELSE 0 END AS found, \
             CASE WHEN EXISTS (SELECT 1 FROM project_members pm WHERE project_id = $1 AND user_id = $2 AND {}) \
             THEN 1 ELSE 0 END AS member",
            grants::live_at("pm", "$3")
        );
        let b = self.backend();
        let values = vec![project.as_uuid().into(), user.as_uuid().into(), time_value(b, self.now())];
        let row = one(self.connection(), stmt(b, &sql, values))
            .await?
            .ok_or(StoreError::Internal("membership query returned no row".into()))?;
        Ok(if flag(&row, "found")? { Some(flag(&row, "member")?) } else { None })
    }
}

fn from_row(r: &QueryResult) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(get::<Uuid>(r, "id")?),
        user_id: UserId::from_uuid(get::<Uuid>(r, "user_id")?),
        name: get(r, "name")?,
        description: get(r, "description")?,
        prefix: get(r, "prefix")?,
        role: role(r, "role")?,
        project_id: get::<Option<Uuid>>(r, "project_id")?.map(ProjectId::from_uuid),
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        last_used_at: get(r, "last_used_at")?,
        revoked_at: get(r, "revoked_at")?,
    })
}

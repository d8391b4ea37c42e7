//! [`SqlCredentialStore`]: one row per user in `sql_credentials`, holding the
//! login name and the SCRAM verifier (never a password).

use async_trait::async_trait;
use sea_orm::QueryResult;
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::sql::{SqlCredential, SqlCredentialStore, SqlUsername};
use steward_domain::user::UserStatus;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{get, status};
use crate::sql::{exec, one, stmt, time_value};
use crate::{Store, effects, finish};

const COLUMNS: &str = "c.user_id, c.sql_username, c.verifier, c.created_at, c.updated_at";

fn credential(row: &QueryResult) -> Result<SqlCredential, StoreError> {
    Ok(SqlCredential {
        user_id: UserId::from_uuid(get::<Uuid>(row, "user_id")?),
        sql_username: SqlUsername::from_stored(get::<String>(row, "sql_username")?),
        verifier: get(row, "verifier")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// A unique violation names the name or, failing that, the user (the key).
fn conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict { key: "sql_username" } => e,
        StoreError::Conflict { .. } => StoreError::Conflict { key: "user" },
        other => other,
    }
}

impl Store {
    /// `Stale` when the credential exists with another verifier, else `NotFound`.
    async fn stale_or_missing(&self, c: &impl sea_orm::ConnectionTrait, user: UserId) -> StoreError {
        let s = stmt(
            self.backend(),
            "SELECT 1 AS one FROM sql_credentials WHERE user_id = $1",
            vec![user.as_uuid().into()],
        );
        match one(c, s).await {
            Ok(Some(_)) => StoreError::Stale,
            Ok(None) => StoreError::NotFound,
            Err(e) => e,
        }
    }
}

#[async_trait]
impl SqlCredentialStore for Store {
    async fn get_sql_credential(&self, user: UserId) -> Result<Option<SqlCredential>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sql_credentials c WHERE c.user_id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![user.as_uuid().into()])).await?;
        row.as_ref().map(credential).transpose()
    }

    async fn find_sql_credential(&self, name: &SqlUsername) -> Result<Option<(SqlCredential, UserStatus)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, u.status FROM sql_credentials c JOIN users u ON u.id = c.user_id \
             WHERE c.sql_username = $1"
        );
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![name.as_str().into()])).await?;
        row.map(|r| Ok((credential(&r)?, status(&r, "status")?))).transpose()
    }

    async fn insert_sql_credential(&self, c: &SqlCredential, effects: Effects) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "INSERT INTO sql_credentials (user_id, sql_username, verifier, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                c.user_id.as_uuid().into(),
                c.sql_username.as_str().into(),
                c.verifier.clone().into(),
                time_value(b, c.created_at),
                time_value(b, c.updated_at),
            ],
        );
        let txn = self.begin_write().await?;
        let result = async {
            exec(&txn, s).await.map_err(conflict)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn update_sql_verifier(
        &self,
        user: UserId,
        expected: &str,
        verifier: &str,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE sql_credentials SET verifier = $3, updated_at = $4 WHERE user_id = $1 AND verifier = $2",
            vec![user.as_uuid().into(), expected.into(), verifier.into(), time_value(b, now)],
        );
        let txn = self.begin_write().await?;
        let result = async {
            if exec(&txn, s).await?.rows_affected() == 0 {
                return Err(self.stale_or_missing(&txn, user).await);
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn delete_sql_credential(&self, user: UserId, expected: &str, effects: Effects) -> Result<(), StoreError> {
        let s = stmt(
            self.backend(),
            "DELETE FROM sql_credentials WHERE user_id = $1 AND verifier = $2",
            vec![user.as_uuid().into(), expected.into()],
        );
        let txn = self.begin_write().await?;
        let result = async {
            if exec(&txn, s).await?.rows_affected() == 0 {
                return Err(self.stale_or_missing(&txn, user).await);
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }
}

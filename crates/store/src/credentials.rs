//! [`CredentialStore`]: passwords, the lockout counter, opening sessions and
//! changing the password.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult};
use steward_domain::StoreError;
use steward_domain::auth::{CredentialStore, LoginAttempt, LoginRecord, NewSession, TempPassword};
use steward_domain::effects::Effects;
use steward_domain::id::{SessionId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{count, get, kind, role, status};
use crate::sql::{exec, one, stmt, time_value, touched};
use crate::{Store, effects, finish, tokens};

const LOGIN_SELECT: &str = "SELECT u.id, u.username, u.kind, u.status, u.default_role, c.password_hash, \
     c.temp_digest, c.temp_expires_at FROM users u JOIN credentials c ON c.user_id = u.id";

#[async_trait]
impl CredentialStore for Store {
    async fn find_login(&self, canonical_username: &str) -> Result<Option<LoginRecord>, StoreError> {
        let sql = format!("{LOGIN_SELECT} WHERE u.username_lower = $1");
        let row =
            one(self.connection(), stmt(self.backend(), &sql, vec![canonical_username.to_lowercase().into()])).await?;
        row.as_ref().map(login_from_row).transpose()
    }

    async fn find_login_by_id(&self, user: UserId) -> Result<Option<LoginRecord>, StoreError> {
        let sql = format!("{LOGIN_SELECT} WHERE u.id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![user.as_uuid().into()])).await?;
        row.as_ref().map(login_from_row).transpose()
    }

    async fn reserve_login_attempt(&self, user: UserId, now: OffsetDateTime) -> Result<LoginAttempt, StoreError> {
        // One statement: the row lock (PostgreSQL) or the write lock taken by
        // BEGIN IMMEDIATE (SQLite) serialises concurrent calls, and every SET
        // expression reads the row as it was before this update.
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE credentials SET \
               failed_count = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 \
                                   ELSE failed_count + 1 END, \
               locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL \
                                   ELSE locked_until END \
             WHERE user_id = $1 RETURNING failed_count, locked_until",
            vec![user.as_uuid().into(), time_value(b, now)],
        );
        let txn = self.begin_write().await?;
        let result = async {
            let row = one(&txn, s).await?.ok_or(StoreError::NotFound)?;
            Ok(LoginAttempt { count: count(&row, "failed_count")?, locked_until: get(&row, "locked_until")? })
        }
        .await;
        finish(txn, result).await
    }

    async fn lock_account(&self, user: UserId, until: OffsetDateTime, effects: Effects) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE credentials SET locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until > $2 \
             THEN locked_until ELSE $2 END WHERE user_id = $1",
            vec![user.as_uuid().into(), time_value(b, until)],
        );
        let txn = self.begin_write().await?;
        let result = async {
            touched(&exec(&txn, s).await?)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn record_login_success(&self, user: UserId, rehash: Option<String>) -> Result<(), StoreError> {
        let b = self.backend();
        let s = match rehash {
            Some(hash) => stmt(
                b,
                "UPDATE credentials SET failed_count = 0, locked_until = NULL, password_hash = $2 WHERE user_id = $1",
                vec![user.as_uuid().into(), hash.into()],
            ),
            None => stmt(
                b,
                "UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = $1",
                vec![user.as_uuid().into()],
            ),
        };
        let txn = self.begin_write().await?;
        let result = async { touched(&exec(&txn, s).await?) }.await;
        finish(txn, result).await
    }

    async fn open_session(&self, session: NewSession, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            tokens::insert_session(&txn, &session).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn change_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: SessionId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = change_password(&txn, user, password_hash, keep, now, effects).await;
        finish(txn, result).await
    }
}

async fn change_password(
    c: &impl ConnectionTrait,
    user: UserId,
    password_hash: String,
    keep: SessionId,
    now: OffsetDateTime,
    effects: Effects,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let id = user.as_uuid();
    touched(
        &exec(
            c,
            stmt(
                b,
                "UPDATE credentials SET password_hash = $2, temp_digest = NULL, temp_expires_at = NULL \
                 WHERE user_id = $1",
                vec![id.into(), password_hash.into()],
            ),
        )
        .await?,
    )?;
    exec(
        c,
        stmt(
            b,
            "UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
            vec![id.into(), keep.as_uuid().into(), time_value(b, now)],
        ),
    )
    .await?;
    exec(
        c,
        stmt(
            b,
            "UPDATE sessions SET password_change_required = $3 WHERE id = $2 AND user_id = $1",
            vec![id.into(), keep.as_uuid().into(), false.into()],
        ),
    )
    .await?;
    effects::write(c, effects).await
}

/// When the other sessions count as revoked: the time of the change's audit
/// event, or the wall clock when a caller sent none.
fn login_from_row(r: &QueryResult) -> Result<LoginRecord, StoreError> {
    let digest: Option<Vec<u8>> = get(r, "temp_digest")?;
    let expires_at: Option<OffsetDateTime> = get(r, "temp_expires_at")?;
    Ok(LoginRecord {
        user_id: UserId::from_uuid(get::<Uuid>(r, "id")?),
        username: get(r, "username")?,
        kind: kind(r, "kind")?,
        status: status(r, "status")?,
        default_role: role(r, "default_role")?,
        password_hash: get(r, "password_hash")?,
        temp_password: digest.zip(expires_at).map(|(digest, expires_at)| TempPassword { digest, expires_at }),
    })
}

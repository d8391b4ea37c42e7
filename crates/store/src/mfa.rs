//! [`MfaStore`]: TOTP enrolments, and the user's MFA flag that goes with them.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::mfa::{MfaRecord, MfaStore};
use time::OffsetDateTime;

use crate::rows::{corrupt, get};
use crate::sql::{exec, one, stmt, time_value, touched};
use crate::{Store, effects, finish};

const ALREADY_ENABLED: StoreError = StoreError::Refused { reason: "MFA_ALREADY_ENABLED" };

/// A step as stored (a `bigint`); steps are Unix seconds / 30, far below `i64::MAX`.
fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

#[async_trait]
impl MfaStore for Store {
    async fn save_pending_secret(
        &self,
        user: UserId,
        sealed_secret: Vec<u8>,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        let id = user.as_uuid();
        let txn = self.begin_write().await?;
        let result = async {
            let drop_pending = "DELETE FROM user_mfa WHERE user_id = $1 AND enabled = $2";
            exec(&txn, stmt(b, drop_pending, vec![id.into(), false.into()])).await?;
            // An enabled row survives the delete and makes this insert a no-op.
            let insert = "INSERT INTO user_mfa (user_id, sealed_secret, enabled, last_used_step, created_at, \
                          enabled_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO NOTHING";
            let values = vec![
                id.into(),
                sealed_secret.into(),
                false.into(),
                0i64.into(),
                time_value(b, now),
                crate::sql::time_opt_value(b, None),
            ];
            if exec(&txn, stmt(b, insert, values)).await?.rows_affected() == 0 {
                return Err(ALREADY_ENABLED);
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get_mfa(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError> {
        let sql = "SELECT sealed_secret, enabled, last_used_step FROM user_mfa WHERE user_id = $1";
        let row = one(self.connection(), stmt(self.backend(), sql, vec![user.as_uuid().into()])).await?;
        row.map(|r| {
            let step: i64 = get(&r, "last_used_step")?;
            Ok(MfaRecord {
                sealed_secret: get(&r, "sealed_secret")?,
                enabled: get(&r, "enabled")?,
                last_used_step: u64::try_from(step).map_err(|_| corrupt("last_used_step", step))?,
            })
        })
        .transpose()
    }

    async fn enable_mfa(
        &self,
        user: UserId,
        step: u64,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        let id = user.as_uuid();
        let txn = self.begin_write().await?;
        let result = async {
            let enable = "UPDATE user_mfa SET enabled = $2, last_used_step = $3, enabled_at = $4 \
                          WHERE user_id = $1 AND enabled = $5";
            let values = vec![id.into(), true.into(), step_value(step).into(), time_value(b, now), false.into()];
            if exec(&txn, stmt(b, enable, values)).await?.rows_affected() == 0 {
                let exists = one(&txn, stmt(b, "SELECT 1 AS one FROM user_mfa WHERE user_id = $1", vec![id.into()]))
                    .await?
                    .is_some();
                return Err(if exists { ALREADY_ENABLED } else { StoreError::NotFound });
            }
            set_user_flag(&txn, user, true, now).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn consume_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        // One conditional statement: concurrent calls with the same step are
        // serialised by the row lock (PostgreSQL) or the write lock (SQLite),
        // and only the first still finds `last_used_step < step`.
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE user_mfa SET last_used_step = $2 WHERE user_id = $1 AND enabled = $3 AND last_used_step < $2",
            vec![user.as_uuid().into(), step_value(step).into(), true.into()],
        );
        let txn = self.begin_write().await?;
        let result = async { Ok(exec(&txn, s).await?.rows_affected() == 1) }.await;
        finish(txn, result).await
    }

    async fn disable_mfa(&self, user: UserId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError> {
        let b = self.backend();
        let txn = self.begin_write().await?;
        let result = async {
            let delete = stmt(b, "DELETE FROM user_mfa WHERE user_id = $1", vec![user.as_uuid().into()]);
            touched(&exec(&txn, delete).await?)?;
            set_user_flag(&txn, user, false, now).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }
}

/// The user's `mfa_enabled`, as a change of the user (a new version).
async fn set_user_flag(
    c: &impl ConnectionTrait,
    user: UserId,
    on: bool,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let s = stmt(
        b,
        "UPDATE users SET mfa_enabled = $2, version = version + 1, updated_at = $3 WHERE id = $1",
        vec![user.as_uuid().into(), on.into(), time_value(b, now)],
    );
    touched(&exec(c, s).await?)
}

//! [`LifecycleStore`]: suspension, reactivation, and the deletion that hands
//! everything a user holds to a new owner (its steps are in
//! [`crate::deletion`], what a user holds in [`crate::holdings`]).
//!
//! Locking: a suspension takes the `admin` role's row, then the user's row
//! (its `UPDATE`); a deletion takes the new owner's row first, then the
//! user's. So a suspension of the new owner and a transfer to them queue up
//! behind each other: the one that comes second sees what the first did.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::lifecycle::{Holdings, LifecycleStore, UserDeletion, UserSuspension};
use steward_domain::role::RoleName;
use steward_domain::user::UserStatus;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::roles::{Lock, count_of, lock_role};
use crate::rows::{get, status};
use crate::sql::{all, exec, one, stmt, time_opt_value, time_value};
use crate::{Store, deletion, effects, finish, holdings};

#[async_trait]
impl LifecycleStore for Store {
    async fn holdings(&self, user: UserId) -> Result<Holdings, StoreError> {
        holdings::holdings(self.connection(), user).await
    }

    async fn suspend_user(&self, s: &UserSuspension, effects: Effects) -> Result<u64, StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            // Queue behind any other change to who is an active admin.
            lock_role(&txn, &RoleName::admin(), Lock::Exclusive).await?;
            let u = s.user.as_uuid();
            let changed = exec(
                &txn,
                stmt(
                    b,
                    "UPDATE users SET status = $2, suspended_reason = $3, suspended_until = $4, \
                     version = version + 1, updated_at = $5 WHERE id = $1 AND status = $6",
                    vec![
                        u.into(),
                        UserStatus::Suspended.as_str().into(),
                        s.reason.as_str().into(),
                        time_opt_value(b, s.until),
                        time_value(b, s.now),
                        UserStatus::Active.as_str().into(),
                    ],
                ),
            )
            .await?;
            if changed.rows_affected() == 0 {
                return Err(refusal(&txn, s.user, "USER_NOT_ACTIVE").await);
            }
            let admins = count_of(
                &txn,
                stmt(
                    b,
                    "SELECT COUNT(*) AS n FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
                     WHERE ra.role = $1 AND u.status = $2",
                    vec![RoleName::ADMIN.into(), UserStatus::Active.as_str().into()],
                ),
            )
            .await?;
            let was_admin = count_of(
                &txn,
                stmt(
                    b,
                    "SELECT COUNT(*) AS n FROM role_assignments WHERE user_id = $1 AND role = $2",
                    vec![u.into(), RoleName::ADMIN.into()],
                ),
            )
            .await?;
            if was_admin > 0 && admins == 0 {
                return Err(StoreError::Refused { reason: "LAST_ADMIN" });
            }
            revoke_tokens(&txn, s.user, s.now).await?;
            let owned =
                count_of(&txn, stmt(b, "SELECT COUNT(*) AS n FROM resources WHERE owner_id = $1", vec![u.into()]))
                    .await?;
            effects::write(&txn, effects).await?;
            Ok(owned)
        }
        .await;
        finish(txn, result).await
    }

    async fn reactivate_user(&self, user: UserId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let changed = exec(
                &txn,
                stmt(
                    b,
                    "UPDATE users SET status = $2, suspended_reason = NULL, suspended_until = NULL, \
                     version = version + 1, updated_at = $3 WHERE id = $1 AND status = $4",
                    vec![
                        user.as_uuid().into(),
                        UserStatus::Active.as_str().into(),
                        time_value(b, now),
                        UserStatus::Suspended.as_str().into(),
                    ],
                ),
            )
            .await?;
            if changed.rows_affected() == 0 {
                return Err(refusal(&txn, user, "USER_NOT_SUSPENDED").await);
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn due_reactivations(&self, now: OffsetDateTime, limit: u64) -> Result<Vec<UserId>, StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "SELECT id FROM users WHERE status = $1 AND suspended_until IS NOT NULL AND suspended_until <= $2 \
             ORDER BY suspended_until LIMIT $3",
            vec![UserStatus::Suspended.as_str().into(), time_value(b, now), (limit as i64).into()],
        );
        all(self.connection(), s).await?.iter().map(|r| Ok(UserId::from_uuid(get::<Uuid>(r, "id")?))).collect()
    }

    async fn delete_user(&self, d: &UserDeletion, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            deletion::delete_steps(self, &txn, d).await?;
            effects::write(&txn, effects).await?;
            self.failpoint("effects").await
        }
        .await;
        finish(txn, result).await
    }
}

async fn revoke_tokens(c: &impl ConnectionTrait, user: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    for table in ["sessions", "api_keys"] {
        let sql = format!("UPDATE {table} SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL");
        exec(c, stmt(b, &sql, vec![user.as_uuid().into(), time_value(b, now)])).await?;
    }
    Ok(())
}

/// Why a guarded status change touched nothing: no such user, or `reason`.
pub(crate) async fn refusal(c: &impl ConnectionTrait, user: UserId, reason: &'static str) -> StoreError {
    let b = c.get_database_backend();
    match one(c, stmt(b, "SELECT id FROM users WHERE id = $1", vec![user.as_uuid().into()])).await {
        Ok(Some(_)) => StoreError::Refused { reason },
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

pub(crate) async fn still_suspended(c: &impl ConnectionTrait, user: UserId) -> Result<bool, StoreError> {
    let b = c.get_database_backend();
    let row = one(c, stmt(b, "SELECT status FROM users WHERE id = $1", vec![user.as_uuid().into()])).await?;
    Ok(match row {
        Some(r) => status(&r, "status")? == UserStatus::Suspended,
        None => false,
    })
}

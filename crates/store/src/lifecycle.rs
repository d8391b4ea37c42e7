//! [`LifecycleStore`]: suspension, reactivation, and the deletion that hands
//! everything a user holds to a new owner — one transaction, one set-based
//! statement per table, never a loop over rows.
//!
//! Schedules move disabled: the statement that moves them also switches
//! them off, so none is ever enabled under its new owner.
//!
//! Locking: a suspension takes the `admin` role's row, then the user's row
//! (its `UPDATE`); a deletion takes the new owner's row first, then the
//! user's. So a suspension of the new owner and a transfer to them queue up
//! behind each other: the one that comes second sees what the first did.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use steward_domain::StoreError;
use steward_domain::access::{RequestState, WITHDRAWN_REQUESTER_DELETED, WITHDRAWN_TARGET_RECEIVED};
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::lifecycle::{Holdings, LifecycleStore, OwnedKind, UserDeletion, UserSuspension};
use steward_domain::ownership::ResourceKind;
use steward_domain::role::RoleName;
use steward_domain::user::UserStatus;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::roles::{Lock, count_of, lock_role};
use crate::rows::{corrupt, get, status};
use crate::sql::{all, exec, one, stmt, time_opt_value, time_value};
use crate::{Store, effects, finish};

#[async_trait]
impl LifecycleStore for Store {
    async fn holdings(&self, user: UserId) -> Result<Holdings, StoreError> {
        holdings(self.connection(), user).await
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
            delete_steps(self, &txn, d).await?;
            effects::write(&txn, effects).await?;
            self.failpoint("effects").await
        }
        .await;
        finish(txn, result).await
    }
}

/// The deletion, step by step; each step is one statement (or one check),
/// followed by the failpoint named after it.
async fn delete_steps(store: &Store, c: &impl ConnectionTrait, d: &UserDeletion) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let (u, now) = (d.user.as_uuid(), time_value(b, d.now));
    if let Some(owner) = d.new_owner {
        // First the new owner's row: a concurrent suspension of them waits
        // for this transaction, or this one waits for it and sees it.
        let lock = if b == DbBackend::Postgres { " FOR NO KEY UPDATE" } else { "" };
        let row =
            one(c, stmt(b, &format!("SELECT status FROM users WHERE id = $1{lock}"), vec![owner.as_uuid().into()]))
                .await?
                .ok_or(StoreError::NotFound)?;
        if status(&row, "status")? != UserStatus::Active {
            return Err(StoreError::Refused { reason: "NEW_OWNER_NOT_ACTIVE" });
        }
    }
    store.failpoint("new_owner").await?;
    let tombstone = exec(
        c,
        stmt(
            b,
            "UPDATE users SET status = $2, deleted_at = $3, suspended_until = NULL, version = version + 1, \
             updated_at = $3 WHERE id = $1 AND status = $4 AND version = $5",
            vec![
                u.into(),
                UserStatus::Deleted.as_str().into(),
                now.clone(),
                UserStatus::Suspended.as_str().into(),
                d.expected_user_version.into(),
            ],
        ),
    )
    .await?;
    if tombstone.rows_affected() == 0 {
        return Err(match refusal(c, d.user, "USER_NOT_SUSPENDED").await {
            StoreError::Refused { .. } if still_suspended(c, d.user).await? => StoreError::Stale,
            other => other,
        });
    }
    store.failpoint("users").await?;
    if holdings(c, d.user).await? != d.expected {
        return Err(StoreError::Stale);
    }
    store.failpoint("holdings").await?;

    let to: Value = d.new_owner.map(|o| o.as_uuid()).into();
    let mut steps: Vec<(&str, Statement)> = Vec::new();
    if d.new_owner.is_some() {
        steps.extend([
            (
                // The new owner read some of these datasets: as their owner
                // they are no reader of them. Driven by the user's resources
                // (one key probe each), not by the new owner's reader rows,
                // which may be many more than what the user hands over.
                "dataset_readers.owned",
                stmt(
                    b,
                    "DELETE FROM dataset_readers WHERE user_id = $2 AND resource_id IN ( \
                       SELECT r.id FROM resources r WHERE r.owner_id = $1)",
                    vec![u.into(), to.clone()],
                ),
            ),
            (
                // Schedules are disabled in the same row write that moves
                // them: no schedule is ever enabled under its new owner.
                "resources",
                stmt(
                    b,
                    "UPDATE resources SET owner_id = $2, version = version + 1, updated_at = $3, \
                     schedule_enabled = CASE WHEN kind = $4 THEN $5 ELSE schedule_enabled END \
                     WHERE owner_id = $1",
                    vec![u.into(), to.clone(), now.clone(), ResourceKind::Schedule.as_str().into(), false.into()],
                ),
            ),
            (
                // Read access the new owner has already (as reader or owner)
                // is not doubled (driven by the user's own reader rows).
                "dataset_readers.duplicates",
                stmt(
                    b,
                    "DELETE FROM dataset_readers WHERE user_id = $1 AND ( \
                       EXISTS (SELECT 1 FROM dataset_readers o WHERE o.user_id = $2 \
                               AND o.resource_id = dataset_readers.resource_id) \
                       OR EXISTS (SELECT 1 FROM resources r WHERE r.id = dataset_readers.resource_id \
                                  AND r.owner_id = $2))",
                    vec![u.into(), to.clone()],
                ),
            ),
            (
                "dataset_readers",
                stmt(b, "UPDATE dataset_readers SET user_id = $2 WHERE user_id = $1", vec![u.into(), to.clone()]),
            ),
            (
                "projects",
                stmt(
                    b,
                    "UPDATE projects SET owner_id = $2, version = version + 1, updated_at = $3 WHERE owner_id = $1",
                    vec![u.into(), to.clone(), now.clone()],
                ),
            ),
            (
                // Requests awaiting the user's decision now await the new
                // owner's (deciders follow ownership); those the new owner
                // made for what they just received are moot.
                "access_requests.owned",
                stmt(
                    b,
                    "UPDATE access_requests SET state = $3, decision_reason = $4, updated_at = $5, \
                     version = version + 1 WHERE requester_id = $1 AND state = $2 AND ( \
                       EXISTS (SELECT 1 FROM resources r WHERE r.id = access_requests.resource_id \
                               AND r.owner_id = $1) \
                       OR EXISTS (SELECT 1 FROM projects p WHERE p.id = access_requests.project_id \
                                  AND p.owner_id = $1))",
                    vec![
                        to.clone(),
                        RequestState::Pending.as_str().into(),
                        RequestState::Withdrawn.as_str().into(),
                        WITHDRAWN_TARGET_RECEIVED.into(),
                        now.clone(),
                    ],
                ),
            ),
        ]);
    }
    steps.push((
        // The user's own pending requests end with them.
        "access_requests",
        stmt(
            b,
            "UPDATE access_requests SET state = $3, decision_reason = $4, updated_at = $5, version = version + 1 \
             WHERE requester_id = $1 AND state = $2",
            vec![
                u.into(),
                RequestState::Pending.as_str().into(),
                RequestState::Withdrawn.as_str().into(),
                WITHDRAWN_REQUESTER_DELETED.into(),
                now.clone(),
            ],
        ),
    ));
    for table in ["project_members", "role_assignments", "sql_credentials", "user_mfa"] {
        steps.push((table, stmt(b, &format!("DELETE FROM {table} WHERE user_id = $1"), vec![u.into()])));
    }
    for table in ["api_keys", "sessions"] {
        let sql = format!("UPDATE {table} SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL");
        steps.push((table, stmt(b, &sql, vec![u.into(), now.clone()])));
    }
    steps.push((
        "credentials",
        stmt(
            b,
            "UPDATE credentials SET password_hash = NULL, temp_digest = NULL, temp_expires_at = NULL \
             WHERE user_id = $1",
            vec![u.into()],
        ),
    ));
    for (name, s) in steps {
        exec(c, s).await?;
        store.failpoint(name).await?;
    }
    Ok(())
}

/// The names of the deletion's steps, in order (for failure-injection tests).
pub const DELETE_STEPS: &[&str] = &[
    "new_owner",
    "users",
    "holdings",
    "dataset_readers.owned",
    "resources",
    "dataset_readers.duplicates",
    "dataset_readers",
    "projects",
    "access_requests.owned",
    "access_requests",
    "project_members",
    "role_assignments",
    "sql_credentials",
    "user_mfa",
    "api_keys",
    "sessions",
    "credentials",
    "effects",
];

async fn revoke_tokens(c: &impl ConnectionTrait, user: UserId, now: OffsetDateTime) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    for table in ["sessions", "api_keys"] {
        let sql = format!("UPDATE {table} SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL");
        exec(c, stmt(b, &sql, vec![user.as_uuid().into(), time_value(b, now)])).await?;
    }
    Ok(())
}

/// Why a guarded status change touched nothing: no such user, or `reason`.
async fn refusal(c: &impl ConnectionTrait, user: UserId, reason: &'static str) -> StoreError {
    let b = c.get_database_backend();
    match one(c, stmt(b, "SELECT id FROM users WHERE id = $1", vec![user.as_uuid().into()])).await {
        Ok(Some(_)) => StoreError::Refused { reason },
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

async fn still_suspended(c: &impl ConnectionTrait, user: UserId) -> Result<bool, StoreError> {
    let b = c.get_database_backend();
    let row = one(c, stmt(b, "SELECT status FROM users WHERE id = $1", vec![user.as_uuid().into()])).await?;
    Ok(match row {
        Some(r) => status(&r, "status")? == UserStatus::Suspended,
        None => false,
    })
}

/// Everything `user` holds, counted in a handful of aggregate reads.
pub(crate) async fn holdings(c: &impl ConnectionTrait, user: UserId) -> Result<Holdings, StoreError> {
    let b = c.get_database_backend();
    let u = user.as_uuid();
    let rows = all(
        c,
        stmt(
            b,
            "SELECT kind, COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v, MAX(updated_at) AS last \
             FROM resources WHERE owner_id = $1 GROUP BY kind",
            vec![u.into()],
        ),
    )
    .await?;
    let mut resources = Vec::with_capacity(rows.len());
    for r in &rows {
        let name: String = get(r, "kind")?;
        let kind = ResourceKind::from_str_opt(&name).ok_or_else(|| corrupt("kind", &name))?;
        let count = u64::try_from(get::<i64>(r, "n")?).map_err(|_| corrupt("count", "negative"))?;
        let last_change = match b {
            DbBackend::Sqlite => get::<Option<String>>(r, "last")?
                .map(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| corrupt("updated_at", e)))
                .transpose()?,
            _ => get::<Option<OffsetDateTime>>(r, "last")?,
        };
        resources.push(OwnedKind { kind, count, version_sum: get(r, "v")?, last_change });
    }
    resources.sort_by_key(|k| ResourceKind::ALL.iter().position(|a| *a == k.kind));
    let projects = one(
        c,
        stmt(
            b,
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM projects WHERE owner_id = $1",
            vec![u.into()],
        ),
    )
    .await?
    .ok_or_else(|| corrupt("projects", "no aggregate row"))?;
    let count = |sql: &str| count_of(c, stmt(b, sql, vec![u.into()]));
    Ok(Holdings {
        resources,
        dataset_reads: count("SELECT COUNT(*) AS n FROM dataset_readers WHERE user_id = $1").await?,
        projects: u64::try_from(get::<i64>(&projects, "n")?).map_err(|_| corrupt("count", "negative"))?,
        project_version_sum: get(&projects, "v")?,
        api_keys: count("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL").await?,
        sessions: count("SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL").await?,
        sql_credentials: count("SELECT COUNT(*) AS n FROM sql_credentials WHERE user_id = $1").await?,
        memberships: count("SELECT COUNT(*) AS n FROM project_members WHERE user_id = $1").await?,
        role_assignments: count("SELECT COUNT(*) AS n FROM role_assignments WHERE user_id = $1").await?,
    })
}

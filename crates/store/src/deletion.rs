//! The deletion that hands everything a user holds to a new owner: one
//! transaction, one set-based statement per table, never a loop over rows.
//! Each step is followed by a failpoint named after it ([`DELETE_STEPS`]),
//! so a test can fail the transaction after any of them.
//!
//! Schedules move disabled: the statement that moves them also switches
//! them off, so none is ever enabled under its new owner. The personal
//! group is deleted, not moved; the user's memberships end.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use steward_domain::StoreError;
use steward_domain::access::{RequestState, WITHDRAWN_REQUESTER_DELETED, WITHDRAWN_TARGET_RECEIVED};
use steward_domain::lifecycle::UserDeletion;
use steward_domain::ownership::ResourceKind;
use steward_domain::user::UserStatus;

use crate::Store;
use crate::holdings::{PERSONAL, holdings};
use crate::lifecycle::{refusal, still_suspended};
use crate::rows::status;
use crate::sql::{exec, one, stmt, time_value};

/// The deletion, step by step; each step is one statement (or one check),
/// followed by the failpoint named after it.
pub(crate) async fn delete_steps(store: &Store, c: &impl ConnectionTrait, d: &UserDeletion) -> Result<(), StoreError> {
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
    // The personal group goes with its user, never to the new owner: its
    // entries and members first (no foreign key takes them), then its
    // resource row, whose key takes the `groups` row along.
    let mut steps: Vec<(&str, Statement)> = vec![
        (
            "group_resources.personal",
            stmt(b, &format!("DELETE FROM group_resources WHERE group_id IN ({PERSONAL})"), vec![u.into()]),
        ),
        (
            "group_members.personal",
            stmt(b, &format!("DELETE FROM group_members WHERE group_id IN ({PERSONAL})"), vec![u.into()]),
        ),
        ("resources.personal", stmt(b, &format!("DELETE FROM resources WHERE id IN ({PERSONAL})"), vec![u.into()])),
    ];
    if d.new_owner.is_some() {
        steps.extend([
            (
                // The other groups the user owns move with everything else;
                // their new owner joins each (an owner is always a member).
                "group_members.new_owner",
                stmt(
                    b,
                    "INSERT INTO group_members (group_id, user_id, added_at) \
                     SELECT g.id, $2, $3 FROM groups g JOIN resources r ON r.id = g.id \
                     WHERE r.owner_id = $1 AND r.kind = $4 ON CONFLICT DO NOTHING",
                    vec![u.into(), to.clone(), now.clone(), ResourceKind::Group.as_str().into()],
                ),
            ),
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
            // Read access the new owner has already, as reader or as owner,
            // is not doubled. Two statements, each driven by the user's own
            // reader rows with a key probe per row: under one OR, PostgreSQL
            // hashes all of the new owner's resources instead.
            (
                "dataset_readers.duplicates",
                stmt(
                    b,
                    "DELETE FROM dataset_readers WHERE user_id = $1 AND EXISTS ( \
                       SELECT 1 FROM dataset_readers o WHERE o.user_id = $2 \
                       AND o.resource_id = dataset_readers.resource_id)",
                    vec![u.into(), to.clone()],
                ),
            ),
            (
                "dataset_readers.new_owners",
                stmt(
                    b,
                    "DELETE FROM dataset_readers WHERE user_id = $1 AND EXISTS ( \
                       SELECT 1 FROM resources r WHERE r.id = dataset_readers.resource_id AND r.owner_id = $2)",
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
    // Memberships of groups too: of other people's groups, and of the
    // groups that just moved to the new owner.
    for table in ["project_members", "group_members", "role_assignments", "sql_credentials", "user_mfa"] {
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
    "group_resources.personal",
    "group_members.personal",
    "resources.personal",
    "group_members.new_owner",
    "dataset_readers.owned",
    "resources",
    "dataset_readers.duplicates",
    "dataset_readers.new_owners",
    "dataset_readers",
    "projects",
    "access_requests.owned",
    "access_requests",
    "project_members",
    "group_members",
    "role_assignments",
    "sql_credentials",
    "user_mfa",
    "api_keys",
    "sessions",
    "credentials",
    "effects",
];

//! Grants that may end: rows of `dataset_readers` (read-only holders) and
//! `project_members` with an `expires_at`. Every read that counts a holder or
//! a member applies [`live`], so an ended grant stops counting the moment it
//! ends, with no sweeper needed for correctness.

use sea_orm::ConnectionTrait;
use steward_domain::StoreError;
use steward_domain::id::{ProjectId, ResourceId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sql::{Query, exec, stmt, time_opt_value, time_value};

/// `(a.expires_at IS NULL OR a.expires_at > now)` for the grant row aliased
/// `alias`, binding `now` (the store's clock, [`crate::Store::now`]) into `q`.
pub(crate) fn live(q: &mut Query, alias: &str, now: OffsetDateTime) -> String {
    let now = q.bind(time_value(q.backend(), now));
    live_at(alias, &now)
}

/// [`live`] for a fixed statement whose parameter `param` holds [`now`].
pub(crate) fn live_at(alias: &str, param: &str) -> String {
    format!("({alias}.expires_at IS NULL OR {alias}.expires_at > {param})")
}

/// A grant's end when two overlap: the later one, and no end beats any.
/// Fixed-width UTC text on SQLite compares like the times it holds.
const LONGER: &str = "CASE WHEN t.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL \
     WHEN t.expires_at > excluded.expires_at THEN t.expires_at ELSE excluded.expires_at END";

/// Makes `user` a read-only holder of `resource` until `until`, keeping a
/// longer grant they hold (an ended one is replaced).
pub(crate) async fn grant_reader(
    c: &impl ConnectionTrait,
    resource: ResourceId,
    user: UserId,
    until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    grant(c, ("dataset_readers", "resource_id"), resource.as_uuid(), user, until, now).await
}

/// Makes `user` a member of `project` until `until`, keeping a longer
/// membership they hold (an ended one is replaced).
pub(crate) async fn grant_member(
    c: &impl ConnectionTrait,
    project: ProjectId,
    user: UserId,
    until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    grant(c, ("project_members", "project_id"), project.as_uuid(), user, until, now).await
}

/// One upsert into a grant table keyed by (`target column`, `user_id`).
async fn grant(
    c: &impl ConnectionTrait,
    (table, target_col): (&str, &str),
    target: Uuid,
    user: UserId,
    until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let sql = format!(
        "INSERT INTO {table} AS t ({target_col}, user_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT ({target_col}, user_id) DO UPDATE SET expires_at = {}",
        longer_or_renewed()
    );
    let values = vec![target.into(), user.as_uuid().into(), time_opt_value(b, until), time_value(b, now)];
    exec(c, stmt(b, &sql, values)).await.map(drop)
}

/// The new end of an existing grant row `t` (parameter `$4` holds the time):
/// an ended one takes the new grant's end; a live one keeps the longer.
fn longer_or_renewed() -> String {
    format!("CASE WHEN NOT {} THEN excluded.expires_at ELSE {LONGER} END", live_at("t", "$4"))
}

/// Removes ended grants on one target (before a write that must not
/// mistake one for a live grant, e.g. adding a member).
pub(crate) async fn drop_ended_member(
    c: &impl ConnectionTrait,
    project: ProjectId,
    user: UserId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let sql = "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 \
               AND expires_at IS NOT NULL AND expires_at <= $3";
    exec(c, stmt(b, sql, vec![project.as_uuid().into(), user.as_uuid().into(), time_value(b, now)])).await.map(drop)
}

//! What a user holds, read at one moment: what a deletion plan is made
//! from and what the deletion checks is still so.
//!
//! The personal group is counted apart from the resources the user owns: it
//! is deleted with the user, not handed to the new owner, so a user who
//! owns nothing else needs no new owner.

use sea_orm::{ConnectionTrait, DbBackend};
use steward_domain::StoreError;
use steward_domain::id::UserId;
use steward_domain::lifecycle::{Holdings, OwnedKind};
use steward_domain::ownership::ResourceKind;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::roles::count_of;
use crate::rows::{corrupt, get};
use crate::sql::{all, one, stmt};

/// The id of the personal group of the user in parameter `$1` (a subquery).
pub(crate) const PERSONAL: &str = "SELECT pg.id FROM groups pg WHERE pg.personal_of = $1";

/// Everything `user` holds, counted in a handful of aggregate reads.
pub(crate) async fn holdings(c: &impl ConnectionTrait, user: UserId) -> Result<Holdings, StoreError> {
    let b = c.get_database_backend();
    let u = user.as_uuid();
    let rows = all(
        c,
        stmt(
            b,
            &format!(
                "SELECT kind, COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v, MAX(updated_at) AS last \
             FROM resources WHERE owner_id = $1 AND id NOT IN ({PERSONAL}) GROUP BY kind"
            ),
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
        personal_group: count("SELECT COUNT(*) AS n FROM groups WHERE personal_of = $1").await?,
        group_memberships: count(&format!(
            "SELECT COUNT(*) AS n FROM group_members WHERE user_id = $1 AND group_id NOT IN ({PERSONAL})"
        ))
        .await?,
        role_assignments: count("SELECT COUNT(*) AS n FROM role_assignments WHERE user_id = $1").await?,
    })
}

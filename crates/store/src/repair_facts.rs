//! What the inconsistency report reads about one user: set-based queries,
//! a dozen per user, each on an index (the global report runs them for
//! every user, a page of users at a time).

use sea_orm::{ConnectionTrait, DbBackend, Value};
use steward_domain::StoreError;
use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::{AccessLevel, ResourceKind};
use steward_domain::repair::{DeadGroup, UserFacts};
use steward_domain::sql::SqlUsername;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::resources::kinds;
use crate::roles::count_of;
use crate::rows::{corrupt, get, status};
use crate::sql::{all, one, stmt, time_value};

/// The platforms whose usernames must each map to one user, by column.
const PLATFORMS: [(&str, &str); 4] = [
    ("Databricks", "databricks_username"),
    ("Redshift", "redshift_username"),
    ("Snowflake", "snowflake_username"),
    ("Synapse", "synapse_username"),
];

pub(crate) async fn user_facts(
    c: &impl ConnectionTrait,
    user: UserId,
    now: OffsetDateTime,
) -> Result<Option<UserFacts>, StoreError> {
    let b = c.get_database_backend();
    let u: Value = user.as_uuid().into();
    let Some(row) = one(c, stmt(b, "SELECT username, status FROM users WHERE id = $1", vec![u.clone()])).await? else {
        return Ok(None);
    };
    let username: String = get(&row, "username")?;
    let status = status(&row, "status")?;
    let q = |sql: &str, values: Vec<Value>| stmt(b, sql, values);
    let now_v = time_value(b, now);

    let mut dead_memberships = Vec::new();
    for r in all(
        c,
        q(
            "SELECT gm.group_id, g.active FROM group_members gm LEFT JOIN groups g ON g.id = gm.group_id \
             WHERE gm.user_id = $1 AND (g.id IS NULL OR g.active = false) ORDER BY gm.group_id",
            vec![u.clone()],
        ),
    )
    .await?
    {
        let dead = match get::<Option<bool>>(&r, "active")? {
            None => DeadGroup::Missing,
            Some(_) => DeadGroup::Inactive,
        };
        dead_memberships.push((ResourceId::from_uuid(get(&r, "group_id")?), dead));
    }

    let dangling_entries = all(
        c,
        q(
            "SELECT gr.group_id, gr.resource_id FROM resources g JOIN group_resources gr ON gr.group_id = g.id \
             WHERE g.owner_id = $1 AND g.kind = 'group' \
               AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.id = gr.resource_id) \
             ORDER BY gr.group_id, gr.resource_id",
            vec![u.clone()],
        ),
    )
    .await?
    .iter()
    .map(|r| Ok((ResourceId::from_uuid(get(r, "group_id")?), ResourceId::from_uuid(get(r, "resource_id")?))))
    .collect::<Result<Vec<_>, StoreError>>()?;

    let personal_groups = all(
        c,
        q(
            "SELECT g.id, r.display_name FROM groups g JOIN resources r ON r.id = g.id \
             WHERE g.personal_of = $1 ORDER BY g.id",
            vec![u.clone()],
        ),
    )
    .await?
    .iter()
    .map(|r| Ok((ResourceId::from_uuid(get(r, "id")?), get::<String>(r, "display_name")?)))
    .collect::<Result<Vec<_>, StoreError>>()?;

    let counted = |sql: &'static str| q(sql, vec![u.clone(), now_v.clone()]);
    let live_sessions = scalar(
        c,
        counted("SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2"),
    )
    .await?;
    let live_keys = scalar(
        c,
        counted(
            "SELECT COUNT(*) AS n FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        ),
    )
    .await?;
    let ended_reader_grants = ids(
        c,
        counted(
            "SELECT resource_id AS id FROM dataset_readers \
             WHERE user_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2 ORDER BY resource_id",
        ),
    )
    .await?
    .into_iter()
    .map(ResourceId::from_uuid)
    .collect();
    let ended_memberships = ids(
        c,
        counted(
            "SELECT project_id AS id FROM project_members \
             WHERE user_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2 ORDER BY project_id",
        ),
    )
    .await?
    .into_iter()
    .map(ProjectId::from_uuid)
    .collect();
    // The personal group is the user's own and goes with them: not counted.
    let owned_resources = scalar(
        c,
        q(
            "SELECT COUNT(*) AS n FROM resources r WHERE r.owner_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = r.id AND g.personal_of = $1)",
            vec![u.clone()],
        ),
    )
    .await?;

    let mut shared_platform_names = Vec::new();
    for (platform, col) in PLATFORMS {
        let sql = format!(
            "SELECT o.id, o.{col} AS name FROM users me JOIN users o ON o.{col} = me.{col} AND o.id <> me.id \
             WHERE me.id = $1 AND me.{col} IS NOT NULL AND me.{col} <> '' AND me.status <> 'deleted' \
               AND o.status <> 'deleted' ORDER BY o.id"
        );
        for r in all(c, q(&sql, vec![u.clone()])).await? {
            shared_platform_names.push((platform, get::<String>(&r, "name")?, UserId::from_uuid(get(&r, "id")?)));
        }
    }

    let access = effective_access(c, b, user, now).await?;
    let sql_login = match one(c, q("SELECT sql_username FROM sql_credentials WHERE user_id = $1", vec![u])).await? {
        Some(r) => {
            let name: String = get(&r, "sql_username")?;
            Some(SqlUsername::parse(&name, "sql_username").map_err(|v| corrupt("sql_username", v))?)
        }
        None => None,
    };

    Ok(Some(UserFacts {
        user,
        username,
        status,
        dead_memberships,
        dangling_entries,
        personal_groups,
        live_sessions,
        live_keys,
        ended_reader_grants,
        ended_memberships,
        owned_resources,
        shared_platform_names,
        access,
        sql_login,
    }))
}

/// Access to the engine-mirrored kinds: owned, held read-only while the
/// grant lasts, and given to an active group the user is a member of.
async fn effective_access(
    c: &impl ConnectionTrait,
    b: DbBackend,
    user: UserId,
    now: OffsetDateTime,
) -> Result<Vec<(ResourceId, AccessLevel)>, StoreError> {
    let kinds = kinds(ResourceKind::is_group_linkable);
    let sql = format!(
        "SELECT r.id AS id, 'owner' AS access FROM resources r WHERE r.owner_id = $1 AND r.kind IN ({kinds}) \
         UNION ALL \
         SELECT r.id, 'read' FROM dataset_readers dr JOIN resources r ON r.id = dr.resource_id \
           WHERE dr.user_id = $1 AND (dr.expires_at IS NULL OR dr.expires_at > $2) AND r.kind IN ({kinds}) \
         UNION ALL \
         SELECT r.id, gr.access FROM group_members gm \
           JOIN groups g ON g.id = gm.group_id AND g.active = true \
           JOIN group_resources gr ON gr.group_id = gm.group_id \
           JOIN resources r ON r.id = gr.resource_id \
           WHERE gm.user_id = $1 AND r.kind IN ({kinds})"
    );
    let rows = all(c, stmt(b, &sql, vec![user.as_uuid().into(), time_value(b, now)])).await?;
    rows.iter()
        .map(|r| {
            let access: String = get(r, "access")?;
            let level = AccessLevel::from_str_opt(&access).ok_or_else(|| corrupt("access", &access))?;
            Ok((ResourceId::from_uuid(get(r, "id")?), level))
        })
        .collect()
}

async fn scalar(c: &impl ConnectionTrait, s: sea_orm::Statement) -> Result<u32, StoreError> {
    Ok(u32::try_from(count_of(c, s).await?).unwrap_or(u32::MAX))
}

async fn ids(c: &impl ConnectionTrait, s: sea_orm::Statement) -> Result<Vec<Uuid>, StoreError> {
    all(c, s).await?.iter().map(|r| get::<Uuid>(r, "id")).collect()
}

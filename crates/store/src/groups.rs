//! Groups. (Placeholder until the groups store lands: only the personal
//! group insert the repair needs.)

use sea_orm::{ConnectionTrait, DbErr};
use steward_domain::id::{ResourceId, UserId};
use time::OffsetDateTime;

use crate::sql::{stmt, time_value};

/// The user's personal group: a group resource they own, named after them,
/// with them as its only member.
pub(crate) async fn insert_personal_group(
    c: &impl ConnectionTrait,
    user: UserId,
    username: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = c.get_database_backend();
    let id = ResourceId::new().as_uuid();
    let t = time_value(b, now);
    for (sql, values) in [
        (
            "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) \
             VALUES ($1, 'group', $2, $3, $4, $4, 1)",
            vec![id.into(), username.into(), user.as_uuid().into(), t.clone()],
        ),
        ("INSERT INTO groups (id, active, personal_of) VALUES ($1, true, $2)", vec![id.into(), user.as_uuid().into()]),
        (
            "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3)",
            vec![id.into(), user.as_uuid().into(), t],
        ),
    ] {
        c.execute_raw(stmt(b, sql, values)).await?;
    }
    Ok(())
}

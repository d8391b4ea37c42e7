//! Every user's personal group, written in the transaction that creates the
//! user: a `resources` row of kind `group` named after them and owned by
//! them, its `groups` row (`personal_of` = the user) and the user as its
//! only member.
//!
//! Set-based like the rest of a user's rows: three statements per thousand
//! users, whatever their number (multi-row `VALUES` on SQLite, a JSON record
//! set on PostgreSQL, see [`crate::records`]).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde::Serialize;
use steward_domain::id::{ResourceId, UserId};
use steward_domain::ownership::ResourceKind;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::sql::{Query, stmt, time_value};

/// Users per statement: seven parameters a row stay under both backends' limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// The personal group of `user` (whose username names it), created at `now`.
/// The repair of a user who lacks one calls this too.
pub(crate) async fn insert_personal_group(
    c: &impl ConnectionTrait,
    user: UserId,
    username: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    insert_personal_groups(c, &[(user, username)], now).await
}

/// The personal groups of `users` (id, username), all created at `now`.
pub(crate) async fn insert_personal_groups(
    c: &impl ConnectionTrait,
    users: &[(UserId, &str)],
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = c.get_database_backend();
    for chunk in users.chunks(ROWS_PER_STATEMENT).filter(|c| !c.is_empty()) {
        let rows: Vec<Row> =
            chunk.iter().map(|(u, name)| Row { id: ResourceId::new().as_uuid(), user_id: u.as_uuid(), name }).collect();
        let statements = if b == DbBackend::Postgres { recordsets(&rows, now)? } else { values(b, &rows, now) };
        for s in statements {
            c.execute_raw(s).await?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Row<'a> {
    id: Uuid,
    user_id: Uuid,
    name: &'a str,
}

fn values(b: DbBackend, rows: &[Row], now: OffsetDateTime) -> [Statement; 3] {
    let mut resources = Query::bulk(
        b,
        "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) VALUES ",
    );
    let mut groups = Query::bulk(b, "INSERT INTO groups (id, active, personal_of) VALUES ");
    let mut members = Query::bulk(b, "INSERT INTO group_members (group_id, user_id, added_at) VALUES ");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            for q in [&mut resources, &mut groups, &mut members] {
                q.push(", ");
            }
        }
        resources.row(vec![
            r.id.into(),
            ResourceKind::Group.as_str().into(),
            r.name.into(),
            r.user_id.into(),
            time_value(b, now),
            time_value(b, now),
            1i64.into(),
        ]);
        groups.row(vec![r.id.into(), true.into(), r.user_id.into()]);
        members.row(vec![r.id.into(), r.user_id.into(), time_value(b, now)]);
    }
    [resources.build(), groups.build(), members.build()]
}

fn recordsets(rows: &[Row], now: OffsetDateTime) -> Result<[Statement; 3], DbErr> {
    let json = serde_json::to_string(rows).map_err(|e| DbErr::Custom(format!("encoding personal groups: {e}")))?;
    let b = DbBackend::Postgres;
    let at = time_value(b, now);
    let from = "FROM json_to_recordset($1::json) AS t(id uuid, user_id uuid, name text)";
    Ok([
        stmt(
            b,
            &format!(
                "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) \
                 SELECT t.id, $3, t.name, t.user_id, $2, $2, 1 {from}"
            ),
            vec![json.clone().into(), at.clone(), ResourceKind::Group.as_str().into()],
        ),
        stmt(
            b,
            &format!("INSERT INTO groups (id, active, personal_of) SELECT t.id, TRUE, t.user_id {from}"),
            vec![json.clone().into()],
        ),
        stmt(
            b,
            &format!("INSERT INTO group_members (group_id, user_id, added_at) SELECT t.id, t.user_id, $2 {from}"),
            vec![json.into(), at],
        ),
    ])
}

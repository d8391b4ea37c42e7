//! [`GroupStore`]: a group is a `resources` row of kind `group` (its name is
//! the display name, its owner the owner, its version the resource's) plus a
//! `groups` row (`active`, `personal_of`), with its `group_members` and its
//! resource-group entries (`group_resources`).
//!
//! Members and entries carry no foreign keys (other services delete rows
//! behind Steward's back, and the inconsistency report finds what they leave
//! dangling), so whatever Steward deletes takes their rows with it in the
//! same transaction: [`forget_resource`].
//!
//! A change to members or entries first bumps the group's version (which on
//! PostgreSQL also locks its row), so changes to one group queue up and each
//! one's `NotFound` is decided before anything is written.

use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult, Statement, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::group::{Group, GroupLink, GroupStore};
use steward_domain::id::{ResourceId, UserId};
use steward_domain::ownership::{AccessLevel, DisplayName, ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::user::UserStatus;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::resources::delete_resource_links;
use crate::rows::{corrupt, get};
use crate::sql::{Query, all, exec, one, stmt, time_value, touched};
use crate::{Store, effects, finish};

const COLUMNS: &str =
    "r.id, r.display_name, r.owner_id, r.created_at, r.updated_at, r.version, g.active, g.personal_of";
const FROM: &str = "FROM resources r JOIN groups g ON g.id = r.id";

#[async_trait]
impl GroupStore for Store {
    async fn insert_group(&self, group: &Group, request_id: Option<&str>, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let mut q = Query::new(
                b,
                "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version, \
                 create_request_id) VALUES ",
            );
            q.row(vec![
                group.id.as_uuid().into(),
                ResourceKind::Group.as_str().into(),
                group.name.as_str().into(),
                group.owner.as_uuid().into(),
                time_value(b, group.created_at),
                time_value(b, group.updated_at),
                group.version.into(),
                request_id.map(str::to_owned).into(),
            ]);
            exec(&txn, q.build()).await?;
            let row =
                vec![group.id.as_uuid().into(), group.active.into(), group.personal_of.map(|u| u.as_uuid()).into()];
            exec(&txn, stmt(b, "INSERT INTO groups (id, active, personal_of) VALUES ($1, $2, $3)", row)).await?;
            let mut members = group.members.clone();
            if !members.contains(&group.owner) {
                members.push(group.owner);
            }
            let mut q = Query::new(b, "INSERT INTO group_members (group_id, user_id, added_at) VALUES ");
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.row(vec![group.id.as_uuid().into(), m.as_uuid().into(), time_value(b, group.created_at)]);
            }
            exec(&txn, q.build()).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn find_group_by_request_id(&self, request_id: &str) -> Result<Option<Group>, StoreError> {
        let sql = format!("SELECT {COLUMNS} {FROM} WHERE r.create_request_id = $1");
        let rows = all(self.connection(), stmt(self.backend(), &sql, vec![request_id.into()])).await?;
        Ok(load(self.connection(), &rows).await?.pop())
    }

    async fn get_group(&self, id: ResourceId, visibility: &Visibility) -> Result<Option<Group>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} {FROM} WHERE r.id = "));
        let p = q.bind(id.as_uuid());
        q.push(&p);
        push_visible(&mut q, visibility);
        let rows = all(self.connection(), q.build()).await?;
        Ok(load(self.connection(), &rows).await?.pop())
    }

    async fn list_groups(&self, visibility: &Visibility, page: PageRequest) -> Result<Vec<Group>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1"));
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND r.id > {p}"));
        }
        push_visible(&mut q, visibility);
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY r.id LIMIT {limit}"));
        let rows = all(self.connection(), q.build()).await?;
        load(self.connection(), &rows).await
    }

    async fn update_group(&self, group: &Group, expected_version: i64, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let id = group.id.as_uuid();
            let s = stmt(
                b,
                "UPDATE resources SET display_name = $3, updated_at = $4, version = $5 \
                 WHERE id = $1 AND version = $2 AND EXISTS (SELECT 1 FROM groups g WHERE g.id = resources.id)",
                vec![
                    id.into(),
                    expected_version.into(),
                    group.name.as_str().into(),
                    time_value(b, group.updated_at),
                    group.version.into(),
                ],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                let exists = one(&txn, stmt(b, "SELECT id FROM groups WHERE id = $1", vec![id.into()])).await?;
                return Err(if exists.is_some() { StoreError::Stale } else { StoreError::NotFound });
            }
            exec(&txn, stmt(b, "UPDATE groups SET active = $2 WHERE id = $1", vec![id.into(), group.active.into()]))
                .await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn delete_group(&self, id: ResourceId, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            forget_resource(&txn, id).await?;
            delete_resource_links(&txn, id).await?;
            exec(&txn, stmt(b, "DELETE FROM groups WHERE id = $1", vec![id.as_uuid().into()])).await?;
            let sql = "DELETE FROM resources WHERE id = $1 AND kind = $2";
            let values = vec![id.as_uuid().into(), ResourceKind::Group.as_str().into()];
            touched(&exec(&txn, stmt(b, sql, values)).await?)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn add_group_member(
        &self,
        group: ResourceId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        // No foreign key: the user's existence is checked by the insert itself.
        let s = stmt(
            b,
            "INSERT INTO group_members (group_id, user_id, added_at) \
             SELECT $1, u.id, $3 FROM users u WHERE u.id = $2 AND u.status <> $4",
            vec![
                group.as_uuid().into(),
                user.as_uuid().into(),
                time_value(b, now),
                UserStatus::Deleted.as_str().into(),
            ],
        );
        change(self, group, now, effects, s, Some("member")).await
    }

    async fn remove_group_member(
        &self,
        group: ResourceId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2";
        let s = stmt(self.backend(), sql, vec![group.as_uuid().into(), user.as_uuid().into()]);
        change(self, group, now, effects, s, None).await
    }

    async fn link_group_resource(
        &self,
        group: ResourceId,
        resource: ResourceId,
        access: AccessLevel,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        // Inserted from the resource's row, so a resource deleted meanwhile
        // links nothing (`NotFound`); an existing entry takes the new level.
        // (SQLite needs the WHERE to read `ON CONFLICT` as the upsert.)
        let s = stmt(
            b,
            "INSERT INTO group_resources (group_id, resource_id, access, added_at) \
             SELECT $1, r.id, $3, $4 FROM resources r WHERE r.id = $2 \
             ON CONFLICT (group_id, resource_id) DO UPDATE SET access = excluded.access",
            vec![group.as_uuid().into(), resource.as_uuid().into(), access.as_str().into(), time_value(b, now)],
        );
        change(self, group, now, effects, s, None).await
    }

    async fn unlink_group_resource(
        &self,
        group: ResourceId,
        resource: ResourceId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM group_resources WHERE group_id = $1 AND resource_id = $2";
        let s = stmt(self.backend(), sql, vec![group.as_uuid().into(), resource.as_uuid().into()]);
        change(self, group, now, effects, s, None).await
    }
}

/// One membership or entry change: bump the group (`NotFound` when it is
/// gone), run `s` (touching nothing is `NotFound`; a duplicate is
/// `Conflict { key }` when `conflict` names one), write the effects.
async fn change(
    store: &Store,
    group: ResourceId,
    now: OffsetDateTime,
    effects: Effects,
    s: Statement,
    conflict: Option<&'static str>,
) -> Result<(), StoreError> {
    let txn = store.begin_write().await?;
    let result = async {
        let b = txn.get_database_backend();
        let bump = stmt(
            b,
            "UPDATE resources SET version = version + 1, updated_at = $2 \
             WHERE id = $1 AND EXISTS (SELECT 1 FROM groups g WHERE g.id = resources.id)",
            vec![group.as_uuid().into(), time_value(b, now)],
        );
        touched(&exec(&txn, bump).await?)?;
        let done = exec(&txn, s).await.map_err(|e| match (e, conflict) {
            (StoreError::Conflict { .. }, Some(key)) => StoreError::Conflict { key },
            (other, _) => other,
        })?;
        touched(&done)?;
        effects::write(&txn, effects).await
    }
    .await;
    finish(txn, result).await
}

/// Removes every resource-group entry that points at `id`, and, when `id`
/// is a group, its members and its entries: what a deletion of `id` must
/// take with it, there being no foreign keys to do it.
pub(crate) async fn forget_resource(c: &impl ConnectionTrait, id: ResourceId) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    for sql in [
        "DELETE FROM group_resources WHERE resource_id = $1",
        "DELETE FROM group_resources WHERE group_id = $1",
        "DELETE FROM group_members WHERE group_id = $1",
    ] {
        exec(c, stmt(b, sql, vec![id.as_uuid().into()])).await?;
    }
    Ok(())
}

/// Appends ` AND (…)` restricting groups (aliased `r`) to what `visibility`
/// lets the caller see: those they own or are a member of. A project-scoped
/// key sees none.
fn push_visible(q: &mut Query, visibility: &Visibility) {
    match *visibility {
        Visibility::Everything => {}
        Visibility::User(user) => {
            let u = q.bind(user.as_uuid());
            q.push(&format!(
                " AND (r.owner_id = {u} OR r.id IN (SELECT gm.group_id FROM group_members gm WHERE gm.user_id = {u}))"
            ));
        }
        Visibility::Project { .. } => {
            q.push(" AND 1 = 0");
        }
    }
}

/// Groups from their rows, with members and entries read in two more
/// statements (whatever the number of rows).
async fn load(c: &impl ConnectionTrait, rows: &[QueryResult]) -> Result<Vec<Group>, StoreError> {
    let mut groups = rows.iter().map(group_from_row).collect::<Result<Vec<_>, _>>()?;
    if groups.is_empty() {
        return Ok(groups);
    }
    let b = c.get_database_backend();
    let keys: Vec<Value> = groups.iter().map(|g| g.id.as_uuid().into()).collect();
    let mut members: HashMap<Uuid, Vec<UserId>> = HashMap::new();
    let mut q = Query::new(b, "SELECT group_id, user_id FROM group_members WHERE group_id IN ");
    q.row(keys.clone());
    for row in all(c, q.build()).await? {
        members.entry(get(&row, "group_id")?).or_default().push(UserId::from_uuid(get(&row, "user_id")?));
    }
    let mut links: HashMap<Uuid, Vec<GroupLink>> = HashMap::new();
    let mut q = Query::new(b, "SELECT group_id, resource_id, access FROM group_resources WHERE group_id IN ");
    q.row(keys);
    for row in all(c, q.build()).await? {
        let access: String = get(&row, "access")?;
        let access = AccessLevel::from_str_opt(&access).ok_or_else(|| corrupt("access", &access))?;
        let link = GroupLink { resource: ResourceId::from_uuid(get(&row, "resource_id")?), access };
        links.entry(get(&row, "group_id")?).or_default().push(link);
    }
    for g in &mut groups {
        g.members = members.remove(&g.id.as_uuid()).unwrap_or_default();
        g.members.sort();
        g.links = links.remove(&g.id.as_uuid()).unwrap_or_default();
        g.links.sort();
    }
    Ok(groups)
}

fn group_from_row(r: &QueryResult) -> Result<Group, StoreError> {
    Ok(Group {
        id: ResourceId::from_uuid(get(r, "id")?),
        name: DisplayName::parse(&get::<String>(r, "display_name")?, "display_name")
            .map_err(|v| corrupt("display_name", v))?,
        owner: get::<Option<Uuid>>(r, "owner_id")?.map(UserId::from_uuid).ok_or_else(|| corrupt("owner_id", "none"))?,
        active: get(r, "active")?,
        personal_of: get::<Option<Uuid>>(r, "personal_of")?.map(UserId::from_uuid),
        members: vec![],
        links: vec![],
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

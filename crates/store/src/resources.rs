//! [`ResourceStore`]: the ownership registry — `resources`, their parent
//! projects (`resource_projects`) and the read-only holders of datasets
//! (`dataset_readers`).
//!
//! Ownership lives in one column per table (`resources.owner_id`,
//! `dataset_readers.user_id`), so moving everything a user holds is one
//! set-based `UPDATE … WHERE owner_id = $old` per table.
//!
//! [`push_visible`] is the SQL form of the domain's [`Visibility`] rule; every
//! read of resources goes through it. A deletion also removes the
//! resource-group entries pointing at the resource (they have no foreign key).

use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::{
    DisplayName, KindCount, Resource, ResourceFilter, ResourceKind, ResourceStore, Visibility,
};
use steward_domain::page::PageRequest;
use steward_domain::user::UserStatus;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::grants::live;
use crate::rows::{corrupt, get};
use crate::sql::{Query, all, exec, one, stmt, time_value, touched};
use crate::{Store, effects, finish, groups};

const COLUMNS: &str =
    "r.id, r.kind, r.display_name, r.owner_id, r.schedule_enabled, r.created_at, r.updated_at, r.version";

#[async_trait]
impl ResourceStore for Store {
    async fn insert_resource(
        &self,
        resource: &Resource,
        request_id: Option<&str>,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let mut q = Query::new(
                b,
                "INSERT INTO resources (id, kind, display_name, owner_id, schedule_enabled, created_at, updated_at, \
                 version, create_request_id) VALUES ",
            );
            q.row(vec![
                resource.id.as_uuid().into(),
                resource.kind.as_str().into(),
                resource.display_name.as_str().into(),
                resource.owner.map(|o| o.as_uuid()).into(),
                resource.schedule_enabled.into(),
                time_value(b, resource.created_at),
                time_value(b, resource.updated_at),
                resource.version.into(),
                request_id.map(str::to_owned).into(),
            ]);
            exec(&txn, q.build()).await?;
            write_links(&txn, resource).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn find_resource_by_request_id(&self, request_id: &str) -> Result<Option<Resource>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM resources r WHERE r.create_request_id = $1");
        let rows = all(self.connection(), stmt(self.backend(), &sql, vec![request_id.into()])).await?;
        Ok(load(self.connection(), &rows, self.now()).await?.pop())
    }

    async fn get_resource(&self, id: ResourceId, visibility: &Visibility) -> Result<Option<Resource>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} FROM resources r WHERE r.id = "));
        let p = q.bind(id.as_uuid());
        q.push(&p);
        let now = self.now();
        push_visible(&mut q, visibility, now);
        let rows = all(self.connection(), q.build()).await?;
        Ok(load(self.connection(), &rows, now).await?.pop())
    }

    async fn list_resources(
        &self,
        filter: &ResourceFilter,
        visibility: &Visibility,
        page: PageRequest,
    ) -> Result<Vec<Resource>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} FROM resources r WHERE 1 = 1"));
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND r.id > {p}"));
        }
        let now = self.now();
        push_filter(&mut q, filter, now);
        push_visible(&mut q, visibility, now);
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY r.id LIMIT {limit}"));
        let rows = all(self.connection(), q.build()).await?;
        load(self.connection(), &rows, now).await
    }

    async fn count_resources_by_kind(
        &self,
        filter: &ResourceFilter,
        visibility: &Visibility,
    ) -> Result<Vec<KindCount>, StoreError> {
        let mut q = Query::new(self.backend(), "SELECT r.kind AS kind, COUNT(*) AS n FROM resources r WHERE 1 = 1");
        let now = self.now();
        push_filter(&mut q, filter, now);
        push_visible(&mut q, visibility, now);
        q.push(" GROUP BY r.kind");
        let rows = all(self.connection(), q.build()).await?;
        let mut counts = rows
            .iter()
            .map(|r| {
                let n: i64 = get(r, "n")?;
                Ok(KindCount { kind: kind(r, "kind")?, count: u64::try_from(n).map_err(|_| corrupt("count", n))? })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        counts.sort_by_key(|c| c.kind);
        Ok(counts)
    }

    async fn update_resource(
        &self,
        resource: &Resource,
        expected_version: i64,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let s = stmt(
                b,
                "UPDATE resources SET display_name = $3, owner_id = $4, schedule_enabled = $5, updated_at = $6, \
                 version = $7 WHERE id = $1 AND version = $2",
                vec![
                    resource.id.as_uuid().into(),
                    expected_version.into(),
                    resource.display_name.as_str().into(),
                    resource.owner.map(|o| o.as_uuid()).into(),
                    resource.schedule_enabled.into(),
                    time_value(b, resource.updated_at),
                    resource.version.into(),
                ],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                let exists =
                    one(&txn, stmt(b, "SELECT id FROM resources WHERE id = $1", vec![resource.id.as_uuid().into()]))
                        .await?;
                return Err(if exists.is_some() { StoreError::Stale } else { StoreError::NotFound });
            }
            replace_links(&txn, resource).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn delete_resource(&self, id: ResourceId, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            delete_resource_links(&txn, id).await?;
            groups::forget_resource(&txn, id).await?;
            touched(&exec(&txn, stmt(b, "DELETE FROM resources WHERE id = $1", vec![id.as_uuid().into()])).await?)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn unknown_users(&self, users: &[UserId]) -> Result<Vec<UserId>, StoreError> {
        if users.is_empty() {
            return Ok(vec![]);
        }
        let mut q = Query::new(self.backend(), "SELECT id FROM users WHERE id IN ");
        q.row(users.iter().map(|u| u.as_uuid().into()).collect());
        let deleted = q.bind(UserStatus::Deleted.as_str());
        q.push(&format!(" AND status <> {deleted}"));
        let found = ids(&all(self.connection(), q.build()).await?, "id")?;
        Ok(users.iter().copied().filter(|u| !found.contains(&u.as_uuid())).collect())
    }

    async fn unknown_projects(&self, projects: &[ProjectId]) -> Result<Vec<ProjectId>, StoreError> {
        if projects.is_empty() {
            return Ok(vec![]);
        }
        let mut q = Query::new(self.backend(), "SELECT id FROM projects WHERE id IN ");
        q.row(projects.iter().map(|p| p.as_uuid().into()).collect());
        let found = ids(&all(self.connection(), q.build()).await?, "id")?;
        Ok(projects.iter().copied().filter(|p| !found.contains(&p.as_uuid())).collect())
    }
}

/// Appends ` AND (…)` restricting resources aliased `r` to what
/// `visibility` lets the caller see (the rule is the domain's, see
/// [`Visibility`]).
pub(crate) fn push_visible(q: &mut Query, visibility: &Visibility, now: OffsetDateTime) {
    let sources = kinds(ResourceKind::is_data_source);
    match *visibility {
        Visibility::Everything => {}
        Visibility::User(user) => {
            let u = q.bind(user.as_uuid());
            let holder = live(q, "dr", now);
            let member = live(q, "pm", now);
            // Group entries count only for the kinds groups are given, and
            // only while the group (its row still there) is active.
            let linkable = kinds(ResourceKind::is_group_linkable);
            q.push(&format!(
                " AND (r.owner_id = {u} \
                 OR EXISTS (SELECT 1 FROM dataset_readers dr WHERE dr.resource_id = r.id AND dr.user_id = {u} \
                     AND {holder}) \
                 OR (r.kind IN ({sources}) AND EXISTS (SELECT 1 FROM project_data_sources pds \
                     JOIN project_members pm ON pm.project_id = pds.project_id \
                     WHERE pds.resource_id = r.id AND pm.user_id = {u} AND {member})) \
                 OR (r.kind IN ({linkable}) AND EXISTS (SELECT 1 FROM group_resources gr \
                     JOIN groups g ON g.id = gr.group_id \
                     JOIN group_members gm ON gm.group_id = gr.group_id \
                     WHERE gr.resource_id = r.id AND gm.user_id = {u} AND g.active)))"
            ));
        }
        Visibility::Project { project, member } => {
            // Driven from the project's links (`IN`, not a correlated
            // `EXISTS`): the page costs the project's links, not the owner's
            // every resource.
            let p = q.bind(project.as_uuid());
            let m = q.bind(member.as_uuid());
            let still = live(q, "pm", now);
            q.push(&format!(
                " AND r.kind IN ({sources}) \
                 AND r.id IN (SELECT pds.resource_id FROM project_data_sources pds WHERE pds.project_id = {p}) \
                 AND EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = {p} AND pm.user_id = {m} \
                     AND {still})"
            ));
        }
    }
}

/// The kinds `pick` selects, as SQL literals (constants of ours, never input).
pub(crate) fn kinds(pick: fn(ResourceKind) -> bool) -> String {
    ResourceKind::ALL
        .into_iter()
        .filter(|k| pick(*k))
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn push_filter(q: &mut Query, f: &ResourceFilter, now: OffsetDateTime) {
    if let Some(owner) = f.owner {
        let p = q.bind(owner.as_uuid());
        q.push(&format!(" AND r.owner_id = {p}"));
    }
    if !f.kinds.is_empty() {
        let ps: Vec<String> = f.kinds.iter().map(|k| q.bind(k.as_str())).collect();
        q.push(&format!(" AND r.kind IN ({})", ps.join(", ")));
    }
    if let Some(project) = f.parent_project {
        let p = q.bind(project.as_uuid());
        q.push(&format!(
            " AND EXISTS (SELECT 1 FROM resource_projects rp WHERE rp.resource_id = r.id AND rp.project_id = {p})"
        ));
    }
    if let Some(project) = f.linked_project {
        let p = q.bind(project.as_uuid());
        q.push(&format!(" AND r.id IN (SELECT l.resource_id FROM project_data_sources l WHERE l.project_id = {p})"));
    }
    if let Some(user) = f.held_by {
        let u = q.bind(user.as_uuid());
        let still = live(q, "h", now);
        q.push(&format!(
            " AND EXISTS (SELECT 1 FROM dataset_readers h WHERE h.resource_id = r.id AND h.user_id = {u} AND {still})"
        ));
    }
}

/// Removes the rows that tie `id` to projects and readers (before the
/// resource itself goes).
pub(crate) async fn delete_resource_links(c: &impl ConnectionTrait, id: ResourceId) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    for table in ["resource_projects", "dataset_readers", "project_data_sources"] {
        exec(c, stmt(b, &format!("DELETE FROM {table} WHERE resource_id = $1"), vec![id.as_uuid().into()])).await?;
    }
    Ok(())
}

/// Replaces the parent projects and readers of `r`. A reader who stays
/// keeps their grant's end (an update never turns a grant from an access
/// request into one without end); grants ended by `r.updated_at` go.
async fn replace_links(c: &impl ConnectionTrait, r: &Resource) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let id = r.id.as_uuid();
    exec(c, stmt(b, "DELETE FROM resource_projects WHERE resource_id = $1", vec![id.into()])).await?;
    let mut q = Query::new(b, "DELETE FROM dataset_readers WHERE resource_id = ");
    let p = q.bind(id);
    q.push(&p);
    // Everyone no longer listed goes, and ended grants (renewed below); with
    // no readers listed, every reader goes.
    if !r.readers.is_empty() {
        let still = live(&mut q, "dataset_readers", r.updated_at);
        q.push(&format!(" AND (NOT {still} OR user_id NOT IN "));
        q.row(r.readers.iter().map(|u| u.as_uuid().into()).collect());
        q.push(")");
    }
    exec(c, q.build()).await?;
    write_links(c, r).await
}

/// The parent projects and readers of `r`, one multi-row insert each; a
/// reader who holds it already keeps their row (and their grant's end).
async fn write_links(c: &impl ConnectionTrait, r: &Resource) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let lists: [(&str, Vec<Uuid>, &str); 2] = [
        (
            "INSERT INTO resource_projects (resource_id, project_id) VALUES ",
            r.projects.iter().map(|p| p.as_uuid()).collect(),
            "",
        ),
        (
            "INSERT INTO dataset_readers (resource_id, user_id) VALUES ",
            r.readers.iter().map(|u| u.as_uuid()).collect(),
            " ON CONFLICT (resource_id, user_id) DO NOTHING",
        ),
    ];
    for (sql, ids, on_conflict) in lists {
        if ids.is_empty() {
            continue;
        }
        let mut q = Query::new(b, sql);
        for (i, id) in ids.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.row(vec![r.id.as_uuid().into(), Value::from(id)]);
        }
        q.push(on_conflict);
        exec(c, q.build()).await?;
    }
    Ok(())
}

/// Resources from their rows, with their parent projects and readers read
/// in two more statements (whatever the number of rows).
async fn load(
    c: &impl ConnectionTrait,
    rows: &[QueryResult],
    now: OffsetDateTime,
) -> Result<Vec<Resource>, StoreError> {
    let mut resources = rows.iter().map(resource_from_row).collect::<Result<Vec<_>, _>>()?;
    if resources.is_empty() {
        return Ok(resources);
    }
    let b = c.get_database_backend();
    let keys: Vec<Value> = resources.iter().map(|r| r.id.as_uuid().into()).collect();
    let mut projects: HashMap<Uuid, Vec<ProjectId>> = HashMap::new();
    let mut readers: HashMap<Uuid, Vec<UserId>> = HashMap::new();
    for (table, col) in [("resource_projects", "project_id"), ("dataset_readers", "user_id")] {
        let mut q = Query::new(b, &format!("SELECT resource_id, {col} FROM {table} t WHERE resource_id IN "));
        q.row(keys.clone());
        if table == "dataset_readers" {
            let still = live(&mut q, "t", now);
            q.push(&format!(" AND {still}"));
        }
        for row in all(c, q.build()).await? {
            let rid: Uuid = get(&row, "resource_id")?;
            let other: Uuid = get(&row, col)?;
            if col == "project_id" {
                projects.entry(rid).or_default().push(ProjectId::from_uuid(other));
            } else {
                readers.entry(rid).or_default().push(UserId::from_uuid(other));
            }
        }
    }
    for r in &mut resources {
        r.projects = projects.remove(&r.id.as_uuid()).unwrap_or_default();
        r.projects.sort();
        r.readers = readers.remove(&r.id.as_uuid()).unwrap_or_default();
        r.readers.sort();
    }
    Ok(resources)
}

fn ids(rows: &[QueryResult], col: &str) -> Result<Vec<Uuid>, StoreError> {
    rows.iter().map(|r| get::<Uuid>(r, col)).collect()
}

fn kind(row: &QueryResult, col: &str) -> Result<ResourceKind, StoreError> {
    let s: String = get(row, col)?;
    ResourceKind::from_str_opt(&s).ok_or_else(|| corrupt(col, s))
}

fn resource_from_row(r: &QueryResult) -> Result<Resource, StoreError> {
    Ok(Resource {
        id: ResourceId::from_uuid(get(r, "id")?),
        kind: kind(r, "kind")?,
        display_name: DisplayName::parse(&get::<String>(r, "display_name")?, "display_name")
            .map_err(|v| corrupt("display_name", v))?,
        owner: get::<Option<Uuid>>(r, "owner_id")?.map(UserId::from_uuid),
        projects: vec![],
        schedule_enabled: get(r, "schedule_enabled")?,
        readers: vec![],
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

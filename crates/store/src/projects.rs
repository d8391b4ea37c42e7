//! [`ProjectStore`]: `projects`, their `project_members` and their linked
//! data sources (`project_data_sources`).
//!
//! A change to members or links first bumps the project's version (which on
//! PostgreSQL also locks its row), so changes to one project queue up and
//! each one's `NotFound` is decided before anything is written.

use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::Visibility;
use steward_domain::page::PageRequest;
use steward_domain::project::{Project, ProjectName, ProjectStore};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::grants::live;
use crate::rows::{corrupt, get};
use crate::sql::{Query, all, exec, stmt, time_value, touched};
use crate::{Store, effects, finish, grants};

const COLUMNS: &str = "p.id, p.name, p.description, p.owner_id, p.created_at, p.updated_at, p.version";

#[async_trait]
impl ProjectStore for Store {
    async fn insert_project(
        &self,
        project: &Project,
        request_id: Option<&str>,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let mut q = Query::new(
                b,
                "INSERT INTO projects (id, name, name_lower, description, owner_id, created_at, updated_at, version, \
                 create_request_id) VALUES ",
            );
            q.row(vec![
                project.id.as_uuid().into(),
                project.name.as_str().into(),
                project.name.canonical().into(),
                project.description.clone().into(),
                project.owner.as_uuid().into(),
                time_value(b, project.created_at),
                time_value(b, project.updated_at),
                project.version.into(),
                request_id.map(str::to_owned).into(),
            ]);
            exec(&txn, q.build()).await?;
            let mut members = project.members.clone();
            if !members.contains(&project.owner) {
                members.push(project.owner);
            }
            let mut q = Query::new(b, "INSERT INTO project_members (project_id, user_id) VALUES ");
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.row(vec![project.id.as_uuid().into(), m.as_uuid().into()]);
            }
            exec(&txn, q.build()).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn find_project_by_request_id(&self, request_id: &str) -> Result<Option<Project>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.create_request_id = $1");
        let rows = all(self.connection(), stmt(self.backend(), &sql, vec![request_id.into()])).await?;
        Ok(load(self.connection(), &rows, self.now()).await?.pop())
    }

    async fn get_project(&self, id: ProjectId, visibility: &Visibility) -> Result<Option<Project>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} FROM projects p WHERE p.id = "));
        let p = q.bind(id.as_uuid());
        q.push(&p);
        let now = self.now();
        push_visible(&mut q, visibility, now);
        let rows = all(self.connection(), q.build()).await?;
        Ok(load(self.connection(), &rows, now).await?.pop())
    }

    async fn list_projects(&self, visibility: &Visibility, page: PageRequest) -> Result<Vec<Project>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {COLUMNS} FROM projects p WHERE 1 = 1"));
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND p.id > {p}"));
        }
        let now = self.now();
        push_visible(&mut q, visibility, now);
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY p.id LIMIT {limit}"));
        let rows = all(self.connection(), q.build()).await?;
        load(self.connection(), &rows, now).await
    }

    async fn add_project_member(
        &self,
        project: ProjectId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO project_members (project_id, user_id) VALUES ($1, $2)";
        change(self, project, now, effects, sql, user.as_uuid(), Change::Join).await
    }

    async fn remove_project_member(
        &self,
        project: ProjectId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2";
        change(self, project, now, effects, sql, user.as_uuid(), Change::Delete).await
    }

    async fn link_data_source(
        &self,
        project: ProjectId,
        resource: ResourceId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO project_data_sources (project_id, resource_id) VALUES ($1, $2)";
        change(self, project, now, effects, sql, resource.as_uuid(), Change::Insert("link")).await
    }

    async fn unlink_data_source(
        &self,
        project: ProjectId,
        resource: ResourceId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM project_data_sources WHERE project_id = $1 AND resource_id = $2";
        change(self, project, now, effects, sql, resource.as_uuid(), Change::Delete).await
    }
}

enum Change {
    /// A duplicate is `Conflict { key }`.
    Insert(&'static str),
    /// A membership: an ended one (from an access request) is replaced; a
    /// live one is `Conflict { key: "member" }`.
    Join,
    /// Touching nothing is `NotFound`.
    Delete,
}

/// One membership or link change: bump the project (NotFound when it is
/// gone), run `sql` with (project, other), write the effects.
async fn change(
    store: &Store,
    project: ProjectId,
    now: OffsetDateTime,
    effects: Effects,
    sql: &str,
    other: Uuid,
    kind: Change,
) -> Result<(), StoreError> {
    let txn = store.begin_write().await?;
    let result = async {
        let b = txn.get_database_backend();
        let bump = stmt(
            b,
            "UPDATE projects SET version = version + 1, updated_at = $2 WHERE id = $1",
            vec![project.as_uuid().into(), time_value(b, now)],
        );
        touched(&exec(&txn, bump).await?)?;
        let s = stmt(b, sql, vec![project.as_uuid().into(), other.into()]);
        let conflict_key = match kind {
            Change::Insert(key) => Some(key),
            Change::Join => {
                grants::drop_ended_member(&txn, project, UserId::from_uuid(other), now).await?;
                Some("member")
            }
            Change::Delete => None,
        };
        match conflict_key {
            Some(key) => {
                exec(&txn, s).await.map_err(|e| match e {
                    StoreError::Conflict { .. } => StoreError::Conflict { key },
                    other => other,
                })?;
            }
            None => touched(&exec(&txn, s).await?)?,
        }
        effects::write(&txn, effects).await
    }
    .await;
    finish(txn, result).await
}

/// Appends ` AND (…)` restricting projects aliased `p` to what `visibility`
/// lets the caller see: their own memberships, or the scoped project while
/// they are a member of it.
fn push_visible(q: &mut Query, visibility: &Visibility, now: OffsetDateTime) {
    match *visibility {
        Visibility::Everything => {}
        Visibility::User(user) => {
            let u = q.bind(user.as_uuid());
            let still = live(q, "pm", now);
            q.push(&format!(
                " AND EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = {u} \
                 AND {still})"
            ));
        }
        Visibility::Project { project, member } => {
            let pr = q.bind(project.as_uuid());
            let m = q.bind(member.as_uuid());
            let still = live(q, "pm", now);
            q.push(&format!(
                " AND p.id = {pr} AND EXISTS (SELECT 1 FROM project_members pm \
                 WHERE pm.project_id = p.id AND pm.user_id = {m} AND {still})"
            ));
        }
    }
}

/// Projects from their rows, with members and data sources read in two
/// more statements.
async fn load(c: &impl ConnectionTrait, rows: &[QueryResult], now: OffsetDateTime) -> Result<Vec<Project>, StoreError> {
    let mut projects = rows.iter().map(project_from_row).collect::<Result<Vec<_>, _>>()?;
    if projects.is_empty() {
        return Ok(projects);
    }
    let b = c.get_database_backend();
    let keys: Vec<Value> = projects.iter().map(|p| p.id.as_uuid().into()).collect();
    let mut members: HashMap<Uuid, Vec<UserId>> = HashMap::new();
    let mut sources: HashMap<Uuid, Vec<ResourceId>> = HashMap::new();
    for (table, col) in [("project_members", "user_id"), ("project_data_sources", "resource_id")] {
        let mut q = Query::new(b, &format!("SELECT project_id, {col} FROM {table} t WHERE project_id IN "));
        q.row(keys.clone());
        if table == "project_members" {
            let still = live(&mut q, "t", now);
            q.push(&format!(" AND {still}"));
        }
        for row in all(c, q.build()).await? {
            let pid: Uuid = get(&row, "project_id")?;
            let other: Uuid = get(&row, col)?;
            if col == "user_id" {
                members.entry(pid).or_default().push(UserId::from_uuid(other));
            } else {
                sources.entry(pid).or_default().push(ResourceId::from_uuid(other));
            }
        }
    }
    for p in &mut projects {
        p.members = members.remove(&p.id.as_uuid()).unwrap_or_default();
        p.members.sort();
        p.data_sources = sources.remove(&p.id.as_uuid()).unwrap_or_default();
        p.data_sources.sort();
    }
    Ok(projects)
}

fn project_from_row(r: &QueryResult) -> Result<Project, StoreError> {
    Ok(Project {
        id: ProjectId::from_uuid(get(r, "id")?),
        name: ProjectName::parse(&get::<String>(r, "name")?, "name").map_err(|v| corrupt("name", v))?,
        description: get(r, "description")?,
        owner: UserId::from_uuid(get(r, "owner_id")?),
        members: vec![],
        data_sources: vec![],
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

//! Creating projects, managing their members and data sources, and what
//! data sources a caller may see.

use std::sync::Arc;

use super::{CreateProject, Project, ProjectStore};
use crate::audit::AuditEvent;
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::{ProjectId, ResourceId, UserId};
use crate::ownership::{
    Resource, ResourceFilter, ResourceKind, ResourceStore, Visibility, is_live, resource_not_found, unscoped,
};
use crate::page::{Page, PageRequest};
use crate::role::Permission;
use crate::user::{UserKind, UserStore};

pub const PROJECTS_PAGE: &str = "projects";
pub const DATA_SOURCES_PAGE: &str = "data_sources";

pub fn project_target(id: ProjectId) -> String {
    format!("project/{id}")
}

pub struct ProjectService {
    projects: Arc<dyn ProjectStore>,
    resources: Arc<dyn ResourceStore>,
    users: Arc<dyn UserStore>,
    clock: Arc<dyn Clock>,
}

impl ProjectService {
    pub fn new(
        projects: Arc<dyn ProjectStore>,
        resources: Arc<dyn ResourceStore>,
        users: Arc<dyn UserStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { projects, resources, users, clock }
    }

    /// Any person (not a service account, not a project-scoped key); the
    /// creator owns the project and is its first member. Returns the
    /// project created the first time when `request_id` was seen.
    pub async fn create(&self, ctx: &Ctx, req: CreateProject) -> Result<Project, DomainError> {
        unscoped(ctx, Permission::ProjectsManageAny)?;
        if ctx.principal.kind != UserKind::Human {
            return Err(DomainError::PermissionDenied { permission: "a human user" });
        }
        let me = ctx.principal.user_id;
        let request_id = req.request_id.as_deref().map(|r| format!("{me}:{r}"));
        if let Some(rid) = &request_id
            && let Some(existing) = self.projects.find_project_by_request_id(rid).await?
        {
            return Ok(existing);
        }
        let now = self.clock.now();
        let project = Project {
            id: ProjectId::new(),
            name: req.name,
            description: req.description,
            owner: me,
            members: vec![me],
            data_sources: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let audit =
            AuditEvent::by(ctx, now, "project.create", project_target(project.id), format!("name={}", project.name));
        match self.projects.insert_project(&project, request_id.as_deref(), Effects::audit(audit)).await {
            Ok(()) => Ok(project),
            Err(StoreError::Conflict { key: "request_id" }) => self
                .projects
                .find_project_by_request_id(request_id.as_deref().unwrap_or_default())
                .await?
                .ok_or_else(|| DomainError::Internal("request id race".into())),
            Err(StoreError::Conflict { .. }) => Err(DomainError::AlreadyExists {
                resource: "project",
                name: project.name.to_string(),
                reason: "PROJECT_NAME_TAKEN",
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Members, and `projects.manage_any`; anyone else gets NOT_FOUND.
    pub async fn get(&self, ctx: &Ctx, id: ProjectId) -> Result<Project, DomainError> {
        self.projects.get_project(id, &Visibility::projects(ctx)).await?.ok_or_else(|| not_found(id))
    }

    /// The caller's projects; every project with `projects.manage_any`.
    pub async fn list(&self, ctx: &Ctx, page: PageRequest) -> Result<Page<Project>, DomainError> {
        let fetch = PageRequest { size: page.size + 1, ..page };
        let rows = self.projects.list_projects(&Visibility::projects(ctx), fetch).await?;
        Ok(Page::from_rows(rows, page, PROJECTS_PAGE, |p| p.id.as_uuid()))
    }

    /// The owner, or `projects.manage_any`. The user must exist (and not be deleted).
    pub async fn add_member(&self, ctx: &Ctx, id: ProjectId, user: UserId) -> Result<Project, DomainError> {
        let project = self.managed(ctx, id).await?;
        match self.users.get_user(user).await {
            Ok(u) if is_live(u.status) => {}
            Ok(_) | Err(StoreError::NotFound) => return Err(DomainError::not_found("user", user.to_string())),
            Err(e) => return Err(e.into()),
        }
        if project.members.contains(&user) {
            return Err(already_member(user));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "project.add_member", project_target(id), format!("user={user}"));
        match self.projects.add_project_member(id, user, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::Conflict { .. }) => Err(already_member(user)),
            Err(StoreError::NotFound) => Err(not_found(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// The owner, or `projects.manage_any`. The owner stays a member.
    pub async fn remove_member(&self, ctx: &Ctx, id: ProjectId, user: UserId) -> Result<Project, DomainError> {
        let project = self.managed(ctx, id).await?;
        if project.owner == user {
            return Err(DomainError::precondition(
                "PROJECT_OWNER",
                project_target(id),
                "the project's owner is always a member",
            ));
        }
        if !project.members.contains(&user) {
            return Err(not_a_member(user));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "project.remove_member", project_target(id), format!("user={user}"));
        match self.projects.remove_project_member(id, user, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::NotFound) => Err(not_a_member(user)),
            Err(e) => Err(e.into()),
        }
    }

    /// The owner, or `projects.manage_any`; only a data source (dataset or
    /// view) the caller may see. Linking makes it visible to every member.
    pub async fn link_data_source(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        resource: ResourceId,
    ) -> Result<Project, DomainError> {
        let project = self.managed(ctx, id).await?;
        let r = self
            .resources
            .get_resource(resource, &Visibility::resources(ctx))
            .await?
            .ok_or_else(|| resource_not_found(resource))?;
        if !r.kind.is_data_source() {
            return Err(DomainError::invalid(
                "resource_id",
                "NOT_A_DATA_SOURCE",
                format!("a {} is not a data source; only datasets and views are linked", r.kind.wire_name()),
            ));
        }
        if project.data_sources.contains(&resource) {
            return Err(already_linked(resource));
        }
        let now = self.clock.now();
        let detail = format!("resource={resource} kind={}", r.kind);
        let audit = AuditEvent::by(ctx, now, "project.link_data_source", project_target(id), detail);
        match self.projects.link_data_source(id, resource, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::Conflict { .. }) => Err(already_linked(resource)),
            Err(StoreError::NotFound) => Err(resource_not_found(resource)),
            Err(e) => Err(e.into()),
        }
    }

    /// The owner, or `projects.manage_any`.
    pub async fn unlink_data_source(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        resource: ResourceId,
    ) -> Result<Project, DomainError> {
        let project = self.managed(ctx, id).await?;
        if !project.data_sources.contains(&resource) {
            return Err(not_linked(resource));
        }
        let now = self.clock.now();
        let audit =
            AuditEvent::by(ctx, now, "project.unlink_data_source", project_target(id), format!("resource={resource}"));
        match self.projects.unlink_data_source(id, resource, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::NotFound) => Err(not_linked(resource)),
            Err(e) => Err(e.into()),
        }
    }

    /// Every data source the caller may see (see [`Visibility`]): owned,
    /// held read-only, or linked to one of their projects; all of them with
    /// `resources.read_all`; only its project's with a project-scoped key.
    /// With `project`, only those linked to it.
    pub async fn list_data_sources(
        &self,
        ctx: &Ctx,
        project: Option<ProjectId>,
        page: PageRequest,
    ) -> Result<Page<Resource>, DomainError> {
        let filter = ResourceFilter {
            kinds: vec![ResourceKind::Dataset, ResourceKind::View],
            linked_project: project,
            ..ResourceFilter::default()
        };
        let fetch = PageRequest { size: page.size + 1, ..page };
        let rows = self.resources.list_resources(&filter, &Visibility::resources(ctx), fetch).await?;
        Ok(Page::from_rows(rows, page, DATA_SOURCES_PAGE, |r| r.id.as_uuid()))
    }

    /// The project, if the caller may manage it: NOT_FOUND when they cannot
    /// see it, PERMISSION_DENIED when they are a member but not its owner.
    async fn managed(&self, ctx: &Ctx, id: ProjectId) -> Result<Project, DomainError> {
        unscoped(ctx, Permission::ProjectsManageAny)?;
        let project = self.get(ctx, id).await?;
        if project.owner != ctx.principal.user_id {
            ctx.require(Permission::ProjectsManageAny)?;
        }
        Ok(project)
    }

    async fn reread(&self, id: ProjectId) -> Result<Project, DomainError> {
        self.projects.get_project(id, &Visibility::Everything).await?.ok_or_else(|| not_found(id))
    }
}

fn not_found(id: ProjectId) -> DomainError {
    DomainError::not_found("project", id.to_string())
}

fn already_member(user: UserId) -> DomainError {
    DomainError::AlreadyExists { resource: "project member", name: user.to_string(), reason: "ALREADY_A_MEMBER" }
}

fn not_a_member(user: UserId) -> DomainError {
    DomainError::not_found("project member", user.to_string())
}

fn already_linked(resource: ResourceId) -> DomainError {
    DomainError::AlreadyExists { resource: "data source link", name: resource.to_string(), reason: "ALREADY_LINKED" }
}

fn not_linked(resource: ResourceId) -> DomainError {
    DomainError::not_found("data source link", resource.to_string())
}

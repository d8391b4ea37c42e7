//! The ownership registry's use cases: register, read, list, update, delete,
//! and "everything this user owns".

use std::sync::Arc;

use super::visibility::unscoped;
use super::{
    HELD_SHOWN, RegisterResource, Resource, ResourceFilter, ResourceKind, ResourcePatch, ResourceStore, UserResources,
    Visibility,
};
use crate::audit::AuditEvent;
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, FieldViolation, StoreError};
use crate::id::{ProjectId, ResourceId, UserId};
use crate::page::{Page, PageRequest};
use crate::role::Permission;
use crate::user::{UserRef, UserStatus, UserStore};

/// Page tokens of resource listings carry this.
pub const RESOURCES_PAGE: &str = "resources";

pub fn resource_target(id: ResourceId) -> String {
    format!("resource/{id}")
}

pub struct ResourceService {
    store: Arc<dyn ResourceStore>,
    users: Arc<dyn UserStore>,
    clock: Arc<dyn Clock>,
}

impl ResourceService {
    pub fn new(store: Arc<dyn ResourceStore>, users: Arc<dyn UserStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, users, clock }
    }

    /// Needs `resources.register`. The owner, readers and projects must
    /// exist (and the users must not be deleted). Returns the resource
    /// registered the first time when `request_id` was seen.
    pub async fn register(&self, ctx: &Ctx, req: RegisterResource) -> Result<Resource, DomainError> {
        ctx.require(Permission::ResourcesRegister)?;
        unscoped(ctx, Permission::ResourcesRegister)?;
        if req.kind == ResourceKind::Group {
            return Err(DomainError::invalid(
                "resource.kind",
                "MANAGED_BY_GROUP_SERVICE",
                "groups are created with GroupService.CreateGroup",
            ));
        }
        let request_id = req.request_id.as_deref().map(|r| format!("{}:{r}", ctx.principal.user_id));
        if let Some(rid) = &request_id
            && let Some(existing) = self.store.find_resource_by_request_id(rid).await?
        {
            return Ok(existing);
        }
        let now = self.clock.now();
        let mut resource = Resource {
            id: ResourceId::new(),
            kind: req.kind,
            display_name: req.display_name,
            owner: req.owner,
            projects: req.projects,
            schedule_enabled: req.schedule_enabled,
            readers: req.readers,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        resource.normalize()?;
        self.check_references(&resource).await?;
        let audit = AuditEvent::by(ctx, now, "resource.register", resource_target(resource.id), describe(&resource));
        match self.store.insert_resource(&resource, request_id.as_deref(), Effects::audit(audit)).await {
            Ok(()) => Ok(resource),
            Err(StoreError::Conflict { key: "request_id" }) => self
                .store
                .find_resource_by_request_id(request_id.as_deref().unwrap_or_default())
                .await?
                .ok_or_else(|| DomainError::Internal("request id race".into())),
            Err(StoreError::NotFound) => Err(vanished()),
            Err(e) => Err(e.into()),
        }
    }

    /// What the caller may see (see [`Visibility`]); anything else is NOT_FOUND.
    pub async fn get(&self, ctx: &Ctx, id: ResourceId) -> Result<Resource, DomainError> {
        self.store.get_resource(id, &Visibility::resources(ctx)).await?.ok_or_else(|| not_found(id))
    }

    /// One's own resources; anyone's (or everyone's, without an owner
    /// filter) with `resources.read_all`.
    pub async fn list(
        &self,
        ctx: &Ctx,
        mut filter: ResourceFilter,
        page: PageRequest,
    ) -> Result<Page<Resource>, DomainError> {
        let me = ctx.principal.user_id;
        let read_all = ctx.principal.permissions.has(Permission::ResourcesReadAll);
        match filter.owner {
            Some(owner) => ctx.require_self_or(owner, Permission::ResourcesReadAll)?,
            None if !read_all => filter.owner = Some(me),
            None => {}
        }
        let rows = self.store.list_resources(&filter, &Visibility::resources(ctx), fetch(page)).await?;
        Ok(Page::from_rows(rows, page, RESOURCES_PAGE, |r| r.id.as_uuid()))
    }

    /// The owner may change what they own (but not give it away);
    /// `resources.register` may change anything, the owner included.
    /// With `etag`, a stale one is ABORTED.
    pub async fn update(
        &self,
        ctx: &Ctx,
        id: ResourceId,
        patch: ResourcePatch,
        etag: Option<&str>,
    ) -> Result<Resource, DomainError> {
        unscoped(ctx, Permission::ResourcesRegister)?;
        if patch.owner.is_some() {
            ctx.require(Permission::ResourcesRegister)?;
        }
        let expected = match etag.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(
                Resource::parse_etag(e)
                    .ok_or_else(|| DomainError::invalid("etag", "INVALID_ETAG", "not an etag this service issued"))?,
            ),
            None => None,
        };
        let mut resource = self.changeable(ctx, id).await?;
        if expected.is_some_and(|v| v != resource.version) {
            return Err(stale());
        }
        let before_owner = resource.owner;
        let fields = patch.fields().join(",");
        patch.apply(&mut resource);
        resource.normalize()?;
        self.check_references(&resource).await?;
        let now = self.clock.now();
        let read_version = resource.version;
        resource.version += 1;
        resource.updated_at = now;
        let mut detail = format!("fields={fields}");
        if before_owner != resource.owner {
            detail.push_str(&format!(" owner={}->{}", opt(before_owner), opt(resource.owner)));
        }
        let audit = AuditEvent::by(ctx, now, "resource.update", resource_target(id), detail);
        match self.store.update_resource(&resource, read_version, Effects::audit(audit)).await {
            Ok(()) => Ok(resource),
            Err(StoreError::Stale) => Err(stale()),
            Err(StoreError::NotFound) => Err(not_found(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// The owner, or `resources.register`. The resource-group entries that
    /// point at it go with it.
    pub async fn delete(&self, ctx: &Ctx, id: ResourceId) -> Result<(), DomainError> {
        unscoped(ctx, Permission::ResourcesRegister)?;
        let resource = self.changeable(ctx, id).await?;
        let now = self.clock.now();
        let detail = format!("kind={} owner={}", resource.kind, opt(resource.owner));
        let audit = AuditEvent::by(ctx, now, "resource.delete", resource_target(id), detail);
        match self.store.delete_resource(id, Effects::audit(audit)).await {
            Err(StoreError::NotFound) => Err(not_found(id)),
            other => Ok(other?),
        }
    }

    /// Everything `who` owns: counts per kind and a page of the resources
    /// (of one kind, if given). Oneself, or anyone with `resources.read_all`.
    pub async fn list_user_resources(
        &self,
        ctx: &Ctx,
        who: UserRef,
        kind: Option<ResourceKind>,
        page: PageRequest,
    ) -> Result<UserResources, DomainError> {
        let user = self.resolve_owner(ctx, who).await?;
        let visibility = Visibility::resources(ctx);
        let owned = ResourceFilter { owner: Some(user), ..ResourceFilter::default() };
        let counts = self.store.count_resources_by_kind(&owned, &visibility).await?;
        let filter = ResourceFilter { kinds: kind.into_iter().collect(), ..owned };
        let rows = self.store.list_resources(&filter, &visibility, fetch(page)).await?;
        let held = ResourceFilter { held_by: Some(user), ..ResourceFilter::default() };
        let held = self.store.list_resources(&held, &visibility, PageRequest::first(HELD_SHOWN)).await?;
        Ok(UserResources {
            user,
            total: counts.iter().map(|c| c.count).sum(),
            counts,
            page: Page::from_rows(rows, page, RESOURCES_PAGE, |r| r.id.as_uuid()),
            held,
        })
    }

    /// Authorization before existence: the permission is decided on the id
    /// or name as given, before any lookup.
    async fn resolve_owner(&self, ctx: &Ctx, who: UserRef) -> Result<UserId, DomainError> {
        let user = match who {
            UserRef::Me => return Ok(ctx.principal.user_id),
            UserRef::Id(id) => {
                ctx.require_self_or(id, Permission::ResourcesReadAll)?;
                match self.users.get_user(id).await {
                    Ok(u) => u,
                    Err(StoreError::NotFound) => return Err(DomainError::not_found("user", id.to_string())),
                    Err(e) => return Err(e.into()),
                }
            }
            UserRef::Username(name) => {
                if !name.as_str().eq_ignore_ascii_case(&ctx.principal.username) {
                    ctx.require(Permission::ResourcesReadAll)?;
                }
                self.users
                    .find_user_by_username(&name.canonical())
                    .await?
                    .ok_or_else(|| DomainError::not_found("user", name.as_str()))?
            }
        };
        Ok(user.id)
    }

    /// The resource, if the caller may change it: NOT_FOUND when they
    /// cannot see it, PERMISSION_DENIED when they see it but neither own it
    /// nor hold `resources.register`. A group is changed only through
    /// GroupService, which keeps its members, entries and personal-group
    /// rules with it.
    async fn changeable(&self, ctx: &Ctx, id: ResourceId) -> Result<Resource, DomainError> {
        let resource =
            self.store.get_resource(id, &Visibility::resource_changes(ctx)).await?.ok_or_else(|| not_found(id))?;
        if resource.owner != Some(ctx.principal.user_id) {
            ctx.require(Permission::ResourcesRegister)?;
        }
        if resource.kind == ResourceKind::Group {
            return Err(DomainError::precondition(
                "MANAGED_BY_GROUP_SERVICE",
                resource_target(id),
                "a group is changed and deleted with GroupService",
            ));
        }
        Ok(resource)
    }

    /// The owner and readers must be live users, the projects must exist.
    async fn check_references(&self, r: &Resource) -> Result<(), DomainError> {
        let mut users: Vec<UserId> = r.owner.into_iter().chain(r.readers.iter().copied()).collect();
        users.sort();
        users.dedup();
        let unknown_users = if users.is_empty() { vec![] } else { self.store.unknown_users(&users).await? };
        let unknown_projects: Vec<ProjectId> =
            if r.projects.is_empty() { vec![] } else { self.store.unknown_projects(&r.projects).await? };
        let mut errors = Vec::new();
        for u in unknown_users {
            if Some(u) == r.owner {
                errors.push(FieldViolation::new("resource.owner_id", "OWNER_NOT_FOUND", format!("no user {u}")));
            } else {
                errors.push(FieldViolation::new("resource.readers", "READER_NOT_FOUND", format!("no user {u}")));
            }
        }
        for p in unknown_projects {
            errors.push(FieldViolation::new("resource.project_ids", "PROJECT_NOT_FOUND", format!("no project {p}")));
        }
        if errors.is_empty() { Ok(()) } else { Err(DomainError::InvalidArgument(errors)) }
    }
}

/// One row more than the page, to know whether another page follows.
fn fetch(page: PageRequest) -> PageRequest {
    PageRequest { size: page.size + 1, ..page }
}

fn describe(r: &Resource) -> String {
    format!("kind={} owner={}", r.kind, opt(r.owner))
}

fn opt(u: Option<UserId>) -> String {
    u.map_or_else(|| "none".to_string(), |u| u.to_string())
}

pub(crate) fn not_found(id: ResourceId) -> DomainError {
    DomainError::not_found("resource", id.to_string())
}

fn stale() -> DomainError {
    DomainError::Aborted {
        reason: "ETAG_MISMATCH",
        description: "the resource changed since it was read; read it again".into(),
    }
}

/// A user or project the change refers to went away while it was made.
fn vanished() -> DomainError {
    DomainError::precondition("REFERENCE_GONE", "resource", "a user or project it refers to no longer exists; retry")
}

/// Live users only: a deleted user cannot own or read anything new.
pub(crate) fn is_live(status: UserStatus) -> bool {
    status != UserStatus::Deleted
}

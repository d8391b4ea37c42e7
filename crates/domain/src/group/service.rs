//! Creating groups, managing their members and resource-group entries, and
//! the rules that keep personal groups personal.
//!
//! * Anyone may read the groups they own or belong to; `groups.manage_any`
//!   reads every group and manages any of them. Otherwise only the owner
//!   manages a group.
//! * A personal group is never renamed, deactivated, deleted or given other
//!   members (`PERSONAL_GROUP`); linking it to a resource is how one grants
//!   a single user.
//! * A resource is linked by its owner (or `resources.register`), and only
//!   datasets, views and domains are linked.

use std::sync::Arc;

use super::{CreateGroup, Group, GroupPatch, GroupStore};
use crate::audit::AuditEvent;
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::{ResourceId, UserId};
use crate::ownership::{AccessLevel, ResourceStore, Visibility, is_live, resource_not_found, unscoped};
use crate::page::{Page, PageRequest};
use crate::role::Permission;
use crate::user::{UserKind, UserStore};

pub const GROUPS_PAGE: &str = "groups";

pub fn group_target(id: ResourceId) -> String {
    format!("group/{id}")
}

pub struct GroupService {
    groups: Arc<dyn GroupStore>,
    resources: Arc<dyn ResourceStore>,
    users: Arc<dyn UserStore>,
    clock: Arc<dyn Clock>,
}

impl GroupService {
    pub fn new(
        groups: Arc<dyn GroupStore>,
        resources: Arc<dyn ResourceStore>,
        users: Arc<dyn UserStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { groups, resources, users, clock }
    }

    /// Any person (not a service account, not a project-scoped key); the
    /// creator owns the group and is its first member. Returns the group
    /// created the first time when `request_id` was seen.
    pub async fn create(&self, ctx: &Ctx, req: CreateGroup) -> Result<Group, DomainError> {
        unscoped(ctx, Permission::GroupsManageAny)?;
        if ctx.principal.kind != UserKind::Human {
            return Err(DomainError::PermissionDenied { permission: "a human user" });
        }
        let me = ctx.principal.user_id;
        // The request id shares a column with resource registrations: the
        // `group:` part keeps the two apart.
        let request_id = req.request_id.as_deref().map(|r| format!("{me}:group:{r}"));
        if let Some(rid) = &request_id
            && let Some(existing) = self.groups.find_group_by_request_id(rid).await?
        {
            return Ok(existing);
        }
        let now = self.clock.now();
        let group = Group {
            id: ResourceId::new(),
            name: req.name,
            owner: me,
            active: true,
            personal_of: None,
            members: vec![me],
            links: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let audit = AuditEvent::by(ctx, now, "group.create", group_target(group.id), format!("name={}", group.name));
        match self.groups.insert_group(&group, request_id.as_deref(), Effects::audit(audit)).await {
            Ok(()) => Ok(group),
            Err(StoreError::Conflict { key: "request_id" }) => self
                .groups
                .find_group_by_request_id(request_id.as_deref().unwrap_or_default())
                .await?
                .ok_or_else(|| DomainError::Internal("request id race".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// Its owner and members, and `groups.manage_any`; anyone else gets NOT_FOUND.
    pub async fn get(&self, ctx: &Ctx, id: ResourceId) -> Result<Group, DomainError> {
        self.groups.get_group(id, &Visibility::groups(ctx)).await?.ok_or_else(|| not_found(id))
    }

    /// The groups the caller owns or belongs to; every group with `groups.manage_any`.
    pub async fn list(&self, ctx: &Ctx, page: PageRequest) -> Result<Page<Group>, DomainError> {
        let fetch = PageRequest { size: page.size + 1, ..page };
        let rows = self.groups.list_groups(&Visibility::groups(ctx), fetch).await?;
        Ok(Page::from_rows(rows, page, GROUPS_PAGE, |g| g.id.as_uuid()))
    }

    /// Renames. The owner, or `groups.manage_any`; not a personal group.
    /// With `etag`, a stale one is ABORTED.
    pub async fn update(
        &self,
        ctx: &Ctx,
        id: ResourceId,
        patch: GroupPatch,
        etag: Option<&str>,
    ) -> Result<Group, DomainError> {
        unscoped(ctx, Permission::GroupsManageAny)?;
        if patch.is_empty() {
            return Err(DomainError::invalid("update_mask", "EMPTY_UPDATE_MASK", "name the fields to change"));
        }
        let expected = match etag.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(
                Group::parse_etag(e)
                    .ok_or_else(|| DomainError::invalid("etag", "INVALID_ETAG", "not an etag this service issued"))?,
            ),
            None => None,
        };
        let mut group = self.changeable(ctx, id).await?;
        if expected.is_some_and(|v| v != group.version) {
            return Err(stale());
        }
        let fields = patch.fields().join(",");
        if let Some(name) = patch.name {
            group.name = name;
        }
        self.write(ctx, group, "group.update", format!("fields={fields}")).await
    }

    /// The owner, or `groups.manage_any`; not a personal group. Its members
    /// lose what it granted them at once.
    pub async fn deactivate(&self, ctx: &Ctx, id: ResourceId) -> Result<Group, DomainError> {
        let mut group = self.changeable(ctx, id).await?;
        if !group.active {
            return Err(DomainError::precondition(
                "GROUP_ALREADY_INACTIVE",
                group_target(id),
                "the group is already inactive",
            ));
        }
        group.active = false;
        self.write(ctx, group, "group.deactivate", String::new()).await
    }

    /// The owner, or `groups.manage_any`.
    pub async fn activate(&self, ctx: &Ctx, id: ResourceId) -> Result<Group, DomainError> {
        let mut group = self.changeable(ctx, id).await?;
        if group.active {
            return Err(DomainError::precondition(
                "GROUP_ALREADY_ACTIVE",
                group_target(id),
                "the group is already active",
            ));
        }
        group.active = true;
        self.write(ctx, group, "group.activate", String::new()).await
    }

    /// The owner, or `groups.manage_any`; not a personal group (it goes
    /// with its user). Its members and resource-group entries go with it.
    pub async fn delete(&self, ctx: &Ctx, id: ResourceId) -> Result<(), DomainError> {
        let group = self.changeable(ctx, id).await?;
        let now = self.clock.now();
        let detail = format!("name={} members={} links={}", group.name, group.members.len(), group.links.len());
        let audit = AuditEvent::by(ctx, now, "group.delete", group_target(id), detail);
        match self.groups.delete_group(id, Effects::audit(audit)).await {
            Err(StoreError::NotFound) => Err(not_found(id)),
            other => Ok(other?),
        }
    }

    /// The owner, or `groups.manage_any`; not a personal group. The user
    /// must exist (and not be deleted).
    pub async fn add_member(&self, ctx: &Ctx, id: ResourceId, user: UserId) -> Result<Group, DomainError> {
        let group = self.changeable(ctx, id).await?;
        match self.users.get_user(user).await {
            Ok(u) if is_live(u.status) => {}
            Ok(_) | Err(StoreError::NotFound) => return Err(DomainError::not_found("user", user.to_string())),
            Err(e) => return Err(e.into()),
        }
        if group.members.contains(&user) {
            return Err(already_member(user));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "group.add_member", group_target(id), format!("user={user}"));
        match self.groups.add_group_member(id, user, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::Conflict { .. }) => Err(already_member(user)),
            // The group or the user went away meanwhile: say which.
            Err(StoreError::NotFound) => match self.groups.get_group(id, &Visibility::Everything).await? {
                Some(_) => Err(DomainError::not_found("user", user.to_string())),
                None => Err(not_found(id)),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The owner, or `groups.manage_any`; not a personal group. The owner
    /// stays a member.
    pub async fn remove_member(&self, ctx: &Ctx, id: ResourceId, user: UserId) -> Result<Group, DomainError> {
        let group = self.changeable(ctx, id).await?;
        if group.owner == user {
            return Err(DomainError::precondition(
                "GROUP_OWNER",
                group_target(id),
                "the group's owner is always a member",
            ));
        }
        if !group.members.contains(&user) {
            return Err(not_a_member(user));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "group.remove_member", group_target(id), format!("user={user}"));
        match self.groups.remove_group_member(id, user, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::NotFound) => Err(not_a_member(user)),
            Err(e) => Err(e.into()),
        }
    }

    /// The group's owner, or `groups.manage_any` — personal groups
    /// included; and the resource's owner, or `resources.register`. Only a
    /// dataset, view or domain. Linking again at another level changes the
    /// level.
    pub async fn link_resource(
        &self,
        ctx: &Ctx,
        id: ResourceId,
        resource: ResourceId,
        access: AccessLevel,
    ) -> Result<Group, DomainError> {
        let group = self.managed(ctx, id).await?;
        let r = self
            .resources
            .get_resource(resource, &Visibility::resource_changes(ctx))
            .await?
            .ok_or_else(|| resource_not_found(resource))?;
        if !r.kind.is_group_linkable() {
            return Err(DomainError::invalid(
                "resource_id",
                "NOT_GROUP_LINKABLE",
                format!("a {} cannot be linked to a group; only datasets, views and domains", r.kind.wire_name()),
            ));
        }
        if r.owner != Some(ctx.principal.user_id) {
            ctx.require(Permission::ResourcesRegister)?;
        }
        let access_detail = match group.link(resource) {
            Some(before) if before == access => return Err(already_linked(resource)),
            Some(before) => format!("{before}->{access}"),
            None => access.to_string(),
        };
        let now = self.clock.now();
        let detail = format!("resource={resource} kind={} access={access_detail}", r.kind);
        let audit = AuditEvent::by(ctx, now, "group.link_resource", group_target(id), detail);
        match self.groups.link_group_resource(id, resource, access, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::NotFound) => Err(resource_not_found(resource)),
            Err(e) => Err(e.into()),
        }
    }

    /// The group's owner, or `groups.manage_any`.
    pub async fn unlink_resource(&self, ctx: &Ctx, id: ResourceId, resource: ResourceId) -> Result<Group, DomainError> {
        let group = self.managed(ctx, id).await?;
        if group.link(resource).is_none() {
            return Err(not_linked(resource));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "group.unlink_resource", group_target(id), format!("resource={resource}"));
        match self.groups.unlink_group_resource(id, resource, now, Effects::audit(audit)).await {
            Ok(()) => self.reread(id).await,
            Err(StoreError::NotFound) => Err(not_linked(resource)),
            Err(e) => Err(e.into()),
        }
    }

    /// The group, if the caller may manage it: NOT_FOUND when they cannot
    /// see it, PERMISSION_DENIED when they are a member but not its owner.
    async fn managed(&self, ctx: &Ctx, id: ResourceId) -> Result<Group, DomainError> {
        unscoped(ctx, Permission::GroupsManageAny)?;
        let group = self.get(ctx, id).await?;
        if group.owner != ctx.principal.user_id {
            ctx.require(Permission::GroupsManageAny)?;
        }
        Ok(group)
    }

    /// [`Self::managed`], and not a personal group.
    async fn changeable(&self, ctx: &Ctx, id: ResourceId) -> Result<Group, DomainError> {
        let group = self.managed(ctx, id).await?;
        if group.is_personal() {
            return Err(DomainError::precondition(
                "PERSONAL_GROUP",
                group_target(id),
                "a personal group is never renamed, deactivated, deleted or given other members; link it to \
                 resources to grant its user access",
            ));
        }
        Ok(group)
    }

    /// Writes the name and state of `group`, read at its current version.
    async fn write(&self, ctx: &Ctx, mut group: Group, action: &str, detail: String) -> Result<Group, DomainError> {
        let now = self.clock.now();
        let read_version = group.version;
        group.version += 1;
        group.updated_at = now;
        let audit = AuditEvent::by(ctx, now, action, group_target(group.id), detail);
        match self.groups.update_group(&group, read_version, Effects::audit(audit)).await {
            Ok(()) => self.reread(group.id).await,
            Err(StoreError::Stale) => Err(stale()),
            Err(StoreError::NotFound) => Err(not_found(group.id)),
            Err(e) => Err(e.into()),
        }
    }

    async fn reread(&self, id: ResourceId) -> Result<Group, DomainError> {
        self.groups.get_group(id, &Visibility::Everything).await?.ok_or_else(|| not_found(id))
    }
}

fn not_found(id: ResourceId) -> DomainError {
    DomainError::not_found("group", id.to_string())
}

fn stale() -> DomainError {
    DomainError::Aborted {
        reason: "ETAG_MISMATCH",
        description: "the group changed since it was read; read it again".into(),
    }
}

fn already_member(user: UserId) -> DomainError {
    DomainError::AlreadyExists { resource: "group member", name: user.to_string(), reason: "ALREADY_A_MEMBER" }
}

fn not_a_member(user: UserId) -> DomainError {
    DomainError::not_found("group member", user.to_string())
}

fn already_linked(resource: ResourceId) -> DomainError {
    DomainError::AlreadyExists { resource: "group link", name: resource.to_string(), reason: "ALREADY_LINKED" }
}

fn not_linked(resource: ResourceId) -> DomainError {
    DomainError::not_found("group link", resource.to_string())
}

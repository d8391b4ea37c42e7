//! Custom roles, assignments, default roles and role switching.

use std::sync::Arc;

use super::{Permission, PermissionSet, Role, RoleName, RolePatch, RoleStore, UnassignGuard};
use crate::audit::{AuditEvent, user_target};
use crate::auth::{Ctx, Via};
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::UserId;
use crate::user::{UserStatus, UserStore};

pub struct RoleService {
    roles: Arc<dyn RoleStore>,
    users: Arc<dyn UserStore>,
    clock: Arc<dyn Clock>,
}

/// The roles a user holds (always including `default`) and the one new
/// sessions start with.
#[derive(Debug, Clone)]
pub struct HeldRoles {
    pub roles: Vec<RoleName>,
    pub default_role: RoleName,
}

fn role_target(name: &RoleName) -> String {
    format!("role/{name}")
}

fn builtin(name: &RoleName) -> DomainError {
    DomainError::precondition("BUILTIN_ROLE", role_target(name), "built-in roles cannot be changed or deleted")
}

fn not_found(name: &RoleName) -> impl Fn(StoreError) -> DomainError + '_ {
    move |e| match e {
        StoreError::NotFound => DomainError::not_found("role", name.as_str()),
        StoreError::Conflict { .. } => {
            DomainError::AlreadyExists { resource: "role", name: name.to_string(), reason: "ROLE_NAME_TAKEN" }
        }
        StoreError::Stale => DomainError::Aborted {
            reason: "ETAG_MISMATCH",
            description: "the role changed since it was read; read it again".into(),
        },
        other => other.into(),
    }
}

/// Refuses to hand out a permission the caller does not hold.
fn within_callers_rights(ctx: &Ctx, granted: &PermissionSet) -> Result<(), DomainError> {
    match granted.first_missing_from(&ctx.principal.permissions) {
        None => Ok(()),
        Some(p) => Err(DomainError::denied(p.name())),
    }
}

impl RoleService {
    pub fn new(roles: Arc<dyn RoleStore>, users: Arc<dyn UserStore>, clock: Arc<dyn Clock>) -> Self {
        Self { roles, users, clock }
    }

    /// The catalogue, for role editors. Any authenticated caller.
    pub fn permissions(&self) -> &'static [Permission] {
        &Permission::ALL
    }

    /// Any authenticated caller: role names and what they grant are not secret.
    pub async fn list(&self, _ctx: &Ctx) -> Result<Vec<Role>, DomainError> {
        Ok(self.roles.list_roles().await?)
    }

    pub async fn get(&self, _ctx: &Ctx, name: &RoleName) -> Result<Role, DomainError> {
        self.roles.get_role(name).await.map_err(not_found(name))
    }

    /// Needs `roles.manage`, and every permission granted must be the caller's.
    pub async fn create(
        &self,
        ctx: &Ctx,
        name: RoleName,
        description: String,
        permissions: PermissionSet,
    ) -> Result<Role, DomainError> {
        ctx.require(Permission::RolesManage)?;
        within_callers_rights(ctx, &permissions)?;
        let now = self.clock.now();
        let role =
            Role { name, description, permissions, builtin: false, created_at: now, updated_at: now, version: 1 };
        let audit =
            AuditEvent::by(ctx, now, "role.create", role_target(&role.name), role.permissions.names().join(","));
        self.roles.create_role(&role, Effects::audit(audit)).await.map_err(not_found(&role.name))?;
        Ok(role)
    }

    /// Needs `roles.manage`; built-in roles are immutable.
    pub async fn update(
        &self,
        ctx: &Ctx,
        name: &RoleName,
        patch: RolePatch,
        etag: Option<&str>,
    ) -> Result<Role, DomainError> {
        ctx.require(Permission::RolesManage)?;
        if name.is_builtin() {
            return Err(builtin(name));
        }
        if let Some(p) = &patch.permissions {
            within_callers_rights(ctx, p)?;
        }
        if patch.name.as_ref().is_some_and(RoleName::is_builtin) {
            let taken = patch.name.clone().unwrap_or_else(RoleName::default_role);
            return Err(DomainError::AlreadyExists {
                resource: "role",
                name: taken.to_string(),
                reason: "ROLE_NAME_TAKEN",
            });
        }
        let mut role = self.roles.get_role(name).await.map_err(not_found(name))?;
        if let Some(e) = etag.filter(|e| !e.is_empty())
            && e != role.etag()
        {
            return Err(not_found(name)(StoreError::Stale));
        }
        let now = self.clock.now();
        let read_version = role.version;
        let mut changed = Vec::new();
        if let Some(n) = patch.name {
            role.name = n;
            changed.push("name");
        }
        if let Some(d) = patch.description {
            role.description = d;
            changed.push("description");
        }
        if let Some(p) = patch.permissions {
            role.permissions = p;
            changed.push("permissions");
        }
        role.version += 1;
        role.updated_at = now;
        let audit = AuditEvent::by(ctx, now, "role.update", role_target(name), format!("fields={}", changed.join(",")));
        self.roles
            .update_role(name, &role, read_version, Effects::audit(audit))
            .await
            .map_err(not_found(&role.name))?;
        Ok(role)
    }

    /// Needs `roles.manage`. A role someone holds needs `force`.
    pub async fn delete(&self, ctx: &Ctx, name: &RoleName, force: bool) -> Result<u64, DomainError> {
        ctx.require(Permission::RolesManage)?;
        if name.is_builtin() {
            return Err(builtin(name));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "role.delete", role_target(name), format!("force={force}"));
        match self.roles.delete_role(name, force, Effects::audit(audit)).await {
            Ok(n) => Ok(n),
            Err(StoreError::Refused { reason }) => Err(DomainError::precondition(
                reason,
                role_target(name),
                "users hold this role; delete with force to remove it from them",
            )),
            Err(e) => Err(not_found(name)(e)),
        }
    }

    /// Needs `roles.assign`, and the role may grant nothing the caller lacks.
    pub async fn assign(&self, ctx: &Ctx, user: UserId, name: &RoleName) -> Result<(), DomainError> {
        ctx.require(Permission::RolesAssign)?;
        let role = self.roles.get_role(name).await.map_err(not_found(name))?;
        within_callers_rights(ctx, &role.permissions)?;
        let target = self.live_user(user).await?;
        if name.is_default() {
            return Err(already_held(name));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "role.assign", user_target(target), format!("role={name}"));
        match self.roles.assign_role(user, name, Effects::audit(audit)).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict { .. }) => Err(already_held(name)),
            Err(StoreError::NotFound) => Err(DomainError::not_found("user", user.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Needs `roles.assign` (and the role's permissions). `default` stays;
    /// the last active admin keeps `admin`.
    pub async fn unassign(&self, ctx: &Ctx, user: UserId, name: &RoleName) -> Result<(), DomainError> {
        ctx.require(Permission::RolesAssign)?;
        if name.is_default() {
            return Err(DomainError::precondition(
                "DEFAULT_ROLE_PERMANENT",
                role_target(name),
                "everyone holds the default role; it cannot be removed",
            ));
        }
        let role = self.roles.get_role(name).await.map_err(not_found(name))?;
        within_callers_rights(ctx, &role.permissions)?;
        self.live_user(user).await?;
        let guard = if name.is_admin() { UnassignGuard::KeepOneActiveAdmin } else { UnassignGuard::None };
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "role.unassign", user_target(user), format!("role={name}"));
        match self.roles.unassign_role(user, name, guard, Effects::audit(audit)).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(DomainError::precondition(
                "ROLE_NOT_HELD",
                user_target(user),
                format!("the user does not hold {name}"),
            )),
            Err(StoreError::Refused { reason }) => Err(DomainError::precondition(
                reason,
                user_target(user),
                "the last active admin cannot lose the admin role",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Oneself, or anyone with `users.read`.
    pub async fn held(&self, ctx: &Ctx, user: UserId) -> Result<HeldRoles, DomainError> {
        ctx.require_self_or(user, Permission::UsersRead)?;
        let u = self.users.get_user(user).await.map_err(|e| match e {
            StoreError::NotFound => DomainError::not_found("user", user.to_string()),
            other => other.into(),
        })?;
        let mut roles = vec![RoleName::default_role()];
        roles.extend(self.roles.user_roles(user).await?);
        Ok(HeldRoles { roles, default_role: u.default_role })
    }

    /// The caller chooses which of their roles new sessions start with.
    pub async fn set_default(&self, ctx: &Ctx, name: &RoleName) -> Result<(), DomainError> {
        let user = ctx.principal.user_id;
        self.require_held(ctx, user, name).await?;
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "user.default_role", user_target(user), format!("role={name}"));
        Ok(self.roles.set_default_role(user, name, now, Effects::audit(audit)).await?)
    }

    /// The calling session acts with another role the user holds.
    pub async fn switch(&self, ctx: &Ctx, name: &RoleName) -> Result<PermissionSet, DomainError> {
        let Via::Session(session) = ctx.principal.via else {
            return Err(DomainError::precondition(
                "SESSION_REQUIRED",
                "credential",
                "an API key acts with the role it was created with",
            ));
        };
        let user = ctx.principal.user_id;
        self.require_held(ctx, user, name).await?;
        let role = self.roles.get_role(name).await.map_err(not_found(name))?;
        let now = self.clock.now();
        let detail = format!("from={} to={name}", ctx.principal.role);
        let audit = AuditEvent::by(ctx, now, "auth.switch_role", user_target(user), detail);
        self.roles.switch_session_role(session, name, Effects::audit(audit)).await?;
        Ok(role.permissions)
    }

    async fn require_held(&self, _ctx: &Ctx, user: UserId, name: &RoleName) -> Result<(), DomainError> {
        if name.is_default() || self.roles.user_roles(user).await?.contains(name) {
            Ok(())
        } else {
            Err(DomainError::precondition("ROLE_NOT_HELD", role_target(name), format!("you do not hold {name}")))
        }
    }

    async fn live_user(&self, user: UserId) -> Result<UserId, DomainError> {
        match self.users.get_user(user).await {
            Ok(u) if u.status != UserStatus::Deleted => Ok(u.id),
            Ok(_) | Err(StoreError::NotFound) => Err(DomainError::not_found("user", user.to_string())),
            Err(e) => Err(e.into()),
        }
    }
}

fn already_held(name: &RoleName) -> DomainError {
    DomainError::AlreadyExists { resource: "role assignment", name: name.to_string(), reason: "ROLE_ALREADY_ASSIGNED" }
}

//! Who may see what: the one rule every read path of resources and projects
//! applies. Use cases pick a [`Visibility`] from the caller here and hand it
//! to the store, which applies it as a filter (the same filter for a single
//! read and for a listing, so a Get and a List never disagree).
//!
//! * A user sees the resources they own, the datasets they hold read-only,
//!   the data sources linked to a project they are a member of, and the
//!   datasets, views and domains linked to an active group they are a
//!   member of; the projects they are a member of; and the groups they own
//!   or are a member of.
//! * `resources.read_all` sees every resource; `projects.manage_any` every
//!   project; `groups.manage_any` every group.
//! * A project-scoped API key sees only the data sources linked to its
//!   project, and only that project — and only while its owner is still a
//!   member of it. Nothing else exists for it (NOT_FOUND), whatever the
//!   owner's permissions. No group exists for it either.
//!
//! A resource or project outside the caller's visibility is NOT_FOUND, the
//! same answer as for an id that does not exist.

use crate::auth::Ctx;
use crate::error::DomainError;
use crate::id::{ProjectId, UserId};
use crate::role::Permission;

/// What a caller may see, as a filter the store applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everything of the kind being read.
    Everything,
    /// Resources: owned by the user, held read-only (datasets), data
    /// sources linked to a project the user is a member of, or linked to an
    /// active group the user is a member of.
    /// Projects: those the user is a member of.
    /// Groups: those the user owns or is a member of.
    User(UserId),
    /// Resources: data sources linked to `project`. Projects: `project`.
    /// In both cases only while `member` is a member of `project`.
    /// Groups: none.
    Project { project: ProjectId, member: UserId },
}

impl Visibility {
    /// Which resources the caller may read.
    pub fn resources(ctx: &Ctx) -> Self {
        Self::pick(ctx, Permission::ResourcesReadAll)
    }

    /// Which resources the caller may change, delete or link: a registering
    /// service (`resources.register`) manages every resource; anyone else
    /// what they can read (and then the use case checks ownership).
    pub fn resource_changes(ctx: &Ctx) -> Self {
        match Self::pick(ctx, Permission::ResourcesRegister) {
            Self::Everything => Self::Everything,
            _ => Self::resources(ctx),
        }
    }

    /// Which projects the caller may read.
    pub fn projects(ctx: &Ctx) -> Self {
        Self::pick(ctx, Permission::ProjectsManageAny)
    }

    /// Which groups the caller may read.
    pub fn groups(ctx: &Ctx) -> Self {
        Self::pick(ctx, Permission::GroupsManageAny)
    }

    fn pick(ctx: &Ctx, all: Permission) -> Self {
        let p = &ctx.principal;
        match p.project_scope {
            Some(project) => Self::Project { project, member: p.user_id },
            None if p.permissions.has(all) => Self::Everything,
            None => Self::User(p.user_id),
        }
    }
}

/// Refuses a change made with a project-scoped key: such a key only reads
/// its project's data sources. `permission` names what the change needs.
pub fn unscoped(ctx: &Ctx, permission: Permission) -> Result<(), DomainError> {
    if ctx.principal.project_scope.is_some() { Err(DomainError::denied(permission.name())) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Principal, Via};
    use crate::id::SessionId;
    use crate::role::{PermissionSet, RoleName};
    use crate::user::UserKind;

    fn ctx(permissions: PermissionSet, scope: Option<ProjectId>) -> Ctx {
        Ctx {
            principal: Principal {
                user_id: UserId::new(),
                username: "ann".into(),
                kind: UserKind::Human,
                via: Via::Session(SessionId::new()),
                role: RoleName::default_role(),
                permissions,
                password_change_required: false,
                project_scope: scope,
            },
            request_id: "r".into(),
        }
    }

    #[test]
    fn scope_beats_every_permission() {
        let p = ProjectId::new();
        let admin = ctx(PermissionSet::all(), None);
        assert_eq!(Visibility::resources(&admin), Visibility::Everything);
        assert_eq!(Visibility::projects(&admin), Visibility::Everything);
        assert_eq!(Visibility::groups(&admin), Visibility::Everything);
        let scoped = ctx(PermissionSet::all(), Some(p));
        let me = scoped.principal.user_id;
        assert_eq!(Visibility::resources(&scoped), Visibility::Project { project: p, member: me });
        assert_eq!(Visibility::resource_changes(&scoped), Visibility::Project { project: p, member: me });
        assert_eq!(Visibility::groups(&scoped), Visibility::Project { project: p, member: me });
        assert!(unscoped(&scoped, Permission::ResourcesRegister).is_err());
        let user = ctx(PermissionSet::none(), None);
        assert_eq!(Visibility::resources(&user), Visibility::User(user.principal.user_id));
        assert!(unscoped(&user, Permission::ResourcesRegister).is_ok());
    }

    #[test]
    fn registering_services_change_what_they_cannot_read() {
        let names = vec![Permission::ResourcesRegister.name().to_string()];
        let svc = ctx(PermissionSet::parse(&names, "p").unwrap(), None);
        assert_eq!(Visibility::resources(&svc), Visibility::User(svc.principal.user_id));
        assert_eq!(Visibility::resource_changes(&svc), Visibility::Everything);
    }
}

use crate::error::DomainError;
use crate::id::{ApiKeyId, ProjectId, SessionId, UserId};
use crate::role::{Permission, PermissionSet, RoleName};
use crate::user::UserKind;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session(SessionId),
    ApiKey(ApiKeyId),
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub username: String,
    pub kind: UserKind,
    pub via: Via,
    /// The role this session or key acts with.
    pub role: RoleName,
    pub permissions: PermissionSet,
    /// Opened with a temporary password: may only change it or log out.
    pub password_change_required: bool,
    /// A project-scoped API key: sees only that project's data sources and
    /// holds no permissions, whatever its owner's role.
    pub project_scope: Option<ProjectId>,
}

/// What every use case is called with: the principal and the request id that
/// ties log lines and audit events together.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub request_id: String,
}

impl Ctx {
    pub fn require(&self, p: Permission) -> Result<(), DomainError> {
        if self.principal.permissions.has(p) { Ok(()) } else { Err(DomainError::denied(p.name())) }
    }

    pub fn is(&self, user: UserId) -> bool {
        self.principal.user_id == user
    }

    /// Allowed on oneself, or with `p` on anyone. Decided before any lookup,
    /// so a caller without `p` cannot tell a real id from a random one.
    pub fn require_self_or(&self, user: UserId, p: Permission) -> Result<(), DomainError> {
        if self.is(user) { Ok(()) } else { self.require(p) }
    }
}

//! Creating, listing and revoking API keys.

use std::sync::Arc;

use secrecy::SecretString;

use super::{ApiKey, ApiKeyStore, NewKeyRequest};
use crate::audit::{AuditEvent, user_target};
use crate::auth::{Ctx, IssuedToken, NewApiKey, TokenKind};
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::{ApiKeyId, UserId};
use crate::keyring::Keyring;
use crate::page::{Page, PageRequest};
use crate::role::{Permission, RoleStore};
use crate::user::{UserStatus, UserStore};

pub struct ApiKeyService {
    keys: Arc<dyn ApiKeyStore>,
    users: Arc<dyn UserStore>,
    roles: Arc<dyn RoleStore>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

/// A new key and its secret, shown this once.
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

fn key_target(id: ApiKeyId) -> String {
    format!("api_key/{id}")
}

impl ApiKeyService {
    pub fn new(
        keys: Arc<dyn ApiKeyStore>,
        users: Arc<dyn UserStore>,
        roles: Arc<dyn RoleStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { keys, users, roles, keyring, clock }
    }

    /// For oneself, or with `keys.manage_any` for anyone (a service account,
    /// say). The key acts with a role the owner holds (default: the owner's
    /// default role); with a project, only on that project's data sources
    /// and with no permissions, and the owner must be a member.
    pub async fn create(&self, ctx: &Ctx, req: NewKeyRequest) -> Result<CreatedApiKey, DomainError> {
        let now = self.clock.now();
        let owner_id = req.owner.unwrap_or(ctx.principal.user_id);
        ctx.require_self_or(owner_id, Permission::KeysManageAny)?;
        if ctx.principal.project_scope.is_some() {
            return Err(DomainError::denied(Permission::KeysManageAny.name()));
        }
        let req = req.validate(now)?;
        let owner = match self.users.get_user(owner_id).await {
            Ok(u) if u.status == UserStatus::Active => u,
            Ok(_) => {
                return Err(DomainError::precondition(
                    "USER_NOT_ACTIVE",
                    user_target(owner_id),
                    "keys are only made for active users",
                ));
            }
            Err(StoreError::NotFound) => return Err(DomainError::not_found("user", owner_id.to_string())),
            Err(e) => return Err(e.into()),
        };
        let role = req.role.clone().unwrap_or_else(|| owner.default_role.clone());
        if !role.is_default() && !self.roles.user_roles(owner_id).await?.contains(&role) {
            return Err(DomainError::precondition(
                "ROLE_NOT_HELD",
                format!("role/{role}"),
                format!("the key's owner does not hold {role}"),
            ));
        }
        if let Some(project) = req.project {
            match self.keys.project_membership(project, owner_id).await? {
                None => return Err(DomainError::not_found("project", project.to_string())),
                Some(false) => {
                    return Err(DomainError::precondition(
                        "NOT_A_PROJECT_MEMBER",
                        format!("project/{project}"),
                        "the key's owner is not a member of the project",
                    ));
                }
                Some(true) => {}
            }
        }
        let token = IssuedToken::mint(TokenKind::ApiKey, &self.keyring)?;
        let new = NewApiKey {
            id: ApiKeyId::new(),
            user_id: owner_id,
            name: req.name,
            description: req.description,
            project_id: req.project,
            prefix: token.display_prefix(),
            lookup: token.lookup.clone(),
            digest: token.digest.clone(),
            role,
            created_at: now,
            expires_at: req.expires_at,
        };
        let key = ApiKey {
            id: new.id,
            user_id: owner_id,
            name: new.name.clone(),
            description: new.description.clone(),
            prefix: new.prefix.clone(),
            role: new.role.clone(),
            project_id: new.project_id,
            created_at: now,
            expires_at: new.expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let detail = format!(
            "owner={owner_id} role={} project={}",
            key.role,
            key.project_id.map(|p| p.to_string()).unwrap_or_default()
        );
        let audit = AuditEvent::by(ctx, now, "key.create", key_target(key.id), detail);
        self.keys.create_api_key(new, Effects::audit(audit)).await?;
        Ok(CreatedApiKey { key, secret: token.secret })
    }

    /// A key's state now (active, expired or revoked).
    pub fn state_of(&self, key: &ApiKey) -> super::ApiKeyState {
        key.state(self.clock.now())
    }

    /// A user's keys (no secrets): oneself, or anyone with `keys.manage_any`.
    pub async fn list(&self, ctx: &Ctx, user: Option<UserId>, page: PageRequest) -> Result<Page<ApiKey>, DomainError> {
        let user = user.unwrap_or(ctx.principal.user_id);
        ctx.require_self_or(user, Permission::KeysManageAny)?;
        let rows = self.keys.list_api_keys(user, PageRequest { size: page.size + 1, ..page }).await?;
        Ok(Page::from_rows(rows, page, "api_keys", |k| k.id.as_uuid()))
    }

    /// One's own key, or anyone's with `keys.manage_any`. Takes effect on the
    /// very next call made with it.
    pub async fn revoke(&self, ctx: &Ctx, id: ApiKeyId) -> Result<(), DomainError> {
        let key = match self.keys.get_api_key(id).await {
            Ok(k) => Some(k),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        // Authorization before existence: without keys.manage_any, someone
        // else's key and no key at all look the same.
        let owned = key.as_ref().is_some_and(|k| ctx.is(k.user_id));
        if !owned {
            ctx.require(Permission::KeysManageAny)?;
        }
        let Some(key) = key else { return Err(DomainError::not_found("api key", id.to_string())) };
        if key.revoked_at.is_some() {
            return Err(DomainError::precondition("KEY_ALREADY_REVOKED", key_target(id), "the key is already revoked"));
        }
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "key.revoke", key_target(id), format!("owner={}", key.user_id));
        match self.keys.revoke_api_key(id, now, Effects::audit(audit)).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => {
                Err(DomainError::precondition("KEY_ALREADY_REVOKED", key_target(id), "the key is already revoked"))
            }
            Err(e) => Err(e.into()),
        }
    }
}

//! Accounts made other than by an admin's CreateUser: the bootstrap admin on
//! an empty database, and service accounts (API keys only, no password).

use secrecy::SecretString;

use super::service::{conflict_to_error, scoped};
use super::{CreateUser, NewUser, User, UserKind, UserService};
use super::{Email, FullName, Username};
use crate::audit::{AuditEvent, user_target};
use crate::auth::{Ctx, IssuedToken, NewApiKey, TokenKind};
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::ApiKeyId;
use crate::role::{Permission, RoleName};

/// The first admin, created on an empty database, with the API key to reach it.
pub struct Bootstrapped {
    pub user: User,
    pub api_key: SecretString,
}

/// A validated request to create a service account.
#[derive(Debug, Clone)]
pub struct CreateServiceAccount {
    pub account: CreateUser,
    /// Roles it holds; the first is its default role and its first key's role.
    pub roles: Vec<RoleName>,
}

/// A new service account and its first API key (shown once).
pub struct CreatedServiceAccount {
    pub user: User,
    pub api_key: SecretString,
}

impl UserService {
    /// Needs `users.create`; with roles also `roles.assign` and every
    /// permission those roles grant. No password, no login: only API keys.
    pub async fn create_service_account(
        &self,
        ctx: &Ctx,
        req: CreateServiceAccount,
    ) -> Result<CreatedServiceAccount, DomainError> {
        ctx.require(Permission::UsersCreate)?;
        let mut roles = req.roles.clone();
        roles.retain(|r| !r.is_default());
        roles.dedup();
        if !roles.is_empty() {
            ctx.require(Permission::RolesAssign)?;
        }
        for name in &roles {
            let role = self.roles.get_role(name).await.map_err(|e| match e {
                StoreError::NotFound => DomainError::not_found("role", name.as_str()),
                other => other.into(),
            })?;
            if let Some(p) = role.permissions.first_missing_from(&ctx.principal.permissions) {
                return Err(DomainError::denied(p.name()));
            }
        }
        self.config.email_policy.check(&req.account.email).map_err(|v| DomainError::InvalidArgument(vec![v]))?;
        let now = self.clock.now();
        let main_role = roles.first().cloned().unwrap_or_else(RoleName::default_role);
        let mut user = self.new_user(req.account.username, req.account.email, req.account.full_name, main_role.clone());
        user.kind = UserKind::Service;
        let token = IssuedToken::mint(TokenKind::ApiKey, &self.keyring)?;
        let key = NewApiKey {
            id: ApiKeyId::new(),
            user_id: user.id,
            name: "initial".into(),
            description: "created with the service account".into(),
            project_id: None,
            prefix: token.display_prefix(),
            lookup: token.lookup.clone(),
            digest: token.digest.clone(),
            role: main_role,
            created_at: now,
            expires_at: None,
        };
        let names: Vec<&str> = roles.iter().map(RoleName::as_str).collect();
        let audit = AuditEvent::by(
            ctx,
            now,
            "user.create_service_account",
            user_target(user.id),
            format!("username={} roles={}", user.username, names.join(",")),
        );
        let request_id = req.account.request_id.as_deref().map(|r| scoped(ctx, r));
        let new = NewUser {
            user: user.clone(),
            temp_password: None,
            roles,
            api_key: Some(key),
            create_request_id: request_id,
        };
        match self.store.insert_user(new, Effects::audit(audit)).await {
            Ok(()) => Ok(CreatedServiceAccount { user, api_key: token.secret }),
            Err(StoreError::Conflict { key: "request_id" }) => Err(DomainError::AlreadyExists {
                resource: "service account",
                name: req.account.request_id.unwrap_or_default(),
                reason: "REQUEST_ALREADY_PROCESSED",
            }),
            Err(e) => Err(conflict_to_error(e, &user)),
        }
    }

    /// On an empty database only: the first admin, with an API key and a
    /// welcome email. `None` when users already exist.
    pub async fn bootstrap_admin(
        &self,
        username: Username,
        email: Email,
        full_name: FullName,
    ) -> Result<Option<Bootstrapped>, DomainError> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let now = self.clock.now();
        let user = self.new_user(username, email, full_name, RoleName::admin());
        let token = IssuedToken::mint(TokenKind::ApiKey, &self.keyring)?;
        let key = NewApiKey {
            id: ApiKeyId::new(),
            user_id: user.id,
            name: "bootstrap".into(),
            description: "the bootstrap admin's key".into(),
            project_id: None,
            prefix: token.display_prefix(),
            lookup: token.lookup.clone(),
            digest: token.digest.clone(),
            role: RoleName::admin(),
            created_at: now,
            expires_at: None,
        };
        let (temp, mail) = self.temporary_password(&user)?;
        let audit = AuditEvent::by_system(
            now,
            "user.bootstrap_admin",
            user_target(user.id),
            format!("username={}", user.username),
        );
        let new = NewUser {
            user: user.clone(),
            temp_password: Some(temp),
            roles: vec![RoleName::admin()],
            api_key: Some(key),
            create_request_id: None,
        };
        match self.store.insert_user(new, Effects::audit(audit).with_email(mail)).await {
            Ok(()) => Ok(Some(Bootstrapped { user, api_key: token.secret })),
            // Another replica bootstrapped at the same moment.
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

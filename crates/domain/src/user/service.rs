//! Creating, reading, listing and updating users.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use time::{Duration, OffsetDateTime};

use super::{
    Email, EmailPolicy, FullName, NewUser, PlatformAccounts, Profile, User, UserFilter, UserKind, UserPatch,
    UserStatus, UserStore, Username,
};
use crate::audit::{AuditEvent, user_target};
use crate::auth::{Ctx, PrincipalCache, TempPassword};
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, FieldViolation, StoreError};
use crate::id::UserId;
use crate::keyring::Keyring;
use crate::notify::Message;
use crate::page::{Page, PageRequest};
use crate::role::{Permission, RoleName, RoleStore};

#[derive(Debug, Clone)]
pub struct UserServiceConfig {
    pub email_policy: EmailPolicy,
    pub temporary_password_ttl: Duration,
}

/// A validated request to create a user.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: Username,
    pub email: Email,
    pub full_name: FullName,
    pub request_id: Option<String>,
}

impl CreateUser {
    /// Validates every field and reports all violations together.
    pub fn parse(username: &str, email: &str, full_name: &str, request_id: &str) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldViolation> = Vec::new();
        let username = Username::parse(username).map_err(|e| errors.push(e)).ok();
        let email = Email::parse(email).map_err(|e| errors.push(e)).ok();
        let full_name = FullName::parse(full_name).map_err(|e| errors.push(e)).ok();
        let request_id = request_id.trim();
        if request_id.len() > 64 {
            errors.push(FieldViolation::new("request_id", "INVALID_REQUEST_ID", "must be at most 64 characters"));
        }
        match (username, email, full_name) {
            (Some(username), Some(email), Some(full_name)) if errors.is_empty() => Ok(Self {
                username,
                email,
                full_name,
                request_id: (!request_id.is_empty()).then(|| request_id.to_string()),
            }),
            _ => Err(DomainError::InvalidArgument(errors)),
        }
    }
}

/// How a caller names a user.
#[derive(Debug, Clone)]
pub enum UserRef {
    Me,
    Id(UserId),
    Username(Username),
}

pub struct UserService {
    pub(super) store: Arc<dyn UserStore>,
    pub(super) roles: Arc<dyn RoleStore>,
    pub(super) keyring: Arc<Keyring>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) config: UserServiceConfig,
    /// Records read within the bound answer GetUser (see [`PrincipalCache`]).
    pub(super) cache: Arc<PrincipalCache>,
}

/// A new active human user holding `default_role`, created at `now`.
pub fn fresh_user(
    username: Username,
    email: Email,
    full_name: FullName,
    default_role: RoleName,
    now: OffsetDateTime,
) -> User {
    User {
        id: UserId::new(),
        kind: UserKind::Human,
        username,
        email,
        full_name,
        profile: Profile::default(),
        platform: PlatformAccounts::default(),
        email_notifications: false,
        status: UserStatus::Active,
        default_role,
        mfa_enabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// 160 random bits as 32 base32 characters, valid for `ttl`: stored as a
/// keyed digest, sent sealed in the welcome email. No argon2 here on purpose:
/// the secret is high-entropy and works once, so a fast keyed digest is as
/// strong as a slow hash and keeps bulk imports fast.
pub fn mint_temporary_password(
    keyring: &Keyring,
    user: &User,
    now: OffsetDateTime,
    ttl: Duration,
) -> Result<(TempPassword, crate::notify::OutboxEmail), DomainError> {
    let secret = SecretString::from(keyring.random_base32(20)?);
    let expires_at = now + ttl;
    let temp = TempPassword { digest: keyring.digest(secret.expose_secret()), expires_at };
    let email = Message::Welcome { user, temporary_password: &secret, expires_at }.compose(keyring, now)?;
    Ok((temp, email))
}

impl UserService {
    pub fn new(
        store: Arc<dyn UserStore>,
        roles: Arc<dyn RoleStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        config: UserServiceConfig,
        cache: Arc<PrincipalCache>,
    ) -> Self {
        Self { store, roles, keyring, clock, config, cache }
    }

    /// Needs `users.create`. Mints a temporary password that reaches the user
    /// only by email. Returns the existing user when `request_id` was seen.
    pub async fn create(&self, ctx: &Ctx, req: CreateUser) -> Result<User, DomainError> {
        ctx.require(Permission::UsersCreate)?;
        if let Some(rid) = &req.request_id
            && let Some(existing) = self.store.find_user_by_request_id(&scoped(ctx, rid)).await?
        {
            return Ok(existing);
        }
        self.config.email_policy.check(&req.email).map_err(|v| DomainError::InvalidArgument(vec![v]))?;
        let now = self.clock.now();
        let user = self.new_user(req.username, req.email, req.full_name, RoleName::default_role());
        let audit =
            AuditEvent::by(ctx, now, "user.create", user_target(user.id), format!("username={}", user.username));
        let (temp, email) = self.temporary_password(&user)?;
        let request_id = req.request_id.as_deref().map(|r| scoped(ctx, r));
        let new = NewUser {
            user: user.clone(),
            temp_password: Some(temp),
            roles: vec![],
            api_key: None,
            create_request_id: request_id.clone(),
        };
        match self.store.insert_user(new, Effects::audit(audit).with_email(email)).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict { key: "request_id" }) => {
                let rid = request_id.unwrap_or_default();
                self.store
                    .find_user_by_request_id(&rid)
                    .await?
                    .ok_or_else(|| DomainError::Internal("request id race".into()))
            }
            Err(e) => Err(conflict_to_error(e, &user)),
        }
    }

    pub(super) fn new_user(
        &self,
        username: Username,
        email: Email,
        full_name: FullName,
        default_role: RoleName,
    ) -> User {
        fresh_user(username, email, full_name, default_role, self.clock.now())
    }

    pub(super) fn temporary_password(
        &self,
        user: &User,
    ) -> Result<(TempPassword, crate::notify::OutboxEmail), DomainError> {
        mint_temporary_password(&self.keyring, user, self.clock.now(), self.config.temporary_password_ttl)
    }

    /// Oneself, or anyone with `users.read`. By id, the record may come from
    /// the principal cache: read within its bound, and emptied by every
    /// change made through this node (like WhoAmI).
    pub async fn get(&self, ctx: &Ctx, who: UserRef) -> Result<User, DomainError> {
        match who {
            UserRef::Me => Ok(self.cached(ctx.principal.user_id).await?),
            UserRef::Id(id) => {
                ctx.require_self_or(id, Permission::UsersRead)?;
                self.cached(id).await.map_err(|e| not_found(e, &id.to_string()))
            }
            UserRef::Username(name) => {
                if !name.as_str().eq_ignore_ascii_case(&ctx.principal.username) {
                    ctx.require(Permission::UsersRead)?;
                }
                self.store
                    .find_user_by_username(&name.canonical())
                    .await?
                    .ok_or_else(|| DomainError::not_found("user", name.as_str()))
            }
        }
    }

    async fn cached(&self, id: UserId) -> Result<User, StoreError> {
        self.cache.read_user(id, self.clock.now(), self.store.get_user(id)).await
    }

    /// Needs `users.read`.
    pub async fn list(&self, ctx: &Ctx, filter: UserFilter, page: PageRequest) -> Result<Page<User>, DomainError> {
        ctx.require(Permission::UsersRead)?;
        let filter =
            UserFilter { text: filter.text.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()), ..filter };
        let rows = self.store.list_users(&filter, PageRequest { size: page.size + 1, ..page }).await?;
        Ok(Page::from_rows(rows, page, "users", |u| u.id.as_uuid()))
    }

    /// Oneself or, with `users.update`, anyone. Platform usernames need
    /// `users.update` even on oneself. With `etag`, a stale one is `Aborted`.
    pub async fn update(
        &self,
        ctx: &Ctx,
        who: UserRef,
        patch: UserPatch,
        etag: Option<&str>,
    ) -> Result<User, DomainError> {
        let id = match &who {
            UserRef::Id(id) => {
                ctx.require_self_or(*id, Permission::UsersUpdate)?;
                *id
            }
            _ => self.get(ctx, who).await?.id,
        };
        if patch.touches_platform() {
            ctx.require(Permission::UsersUpdate)?;
        }
        if let Some(email) = &patch.email {
            self.config.email_policy.check(email).map_err(|v| DomainError::InvalidArgument(vec![v]))?;
        }
        let expected = match etag.filter(|e| !e.is_empty()) {
            Some(e) => Some(
                User::parse_etag(e)
                    .ok_or_else(|| DomainError::invalid("etag", "INVALID_ETAG", "not an etag this service issued"))?,
            ),
            None => None,
        };
        let mut user = self.store.get_user(id).await.map_err(|e| not_found(e, &id.to_string()))?;
        if user.status == UserStatus::Deleted {
            return Err(DomainError::not_found("user", id.to_string()));
        }
        if expected.is_some_and(|e| e != user.version) {
            return Err(stale());
        }
        let now = self.clock.now();
        let fields = patch.fields().join(",");
        apply(&mut user, patch);
        let read_version = user.version;
        user.version += 1;
        user.updated_at = now;
        let audit = AuditEvent::by(ctx, now, "user.update", user_target(id), format!("fields={fields}"));
        match self.store.update_user(&user, read_version, Effects::audit(audit)).await {
            Ok(()) => Ok(user),
            Err(StoreError::Stale) => Err(stale()),
            Err(e) => Err(conflict_to_error(e, &user)),
        }
    }
}

fn apply(user: &mut User, patch: UserPatch) {
    if let Some(n) = patch.full_name {
        user.full_name = n;
    }
    if let Some(e) = patch.email {
        user.email = e;
    }
    for (f, v) in patch.profile {
        f.set(&mut user.profile, v);
    }
    if let Some(b) = patch.email_notifications {
        user.email_notifications = b;
    }
    for (p, v) in patch.platform {
        user.platform.set(p, v);
    }
}

/// Request ids are the client's; scope them to the caller so two callers'
/// ids never collide.
pub(super) fn scoped(ctx: &Ctx, request_id: &str) -> String {
    format!("{}:{request_id}", ctx.principal.user_id)
}

fn stale() -> DomainError {
    DomainError::Aborted {
        reason: "ETAG_MISMATCH",
        description: "the user changed since it was read; read it again".into(),
    }
}

fn not_found(e: StoreError, name: &str) -> DomainError {
    match e {
        StoreError::NotFound => DomainError::not_found("user", name),
        other => other.into(),
    }
}

pub(super) fn conflict_to_error(e: StoreError, user: &User) -> DomainError {
    match e {
        StoreError::Conflict { key: "username" } => {
            DomainError::AlreadyExists { resource: "user", name: user.username.to_string(), reason: "USERNAME_TAKEN" }
        }
        StoreError::Conflict { key: "email" } => {
            DomainError::AlreadyExists { resource: "user", name: user.email.to_string(), reason: "EMAIL_TAKEN" }
        }
        StoreError::NotFound => DomainError::not_found("user", user.id.to_string()),
        other => other.into(),
    }
}

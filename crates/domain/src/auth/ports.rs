use async_trait::async_trait;
use time::OffsetDateTime;

use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{ApiKeyId, ProjectId, SessionId, UserId};
use crate::role::RoleName;
use crate::user::{UserKind, UserStatus};

/// A temporary password's keyed digest and expiry (it is high-entropy and
/// one-time, so a fast keyed digest is as safe as a slow hash here).
#[derive(Debug, Clone)]
pub struct TempPassword {
    pub digest: Vec<u8>,
    pub expires_at: OffsetDateTime,
}

/// What login needs to know about an account.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user_id: UserId,
    pub username: String,
    pub kind: UserKind,
    pub status: UserStatus,
    pub default_role: RoleName,
    /// argon2id PHC string of the chosen password, once there is one.
    pub password_hash: Option<String>,
    pub temp_password: Option<TempPassword>,
}

/// The counter after reserving one attempt.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt {
    /// Consecutive failures including this attempt.
    pub count: u32,
    pub locked_until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub lookup: String,
    pub digest: Vec<u8>,
    pub role: RoleName,
    pub password_change_required: bool,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub description: String,
    /// Limits the key to this project's data sources (and no permissions).
    pub project_id: Option<ProjectId>,
    pub prefix: String,
    pub lookup: String,
    pub digest: Vec<u8>,
    pub role: RoleName,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
}

/// A session joined with its user's current state.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user_id: UserId,
    pub username: String,
    pub kind: UserKind,
    pub user_status: UserStatus,
    pub digest: Vec<u8>,
    pub role: RoleName,
    /// Whether the user still holds `role` (a lost role falls back to default).
    pub role_held: bool,
    /// The permission names stored for `role` (custom roles).
    pub role_permissions: Vec<String>,
    pub password_change_required: bool,
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
}

/// An API key joined with its owner's current state.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub username: String,
    pub kind: UserKind,
    pub user_status: UserStatus,
    pub digest: Vec<u8>,
    pub role: RoleName,
    pub role_held: bool,
    pub role_permissions: Vec<String>,
    pub project_id: Option<ProjectId>,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked: bool,
}

/// Passwords, the lockout counter, and opening sessions.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// By canonical (lower-case) username; `None` when there is no such user.
    async fn find_login(&self, canonical_username: &str) -> Result<Option<LoginRecord>, StoreError>;

    async fn find_login_by_id(&self, user: UserId) -> Result<Option<LoginRecord>, StoreError>;

    /// Atomically: clears a lock that ended before `now`, adds one to the
    /// failure counter, and returns the counter as written. The caller decides
    /// on the value read back, so parallel guesses cannot all slip through.
    async fn reserve_login_attempt(&self, user: UserId, now: OffsetDateTime) -> Result<LoginAttempt, StoreError>;

    /// Locks the account until `until` (kept if a later lock is already set).
    async fn lock_account(&self, user: UserId, until: OffsetDateTime, effects: Effects) -> Result<(), StoreError>;

    /// A good password: the failure counter goes back to zero, and the
    /// stored hash is replaced when `rehash` holds a stronger one.
    async fn record_login_success(&self, user: UserId, rehash: Option<String>) -> Result<(), StoreError>;

    async fn open_session(&self, session: NewSession, effects: Effects) -> Result<(), StoreError>;

    /// Sets the chosen password, kills the temporary one, revokes every other
    /// session of the user and lifts the restriction of `keep`.
    async fn change_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: SessionId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;
}

/// Resolving bearer tokens, and ending sessions.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn find_session(&self, lookup: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn find_api_key(&self, lookup: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// `NotFound` when it is already revoked or unknown.
    async fn revoke_session(&self, id: SessionId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError>;

    /// Records that a key was used at `now`, unless it already was in the
    /// minute before (so a busy key costs at most one write a minute).
    async fn touch_api_key(&self, id: ApiKeyId, now: OffsetDateTime) -> Result<(), StoreError>;
}

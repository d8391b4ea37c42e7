use async_trait::async_trait;
use time::OffsetDateTime;

use super::{ResourceRole, SqlCredential, SqlUsername};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::UserId;
use crate::user::UserStatus;

/// Stored SQL credentials: one per user, the name unique.
#[async_trait]
pub trait SqlCredentialStore: Send + Sync {
    /// The user's credential; `None` when they have none.
    async fn get_sql_credential(&self, user: UserId) -> Result<Option<SqlCredential>, StoreError>;

    /// The credential with this name and its owner's status; `None` when
    /// there is none.
    async fn find_sql_credential(&self, name: &SqlUsername) -> Result<Option<(SqlCredential, UserStatus)>, StoreError>;

    /// `Conflict { key: "user" }` when the user already has one,
    /// `Conflict { key: "sql_username" }` when the name is taken, `NotFound`
    /// when there is no such user.
    async fn insert_sql_credential(&self, credential: &SqlCredential, effects: Effects) -> Result<(), StoreError>;

    /// Replaces the verifier only if the stored one is still `expected` (a
    /// compare-and-set, so two rotations cannot interleave unnoticed):
    /// `Stale` when it changed, `NotFound` when there is no credential.
    async fn update_sql_verifier(
        &self,
        user: UserId,
        expected: &str,
        verifier: &str,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Deletes the credential only if its verifier is still `expected`:
    /// `Stale` when it changed, `NotFound` when there is none.
    async fn delete_sql_credential(&self, user: UserId, expected: &str, effects: Effects) -> Result<(), StoreError>;
}

/// What a query engine can report.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine cannot be reached right now; nothing was changed there.
    #[error("query engine unavailable: {0}")]
    Unavailable(String),
    /// A role of that name already exists on the engine.
    #[error("a role of that name already exists")]
    AlreadyExists,
    /// A role of that name exists but was not created by Steward: Steward
    /// never changes or drops it.
    #[error("the role is not managed by steward")]
    NotManaged,
    /// The login owns objects or holds privileges on the engine, so it
    /// cannot be dropped until they are transferred.
    #[error("the login owns objects or holds privileges")]
    InUse,
    /// The login a per-resource role was to be granted to does not exist on
    /// the engine.
    #[error("no such login on the query engine")]
    LoginMissing,
    #[error("query engine failure: {0}")]
    Failed(String),
}

/// The warehouse where SQL credentials become logins. Every method is
/// idempotent where it can be, so a compensation or a retry can repeat it.
/// Only roles the adapter created (and marked as Steward's) are ever altered
/// or dropped; any other role of the same name is `NotManaged`.
#[async_trait]
pub trait QueryEngine: Send + Sync {
    /// Creates a login role whose password is the SCRAM `verifier`.
    /// `AlreadyExists` when any role of that name exists.
    async fn create_login(&self, name: &SqlUsername, verifier: &str) -> Result<(), EngineError>;

    /// Sets the password of a login Steward manages; creates the login when
    /// it is missing (a credential stored before an engine was configured,
    /// or a drop being undone). `NotManaged` for a foreign role.
    async fn set_password(&self, name: &SqlUsername, verifier: &str) -> Result<(), EngineError>;

    /// Drops the login; nothing to do when it is missing. `NotManaged` for a
    /// foreign role.
    async fn drop_login(&self, name: &SqlUsername) -> Result<(), EngineError>;

    /// Allows or refuses logging in (suspension). `NotManaged` for a foreign
    /// role; nothing to do when it is missing.
    async fn set_login_enabled(&self, name: &SqlUsername, enabled: bool) -> Result<(), EngineError>;

    /// Whether a role of that name exists on the engine, managed or not,
    /// able to log in or not.
    async fn login_exists(&self, login: &SqlUsername) -> Result<bool, EngineError>;

    /// The per-resource roles `login` is a direct member of: only names that
    /// parse as a [`ResourceRole`] and bear Steward's mark, sorted. Empty
    /// when the login is missing.
    async fn resource_roles(&self, login: &SqlUsername) -> Result<Vec<ResourceRole>, EngineError>;

    /// Grants `role` to `login`, creating the role first when it is missing
    /// (unable to log in, marked as Steward's); nothing to do when the login
    /// is already a member. `NotManaged` when a role of that name exists
    /// without the mark, `LoginMissing` when there is no such login.
    async fn grant_resource_role(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError>;

    /// Revokes `role` from `login`; nothing to do when the login is not a
    /// member or either is missing. `NotManaged` when a role of that name
    /// exists without the mark. The role itself stays.
    async fn revoke_resource_role(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError>;
}

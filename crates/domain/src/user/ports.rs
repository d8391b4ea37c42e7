use async_trait::async_trait;

use super::{User, UserStatus};
use crate::auth::{NewApiKey, TempPassword};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::UserId;
use crate::page::PageRequest;
use crate::role::RoleName;

/// Everything that is written when a user is created, in one transaction.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub temp_password: Option<TempPassword>,
    /// Roles held besides `default` (which everyone holds).
    pub roles: Vec<RoleName>,
    /// An API key minted with the user (the bootstrap admin's).
    pub api_key: Option<NewApiKey>,
    /// The client's idempotency key: a retry with the same id creates nothing.
    pub create_request_id: Option<String>,
}

/// Listing filters, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub status: Option<UserStatus>,
    /// Case-insensitive substring of username, email or full name.
    pub text: Option<String>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict { key: "username" | "email" | "request_id" }` when taken.
    async fn insert_user(&self, new: NewUser, effects: Effects) -> Result<(), StoreError>;

    /// `NotFound` when there is no such user.
    async fn get_user(&self, id: UserId) -> Result<User, StoreError>;

    async fn find_user_by_username(&self, canonical_username: &str) -> Result<Option<User>, StoreError>;

    async fn find_user_by_request_id(&self, request_id: &str) -> Result<Option<User>, StoreError>;

    /// In id order (creation order), after `page.after`, at most `page.size` rows.
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> Result<Vec<User>, StoreError>;

    /// Writes `user` (whose `version` is already `expected_version + 1`) only
    /// if the stored version is `expected_version`: else `Stale`, or `NotFound`.
    /// `Conflict { key: "email" }` when the new email is taken.
    async fn update_user(&self, user: &User, expected_version: i64, effects: Effects) -> Result<(), StoreError>;

    async fn count_users(&self) -> Result<u64, StoreError>;
}

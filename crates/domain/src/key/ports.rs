use async_trait::async_trait;
use time::OffsetDateTime;

use super::ApiKey;
use crate::auth::NewApiKey;
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{ApiKeyId, ProjectId, UserId};
use crate::page::PageRequest;

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// `NotFound` when the owner does not exist.
    async fn create_api_key(&self, key: NewApiKey, effects: Effects) -> Result<(), StoreError>;

    /// `NotFound` when there is no such key.
    async fn get_api_key(&self, id: ApiKeyId) -> Result<ApiKey, StoreError>;

    /// A user's keys, newest first (keyset on the id, descending).
    async fn list_api_keys(&self, user: UserId, page: PageRequest) -> Result<Vec<ApiKey>, StoreError>;

    /// Sets `revoked_at`; `NotFound` when unknown or already revoked.
    async fn revoke_api_key(&self, id: ApiKeyId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError>;

    /// `None` when the project does not exist; else whether `user` is a member.
    async fn project_membership(&self, project: ProjectId, user: UserId) -> Result<Option<bool>, StoreError>;
}

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Holdings, SuspensionReason};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::UserId;

/// A suspension, decided: the store writes it in one transaction.
#[derive(Debug, Clone)]
pub struct UserSuspension {
    pub user: UserId,
    pub reason: SuspensionReason,
    pub until: Option<OffsetDateTime>,
    pub now: OffsetDateTime,
}

/// A deletion, decided: the store carries it out in one transaction, with
/// set-based statements (one per table), or not at all.
#[derive(Debug, Clone)]
pub struct UserDeletion {
    pub user: UserId,
    pub new_owner: Option<UserId>,
    /// What the plan was made from; anything else in the transaction is `Stale`.
    pub expected: Holdings,
    pub expected_user_version: i64,
    pub now: OffsetDateTime,
}

#[async_trait]
pub trait LifecycleStore: Send + Sync {
    /// What `user` holds now.
    async fn holdings(&self, user: UserId) -> Result<Holdings, StoreError>;

    /// Active → suspended, with every session and API key of the user revoked,
    /// and `effects`, in one transaction. Returns how many resources the user
    /// owns (counted after the suspension took its lock, so a transfer to the
    /// user that committed first is counted). `Refused { USER_NOT_ACTIVE }`
    /// when not active; `Refused { LAST_ADMIN }` when it would leave no active
    /// admin; `NotFound`.
    async fn suspend_user(&self, s: &UserSuspension, effects: Effects) -> Result<u64, StoreError>;

    /// Suspended → active. `Refused { USER_NOT_SUSPENDED }`; `NotFound`.
    async fn reactivate_user(&self, user: UserId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError>;

    /// Suspended users whose suspension ended at or before `now` (at most `limit`).
    async fn due_reactivations(&self, now: OffsetDateTime, limit: u64) -> Result<Vec<UserId>, StoreError>;

    /// Carries out the deletion: the user (still suspended, still at
    /// `expected_user_version`) becomes a tombstone; everything transferable
    /// moves to the new owner, schedules disabled as they move (who must be active,
    /// and whose row is locked first, so a concurrent suspension of them
    /// either waits for this or makes it fail); keys and sessions are revoked;
    /// SQL credentials, memberships and role assignments go; `effects` are
    /// written. `Refused { USER_NOT_SUSPENDED | NEW_OWNER_NOT_ACTIVE }`,
    /// `Stale` when the holdings or the user changed since the plan, `NotFound`.
    async fn delete_user(&self, d: &UserDeletion, effects: Effects) -> Result<(), StoreError>;
}

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Role, RoleName};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{SessionId, UserId};

/// An invariant the store enforces inside the unassignment's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnassignGuard {
    None,
    /// Refuse (`Refused { reason: "LAST_ADMIN" }`) when no other active user
    /// would still hold `admin` afterwards. Serialized against concurrent
    /// unassignments, so two admins cannot demote each other at once.
    KeepOneActiveAdmin,
}

#[async_trait]
pub trait RoleStore: Send + Sync {
    /// `Conflict { key: "role" }` when the name is taken.
    async fn create_role(&self, role: &Role, effects: Effects) -> Result<(), StoreError>;

    /// Built-in and custom roles; `NotFound` when there is none of that name.
    async fn get_role(&self, name: &RoleName) -> Result<Role, StoreError>;

    /// Every role, by name.
    async fn list_roles(&self) -> Result<Vec<Role>, StoreError>;

    /// Writes `role` (version already bumped) if the stored version of
    /// `old_name` is `expected_version` (else `Stale` / `NotFound`). A rename
    /// carries over to assignments, default roles, sessions and keys in the
    /// same transaction; `Conflict { key: "role" }` when the new name is taken.
    async fn update_role(
        &self,
        old_name: &RoleName,
        role: &Role,
        expected_version: i64,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Deletes a custom role. Unless `force`, refuses with
    /// `Refused { reason: "ROLE_IN_USE" }` while anyone holds it; with
    /// `force`, removes it from its holders, resets their default role,
    /// sessions and keys acting with it to `default`, in one transaction.
    /// Returns how many users held it.
    async fn delete_role(&self, name: &RoleName, force: bool, effects: Effects) -> Result<u64, StoreError>;

    /// The roles `user` holds besides `default`, by name.
    async fn user_roles(&self, user: UserId) -> Result<Vec<RoleName>, StoreError>;

    /// Users holding `role` who are active.
    async fn count_active_holders(&self, role: &RoleName) -> Result<u64, StoreError>;

    /// `Conflict { key: "assignment" }` when already held; `NotFound` when
    /// the user or the role does not exist.
    async fn assign_role(&self, user: UserId, role: &RoleName, effects: Effects) -> Result<(), StoreError>;

    /// `NotFound` when not held. If it was the user's default role, their
    /// default becomes `default`; their sessions and keys acting with it fall
    /// back to `default` too.
    async fn unassign_role(
        &self,
        user: UserId,
        role: &RoleName,
        guard: UnassignGuard,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Sets the role new sessions start with.
    async fn set_default_role(
        &self,
        user: UserId,
        role: &RoleName,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Changes the role a session acts with.
    async fn switch_session_role(
        &self,
        session: SessionId,
        role: &RoleName,
        effects: Effects,
    ) -> Result<(), StoreError>;
}

use async_trait::async_trait;
use time::OffsetDateTime;

use super::Group;
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{ResourceId, UserId};
use crate::ownership::{AccessLevel, Visibility};
use crate::page::PageRequest;

/// Groups, their members and their resource-group entries. A group is a
/// resource of kind `group`; every change bumps that resource's version and
/// `updated_at`.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Writes the group (its resource row and its group row) with its
    /// members. `Conflict { key: "request_id" }` when the request id was
    /// used; `NotFound` when the owner does not exist.
    async fn insert_group(&self, group: &Group, request_id: Option<&str>, effects: Effects) -> Result<(), StoreError>;

    async fn find_group_by_request_id(&self, request_id: &str) -> Result<Option<Group>, StoreError>;

    /// The group, if it exists and `visibility` lets the caller see it.
    async fn get_group(&self, id: ResourceId, visibility: &Visibility) -> Result<Option<Group>, StoreError>;

    /// Visible groups in id order, after `page.after`, at most `page.size`.
    async fn list_groups(&self, visibility: &Visibility, page: PageRequest) -> Result<Vec<Group>, StoreError>;

    /// Writes the name and the active flag of `group` (version already
    /// bumped) only if the stored version is `expected_version`: else
    /// `Stale`, or `NotFound`.
    async fn update_group(&self, group: &Group, expected_version: i64, effects: Effects) -> Result<(), StoreError>;

    /// Removes the group with its members and its resource-group entries.
    /// `NotFound` when there is none.
    async fn delete_group(&self, id: ResourceId, effects: Effects) -> Result<(), StoreError>;

    /// `Conflict { key: "member" }` when already a member; `NotFound` when
    /// the group does not exist, or the user does not or is deleted.
    async fn add_group_member(
        &self,
        group: ResourceId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// `NotFound` when `user` is not a member.
    async fn remove_group_member(
        &self,
        group: ResourceId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Links `resource` at `access`, or changes the level of its link.
    /// `NotFound` when the group or the resource does not exist.
    async fn link_group_resource(
        &self,
        group: ResourceId,
        resource: ResourceId,
        access: AccessLevel,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// `NotFound` when it is not linked.
    async fn unlink_group_resource(
        &self,
        group: ResourceId,
        resource: ResourceId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;
}

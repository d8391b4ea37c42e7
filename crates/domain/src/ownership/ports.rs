use async_trait::async_trait;

use super::{KindCount, Resource, ResourceKind, Visibility};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{ProjectId, ResourceId, UserId};
use crate::page::PageRequest;

/// Listing filters, combined with AND (and with the caller's [`Visibility`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    pub owner: Option<UserId>,
    /// Any of these kinds; empty means every kind.
    pub kinds: Vec<ResourceKind>,
    /// Resources that name this project among their parent projects.
    pub parent_project: Option<ProjectId>,
    /// Data sources linked to this project.
    pub linked_project: Option<ProjectId>,
    /// Resources this user holds read-only, while the grant lasts.
    pub held_by: Option<UserId>,
}

/// The ownership registry.
#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// Writes the resource with its parent projects and readers.
    /// `Conflict { key: "request_id" }` when `request_id` was used before;
    /// `NotFound` when the owner, a reader or a project does not exist.
    async fn insert_resource(
        &self,
        resource: &Resource,
        request_id: Option<&str>,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// The resource registered with this (caller-scoped) request id.
    async fn find_resource_by_request_id(&self, request_id: &str) -> Result<Option<Resource>, StoreError>;

    /// The resource, if it exists and `visibility` lets the caller see it.
    async fn get_resource(&self, id: ResourceId, visibility: &Visibility) -> Result<Option<Resource>, StoreError>;

    /// Visible resources matching `filter`, in id order (creation order),
    /// after `page.after`, at most `page.size`.
    async fn list_resources(
        &self,
        filter: &ResourceFilter,
        visibility: &Visibility,
        page: PageRequest,
    ) -> Result<Vec<Resource>, StoreError>;

    /// How many visible resources match `filter`, per kind (kinds with none
    /// left out), in [`ResourceKind::ALL`] order.
    async fn count_resources_by_kind(
        &self,
        filter: &ResourceFilter,
        visibility: &Visibility,
    ) -> Result<Vec<KindCount>, StoreError>;

    /// Writes `resource` (version already bumped), replacing its parent
    /// projects and readers, only if the stored version is
    /// `expected_version`: else `Stale`, or `NotFound`. `NotFound` also when
    /// a new owner, reader or project does not exist.
    async fn update_resource(
        &self,
        resource: &Resource,
        expected_version: i64,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Removes the resource with its readers and project links. `NotFound`
    /// when there is none.
    async fn delete_resource(&self, id: ResourceId, effects: Effects) -> Result<(), StoreError>;

    /// Those of `users` that do not exist or are deleted.
    async fn unknown_users(&self, users: &[UserId]) -> Result<Vec<UserId>, StoreError>;

    /// Those of `projects` that do not exist.
    async fn unknown_projects(&self, projects: &[ProjectId]) -> Result<Vec<ProjectId>, StoreError>;
}

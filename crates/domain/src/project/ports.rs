use async_trait::async_trait;
use time::OffsetDateTime;

use super::Project;
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{ProjectId, ResourceId, UserId};
use crate::ownership::Visibility;
use crate::page::PageRequest;

/// Projects, their members and their linked data sources. Every change
/// bumps the project's version and `updated_at`.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// Writes the project with its members (the owner among them).
    /// `Conflict { key: "project_name" }` when the name is taken ignoring
    /// case, `Conflict { key: "request_id" }` when the request id was used.
    async fn insert_project(
        &self,
        project: &Project,
        request_id: Option<&str>,
        effects: Effects,
    ) -> Result<(), StoreError>;

    async fn find_project_by_request_id(&self, request_id: &str) -> Result<Option<Project>, StoreError>;

    /// The project, if it exists and `visibility` lets the caller see it.
    async fn get_project(&self, id: ProjectId, visibility: &Visibility) -> Result<Option<Project>, StoreError>;

    /// Visible projects in id order, after `page.after`, at most `page.size`.
    async fn list_projects(&self, visibility: &Visibility, page: PageRequest) -> Result<Vec<Project>, StoreError>;

    /// `Conflict { key: "member" }` when already a member; `NotFound` when
    /// the project or the user does not exist.
    async fn add_project_member(
        &self,
        project: ProjectId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// `NotFound` when `user` is not a member.
    async fn remove_project_member(
        &self,
        project: ProjectId,
        user: UserId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// `Conflict { key: "link" }` when already linked; `NotFound` when the
    /// project or the resource does not exist.
    async fn link_data_source(
        &self,
        project: ProjectId,
        resource: ResourceId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// `NotFound` when it is not linked.
    async fn unlink_data_source(
        &self,
        project: ProjectId,
        resource: ResourceId,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;
}

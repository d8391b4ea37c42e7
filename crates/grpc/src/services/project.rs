use std::sync::Arc;

use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::page::PageRequest;
use steward_domain::project::{CreateProject, DATA_SOURCES_PAGE, PROJECTS_PAGE, Project, ProjectService};
use tonic::{Request, Response, Status};

use super::resource::{opt_id, resource};
use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, project_service_server::ProjectService as Api};

pub struct ProjectApi {
    pub projects: Arc<ProjectService>,
}

pub fn project(p: &Project) -> pb::Project {
    pb::Project {
        project_id: p.id.to_string(),
        name: p.name.to_string(),
        description: p.description.clone(),
        owner_id: p.owner.to_string(),
        member_ids: p.members.iter().map(ToString::to_string).collect(),
        data_source_ids: p.data_sources.iter().map(ToString::to_string).collect(),
        create_time: Some(timestamp(p.created_at)),
        update_time: Some(timestamp(p.updated_at)),
        etag: p.etag(),
    }
}

fn project_id(raw: &str) -> Result<ProjectId, steward_domain::DomainError> {
    ProjectId::parse(raw, "project_id")
}

#[tonic::async_trait]
impl Api for ProjectApi {
    async fn create_project(
        &self,
        req: Request<pb::CreateProjectRequest>,
    ) -> Result<Response<pb::CreateProjectResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let create = CreateProject::parse(&r.name, &r.description, &r.request_id)?;
            self.projects.create(&ctx, create).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateProjectResponse { project: Some(project(&out)) }))
    }

    async fn get_project(
        &self,
        req: Request<pb::GetProjectRequest>,
    ) -> Result<Response<pb::GetProjectResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out =
            async { self.projects.get(&ctx, project_id(&r.project_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetProjectResponse { project: Some(project(&out)) }))
    }

    async fn list_projects(
        &self,
        req: Request<pb::ListProjectsRequest>,
    ) -> Result<Response<pb::ListProjectsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page =
            async { self.projects.list(&ctx, PageRequest::parse(r.page_size, &r.page_token, PROJECTS_PAGE)?).await }
                .await
                .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListProjectsResponse {
            projects: page.items.iter().map(project).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn add_project_member(
        &self,
        req: Request<pb::AddProjectMemberRequest>,
    ) -> Result<Response<pb::AddProjectMemberResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            self.projects.add_member(&ctx, project_id(&r.project_id)?, UserId::parse(&r.user_id, "user_id")?).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::AddProjectMemberResponse { project: Some(project(&out)) }))
    }

    async fn remove_project_member(
        &self,
        req: Request<pb::RemoveProjectMemberRequest>,
    ) -> Result<Response<pb::RemoveProjectMemberResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            self.projects.remove_member(&ctx, project_id(&r.project_id)?, UserId::parse(&r.user_id, "user_id")?).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::RemoveProjectMemberResponse { project: Some(project(&out)) }))
    }

    async fn link_data_source(
        &self,
        req: Request<pb::LinkDataSourceRequest>,
    ) -> Result<Response<pb::LinkDataSourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let resource = ResourceId::parse(&r.resource_id, "resource_id")?;
            self.projects.link_data_source(&ctx, project_id(&r.project_id)?, resource).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::LinkDataSourceResponse { project: Some(project(&out)) }))
    }

    async fn unlink_data_source(
        &self,
        req: Request<pb::UnlinkDataSourceRequest>,
    ) -> Result<Response<pb::UnlinkDataSourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let resource = ResourceId::parse(&r.resource_id, "resource_id")?;
            self.projects.unlink_data_source(&ctx, project_id(&r.project_id)?, resource).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UnlinkDataSourceResponse { project: Some(project(&out)) }))
    }

    async fn list_data_sources(
        &self,
        req: Request<pb::ListDataSourcesRequest>,
    ) -> Result<Response<pb::ListDataSourcesResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let page = PageRequest::parse(r.page_size, &r.page_token, DATA_SOURCES_PAGE)?;
            self.projects.list_data_sources(&ctx, opt_id(&r.project_id, project_id)?, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListDataSourcesResponse {
            data_sources: page.items.iter().map(resource).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}

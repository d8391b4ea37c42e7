use std::sync::Arc;

use steward_domain::DomainError;
use steward_domain::access::{
    ACCESS_REQUESTS_PAGE, AccessRequest, AccessService, CreateAccessRequest, Decision, Justification, RequestFilter,
    RequestState, RequestView, Target, denial_reason, duration,
};
use steward_domain::id::{AccessRequestId, ProjectId, ResourceId};
use steward_domain::page::PageRequest;
use tonic::{Request, Response, Status};

use super::resource::{one, take};
use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, access_service_server::AccessService as Api};

pub struct AccessApi {
    pub access: Arc<AccessService>,
}

fn state(s: RequestState) -> pb::AccessRequestState {
    match s {
        RequestState::Pending => pb::AccessRequestState::Pending,
        RequestState::Approved => pb::AccessRequestState::Approved,
        RequestState::Denied => pb::AccessRequestState::Denied,
        RequestState::Withdrawn => pb::AccessRequestState::Withdrawn,
    }
}

pub fn access_request(r: &AccessRequest) -> pb::AccessRequest {
    pb::AccessRequest {
        access_request_id: r.id.to_string(),
        requester_id: r.requester.to_string(),
        target: Some(match r.target {
            Target::DataSource(id) => pb::access_request::Target::DataSourceId(id.to_string()),
            Target::Project(id) => pb::access_request::Target::ProjectId(id.to_string()),
        }),
        justification: r.justification.as_str().to_string(),
        requested_duration: r
            .requested_duration
            .map(|d| prost_types::Duration { seconds: d.whole_seconds(), nanos: 0 }),
        state: state(r.state) as i32,
        decided_by: r.decided_by.map(|u| u.to_string()).unwrap_or_default(),
        decision_reason: r.decision_reason.clone(),
        granted_until: r.granted_until.map(timestamp),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        etag: r.etag(),
    }
}

fn request_id(raw: &str) -> Result<AccessRequestId, DomainError> {
    AccessRequestId::parse(raw, "access_request_id")
}

fn data_source(raw: &str) -> Result<Target, DomainError> {
    Ok(Target::DataSource(ResourceId::parse(raw, "data_source_id")?))
}

fn project(raw: &str) -> Result<Target, DomainError> {
    Ok(Target::Project(ProjectId::parse(raw, "project_id")?))
}

fn wire_duration(d: Option<&prost_types::Duration>, field: &str) -> Result<Option<time::Duration>, DomainError> {
    d.map_or(Ok(None), |d| duration(d.seconds, d.nanos, field).map_err(one))
}

/// Every bad field of a CreateAccessRequest, reported together.
fn create_request(r: &pb::CreateAccessRequestRequest) -> Result<CreateAccessRequest, DomainError> {
    use pb::create_access_request_request::Target as T;
    let mut errors = Vec::new();
    let target = match &r.target {
        Some(T::DataSourceId(d)) => data_source(d),
        Some(T::ProjectId(p)) => project(p),
        None => Err(DomainError::invalid("target", "TARGET_REQUIRED", "set data_source_id or project_id")),
    };
    let target = take(&mut errors, target);
    let justification = take(&mut errors, Justification::parse(&r.justification, "justification").map_err(one));
    let duration = take(&mut errors, wire_duration(r.duration.as_ref(), "duration"));
    match (target, justification, duration) {
        (Some(target), Some(justification), Some(duration)) if errors.is_empty() => {
            Ok(CreateAccessRequest { target, justification, duration })
        }
        _ => Err(DomainError::InvalidArgument(errors)),
    }
}

fn view(raw: i32) -> Result<RequestView, DomainError> {
    match pb::AccessRequestView::try_from(raw) {
        Ok(pb::AccessRequestView::Unspecified | pb::AccessRequestView::Mine) => Ok(RequestView::Mine),
        Ok(pb::AccessRequestView::AwaitingMyDecision) => Ok(RequestView::AwaitingMyDecision),
        Ok(pb::AccessRequestView::All) => Ok(RequestView::All),
        Err(_) => Err(DomainError::invalid("view", "INVALID_VIEW", format!("unknown view {raw}"))),
    }
}

fn state_filter(raw: i32) -> Result<Option<RequestState>, DomainError> {
    match pb::AccessRequestState::try_from(raw) {
        Ok(pb::AccessRequestState::Unspecified) => Ok(None),
        Ok(pb::AccessRequestState::Pending) => Ok(Some(RequestState::Pending)),
        Ok(pb::AccessRequestState::Approved) => Ok(Some(RequestState::Approved)),
        Ok(pb::AccessRequestState::Denied) => Ok(Some(RequestState::Denied)),
        Ok(pb::AccessRequestState::Withdrawn) => Ok(Some(RequestState::Withdrawn)),
        Err(_) => Err(DomainError::invalid("state", "INVALID_STATE", format!("unknown state {raw}"))),
    }
}

fn etag(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|e| !e.is_empty())
}

#[tonic::async_trait]
impl Api for AccessApi {
    async fn create_access_request(
        &self,
        req: Request<pb::CreateAccessRequestRequest>,
    ) -> Result<Response<pb::CreateAccessRequestResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.access.create(&ctx, create_request(&r)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateAccessRequestResponse { access_request: Some(access_request(&out)) }))
    }

    async fn get_access_request(
        &self,
        req: Request<pb::GetAccessRequestRequest>,
    ) -> Result<Response<pb::GetAccessRequestResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.access.get(&ctx, request_id(&r.access_request_id)?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetAccessRequestResponse { access_request: Some(access_request(&out)) }))
    }

    async fn list_access_requests(
        &self,
        req: Request<pb::ListAccessRequestsRequest>,
    ) -> Result<Response<pb::ListAccessRequestsResponse>, Status> {
        use pb::list_access_requests_request::Target as T;
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let target = match &r.target {
                Some(T::DataSourceId(d)) => Some(data_source(d)?),
                Some(T::ProjectId(p)) => Some(project(p)?),
                None => None,
            };
            let filter = RequestFilter { state: state_filter(r.state)?, target };
            let page = PageRequest::parse(r.page_size, &r.page_token, ACCESS_REQUESTS_PAGE)?;
            self.access.list(&ctx, view(r.view)?, filter, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListAccessRequestsResponse {
            access_requests: page.items.iter().map(access_request).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn approve_access_request(
        &self,
        req: Request<pb::ApproveAccessRequestRequest>,
    ) -> Result<Response<pb::ApproveAccessRequestResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let id = request_id(&r.access_request_id)?;
            let duration = wire_duration(r.duration.as_ref(), "duration")?;
            self.access.decide(&ctx, id, Decision::Approve { duration }, etag(&r.etag)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ApproveAccessRequestResponse { access_request: Some(access_request(&out)) }))
    }

    async fn deny_access_request(
        &self,
        req: Request<pb::DenyAccessRequestRequest>,
    ) -> Result<Response<pb::DenyAccessRequestResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let mut errors = Vec::new();
            let id = take(&mut errors, request_id(&r.access_request_id));
            let reason = take(&mut errors, denial_reason(&r.reason, "reason").map_err(one));
            let (Some(id), Some(reason)) = (id, reason) else {
                return Err(DomainError::InvalidArgument(errors));
            };
            self.access.decide(&ctx, id, Decision::Deny { reason }, etag(&r.etag)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DenyAccessRequestResponse { access_request: Some(access_request(&out)) }))
    }

    async fn withdraw_access_request(
        &self,
        req: Request<pb::WithdrawAccessRequestRequest>,
    ) -> Result<Response<pb::WithdrawAccessRequestResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.access.withdraw(&ctx, request_id(&r.access_request_id)?, etag(&r.etag)).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::WithdrawAccessRequestResponse { access_request: Some(access_request(&out)) }))
    }
}

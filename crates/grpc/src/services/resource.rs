use std::sync::Arc;

use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::{
    DisplayName, RESOURCES_PAGE, RegisterResource, Resource, ResourceFilter, ResourceKind, ResourcePatch,
    ResourceService, UPDATABLE_FIELDS,
};
use steward_domain::page::PageRequest;
use steward_domain::user::{UserRef, Username};
use steward_domain::{DomainError, FieldViolation};
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, resource_service_server::ResourceService as Api};

pub struct ResourceApi {
    pub resources: Arc<ResourceService>,
}

pub fn resource(r: &Resource) -> pb::Resource {
    pb::Resource {
        resource_id: r.id.to_string(),
        kind: kind_to_pb(r.kind) as i32,
        display_name: r.display_name.to_string(),
        owner_id: r.owner.map(|o| o.to_string()).unwrap_or_default(),
        project_ids: r.projects.iter().map(ToString::to_string).collect(),
        schedule_enabled: r.schedule_enabled,
        reader_ids: r.readers.iter().map(ToString::to_string).collect(),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        etag: r.etag(),
    }
}

pub fn kind_to_pb(k: ResourceKind) -> pb::ResourceKind {
    pb::ResourceKind::from_str_name(&k.wire_name()).unwrap_or(pb::ResourceKind::Unspecified)
}

/// A kind filter: unspecified means none.
pub fn kind_filter(raw: i32, field: &str) -> Result<Option<ResourceKind>, DomainError> {
    match pb::ResourceKind::try_from(raw) {
        Ok(pb::ResourceKind::Unspecified) => Ok(None),
        Ok(k) => ResourceKind::parse(k.as_str_name(), field).map(Some).map_err(one),
        Err(_) => Err(DomainError::invalid(field, "UNKNOWN_RESOURCE_KIND", format!("{raw} is not a resource kind"))),
    }
}

fn kind_required(raw: i32, field: &str) -> Result<ResourceKind, DomainError> {
    kind_filter(raw, field)?
        .ok_or_else(|| DomainError::invalid(field, "RESOURCE_KIND_REQUIRED", "name the resource's kind"))
}

/// An optional id: empty means none.
pub fn opt_id<T>(raw: &str, parse: impl Fn(&str) -> Result<T, DomainError>) -> Result<Option<T>, DomainError> {
    if raw.trim().is_empty() { Ok(None) } else { parse(raw).map(Some) }
}

/// A single bad field.
pub(crate) fn one(v: FieldViolation) -> DomainError {
    DomainError::InvalidArgument(vec![v])
}

/// Keeps the value, or adds the error's violations to `errors` (so that a
/// request reports every bad field at once).
pub(crate) fn take<T>(errors: &mut Vec<FieldViolation>, r: Result<T, DomainError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(DomainError::InvalidArgument(v)) => {
            errors.extend(v);
            None
        }
        Err(other) => {
            errors.push(FieldViolation::new("", "INVALID_ARGUMENT", other.to_string()));
            None
        }
    }
}

fn ids<T>(raw: &[String], field: &str, parse: fn(&str, &str) -> Result<T, DomainError>) -> Result<Vec<T>, DomainError> {
    let mut errors = Vec::new();
    let out: Vec<T> = raw.iter().filter_map(|s| take(&mut errors, parse(s, field))).collect();
    if errors.is_empty() { Ok(out) } else { Err(DomainError::InvalidArgument(errors)) }
}

fn display_name(raw: &str) -> Result<DisplayName, DomainError> {
    DisplayName::parse(raw, "resource.display_name").map_err(one)
}

fn owner(raw: &str) -> Result<Option<UserId>, DomainError> {
    opt_id(raw, |s| UserId::parse(s, "resource.owner_id"))
}

fn projects(raw: &[String]) -> Result<Vec<ProjectId>, DomainError> {
    ids(raw, "resource.project_ids", ProjectId::parse)
}

fn readers(raw: &[String]) -> Result<Vec<UserId>, DomainError> {
    ids(raw, "resource.reader_ids", UserId::parse)
}

fn register_request(r: pb::RegisterResourceRequest) -> Result<RegisterResource, DomainError> {
    let v = r.resource.unwrap_or_default();
    let mut errors = Vec::new();
    let kind = take(&mut errors, kind_required(v.kind, "resource.kind"));
    let name = take(&mut errors, display_name(&v.display_name));
    let owner = take(&mut errors, owner(&v.owner_id));
    let projects = take(&mut errors, projects(&v.project_ids));
    let readers = take(&mut errors, readers(&v.reader_ids));
    let request_id = r.request_id.trim();
    if request_id.len() > 64 {
        errors.push(FieldViolation::new("request_id", "INVALID_REQUEST_ID", "must be at most 64 characters"));
    }
    match (kind, name, owner, projects, readers) {
        (Some(kind), Some(display_name), Some(owner), Some(projects), Some(readers)) if errors.is_empty() => {
            Ok(RegisterResource {
                kind,
                display_name,
                owner,
                projects,
                schedule_enabled: v.schedule_enabled,
                readers,
                request_id: (!request_id.is_empty()).then(|| request_id.to_string()),
            })
        }
        _ => Err(DomainError::InvalidArgument(errors)),
    }
}

fn patch(paths: &[String], v: &pb::Resource) -> Result<ResourcePatch, DomainError> {
    if paths.is_empty() {
        return Err(DomainError::invalid(
            "update_mask",
            "EMPTY_UPDATE_MASK",
            "name the fields to change, e.g. {\"paths\": [\"display_name\"]}",
        ));
    }
    let mut errors = Vec::new();
    let mut p = ResourcePatch::default();
    for path in paths {
        match path.as_str() {
            "display_name" => p.display_name = take(&mut errors, display_name(&v.display_name)),
            "owner_id" => p.owner = take(&mut errors, owner(&v.owner_id)),
            "project_ids" => p.projects = take(&mut errors, projects(&v.project_ids)),
            "reader_ids" => p.readers = take(&mut errors, readers(&v.reader_ids)),
            "schedule_enabled" => match v.schedule_enabled {
                Some(b) => p.schedule_enabled = Some(b),
                None => errors.push(FieldViolation::new(
                    "resource.schedule_enabled",
                    "NOT_A_SCHEDULE",
                    "set schedule_enabled to true or false",
                )),
            },
            other => errors.push(FieldViolation::new(
                "update_mask",
                "UNKNOWN_FIELD",
                format!("{other:?} cannot be updated; updatable: {}", UPDATABLE_FIELDS.join(", ")),
            )),
        }
    }
    if errors.is_empty() { Ok(p) } else { Err(DomainError::InvalidArgument(errors)) }
}

#[tonic::async_trait]
impl Api for ResourceApi {
    async fn register_resource(
        &self,
        req: Request<pb::RegisterResourceRequest>,
    ) -> Result<Response<pb::RegisterResourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out =
            async { self.resources.register(&ctx, register_request(r)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::RegisterResourceResponse { resource: Some(resource(&out)) }))
    }

    async fn get_resource(
        &self,
        req: Request<pb::GetResourceRequest>,
    ) -> Result<Response<pb::GetResourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.resources.get(&ctx, ResourceId::parse(&r.resource_id, "resource_id")?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetResourceResponse { resource: Some(resource(&out)) }))
    }

    async fn list_resources(
        &self,
        req: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let page = PageRequest::parse(r.page_size, &r.page_token, RESOURCES_PAGE)?;
            let filter = ResourceFilter {
                owner: opt_id(&r.owner_id, |s| UserId::parse(s, "owner_id"))?,
                kinds: kind_filter(r.kind, "kind")?.into_iter().collect(),
                parent_project: opt_id(&r.project_id, |s| ProjectId::parse(s, "project_id"))?,
                linked_project: None,
                held_by: None,
            };
            self.resources.list(&ctx, filter, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListResourcesResponse {
            resources: page.items.iter().map(resource).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_resource(
        &self,
        req: Request<pb::UpdateResourceRequest>,
    ) -> Result<Response<pb::UpdateResourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let id = ResourceId::parse(&r.resource_id, "resource_id")?;
            let values = r.resource.unwrap_or_default();
            let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
            self.resources.update(&ctx, id, patch(&paths, &values)?, Some(&r.etag)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UpdateResourceResponse { resource: Some(resource(&out)) }))
    }

    async fn delete_resource(
        &self,
        req: Request<pb::DeleteResourceRequest>,
    ) -> Result<Response<pb::DeleteResourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async { self.resources.delete(&ctx, ResourceId::parse(&r.resource_id, "resource_id")?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DeleteResourceResponse {}))
    }

    async fn list_user_resources(
        &self,
        req: Request<pb::ListUserResourcesRequest>,
    ) -> Result<Response<pb::ListUserResourcesResponse>, Status> {
        use pb::list_user_resources_request::Selector;
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let who = match r.selector {
                None => UserRef::Me,
                Some(Selector::UserId(id)) => UserRef::Id(UserId::parse(&id, "user_id")?),
                Some(Selector::Username(name)) => UserRef::Username(Username::parse(&name).map_err(one)?),
            };
            let kind = kind_filter(r.kind, "kind")?;
            let page = PageRequest::parse(r.page_size, &r.page_token, RESOURCES_PAGE)?;
            self.resources.list_user_resources(&ctx, who, kind, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListUserResourcesResponse {
            user_id: out.user.to_string(),
            counts: out
                .counts
                .iter()
                .map(|c| pb::ResourceKindCount { kind: kind_to_pb(c.kind) as i32, count: c.count as i64 })
                .collect(),
            total: out.total as i64,
            resources: out.page.items.iter().map(resource).collect(),
            next_page_token: out.page.next_page_token,
            held_data_sources: out.held.iter().map(resource).collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_wire_value() {
        for k in ResourceKind::ALL {
            let pb = kind_to_pb(k);
            assert_ne!(pb, pb::ResourceKind::Unspecified, "{k:?}");
            assert_eq!(kind_filter(pb as i32, "kind").unwrap(), Some(k));
        }
        assert_eq!(kind_filter(0, "kind").unwrap(), None);
        assert_eq!(kind_filter(999, "kind").unwrap_err().reason(), "UNKNOWN_RESOURCE_KIND");
        assert_eq!(kind_required(0, "kind").unwrap_err().reason(), "RESOURCE_KIND_REQUIRED");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = pb::RegisterResourceRequest {
            resource: Some(pb::Resource {
                kind: 0,
                display_name: " ".into(),
                owner_id: "nope".into(),
                reader_ids: vec!["x".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let DomainError::InvalidArgument(v) = register_request(bad).unwrap_err() else { panic!() };
        let got: Vec<_> = v.iter().map(|v| (v.field.as_str(), v.reason)).collect();
        assert_eq!(
            got,
            [
                ("resource.kind", "RESOURCE_KIND_REQUIRED"),
                ("resource.display_name", "INVALID_DISPLAY_NAME"),
                ("resource.owner_id", "INVALID_ID"),
                ("resource.reader_ids", "INVALID_ID"),
            ]
        );
        let DomainError::InvalidArgument(v) = patch(&["color".into()], &pb::Resource::default()).unwrap_err() else {
            panic!()
        };
        assert_eq!(v[0].reason, "UNKNOWN_FIELD");
    }
}

use std::sync::Arc;

use steward_domain::group::{CreateGroup, GROUPS_PAGE, Group, GroupPatch, GroupService, UPDATABLE_GROUP_FIELDS};
use steward_domain::id::{ResourceId, UserId};
use steward_domain::ownership::{AccessLevel, DisplayName};
use steward_domain::page::PageRequest;
use steward_domain::{DomainError, FieldViolation};
use tonic::{Request, Response, Status};

use super::resource::one;
use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, group_service_server::GroupService as Api};

pub struct GroupApi {
    pub groups: Arc<GroupService>,
}

pub fn group(g: &Group) -> pb::Group {
    pb::Group {
        group_id: g.id.to_string(),
        name: g.name.to_string(),
        owner_id: g.owner.to_string(),
        active: g.active,
        personal_user_id: g.personal_of.map(|u| u.to_string()).unwrap_or_default(),
        member_ids: g.members.iter().map(ToString::to_string).collect(),
        links: g
            .links
            .iter()
            .map(|l| pb::GroupLink { resource_id: l.resource.to_string(), access: access_to_pb(l.access) as i32 })
            .collect(),
        create_time: Some(timestamp(g.created_at)),
        update_time: Some(timestamp(g.updated_at)),
        etag: g.etag(),
    }
}

fn access_to_pb(a: AccessLevel) -> pb::AccessLevel {
    match a {
        AccessLevel::Read => pb::AccessLevel::Read,
        AccessLevel::Owner => pb::AccessLevel::Owner,
    }
}

/// A level on the wire: unspecified (or unknown) is refused.
fn access(raw: i32) -> Result<AccessLevel, DomainError> {
    let name = pb::AccessLevel::try_from(raw).map_or_else(|_| raw.to_string(), |l| l.as_str_name().to_string());
    AccessLevel::parse(&name, "access").map_err(one)
}

fn group_id(raw: &str) -> Result<ResourceId, DomainError> {
    ResourceId::parse(raw, "group_id")
}

fn patch(paths: &[String], v: &pb::Group) -> Result<GroupPatch, DomainError> {
    if paths.is_empty() {
        return Err(DomainError::invalid(
            "update_mask",
            "EMPTY_UPDATE_MASK",
            "name the fields to change, e.g. {\"paths\": [\"name\"]}",
        ));
    }
    let mut errors = Vec::new();
    let mut p = GroupPatch::default();
    for path in paths {
        match path.as_str() {
            "name" => match DisplayName::parse(&v.name, "group.name") {
                Ok(n) => p.name = Some(n),
                Err(e) => errors.push(e),
            },
            other => errors.push(FieldViolation::new(
                "update_mask",
                "UNKNOWN_FIELD",
                format!("{other:?} cannot be updated; updatable: {}", UPDATABLE_GROUP_FIELDS.join(", ")),
            )),
        }
    }
    if errors.is_empty() { Ok(p) } else { Err(DomainError::InvalidArgument(errors)) }
}

#[tonic::async_trait]
impl Api for GroupApi {
    async fn create_group(
        &self,
        req: Request<pb::CreateGroupRequest>,
    ) -> Result<Response<pb::CreateGroupResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.groups.create(&ctx, CreateGroup::parse(&r.name, &r.request_id)?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateGroupResponse { group: Some(group(&out)) }))
    }

    async fn get_group(&self, req: Request<pb::GetGroupRequest>) -> Result<Response<pb::GetGroupResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.groups.get(&ctx, group_id(&r.group_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetGroupResponse { group: Some(group(&out)) }))
    }

    async fn list_groups(
        &self,
        req: Request<pb::ListGroupsRequest>,
    ) -> Result<Response<pb::ListGroupsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async { self.groups.list(&ctx, PageRequest::parse(r.page_size, &r.page_token, GROUPS_PAGE)?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListGroupsResponse {
            groups: page.items.iter().map(group).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_group(
        &self,
        req: Request<pb::UpdateGroupRequest>,
    ) -> Result<Response<pb::UpdateGroupResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let id = group_id(&r.group_id)?;
            let values = r.group.unwrap_or_default();
            let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
            self.groups.update(&ctx, id, patch(&paths, &values)?, Some(&r.etag)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UpdateGroupResponse { group: Some(group(&out)) }))
    }

    async fn deactivate_group(
        &self,
        req: Request<pb::DeactivateGroupRequest>,
    ) -> Result<Response<pb::DeactivateGroupResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out =
            async { self.groups.deactivate(&ctx, group_id(&r.group_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DeactivateGroupResponse { group: Some(group(&out)) }))
    }

    async fn activate_group(
        &self,
        req: Request<pb::ActivateGroupRequest>,
    ) -> Result<Response<pb::ActivateGroupResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out =
            async { self.groups.activate(&ctx, group_id(&r.group_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ActivateGroupResponse { group: Some(group(&out)) }))
    }

    async fn delete_group(
        &self,
        req: Request<pb::DeleteGroupRequest>,
    ) -> Result<Response<pb::DeleteGroupResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async { self.groups.delete(&ctx, group_id(&r.group_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DeleteGroupResponse {}))
    }

    async fn add_group_member(
        &self,
        req: Request<pb::AddGroupMemberRequest>,
    ) -> Result<Response<pb::AddGroupMemberResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out =
            async { self.groups.add_member(&ctx, group_id(&r.group_id)?, UserId::parse(&r.user_id, "user_id")?).await }
                .await
                .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::AddGroupMemberResponse { group: Some(group(&out)) }))
    }

    async fn remove_group_member(
        &self,
        req: Request<pb::RemoveGroupMemberRequest>,
    ) -> Result<Response<pb::RemoveGroupMemberResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            self.groups.remove_member(&ctx, group_id(&r.group_id)?, UserId::parse(&r.user_id, "user_id")?).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::RemoveGroupMemberResponse { group: Some(group(&out)) }))
    }

    async fn link_group_resource(
        &self,
        req: Request<pb::LinkGroupResourceRequest>,
    ) -> Result<Response<pb::LinkGroupResourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let resource = ResourceId::parse(&r.resource_id, "resource_id")?;
            self.groups.link_resource(&ctx, group_id(&r.group_id)?, resource, access(r.access)?).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::LinkGroupResourceResponse { group: Some(group(&out)) }))
    }

    async fn unlink_group_resource(
        &self,
        req: Request<pb::UnlinkGroupResourceRequest>,
    ) -> Result<Response<pb::UnlinkGroupResourceResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let resource = ResourceId::parse(&r.resource_id, "resource_id")?;
            self.groups.unlink_resource(&ctx, group_id(&r.group_id)?, resource).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UnlinkGroupResourceResponse { group: Some(group(&out)) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_masks() {
        assert_eq!(access(pb::AccessLevel::Read as i32).unwrap(), AccessLevel::Read);
        assert_eq!(access(pb::AccessLevel::Owner as i32).unwrap(), AccessLevel::Owner);
        for raw in [0, 99] {
            assert_eq!(access(raw).unwrap_err().reason(), "UNKNOWN_ACCESS_LEVEL");
        }
        for l in AccessLevel::ALL {
            assert_eq!(access(access_to_pb(l) as i32).unwrap(), l);
        }
        assert_eq!(patch(&[], &pb::Group::default()).unwrap_err().reason(), "EMPTY_UPDATE_MASK");
        let DomainError::InvalidArgument(v) =
            patch(&["name".into(), "owner_id".into()], &pb::Group::default()).unwrap_err()
        else {
            panic!()
        };
        let got: Vec<_> = v.iter().map(|v| (v.field.as_str(), v.reason)).collect();
        assert_eq!(got, [("group.name", "INVALID_DISPLAY_NAME"), ("update_mask", "UNKNOWN_FIELD")]);
        let ok = patch(&["name".into()], &pb::Group { name: " Analysts ".into(), ..Default::default() }).unwrap();
        assert_eq!(ok.name.unwrap().as_str(), "Analysts");
    }
}

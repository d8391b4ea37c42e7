use std::sync::Arc;

use steward_domain::DomainError;
use steward_domain::id::UserId;
use steward_domain::role::{PermissionSet, Role, RoleName, RolePatch, RoleService};
use steward_domain::text::clean;
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, role_service_server::RoleService as Api};

pub struct RoleApi {
    pub roles: Arc<RoleService>,
}

pub fn role(r: &Role) -> pb::Role {
    pb::Role {
        name: r.name.to_string(),
        description: r.description.clone(),
        permissions: r.permissions.names(),
        builtin: r.builtin,
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        etag: r.etag(),
    }
}

fn name(raw: &str, field: &str) -> Result<RoleName, DomainError> {
    RoleName::parse(raw, field).map_err(|v| DomainError::InvalidArgument(vec![v]))
}

fn user_id(raw: &str) -> Result<UserId, DomainError> {
    UserId::parse(raw, "user_id")
}

fn description(raw: &str) -> Result<String, DomainError> {
    clean("role.description", raw, 500, false).map_err(|v| DomainError::InvalidArgument(vec![v]))
}

fn permissions(raw: &[String]) -> Result<PermissionSet, DomainError> {
    PermissionSet::parse(raw, "role.permissions").map_err(DomainError::InvalidArgument)
}

#[tonic::async_trait]
impl Api for RoleApi {
    async fn list_permissions(
        &self,
        req: Request<pb::ListPermissionsRequest>,
    ) -> Result<Response<pb::ListPermissionsResponse>, Status> {
        ctx(&req)?;
        let permissions = self
            .roles
            .permissions()
            .iter()
            .map(|p| pb::Permission { name: p.name().into(), description: p.description().into() })
            .collect();
        Ok(Response::new(pb::ListPermissionsResponse { permissions }))
    }

    async fn list_roles(&self, req: Request<pb::ListRolesRequest>) -> Result<Response<pb::ListRolesResponse>, Status> {
        let ctx = ctx(&req)?;
        let roles = self.roles.list(&ctx).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListRolesResponse { roles: roles.iter().map(role).collect() }))
    }

    async fn get_role(&self, req: Request<pb::GetRoleRequest>) -> Result<Response<pb::GetRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async { self.roles.get(&ctx, &name(&r.name, "name")?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetRoleResponse { role: Some(role(&out)) }))
    }

    async fn create_role(
        &self,
        req: Request<pb::CreateRoleRequest>,
    ) -> Result<Response<pb::CreateRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner().role.unwrap_or_default();
        let out = async {
            let mut errors = Vec::new();
            let n = name(&r.name, "role.name").map_err(|e| collect(&mut errors, e)).ok();
            let d = description(&r.description).map_err(|e| collect(&mut errors, e)).ok();
            let p = permissions(&r.permissions).map_err(|e| collect(&mut errors, e)).ok();
            match (n, d, p) {
                (Some(n), Some(d), Some(p)) => self.roles.create(&ctx, n, d, p).await,
                _ => Err(DomainError::InvalidArgument(errors)),
            }
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateRoleResponse { role: Some(role(&out)) }))
    }

    async fn update_role(
        &self,
        req: Request<pb::UpdateRoleRequest>,
    ) -> Result<Response<pb::UpdateRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let target = name(&r.name, "name")?;
            let values = r.role.unwrap_or_default();
            let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
            if paths.is_empty() {
                return Err(DomainError::invalid("update_mask", "EMPTY_UPDATE_MASK", "name the fields to change"));
            }
            let mut patch = RolePatch::default();
            for path in &paths {
                match path.as_str() {
                    "name" => patch.name = Some(name(&values.name, "role.name")?),
                    "description" => patch.description = Some(description(&values.description)?),
                    "permissions" => patch.permissions = Some(permissions(&values.permissions)?),
                    other => {
                        return Err(DomainError::invalid(
                            "update_mask",
                            "UNKNOWN_FIELD",
                            format!("{other:?} cannot be updated; updatable: name, description, permissions"),
                        ));
                    }
                }
            }
            self.roles.update(&ctx, &target, patch, Some(&r.etag)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UpdateRoleResponse { role: Some(role(&out)) }))
    }

    async fn delete_role(
        &self,
        req: Request<pb::DeleteRoleRequest>,
    ) -> Result<Response<pb::DeleteRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let holders = async { self.roles.delete(&ctx, &name(&r.name, "name")?, r.force).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DeleteRoleResponse { holders: holders as i64 }))
    }

    async fn assign_role(
        &self,
        req: Request<pb::AssignRoleRequest>,
    ) -> Result<Response<pb::AssignRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async { self.roles.assign(&ctx, user_id(&r.user_id)?, &name(&r.role, "role")?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::AssignRoleResponse {}))
    }

    async fn unassign_role(
        &self,
        req: Request<pb::UnassignRoleRequest>,
    ) -> Result<Response<pb::UnassignRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async { self.roles.unassign(&ctx, user_id(&r.user_id)?, &name(&r.role, "role")?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UnassignRoleResponse {}))
    }

    async fn list_user_roles(
        &self,
        req: Request<pb::ListUserRolesRequest>,
    ) -> Result<Response<pb::ListUserRolesResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let held = async {
            let user = if r.user_id.trim().is_empty() { ctx.principal.user_id } else { user_id(&r.user_id)? };
            self.roles.held(&ctx, user).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListUserRolesResponse {
            roles: held.roles.iter().map(ToString::to_string).collect(),
            default_role: held.default_role.to_string(),
        }))
    }

    async fn set_default_role(
        &self,
        req: Request<pb::SetDefaultRoleRequest>,
    ) -> Result<Response<pb::SetDefaultRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async { self.roles.set_default(&ctx, &name(&r.role, "role")?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::SetDefaultRoleResponse {}))
    }
}

fn collect(errors: &mut Vec<steward_domain::FieldViolation>, e: DomainError) {
    if let DomainError::InvalidArgument(v) = e {
        errors.extend(v);
    }
}

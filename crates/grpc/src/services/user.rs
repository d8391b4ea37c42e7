use std::sync::Arc;

use secrecy::ExposeSecret;
use steward_domain::DomainError;
use steward_domain::id::UserId;
use steward_domain::lifecycle::LifecycleService;
use steward_domain::page::PageRequest;
use steward_domain::role::RoleName;
use steward_domain::user::{
    CreateServiceAccount, CreateUser, RawValue, UserFilter, UserPatch, UserRef, UserService, UserStatus, Username,
};
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, user};
use crate::pb::{self, user_service_server::UserService as Api};
use crate::services::lifecycle;

pub struct UserApi {
    pub users: Arc<UserService>,
    pub lifecycle: Arc<LifecycleService>,
}

#[tonic::async_trait]
impl Api for UserApi {
    async fn create_user(
        &self,
        req: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let create = CreateUser::parse(&r.username, &r.email, &r.full_name, &r.request_id)?;
            self.users.create(&ctx, create).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateUserResponse { user: Some(user(&out)) }))
    }

    async fn create_service_account(
        &self,
        req: Request<pb::CreateServiceAccountRequest>,
    ) -> Result<Response<pb::CreateServiceAccountResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let account = CreateUser::parse(&r.username, &r.email, &r.full_name, &r.request_id)?;
            let roles = r
                .roles
                .iter()
                .map(|n| RoleName::parse(n, "roles"))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|v| DomainError::InvalidArgument(vec![v]))?;
            self.users.create_service_account(&ctx, CreateServiceAccount { account, roles }).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateServiceAccountResponse {
            user: Some(user(&out.user)),
            api_key_secret: out.api_key.expose_secret().to_string(),
        }))
    }

    async fn get_user(&self, req: Request<pb::GetUserRequest>) -> Result<Response<pb::GetUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let who = user_ref(r.selector)?;
            self.users.get(&ctx, who).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetUserResponse { user: Some(user(&out)) }))
    }

    async fn list_users(&self, req: Request<pb::ListUsersRequest>) -> Result<Response<pb::ListUsersResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let page = PageRequest::parse(r.page_size, &r.page_token, "users")?;
            let status = match pb::UserStatus::try_from(r.status) {
                Ok(pb::UserStatus::Unspecified) => None,
                Ok(pb::UserStatus::Active) => Some(UserStatus::Active),
                Ok(pb::UserStatus::Suspended) => Some(UserStatus::Suspended),
                Ok(pb::UserStatus::Deleted) => Some(UserStatus::Deleted),
                Err(_) => return Err(DomainError::invalid("status", "INVALID_STATUS", "unknown user status")),
            };
            let text = (!r.query.trim().is_empty()).then(|| r.query.clone());
            self.users.list(&ctx, UserFilter { status, text }, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListUsersResponse {
            users: page.items.iter().map(user).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_user(
        &self,
        req: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let who = if r.user_id.trim().is_empty() {
                UserRef::Me
            } else {
                UserRef::Id(UserId::parse(&r.user_id, "user_id")?)
            };
            let values = r.user.unwrap_or_default();
            let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
            let patch = UserPatch::from_mask(&paths, |path| masked_value(&values, path))
                .map_err(DomainError::InvalidArgument)?;
            self.users.update(&ctx, who, patch, Some(&r.etag)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UpdateUserResponse { user: Some(user(&out)) }))
    }

    async fn suspend_user(
        &self,
        req: Request<pb::SuspendUserRequest>,
    ) -> Result<Response<pb::SuspendUserResponse>, Status> {
        let ctx = ctx(&req)?;
        lifecycle::suspend(&self.lifecycle, &ctx, req.into_inner()).await.map(Response::new)
    }

    async fn reactivate_user(
        &self,
        req: Request<pb::ReactivateUserRequest>,
    ) -> Result<Response<pb::ReactivateUserResponse>, Status> {
        let ctx = ctx(&req)?;
        lifecycle::reactivate(&self.lifecycle, &ctx, req.into_inner()).await.map(Response::new)
    }

    async fn plan_user_deletion(
        &self,
        req: Request<pb::PlanUserDeletionRequest>,
    ) -> Result<Response<pb::PlanUserDeletionResponse>, Status> {
        let ctx = ctx(&req)?;
        lifecycle::plan(&self.lifecycle, &ctx, req.into_inner()).await.map(Response::new)
    }

    async fn delete_user(
        &self,
        req: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let ctx = ctx(&req)?;
        lifecycle::delete(&self.lifecycle, &ctx, req.into_inner()).await.map(Response::new)
    }
}

fn user_ref(selector: Option<pb::get_user_request::Selector>) -> Result<UserRef, DomainError> {
    use pb::get_user_request::Selector;
    match selector {
        None => Ok(UserRef::Me),
        Some(Selector::UserId(id)) => Ok(UserRef::Id(UserId::parse(&id, "user_id")?)),
        Some(Selector::Username(name)) => {
            Ok(UserRef::Username(Username::parse(&name).map_err(|v| DomainError::InvalidArgument(vec![v]))?))
        }
    }
}

/// The caller's value for one mask path. Unknown paths read as empty text;
/// the domain reports them as UNKNOWN_FIELD.
fn masked_value<'a>(u: &'a pb::User, path: &str) -> RawValue<'a> {
    let text = match path {
        "full_name" => &u.full_name,
        "email" => &u.email,
        "position" => &u.position,
        "about" => &u.about,
        "location" => &u.location,
        "organization" => &u.organization,
        "phone_number" => &u.phone_number,
        "email_notifications" => return RawValue::Flag(u.email_notifications),
        "databricks_username" => &u.databricks_username,
        "redshift_username" => &u.redshift_username,
        "snowflake_username" => &u.snowflake_username,
        "synapse_username" => &u.synapse_username,
        _ => "",
    };
    RawValue::Text(text)
}

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use steward_domain::DomainError;
use steward_domain::auth::{AuthService, Via};
use steward_domain::id::UserId;
use steward_domain::mfa::MfaService;
use steward_domain::role::{RoleName, RoleService};
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, request_id, timestamp, user};
use crate::pb::{self, auth_service_server::AuthService as Api};

pub struct AuthApi {
    pub auth: Arc<AuthService>,
    pub roles: Arc<RoleService>,
    pub mfa: Arc<MfaService>,
}

#[tonic::async_trait]
impl Api for AuthApi {
    async fn login(&self, req: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let rid = request_id(&req);
        let r = req.into_inner();
        let s =
            self.auth.login(&r.username, SecretString::from(r.password), &r.totp_code, &rid).await.or_status(&rid)?;
        Ok(Response::new(pb::LoginResponse {
            session_token: s.token.expose_secret().to_string(),
            expire_time: Some(timestamp(s.expires_at)),
            password_change_required: s.password_change_required,
            user: Some(user(&s.user)),
        }))
    }

    async fn change_password(
        &self,
        req: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        self.auth
            .change_password(&ctx, SecretString::from(r.current_password), SecretString::from(r.new_password))
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ChangePasswordResponse {}))
    }

    async fn logout(&self, req: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        let ctx = ctx(&req)?;
        self.auth.logout(&ctx).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let ctx = ctx(&req)?;
        let w = self.auth.who_am_i(&ctx).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::WhoAmIResponse {
            user: Some(user(&w.user)),
            active_role: w.principal.role.to_string(),
            permissions: w.principal.permissions.iter().map(|p| p.name().to_string()).collect(),
            credential_kind: match w.principal.via {
                Via::Session(_) => pb::CredentialKind::Session,
                Via::ApiKey(_) => pb::CredentialKind::ApiKey,
            } as i32,
            password_change_required: w.principal.password_change_required,
        }))
    }

    async fn switch_role(
        &self,
        req: Request<pb::SwitchRoleRequest>,
    ) -> Result<Response<pb::SwitchRoleResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let (role, permissions) = async {
            let role = RoleName::parse(&r.role, "role").map_err(|v| DomainError::InvalidArgument(vec![v]))?;
            let permissions = self.roles.switch(&ctx, &role).await?;
            Ok::<_, DomainError>((role, permissions))
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::SwitchRoleResponse { active_role: role.to_string(), permissions: permissions.names() }))
    }

    async fn enroll_mfa(&self, req: Request<pb::EnrollMfaRequest>) -> Result<Response<pb::EnrollMfaResponse>, Status> {
        let ctx = ctx(&req)?;
        let e = self.mfa.enroll(&ctx).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::EnrollMfaResponse {
            secret: e.secret.expose_secret().to_string(),
            otpauth_uri: e.otpauth_uri.expose_secret().to_string(),
        }))
    }

    async fn confirm_mfa(
        &self,
        req: Request<pb::ConfirmMfaRequest>,
    ) -> Result<Response<pb::ConfirmMfaResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        self.mfa.confirm(&ctx, &r.code).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ConfirmMfaResponse {}))
    }

    async fn disable_mfa(
        &self,
        req: Request<pb::DisableMfaRequest>,
    ) -> Result<Response<pb::DisableMfaResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async {
            let user =
                if r.user_id.trim().is_empty() { ctx.principal.user_id } else { UserId::parse(&r.user_id, "user_id")? };
            self.mfa.disable(&ctx, user, &r.code).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DisableMfaResponse {}))
    }
}

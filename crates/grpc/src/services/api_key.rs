use std::sync::Arc;

use secrecy::ExposeSecret;
use steward_domain::DomainError;
use steward_domain::id::{ApiKeyId, ProjectId, UserId};
use steward_domain::key::{ApiKey, ApiKeyService, ApiKeyState, NewKeyRequest};
use steward_domain::page::PageRequest;
use steward_domain::role::RoleName;
use time::OffsetDateTime;
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, api_key_service_server::ApiKeyService as Api};

pub struct ApiKeyApi {
    pub keys: Arc<ApiKeyService>,
}

fn api_key(k: &ApiKey, state: ApiKeyState) -> pb::ApiKey {
    pb::ApiKey {
        api_key_id: k.id.to_string(),
        user_id: k.user_id.to_string(),
        name: k.name.clone(),
        description: k.description.clone(),
        prefix: k.prefix.clone(),
        role: k.role.to_string(),
        project_id: k.project_id.map(|p| p.to_string()).unwrap_or_default(),
        create_time: Some(timestamp(k.created_at)),
        expire_time: k.expires_at.map(timestamp),
        last_used_time: k.last_used_at.map(timestamp),
        state: match state {
            ApiKeyState::Active => pb::ApiKeyState::Active,
            ApiKeyState::Expired => pb::ApiKeyState::Expired,
            ApiKeyState::Revoked => pb::ApiKeyState::Revoked,
        } as i32,
    }
}

fn optional_user(raw: &str) -> Result<Option<UserId>, DomainError> {
    let raw = raw.trim();
    if raw.is_empty() { Ok(None) } else { UserId::parse(raw, "user_id").map(Some) }
}

fn from_timestamp(t: &prost_types::Timestamp, field: &str) -> Result<OffsetDateTime, DomainError> {
    OffsetDateTime::from_unix_timestamp(t.seconds)
        .ok()
        .and_then(|d| d.replace_nanosecond(t.nanos.clamp(0, 999_999_999) as u32 / 1000 * 1000).ok())
        .ok_or_else(|| DomainError::invalid(field, "INVALID_TIMESTAMP", "not a valid point in time"))
}

#[tonic::async_trait]
impl Api for ApiKeyApi {
    async fn create_api_key(
        &self,
        req: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let created = async {
            let project = match r.project_id.trim() {
                "" => None,
                p => Some(ProjectId::parse(p, "project_id")?),
            };
            let role = match r.role.trim() {
                "" => None,
                n => Some(RoleName::parse(n, "role").map_err(|v| DomainError::InvalidArgument(vec![v]))?),
            };
            let expires_at = r.expire_time.as_ref().map(|t| from_timestamp(t, "expire_time")).transpose()?;
            let req = NewKeyRequest {
                owner: optional_user(&r.user_id)?,
                name: r.name,
                description: r.description,
                project,
                expires_at,
                role,
            };
            self.keys.create(&ctx, req).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateApiKeyResponse {
            api_key: Some(api_key(&created.key, self.keys.state_of(&created.key))),
            secret: created.secret.expose_secret().to_string(),
        }))
    }

    async fn list_api_keys(
        &self,
        req: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let page = PageRequest::parse(r.page_size, &r.page_token, "api_keys")?;
            self.keys.list(&ctx, optional_user(&r.user_id)?, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListApiKeysResponse {
            api_keys: page.items.iter().map(|k| api_key(k, self.keys.state_of(k))).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn revoke_api_key(
        &self,
        req: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        async { self.keys.revoke(&ctx, ApiKeyId::parse(&r.api_key_id, "api_key_id")?).await }
            .await
            .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::RevokeApiKeyResponse {}))
    }
}

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use steward_domain::DomainError;
use steward_domain::id::UserId;
use steward_domain::sql::{CreatedSqlCredential, PasswordChoice, SqlCredential, SqlCredentialService, SqlUsername};
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, sql_credential_service_server::SqlCredentialService as Api};

pub struct SqlCredentialApi {
    pub sql: Arc<SqlCredentialService>,
}

pub fn sql_credential(c: &SqlCredential) -> pb::SqlCredential {
    pb::SqlCredential {
        user_id: c.user_id.to_string(),
        sql_username: c.sql_username.to_string(),
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
    }
}

/// An empty password asks for a generated one.
fn password(raw: String) -> PasswordChoice {
    if raw.is_empty() { PasswordChoice::Generate } else { PasswordChoice::Given(SecretString::from(raw)) }
}

/// The credential and the generated password (empty when the caller gave one).
fn created(c: &CreatedSqlCredential) -> (Option<pb::SqlCredential>, String) {
    let password = c.generated_password.as_ref().map(|p| p.expose_secret().to_string()).unwrap_or_default();
    (Some(sql_credential(&c.credential)), password)
}

#[tonic::async_trait]
impl Api for SqlCredentialApi {
    async fn create_sql_credential(
        &self,
        req: Request<pb::CreateSqlCredentialRequest>,
    ) -> Result<Response<pb::CreateSqlCredentialResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let name = if r.sql_username.is_empty() {
                None
            } else {
                Some(
                    SqlUsername::parse(&r.sql_username, "sql_username")
                        .map_err(|v| DomainError::InvalidArgument(vec![v]))?,
                )
            };
            self.sql.create(&ctx, name, password(r.password)).await
        }
        .await
        .or_status(&ctx.request_id)?;
        let (sql_credential, password) = created(&out);
        Ok(Response::new(pb::CreateSqlCredentialResponse { sql_credential, password }))
    }

    async fn get_sql_credential(
        &self,
        req: Request<pb::GetSqlCredentialRequest>,
    ) -> Result<Response<pb::GetSqlCredentialResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = async {
            let user =
                if r.user_id.trim().is_empty() { ctx.principal.user_id } else { UserId::parse(&r.user_id, "user_id")? };
            self.sql.get(&ctx, user).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetSqlCredentialResponse { sql_credential: Some(sql_credential(&out)) }))
    }

    async fn rotate_sql_credential(
        &self,
        req: Request<pb::RotateSqlCredentialRequest>,
    ) -> Result<Response<pb::RotateSqlCredentialResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let out = self.sql.rotate(&ctx, password(r.password)).await.or_status(&ctx.request_id)?;
        let (sql_credential, password) = created(&out);
        Ok(Response::new(pb::RotateSqlCredentialResponse { sql_credential, password }))
    }

    async fn delete_sql_credential(
        &self,
        req: Request<pb::DeleteSqlCredentialRequest>,
    ) -> Result<Response<pb::DeleteSqlCredentialResponse>, Status> {
        let ctx = ctx(&req)?;
        self.sql.delete(&ctx).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::DeleteSqlCredentialResponse {}))
    }

    async fn verify_sql_credential(
        &self,
        req: Request<pb::VerifySqlCredentialRequest>,
    ) -> Result<Response<pb::VerifySqlCredentialResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let password = SecretString::from(r.password);
        let valid = self.sql.verify(&ctx, &r.sql_username, &password).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::VerifySqlCredentialResponse { valid }))
    }
}

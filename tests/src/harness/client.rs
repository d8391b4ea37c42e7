use std::net::SocketAddr;

use steward_grpc::pb::access_service_client::AccessServiceClient;
use steward_grpc::pb::api_key_service_client::ApiKeyServiceClient;
use steward_grpc::pb::audit_service_client::AuditServiceClient;
use steward_grpc::pb::auth_service_client::AuthServiceClient;
use steward_grpc::pb::group_service_client::GroupServiceClient;
use steward_grpc::pb::import_service_client::ImportServiceClient;
use steward_grpc::pb::maintenance_service_client::MaintenanceServiceClient;
use steward_grpc::pb::project_service_client::ProjectServiceClient;
use steward_grpc::pb::resource_service_client::ResourceServiceClient;
use steward_grpc::pb::role_service_client::RoleServiceClient;
use steward_grpc::pb::sql_credential_service_client::SqlCredentialServiceClient;
use steward_grpc::pb::user_service_client::UserServiceClient;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

type Svc = InterceptedService<Channel, Bearer>;

/// Generated clients sharing one channel and one bearer token.
#[derive(Clone)]
pub struct Client {
    pub channel: Channel,
    bearer: Bearer,
}

impl Client {
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Client {
        let channel = Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.expect("connect");
        let bearer = Bearer(token.map(|t| MetadataValue::try_from(format!("Bearer {t}")).expect("ascii token")));
        Client { channel, bearer }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { channel: self.channel.clone(), bearer: Bearer(Some(format!("Bearer {token}").parse().unwrap())) }
    }

    pub fn users(&self) -> UserServiceClient<Svc> {
        UserServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn access(&self) -> AccessServiceClient<Svc> {
        AccessServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn maintenance(&self) -> MaintenanceServiceClient<Svc> {
        MaintenanceServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn imports(&self) -> ImportServiceClient<Svc> {
        ImportServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn auth(&self) -> AuthServiceClient<Svc> {
        AuthServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn roles(&self) -> RoleServiceClient<Svc> {
        RoleServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn api_keys(&self) -> ApiKeyServiceClient<Svc> {
        ApiKeyServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn sql(&self) -> SqlCredentialServiceClient<Svc> {
        SqlCredentialServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn resources(&self) -> ResourceServiceClient<Svc> {
        ResourceServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn projects(&self) -> ProjectServiceClient<Svc> {
        ProjectServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn groups(&self) -> GroupServiceClient<Svc> {
        GroupServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn audit(&self) -> AuditServiceClient<Svc> {
        AuditServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }
}

/// The ErrorInfo reason of a status (and checks the domain is "steward").
pub fn reason(s: &Status) -> String {
    let d = s.get_error_details();
    let info = d.error_info().unwrap_or_else(|| panic!("no ErrorInfo on {s:?}"));
    assert_eq!(info.domain, "steward", "{s:?}");
    info.reason.clone()
}

/// Asserts code and reason of a failed call; returns the status for more checks.
#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(r: Result<T, Status>, code: Code, want_reason: &str) -> Status {
    let s = match r {
        Ok(v) => panic!("expected {code:?}/{want_reason}, got Ok({v:?})"),
        Err(s) => s,
    };
    assert_eq!((s.code(), reason(&s).as_str()), (code, want_reason), "{s:?}");
    s
}

//! Assembles the gRPC server: Steward's services behind the auth layer, health
//! and both reflection versions on the same port, message-size limits, a
//! server-side timeout, and graceful shutdown that first reports NOT_SERVING.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::access::AccessService;
use steward_domain::audit::AuditService;
use steward_domain::auth::AuthService;
use steward_domain::group::GroupService;
use steward_domain::import::ImportService;
use steward_domain::key::ApiKeyService;
use steward_domain::lifecycle::LifecycleService;
use steward_domain::mfa::MfaService;
use steward_domain::ownership::ResourceService;
use steward_domain::project::ProjectService;
use steward_domain::repair::MaintenanceService;
use steward_domain::role::RoleService;
use steward_domain::sql::SqlCredentialService;
use steward_domain::user::UserService;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::auth_layer::AuthLayer;
use crate::pb::access_service_server::AccessServiceServer;
use crate::pb::api_key_service_server::ApiKeyServiceServer;
use crate::pb::audit_service_server::AuditServiceServer;
use crate::pb::auth_service_server::AuthServiceServer;
use crate::pb::group_service_server::GroupServiceServer;
use crate::pb::import_service_server::ImportServiceServer;
use crate::pb::maintenance_service_server::MaintenanceServiceServer;
use crate::pb::project_service_server::ProjectServiceServer;
use crate::pb::resource_service_server::ResourceServiceServer;
use crate::pb::role_service_server::RoleServiceServer;
use crate::pb::sql_credential_service_server::SqlCredentialServiceServer;
use crate::pb::user_service_server::UserServiceServer;
use crate::services::access::AccessApi;
use crate::services::group::GroupApi;
use crate::services::import::ImportApi;
use crate::services::maintenance::MaintenanceApi;
use crate::services::project::ProjectApi;
use crate::services::resource::ResourceApi;
use crate::services::sql_credential::SqlCredentialApi;
use crate::services::{api_key::ApiKeyApi, audit::AuditApi, auth::AuthApi, role::RoleApi, user::UserApi};

/// The use cases the transport delegates to.
#[derive(Clone)]
pub struct Domain {
    pub users: Arc<UserService>,
    pub lifecycle: Arc<LifecycleService>,
    pub auth: Arc<AuthService>,
    pub audit: Arc<AuditService>,
    pub roles: Arc<RoleService>,
    pub mfa: Arc<MfaService>,
    pub keys: Arc<ApiKeyService>,
    pub resources: Arc<ResourceService>,
    pub projects: Arc<ProjectService>,
    pub groups: Arc<GroupService>,
    pub sql: Arc<SqlCredentialService>,
    pub imports: Arc<ImportService>,
    pub access: Arc<AccessService>,
    pub maintenance: Arc<MaintenanceService>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request or response message.
    pub max_message_bytes: usize,
    /// A call still running after this is cancelled with DEADLINE_EXCEEDED.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_message_bytes: 4 * 1024 * 1024, timeout: Duration::from_secs(30) }
    }
}

/// Accepted connections with Nagle's algorithm off: a unary reply is written
/// as a message frame and then a small trailers frame, and with Nagle on the
/// second waits for the client's delayed ACK (~40 ms a call).
fn no_delay(listener: TcpListener) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        if let Ok(stream) = &conn
            && let Err(e) = stream.set_nodelay(true)
        {
            tracing::warn!(error = %e, "could not turn off Nagle's algorithm");
        }
        conn
    })
}

fn name_of<S: NamedService>(_: &S) -> &'static str {
    S::NAME
}

/// Serves until `shutdown` resolves; then health turns NOT_SERVING, new
/// connections are refused and in-flight calls finish.
pub async fn serve(
    listener: TcpListener,
    domain: Domain,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    let max = limits.max_message_bytes;
    // Each Steward service: size limits, a health entry, and a route.
    // Adding a service is one line here (and its field in `Domain`).
    let mut names: Vec<&'static str> = Vec::new();
    macro_rules! mount {
        ($router:expr, $server:ident, $api:expr) => {{
            let service = $server::new($api).max_decoding_message_size(max).max_encoding_message_size(max);
            names.push(name_of(&service));
            $router.add_service(service)
        }};
    }
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(crate::pb::ERROR_DETAILS_DESCRIPTOR_SET)
        .build_v1()
        .expect("the compiled descriptor set is valid");
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(crate::pb::ERROR_DETAILS_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("the compiled descriptor set is valid");

    // HTTP/1.1 too, for the presigned upload URL (curl, browsers, proxies);
    // gRPC clients keep speaking HTTP/2 on the same port.
    let uploads = tonic::service::Routes::from(crate::upload_http::routes(domain.imports.clone()));
    let router = Server::builder()
        .accept_http1(true)
        .timeout(limits.timeout)
        .layer(AuthLayer::new(domain.auth.clone()))
        .add_routes(uploads)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let d = domain;
    let router =
        mount!(router, AuthServiceServer, AuthApi { auth: d.auth.clone(), roles: d.roles.clone(), mfa: d.mfa.clone() });
    let router = mount!(router, UserServiceServer, UserApi { users: d.users.clone(), lifecycle: d.lifecycle.clone() });
    let router = mount!(router, RoleServiceServer, RoleApi { roles: d.roles.clone() });
    let router = mount!(router, ApiKeyServiceServer, ApiKeyApi { keys: d.keys.clone() });
    let router = mount!(router, AuditServiceServer, AuditApi { audit: d.audit.clone() });
    let router = mount!(router, ResourceServiceServer, ResourceApi { resources: d.resources.clone() });
    let router = mount!(router, ProjectServiceServer, ProjectApi { projects: d.projects.clone() });
    let router = mount!(router, GroupServiceServer, GroupApi { groups: d.groups.clone() });
    let router = mount!(router, SqlCredentialServiceServer, SqlCredentialApi { sql: d.sql.clone() });
    let router = mount!(router, ImportServiceServer, ImportApi { imports: d.imports.clone() });
    let router = mount!(router, AccessServiceServer, AccessApi { access: d.access.clone() });
    let router = mount!(router, MaintenanceServiceServer, MaintenanceApi { maintenance: d.maintenance.clone() });

    for name in &names {
        health.set_service_status(*name, ServingStatus::Serving).await;
    }
    let drain = async move {
        shutdown.await;
        health.set_service_status("", ServingStatus::NotServing).await;
        for name in names {
            health.set_service_status(name, ServingStatus::NotServing).await;
        }
        tracing::info!("shutting down: health NOT_SERVING, draining in-flight calls");
    };

    router.serve_with_incoming_shutdown(no_delay(listener), drain).await
}

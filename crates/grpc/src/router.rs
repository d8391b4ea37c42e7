//! Assembles the gRPC server: Steward's services behind the auth layer, health
//! and both reflection versions on the same port, message-size limits, a
//! server-side timeout, and graceful shutdown that first reports NOT_SERVING.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::audit::AuditService;
use steward_domain::auth::AuthService;
use steward_domain::mfa::MfaService;
use steward_domain::role::RoleService;
use steward_domain::user::UserService;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::auth_layer::AuthLayer;
use crate::pb::audit_service_server::AuditServiceServer;
use crate::pb::auth_service_server::AuthServiceServer;
use crate::pb::role_service_server::RoleServiceServer;
use crate::pb::user_service_server::UserServiceServer;
use crate::services::{audit::AuditApi, auth::AuthApi, role::RoleApi, user::UserApi};

/// The use cases the transport delegates to.
#[derive(Clone)]
pub struct Domain {
    pub users: Arc<UserService>,
    pub auth: Arc<AuthService>,
    pub audit: Arc<AuditService>,
    pub roles: Arc<RoleService>,
    pub mfa: Arc<MfaService>,
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
    let users = UserServiceServer::new(UserApi { users: domain.users.clone() })
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let auth = AuthServiceServer::new(AuthApi {
        auth: domain.auth.clone(),
        roles: domain.roles.clone(),
        mfa: domain.mfa.clone(),
    })
    .max_decoding_message_size(max)
    .max_encoding_message_size(max);
    let audit = AuditServiceServer::new(AuditApi { audit: domain.audit.clone() })
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let roles = RoleServiceServer::new(RoleApi { roles: domain.roles.clone() })
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    health.set_serving::<UserServiceServer<UserApi>>().await;
    health.set_serving::<AuthServiceServer<AuthApi>>().await;
    health.set_serving::<AuditServiceServer<AuditApi>>().await;
    health.set_serving::<RoleServiceServer<RoleApi>>().await;

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

    let drain = async move {
        shutdown.await;
        health.set_service_status("", ServingStatus::NotServing).await;
        health.set_not_serving::<UserServiceServer<UserApi>>().await;
        health.set_not_serving::<AuthServiceServer<AuthApi>>().await;
        health.set_not_serving::<AuditServiceServer<AuditApi>>().await;
        health.set_not_serving::<RoleServiceServer<RoleApi>>().await;
        tracing::info!("shutting down: health NOT_SERVING, draining in-flight calls");
    };

    Server::builder()
        .timeout(limits.timeout)
        .layer(AuthLayer::new(domain.auth.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(auth)
        .add_service(users)
        .add_service(audit)
        .add_service(roles)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), drain)
        .await
}

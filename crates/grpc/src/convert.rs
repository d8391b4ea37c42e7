//! Domain → wire conversions shared by the services. Wire → domain parsing
//! lives next to each handler, where a failure becomes a field violation.

use steward_domain::audit::AuditEvent;
use steward_domain::user::{User, UserKind, UserStatus};
use time::OffsetDateTime;
use tonic::{Request, Status};

use crate::error::{to_status, transport_status};
use crate::pb;
use crate::request_id::RequestId;
use steward_domain::DomainError;
use steward_domain::auth::Ctx;

pub fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 }
}

pub fn user_status(s: UserStatus) -> pb::UserStatus {
    match s {
        UserStatus::Active => pb::UserStatus::Active,
        UserStatus::Suspended => pb::UserStatus::Suspended,
        UserStatus::Deleted => pb::UserStatus::Deleted,
    }
}

pub fn user(u: &User) -> pb::User {
    let platform =
        |p: Option<&steward_domain::user::PlatformUsername>| p.map(|x| x.as_str().to_string()).unwrap_or_default();
    pb::User {
        user_id: u.id.to_string(),
        username: u.username.to_string(),
        email: u.email.to_string(),
        full_name: u.full_name.to_string(),
        position: u.profile.position.clone(),
        about: u.profile.about.clone(),
        location: u.profile.location.clone(),
        organization: u.profile.organization.clone(),
        phone_number: u.profile.phone_number.clone(),
        email_notifications: u.email_notifications,
        databricks_username: platform(u.platform.databricks.as_ref()),
        redshift_username: platform(u.platform.redshift.as_ref()),
        snowflake_username: platform(u.platform.snowflake.as_ref()),
        synapse_username: platform(u.platform.synapse.as_ref()),
        status: user_status(u.status) as i32,
        kind: match u.kind {
            UserKind::Human => pb::UserKind::Human,
            UserKind::Service => pb::UserKind::Service,
        } as i32,
        default_role: u.default_role.to_string(),
        mfa_status: if u.mfa_enabled { pb::MfaStatus::Enabled } else { pb::MfaStatus::Disabled } as i32,
        create_time: Some(timestamp(u.created_at)),
        update_time: Some(timestamp(u.updated_at)),
        etag: u.etag(),
    }
}

pub fn audit_event(e: &AuditEvent) -> pb::AuditEvent {
    pb::AuditEvent {
        audit_event_id: e.id.to_string(),
        create_time: Some(timestamp(e.at)),
        actor_id: e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
        actor: e.actor.clone(),
        action: e.action.clone(),
        target: e.target.clone(),
        request_id: e.request_id.clone(),
        detail: e.detail.clone(),
    }
}

/// The authenticated caller, as the auth layer left it.
pub fn ctx<T>(req: &Request<T>) -> Result<Ctx, Status> {
    req.extensions().get::<Ctx>().cloned().ok_or_else(|| {
        // Only reachable if a route was mounted outside the auth layer.
        transport_status(tonic::Code::Unauthenticated, "UNAUTHENTICATED", "authentication required", &request_id(req))
    })
}

pub fn request_id<T>(req: &Request<T>) -> String {
    req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default()
}

/// Ends a handler: a domain error becomes its status, with the request id.
pub trait IntoStatus<T> {
    fn or_status(self, ctx_request_id: &str) -> Result<T, Status>;
}

impl<T> IntoStatus<T> for Result<T, DomainError> {
    fn or_status(self, request_id: &str) -> Result<T, Status> {
        self.map_err(|e| to_status(e, request_id))
    }
}

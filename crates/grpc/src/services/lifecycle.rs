//! The lifecycle half of UserService (suspend, reactivate, plan and carry out
//! a deletion): request parsing and plan conversion. The trait methods in
//! [`super::user`] call these.

use steward_domain::DomainError;
use steward_domain::id::UserId;
use steward_domain::lifecycle::{DeletionPlan, Disposition, Holding, LifecycleService, SuspensionReason};
use steward_domain::user::{UserRef, Username};
use tonic::Status;

use crate::convert::{IntoStatus, user};
use crate::pb;
use crate::services::resource::kind_to_pb;
use steward_domain::auth::Ctx;

/// A selector as a user reference; `None` when empty.
fn selector(s: Option<pb::UserSelector>, field: &str) -> Result<Option<UserRef>, DomainError> {
    use pb::user_selector::Selector;
    match s.and_then(|s| s.selector) {
        None => Ok(None),
        Some(Selector::UserId(id)) if id.trim().is_empty() => Ok(None),
        Some(Selector::Username(n)) if n.trim().is_empty() => Ok(None),
        Some(Selector::UserId(id)) => Ok(Some(UserRef::Id(UserId::parse(&id, &format!("{field}.user_id"))?))),
        Some(Selector::Username(n)) => Ok(Some(UserRef::Username(
            Username::parse(&n).map_err(|v| DomainError::InvalidArgument(vec![v.at(format!("{field}.username"))]))?,
        ))),
    }
}

/// The user a request is about: required (an empty selector is `Me`, which
/// the lifecycle use cases refuse as USER_REQUIRED after the permission check).
fn subject(s: Option<pb::UserSelector>) -> Result<UserRef, DomainError> {
    Ok(selector(s, "user")?.unwrap_or(UserRef::Me))
}

pub async fn suspend(
    lifecycle: &LifecycleService,
    ctx: &Ctx,
    r: pb::SuspendUserRequest,
) -> Result<pb::SuspendUserResponse, Status> {
    async {
        let who = subject(r.user)?;
        let reason = SuspensionReason::parse(&r.reason, "reason").map_err(|v| DomainError::InvalidArgument(vec![v]))?;
        let until = r
            .end_time
            .map(|t| {
                time::OffsetDateTime::from_unix_timestamp(t.seconds)
                    .ok()
                    .and_then(|s| s.checked_add(time::Duration::nanoseconds(i64::from(t.nanos.clamp(0, 999_999_999)))))
                    .ok_or_else(|| DomainError::invalid("end_time", "INVALID_TIME", "out of range"))
            })
            .transpose()?;
        lifecycle.suspend(ctx, who, reason, until).await
    }
    .await
    .map(|s| pb::SuspendUserResponse { user: Some(user(&s.user)), owned_resources: s.owned_resources as i64 })
    .or_status(&ctx.request_id)
}

pub async fn reactivate(
    lifecycle: &LifecycleService,
    ctx: &Ctx,
    r: pb::ReactivateUserRequest,
) -> Result<pb::ReactivateUserResponse, Status> {
    async { lifecycle.reactivate(ctx, subject(r.user)?).await }
        .await
        .map(|u| pb::ReactivateUserResponse { user: Some(user(&u)) })
        .or_status(&ctx.request_id)
}

pub async fn plan(
    lifecycle: &LifecycleService,
    ctx: &Ctx,
    r: pb::PlanUserDeletionRequest,
) -> Result<pb::PlanUserDeletionResponse, Status> {
    async { lifecycle.plan(ctx, subject(r.user)?, selector(r.new_owner, "new_owner")?).await }
        .await
        .map(|p| pb::PlanUserDeletionResponse { plan: Some(plan_to_pb(&p)) })
        .or_status(&ctx.request_id)
}

pub async fn delete(
    lifecycle: &LifecycleService,
    ctx: &Ctx,
    r: pb::DeleteUserRequest,
) -> Result<pb::DeleteUserResponse, Status> {
    async { lifecycle.delete(ctx, subject(r.user)?, selector(r.new_owner, "new_owner")?, &r.plan_etag).await }
        .await
        .map(|(p, u)| pb::DeleteUserResponse { plan: Some(plan_to_pb(&p)), user: Some(user(&u)) })
        .or_status(&ctx.request_id)
}

fn plan_to_pb(p: &DeletionPlan) -> pb::DeletionPlan {
    pb::DeletionPlan {
        user_id: p.user.to_string(),
        new_owner_id: p.new_owner.map(|o| o.to_string()).unwrap_or_default(),
        lines: p
            .lines
            .iter()
            .map(|l| {
                let (holding, kind) = match l.holding {
                    Holding::Resource(k) => (pb::Holding::Resource, kind_to_pb(k)),
                    Holding::DatasetReadAccess => (pb::Holding::DatasetReadAccess, pb::ResourceKind::Dataset),
                    Holding::Project => (pb::Holding::Project, pb::ResourceKind::Unspecified),
                    Holding::ApiKey => (pb::Holding::ApiKey, pb::ResourceKind::Unspecified),
                    Holding::Session => (pb::Holding::Session, pb::ResourceKind::Unspecified),
                    Holding::SqlCredential => (pb::Holding::SqlCredential, pb::ResourceKind::Unspecified),
                    Holding::ProjectMembership => (pb::Holding::ProjectMembership, pb::ResourceKind::Unspecified),
                    Holding::RoleAssignment => (pb::Holding::RoleAssignment, pb::ResourceKind::Unspecified),
                    Holding::PersonalGroup => (pb::Holding::PersonalGroup, pb::ResourceKind::Group),
                    Holding::GroupMembership => (pb::Holding::GroupMembership, pb::ResourceKind::Unspecified),
                };
                pb::PlanLine {
                    holding: holding as i32,
                    resource_kind: kind as i32,
                    count: l.count as i64,
                    disposition: disposition(l.disposition) as i32,
                }
            })
            .collect(),
        etag: p.etag.clone(),
    }
}

fn disposition(d: Disposition) -> pb::Disposition {
    match d {
        Disposition::Transfer => pb::Disposition::Transfer,
        Disposition::DisableThenTransfer => pb::Disposition::DisableThenTransfer,
        Disposition::Revoke => pb::Disposition::Revoke,
        Disposition::Delete => pb::Disposition::Delete,
        Disposition::Remove => pb::Disposition::Remove,
    }
}

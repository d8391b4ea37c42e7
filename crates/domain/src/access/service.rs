//! Asking for access, deciding, withdrawing, and the requests tab.

use std::sync::Arc;

use super::{
    AccessRequest, AccessRequestStore, CreateAccessRequest, RequestFilter, RequestScope, RequestState, RequestView,
    Target, grant_end,
};
use crate::audit::AuditEvent;
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::{AccessRequestId, UserId};
use crate::keyring::Keyring;
use crate::notify::Message;
use crate::ownership::{ResourceStore, Visibility, is_live, resource_not_found, unscoped};
use crate::page::{Page, PageRequest};
use crate::project::ProjectStore;
use crate::role::Permission;
use crate::user::{User, UserStore};

pub const ACCESS_REQUESTS_PAGE: &str = "access_requests";

/// An approval or a denial.
#[derive(Debug, Clone)]
pub enum Decision {
    /// With an optional duration shorter than the one asked for.
    Approve {
        duration: Option<time::Duration>,
    },
    Deny {
        reason: String,
    },
}

/// The target as the rules need it: who owns it, what it is called, and
/// (for a project) who its members are.
struct TargetFacts {
    owner: UserId,
    name: String,
    members: Vec<UserId>,
}

pub struct AccessService {
    requests: Arc<dyn AccessRequestStore>,
    resources: Arc<dyn ResourceStore>,
    projects: Arc<dyn ProjectStore>,
    users: Arc<dyn UserStore>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

impl AccessService {
    pub fn new(
        requests: Arc<dyn AccessRequestStore>,
        resources: Arc<dyn ResourceStore>,
        projects: Arc<dyn ProjectStore>,
        users: Arc<dyn UserStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { requests, resources, projects, users, keyring, clock }
    }

    /// Any user, for a data source or a project that exists, that they do
    /// not already have, and with no pending request of theirs for it. The
    /// target's owner is told (if they opted in to emails).
    pub async fn create(&self, ctx: &Ctx, req: CreateAccessRequest) -> Result<AccessRequest, DomainError> {
        unscoped(ctx, Permission::AccessDecideAny)?;
        let me = ctx.principal.user_id;
        let facts = self.target(req.target).await?;
        if self.already_has(ctx, req.target, &facts).await? {
            return Err(DomainError::AlreadyExists {
                resource: "access",
                name: req.target.label(),
                reason: "ALREADY_HAS_ACCESS",
            });
        }
        let now = self.clock.now();
        let request = AccessRequest {
            id: AccessRequestId::new(),
            requester: me,
            target: req.target,
            justification: req.justification,
            requested_duration: req.duration,
            state: RequestState::Pending,
            decided_by: None,
            decision_reason: String::new(),
            granted_until: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let detail = format!(
            "target={} duration={}",
            request.target.label(),
            request.requested_duration.map_or("none".to_string(), |d| format!("{}s", d.whole_seconds()))
        );
        let mut effects = Effects::audit(AuditEvent::by(ctx, now, "access_request.create", target(&request), detail));
        if let Some(owner) = self.notifiable(facts.owner).await? {
            let requester = self.users.get_user(me).await?;
            let email = Message::AccessRequested {
                decider: &owner,
                requester: &requester,
                target: &facts.name,
                justification: request.justification.as_str(),
                request_id: request.id,
            }
            .compose(&self.keyring, now)?;
            effects = effects.with_email(email);
        }
        match self.requests.insert_access_request(&request, effects).await {
            Ok(()) => Ok(request),
            Err(StoreError::Conflict { .. }) => Err(DomainError::AlreadyExists {
                resource: "access request",
                name: request.target.label(),
                reason: "REQUEST_ALREADY_PENDING",
            }),
            Err(StoreError::NotFound) => Err(target_not_found(request.target)),
            Err(e) => Err(e.into()),
        }
    }

    /// The requester, the target's owner, or `access.decide_any`; anyone
    /// else gets NOT_FOUND.
    pub async fn get(&self, ctx: &Ctx, id: AccessRequestId) -> Result<AccessRequest, DomainError> {
        Ok(self.visible(ctx, id).await?.0)
    }

    /// The requests tab: the caller's own, those awaiting their decision,
    /// or (with `access.decide_any`) all.
    pub async fn list(
        &self,
        ctx: &Ctx,
        view: RequestView,
        filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<AccessRequest>, DomainError> {
        unscoped(ctx, Permission::AccessDecideAny)?;
        let me = ctx.principal.user_id;
        let any = ctx.principal.permissions.has(Permission::AccessDecideAny);
        let scope = match view {
            RequestView::Mine => RequestScope::Requester(me),
            RequestView::AwaitingMyDecision => {
                if filter.state.is_some_and(|s| s != RequestState::Pending) {
                    return Err(DomainError::invalid(
                        "state",
                        "ONLY_PENDING_AWAIT_DECISION",
                        "the awaiting-my-decision view holds pending requests only",
                    ));
                }
                RequestScope::Decider { user: me, any }
            }
            RequestView::All => {
                ctx.require(Permission::AccessDecideAny)?;
                RequestScope::Everything
            }
        };
        let fetch = PageRequest { size: page.size + 1, ..page };
        let rows = self.requests.list_access_requests(scope, &filter, fetch).await?;
        Ok(Page::from_rows(rows, page, ACCESS_REQUESTS_PAGE, |r| r.id.as_uuid()))
    }

    /// The target's owner or `access.decide_any`, never on one's own
    /// request, only while it is pending. With `etag`, a request changed
    /// since is ABORTED; of two deciders racing, exactly one wins and the
    /// other gets ABORTED. An approval grants until the requested duration
    /// (or a shorter one given here); the requester is told.
    pub async fn decide(
        &self,
        ctx: &Ctx,
        id: AccessRequestId,
        decision: Decision,
        etag: Option<&str>,
    ) -> Result<AccessRequest, DomainError> {
        // Visible to the requester, the owner and decide_any: all but the
        // requester may decide.
        let (request, facts) = self.visible(ctx, id).await?;
        if ctx.is(request.requester) {
            return Err(DomainError::denied("access.decide (never on one's own request)"));
        }
        check_etag(&request, etag)?;
        still_pending(&request)?;
        let now = self.clock.now();
        let mut closed = AccessRequest {
            decided_by: Some(ctx.principal.user_id),
            updated_at: now,
            version: request.version + 1,
            ..request.clone()
        };
        let action = match &decision {
            Decision::Approve { duration } => {
                closed.state = RequestState::Approved;
                closed.granted_until = grant_end(request.requested_duration, *duration, now)?;
                "access_request.approve"
            }
            Decision::Deny { reason } => {
                closed.state = RequestState::Denied;
                closed.decision_reason = reason.clone();
                "access_request.deny"
            }
        };
        let detail = match closed.granted_until {
            Some(t) => format!("target={} until={t}", closed.target.label()),
            None => format!("target={}", closed.target.label()),
        };
        let mut effects = Effects::audit(AuditEvent::by(ctx, now, action, target(&closed), detail));
        if let Some(requester) = self.notifiable(closed.requester).await? {
            let email = Message::AccessDecided {
                requester: &requester,
                target: &facts.name,
                approved: closed.state == RequestState::Approved,
                reason: &closed.decision_reason,
                until: closed.granted_until,
            }
            .compose(&self.keyring, now)?;
            effects = effects.with_email(email);
        }
        self.close(closed, request.version, effects).await
    }

    /// The requester, while it is pending.
    pub async fn withdraw(
        &self,
        ctx: &Ctx,
        id: AccessRequestId,
        etag: Option<&str>,
    ) -> Result<AccessRequest, DomainError> {
        // Someone else's request: NOT_FOUND to anyone who may not see it,
        // PERMISSION_DENIED to a decider.
        let (request, _) = self.visible(ctx, id).await?;
        if !ctx.is(request.requester) {
            return Err(DomainError::denied("the requester only"));
        }
        check_etag(&request, etag)?;
        still_pending(&request)?;
        let now = self.clock.now();
        let closed = AccessRequest {
            state: RequestState::Withdrawn,
            decided_by: Some(ctx.principal.user_id),
            updated_at: now,
            version: request.version + 1,
            ..request.clone()
        };
        let audit = AuditEvent::by(
            ctx,
            now,
            "access_request.withdraw",
            target(&closed),
            format!("target={}", closed.target.label()),
        );
        self.close(closed, request.version, Effects::audit(audit)).await
    }

    /// The request and its target, if the caller may see it: its
    /// requester, the target's owner, or `access.decide_any`.
    async fn visible(&self, ctx: &Ctx, id: AccessRequestId) -> Result<(AccessRequest, TargetFacts), DomainError> {
        unscoped(ctx, Permission::AccessDecideAny)?;
        let request = self.requests.get_access_request(id).await?.ok_or_else(|| not_found(id))?;
        let facts = match self.target(request.target).await {
            Ok(facts) => facts,
            Err(DomainError::NotFound { .. }) => return Err(not_found(id)),
            Err(e) => return Err(e),
        };
        let may_see = ctx.is(request.requester)
            || ctx.is(facts.owner)
            || ctx.principal.permissions.has(Permission::AccessDecideAny);
        if may_see { Ok((request, facts)) } else { Err(not_found(id)) }
    }

    async fn close(
        &self,
        closed: AccessRequest,
        expected: i64,
        effects: Effects,
    ) -> Result<AccessRequest, DomainError> {
        match self.requests.close_access_request(&closed, expected, effects).await {
            Ok(()) => Ok(closed),
            Err(StoreError::Stale) => Err(DomainError::Aborted {
                reason: "REQUEST_CHANGED",
                description: "the request was decided or withdrawn meanwhile; read it again".into(),
            }),
            Err(StoreError::NotFound) => Err(target_not_found(closed.target)),
            Err(e) => Err(e.into()),
        }
    }

    /// The target's owner and name; NOT_FOUND for a target that does not
    /// exist, INVALID_ARGUMENT for a resource that is not a data source.
    async fn target(&self, target: Target) -> Result<TargetFacts, DomainError> {
        match target {
            Target::DataSource(id) => {
                let r = self
                    .resources
                    .get_resource(id, &Visibility::Everything)
                    .await?
                    .ok_or_else(|| resource_not_found(id))?;
                if !r.kind.is_data_source() {
                    return Err(DomainError::invalid(
                        "data_source_id",
                        "NOT_A_DATA_SOURCE",
                        format!("a {} is not a data source; ask for a dataset or a view", r.kind.wire_name()),
                    ));
                }
                // Data sources are transferable kinds: they always have an owner.
                let owner = r.owner.ok_or_else(|| DomainError::Internal(format!("data source {id} has no owner")))?;
                Ok(TargetFacts { owner, name: format!("{} {}", r.kind.as_str(), r.display_name), members: vec![] })
            }
            Target::Project(id) => {
                let p = self
                    .projects
                    .get_project(id, &Visibility::Everything)
                    .await?
                    .ok_or_else(|| DomainError::not_found("project", id.to_string()))?;
                Ok(TargetFacts { owner: p.owner, name: format!("project {}", p.name), members: p.members })
            }
        }
    }

    /// Whether the caller can already read the data source (owner, holder,
    /// through a project, or `resources.read_all`) or is in the project.
    async fn already_has(&self, ctx: &Ctx, target: Target, facts: &TargetFacts) -> Result<bool, DomainError> {
        if ctx.is(facts.owner) {
            return Ok(true);
        }
        Ok(match target {
            Target::DataSource(id) => self.resources.get_resource(id, &Visibility::resources(ctx)).await?.is_some(),
            Target::Project(_) => facts.members.contains(&ctx.principal.user_id),
        })
    }

    /// The user, if they are active and opted in to emails.
    async fn notifiable(&self, id: UserId) -> Result<Option<User>, DomainError> {
        match self.users.get_user(id).await {
            Ok(u) if is_live(u.status) && u.email_notifications => Ok(Some(u)),
            Ok(_) | Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn check_etag(request: &AccessRequest, etag: Option<&str>) -> Result<(), DomainError> {
    match etag {
        Some(e) if e != request.etag() => Err(DomainError::Aborted {
            reason: "STALE_ETAG",
            description: format!("the request changed since it was read (now {})", request.state.as_str()),
        }),
        _ => Ok(()),
    }
}

fn still_pending(request: &AccessRequest) -> Result<(), DomainError> {
    if request.state == RequestState::Pending {
        return Ok(());
    }
    Err(DomainError::precondition(
        "REQUEST_NOT_PENDING",
        target(request),
        format!("the request is already {}", request.state.as_str()),
    ))
}

pub fn target(request: &AccessRequest) -> String {
    format!("access_request/{}", request.id)
}

fn not_found(id: AccessRequestId) -> DomainError {
    DomainError::not_found("access request", id.to_string())
}

fn target_not_found(target: Target) -> DomainError {
    match target {
        Target::DataSource(id) => resource_not_found(id),
        Target::Project(id) => DomainError::not_found("project", id.to_string()),
    }
}

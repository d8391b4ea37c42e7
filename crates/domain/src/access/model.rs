//! Access requests: a user asks for read-only access to a data source or to
//! join a project; the target's owner (or `access.decide_any`) decides.

use time::{Duration, OffsetDateTime};

use crate::error::{DomainError, FieldViolation};
use crate::id::{AccessRequestId, ProjectId, ResourceId, UserId};
use crate::text::clean;

/// What is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Read-only access to a dataset or a view (as a read-only holder).
    DataSource(ResourceId),
    /// Membership of a project.
    Project(ProjectId),
}

impl Target {
    pub fn id(self) -> uuid::Uuid {
        match self {
            Self::DataSource(r) => r.as_uuid(),
            Self::Project(p) => p.as_uuid(),
        }
    }

    /// How audit events and emails name it.
    pub fn label(self) -> String {
        match self {
            Self::DataSource(r) => format!("resource/{r}"),
            Self::Project(p) => format!("project/{p}"),
        }
    }
}

/// Why the system withdrew a request when a user was deleted (the
/// deletion's store transaction writes them).
pub const WITHDRAWN_REQUESTER_DELETED: &str = "the requester was deleted";
pub const WITHDRAWN_TARGET_RECEIVED: &str = "the requester received the target when its owner was deleted";

/// A request moves out of `Pending` once, and never back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    Pending,
    Approved,
    Denied,
    Withdrawn,
}

impl RequestState {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Approved, Self::Denied, Self::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }
}

/// One request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    pub id: AccessRequestId,
    pub requester: UserId,
    pub target: Target,
    pub justification: Justification,
    /// How long the requester asked for; `None`: without end.
    pub requested_duration: Option<Duration>,
    pub state: RequestState,
    /// Who approved or denied it (the requester for a withdrawal; nobody
    /// when the system withdrew it, e.g. because the requester was deleted).
    pub decided_by: Option<UserId>,
    /// A denial's reason, or why the system withdrew it.
    pub decision_reason: String,
    /// An approved request's grant ends here; `None`: without end.
    pub granted_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl AccessRequest {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// Why the requester needs it: 1–1000 characters, line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Justification(String);

impl Justification {
    pub const MAX: usize = 1000;

    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = clean(field, raw, Self::MAX, true)?;
        if s.is_empty() {
            return Err(FieldViolation::new(field, "JUSTIFICATION_REQUIRED", "say why the access is needed"));
        }
        Ok(Self(s))
    }

    /// A stored value, trusted.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A denial's reason: required, 1–1000 characters.
pub fn denial_reason(raw: &str, field: &str) -> Result<String, FieldViolation> {
    let s = clean(field, raw, Justification::MAX, true)?;
    if s.is_empty() {
        return Err(FieldViolation::new(field, "REASON_REQUIRED", "say why the request is denied"));
    }
    Ok(s)
}

/// The longest access one request may ask for or be granted.
pub const MAX_DURATION: Duration = Duration::days(366);

/// A requested or granted duration: `None` when unset (zero), else
/// positive, whole seconds, at most [`MAX_DURATION`].
pub fn duration(seconds: i64, nanos: i32, field: &str) -> Result<Option<Duration>, FieldViolation> {
    if seconds == 0 && nanos == 0 {
        return Ok(None);
    }
    if seconds < 0 || nanos < 0 {
        return Err(FieldViolation::new(field, "NEGATIVE_DURATION", "must be positive"));
    }
    if nanos != 0 {
        return Err(FieldViolation::new(field, "INVALID_DURATION", "must be whole seconds"));
    }
    let d = Duration::seconds(seconds);
    if d > MAX_DURATION {
        return Err(FieldViolation::new(field, "DURATION_TOO_LONG", "must be at most 366 days"));
    }
    Ok(Some(d))
}

/// A validated CreateAccessRequest.
#[derive(Debug, Clone)]
pub struct CreateAccessRequest {
    pub target: Target,
    pub justification: Justification,
    pub duration: Option<Duration>,
}

/// Which requests a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestView {
    /// The caller's own, in any state.
    Mine,
    /// Pending requests the caller may decide (never their own).
    AwaitingMyDecision,
    /// Every request (`access.decide_any`).
    All,
}

/// What the store lists: the view resolved against the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestScope {
    Requester(UserId),
    /// Pending, not `user`'s own, and on a target `user` owns — or on any
    /// target when `any` (`access.decide_any`).
    Decider {
        user: UserId,
        any: bool,
    },
    Everything,
}

/// Listing filters, combined with AND.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub state: Option<RequestState>,
    pub target: Option<Target>,
}

/// An approval: the grant's end (if any) decided from the request and the
/// approver's optional shorter duration.
pub fn grant_end(
    requested: Option<Duration>,
    approved: Option<Duration>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, DomainError> {
    match (requested, approved) {
        (Some(r), Some(a)) if a > r => Err(DomainError::invalid(
            "duration",
            "DURATION_LONGER_THAN_REQUESTED",
            format!("the request asked for {}s; an approval may shorten it, not extend it", r.whole_seconds()),
        )),
        (_, Some(a)) => Ok(Some(now + a)),
        (Some(r), None) => Ok(Some(now + r)),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn durations() {
        assert_eq!(duration(0, 0, "d").unwrap(), None);
        assert_eq!(duration(60, 0, "d").unwrap(), Some(Duration::minutes(1)));
        assert_eq!(duration(-1, 0, "d").unwrap_err().reason, "NEGATIVE_DURATION");
        assert_eq!(duration(0, -5, "d").unwrap_err().reason, "NEGATIVE_DURATION");
        assert_eq!(duration(1, 5, "d").unwrap_err().reason, "INVALID_DURATION");
        assert_eq!(duration(367 * 86_400, 0, "d").unwrap_err().reason, "DURATION_TOO_LONG");
    }

    #[test]
    fn an_approval_may_shorten_never_extend() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let day = Duration::days(1);
        assert_eq!(grant_end(Some(day), None, now).unwrap(), Some(now + day));
        assert_eq!(grant_end(Some(day), Some(Duration::hours(1)), now).unwrap(), Some(now + Duration::hours(1)));
        assert_eq!(grant_end(None, Some(day), now).unwrap(), Some(now + day));
        assert_eq!(grant_end(None, None, now).unwrap(), None);
        assert_eq!(
            grant_end(Some(Duration::hours(1)), Some(day), now).unwrap_err().reason(),
            "DURATION_LONGER_THAN_REQUESTED"
        );
    }

    #[test]
    fn justifications() {
        assert_eq!(Justification::parse("  need it\nfor Q3 ", "j").unwrap().as_str(), "need it\nfor Q3");
        assert_eq!(Justification::parse("   ", "j").unwrap_err().reason, "JUSTIFICATION_REQUIRED");
        assert_eq!(Justification::parse(&"x".repeat(1001), "j").unwrap_err().reason, "TOO_LONG");
        assert_eq!(denial_reason("", "reason").unwrap_err().reason, "REASON_REQUIRED");
    }
}

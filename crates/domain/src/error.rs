//! The domain's error: what went wrong, in the product's terms.
//!
//! The transport maps each variant to one gRPC code with `google.rpc` details;
//! the `reason` strings are part of the public contract (UPPER_SNAKE, stable).

use std::fmt;

/// One bad field of a request: which field, a stable reason, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub reason: &'static str,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, reason: &'static str, description: impl Into<String>) -> Self {
        Self { field: field.into(), reason, description: description.into() }
    }

    /// The same violation, reported under another field name (e.g. `user.email`).
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The request is malformed; nothing was changed.
    #[error("invalid argument: {}", join(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The target does not exist, or the caller may not know that it does.
    #[error("{resource} not found")]
    NotFound { resource: &'static str, name: String },
    /// A unique property is taken.
    #[error("{resource} already exists")]
    AlreadyExists { resource: &'static str, name: String, reason: &'static str },
    /// No, bad or expired credentials. One message for every case on purpose.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller is known but lacks the named permission.
    #[error("permission denied: requires {permission}")]
    PermissionDenied { permission: &'static str },
    /// The target is in the wrong state for this operation.
    #[error("{description}")]
    FailedPrecondition { reason: &'static str, subject: String, description: String },
    /// A conditional change lost: stale etag or a concurrent writer.
    #[error("{description}")]
    Aborted { reason: &'static str, description: String },
    /// Too many attempts, too large, too many at once.
    #[error("{description}")]
    ResourceExhausted { reason: &'static str, description: String },
    /// A dependency (database, mail transport) cannot be reached right now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the detail is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

fn join(v: &[FieldViolation]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, reason: &'static str, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, reason, description)])
    }

    pub fn not_found(resource: &'static str, name: impl Into<String>) -> Self {
        Self::NotFound { resource, name: name.into() }
    }

    pub fn denied(permission: &'static str) -> Self {
        Self::PermissionDenied { permission }
    }

    pub fn precondition(reason: &'static str, subject: impl Into<String>, description: impl Into<String>) -> Self {
        Self::FailedPrecondition { reason, subject: subject.into(), description: description.into() }
    }

    /// The stable UPPER_SNAKE reason reported in `google.rpc.ErrorInfo`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidArgument(v) => v.first().map_or("INVALID_ARGUMENT", |f| f.reason),
            Self::NotFound { .. } => "NOT_FOUND",
            Self::AlreadyExists { reason, .. } => reason,
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::PermissionDenied { .. } => "PERMISSION_DENIED",
            Self::FailedPrecondition { reason, .. } => reason,
            Self::Aborted { reason, .. } => reason,
            Self::ResourceExhausted { reason, .. } => reason,
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

/// What a storage port can report. Adapters translate their technology's
/// errors at the lowest point (a unique violation becomes `Conflict`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `key` names what collided
    /// (`username`, `email`, ...).
    #[error("conflict on {key}")]
    Conflict { key: &'static str },
    /// A conditional write found another version than expected.
    #[error("stale version")]
    Stale,
    /// The store refused to break an invariant the caller asked it to guard
    /// inside the transaction (e.g. `LAST_ADMIN`, `ROLE_IN_USE`).
    #[error("refused: {reason}")]
    Refused { reason: &'static str },
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage failure: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => DomainError::not_found("resource", ""),
            StoreError::Conflict { key } => {
                DomainError::AlreadyExists { resource: "resource", name: key.to_string(), reason: "ALREADY_EXISTS" }
            }
            StoreError::Stale => DomainError::Aborted {
                reason: "ETAG_MISMATCH",
                description: "the resource changed since it was read".into(),
            },
            StoreError::Refused { reason } => {
                DomainError::precondition(reason, "", "the change would break an invariant")
            }
            StoreError::Unavailable(m) => DomainError::Unavailable(m),
            StoreError::Internal(m) => DomainError::Internal(m),
        }
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

//! The one closed mapping from domain errors to gRPC statuses.
//!
//! Every non-OK status carries `google.rpc.ErrorInfo` (domain `steward`, an
//! UPPER_SNAKE reason), plus the detail its code calls for: `BadRequest` for
//! INVALID_ARGUMENT, `ResourceInfo` for NOT_FOUND / ALREADY_EXISTS,
//! `PreconditionFailure` for FAILED_PRECONDITION, `QuotaFailure` for
//! RESOURCE_EXHAUSTED. Internal errors are logged once with the request id;
//! the caller only learns that something went wrong and which request it was.

use std::collections::HashMap;

use steward_domain::DomainError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub const DOMAIN: &str = "steward";

/// Converts a domain error, logging internal ones with the request id.
pub fn to_status(err: DomainError, request_id: &str) -> Status {
    let reason = err.reason();
    let mut details = ErrorDetails::new();
    let mut meta = HashMap::new();
    let (code, message) = match &err {
        DomainError::InvalidArgument(violations) => {
            for v in violations {
                details.add_bad_request_violation(v.field.clone(), format!("{} ({})", v.description, v.reason));
            }
            if let Some(v) = violations.first() {
                meta.insert("field".to_string(), v.field.clone());
            }
            (Code::InvalidArgument, err.to_string())
        }
        DomainError::NotFound { resource, name } => {
            details.set_resource_info(*resource, name.clone(), "", format!("{resource} not found"));
            (Code::NotFound, format!("{resource} not found"))
        }
        DomainError::AlreadyExists { resource, name, .. } => {
            details.set_resource_info(*resource, name.clone(), "", format!("{resource} already exists"));
            (Code::AlreadyExists, format!("{resource} already exists ({reason})"))
        }
        DomainError::Unauthenticated => (Code::Unauthenticated, "authentication failed".to_string()),
        DomainError::PermissionDenied { permission } => {
            meta.insert("permission".to_string(), permission.to_string());
            (Code::PermissionDenied, format!("permission denied: requires {permission}"))
        }
        DomainError::FailedPrecondition { reason, subject, description } => {
            details.add_precondition_failure_violation(*reason, subject.clone(), description.clone());
            (Code::FailedPrecondition, description.clone())
        }
        DomainError::Aborted { description, .. } => (Code::Aborted, description.clone()),
        DomainError::ResourceExhausted { description, .. } => {
            details.add_quota_failure_violation(reason, description.clone());
            (Code::ResourceExhausted, description.clone())
        }
        DomainError::Unavailable(detail) => {
            tracing::warn!(request_id, error = %detail, "dependency unavailable");
            (Code::Unavailable, "the service is temporarily unavailable; retry".to_string())
        }
        DomainError::Internal(detail) => {
            tracing::error!(request_id, error = %detail, "internal error");
            (Code::Internal, format!("internal error (request id {request_id})"))
        }
    };
    if !request_id.is_empty() {
        meta.insert("request_id".to_string(), request_id.to_string());
    }
    details.set_error_info(reason, DOMAIN, meta);
    Status::with_error_details(code, message, details)
}

/// A status for failures found by the transport itself (no domain error).
pub fn transport_status(code: Code, reason: &str, message: &str, request_id: &str) -> Status {
    let mut details = ErrorDetails::new();
    let mut meta = HashMap::new();
    if !request_id.is_empty() {
        meta.insert("request_id".to_string(), request_id.to_string());
    }
    details.set_error_info(reason, DOMAIN, meta);
    Status::with_error_details(code, message, details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::FieldViolation;

    fn info(s: &Status) -> (Code, String, String) {
        let d = s.get_error_details();
        let i = d.error_info().expect("every status has ErrorInfo");
        (s.code(), i.reason.clone(), i.domain.clone())
    }

    #[test]
    fn each_variant_maps_to_its_code_reason_and_detail() {
        let cases: Vec<(DomainError, Code, &str)> = vec![
            (
                DomainError::InvalidArgument(vec![
                    FieldViolation::new("username", "INVALID_USERNAME", "x"),
                    FieldViolation::new("email", "INVALID_EMAIL", "y"),
                ]),
                Code::InvalidArgument,
                "INVALID_USERNAME",
            ),
            (DomainError::not_found("user", "u1"), Code::NotFound, "NOT_FOUND"),
            (
                DomainError::AlreadyExists { resource: "user", name: "ann".into(), reason: "USERNAME_TAKEN" },
                Code::AlreadyExists,
                "USERNAME_TAKEN",
            ),
            (DomainError::Unauthenticated, Code::Unauthenticated, "UNAUTHENTICATED"),
            (DomainError::denied("users.read"), Code::PermissionDenied, "PERMISSION_DENIED"),
            (
                DomainError::precondition("PASSWORD_CHANGE_REQUIRED", "session", "change it"),
                Code::FailedPrecondition,
                "PASSWORD_CHANGE_REQUIRED",
            ),
            (DomainError::Aborted { reason: "ETAG_MISMATCH", description: "d".into() }, Code::Aborted, "ETAG_MISMATCH"),
            (
                DomainError::ResourceExhausted { reason: "HASHER_BUSY", description: "d".into() },
                Code::ResourceExhausted,
                "HASHER_BUSY",
            ),
            (DomainError::Unavailable("db down".into()), Code::Unavailable, "UNAVAILABLE"),
            (DomainError::Internal("SELECT secret FROM x".into()), Code::Internal, "INTERNAL"),
        ];
        for (err, code, reason) in cases {
            let s = to_status(err, "rid-1");
            assert_eq!(info(&s), (code, reason.to_string(), "steward".to_string()));
        }
    }

    #[test]
    fn details_per_code() {
        let s = to_status(
            DomainError::InvalidArgument(vec![
                FieldViolation::new("username", "INVALID_USERNAME", "x"),
                FieldViolation::new("email", "INVALID_EMAIL", "y"),
            ]),
            "r",
        );
        let fields: Vec<_> =
            s.get_error_details().bad_request().unwrap().field_violations.iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, vec!["username", "email"]);
        let s = to_status(DomainError::precondition("USER_NOT_SUSPENDED", "user/1", "suspend first"), "r");
        assert_eq!(s.get_error_details().precondition_failure().unwrap().violations[0].r#type, "USER_NOT_SUSPENDED");
        assert!(to_status(DomainError::not_found("user", "x"), "r").get_error_details().resource_info().is_some());
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let s = to_status(DomainError::Internal("SELECT secret FROM x".into()), "rid-9");
        assert!(!s.message().contains("SELECT"), "{}", s.message());
        assert!(s.message().contains("rid-9"));
        let s = to_status(DomainError::Unavailable("postgres://u:pw@h".into()), "r");
        assert!(!s.message().contains("pw"));
    }
}

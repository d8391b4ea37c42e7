//! Projects: a named group of members with linked data sources.

use time::OffsetDateTime;

use crate::error::{DomainError, FieldViolation};
use crate::id::{ProjectId, ResourceId, UserId};
use crate::text::clean;

/// 2–100 characters, trimmed, no control characters; unique ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub const MIN: usize = 2;
    pub const MAX: usize = 100;

    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = clean(field, raw, Self::MAX, false)?;
        if s.chars().count() < Self::MIN {
            return Err(FieldViolation::new(
                field,
                "INVALID_PROJECT_NAME",
                format!("must be {}-{} characters", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What uniqueness is decided on.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }
}

impl std::fmt::Display for ProjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: ProjectName,
    pub description: String,
    /// Its creator; always a member.
    pub owner: UserId,
    /// Sorted; the owner included.
    pub members: Vec<UserId>,
    /// Linked data sources (datasets and views), sorted.
    pub data_sources: Vec<ResourceId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped by every change (members and links included).
    pub version: i64,
}

impl Project {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// A validated request to create a project.
#[derive(Debug, Clone)]
pub struct CreateProject {
    pub name: ProjectName,
    pub description: String,
    pub request_id: Option<String>,
}

impl CreateProject {
    pub const MAX_DESCRIPTION: usize = 1000;

    /// Reports every bad field together.
    pub fn parse(name: &str, description: &str, request_id: &str) -> Result<Self, DomainError> {
        let mut errors = Vec::new();
        let name = ProjectName::parse(name, "name").map_err(|e| errors.push(e)).ok();
        let description =
            clean("description", description, Self::MAX_DESCRIPTION, true).map_err(|e| errors.push(e)).ok();
        let request_id = request_id.trim();
        if request_id.len() > 64 {
            errors.push(FieldViolation::new("request_id", "INVALID_REQUEST_ID", "must be at most 64 characters"));
        }
        match (name, description) {
            (Some(name), Some(description)) if errors.is_empty() => {
                Ok(Self { name, description, request_id: (!request_id.is_empty()).then(|| request_id.to_string()) })
            }
            _ => Err(DomainError::InvalidArgument(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_requests() {
        assert_eq!(ProjectName::parse("  Q4 Sales ", "n").unwrap().canonical(), "q4 sales");
        assert_eq!(ProjectName::parse("x", "n").unwrap_err().reason, "INVALID_PROJECT_NAME");
        assert_eq!(ProjectName::parse(&"x".repeat(101), "n").unwrap_err().reason, "TOO_LONG");
        assert!(ProjectName::parse("Ünïcode", "n").is_ok());
        let bad = CreateProject::parse("", &"d".repeat(1001), &"r".repeat(65)).unwrap_err();
        let DomainError::InvalidArgument(v) = bad else { panic!() };
        let got: Vec<_> = v.iter().map(|v| (v.field.as_str(), v.reason)).collect();
        assert_eq!(
            got,
            [("name", "INVALID_PROJECT_NAME"), ("description", "TOO_LONG"), ("request_id", "INVALID_REQUEST_ID")]
        );
        let ok = CreateProject::parse("Churn", "line one\nline two", " ").unwrap();
        assert_eq!((ok.name.as_str(), ok.request_id), ("Churn", None));
    }
}

//! Groups: an owned resource (kind `group`) with members, an active flag and
//! resource-group entries that give its members access to datasets, views
//! and domains.

use time::OffsetDateTime;

use crate::error::{DomainError, FieldViolation};
use crate::id::{ResourceId, UserId};
use crate::ownership::{AccessLevel, DisplayName};

/// A group as the registry holds it. Its id is its resource id: the group
/// is a resource of kind `group`, so it is listed, counted and transferred
/// like every other resource its owner holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: ResourceId,
    /// The resource's display name (1–200 characters, not unique).
    pub name: DisplayName,
    pub owner: UserId,
    /// An inactive group grants nothing to its members.
    pub active: bool,
    /// `Some(user)` for the personal group every user has, named after them.
    pub personal_of: Option<UserId>,
    /// Sorted; the owner included.
    pub members: Vec<UserId>,
    /// Sorted by resource.
    pub links: Vec<GroupLink>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The resource's version: bumped by every change (members and links included).
    pub version: i64,
}

impl Group {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    pub fn parse_etag(etag: &str) -> Option<i64> {
        etag.trim().strip_prefix("W/\"")?.strip_suffix('"')?.parse().ok()
    }

    pub fn is_personal(&self) -> bool {
        self.personal_of.is_some()
    }

    /// The level at which `resource` is linked, if it is.
    pub fn link(&self, resource: ResourceId) -> Option<AccessLevel> {
        self.links.iter().find(|l| l.resource == resource).map(|l| l.access)
    }
}

/// A resource-group entry: the group's members hold `resource` at `access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupLink {
    pub resource: ResourceId,
    pub access: AccessLevel,
}

/// A validated request to create a group.
#[derive(Debug, Clone)]
pub struct CreateGroup {
    pub name: DisplayName,
    pub request_id: Option<String>,
}

impl CreateGroup {
    /// Reports every bad field together.
    pub fn parse(name: &str, request_id: &str) -> Result<Self, DomainError> {
        let mut errors = Vec::new();
        let name = DisplayName::parse(name, "name").map_err(|e| errors.push(e)).ok();
        let request_id = request_id.trim();
        if request_id.len() > 64 {
            errors.push(FieldViolation::new("request_id", "INVALID_REQUEST_ID", "must be at most 64 characters"));
        }
        match name {
            Some(name) if errors.is_empty() => {
                Ok(Self { name, request_id: (!request_id.is_empty()).then(|| request_id.to_string()) })
            }
            _ => Err(DomainError::InvalidArgument(errors)),
        }
    }
}

/// Every path an update mask may name.
pub const UPDATABLE_GROUP_FIELDS: &[&str] = &["name"];

/// A validated partial update of a group (its state changes have their own verbs).
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<DisplayName>,
}

impl GroupPatch {
    /// The mask paths this patch changes, for the audit trail.
    pub fn fields(&self) -> Vec<&'static str> {
        self.name.iter().map(|_| "name").collect()
    }

    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_etags() {
        let bad = CreateGroup::parse(" ", &"r".repeat(65)).unwrap_err();
        let DomainError::InvalidArgument(v) = bad else { panic!() };
        let got: Vec<_> = v.iter().map(|v| (v.field.as_str(), v.reason)).collect();
        assert_eq!(got, [("name", "INVALID_DISPLAY_NAME"), ("request_id", "INVALID_REQUEST_ID")]);
        let ok = CreateGroup::parse("  Analysts ", " ").unwrap();
        assert_eq!((ok.name.as_str(), ok.request_id), ("Analysts", None));
        assert_eq!(Group::parse_etag("W/\"7\""), Some(7));
        assert_eq!(Group::parse_etag("7"), None);
        assert!(GroupPatch::default().is_empty());
    }
}

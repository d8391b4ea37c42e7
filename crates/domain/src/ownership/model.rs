//! Registered resources: what they are, who owns them, and the shape rules
//! every stored resource satisfies.

use time::OffsetDateTime;

use super::ResourceKind;
use crate::error::{DomainError, FieldViolation};
use crate::id::{ProjectId, ResourceId, UserId};
use crate::text::clean;

/// At most this many read-only holders per dataset.
pub const MAX_READERS: usize = 1000;
/// At most this many parent projects per resource.
pub const MAX_PROJECTS: usize = 100;

/// A resource's human-readable name: 1–200 characters, trimmed, no control
/// characters. Not unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 200;

    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = clean(field, raw, Self::MAX, false)?;
        if s.is_empty() {
            return Err(FieldViolation::new(field, "INVALID_DISPLAY_NAME", "must not be empty"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resource as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub display_name: DisplayName,
    /// `None` exactly for application-level kinds.
    pub owner: Option<UserId>,
    /// The projects it belongs to (informational; sorted, no duplicates).
    pub projects: Vec<ProjectId>,
    /// `Some` exactly for schedules.
    pub schedule_enabled: Option<bool>,
    /// Read-only holders besides the owner; data sources only (sorted, no
    /// duplicates, never the owner).
    pub readers: Vec<UserId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped by every change; the etag is derived from it.
    pub version: i64,
}

impl Resource {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    pub fn parse_etag(etag: &str) -> Option<i64> {
        etag.trim().strip_prefix("W/\"")?.strip_suffix('"')?.parse().ok()
    }

    /// Sorts and de-duplicates the lists, drops the owner from the readers,
    /// and checks the shape rules of the kind: an owner exactly for
    /// transferable kinds, an enabled flag exactly for schedules (default:
    /// enabled), readers only for data sources. Every violation is reported.
    pub fn normalize(&mut self) -> Result<(), DomainError> {
        self.projects.sort();
        self.projects.dedup();
        self.readers.sort();
        self.readers.dedup();
        if let Some(owner) = self.owner {
            self.readers.retain(|r| *r != owner);
        }
        let mut errors = Vec::new();
        match (self.kind.is_application_level(), self.owner) {
            (true, Some(_)) => errors.push(FieldViolation::new(
                "resource.owner_id",
                "OWNER_NOT_ALLOWED",
                format!("{} is an application-level kind: it has no owner", self.kind.wire_name()),
            )),
            (false, None) => errors.push(FieldViolation::new(
                "resource.owner_id",
                "OWNER_REQUIRED",
                format!("a {} is owned by a user: name its owner", self.kind.wire_name()),
            )),
            _ => {}
        }
        match (self.kind.is_schedule(), self.schedule_enabled) {
            (true, None) => self.schedule_enabled = Some(true),
            (false, Some(_)) => errors.push(FieldViolation::new(
                "resource.schedule_enabled",
                "NOT_A_SCHEDULE",
                "only schedules have an enabled flag",
            )),
            _ => {}
        }
        if !self.readers.is_empty() && !self.kind.has_readers() {
            errors.push(FieldViolation::new(
                "resource.reader_ids",
                "READERS_NOT_ALLOWED",
                "only data sources (datasets and views) have read-only holders",
            ));
        }
        if self.readers.len() > MAX_READERS {
            errors.push(FieldViolation::new(
                "resource.reader_ids",
                "TOO_MANY_READERS",
                format!("at most {MAX_READERS} read-only holders"),
            ));
        }
        if self.projects.len() > MAX_PROJECTS {
            errors.push(FieldViolation::new(
                "resource.project_ids",
                "TOO_MANY_PROJECTS",
                format!("at most {MAX_PROJECTS} projects"),
            ));
        }
        if errors.is_empty() { Ok(()) } else { Err(DomainError::InvalidArgument(errors)) }
    }
}

/// A validated request to register a resource.
#[derive(Debug, Clone)]
pub struct RegisterResource {
    pub kind: ResourceKind,
    pub display_name: DisplayName,
    pub owner: Option<UserId>,
    pub projects: Vec<ProjectId>,
    pub schedule_enabled: Option<bool>,
    pub readers: Vec<UserId>,
    /// The client's idempotency key: a retry with the same one registers nothing.
    pub request_id: Option<String>,
}

/// Every path an update mask may name.
pub const UPDATABLE_FIELDS: &[&str] = &["display_name", "owner_id", "project_ids", "schedule_enabled", "reader_ids"];

/// A validated partial update of a resource.
#[derive(Debug, Clone, Default)]
pub struct ResourcePatch {
    pub display_name: Option<DisplayName>,
    /// `Some(None)` clears the owner (only valid for application-level kinds).
    pub owner: Option<Option<UserId>>,
    pub projects: Option<Vec<ProjectId>>,
    pub schedule_enabled: Option<bool>,
    pub readers: Option<Vec<UserId>>,
}

impl ResourcePatch {
    /// The mask paths this patch changes, for the audit trail.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.display_name.is_some() {
            f.push("display_name");
        }
        if self.owner.is_some() {
            f.push("owner_id");
        }
        if self.projects.is_some() {
            f.push("project_ids");
        }
        if self.schedule_enabled.is_some() {
            f.push("schedule_enabled");
        }
        if self.readers.is_some() {
            f.push("reader_ids");
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    pub(super) fn apply(self, r: &mut Resource) {
        if let Some(n) = self.display_name {
            r.display_name = n;
        }
        if let Some(o) = self.owner {
            r.owner = o;
        }
        if let Some(p) = self.projects {
            r.projects = p;
        }
        if let Some(e) = self.schedule_enabled {
            r.schedule_enabled = Some(e);
        }
        if let Some(readers) = self.readers {
            r.readers = readers;
        }
    }
}

/// How many resources of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindCount {
    pub kind: ResourceKind,
    pub count: u64,
}

/// Everything a user owns: counts per kind (kinds they own none of are
/// left out) and one page of the resources themselves.
#[derive(Debug, Clone)]
pub struct UserResources {
    pub user: UserId,
    pub counts: Vec<KindCount>,
    pub total: u64,
    pub page: crate::page::Page<Resource>,
    /// Data sources the user holds read-only (not owned): the first
    /// [`HELD_SHOWN`] in registration order.
    pub held: Vec<Resource>,
}

/// How many held data sources the user's resources view shows
/// (ListDataSources pages through all of them).
pub const HELD_SHOWN: u32 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(kind: ResourceKind, owner: Option<UserId>) -> Resource {
        let now = time::macros::datetime!(2026-01-01 00:00 UTC);
        Resource {
            id: ResourceId::new(),
            kind,
            display_name: DisplayName::parse("x", "f").unwrap(),
            owner,
            projects: vec![],
            schedule_enabled: None,
            readers: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn reasons(e: DomainError) -> Vec<&'static str> {
        match e {
            DomainError::InvalidArgument(v) => v.iter().map(|v| v.reason).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Sales  ", "f").unwrap().as_str(), "Sales");
        assert_eq!(DisplayName::parse("   ", "f").unwrap_err().reason, "INVALID_DISPLAY_NAME");
        assert_eq!(DisplayName::parse(&"x".repeat(201), "f").unwrap_err().reason, "TOO_LONG");
        assert!(DisplayName::parse(&"é".repeat(200), "f").is_ok());
        assert_eq!(DisplayName::parse("a\nb", "f").unwrap_err().reason, "CONTROL_CHARACTER");
    }

    #[test]
    fn shape_rules_by_kind() {
        let u = UserId::new();
        let mut ok = resource(ResourceKind::Schedule, Some(u));
        ok.normalize().unwrap();
        assert_eq!(ok.schedule_enabled, Some(true));

        let mut app = resource(ResourceKind::MailServer, Some(u));
        assert_eq!(reasons(app.normalize().unwrap_err()), ["OWNER_NOT_ALLOWED"]);
        app.owner = None;
        app.normalize().unwrap();

        let mut orphan = resource(ResourceKind::Notebook, None);
        orphan.schedule_enabled = Some(false);
        orphan.readers = vec![UserId::new()];
        assert_eq!(
            reasons(orphan.normalize().unwrap_err()),
            ["OWNER_REQUIRED", "NOT_A_SCHEDULE", "READERS_NOT_ALLOWED"]
        );

        let reader = UserId::new();
        let mut ds = resource(ResourceKind::Dataset, Some(u));
        ds.readers = vec![reader, u, reader];
        ds.normalize().unwrap();
        assert_eq!(ds.readers, vec![reader]);
    }

    #[test]
    fn etags() {
        let r = resource(ResourceKind::View, Some(UserId::new()));
        assert_eq!(Resource::parse_etag(&r.etag()), Some(1));
        assert_eq!(Resource::parse_etag("nope"), None);
    }
}

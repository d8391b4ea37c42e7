//! Suspension and the deletion plan: what a user holds, and what deleting
//! them does with each kind of holding.

use ring::digest;
use time::OffsetDateTime;

use crate::error::FieldViolation;
use crate::id::UserId;
use crate::ownership::ResourceKind;
use crate::text::clean;

/// Why a user is suspended: 1–500 characters, single line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionReason(String);

impl SuspensionReason {
    pub const MAX: usize = 500;

    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = clean(field, raw, Self::MAX, false)?;
        if s.is_empty() {
            return Err(FieldViolation::new(field, "INVALID_REASON", "say why the user is suspended"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Owned resources of one kind, with what tells a change apart from no
/// change (a moved, edited or replaced resource changes the sum of
/// versions or the latest update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedKind {
    pub kind: ResourceKind,
    pub count: u64,
    pub version_sum: i64,
    pub last_change: Option<OffsetDateTime>,
}

/// Everything a user holds, read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Per kind, in [`ResourceKind::ALL`] order, kinds with none left out;
    /// the user's personal group is not among them (it is deleted with the
    /// user, not transferred).
    pub resources: Vec<OwnedKind>,
    /// 1 while the user's personal group exists.
    pub personal_group: u64,
    /// Datasets held read-only.
    pub dataset_reads: u64,
    /// Projects owned, and the sum of their versions.
    pub projects: u64,
    pub project_version_sum: i64,
    /// Unrevoked API keys and sessions (expired ones included: a plan does
    /// not go stale by the clock).
    pub api_keys: u64,
    pub sessions: u64,
    pub sql_credentials: u64,
    pub memberships: u64,
    /// Memberships of groups other than the personal group.
    pub group_memberships: u64,
    /// Roles held besides `default`.
    pub role_assignments: u64,
}

impl Holdings {
    pub fn owned_resources(&self) -> u64 {
        self.resources.iter().map(|k| k.count).sum()
    }

    /// Whether anything needs a new owner.
    pub fn needs_new_owner(&self) -> bool {
        self.owned_resources() > 0 || self.dataset_reads > 0 || self.projects > 0
    }
}

/// What deleting a user holds for one kind of holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Transfer,
    DisableThenTransfer,
    Revoke,
    Delete,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    Resource(ResourceKind),
    DatasetReadAccess,
    Project,
    ApiKey,
    Session,
    SqlCredential,
    ProjectMembership,
    RoleAssignment,
    PersonalGroup,
    GroupMembership,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub holding: Holding,
    pub count: u64,
    pub disposition: Disposition,
}

/// The plan shown before a deletion, and carried out by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionPlan {
    pub user: UserId,
    pub new_owner: Option<UserId>,
    pub lines: Vec<PlanLine>,
    pub holdings: Holdings,
    pub etag: String,
}

impl DeletionPlan {
    /// The lines for `holdings` (holdings with none left out), and an etag
    /// over everything the plan depends on: the user's version, the new
    /// owner, and every count and fingerprint.
    pub fn new(user: UserId, user_version: i64, new_owner: Option<UserId>, holdings: Holdings) -> Self {
        let mut lines = Vec::new();
        let mut line = |holding, count, disposition| {
            if count > 0 {
                lines.push(PlanLine { holding, count, disposition });
            }
        };
        for k in &holdings.resources {
            let d = if k.kind.is_schedule() { Disposition::DisableThenTransfer } else { Disposition::Transfer };
            line(Holding::Resource(k.kind), k.count, d);
        }
        line(Holding::DatasetReadAccess, holdings.dataset_reads, Disposition::Transfer);
        line(Holding::Project, holdings.projects, Disposition::Transfer);
        line(Holding::ApiKey, holdings.api_keys, Disposition::Revoke);
        line(Holding::Session, holdings.sessions, Disposition::Revoke);
        line(Holding::SqlCredential, holdings.sql_credentials, Disposition::Delete);
        line(Holding::ProjectMembership, holdings.memberships, Disposition::Remove);
        line(Holding::PersonalGroup, holdings.personal_group, Disposition::Delete);
        line(Holding::GroupMembership, holdings.group_memberships, Disposition::Remove);
        line(Holding::RoleAssignment, holdings.role_assignments, Disposition::Remove);
        let etag = etag(user, user_version, new_owner, &holdings);
        Self { user, new_owner, lines, holdings, etag }
    }

    /// What the new owner receives, one line per kind, for their email.
    pub fn received(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| matches!(l.disposition, Disposition::Transfer | Disposition::DisableThenTransfer))
            .map(|l| {
                let what = match l.holding {
                    Holding::Resource(k) if k.is_schedule() => format!("{} (disabled)", k.as_str()),
                    Holding::Resource(k) => k.as_str().to_string(),
                    Holding::DatasetReadAccess => "read access to datasets".into(),
                    Holding::Project => "project".into(),
                    _ => "other".into(),
                };
                format!("{what}: {}", l.count)
            })
            .collect()
    }
}

fn etag(user: UserId, version: i64, new_owner: Option<UserId>, h: &Holdings) -> String {
    let mut text = format!("{user}|{version}|{}", new_owner.map(|o| o.to_string()).unwrap_or_default());
    for k in &h.resources {
        let last = k.last_change.map_or(0, |t| t.unix_timestamp_nanos());
        text.push_str(&format!("|{}:{}:{}:{last}", k.kind.as_str(), k.count, k.version_sum));
    }
    text.push_str(&format!(
        "|{}|{}:{}|{}|{}|{}|{}|{}|{}|{}",
        h.dataset_reads,
        h.projects,
        h.project_version_sum,
        h.api_keys,
        h.sessions,
        h.sql_credentials,
        h.memberships,
        h.role_assignments,
        h.personal_group,
        h.group_memberships
    ));
    let d = digest::digest(&digest::SHA256, text.as_bytes());
    let hex: String = d.as_ref()[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holdings() -> Holdings {
        Holdings {
            resources: vec![
                OwnedKind { kind: ResourceKind::Dataset, count: 3, version_sum: 3, last_change: None },
                OwnedKind { kind: ResourceKind::Schedule, count: 2, version_sum: 2, last_change: None },
            ],
            dataset_reads: 1,
            api_keys: 2,
            sql_credentials: 1,
            personal_group: 1,
            group_memberships: 2,
            ..Holdings::default()
        }
    }

    #[test]
    fn lines_say_what_happens_to_each_kind() {
        let plan = DeletionPlan::new(UserId::new(), 1, Some(UserId::new()), holdings());
        let got: Vec<_> = plan.lines.iter().map(|l| (l.holding, l.count, l.disposition)).collect();
        assert_eq!(
            got,
            vec![
                (Holding::Resource(ResourceKind::Dataset), 3, Disposition::Transfer),
                (Holding::Resource(ResourceKind::Schedule), 2, Disposition::DisableThenTransfer),
                (Holding::DatasetReadAccess, 1, Disposition::Transfer),
                (Holding::ApiKey, 2, Disposition::Revoke),
                (Holding::SqlCredential, 1, Disposition::Delete),
                (Holding::PersonalGroup, 1, Disposition::Delete),
                (Holding::GroupMembership, 2, Disposition::Remove),
            ]
        );
        assert_eq!(plan.received(), vec!["dataset: 3", "schedule (disabled): 2", "read access to datasets: 1"]);
    }

    #[test]
    fn the_etag_changes_with_anything_the_plan_depends_on() {
        let (u, o) = (UserId::new(), UserId::new());
        let base = DeletionPlan::new(u, 1, Some(o), holdings()).etag;
        assert_eq!(base, DeletionPlan::new(u, 1, Some(o), holdings()).etag);
        assert_ne!(base, DeletionPlan::new(u, 2, Some(o), holdings()).etag);
        assert_ne!(base, DeletionPlan::new(u, 1, Some(UserId::new()), holdings()).etag);
        let mut edited = holdings();
        edited.resources[0].version_sum += 1;
        assert_ne!(base, DeletionPlan::new(u, 1, Some(o), edited).etag);
        let mut more_keys = holdings();
        more_keys.api_keys += 1;
        assert_ne!(base, DeletionPlan::new(u, 1, Some(o), more_keys).etag);
        let mut joined = holdings();
        joined.group_memberships += 1;
        assert_ne!(base, DeletionPlan::new(u, 1, Some(o), joined).etag);
    }

    #[test]
    fn a_personal_group_alone_needs_no_new_owner() {
        let h = Holdings { personal_group: 1, group_memberships: 3, ..Holdings::default() };
        assert!(!h.needs_new_owner());
        assert_eq!(h.owned_resources(), 0);
    }

    #[test]
    fn reasons_are_checked() {
        assert!(SuspensionReason::parse("  left the company ", "reason").is_ok());
        assert_eq!(SuspensionReason::parse("  ", "reason").unwrap_err().reason, "INVALID_REASON");
        assert_eq!(SuspensionReason::parse(&"x".repeat(501), "reason").unwrap_err().reason, "TOO_LONG");
    }
}

//! Global reports and repair-all runs as jobs: queued, run by a worker user
//! after user (resumable at the last user done), their findings stored for
//! listing and download, the initiator emailed when they end.

use time::OffsetDateTime;

use super::finding::{Finding, Outcome};
use crate::id::{MaintenanceJobId, UserId};
use crate::import::safe_cell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Report,
    Repair,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::Repair => "repair",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        [Self::Report, Self::Repair].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed].into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// How far a job has come; written with each checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobProgress {
    /// The last user done (users run in id order); `None` before the first.
    pub cursor: Option<UserId>,
    pub users_done: u64,
    /// Whether the rows that belong to no user were looked at (the last step).
    pub orphans_done: bool,
    pub findings: u64,
    pub repaired: u64,
    pub not_repaired: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceJob {
    pub id: MaintenanceJobId,
    pub kind: JobKind,
    /// A repair that only says what it would do.
    pub dry_run: bool,
    pub state: JobState,
    pub initiator: UserId,
    /// Users when the job started (users created later may be looked at too).
    pub users_total: u64,
    pub progress: JobProgress,
    pub error: Option<String>,
    pub created_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

impl MaintenanceJob {
    /// 0–100, for progress bars.
    pub fn percent(&self) -> u32 {
        match (self.state, self.users_total) {
            (JobState::Succeeded, _) => 100,
            (_, 0) => 0,
            _ => ((self.progress.users_done.min(self.users_total) * 100) / self.users_total).min(99) as u32,
        }
    }
}

/// A finding as a job stores it: flat text, in the order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub seq: i64,
    pub kind: String,
    pub user: Option<UserId>,
    pub target: String,
    pub expected: String,
    pub found: String,
    pub fix: String,
    /// Empty for a report; a repair's outcome code otherwise.
    pub outcome: String,
    pub outcome_detail: String,
}

impl FindingRow {
    pub fn new(seq: i64, f: &Finding, outcome: Option<&Outcome>) -> Self {
        Self {
            seq,
            kind: f.kind.code().to_string(),
            user: f.user,
            target: f.target.clone(),
            expected: f.expected.clone(),
            found: f.found.clone(),
            fix: f.fix.describe(),
            outcome: outcome.map(|o| o.code().to_string()).unwrap_or_default(),
            outcome_detail: outcome.map(|o| o.detail().to_string()).unwrap_or_default(),
        }
    }
}

pub const FINDINGS_CSV_HEADER: &str = "seq,kind,user_id,target,expected,found,fix,outcome,detail";

/// A job's findings as CSV, a page at a time; formula-safe cells.
pub struct FindingsCsv {
    out: Vec<u8>,
}

impl Default for FindingsCsv {
    fn default() -> Self {
        Self::new()
    }
}

impl FindingsCsv {
    pub fn new() -> Self {
        Self { out: format!("{FINDINGS_CSV_HEADER}\r\n").into_bytes() }
    }

    pub fn push(&mut self, r: &FindingRow) {
        let user = r.user.map(|u| u.to_string()).unwrap_or_default();
        let cells = [&r.kind, &user, &r.target, &r.expected, &r.found, &r.fix, &r.outcome, &r.outcome_detail];
        let mut line = r.seq.to_string();
        for c in cells {
            line.push(',');
            line.push_str(&safe_cell(c));
        }
        line.push_str("\r\n");
        self.out.extend_from_slice(line.as_bytes());
    }

    /// The bytes so far, leaving the builder empty (for streaming in chunks).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

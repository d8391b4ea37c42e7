//! What an import job is: its state machine, its counters and checkpoint, and
//! the per-row errors it collects.

use time::OffsetDateTime;
use uuid::Uuid;

pub use crate::id::ImportJobId;
use crate::id::UserId;

/// A row error's id: time-ordered, so errors list in line order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowErrorId(pub Uuid);

/// created → uploaded → queued → running → succeeded | failed | cancelled.
/// A failed upload leaves the job `created` (its URL is spent either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its file.
    Created,
    /// The file is stored; not started.
    Uploaded,
    /// Started; waiting for a worker.
    Queued,
    Running,
    Succeeded,
    /// Stopped: the failure threshold was passed, or the file could not be read.
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Uploaded => "uploaded",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => Self::Created,
            "uploaded" => Self::Uploaded,
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// How a started job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// Validate every row (including duplicates) and create nobody.
    pub validate_only: bool,
    /// Stop the job once more than this many rows failed (`None`: never).
    pub failure_threshold: Option<u64>,
}

/// Where a run stopped reading: the byte just after the last committed row,
/// and that byte's line. `offset == 0` means the header is still to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    pub offset: u64,
    pub line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounters {
    /// Data rows read (header and blank lines not counted).
    pub rows_read: u64,
    pub rows_created: u64,
    /// Rows with at least one error.
    pub rows_failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: ImportJobId,
    pub initiator: UserId,
    pub state: JobState,
    pub options: ImportOptions,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Size of the stored file, once uploaded.
    pub file_bytes: Option<u64>,
    /// The header's column order once read (`username,email,name` in file order).
    pub columns: Option<String>,
    pub checkpoint: Checkpoint,
    pub counters: JobCounters,
    /// Why a failed job failed (a reason code).
    pub failure_reason: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
}

impl ImportJob {
    /// Share of the file read and committed, 0–100.
    pub fn percent(&self) -> f64 {
        if self.state == JobState::Succeeded {
            return 100.0;
        }
        match self.file_bytes {
            Some(total) if total > 0 => (self.checkpoint.offset.min(total) as f64 * 100.0) / total as f64,
            _ => 0.0,
        }
    }
}

/// A job as created, before its file arrives.
#[derive(Debug, Clone)]
pub struct NewImportJob {
    pub id: ImportJobId,
    pub initiator: UserId,
    pub max_bytes: u64,
    /// The one-time value the upload URL carries; spent by the first upload.
    pub upload_nonce: String,
    pub upload_expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

/// One problem with one row: its line in the file (1 = the header), the
/// column (empty for the row as a whole) and a reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: String,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, column: &str, reason: &str, message: impl Into<String>) -> Self {
        Self { line, column: column.into(), reason: reason.into(), message: message.into() }
    }

    /// The row's `column` (username or email) repeats line `first` of the file.
    pub fn duplicate(line: u64, column: &str, first: u64) -> Self {
        let reason = if column == "username" { "DUPLICATE_USERNAME" } else { "DUPLICATE_EMAIL" };
        Self::new(line, column, reason, format!("the same {column} as line {first}"))
    }

    /// The row's `column` (username or email) belongs to an existing user.
    pub fn taken(line: u64, column: &str) -> Self {
        let reason = if column == "username" { "USERNAME_TAKEN" } else { "EMAIL_TAKEN" };
        Self::new(line, column, reason, format!("a user with this {column} already exists"))
    }
}

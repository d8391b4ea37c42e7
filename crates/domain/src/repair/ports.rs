use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::facts::UserFacts;
use super::finding::{Finding, Fix};
use super::job::{FindingRow, JobProgress, JobState, MaintenanceJob};
use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::{MaintenanceJobId, UserId};

/// What the report reads, and the repairs it writes.
#[async_trait]
pub trait RepairStore: Send + Sync {
    /// What the database holds about the user; `None` when there is none.
    async fn user_facts(&self, user: UserId) -> Result<Option<UserFacts>, StoreError>;

    /// User ids after `after` in id order, at most `limit` (deleted users too).
    async fn user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>, StoreError>;

    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Rows that belong to no user any more: entries of groups that do not
    /// exist, memberships of users who do not exist, personal groups of
    /// users who do not exist — at most `limit` of each class.
    async fn orphan_findings(&self, limit: u32) -> Result<Vec<Finding>, StoreError>;

    /// Applies database fixes (engine and manual ones are skipped) in ONE
    /// transaction with `effects`; returns how many changed a row (a fix
    /// that finds nothing left to change is no error: repair is idempotent).
    async fn apply_fixes(&self, fixes: &[Fix], now: OffsetDateTime, effects: Effects) -> Result<u32, StoreError>;
}

/// Global report and repair-all jobs.
#[async_trait]
pub trait MaintenanceJobStore: Send + Sync {
    async fn insert_maintenance_job(&self, job: &MaintenanceJob, effects: Effects) -> Result<(), StoreError>;

    async fn get_maintenance_job(&self, id: MaintenanceJobId) -> Result<Option<MaintenanceJob>, StoreError>;

    /// Takes the oldest queued job, or a running one whose worker has been
    /// silent for `lease`, for `worker`; marks it running.
    async fn claim_maintenance_job(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<MaintenanceJob>, StoreError>;

    /// Stores `rows` and the new progress in one transaction, only while
    /// `worker` still holds the running job (`Stale` otherwise).
    async fn record_job_progress(
        &self,
        job: MaintenanceJobId,
        worker: &str,
        rows: &[FindingRow],
        progress: JobProgress,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Ends the job (with `effects`: the summary email), only while `worker`
    /// holds it.
    async fn finish_maintenance_job(
        &self,
        job: MaintenanceJobId,
        worker: &str,
        state: JobState,
        error: Option<&str>,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// The job's findings after `after_seq`, in order, at most `limit`.
    async fn list_job_findings(
        &self,
        job: MaintenanceJobId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<FindingRow>, StoreError>;
}

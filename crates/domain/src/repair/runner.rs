//! The maintenance worker: claims a queued global job and walks every user
//! in id order, a page at a time, storing each page's findings with the
//! checkpoint (a taken-over job resumes after the last user stored). A
//! repair stores after each user, whose fixes have committed by then: a
//! repair run again finds nothing left to do for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use time::Duration;

use super::finding::{Outcome, RepairAction};
use super::inspector::{EngineMemo, Inspector};
use super::job::{FindingRow, JobKind, JobProgress, JobState, MaintenanceJob};
use super::ports::MaintenanceJobStore;
use super::service::job_target;
use crate::audit::AuditEvent;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::keyring::Keyring;
use crate::notify::Message;
use crate::user::UserStore;

/// Users read per page.
pub const USERS_PER_PAGE: u32 = 200;
/// Orphaned rows looked at per class, at most, per run.
pub const ORPHANS_PER_CLASS: u32 = 10_000;

pub struct MaintenanceRunner {
    inspector: Arc<Inspector>,
    jobs: Arc<dyn MaintenanceJobStore>,
    users: Arc<dyn UserStore>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    worker: String,
    lease: Duration,
    stopping: AtomicBool,
}

impl MaintenanceRunner {
    pub fn new(
        inspector: Arc<Inspector>,
        jobs: Arc<dyn MaintenanceJobStore>,
        users: Arc<dyn UserStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        worker: String,
        lease: Duration,
    ) -> Self {
        Self { inspector, jobs, users, keyring, clock, worker, lease, stopping: AtomicBool::new(false) }
    }

    /// Stops after the page in flight (graceful shutdown); the job is taken
    /// over after the lease.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Claims one job and runs it to its end; `false` when there was none.
    pub async fn run_once(&self) -> Result<bool, DomainError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let now = self.clock.now();
        let Some(job) = self.jobs.claim_maintenance_job(&self.worker, now, self.lease).await? else {
            return Ok(false);
        };
        match self.run(&job).await {
            Ok(Some(progress)) => self.end(&job, progress, JobState::Succeeded, None).await?,
            Ok(None) => {}
            Err(DomainError::FailedPrecondition { reason: "JOB_LOST", .. }) => {}
            Err(e) => {
                // Ended for the initiator; the detail goes to the caller's log.
                self.end(&job, job.progress, JobState::Failed, Some("the job failed; see the server log")).await?;
                return Err(e);
            }
        }
        Ok(true)
    }

    /// `None` when stopped before the end.
    async fn run(&self, job: &MaintenanceJob) -> Result<Option<JobProgress>, DomainError> {
        let mut progress = job.progress;
        let store = self.inspector.store().clone();
        let repair = job.kind == JobKind::Repair;
        let audit = |target: String, detail: String| {
            AuditEvent::by_system(self.clock.now(), "maintenance.repair", target, format!("{detail} (job {})", job.id))
        };
        let mut seq = progress.findings as i64;
        let mut engine = EngineMemo::default();
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let ids = store.user_ids(progress.cursor, USERS_PER_PAGE).await?;
            if ids.is_empty() {
                break;
            }
            let mut rows = Vec::new();
            for id in ids {
                let actions = if repair {
                    self.inspector
                        .repair(id, job.dry_run, self.clock.now(), &audit, &mut engine)
                        .await?
                        .unwrap_or_default()
                } else {
                    reported(self.inspector.report(id, &mut engine).await?.unwrap_or_default())
                };
                push_rows(&mut rows, &mut seq, &mut progress, &actions, repair);
                progress.cursor = Some(id);
                progress.users_done += 1;
                // A repair's fixes have committed: its findings are stored now.
                if repair {
                    self.record(job, &std::mem::take(&mut rows), progress).await?;
                }
            }
            if !repair {
                self.record(job, &rows, progress).await?;
            }
        }
        if !progress.orphans_done {
            let orphans = store.orphan_findings(ORPHANS_PER_CLASS).await?;
            let actions = if repair {
                self.inspector.apply(orphans, job.dry_run, self.clock.now(), &audit).await?
            } else {
                reported(orphans)
            };
            let mut rows = Vec::new();
            push_rows(&mut rows, &mut seq, &mut progress, &actions, repair);
            progress.orphans_done = true;
            self.record(job, &rows, progress).await?;
        }
        Ok(Some(progress))
    }

    async fn record(
        &self,
        job: &MaintenanceJob,
        rows: &[FindingRow],
        progress: JobProgress,
    ) -> Result<(), DomainError> {
        let now = self.clock.now();
        self.jobs.record_job_progress(job.id, &self.worker, rows, progress, now).await.map_err(lost)
    }

    async fn end(
        &self,
        job: &MaintenanceJob,
        progress: JobProgress,
        state: JobState,
        error: Option<&str>,
    ) -> Result<(), DomainError> {
        let now = self.clock.now();
        let what = match (job.kind, job.dry_run) {
            (JobKind::Report, _) => "global inconsistency report",
            (JobKind::Repair, true) => "repair of all users (dry run)",
            (JobKind::Repair, false) => "repair of all users",
        };
        let outcome = if state == JobState::Succeeded { "has finished" } else { "has failed" };
        let subject = format!("The {what} {outcome}");
        let summary = format!(
            "The {what} {outcome} (job {id}).\n\nUsers looked at: {users}\nFindings: {findings}\n{repair}{error}\n\
             ListMaintenanceJobFindings and DownloadMaintenanceJobFindings have every finding.\n",
            id = job.id,
            users = progress.users_done,
            findings = progress.findings,
            repair = if job.kind == JobKind::Repair && !job.dry_run {
                format!("Repaired: {}\nNot repaired: {}\n", progress.repaired, progress.not_repaired)
            } else {
                String::new()
            },
            error = error.map(|e| format!("\n{e}\n")).unwrap_or_default(),
        );
        let mut effects = Effects::audit(AuditEvent::by_system(
            now,
            "maintenance.finish_job",
            job_target(job.id),
            format!("state={} findings={}", state.as_str(), progress.findings),
        ));
        match self.users.get_user(job.initiator).await {
            Ok(initiator) => {
                let message =
                    Message::MaintenanceFinished { initiator: &initiator, subject: &subject, summary: &summary };
                effects = effects.with_email(message.compose(&self.keyring, now)?);
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        self.jobs.finish_maintenance_job(job.id, &self.worker, state, error, now, effects).await.map_err(lost)
    }
}

fn reported(findings: Vec<super::finding::Finding>) -> Vec<RepairAction> {
    // A report's rows carry no outcome; `Manual` is a placeholder never stored.
    findings.into_iter().map(|finding| RepairAction { finding, outcome: Outcome::Manual }).collect()
}

fn push_rows(rows: &mut Vec<FindingRow>, seq: &mut i64, p: &mut JobProgress, actions: &[RepairAction], repair: bool) {
    for a in actions {
        *seq += 1;
        rows.push(FindingRow::new(*seq, &a.finding, repair.then_some(&a.outcome)));
        p.findings += 1;
        match a.outcome {
            Outcome::Repaired if repair => p.repaired += 1,
            Outcome::NotRepaired(_) if repair => p.not_repaired += 1,
            _ => {}
        }
    }
}

fn lost(e: StoreError) -> DomainError {
    match e {
        StoreError::Stale => DomainError::precondition("JOB_LOST", "maintenance job", "the job was taken over"),
        e => e.into(),
    }
}

//! The maintenance use cases: a report or a repair of one user, and global
//! report and repair-all jobs (started here, run by [`super::MaintenanceRunner`]).

use std::sync::Arc;

use uuid::Uuid;

use super::finding::{Finding, RepairAction};
use super::inspector::{EngineMemo, Inspector};
use super::job::{FindingRow, JobKind, JobProgress, JobState, MaintenanceJob};
use super::ports::MaintenanceJobStore;
use crate::audit::{AuditEvent, user_target};
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::DomainError;
use crate::id::{MaintenanceJobId, UserId};
use crate::ownership::unscoped;
use crate::page::{Page, PageRequest};
use crate::role::Permission;

/// At most this many findings per page.
pub const MAX_FINDINGS_PAGE: u32 = 1000;
/// Page tokens of finding listings carry this.
pub const FINDINGS_PAGE: &str = "maintenance_findings";

pub fn job_target(id: MaintenanceJobId) -> String {
    format!("maintenance_job/{id}")
}

pub struct MaintenanceService {
    inspector: Arc<Inspector>,
    jobs: Arc<dyn MaintenanceJobStore>,
    clock: Arc<dyn Clock>,
}

impl MaintenanceService {
    pub fn new(inspector: Arc<Inspector>, jobs: Arc<dyn MaintenanceJobStore>, clock: Arc<dyn Clock>) -> Self {
        Self { inspector, jobs, clock }
    }

    /// The service's clock (a report's time).
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// `maintenance.report`; read-only.
    pub async fn user_report(&self, ctx: &Ctx, user: UserId) -> Result<Vec<Finding>, DomainError> {
        allowed(ctx, Permission::MaintenanceReport)?;
        self.inspector.report(user, &mut EngineMemo::default()).await?.ok_or_else(|| no_user(user))
    }

    /// `maintenance.repair`. Each change is an audit event by the caller.
    pub async fn repair_user(&self, ctx: &Ctx, user: UserId, dry_run: bool) -> Result<Vec<RepairAction>, DomainError> {
        allowed(ctx, Permission::MaintenanceRepair)?;
        let now = self.clock.now();
        let audit = |target: String, detail: String| AuditEvent::by(ctx, now, "maintenance.repair", target, detail);
        self.inspector
            .repair(user, dry_run, now, &audit, &mut EngineMemo::default())
            .await?
            .ok_or_else(|| no_user(user))
    }

    /// `maintenance.report` for a report, `maintenance.repair` for a repair
    /// (dry run or not). Queued for the worker; audited.
    pub async fn start_job(&self, ctx: &Ctx, kind: JobKind, dry_run: bool) -> Result<MaintenanceJob, DomainError> {
        allowed(ctx, needed(kind))?;
        let now = self.clock.now();
        let job = MaintenanceJob {
            id: MaintenanceJobId::new(),
            kind,
            dry_run: kind == JobKind::Repair && dry_run,
            state: JobState::Queued,
            initiator: ctx.principal.user_id,
            users_total: self.inspector.store().count_users().await?,
            progress: JobProgress::default(),
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
        };
        let detail = format!("kind={} dry_run={}", kind.as_str(), job.dry_run);
        let audit = AuditEvent::by(ctx, now, "maintenance.start_job", job_target(job.id), detail);
        self.jobs.insert_maintenance_job(&job, Effects::audit(audit)).await?;
        Ok(job)
    }

    /// What starting the job needed; anyone else gets NOT_FOUND.
    pub async fn get_job(&self, ctx: &Ctx, id: MaintenanceJobId) -> Result<MaintenanceJob, DomainError> {
        allowed(ctx, Permission::MaintenanceReport)?;
        let job = self.jobs.get_maintenance_job(id).await?.ok_or_else(|| no_job(id))?;
        if !ctx.principal.permissions.has(needed(job.kind)) {
            return Err(no_job(id));
        }
        Ok(job)
    }

    /// A page of the job's findings, in the order found.
    pub async fn findings(
        &self,
        ctx: &Ctx,
        id: MaintenanceJobId,
        page: PageRequest,
    ) -> Result<Page<FindingRow>, DomainError> {
        self.get_job(ctx, id).await?;
        // Page tokens carry ids; a finding's is its position.
        let after = page.after.map(|k| k.as_u64_pair().1 as i64).unwrap_or(0);
        let rows = self.jobs.list_job_findings(id, after, page.size.min(MAX_FINDINGS_PAGE) + 1).await?;
        Ok(Page::from_rows(rows, page, FINDINGS_PAGE, |r| Uuid::from_u64_pair(0, r.seq as u64)))
    }
}

fn needed(kind: JobKind) -> Permission {
    match kind {
        JobKind::Report => Permission::MaintenanceReport,
        JobKind::Repair => Permission::MaintenanceRepair,
    }
}

fn allowed(ctx: &Ctx, p: Permission) -> Result<(), DomainError> {
    ctx.require(p)?;
    unscoped(ctx, p)
}

fn no_user(user: UserId) -> DomainError {
    DomainError::not_found("user", user_target(user))
}

fn no_job(id: MaintenanceJobId) -> DomainError {
    DomainError::not_found("maintenance job", job_target(id))
}

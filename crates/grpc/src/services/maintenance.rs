//! MaintenanceService: inconsistency reports and repairs over gRPC.

use std::pin::Pin;
use std::sync::Arc;

use steward_domain::DomainError;
use steward_domain::id::{MaintenanceJobId, UserId};
use steward_domain::page::PageRequest;
use steward_domain::repair::{
    FINDINGS_PAGE, Finding, FindingRow, FindingsCsv, JobKind, JobState, MaintenanceJob, MaintenanceService, Outcome,
    RepairAction,
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::convert::{IntoStatus, ctx, timestamp};
use crate::pb::{self, maintenance_service_server::MaintenanceService as Api};
use crate::services::download::{CsvPages, csv_chunks};

/// Findings per chunk of a download.
const DOWNLOAD_PAGE: u32 = 1000;

pub struct MaintenanceApi {
    pub maintenance: Arc<MaintenanceService>,
}

fn finding(f: &Finding) -> pb::Finding {
    pb::Finding {
        kind: f.kind.code().to_string(),
        user_id: f.user.map(|u| u.to_string()).unwrap_or_default(),
        target: f.target.clone(),
        expected: f.expected.clone(),
        found: f.found.clone(),
        fix: f.fix.describe(),
    }
}

fn outcome(o: &Outcome) -> pb::RepairOutcome {
    match o {
        Outcome::Repaired => pb::RepairOutcome::Repaired,
        Outcome::WouldRepair => pb::RepairOutcome::WouldRepair,
        Outcome::NotRepaired(_) => pb::RepairOutcome::NotRepaired,
        Outcome::Manual => pb::RepairOutcome::Manual,
    }
}

fn outcome_code(code: &str) -> pb::RepairOutcome {
    match code {
        "REPAIRED" => pb::RepairOutcome::Repaired,
        "WOULD_REPAIR" => pb::RepairOutcome::WouldRepair,
        "NOT_REPAIRED" => pb::RepairOutcome::NotRepaired,
        "MANUAL" => pb::RepairOutcome::Manual,
        _ => pb::RepairOutcome::Unspecified,
    }
}

fn action(a: &RepairAction) -> pb::RepairAction {
    pb::RepairAction {
        finding: Some(finding(&a.finding)),
        outcome: outcome(&a.outcome) as i32,
        detail: a.outcome.detail().to_string(),
    }
}

fn job_finding(r: &FindingRow) -> pb::JobFinding {
    pb::JobFinding {
        seq: r.seq,
        finding: Some(pb::Finding {
            kind: r.kind.clone(),
            user_id: r.user.map(|u| u.to_string()).unwrap_or_default(),
            target: r.target.clone(),
            expected: r.expected.clone(),
            found: r.found.clone(),
            fix: r.fix.clone(),
        }),
        outcome: outcome_code(&r.outcome) as i32,
        detail: r.outcome_detail.clone(),
    }
}

pub fn maintenance_job(j: &MaintenanceJob) -> pb::MaintenanceJob {
    pb::MaintenanceJob {
        job_id: j.id.to_string(),
        kind: match j.kind {
            JobKind::Report => pb::MaintenanceJobKind::Report,
            JobKind::Repair => pb::MaintenanceJobKind::Repair,
        } as i32,
        dry_run: j.dry_run,
        state: match j.state {
            JobState::Queued => pb::MaintenanceJobState::Queued,
            JobState::Running => pb::MaintenanceJobState::Running,
            JobState::Succeeded => pb::MaintenanceJobState::Succeeded,
            JobState::Failed => pb::MaintenanceJobState::Failed,
        } as i32,
        initiator_id: j.initiator.to_string(),
        users_total: j.users_total,
        users_done: j.progress.users_done,
        findings: j.progress.findings,
        repaired: j.progress.repaired,
        not_repaired: j.progress.not_repaired,
        percent: f64::from(j.percent()),
        error: j.error.clone().unwrap_or_default(),
        create_time: Some(timestamp(j.created_at)),
        update_time: Some(timestamp(j.updated_at)),
        start_time: j.started_at.map(timestamp),
        finish_time: j.finished_at.map(timestamp),
    }
}

fn user_id(raw: &str) -> Result<UserId, DomainError> {
    if raw.trim().is_empty() {
        return Err(DomainError::invalid("user_id", "USER_REQUIRED", "name the user"));
    }
    UserId::parse(raw, "user_id")
}

fn job_id(raw: &str) -> Result<MaintenanceJobId, DomainError> {
    if raw.trim().is_empty() {
        return Err(DomainError::invalid("job_id", "JOB_REQUIRED", "name the maintenance job"));
    }
    MaintenanceJobId::parse(raw, "job_id")
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Api for MaintenanceApi {
    async fn generate_user_report(
        &self,
        req: Request<pb::GenerateUserReportRequest>,
    ) -> Result<Response<pb::GenerateUserReportResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let (user, findings) = async {
            let user = user_id(&r.user_id)?;
            Ok((user, self.maintenance.user_report(&ctx, user).await?))
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GenerateUserReportResponse {
            user_id: user.to_string(),
            findings: findings.iter().map(finding).collect(),
            generate_time: Some(timestamp(self.maintenance.now())),
        }))
    }

    async fn repair_user(
        &self,
        req: Request<pb::RepairUserRequest>,
    ) -> Result<Response<pb::RepairUserResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let (user, actions) = async {
            let user = user_id(&r.user_id)?;
            Ok((user, self.maintenance.repair_user(&ctx, user, r.dry_run).await?))
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::RepairUserResponse {
            user_id: user.to_string(),
            dry_run: r.dry_run,
            actions: actions.iter().map(action).collect(),
        }))
    }

    async fn generate_global_report(
        &self,
        req: Request<pb::GenerateGlobalReportRequest>,
    ) -> Result<Response<pb::GenerateGlobalReportResponse>, Status> {
        let ctx = ctx(&req)?;
        let job = self.maintenance.start_job(&ctx, JobKind::Report, false).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GenerateGlobalReportResponse { job: Some(maintenance_job(&job)) }))
    }

    async fn repair_all_users(
        &self,
        req: Request<pb::RepairAllUsersRequest>,
    ) -> Result<Response<pb::RepairAllUsersResponse>, Status> {
        let ctx = ctx(&req)?;
        let dry_run = req.get_ref().dry_run;
        let job = self.maintenance.start_job(&ctx, JobKind::Repair, dry_run).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::RepairAllUsersResponse { job: Some(maintenance_job(&job)) }))
    }

    async fn get_maintenance_job(
        &self,
        req: Request<pb::GetMaintenanceJobRequest>,
    ) -> Result<Response<pb::GetMaintenanceJobResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let job =
            async { self.maintenance.get_job(&ctx, job_id(&r.job_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetMaintenanceJobResponse { job: Some(maintenance_job(&job)) }))
    }

    async fn list_maintenance_job_findings(
        &self,
        req: Request<pb::ListMaintenanceJobFindingsRequest>,
    ) -> Result<Response<pb::ListMaintenanceJobFindingsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let id = job_id(&r.job_id)?;
            let page = PageRequest::parse(r.page_size, &r.page_token, FINDINGS_PAGE)?;
            self.maintenance.findings(&ctx, id, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListMaintenanceJobFindingsResponse {
            findings: page.items.iter().map(job_finding).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    type DownloadMaintenanceJobFindingsStream = BoxStream<pb::DownloadMaintenanceJobFindingsResponse>;

    async fn download_maintenance_job_findings(
        &self,
        req: Request<pb::DownloadMaintenanceJobFindingsRequest>,
    ) -> Result<Response<Self::DownloadMaintenanceJobFindingsStream>, Status> {
        let ctx = ctx(&req)?;
        let id = job_id(&req.into_inner().job_id).or_status(&ctx.request_id)?;
        // The first page is read before answering, so a bad id or a missing
        // permission is the call's status, not a broken stream.
        let first =
            self.maintenance.findings(&ctx, id, PageRequest::first(DOWNLOAD_PAGE)).await.or_status(&ctx.request_id)?;
        let (maintenance, request_id) = (self.maintenance.clone(), ctx.request_id.clone());
        let mut csv = FindingsCsv::new();
        let stream = csv_chunks(
            first,
            CsvPages {
                kind: FINDINGS_PAGE,
                size: DOWNLOAD_PAGE,
                request_id,
                next: move |page| {
                    let (maintenance, ctx) = (maintenance.clone(), ctx.clone());
                    async move { maintenance.findings(&ctx, id, page).await }
                },
                render: move |rows: &[FindingRow]| {
                    rows.iter().for_each(|r| csv.push(r));
                    csv.take()
                },
                wrap: |chunk| pb::DownloadMaintenanceJobFindingsResponse { chunk },
            },
        );
        Ok(Response::new(Box::pin(stream)))
    }
}

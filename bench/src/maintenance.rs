//! The global inconsistency report end to end: N users with 10 resources
//! each and 1% of them seeded with one inconsistency each (see
//! [`crate::maintenance_seed`]), GenerateGlobalReport, GetMaintenanceJob
//! polled until the job succeeds, ListMaintenanceJobFindings paged through;
//! the findings must be exactly the seeded ones. Also the server's peak RSS,
//! and the same at a tenth of the size on a fresh database and server: the
//! report walks the users a page at a time, so its memory must not grow with
//! them (on SQLite the server's RSS includes its page cache, up to 64 MiB a
//! connection, which grows with the pages the report touches). No query
//! engine is configured (engine parity is not checked).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use steward_grpc::pb;
use steward_grpc::pb::maintenance_service_client::MaintenanceServiceClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

use crate::Error;
use crate::load::Clients;
use crate::maintenance_seed::{CLASSES, seed};
use crate::server::{self, PgDatabase, Server};

/// The larger run's peak RSS over the smaller's, at most.
pub const MEMORY_GOAL: f64 = 1.2;
const POLL: Duration = Duration::from_millis(20);
const FINDINGS_PAGE: i32 = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct ReportFigure {
    pub backend: String,
    /// Users seeded (the bootstrap admin besides).
    pub users: usize,
    /// Users the job looked at (job.users_done).
    pub users_reported: u64,
    pub resources: usize,
    pub query_engine: &'static str,
    /// GenerateGlobalReport until GetMaintenanceJob says SUCCEEDED.
    pub seconds: f64,
    pub users_per_second: f64,
    /// Inconsistencies seeded, one finding each.
    pub seeded: u64,
    /// Findings listed (ListMaintenanceJobFindings, every page).
    pub findings: u64,
    /// The job's own count.
    pub job_findings: u64,
    pub findings_match: bool,
    pub seeded_by_kind: BTreeMap<String, u64>,
    pub findings_by_kind: BTreeMap<String, u64>,
    /// VmHWM of the server while the report ran: reset (clear_refs) when it
    /// starts, read when it has succeeded. Its whole life's when the reset
    /// failed (`hwm_reset` false).
    pub server_peak_rss_kib: u64,
    pub hwm_reset: bool,
    /// VmHWM over the server's whole life (start-up, migrations, seeding's
    /// effect on its caches, the report).
    pub server_lifetime_peak_rss_kib: u64,
    pub rss_before_report_kib: u64,
    /// VmRSS sampled every 50 ms while the report ran.
    pub rss_sampled_peak_during_report_kib: u64,
}

/// A tenth of `users`, then `users`: each on a fresh database and server.
pub async fn run(
    bin: &std::path::Path,
    backend: &str,
    pg_admin: Option<&str>,
    users: usize,
) -> Result<Vec<ReportFigure>, Error> {
    let mut out = Vec::new();
    for n in [users / 10, users] {
        let pg = match pg_admin {
            Some(admin) => Some(PgDatabase::create(admin).await?),
            None => None,
        };
        let result = one(bin, backend, pg.as_ref().map(|d| d.url.clone()), n).await;
        if let Some(db) = pg {
            db.drop_database().await;
        }
        let f = result?;
        eprintln!(
            "  global report of {n} users: {:.2} s = {:.0} users/s; findings {} vs seeded {}; peak RSS {:.1} MiB",
            f.seconds,
            f.users_per_second,
            f.findings,
            f.seeded,
            f.server_peak_rss_kib as f64 / 1024.0
        );
        out.push(f);
    }
    Ok(out)
}

async fn one(
    bin: &std::path::Path,
    backend: &str,
    database_url: Option<String>,
    users: usize,
) -> Result<ReportFigure, Error> {
    let bin = bin.to_path_buf();
    let url = database_url.clone();
    // The mail relay is held back: the summary email is not the report's cost.
    let srv = tokio::task::spawn_blocking(move || {
        Server::start_with(&bin, url.as_deref(), &["--import-poll-ms", "20", "--mail-poll-ms", "3600000"])
    })
    .await??;
    eprintln!("  seeding {users} users, {} resources …", users * crate::maintenance_seed::RESOURCES_PER_USER);
    let seeded = seed(&srv.database_url(database_url.as_deref()), users).await?;
    let clients = Clients::connect(srv.addr, 1, &srv.admin_key).await?;
    let pid = srv.pid();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = srv.memory().unwrap_or(server::Memory { rss_kib: 0, hwm_kib: 0 });
    // From here VmHWM is the peak of the report alone (the start-up's is higher).
    let hwm_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();

    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn({
        let (stop, peak) = (stop.clone(), peak.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(m) = server::memory(pid) {
                    peak.fetch_max(m.rss_kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    let mut client = MaintenanceServiceClient::new(clients.channel(0));
    let bearer = clients.bearer();
    let started = Instant::now();
    let report = generate(&mut client, &bearer).await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let job = report?;
    let hwm = srv.memory().map(|m| m.hwm_kib).unwrap_or_default();
    let lifetime = if hwm_reset { hwm.max(before.hwm_kib) } else { hwm };

    let findings_by_kind = findings(&mut client, &bearer, &job.job_id).await?;
    let findings: u64 = findings_by_kind.values().sum();
    let seeded_by_kind: BTreeMap<String, u64> = seeded.expected.iter().map(|(k, n)| ((*k).to_string(), *n)).collect();
    let mut srv = srv;
    tokio::task::spawn_blocking(move || srv.stop()).await?;
    Ok(ReportFigure {
        backend: backend.into(),
        users: seeded.users,
        users_reported: job.users_done,
        resources: seeded.resources,
        query_engine: "none configured",
        seconds: took.as_secs_f64(),
        users_per_second: job.users_done as f64 / took.as_secs_f64().max(1e-9),
        seeded: seeded.inconsistencies(),
        findings,
        job_findings: job.findings,
        findings_match: findings_by_kind == seeded_by_kind && job.findings == findings,
        seeded_by_kind,
        findings_by_kind,
        server_peak_rss_kib: hwm,
        hwm_reset,
        server_lifetime_peak_rss_kib: lifetime,
        rss_before_report_kib: before.rss_kib,
        rss_sampled_peak_during_report_kib: peak.load(Ordering::Relaxed),
    })
}

/// GenerateGlobalReport, then GetMaintenanceJob until the job ends.
async fn generate(
    c: &mut MaintenanceServiceClient<Channel>,
    bearer: &AsciiMetadataValue,
) -> Result<pb::MaintenanceJob, Error> {
    let job = c.generate_global_report(authorized(bearer, pb::GenerateGlobalReportRequest {})).await?;
    let id = job.into_inner().job.ok_or("no job")?.job_id;
    loop {
        tokio::time::sleep(POLL).await;
        let j = c.get_maintenance_job(authorized(bearer, pb::GetMaintenanceJobRequest { job_id: id.clone() })).await?;
        let j = j.into_inner().job.ok_or("no job")?;
        match pb::MaintenanceJobState::try_from(j.state) {
            Ok(pb::MaintenanceJobState::Succeeded) => return Ok(j),
            Ok(pb::MaintenanceJobState::Failed) => return Err(format!("the report failed: {}", j.error).into()),
            _ => {}
        }
    }
}

/// Every finding of the job, counted by kind.
async fn findings(
    c: &mut MaintenanceServiceClient<Channel>,
    bearer: &AsciiMetadataValue,
    job_id: &str,
) -> Result<BTreeMap<String, u64>, Error> {
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut page_token = String::new();
    loop {
        let req = pb::ListMaintenanceJobFindingsRequest {
            job_id: job_id.into(),
            page_size: FINDINGS_PAGE,
            page_token: page_token.clone(),
        };
        let page = c.list_maintenance_job_findings(authorized(bearer, req)).await?.into_inner();
        for f in page.findings {
            let kind = f.finding.map(|f| f.kind).unwrap_or_default();
            *by_kind.entry(kind).or_default() += 1;
        }
        if page.next_page_token.is_empty() {
            return Ok(by_kind);
        }
        page_token = page.next_page_token;
    }
}

fn authorized<T>(bearer: &AsciiMetadataValue, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert("authorization", bearer.clone());
    r
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub fn print(figures: &[ReportFigure]) {
    let classes: Vec<&str> = CLASSES.iter().map(|k| k.code()).collect();
    for f in figures {
        let verdict = if f.findings_match { "ok" } else { "MISMATCH" };
        println!(
            "global report, {:>6} users / {:>7} resources: {:>7.2} s = {:>6.0} users/s; findings {} vs seeded {}  {verdict}",
            f.users, f.resources, f.seconds, f.users_per_second, f.findings, f.seeded
        );
        println!(
            "  server peak RSS (VmHWM) {} {:.1} MiB (RSS before it {:.1} MiB, sampled peak {:.1} MiB; \
             whole life {:.1} MiB); query engine: {} (parity not checked)",
            if f.hwm_reset { "during the report" } else { "over the server's life" },
            mib(f.server_peak_rss_kib),
            mib(f.rss_before_report_kib),
            mib(f.rss_sampled_peak_during_report_kib),
            mib(f.server_lifetime_peak_rss_kib),
            f.query_engine
        );
        if !f.findings_match {
            println!(
                "  seeded by kind {:?}; found by kind {:?}; the job counted {}",
                f.seeded_by_kind, f.findings_by_kind, f.job_findings
            );
        }
    }
    println!("  (1% of the users seeded, one inconsistency each, in turn: {})", classes.join(", "));
    if let (Some(small), Some(large)) = (figures.first(), figures.last())
        && large.users > small.users
    {
        let ratio = large.server_peak_rss_kib as f64 / (small.server_peak_rss_kib as f64).max(1.0);
        let verdict = if ratio <= MEMORY_GOAL { "ok" } else { "GOAL MISSED" };
        println!(
            "global report peak RSS, {} vs {} users: {:.1} vs {:.1} MiB = {ratio:.2}×   goal ≤ {MEMORY_GOAL}×  {verdict}",
            large.users,
            small.users,
            mib(large.server_peak_rss_kib),
            mib(small.server_peak_rss_kib)
        );
    }
}

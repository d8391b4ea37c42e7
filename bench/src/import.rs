//! Bulk import end to end — the file streamed over UploadImportFile, the job
//! started and polled until it succeeds — against a plain multi-row INSERT
//! of the same rows into the same `users` table of the same database (500
//! rows a statement, as the import's batches); the server's peak RSS per
//! size (a fresh server each); and GetUser latency (a call every 5 ms) while
//! the import runs against the same server idle.
//!
//! The import writes, per row, the user, their credentials, an audit event
//! and the welcome email; the baseline writes only the user row. The mail
//! relay is held back (its sending is not the import's cost).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement, Value};
use serde::Serialize;
use steward_grpc::pb;
use steward_grpc::pb::import_service_client::ImportServiceClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::Error;
use crate::load::{Clients, Kind, percentile, sequential};
use crate::server::{PgDatabase, Server};
use crate::transfer::{now, time_value};

pub const RATIO_GOAL: f64 = 0.5;
pub const MEMORY_GOAL: f64 = 1.2;
const BATCH: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct ImportFigure {
    pub backend: String,
    pub rows: usize,
    pub file_bytes: usize,
    pub import_seconds: f64,
    pub import_rows_per_second: f64,
    pub baseline_seconds: f64,
    pub baseline_rows_per_second: f64,
    /// import rows/s ÷ baseline rows/s (goal ≥ 0.5).
    pub ratio: f64,
    pub server_peak_rss_kib: u64,
    pub get_user_p99_idle_ms: f64,
    pub get_user_p99_during_import_ms: f64,
    pub get_user_calls_during_import: usize,
}

/// Every size on a fresh database and a fresh server.
pub async fn run(
    bin: &std::path::Path,
    backend: &str,
    pg_admin: Option<&str>,
    sizes: &[usize],
) -> Result<Vec<ImportFigure>, Error> {
    let mut out = Vec::new();
    for &rows in sizes {
        let pg = match pg_admin {
            Some(admin) => Some(PgDatabase::create(admin).await?),
            None => None,
        };
        let result = one(bin, backend, pg.as_ref().map(|d| d.url.clone()), rows).await;
        if let Some(db) = pg {
            db.drop_database().await;
        }
        let fig = result?;
        eprintln!(
            "  import of {rows}: {:.0} rows/s vs {:.0} rows/s plain INSERT = {:.2}; peak RSS {} MiB; GetUser p99 {:.2} ms idle, {:.2} ms during",
            fig.import_rows_per_second,
            fig.baseline_rows_per_second,
            fig.ratio,
            fig.server_peak_rss_kib / 1024,
            fig.get_user_p99_idle_ms,
            fig.get_user_p99_during_import_ms
        );
        out.push(fig);
    }
    Ok(out)
}

async fn one(
    bin: &std::path::Path,
    backend: &str,
    database_url: Option<String>,
    rows: usize,
) -> Result<ImportFigure, Error> {
    let file = csv(rows, "imp");
    let bin = bin.to_path_buf();
    let url = database_url.clone();
    let srv = tokio::task::spawn_blocking(move || {
        Server::start_with(&bin, url.as_deref(), &["--import-poll-ms", "20", "--mail-poll-ms", "3600000"])
    })
    .await??;
    let db_url = srv.database_url(database_url.as_deref());
    let mut clients = Clients::connect(srv.addr, 1, &srv.admin_key).await?;
    let channel = clients.channel(0);
    let bearer = clients.bearer();
    let me = {
        let mut auth = clients.auth(0);
        let mut req = tonic::Request::new(pb::WhoAmIRequest {});
        req.metadata_mut().insert("authorization", bearer.clone());
        auth.who_am_i(req).await?.into_inner().user.ok_or("WhoAmI without a user")?.user_id
    };
    clients.get_user_id = me;
    let idle = sequential(&clients, Kind::GetUser, 2000).await;

    // The import, with a GetUser every 5 ms beside it: light enough not to
    // slow the import (its own figure), steady enough for a p99.
    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let (clients, stop) = (clients.clone(), stop.clone());
        tokio::spawn(async move {
            let mut all = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                all.extend(sequential(&clients, Kind::GetUser, 1).await.sorted);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            all.sort_unstable();
            all
        })
    };
    let started = Instant::now();
    let imported = import(channel, bearer, &file).await;
    let import_time = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let during = probe.await?;
    let job = imported?;
    if job.rows_created != rows as u64 {
        return Err(format!("the import created {} of {rows} rows: {job:?}", job.rows_created).into());
    }
    let peak = srv.memory().map(|m| m.hwm_kib).unwrap_or_default();

    let baseline_time = baseline(&db_url, rows).await?;
    Ok(ImportFigure {
        backend: backend.into(),
        rows,
        file_bytes: file.len(),
        import_seconds: import_time.as_secs_f64(),
        import_rows_per_second: rows as f64 / import_time.as_secs_f64(),
        baseline_seconds: baseline_time.as_secs_f64(),
        baseline_rows_per_second: rows as f64 / baseline_time.as_secs_f64(),
        ratio: baseline_time.as_secs_f64() / import_time.as_secs_f64(),
        server_peak_rss_kib: peak,
        get_user_p99_idle_ms: idle.percentile(0.99).as_secs_f64() * 1000.0,
        get_user_p99_during_import_ms: percentile(&during, 0.99).as_secs_f64() * 1000.0,
        get_user_calls_during_import: during.len(),
    })
}

fn csv(rows: usize, prefix: &str) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 48 + 32);
    out.push_str("username,email,name\n");
    for i in 0..rows {
        out.push_str(&format!("{prefix}{i},{prefix}{i}@example.com,Imported User {i}\n"));
    }
    out.into_bytes()
}

/// Upload, start, and poll until the job ends.
async fn import(
    channel: Channel,
    bearer: tonic::metadata::AsciiMetadataValue,
    file: &[u8],
) -> Result<pb::ImportJob, Error> {
    let mut c = ImportServiceClient::new(channel);
    let job = c.create_import_job(authorized(&bearer, pb::CreateImportJobRequest {})).await?.into_inner();
    let id = job.job.ok_or("no job")?.job_id;
    let mut messages = vec![pb::UploadImportFileRequest { job_id: id.clone(), data: Vec::new() }];
    messages
        .extend(file.chunks(1 << 20).map(|c| pb::UploadImportFileRequest { job_id: String::new(), data: c.to_vec() }));
    c.upload_import_file(authorized(&bearer, tokio_stream::iter(messages))).await?;
    let start = pb::StartImportJobRequest { job_id: id.clone(), validate_only: false, failure_threshold: None };
    c.start_import_job(authorized(&bearer, start)).await?;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let j = c.get_import_job(authorized(&bearer, pb::GetImportJobRequest { job_id: id.clone() })).await?;
        let j = j.into_inner().job.ok_or("no job")?;
        match pb::ImportJobState::try_from(j.state) {
            Ok(pb::ImportJobState::Succeeded) => return Ok(j),
            Ok(pb::ImportJobState::Failed | pb::ImportJobState::Cancelled) => {
                return Err(format!("the import ended {:?}", j.state).into());
            }
            _ => {}
        }
    }
}

fn authorized<T>(bearer: &AsciiMetadataValue, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert("authorization", bearer.clone());
    r
}

/// The same number of user rows (other names), 500 a statement, each
/// statement its own transaction, into the same table.
async fn baseline(db_url: &str, rows: usize) -> Result<Duration, Error> {
    let db = Database::connect(db_url).await?;
    let b = db.get_database_backend();
    let t = time_value(b, now());
    let started = Instant::now();
    for chunk in 0..rows.div_ceil(BATCH) {
        let n = (rows - chunk * BATCH).min(BATCH);
        let mut sql = String::from(
            "INSERT INTO users (id, kind, username, username_lower, email, email_lower, full_name, full_name_lower, \
             position, about, location, organization, phone_number, email_notifications, status, default_role, \
             mfa_enabled, created_at, updated_at, version) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(n * 9);
        for k in 0..n {
            let i = chunk * BATCH + k;
            let p = values.len();
            // SQLite looks numbered parameters up by a linear scan: its fast
            // form is `?`, and the baseline gets the fast form.
            let ph: Vec<String> = (1..=9)
                .map(|j| if b == sea_orm::DbBackend::Sqlite { "?".to_string() } else { format!("${}", p + j) })
                .collect();
            sql.push_str(&format!(
                "{}({}, 'human', {}, {}, {}, {}, {}, {}, '', '', '', '', '', false, 'active', 'default', false, {}, {}, 1)",
                if k > 0 { ", " } else { "" },
                ph[0], ph[1], ph[2], ph[3], ph[4], ph[5], ph[6], ph[7], ph[8]
            ));
            let name = format!("bas{i}");
            let email = format!("bas{i}@example.com");
            let full = format!("Imported User {i}");
            values.extend([
                Uuid::now_v7().into(),
                name.clone().into(),
                name.into(),
                email.clone().into(),
                email.into(),
                full.clone().into(),
                full.to_lowercase().into(),
                t.clone(),
                t.clone(),
            ]);
        }
        db.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
    }
    let took = started.elapsed();
    let _ = db.close().await;
    Ok(took)
}

pub fn print(figures: &[ImportFigure]) {
    for f in figures {
        let verdict = if f.ratio >= RATIO_GOAL { "ok" } else { "GOAL MISSED" };
        println!(
            "import of {:>7} rows: {:>8.0} rows/s vs plain INSERT {:>8.0} rows/s = {:.2}   goal ≥ {RATIO_GOAL}  {verdict}",
            f.rows, f.import_rows_per_second, f.baseline_rows_per_second, f.ratio
        );
        println!(
            "  GetUser p99 during the import {:.2} ms vs idle {:.2} ms ({} calls); server peak RSS {:.1} MiB",
            f.get_user_p99_during_import_ms,
            f.get_user_p99_idle_ms,
            f.get_user_calls_during_import,
            f.server_peak_rss_kib as f64 / 1024.0
        );
    }
    if let (Some(small), Some(large)) = (figures.first(), figures.last())
        && large.rows > small.rows
    {
        let ratio = large.server_peak_rss_kib as f64 / (small.server_peak_rss_kib as f64).max(1.0);
        let verdict = if ratio <= MEMORY_GOAL { "ok" } else { "GOAL MISSED" };
        println!(
            "import peak RSS, {} vs {} rows: {ratio:.2}×   goal ≤ {MEMORY_GOAL}×  {verdict}",
            large.rows, small.rows
        );
    }
}

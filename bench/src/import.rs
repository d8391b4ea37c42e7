//! Bulk import end to end — the file streamed over UploadImportFile, the job
//! started and polled until it succeeds — against plain multi-row INSERTs of
//! the same rows into the same tables of the same database: for each CSV row
//! the import writes a user, their credentials, an audit event, the
//! welcome email and the user's personal group (a resource, its group row
//! and the membership), so the baseline writes those seven rows too (500 a
//! statement, the seven statements of each 500 in one transaction, as the
//! import's batches). The users rows alone are timed as well and reported
//! beside it. Also: the server's peak RSS per size (a fresh server each), and
//! GetUser latency (a call every 5 ms) while the import runs against the
//! same server idle. The mail relay is held back (sending is not the
//! import's cost).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait, Value};
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
/// Bytes per UploadImportFile message (gRPC's advice for streamed files is
/// 16–64 KiB a message).
const UPLOAD_CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct ImportFigure {
    pub backend: String,
    pub rows: usize,
    pub file_bytes: usize,
    pub import_seconds: f64,
    pub import_rows_per_second: f64,
    /// The users rows alone, plain multi-row INSERTs.
    pub baseline_seconds: f64,
    pub baseline_rows_per_second: f64,
    /// Every row the import writes (user, credentials, audit event, welcome
    /// email), plain multi-row INSERTs, one transaction per 500.
    pub all_rows_seconds: f64,
    /// import rows/s ÷ rows/s of the plain INSERTs of the same rows (goal ≥ 0.5).
    pub ratio: f64,
    /// import rows/s ÷ rows/s of the users rows alone.
    pub users_only_ratio: f64,
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
            "  import of {rows}: {:.0} rows/s vs {:.0} rows/s plain INSERTs of the same rows = {:.2} (users alone {:.2}); peak RSS {} MiB; GetUser p99 {:.2} ms idle, {:.2} ms during",
            fig.import_rows_per_second,
            rows as f64 / fig.all_rows_seconds,
            fig.ratio,
            fig.users_only_ratio,
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
    clients.get_user_ids = vec![me];
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

    let baseline_time = baseline_users(&db_url, rows).await?;
    let all_time = baseline_all(&db_url, rows).await?;
    Ok(ImportFigure {
        backend: backend.into(),
        rows,
        file_bytes: file.len(),
        import_seconds: import_time.as_secs_f64(),
        import_rows_per_second: rows as f64 / import_time.as_secs_f64(),
        baseline_seconds: baseline_time.as_secs_f64(),
        baseline_rows_per_second: rows as f64 / baseline_time.as_secs_f64(),
        ratio: all_time.as_secs_f64() / import_time.as_secs_f64(),
        all_rows_seconds: all_time.as_secs_f64(),
        users_only_ratio: baseline_time.as_secs_f64() / import_time.as_secs_f64(),
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
    messages.extend(
        file.chunks(UPLOAD_CHUNK).map(|c| pb::UploadImportFileRequest { job_id: String::new(), data: c.to_vec() }),
    );
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
async fn baseline_users(db_url: &str, rows: usize) -> Result<Duration, Error> {
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
            let ph = placeholders(b, p, 9);
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

/// Placeholders for a VALUES row of `n` parameters starting after `p` bound:
/// `?` on SQLite (its fast form), `$k` on PostgreSQL.
pub(crate) fn placeholders(b: DbBackend, p: usize, n: usize) -> Vec<String> {
    (1..=n).map(|j| if b == DbBackend::Sqlite { "?".to_string() } else { format!("${}", p + j) }).collect()
}

/// Every row the import writes for a user — the user, their credentials, an
/// audit event, the welcome email (a body of the same size, a sealed secret
/// of the same length) — as plain multi-row INSERTs, the four of each 500
/// rows in one transaction, into the same tables.
async fn baseline_all(db_url: &str, rows: usize) -> Result<Duration, Error> {
    let db = Database::connect(db_url).await?;
    let b = db.get_database_backend();
    let t = time_value(b, now());
    let body = "Hello Imported User 123456,\n\nAn account was created for you on the data platform.\n\nUsername: all123456\n\
                Temporary password: \u{1}SECRET\u{1}\n\nLog in with it before 2026-12-08T20:00:00.123456Z and choose your own \
                password;\nthe temporary password works only for that.\n";
    let started = Instant::now();
    for chunk in 0..rows.div_ceil(BATCH) {
        let n = (rows - chunk * BATCH).min(BATCH);
        let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        let mut users = String::from(
            "INSERT INTO users (id, kind, username, username_lower, email, email_lower, full_name, full_name_lower, \
             position, about, location, organization, phone_number, email_notifications, status, default_role, \
             mfa_enabled, created_at, updated_at, version) VALUES ",
        );
        let mut creds = String::from(
            "INSERT INTO credentials (user_id, password_hash, temp_digest, temp_expires_at, failed_count, locked_until) VALUES ",
        );
        let mut audit = String::from(
            "INSERT INTO audit_events (id, at, actor_id, actor, action, target, request_id, detail) VALUES ",
        );
        let mut outbox = String::from(
            "INSERT INTO outbox (id, to_address, to_name, subject, body, sealed_secret, state, attempts, \
             next_attempt_at, last_error, created_at, sent_at) VALUES ",
        );
        let (mut uv, mut cv, mut av, mut ov): (Vec<Value>, Vec<Value>, Vec<Value>, Vec<Value>) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut resources = String::from(
            "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) VALUES ",
        );
        let mut groups = String::from("INSERT INTO groups (id, active, personal_of) VALUES ");
        let mut members = String::from("INSERT INTO group_members (group_id, user_id, added_at) VALUES ");
        let (mut rv, mut gv, mut mv): (Vec<Value>, Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new(), Vec::new());
        for (k, id) in ids.iter().enumerate() {
            let i = chunk * BATCH + k;
            let sep = if k > 0 { ", " } else { "" };
            let (name, email, full) = (format!("all{i}"), format!("all{i}@example.com"), format!("Imported User {i}"));
            let p = placeholders(b, uv.len(), 9);
            users.push_str(&format!(
                "{sep}({}, 'human', {}, {}, {}, {}, {}, {}, '', '', '', '', '', false, 'active', 'default', false, {}, {}, 1)",
                p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
            ));
            uv.extend([
                (*id).into(),
                name.clone().into(),
                name.clone().into(),
                email.clone().into(),
                email.clone().into(),
                full.clone().into(),
                full.to_lowercase().into(),
                t.clone(),
                t.clone(),
            ]);
            let p = placeholders(b, cv.len(), 3);
            creds.push_str(&format!("{sep}({}, NULL, {}, {}, 0, NULL)", p[0], p[1], p[2]));
            cv.extend([(*id).into(), Value::from(vec![7u8; 32]), t.clone()]);
            let p = placeholders(b, av.len(), 5);
            audit.push_str(&format!(
                "{sep}({}, {}, {}, 'admin', 'user.create', {}, 'import-bench', {})",
                p[0], p[1], p[2], p[3], p[4]
            ));
            av.extend([
                Uuid::now_v7().into(),
                t.clone(),
                (*id).into(),
                format!("user/{id}").into(),
                format!("username={name} import_job=01a2333b-880f-7126-8993-6c4c552ee754 line={i}").into(),
            ]);
            let p = placeholders(b, ov.len(), 7);
            outbox.push_str(&format!(
                "{sep}({}, {}, {}, 'Your Steward account', {}, {}, 'pending', 0, {}, NULL, {}, NULL)",
                p[0], p[1], p[2], p[3], p[4], p[5], p[6]
            ));
            ov.extend([
                Uuid::now_v7().into(),
                email.into(),
                full.into(),
                body.into(),
                Value::from(vec![9u8; 60]),
                t.clone(),
                t.clone(),
            ]);
            let group = Uuid::now_v7();
            let p = placeholders(b, rv.len(), 5);
            resources.push_str(&format!("{sep}({}, 'group', {}, {}, {}, {}, 1)", p[0], p[1], p[2], p[3], p[4]));
            rv.extend([group.into(), name.into(), (*id).into(), t.clone(), t.clone()]);
            let p = placeholders(b, gv.len(), 2);
            groups.push_str(&format!("{sep}({}, true, {})", p[0], p[1]));
            gv.extend([group.into(), (*id).into()]);
            let p = placeholders(b, mv.len(), 3);
            members.push_str(&format!("{sep}({}, {}, {})", p[0], p[1], p[2]));
            mv.extend([group.into(), (*id).into(), t.clone()]);
        }
        let txn = db.begin().await?;
        let statements =
            [(users, uv), (creds, cv), (audit, av), (outbox, ov), (resources, rv), (groups, gv), (members, mv)];
        for (sql, values) in statements {
            txn.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
        }
        txn.commit().await?;
    }
    let took = started.elapsed();
    let _ = db.close().await;
    Ok(took)
}

pub fn print(figures: &[ImportFigure]) {
    for f in figures {
        let verdict = if f.ratio >= RATIO_GOAL { "ok" } else { "GOAL MISSED" };
        println!(
            "import of {:>7} rows: {:>8.0} rows/s vs plain INSERTs of the same rows {:>8.0} rows/s = {:.2}   goal ≥ {RATIO_GOAL}  {verdict}",
            f.rows,
            f.import_rows_per_second,
            f.rows as f64 / f.all_rows_seconds,
            f.ratio
        );
        println!(
            "  (the users rows alone: {:.0} rows/s, so {:.2} of that; the import also writes credentials, an audit event and the welcome email of each)",
            f.baseline_rows_per_second, f.users_only_ratio
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

//! kill -9 in the middle of an import, twice, and a restart: the job resumes
//! from its checkpoint and ends with exactly the users, the error report and
//! the welcome emails of an uninterrupted run of the same file.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};
use steward_grpc::pb;

use super::{create, errors, finished, get, start, state, upload_stream};
use crate::harness::{Backend, Client, TestServer};
use crate::on_both_backends;

const ROWS: usize = 15_000;

/// Mostly valid rows; every 97th has a bad username, every 101st repeats an
/// earlier row's email.
fn file() -> Vec<u8> {
    let mut csv = String::from("username,email,name\r\n");
    for i in 0..ROWS {
        let username = if i % 97 == 5 { format!("bad-{i}") } else { format!("u{i}") };
        let email = if i % 101 == 7 { format!("u{}@example.com", i - 7) } else { format!("u{i}@example.com") };
        csv.push_str(&format!("{username},{email},\"User {i}, imported\"\r\n"));
    }
    csv.into_bytes()
}

async fn import(srv: &TestServer, data: &[u8]) -> String {
    let admin = srv.admin().await;
    let job = create(&admin).await.job.unwrap();
    upload_stream(&admin, &job.job_id, data, 256 * 1024).await.unwrap();
    start(&admin, &job.job_id, false, None).await;
    job.job_id
}

/// Waits until the job has committed at least `rows` rows (and is still running).
async fn wait_for_rows(admin: &Client, job: &str, rows: u64) -> pb::ImportJob {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let j = get(admin, job).await;
        if j.rows_read >= rows {
            return j;
        }
        assert!(Instant::now() < deadline, "the import did not reach {rows} rows: {j:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Usernames of imported users, sorted.
async fn imported_users(db_url: &str, job: &str) -> Vec<String> {
    let db = Database::connect(db_url).await.unwrap();
    let b = db.get_database_backend();
    let job_uuid: uuid::Uuid = job.parse().unwrap();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            b,
            "SELECT username FROM users WHERE import_job_id = $1 ORDER BY username",
            vec![job_uuid.into()],
        ))
        .await
        .unwrap();
    let names = rows.iter().map(|r| r.try_get::<String>("", "username").unwrap()).collect();
    db.close().await.unwrap();
    names
}

/// Welcome emails queued per imported user: exactly one each.
async fn welcome_emails_per_user(db_url: &str, job: &str) -> (u64, u64) {
    let db = Database::connect(db_url).await.unwrap();
    let b = db.get_database_backend();
    let job_uuid: uuid::Uuid = job.parse().unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            b,
            "SELECT COUNT(*) AS emails, COUNT(DISTINCT o.to_address) AS people FROM outbox o \
             JOIN users u ON u.email = o.to_address \
             WHERE u.import_job_id = $1 AND o.subject = 'Your Steward account'",
            vec![job_uuid.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let n = |c: &str| row.try_get::<i64>("", c).unwrap() as u64;
    let out = (n("emails"), n("people"));
    db.close().await.unwrap();
    out
}

on_both_backends!(a_killed_import_resumes_to_exactly_the_uninterrupted_result, |backend: Backend| async move {
    let data = file();
    let flags = |b: Backend| {
        TestServer::builder(b)
            .arg("--import-batch-size")
            .arg("100")
            .arg("--import-lease-ms")
            .arg("300")
            .arg("--import-poll-ms")
            .arg("50")
    };

    // The reference: one uninterrupted run.
    let reference = flags(backend.clone()).start().await;
    let ref_job = import(&reference, &data).await;
    let ref_admin = reference.admin().await;
    let ref_done = finished(&ref_admin, &ref_job, Duration::from_secs(300)).await;
    assert_eq!(state(&ref_done), pb::ImportJobState::Succeeded);
    let ref_users = imported_users(&reference.database_url, &ref_job).await;
    let ref_errors = errors(&ref_admin, &ref_job).await;
    assert_eq!(ref_done.rows_read, ROWS as u64);
    assert_eq!(ref_users.len() as u64, ref_done.rows_created);
    assert!(ref_done.rows_failed > 250, "{ref_done:?}");

    // The same file, with the server killed twice mid-run.
    let mut srv = flags(backend).start().await;
    let job = import(&srv, &data).await;
    for at in [ROWS as u64 / 4, ROWS as u64 * 2 / 3] {
        let admin = srv.admin().await;
        let before = wait_for_rows(&admin, &job, at).await;
        srv.kill();
        assert_eq!(state(&before), pb::ImportJobState::Running, "killed while running: {before:?}");
        assert!(before.rows_read < ROWS as u64, "killed before the end: {before:?}");
        srv.restart();
    }
    let admin = srv.admin().await;
    let done = finished(&admin, &job, Duration::from_secs(300)).await;
    assert_eq!(state(&done), pb::ImportJobState::Succeeded, "{done:?}");
    assert_eq!(
        (done.rows_read, done.rows_created, done.rows_failed),
        (ref_done.rows_read, ref_done.rows_created, ref_done.rows_failed)
    );
    assert_eq!(imported_users(&srv.database_url, &job).await, ref_users, "nobody created twice or missed");
    assert_eq!(errors(&admin, &job).await, ref_errors, "the same error report");
    let created = done.rows_created;
    assert_eq!(welcome_emails_per_user(&srv.database_url, &job).await, (created, created), "one welcome email each");
});

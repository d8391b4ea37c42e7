//! Global reports and repairs as jobs, on both databases: rows broken
//! directly in the database (as another service or an older version would
//! leave them) are listed exactly, with progress, as a formula-safe CSV and
//! in a summary email; a repair of all users fixes them, and a second
//! report finds only what needs a person.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use steward_grpc::pb;
use steward_grpc::pb::MaintenanceJobState as S;
use tokio_stream::StreamExt;
use uuid::Uuid;

use crate::harness::{Client, TestServer, onboard};
use crate::on_both_backends;

async fn wait(admin: &Client, job: pb::MaintenanceJob) -> pb::MaintenanceJob {
    let start = Instant::now();
    loop {
        let req = pb::GetMaintenanceJobRequest { job_id: job.job_id.clone() };
        let j = admin.maintenance().get_maintenance_job(req).await.unwrap().into_inner().job.unwrap();
        match S::try_from(j.state).unwrap() {
            S::Succeeded => return j,
            S::Failed => panic!("job failed: {j:?}"),
            _ => {}
        }
        assert!(start.elapsed() < Duration::from_secs(30), "job still {:?}", j.state);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn global_report(admin: &Client) -> pb::MaintenanceJob {
    let job = admin.maintenance().generate_global_report(pb::GenerateGlobalReportRequest {}).await.unwrap();
    wait(admin, job.into_inner().job.unwrap()).await
}

async fn repair_all(admin: &Client) -> pb::MaintenanceJob {
    let job = admin.maintenance().repair_all_users(pb::RepairAllUsersRequest { dry_run: false }).await.unwrap();
    wait(admin, job.into_inner().job.unwrap()).await
}

/// Every finding of the job, two to a page: (kind, user id).
async fn findings(admin: &Client, job: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let req = pb::ListMaintenanceJobFindingsRequest { job_id: job.into(), page_size: 2, page_token: token };
        let page = admin.maintenance().list_maintenance_job_findings(req).await.unwrap().into_inner();
        out.extend(page.findings.into_iter().map(|f| {
            let f = f.finding.unwrap();
            (f.kind, f.user_id)
        }));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    out.sort();
    out
}

async fn csv(admin: &Client, job: &str) -> String {
    let req = pb::DownloadMaintenanceJobFindingsRequest { job_id: job.into() };
    let mut stream = admin.maintenance().download_maintenance_job_findings(req).await.unwrap().into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend(chunk.unwrap().chunk);
    }
    String::from_utf8(bytes).unwrap()
}

async fn sql(db: &DatabaseConnection, text: &str, values: Vec<Value>) {
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), text, values)).await.unwrap();
}

/// A row's creation time, as the server's own rows would have it.
#[allow(clippy::disallowed_methods)] // a black-box test has no access to the server's clock
fn now(db: &DatabaseConnection) -> Value {
    let t = time::OffsetDateTime::now_utc();
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let f = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            );
            Value::from(t.format(&f).unwrap())
        }
        _ => Value::from(t.replace_nanosecond(0).unwrap()),
    }
}

on_both_backends!(a_global_report_lists_exactly_what_was_broken, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let cy = onboard(&srv, "cyd").await;
    // Whatever the starting point (users made before personal groups were),
    // a repair of all users leaves nothing automatic to fix.
    repair_all(&admin).await;
    let clean = global_report(&admin).await;
    assert_eq!(findings(&admin, &clean.job_id).await, vec![]);

    let db = Database::connect(srv.database_url.as_str()).await.unwrap();
    let id = |s: &str| Value::from(Uuid::parse_str(s).unwrap());
    // ann is a member of bob's inactive group.
    let dormant = Uuid::now_v7();
    sql(
        &db,
        "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) \
         VALUES ($1, 'group', 'dormant', $2, $3, $3, 1)",
        vec![dormant.into(), id(&bob.id), now(&db)],
    )
    .await;
    sql(&db, "INSERT INTO groups (id, active) VALUES ($1, false)", vec![dormant.into()]).await;
    sql(
        &db,
        "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3)",
        vec![dormant.into(), id(&ann.id), now(&db)],
    )
    .await;
    // An entry of a group that no longer exists.
    sql(
        &db,
        "INSERT INTO group_resources (group_id, resource_id, access, added_at) VALUES ($1, $2, 'read', $3)",
        vec![Uuid::now_v7().into(), Uuid::now_v7().into(), now(&db)],
    )
    .await;
    // bob's personal group renamed; cy suspended with her session alive.
    sql(
        &db,
        "UPDATE resources SET display_name = '=HYPERLINK(1)' WHERE id = (SELECT id FROM groups WHERE personal_of = $1)",
        vec![id(&bob.id)],
    )
    .await;
    sql(&db, "UPDATE users SET status = 'suspended' WHERE id = $1", vec![id(&cy.id)]).await;
    let _ = db.close().await;

    let job = global_report(&admin).await;
    assert_eq!(job.users_done, job.users_total);
    assert_eq!(job.percent, 100.0);
    assert_eq!(job.findings, 4);
    let want = vec![
        ("ENTRY_OF_MISSING_GROUP".to_string(), String::new()),
        ("MEMBER_OF_INACTIVE_GROUP".into(), ann.id.clone()),
        ("PERSONAL_GROUP_MISNAMED".into(), bob.id.clone()),
        ("SESSIONS_OF_INACTIVE_USER".into(), cy.id.clone()),
    ];
    assert_eq!(findings(&admin, &job.job_id).await, want);
    let text = csv(&admin, &job.job_id).await;
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "seq,kind,user_id,target,expected,found,fix,outcome,detail");
    assert_eq!(lines.len(), 5);
    assert!(text.contains("named =HYPERLINK(1)"), "the name is in a cell that starts with text: {text}");
    srv.mailbox().wait_for("", "The global inconsistency report has finished").await;

    // Repair all: everything automatic is fixed; the next report is empty.
    let fixed = repair_all(&admin).await;
    assert_eq!((fixed.findings, fixed.repaired, fixed.not_repaired), (4, 4, 0));
    srv.mailbox().wait_for("", "The repair of all users has finished").await;
    let after = global_report(&admin).await;
    assert_eq!(findings(&admin, &after.job_id).await, vec![]);
});

//! The whole flow through a presigned URL: a file full of edge cases, its
//! rows and errors with true line numbers, the users as CreateUser makes
//! them, the welcome emails and the summary with the errors attached.

use std::time::{Duration, Instant};

use steward_grpc::pb;
use tokio_stream::StreamExt;

use super::http::put;
use super::{create, errors, finished, start, state};
use crate::harness::smtp::SmtpListener;
use crate::harness::{Backend, Client, TestServer, mailbox_password};
use crate::on_both_backends;

/// Header in another order and case behind a BOM; CRLF and LF; a blank line;
/// quoted commas, newlines and doubled quotes; a short row; invalid UTF-8;
/// duplicates of earlier lines (in earlier batches: the batch size is 2); a
/// taken username; a bad username; no newline at the end.
pub const EDGE_CASES: &[u8] = b"\xEF\xBB\xBFEmail,USERNAME,name\r\n\
ann@example.com,ann,Ann Lee\r\n\
\r\n\
bob@example.com,bob,\"Bob, Jr.\"\r\n\
cat@example.com,cat,\"Cat\nMultiline\"\n\
dan@example.com,dan,\"Dan \"\"The Man\"\"\"\n\
eve@example.com,eve\n\
\xff@example.com,fay,Fay\n\
ann2@example.com,ANN,Ann Again\n\
gus@example.com,gus,Gus\n\
hal@example.com,admin,Hal\n\
ivy@example.com,i_v,Ivy\n\
BOB@example.com,bobby,Bobby\n\
jon@example.com,jon,Jon";

pub fn expected_errors() -> Vec<(u64, String, String)> {
    [
        (5, "name", "CONTROL_CHARACTER"),
        (8, "", "WRONG_COLUMN_COUNT"),
        (9, "email", "INVALID_UTF8"),
        (10, "username", "DUPLICATE_USERNAME"),
        (12, "username", "USERNAME_TAKEN"),
        (13, "username", "INVALID_USERNAME"),
        (14, "email", "DUPLICATE_EMAIL"),
    ]
    .into_iter()
    .map(|(l, c, r)| (l, c.to_string(), r.to_string()))
    .collect()
}

async fn usernames(admin: &Client) -> Vec<String> {
    let req = pb::ListUsersRequest { page_size: 1000, ..Default::default() };
    let mut names: Vec<String> =
        admin.users().list_users(req).await.unwrap().into_inner().users.into_iter().map(|u| u.username).collect();
    names.sort();
    names
}

async fn wait_for_mail(smtp: &SmtpListener, count: impl Fn(&[crate::harness::smtp::Received]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !count(&smtp.messages()) {
        assert!(Instant::now() < deadline, "mail did not arrive: {:#?}", smtp.messages());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends!(a_presigned_upload_imports_exactly_the_valid_rows, |backend: Backend| async move {
    let smtp = SmtpListener::start().await;
    let srv = TestServer::builder(backend)
        .arg("--smtp-url")
        .arg(format!("smtp://{}", smtp.addr))
        .arg("--import-batch-size")
        .arg("2")
        .arg("--import-poll-ms")
        .arg("50")
        .start()
        .await;
    let admin = srv.admin().await;
    let before = usernames(&admin).await;

    let template = admin.imports().get_import_template(pb::GetImportTemplateRequest {}).await.unwrap().into_inner();
    assert_eq!(template.header, "username,email,name");

    let created = create(&admin).await;
    let job = created.job.unwrap();
    assert_eq!(state(&job), pb::ImportJobState::Created);
    assert!(created.upload_url.starts_with(&format!("http://{}/uploads/imports/{}?", srv.addr, job.job_id)));

    // A tampered URL (a larger cap) is refused and spends nothing.
    let tampered = created.upload_url.replace("max_bytes=", "max_bytes=9");
    let r = put(&tampered, EDGE_CASES, false).await;
    assert_eq!((r.status, r.body.contains("UPLOAD_URL_BAD_SIGNATURE")), (403, true), "{}", r.body);

    let r = put(&created.upload_url, EDGE_CASES, false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Single use.
    let again = put(&created.upload_url, EDGE_CASES, false).await;
    assert_eq!((again.status, again.body.contains("JOB_NOT_AWAITING_UPLOAD")), (409, true), "{}", again.body);

    let started = start(&admin, &job.job_id, false, None).await;
    assert_eq!(state(&started), pb::ImportJobState::Queued);
    let mut watch = admin
        .imports()
        .watch_import_job(pb::WatchImportJobRequest { job_id: job.job_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Some(update) = watch.next().await {
        seen.push(update.unwrap().job.unwrap());
    }
    let done = seen.last().cloned().unwrap();
    assert_eq!(state(&done), pb::ImportJobState::Succeeded, "{done:?}");
    assert!(seen.windows(2).all(|w| w[0].rows_read <= w[1].rows_read), "progress only grows");
    assert_eq!((done.rows_read, done.rows_created, done.rows_failed), (12, 5, 7));
    assert_eq!(done.percent, 100.0);
    assert_eq!(finished(&admin, &job.job_id, Duration::from_secs(1)).await, done);

    assert_eq!(errors(&admin, &job.job_id).await, expected_errors());
    let mut expect = before.clone();
    expect.extend(["ann", "bob", "dan", "gus", "jon"].map(String::from));
    expect.sort();
    assert_eq!(usernames(&admin).await, expect);
    let bob = admin
        .users()
        .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::Username("bob".into())) })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(bob.full_name, "Bob, Jr.");
    assert_eq!(bob.default_role, "default");

    // The CSV download: the same errors, formula-safe.
    let mut csv = Vec::new();
    let mut chunks = admin
        .imports()
        .download_import_job_errors(pb::DownloadImportJobErrorsRequest { job_id: job.job_id.clone() })
        .await
        .unwrap()
        .into_inner();
    while let Some(c) = chunks.next().await {
        csv.extend(c.unwrap().data);
    }
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("line,column,reason,message\r\n5,name,CONTROL_CHARACTER,"), "{csv}");
    assert!(csv.contains("\r\n10,username,DUPLICATE_USERNAME,the same username as line 2\r\n"), "{csv}");
    assert_eq!(csv.lines().count(), 8, "{csv}");

    // Welcome emails for exactly the created users, and the summary with the errors.
    wait_for_mail(&smtp, |m| m.iter().filter(|m| m.data.contains("Subject: Your Steward account")).count() >= 6).await;
    wait_for_mail(&smtp, |m| m.iter().any(|m| m.data.contains("Subject: Your user import has finished"))).await;
    let messages = smtp.messages();
    let mut welcomed: Vec<String> = messages
        .iter()
        .filter(|m| m.data.contains("Subject: Your Steward account"))
        .flat_map(|m| m.to.iter().map(|t| t.trim_matches(['<', '>']).to_string()).collect::<Vec<_>>())
        .filter(|t| t != "admin@example.com")
        .collect();
    welcomed.sort();
    assert_eq!(
        welcomed,
        ["ann@example.com", "bob@example.com", "dan@example.com", "gus@example.com", "jon@example.com"]
    );
    let summary = messages.iter().find(|m| m.data.contains("Subject: Your user import has finished")).unwrap();
    assert_eq!(summary.to, ["<admin@example.com>"]);
    assert!(summary.data.contains("Users created: 5") && summary.data.contains("Rows failed: 7"), "{}", summary.data);
    assert!(summary.data.contains("Content-Disposition: attachment"), "{}", summary.data);
    assert!(summary.data.contains(&format!("import-{}-errors.csv", job.job_id)), "{}", summary.data);
    assert!(summary.data.contains("10,username,DUPLICATE_USERNAME,the same username as line 2"), "{}", summary.data);

    // An imported user logs in with the emailed temporary password, which
    // must be changed first — exactly as after CreateUser.
    let jon_mail = messages.iter().find(|m| m.to == ["<jon@example.com>"]).unwrap();
    let password = mailbox_password(&jon_mail.data.replace("=\r\n", ""));
    let login = pb::LoginRequest { username: "jon".into(), password, totp_code: String::new() };
    let session = srv.client(None).await.auth().login(login).await.unwrap().into_inner();
    assert!(session.password_change_required);

    // Every creation is audited as the initiator's.
    let filter = pb::ListAuditEventsRequest { action: "user.create".into(), page_size: 100, ..Default::default() };
    let events = admin.audit().list_audit_events(filter).await.unwrap().into_inner().audit_events;
    let imported: Vec<_> = events.iter().filter(|e| e.detail.contains(&job.job_id)).collect();
    assert_eq!(imported.len(), 5);
    assert!(imported.iter().all(|e| e.actor == "admin"));
    smtp.stop();
});

//! Uploads that must be refused, the streamed upload, dry runs, the failure
//! threshold and cancelling — each leaving nothing behind it shouldn't.

use std::time::Duration;

use steward_grpc::pb;
use tonic::Code;

use super::http::put;
use super::{create, errors, finished, get, start, state, upload_stream};
use crate::harness::{Backend, TestServer, assert_status, onboard};
use crate::on_both_backends;

fn rows(n: usize, bad_every: usize) -> Vec<u8> {
    let mut csv = String::from("username,email,name\n");
    for i in 0..n {
        if bad_every > 0 && i % bad_every == 0 {
            csv.push_str(&format!("bad_{i},user{i}@example.com,User {i}\n"));
        } else {
            csv.push_str(&format!("user{i},user{i}@example.com,User {i}\n"));
        }
    }
    csv.into_bytes()
}

async fn user_count(admin: &crate::harness::Client) -> usize {
    let req = pb::ListUsersRequest { page_size: 1000, ..Default::default() };
    admin.users().list_users(req).await.unwrap().into_inner().users.len()
}

on_both_backends!(oversize_expired_and_early_calls_are_refused_and_change_nothing, |backend: Backend| async move {
    let srv = TestServer::builder(backend)
        .arg("--import-max-bytes")
        .arg("200")
        .arg("--import-url-ttl-secs")
        .arg("2")
        .arg("--import-poll-ms")
        .arg("50")
        .start()
        .await;
    let admin = srv.admin().await;
    let users_before = user_count(&admin).await;
    let small = b"username,email,name\nkim,kim@example.com,Kim\n";
    let big = rows(20, 0);
    assert!(big.len() > 200);

    // Over the cap with a Content-Length: refused before the body is read.
    let a = create(&admin).await;
    let r = put(&a.upload_url, &big, false).await;
    assert_eq!((r.status, r.body.contains("FILE_TOO_LARGE")), (413, true), "{}", r.body);
    // Over the cap without one (chunked): refused while it streams.
    let b = create(&admin).await;
    let r = put(&b.upload_url, &big, true).await;
    assert_eq!((r.status, r.body.contains("FILE_TOO_LARGE")), (413, true), "{}", r.body);
    for job in [&a, &b] {
        let job_id = &job.job.as_ref().unwrap().job_id;
        assert_eq!(state(&get(&admin, job_id).await), pb::ImportJobState::Created);
        // The URL is spent, but the job can still take its file over gRPC.
        assert_eq!(put(&job.upload_url, small, false).await.status, 409);
    }
    let over = upload_stream(&admin, &a.job.as_ref().unwrap().job_id, &big, 64).await;
    assert_status(over, Code::ResourceExhausted, "FILE_TOO_LARGE");
    let empty = upload_stream(&admin, &a.job.as_ref().unwrap().job_id, b"", 64).await;
    assert_status(empty, Code::InvalidArgument, "EMPTY_FILE");
    let uploads = std::fs::read_dir(srv.var_dir.path().join("uploads/imports")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(uploads, 0, "nothing refused is kept");

    // Starting before the upload; unknown and malformed ids.
    let a_id = a.job.as_ref().unwrap().job_id.clone();
    let early = pb::StartImportJobRequest { job_id: a_id.clone(), ..Default::default() };
    assert_status(admin.imports().start_import_job(early).await, Code::FailedPrecondition, "JOB_NOT_UPLOADED");
    let unknown = pb::GetImportJobRequest { job_id: uuid::Uuid::now_v7().to_string() };
    assert_status(admin.imports().get_import_job(unknown).await, Code::NotFound, "NOT_FOUND");
    let malformed = pb::GetImportJobRequest { job_id: "nope".into() };
    assert_status(admin.imports().get_import_job(malformed).await, Code::InvalidArgument, "INVALID_ID");

    // The stream works where the URL was spent.
    let job = upload_stream(&admin, &a_id, small, 7).await.unwrap();
    assert_eq!((state(&job), job.file_bytes), (pb::ImportJobState::Uploaded, small.len() as u64));
    assert_status(upload_stream(&admin, &a_id, small, 7).await, Code::FailedPrecondition, "JOB_NOT_AWAITING_UPLOAD");

    // An expired URL.
    let c = create(&admin).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = put(&c.upload_url, small, false).await;
    assert_eq!((r.status, r.body.contains("UPLOAD_URL_EXPIRED")), (403, true), "{}", r.body);

    // Nobody but an importer: a plain user is refused everywhere.
    let pat = onboard(&srv, "pat").await;
    let pat = srv.client(Some(&pat.token)).await;
    assert_status(
        pat.imports().create_import_job(pb::CreateImportJobRequest {}).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    assert_status(upload_stream(&pat, &a_id, small, 7).await, Code::PermissionDenied, "PERMISSION_DENIED");
    assert_eq!(user_count(&admin).await, users_before + 1, "only pat was created");
});

on_both_backends!(a_dry_run_creates_nobody_and_a_threshold_stops_the_job, |backend: Backend| async move {
    let srv = TestServer::builder(backend)
        .arg("--import-batch-size")
        .arg("10")
        .arg("--import-poll-ms")
        .arg("50")
        .start()
        .await;
    let admin = srv.admin().await;
    let before = user_count(&admin).await;
    // 40 rows, every 10th with a bad username, and a duplicate of row 1 at the end.
    let mut data = rows(40, 10);
    data.extend_from_slice(b"user1,other@example.com,Again\n");

    let dry = create(&admin).await.job.unwrap();
    upload_stream(&admin, &dry.job_id, &data, 100).await.unwrap();
    start(&admin, &dry.job_id, true, None).await;
    let done = finished(&admin, &dry.job_id, Duration::from_secs(30)).await;
    assert_eq!(state(&done), pb::ImportJobState::Succeeded);
    assert!(done.validate_only);
    assert_eq!((done.rows_read, done.rows_created, done.rows_failed), (41, 0, 5));
    let dry_errors = errors(&admin, &dry.job_id).await;
    assert_eq!(dry_errors.last().unwrap(), &(42, "username".to_string(), "DUPLICATE_USERNAME".to_string()));
    assert_eq!(user_count(&admin).await, before, "a dry run creates nobody");

    // The same file for real gives the same report.
    let real = create(&admin).await.job.unwrap();
    upload_stream(&admin, &real.job_id, &data, 100).await.unwrap();
    start(&admin, &real.job_id, false, None).await;
    let done = finished(&admin, &real.job_id, Duration::from_secs(30)).await;
    assert_eq!((done.rows_read, done.rows_created, done.rows_failed), (41, 36, 5));
    assert_eq!(errors(&admin, &real.job_id).await, dry_errors);

    // With a threshold of 1, the job stops after the batch that passed it.
    let strict = create(&admin).await.job.unwrap();
    let mut more = String::from("username,email,name\n");
    for i in 0..100 {
        more.push_str(&format!("x_{i},x{i}@example.com,X\n"));
    }
    upload_stream(&admin, &strict.job_id, more.as_bytes(), 1000).await.unwrap();
    start(&admin, &strict.job_id, false, Some(1)).await;
    let done = finished(&admin, &strict.job_id, Duration::from_secs(30)).await;
    assert_eq!(state(&done), pb::ImportJobState::Failed);
    assert_eq!(done.failure_reason, "FAILURE_THRESHOLD_EXCEEDED");
    assert_eq!(done.rows_read, 10, "one batch of 10, then it stopped");

    // A cancelled job never runs; an ended one cannot be cancelled.
    let idle = create(&admin).await.job.unwrap();
    let cancelled = admin.imports().cancel_import_job(pb::CancelImportJobRequest { job_id: idle.job_id.clone() }).await;
    assert_eq!(state(&cancelled.unwrap().into_inner().job.unwrap()), pb::ImportJobState::Cancelled);
    let again = admin.imports().cancel_import_job(pb::CancelImportJobRequest { job_id: idle.job_id.clone() }).await;
    assert_status(again, Code::FailedPrecondition, "JOB_FINISHED");
    let started_again = pb::StartImportJobRequest { job_id: real.job_id.clone(), ..Default::default() };
    assert_status(
        admin.imports().start_import_job(started_again).await,
        Code::FailedPrecondition,
        "JOB_ALREADY_STARTED",
    );

    // Every job is listed, oldest first.
    let listed = admin
        .imports()
        .list_import_jobs(pb::ListImportJobsRequest { page_size: 2, page_token: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.jobs.iter().map(|j| j.job_id.clone()).collect::<Vec<_>>(), [dry.job_id, real.job_id]);
    assert!(!listed.next_page_token.is_empty());
});

//! Two replicas on one PostgreSQL: a job runs on one worker at a time, and
//! when the worker's process dies the other replica takes the job over at its
//! checkpoint and finishes it — everyone created once.

use std::time::Duration;

use steward_grpc::pb;

use super::{create, finished, get, start, state, upload_stream};
use crate::harness::{Backend, Client, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_takes_over_the_job_of_a_dead_one() {
    let Some(backend @ Backend::Postgres { .. }) = Backend::postgres().await else { return };
    let rows = 8_000;
    let mut csv = String::from("username,email,name\n");
    for i in 0..rows {
        csv.push_str(&format!("rep{i},rep{i}@example.com,Replica User {i}\n"));
    }
    let mut first = TestServer::builder(backend)
        .arg("--import-batch-size")
        .arg("50")
        .arg("--import-lease-ms")
        .arg("500")
        .arg("--import-poll-ms")
        .arg("50")
        .start()
        .await;
    let admin = first.admin().await;
    let job = create(&admin).await.job.unwrap().job_id;
    upload_stream(&admin, &job, csv.as_bytes(), 64 * 1024).await.unwrap();
    start(&admin, &job, false, None).await;
    // The first replica has it running…
    loop {
        let j = get(&admin, &job).await;
        if state(&j) == pb::ImportJobState::Running && j.rows_read > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // …a second one starts beside it, then the first dies.
    let second = first.replica();
    let other = Client::connect(second.addr, Some(&first.admin_key)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = get(&other, &job).await;
    assert_eq!(state(&before), pb::ImportJobState::Running, "still running on the first: {before:?}");
    first.kill();
    let done = finished(&other, &job, Duration::from_secs(120)).await;
    assert_eq!(state(&done), pb::ImportJobState::Succeeded, "{done:?}");
    assert!(before.rows_read < rows, "the second replica did part of the work: {before:?}");
    assert_eq!((done.rows_read, done.rows_created, done.rows_failed), (rows, rows, 0));
    let list = pb::ListUsersRequest { page_size: 1000, query: "replica user".into(), ..Default::default() };
    let mut seen = 0;
    let mut req = list;
    loop {
        let page = other.users().list_users(req.clone()).await.unwrap().into_inner();
        seen += page.users.len() as u64;
        if page.next_page_token.is_empty() {
            break;
        }
        req.page_token = page.next_page_token;
    }
    assert_eq!(seen, rows, "everyone created once");
}

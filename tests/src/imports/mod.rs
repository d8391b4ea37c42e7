//! Bulk import over the real binary: presigned and streamed uploads, the
//! CSV edge cases, progress, errors, emails, dry runs, thresholds, cancels,
//! and a kill -9 in the middle of a job.

mod flow;
pub mod http;
mod kill;
mod replicas;
mod uploads;

use std::time::{Duration, Instant};

use steward_grpc::pb;

use crate::harness::Client;

pub async fn create(admin: &Client) -> pb::CreateImportJobResponse {
    admin.imports().create_import_job(pb::CreateImportJobRequest {}).await.unwrap().into_inner()
}

pub async fn start(admin: &Client, job: &str, validate_only: bool, threshold: Option<u64>) -> pb::ImportJob {
    let req = pb::StartImportJobRequest { job_id: job.into(), validate_only, failure_threshold: threshold };
    admin.imports().start_import_job(req).await.unwrap().into_inner().job.unwrap()
}

pub async fn get(admin: &Client, job: &str) -> pb::ImportJob {
    admin
        .imports()
        .get_import_job(pb::GetImportJobRequest { job_id: job.into() })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap()
}

/// Polls until the job has ended.
pub async fn finished(admin: &Client, job: &str, within: Duration) -> pb::ImportJob {
    let deadline = Instant::now() + within;
    loop {
        let j = get(admin, job).await;
        let state = pb::ImportJobState::try_from(j.state).unwrap();
        if matches!(state, pb::ImportJobState::Succeeded | pb::ImportJobState::Failed | pb::ImportJobState::Cancelled) {
            return j;
        }
        assert!(Instant::now() < deadline, "import job still {state:?} after {within:?}: {j:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every row error, page by page, as (line, column, reason).
pub async fn errors(admin: &Client, job: &str) -> Vec<(u64, String, String)> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let req = pb::ListImportJobErrorsRequest { job_id: job.into(), page_size: 7, page_token: token };
        let page = admin.imports().list_import_job_errors(req).await.unwrap().into_inner();
        out.extend(page.errors.into_iter().map(|e| (e.line, e.column, e.reason)));
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Streams `data` over UploadImportFile in `chunk`-byte messages.
pub async fn upload_stream(
    admin: &Client,
    job: &str,
    data: &[u8],
    chunk: usize,
) -> Result<pb::ImportJob, tonic::Status> {
    let mut messages = vec![pb::UploadImportFileRequest { job_id: job.into(), data: Vec::new() }];
    messages
        .extend(data.chunks(chunk).map(|c| pb::UploadImportFileRequest { job_id: String::new(), data: c.to_vec() }));
    let r = admin.imports().upload_import_file(tokio_stream::iter(messages)).await?;
    Ok(r.into_inner().job.unwrap())
}

pub fn state(j: &pb::ImportJob) -> pb::ImportJobState {
    pb::ImportJobState::try_from(j.state).unwrap()
}

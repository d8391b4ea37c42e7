//! ImportService: bulk-import jobs over gRPC (the presigned-URL upload is
//! plain HTTP, in [`crate::upload_http`]).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::DomainError;
use steward_domain::import::{ErrorCsv, ImportJob, ImportJobId, ImportOptions, ImportService, JobState, RowError};
use steward_domain::page::PageRequest;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::convert::{IntoStatus, ctx, timestamp};
use crate::error::to_status;
use crate::pb::{self, import_service_server::ImportService as Api};
use crate::services::download::{CsvPages, csv_chunks};

/// How often a watch looks at the job.
const WATCH_POLL: Duration = Duration::from_millis(200);
/// Errors per chunk of a download.
const DOWNLOAD_PAGE: u32 = 1000;

pub struct ImportApi {
    pub imports: Arc<ImportService>,
}

pub fn import_job(j: &ImportJob) -> pb::ImportJob {
    pb::ImportJob {
        job_id: j.id.to_string(),
        initiator_id: j.initiator.to_string(),
        state: state(j.state) as i32,
        validate_only: j.options.validate_only,
        failure_threshold: j.options.failure_threshold,
        max_bytes: j.max_bytes,
        file_bytes: j.file_bytes.unwrap_or_default(),
        rows_read: j.counters.rows_read,
        rows_created: j.counters.rows_created,
        rows_failed: j.counters.rows_failed,
        percent: j.percent(),
        failure_reason: j.failure_reason.clone().unwrap_or_default(),
        create_time: Some(timestamp(j.created_at)),
        update_time: Some(timestamp(j.updated_at)),
        start_time: j.started_at.map(timestamp),
        finish_time: j.finished_at.map(timestamp),
    }
}

fn state(s: JobState) -> pb::ImportJobState {
    match s {
        JobState::Created => pb::ImportJobState::Created,
        JobState::Uploaded => pb::ImportJobState::Uploaded,
        JobState::Queued => pb::ImportJobState::Queued,
        JobState::Running => pb::ImportJobState::Running,
        JobState::Succeeded => pb::ImportJobState::Succeeded,
        JobState::Failed => pb::ImportJobState::Failed,
        JobState::Cancelled => pb::ImportJobState::Cancelled,
    }
}

fn row_error(e: &RowError) -> pb::ImportRowError {
    pb::ImportRowError { line: e.line, column: e.column.clone(), reason: e.reason.clone(), message: e.message.clone() }
}

fn job_id(raw: &str) -> Result<ImportJobId, DomainError> {
    if raw.trim().is_empty() {
        return Err(DomainError::invalid("job_id", "JOB_REQUIRED", "name the import job"));
    }
    ImportJobId::parse(raw, "job_id")
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Api for ImportApi {
    async fn get_import_template(
        &self,
        req: Request<pb::GetImportTemplateRequest>,
    ) -> Result<Response<pb::GetImportTemplateResponse>, Status> {
        let ctx = ctx(&req)?;
        let (header, example) = self.imports.template(&ctx).or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetImportTemplateResponse {
            header: header.into(),
            example_row: example.into(),
            csv: format!("{header}\r\n{example}\r\n").into_bytes(),
        }))
    }

    async fn create_import_job(
        &self,
        req: Request<pb::CreateImportJobRequest>,
    ) -> Result<Response<pb::CreateImportJobResponse>, Status> {
        let ctx = ctx(&req)?;
        let out = self.imports.create(&ctx).await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CreateImportJobResponse {
            job: Some(import_job(&out.job)),
            upload_url: out.upload_url,
            upload_url_expire_time: Some(timestamp(out.upload_url_expires_at)),
        }))
    }

    async fn upload_import_file(
        &self,
        req: Request<Streaming<pb::UploadImportFileRequest>>,
    ) -> Result<Response<pb::UploadImportFileResponse>, Status> {
        let ctx = ctx(&req)?;
        let mut stream = req.into_inner();
        let first = match stream.message().await? {
            Some(m) => m,
            None => {
                return Err(to_status(
                    DomainError::invalid("job_id", "JOB_REQUIRED", "name the import job"),
                    &ctx.request_id,
                ));
            }
        };
        let id = job_id(&first.job_id).or_status(&ctx.request_id)?;
        let mut upload = self.imports.open_stream_upload(&ctx, id).await.or_status(&ctx.request_id)?;
        upload.write(&first.data).await.or_status(&ctx.request_id)?;
        loop {
            match stream.message().await {
                Ok(Some(m)) => upload.write(&m.data).await.or_status(&ctx.request_id)?,
                Ok(None) => break,
                Err(status) => {
                    // The client went away or sent garbage: keep nothing.
                    upload.abort().await;
                    return Err(status);
                }
            }
        }
        let out = upload.finish().await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::UploadImportFileResponse { job: Some(import_job(&out.job)) }))
    }

    async fn start_import_job(
        &self,
        req: Request<pb::StartImportJobRequest>,
    ) -> Result<Response<pb::StartImportJobResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let job = async {
            let id = job_id(&r.job_id)?;
            let options = ImportOptions { validate_only: r.validate_only, failure_threshold: r.failure_threshold };
            self.imports.start(&ctx, id, options).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::StartImportJobResponse { job: Some(import_job(&job)) }))
    }

    async fn get_import_job(
        &self,
        req: Request<pb::GetImportJobRequest>,
    ) -> Result<Response<pb::GetImportJobResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let job = async { self.imports.get(&ctx, job_id(&r.job_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::GetImportJobResponse { job: Some(import_job(&job)) }))
    }

    async fn list_import_jobs(
        &self,
        req: Request<pb::ListImportJobsRequest>,
    ) -> Result<Response<pb::ListImportJobsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let page = PageRequest::parse(r.page_size, &r.page_token, "import_jobs")?;
            self.imports.list(&ctx, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListImportJobsResponse {
            jobs: page.items.iter().map(import_job).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_import_job_errors(
        &self,
        req: Request<pb::ListImportJobErrorsRequest>,
    ) -> Result<Response<pb::ListImportJobErrorsResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let page = async {
            let id = job_id(&r.job_id)?;
            let page = PageRequest::parse(r.page_size, &r.page_token, "import_errors")?;
            self.imports.errors(&ctx, id, page).await
        }
        .await
        .or_status(&ctx.request_id)?;
        Ok(Response::new(pb::ListImportJobErrorsResponse {
            errors: page.items.iter().map(row_error).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    type DownloadImportJobErrorsStream = BoxStream<pb::DownloadImportJobErrorsResponse>;

    async fn download_import_job_errors(
        &self,
        req: Request<pb::DownloadImportJobErrorsRequest>,
    ) -> Result<Response<Self::DownloadImportJobErrorsStream>, Status> {
        let ctx = ctx(&req)?;
        let id = job_id(&req.into_inner().job_id).or_status(&ctx.request_id)?;
        // The first page is read before answering, so a bad id or a missing
        // permission is the call's status, not a broken stream.
        let first =
            self.imports.errors(&ctx, id, PageRequest::first(DOWNLOAD_PAGE)).await.or_status(&ctx.request_id)?;
        let (imports, request_id) = (self.imports.clone(), ctx.request_id.clone());
        let mut csv = ErrorCsv::new();
        let stream = csv_chunks(
            first,
            CsvPages {
                kind: "import_errors",
                size: DOWNLOAD_PAGE,
                request_id,
                next: move |page| {
                    let (imports, ctx) = (imports.clone(), ctx.clone());
                    async move { imports.errors(&ctx, id, page).await }
                },
                render: move |rows: &[RowError]| {
                    rows.iter().for_each(|e| csv.push(e));
                    csv.take()
                },
                wrap: |data| pb::DownloadImportJobErrorsResponse { data },
            },
        );
        Ok(Response::new(Box::pin(stream)))
    }

    type WatchImportJobStream = BoxStream<pb::WatchImportJobResponse>;

    async fn watch_import_job(
        &self,
        req: Request<pb::WatchImportJobRequest>,
    ) -> Result<Response<Self::WatchImportJobStream>, Status> {
        let ctx = ctx(&req)?;
        let id = job_id(&req.into_inner().job_id).or_status(&ctx.request_id)?;
        let first = self.imports.get(&ctx, id).await.or_status(&ctx.request_id)?;
        let imports = self.imports.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut last = first;
            if tx.send(Ok(pb::WatchImportJobResponse { job: Some(import_job(&last)) })).await.is_err() {
                return;
            }
            while !last.state.is_terminal() {
                tokio::select! {
                    () = tokio::time::sleep(WATCH_POLL) => {}
                    () = tx.closed() => return,
                }
                match imports.get(&ctx, id).await {
                    Ok(job) if job != last => {
                        last = job;
                        if tx.send(Ok(pb::WatchImportJobResponse { job: Some(import_job(&last)) })).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.send(Err(to_status(e, &ctx.request_id))).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn cancel_import_job(
        &self,
        req: Request<pb::CancelImportJobRequest>,
    ) -> Result<Response<pb::CancelImportJobResponse>, Status> {
        let ctx = ctx(&req)?;
        let r = req.into_inner();
        let job = async { self.imports.cancel(&ctx, job_id(&r.job_id)?).await }.await.or_status(&ctx.request_id)?;
        Ok(Response::new(pb::CancelImportJobResponse { job: Some(import_job(&job)) }))
    }
}

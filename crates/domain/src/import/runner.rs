//! The import worker: claims a started job, reads its file from the last
//! checkpoint, validates rows, and commits them in batches until the file
//! ends, the job is cancelled, or the failure threshold is passed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use time::Duration;

use super::batcher::{BatchContext, Batcher, Unprepared};
use super::columns::Columns;
use super::export::ErrorCsv;
use super::model::{Checkpoint, ImportJob, JobState, RowError};
use super::ports::{BlobStore, ImportStore, JobEnd};
use super::records::RecordReader;
use crate::audit::AuditEvent;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::keyring::Keyring;
use crate::notify::{Attachment, Message};
use crate::page::PageRequest;
use crate::user::{EmailPolicy, User, UserStore};

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Rows per transaction.
    pub batch_size: usize,
    /// A running job whose worker has been silent this long is taken over.
    pub lease: Duration,
    pub email_policy: EmailPolicy,
    pub temporary_password_ttl: Duration,
    /// Failed rows attached to the summary email, at most (all of them are
    /// listable and downloadable).
    pub attached_errors: u32,
}

pub struct ImportRunner {
    store: Arc<dyn ImportStore>,
    blobs: Arc<dyn BlobStore>,
    users: Arc<dyn UserStore>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    worker: String,
    config: RunnerConfig,
    stopping: AtomicBool,
}

impl ImportRunner {
    pub fn new(
        store: Arc<dyn ImportStore>,
        blobs: Arc<dyn BlobStore>,
        users: Arc<dyn UserStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        worker: String,
        config: RunnerConfig,
    ) -> Self {
        Self { store, blobs, users, keyring, clock, worker, config, stopping: AtomicBool::new(false) }
    }

    /// Asks a run in progress to stop after the batch in flight and hand its
    /// job back to the queue (graceful shutdown).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Claims one job and runs it until it ends or is lost; `false` when
    /// there was nothing to do.
    pub async fn run_once(&self) -> Result<bool, DomainError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let now = self.clock.now();
        let Some(job) = self.store.claim_job(&self.worker, now, self.config.lease).await? else { return Ok(false) };
        match self.run(job).await {
            Ok(()) | Err(DomainError::FailedPrecondition { reason: "JOB_LOST", .. }) => Ok(true),
            Err(e) => Err(e),
        }
    }

    async fn run(&self, mut job: ImportJob) -> Result<(), DomainError> {
        let initiator = self.users.get_user(job.initiator).await?;
        let blob = self.store.blob_key(job.id).await?.ok_or_else(|| DomainError::Internal("job has no file".into()))?;
        let from = if job.checkpoint.offset == 0 { Checkpoint { offset: 0, line: 1 } } else { job.checkpoint };
        let source = self.blobs.open(&blob, from.offset).await?;
        let mut records = RecordReader::new(source, from);

        let mut header_columns = None;
        let columns = match job.columns.as_deref().and_then(Columns::decode) {
            Some(c) => c,
            None => match records.next().await {
                Ok(Some(header)) => match Columns::from_header(header.fields(), header.line) {
                    Ok(c) => {
                        header_columns = Some((c.encode(), header.end));
                        c
                    }
                    Err(errors) => {
                        return self.end(&job, &initiator, JobState::Failed, Some("INVALID_HEADER"), errors).await;
                    }
                },
                Ok(None) => {
                    let e = RowError::new(1, "", "MISSING_HEADER", "the file has no header line");
                    return self.end(&job, &initiator, JobState::Failed, Some("INVALID_HEADER"), vec![e]).await;
                }
                Err(_) => return self.end(&job, &initiator, JobState::Failed, Some("UNREADABLE_FILE"), vec![]).await,
            },
        };

        // While a batch commits, the next one is read and prepared: the
        // database and this worker's CPU work side by side.
        let context = BatchContext {
            job: job.id,
            validate_only: job.options.validate_only,
            worker: &self.worker,
            initiator: &initiator,
            columns,
            keyring: &self.keyring,
            clock: self.clock.as_ref(),
            config: &self.config,
        };
        let mut batcher = Batcher::new(records, context, job.checkpoint, header_columns);
        let mut next = batcher.next().await;
        loop {
            let (batch, eof) = match next {
                Ok(prepared) => prepared,
                Err(Unprepared::Unreadable) => {
                    return self.end(&job, &initiator, JobState::Failed, Some("UNREADABLE_FILE"), vec![]).await;
                }
                Err(Unprepared::Failed(e)) => return Err(e),
            };
            let commit = async {
                if batch.rows_read > 0 || batch.columns.is_some() {
                    Some(self.store.commit_batch(batch).await)
                } else {
                    None
                }
            };
            let prepare = async { if eof { None } else { Some(batcher.next().await) } };
            let (committed, prepared) = futures::join!(commit, prepare);
            if let Some(outcome) = committed {
                job = outcome.map_err(lost)?.job;
            }
            if let Some(limit) = job.options.failure_threshold
                && job.counters.rows_failed > limit
            {
                return self.end(&job, &initiator, JobState::Failed, Some("FAILURE_THRESHOLD_EXCEEDED"), vec![]).await;
            }
            let Some(prepared) = prepared else {
                return self.end(&job, &initiator, JobState::Succeeded, None, vec![]).await;
            };
            if self.stopping.load(Ordering::SeqCst) {
                // The prepared batch is dropped: the next run reads it again.
                self.store.release_job(job.id, &self.worker, self.clock.now()).await.map_err(lost)?;
                return Ok(());
            }
            next = prepared;
        }
    }

    /// Ends the job, emailing the initiator the summary with the failed rows.
    async fn end(
        &self,
        job: &ImportJob,
        initiator: &User,
        state: JobState,
        reason: Option<&str>,
        header_errors: Vec<RowError>,
    ) -> Result<(), DomainError> {
        let now = self.clock.now();
        let mut attached = header_errors.clone();
        if header_errors.is_empty() {
            let page = PageRequest::first(self.config.attached_errors);
            attached = self.store.list_errors(job.id, page).await?.into_iter().map(|(_, e)| e).collect();
        }
        let summary = summary(job, state, reason, attached.len(), header_errors.len() as u64);
        let mut email = Message::ImportFinished { initiator, summary: &summary }.compose(&self.keyring, now)?;
        if !attached.is_empty() {
            let mut csv = ErrorCsv::new();
            for e in &attached {
                csv.push(e);
            }
            email.attachment = Some(Attachment {
                filename: format!("import-{}-errors.csv", job.id),
                content_type: "text/csv".into(),
                content: csv.finish(),
            });
        }
        let audit = AuditEvent::by_system(
            now,
            "import.finish",
            format!("import_job/{}", job.id),
            format!("state={} reason={}", state.as_str(), reason.unwrap_or("none")),
        );
        let end = JobEnd { state, reason: reason.map(str::to_string), errors: header_errors, now };
        self.store
            .finish_job(job.id, &self.worker, end, Effects::audit(audit).with_email(email))
            .await
            .map_err(lost)?;
        Ok(())
    }
}

fn summary(job: &ImportJob, state: JobState, reason: Option<&str>, attached: usize, header_errors: u64) -> String {
    let c = job.counters;
    let mode = if job.options.validate_only { " (validation only: nobody was created)" } else { "" };
    let outcome = match (state, reason) {
        (JobState::Succeeded, _) => "finished".to_string(),
        (_, Some(r)) => format!("stopped ({r})"),
        _ => "stopped".to_string(),
    };
    let failed = c.rows_failed.max(header_errors);
    let attachment = if attached == 0 {
        String::new()
    } else if (attached as u64) < failed {
        format!("The first {attached} errors are attached; ListImportJobErrors has them all.\n")
    } else {
        "The errors are attached.\n".to_string()
    };
    format!(
        "Import job {id} {outcome}{mode}.\n\nRows read: {read}\nUsers created: {created}\nRows failed: {failed}\n\n{attachment}",
        id = job.id,
        read = c.rows_read,
        created = c.rows_created,
    )
}

fn lost(e: StoreError) -> DomainError {
    match e {
        StoreError::Refused { reason: "JOB_LOST" } => {
            DomainError::precondition("JOB_LOST", "job", "the job was cancelled or taken over")
        }
        e => e.into(),
    }
}

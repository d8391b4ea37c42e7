//! The import worker: claims a started job, reads its file from the last
//! checkpoint, validates rows, and commits them in batches until the file
//! ends, the job is cancelled, or the failure threshold is passed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use time::Duration;

use super::columns::Columns;
use super::export::ErrorCsv;
use super::model::{Checkpoint, ImportJob, JobState, RowError};
use super::ports::{BlobStore, ImportBatch, ImportStore, ImportedUser, JobEnd};
use super::records::RecordReader;
use super::row::{ImportRow, parse_row};
use crate::audit::{AuditEvent, user_target};
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::keyring::Keyring;
use crate::notify::{Attachment, Message};
use crate::page::PageRequest;
use crate::role::RoleName;
use crate::user::{EmailPolicy, NewUser, User, UserStore, fresh_user, mint_temporary_password};

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

        loop {
            let mut batch = self.empty_batch(&job, header_columns.take());
            let mut seen = BatchKeys::default();
            let mut eof = false;
            while batch.rows_read < self.config.batch_size as u64 {
                let record = match records.next().await {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        eof = true;
                        break;
                    }
                    Err(_) => {
                        return self.end(&job, &initiator, JobState::Failed, Some("UNREADABLE_FILE"), vec![]).await;
                    }
                };
                batch.rows_read += 1;
                batch.checkpoint = record.end;
                let fields = record.fields();
                match parse_row(fields.into_iter(), record.line, &columns, &self.config.email_policy)
                    .and_then(|row| seen.admit(row))
                {
                    Ok(row) => batch.users.push(self.imported(&job, &initiator, row)?),
                    Err(errors) => {
                        batch.rows_failed += 1;
                        batch.errors.extend(errors);
                    }
                }
            }
            if batch.rows_read > 0 || batch.columns.is_some() {
                batch.now = self.clock.now();
                job = self.store.commit_batch(batch).await.map_err(lost)?.job;
            }
            if let Some(limit) = job.options.failure_threshold
                && job.counters.rows_failed > limit
            {
                return self.end(&job, &initiator, JobState::Failed, Some("FAILURE_THRESHOLD_EXCEEDED"), vec![]).await;
            }
            if eof {
                return self.end(&job, &initiator, JobState::Succeeded, None, vec![]).await;
            }
            if self.stopping.load(Ordering::SeqCst) {
                self.store.release_job(job.id, &self.worker, self.clock.now()).await.map_err(lost)?;
                return Ok(());
            }
        }
    }

    fn empty_batch(&self, job: &ImportJob, columns: Option<(String, Checkpoint)>) -> ImportBatch {
        ImportBatch {
            job: job.id,
            worker: self.worker.clone(),
            validate_only: job.options.validate_only,
            users: Vec::with_capacity(self.config.batch_size),
            errors: Vec::new(),
            rows_read: 0,
            rows_failed: 0,
            checkpoint: columns.as_ref().map_or(job.checkpoint, |(_, end)| *end),
            columns: columns.map(|(c, _)| c),
            now: self.clock.now(),
        }
    }

    /// The user a valid row becomes, exactly as CreateUser makes one.
    fn imported(&self, job: &ImportJob, initiator: &User, row: ImportRow) -> Result<ImportedUser, DomainError> {
        let now = self.clock.now();
        let user = fresh_user(row.user.username, row.user.email, row.user.full_name, RoleName::default_role(), now);
        let (temp, welcome) = mint_temporary_password(&self.keyring, &user, now, self.config.temporary_password_ttl)?;
        let mut audit = AuditEvent::by_system(
            now,
            "user.create",
            user_target(user.id),
            format!("username={} import_job={} line={}", user.username, job.id, row.line),
        );
        audit.actor_id = Some(initiator.id);
        audit.actor = initiator.username.to_string();
        audit.request_id = format!("import-{}", job.id);
        let new = NewUser { user, temp_password: Some(temp), roles: vec![], api_key: None, create_request_id: None };
        Ok(ImportedUser { line: row.line, new, audit, welcome })
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

/// Usernames and emails seen earlier in the same batch (the store finds
/// those of earlier batches and of other users).
#[derive(Default)]
struct BatchKeys {
    usernames: HashMap<String, u64>,
    emails: HashMap<String, u64>,
}

impl BatchKeys {
    fn admit(&mut self, row: ImportRow) -> Result<ImportRow, Vec<RowError>> {
        let mut errors = Vec::new();
        let username = row.user.username.canonical();
        let email = row.user.email.canonical();
        if let Some(first) = self.usernames.get(&username) {
            errors.push(duplicate(row.line, "username", *first));
        }
        if let Some(first) = self.emails.get(&email) {
            errors.push(duplicate(row.line, "email", *first));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.usernames.insert(username, row.line);
        self.emails.insert(email, row.line);
        Ok(row)
    }
}

/// A value already used on an earlier line of the same file.
pub(crate) fn duplicate(line: u64, column: &str, first: u64) -> RowError {
    let reason = if column == "username" { "DUPLICATE_USERNAME" } else { "DUPLICATE_EMAIL" };
    RowError::new(line, column, reason, format!("the same {column} as line {first}"))
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

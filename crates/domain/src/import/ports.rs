//! What the import needs from the outside: a store for jobs and their
//! batches, and a blob store for the uploaded files.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::model::{Checkpoint, ImportJob, ImportJobId, ImportOptions, JobState, NewImportJob, RowError, RowErrorId};
use crate::audit::AuditEvent;
use crate::effects::Effects;
use crate::error::StoreError;
use crate::notify::OutboxEmail;
use crate::page::PageRequest;
use crate::user::NewUser;

/// A valid row, ready to be created exactly as CreateUser creates a user.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub line: u64,
    pub new: NewUser,
    pub audit: AuditEvent,
    pub welcome: OutboxEmail,
}

/// One batch of rows, committed together with the job's new checkpoint.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    pub job: ImportJobId,
    pub worker: String,
    pub validate_only: bool,
    /// Rows that passed validation, in line order.
    pub users: Vec<ImportedUser>,
    /// Errors of rows that did not (each row counted once in `rows_failed`).
    pub errors: Vec<RowError>,
    pub rows_read: u64,
    pub rows_failed: u64,
    pub checkpoint: Checkpoint,
    /// The header's column order, written with the first batch.
    pub columns: Option<String>,
    pub now: OffsetDateTime,
}

/// What a committed batch did: the store may find more failures (a username
/// or email taken, earlier in the file or by someone else).
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub created: u64,
    pub failed: u64,
    /// The job after the batch.
    pub job: ImportJob,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct JobEnd {
    pub state: JobState,
    pub reason: Option<String>,
    /// Header errors (a job whose header is wrong reads no rows).
    pub errors: Vec<RowError>,
    pub now: OffsetDateTime,
}

#[async_trait]
pub trait ImportStore: Send + Sync {
    async fn insert_job(&self, job: NewImportJob, effects: Effects) -> Result<(), StoreError>;

    /// `NotFound`.
    async fn get_job(&self, id: ImportJobId) -> Result<ImportJob, StoreError>;

    /// In creation order.
    async fn list_jobs(&self, page: PageRequest) -> Result<Vec<ImportJob>, StoreError>;

    /// Spends the URL's nonce (the first upload through a URL spends it, whatever
    /// happens next). `Refused { URL_ALREADY_USED }`; `Refused { JOB_NOT_AWAITING_UPLOAD }`.
    async fn spend_upload_nonce(&self, id: ImportJobId, nonce: &str) -> Result<(), StoreError>;

    /// created → uploaded with the stored file. `Refused { JOB_NOT_AWAITING_UPLOAD }`
    /// when another upload finished first (the caller then deletes its blob).
    async fn finish_upload(
        &self,
        id: ImportJobId,
        blob_key: &str,
        bytes: u64,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// The stored file's key, once uploaded.
    async fn blob_key(&self, id: ImportJobId) -> Result<Option<String>, StoreError>;

    /// uploaded → queued. `Refused { JOB_NOT_UPLOADED | JOB_ALREADY_STARTED }`.
    async fn start_job(
        &self,
        id: ImportJobId,
        options: ImportOptions,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Any state but a final one → cancelled. `Refused { JOB_FINISHED }`.
    async fn cancel_job(&self, id: ImportJobId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError>;

    /// Takes the oldest queued job, or a running one whose worker has not
    /// beaten its heart for `lease` (it died), for `worker`. Several workers
    /// (replicas) may ask at once; each job goes to one.
    async fn claim_job(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<ImportJob>, StoreError>;

    /// The worker still holds the job; `Refused { JOB_LOST }` when not (cancelled, taken over).
    async fn heartbeat(&self, id: ImportJobId, worker: &str, now: OffsetDateTime) -> Result<(), StoreError>;

    /// Creates the batch's users (with their credentials, audit events and
    /// welcome emails), records its row errors and moves the checkpoint, in
    /// one transaction; `Refused { JOB_LOST }` (nothing written) when the
    /// worker no longer holds the job.
    async fn commit_batch(&self, batch: ImportBatch) -> Result<BatchOutcome, StoreError>;

    /// running → queued again, for another worker (or this one after a
    /// restart) to resume at the checkpoint. `Refused { JOB_LOST }`.
    async fn release_job(&self, id: ImportJobId, worker: &str, now: OffsetDateTime) -> Result<(), StoreError>;

    /// running → `end.state`, with `effects` (the summary email).
    /// `Refused { JOB_LOST }`.
    async fn finish_job(
        &self,
        id: ImportJobId,
        worker: &str,
        end: JobEnd,
        effects: Effects,
    ) -> Result<ImportJob, StoreError>;

    /// Row errors in line order.
    async fn list_errors(&self, id: ImportJobId, page: PageRequest) -> Result<Vec<(RowErrorId, RowError)>, StoreError>;
}

/// Bytes being written to the blob store; nothing is visible under the key
/// until `commit`.
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    async fn abort(self: Box<Self>);
}

/// A stored file, read from an offset.
pub type BlobReader = Box<dyn futures::io::AsyncRead + Send + Unpin>;

#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn create(&self, key: &str) -> Result<Box<dyn BlobWriter>, StoreError>;
    /// `NotFound` when there is no such blob.
    async fn open(&self, key: &str, offset: u64) -> Result<BlobReader, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

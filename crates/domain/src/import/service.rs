//! The import use cases behind ImportService and the upload URL: create a
//! job, receive its file, start, read, list and cancel it.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::model::{ImportJob, ImportJobId, ImportOptions, JobState, NewImportJob, RowError, RowErrorId};
use super::ports::{BlobStore, BlobWriter, ImportStore};
use super::signed_url::{UploadGrant, UploadUrlError};
use crate::audit::AuditEvent;
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::UserId;
use crate::keyring::Keyring;
use crate::page::{Page, PageRequest};
use crate::role::Permission;

/// Longest a presigned URL may live.
pub const MAX_URL_TTL: Duration = Duration::minutes(15);

#[derive(Debug, Clone)]
pub struct ImportServiceConfig {
    /// The size cap of an uploaded file.
    pub max_bytes: u64,
    /// How long a presigned URL works (at most 15 minutes).
    pub url_ttl: Duration,
    /// Base of the presigned URLs, e.g. `https://steward.example.com`.
    pub public_url: String,
}

/// A job just created, with its presigned upload URL.
#[derive(Debug, Clone)]
pub struct CreatedImportJob {
    pub job: ImportJob,
    pub upload_url: String,
    pub upload_url_expires_at: OffsetDateTime,
}

pub struct ImportService {
    store: Arc<dyn ImportStore>,
    blobs: Arc<dyn BlobStore>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    config: ImportServiceConfig,
}

impl ImportService {
    pub fn new(
        store: Arc<dyn ImportStore>,
        blobs: Arc<dyn BlobStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        mut config: ImportServiceConfig,
    ) -> Self {
        config.url_ttl = config.url_ttl.min(MAX_URL_TTL);
        config.public_url = config.public_url.trim_end_matches('/').to_string();
        Self { store, blobs, keyring, clock, config }
    }

    /// The header line and an example row. Needs `users.import`.
    pub fn template(&self, ctx: &Ctx) -> Result<(&'static str, &'static str), DomainError> {
        ctx.require(Permission::UsersImport)?;
        Ok((super::columns::TEMPLATE_HEADER, super::columns::TEMPLATE_EXAMPLE))
    }

    /// Needs `users.import`.
    pub async fn create(&self, ctx: &Ctx) -> Result<CreatedImportJob, DomainError> {
        ctx.require(Permission::UsersImport)?;
        let now = self.clock.now();
        let new = NewImportJob {
            id: ImportJobId::new(),
            initiator: ctx.principal.user_id,
            max_bytes: self.config.max_bytes,
            upload_nonce: self.keyring.random_base32(16)?,
            upload_expires_at: now + self.config.url_ttl,
            created_at: now,
        };
        let grant = UploadGrant {
            job: new.id,
            max_bytes: new.max_bytes,
            expires_at: new.upload_expires_at.unix_timestamp(),
            nonce: new.upload_nonce.clone(),
        };
        let upload_url = format!("{}{}", self.config.public_url, grant.path_and_query(&self.keyring));
        let audit = AuditEvent::by(ctx, now, "import.create", target(new.id), "");
        let (id, expires) = (new.id, new.upload_expires_at);
        self.store.insert_job(new, Effects::audit(audit)).await?;
        let job = self.store.get_job(id).await?;
        Ok(CreatedImportJob { job, upload_url, upload_url_expires_at: expires })
    }

    /// Opens an upload through a presigned URL (`path` and `query` as
    /// received). The URL is spent from here on, whatever happens next.
    pub async fn open_url_upload(&self, path: &str, query: &str) -> Result<Upload, DomainError> {
        let now = self.clock.now();
        let grant = UploadGrant::verify(&self.keyring, path, query, now).map_err(url_error)?;
        self.store.spend_upload_nonce(grant.job, &grant.nonce).await.map_err(|e| match e {
            StoreError::NotFound => url_error(UploadUrlError::BadSignature),
            StoreError::Refused { reason } => {
                DomainError::precondition(reason, "upload_url", "this upload URL was already used")
            }
            e => e.into(),
        })?;
        let job = self.store.get_job(grant.job).await?;
        self.open(job, grant.max_bytes, None).await
    }

    /// Opens an upload over the client-streaming RPC. Needs `users.import`.
    pub async fn open_stream_upload(&self, ctx: &Ctx, id: ImportJobId) -> Result<Upload, DomainError> {
        ctx.require(Permission::UsersImport)?;
        let job = self.get_unchecked(id).await?;
        if job.state != JobState::Created {
            return Err(already_uploaded());
        }
        let cap = job.max_bytes;
        self.open(job, cap, Some(ctx.clone())).await
    }

    async fn open(&self, job: ImportJob, max_bytes: u64, ctx: Option<Ctx>) -> Result<Upload, DomainError> {
        let key = format!("imports/{}-{}", job.id, self.keyring.random_base32(5)?);
        let writer = self.blobs.create(&key).await?;
        Ok(Upload {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            clock: self.clock.clone(),
            writer: Some(writer),
            key,
            job: job.id,
            initiator: job.initiator,
            ctx,
            max_bytes: max_bytes.min(job.max_bytes),
            written: 0,
        })
    }

    /// uploaded → queued. Needs `users.import`.
    pub async fn start(&self, ctx: &Ctx, id: ImportJobId, options: ImportOptions) -> Result<ImportJob, DomainError> {
        ctx.require(Permission::UsersImport)?;
        let now = self.clock.now();
        let detail = format!(
            "validate_only={} failure_threshold={}",
            options.validate_only,
            options.failure_threshold.map_or("none".to_string(), |t| t.to_string())
        );
        let audit = AuditEvent::by(ctx, now, "import.start", target(id), detail);
        self.store.start_job(id, options, now, Effects::audit(audit)).await.map_err(|e| job_error(e, id))?;
        self.get_unchecked(id).await
    }

    /// Needs `users.import`.
    pub async fn get(&self, ctx: &Ctx, id: ImportJobId) -> Result<ImportJob, DomainError> {
        ctx.require(Permission::UsersImport)?;
        self.get_unchecked(id).await
    }

    async fn get_unchecked(&self, id: ImportJobId) -> Result<ImportJob, DomainError> {
        self.store.get_job(id).await.map_err(|e| job_error(e, id))
    }

    /// Needs `users.import`.
    pub async fn list(&self, ctx: &Ctx, page: PageRequest) -> Result<Page<ImportJob>, DomainError> {
        ctx.require(Permission::UsersImport)?;
        let rows = self.store.list_jobs(PageRequest { size: page.size + 1, ..page }).await?;
        Ok(Page::from_rows(rows, page, "import_jobs", |j| j.id.as_uuid()))
    }

    /// Row errors in line order. Needs `users.import`.
    pub async fn errors(&self, ctx: &Ctx, id: ImportJobId, page: PageRequest) -> Result<Page<RowError>, DomainError> {
        ctx.require(Permission::UsersImport)?;
        self.get_unchecked(id).await?;
        let rows = self.store.list_errors(id, PageRequest { size: page.size + 1, ..page }).await?;
        let page = Page::from_rows(rows, page, "import_errors", |(eid, _): &(RowErrorId, RowError)| eid.0);
        Ok(Page { items: page.items.into_iter().map(|(_, e)| e).collect(), next_page_token: page.next_page_token })
    }

    /// Any job that has not ended. A running job stops at its next batch
    /// (the batch in flight is not committed). Needs `users.import`.
    pub async fn cancel(&self, ctx: &Ctx, id: ImportJobId) -> Result<ImportJob, DomainError> {
        ctx.require(Permission::UsersImport)?;
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "import.cancel", target(id), "");
        self.store.cancel_job(id, now, Effects::audit(audit)).await.map_err(|e| job_error(e, id))?;
        self.get_unchecked(id).await
    }
}

/// A file on its way into the blob store; the size cap is enforced as the
/// bytes arrive. Dropped without `finish`, nothing is kept.
pub struct Upload {
    store: Arc<dyn ImportStore>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    writer: Option<Box<dyn BlobWriter>>,
    key: String,
    job: ImportJobId,
    initiator: UserId,
    ctx: Option<Ctx>,
    max_bytes: u64,
    written: u64,
}

/// What an upload ended as.
#[derive(Debug, Clone)]
pub struct UploadOutcome {
    pub job: ImportJob,
}

impl Upload {
    pub fn job(&self) -> ImportJobId {
        self.job
    }

    /// Refuses at once a body whose declared length is over the cap.
    pub async fn expect_at_most(&mut self, declared: u64) -> Result<(), DomainError> {
        if declared > self.max_bytes {
            self.abort().await;
            return Err(too_large(self.max_bytes));
        }
        Ok(())
    }

    /// Appends `chunk`; past the cap the upload is aborted (nothing kept).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), DomainError> {
        self.written += chunk.len() as u64;
        if self.written > self.max_bytes {
            self.abort().await;
            return Err(too_large(self.max_bytes));
        }
        let Some(w) = self.writer.as_mut() else { return Err(DomainError::Internal("upload already ended".into())) };
        if let Err(e) = w.write(chunk).await {
            self.abort().await;
            return Err(e.into());
        }
        Ok(())
    }

    /// Stores the file and marks the job uploaded.
    pub async fn finish(mut self) -> Result<UploadOutcome, DomainError> {
        let Some(w) = self.writer.take() else { return Err(DomainError::Internal("upload already ended".into())) };
        if self.written == 0 {
            w.abort().await;
            return Err(DomainError::invalid("data", "EMPTY_FILE", "the file is empty"));
        }
        w.commit().await?;
        let now = self.clock.now();
        let detail = format!("bytes={}", self.written);
        let audit = match &self.ctx {
            Some(ctx) => AuditEvent::by(ctx, now, "import.upload", target(self.job), detail),
            None => {
                let mut e = AuditEvent::by_system(now, "import.upload", target(self.job), format!("{detail} via=url"));
                e.actor_id = Some(self.initiator);
                e.actor = "upload-url".into();
                e
            }
        };
        match self.store.finish_upload(self.job, &self.key, self.written, now, Effects::audit(audit)).await {
            Ok(()) => {}
            Err(e) => {
                let _ = self.blobs.delete(&self.key).await;
                return Err(match e {
                    StoreError::Refused { .. } => already_uploaded(),
                    e => e.into(),
                });
            }
        }
        let job = self.store.get_job(self.job).await?;
        Ok(UploadOutcome { job })
    }

    pub async fn abort(&mut self) {
        if let Some(w) = self.writer.take() {
            w.abort().await;
        }
    }
}

fn too_large(max: u64) -> DomainError {
    DomainError::ResourceExhausted {
        reason: "FILE_TOO_LARGE",
        description: format!("the file is larger than {max} bytes"),
    }
}

fn target(id: ImportJobId) -> String {
    format!("import_job/{id}")
}

fn already_uploaded() -> DomainError {
    DomainError::precondition("JOB_NOT_AWAITING_UPLOAD", "job", "this job already has its file")
}

fn url_error(e: UploadUrlError) -> DomainError {
    let reason = match e {
        UploadUrlError::Malformed => "UPLOAD_URL_MALFORMED",
        UploadUrlError::BadSignature => "UPLOAD_URL_BAD_SIGNATURE",
        UploadUrlError::Expired => "UPLOAD_URL_EXPIRED",
    };
    DomainError::precondition(reason, "upload_url", e.to_string())
}

fn job_error(e: StoreError, id: ImportJobId) -> DomainError {
    match e {
        StoreError::NotFound => DomainError::not_found("import job", id.to_string()),
        StoreError::Refused { reason } => DomainError::precondition(reason, "job", describe(reason)),
        e => e.into(),
    }
}

fn describe(reason: &str) -> &'static str {
    match reason {
        "JOB_NOT_UPLOADED" => "the job has no file yet: upload it first",
        "JOB_ALREADY_STARTED" => "the job was already started",
        "JOB_FINISHED" => "the job has already ended",
        _ => "the job is in the wrong state for this",
    }
}

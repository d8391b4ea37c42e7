//! [`ImportStore`]: import jobs — created, uploaded, started, claimed by a
//! worker, cancelled, finished — and their row errors. A batch's commit is in
//! [`crate::import_batch`].

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::import::{
    BatchOutcome, Checkpoint, ImportBatch, ImportJob, ImportJobId, ImportOptions, ImportStore, JobCounters, JobEnd,
    JobState, NewImportJob, RowError, RowErrorId,
};
use steward_domain::page::PageRequest;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::rows::{corrupt, get};
use crate::sql::{Query, all, exec, one, stmt, time_value};
use crate::{Store, effects, finish, import_batch};

/// The columns [`job_from_row`] reads.
pub(crate) const JOB_COLUMNS: &str = "id, initiator_id, state, max_bytes, file_bytes, validate_only, \
     failure_threshold, columns, checkpoint_offset, checkpoint_line, rows_read, rows_created, rows_failed, \
     failure_reason, created_at, updated_at, started_at, finished_at";

#[async_trait]
impl ImportStore for Store {
    async fn insert_job(&self, job: NewImportJob, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let s = stmt(
                b,
                "INSERT INTO import_jobs (id, initiator_id, state, max_bytes, upload_nonce, upload_expires_at, \
                 validate_only, checkpoint_offset, checkpoint_line, rows_read, rows_created, rows_failed, \
                 created_at, updated_at) VALUES ($1, $2, 'created', $3, $4, $5, false, 0, 0, 0, 0, 0, $6, $6)",
                vec![
                    job.id.as_uuid().into(),
                    job.initiator.as_uuid().into(),
                    to_i64(job.max_bytes).into(),
                    job.upload_nonce.into(),
                    time_value(b, job.upload_expires_at),
                    time_value(b, job.created_at),
                ],
            );
            exec(&txn, s).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get_job(&self, id: ImportJobId) -> Result<ImportJob, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![id.as_uuid().into()])).await?;
        row.as_ref().map(job_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    async fn list_jobs(&self, page: PageRequest) -> Result<Vec<ImportJob>, StoreError> {
        let mut q = Query::new(self.backend(), &format!("SELECT {JOB_COLUMNS} FROM import_jobs WHERE 1 = 1"));
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND id > {p}"));
        }
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY id LIMIT {limit}"));
        all(self.connection(), q.build()).await?.iter().map(job_from_row).collect()
    }

    async fn spend_upload_nonce(&self, id: ImportJobId, nonce: &str) -> Result<(), StoreError> {
        let s = stmt(
            self.backend(),
            "UPDATE import_jobs SET upload_nonce = NULL WHERE id = $1 AND state = 'created' AND upload_nonce = $2",
            vec![id.as_uuid().into(), nonce.into()],
        );
        if exec(self.connection(), s).await?.rows_affected() == 1 {
            return Ok(());
        }
        match self.get_job(id).await?.state {
            JobState::Created => Err(StoreError::Refused { reason: "URL_ALREADY_USED" }),
            _ => Err(StoreError::Refused { reason: "JOB_NOT_AWAITING_UPLOAD" }),
        }
    }

    async fn finish_upload(
        &self,
        id: ImportJobId,
        blob_key: &str,
        bytes: u64,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            // The URL is spent by an upload over the stream too.
            let s = stmt(
                b,
                "UPDATE import_jobs SET state = 'uploaded', blob_key = $2, file_bytes = $3, upload_nonce = NULL, \
                 updated_at = $4 WHERE id = $1 AND state = 'created'",
                vec![id.as_uuid().into(), blob_key.into(), to_i64(bytes).into(), time_value(b, now)],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                return Err(StoreError::Refused { reason: "JOB_NOT_AWAITING_UPLOAD" });
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn blob_key(&self, id: ImportJobId) -> Result<Option<String>, StoreError> {
        let s = stmt(self.backend(), "SELECT blob_key FROM import_jobs WHERE id = $1", vec![id.as_uuid().into()]);
        let row = one(self.connection(), s).await?.ok_or(StoreError::NotFound)?;
        get(&row, "blob_key")
    }

    async fn start_job(
        &self,
        id: ImportJobId,
        options: ImportOptions,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let s = stmt(
                b,
                "UPDATE import_jobs SET state = 'queued', validate_only = $2, failure_threshold = $3, \
                 updated_at = $4 WHERE id = $1 AND state = 'uploaded'",
                vec![
                    id.as_uuid().into(),
                    options.validate_only.into(),
                    options.failure_threshold.map(to_i64).into(),
                    time_value(b, now),
                ],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                return Err(match state_in(&txn, id).await? {
                    JobState::Created => StoreError::Refused { reason: "JOB_NOT_UPLOADED" },
                    _ => StoreError::Refused { reason: "JOB_ALREADY_STARTED" },
                });
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn cancel_job(&self, id: ImportJobId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let s = stmt(
                b,
                "UPDATE import_jobs SET state = 'cancelled', worker_id = NULL, finished_at = $2, updated_at = $2 \
                 WHERE id = $1 AND state NOT IN ('succeeded', 'failed', 'cancelled')",
                vec![id.as_uuid().into(), time_value(b, now)],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                state_in(&txn, id).await?;
                return Err(StoreError::Refused { reason: "JOB_FINISHED" });
            }
            forget_keys(&txn, id).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<ImportJob>, StoreError> {
        let b = self.backend();
        // PostgreSQL: a job another worker is claiming is skipped, not waited
        // for. SQLite: BEGIN IMMEDIATE already makes the claim exclusive.
        let lock = if b == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE import_jobs SET state = 'running', worker_id = $1, heartbeat_at = $2, \
               started_at = COALESCE(started_at, $2), updated_at = $2 \
             WHERE id = (SELECT id FROM import_jobs \
               WHERE state = 'queued' OR (state = 'running' AND heartbeat_at < $3) \
               ORDER BY created_at, id LIMIT 1{lock}) \
             RETURNING {JOB_COLUMNS}"
        );
        let s = stmt(b, &sql, vec![worker.into(), time_value(b, now), time_value(b, now - lease)]);
        let txn = self.begin_write().await?;
        let result = async { one(&txn, s).await?.as_ref().map(job_from_row).transpose() }.await;
        finish(txn, result).await
    }

    async fn heartbeat(&self, id: ImportJobId, worker: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE import_jobs SET heartbeat_at = $3 WHERE id = $1 AND worker_id = $2 AND state = 'running'",
            vec![id.as_uuid().into(), worker.into(), time_value(b, now)],
        );
        match exec(self.connection(), s).await?.rows_affected() {
            0 => Err(StoreError::Refused { reason: "JOB_LOST" }),
            _ => Ok(()),
        }
    }

    async fn commit_batch(&self, batch: ImportBatch) -> Result<BatchOutcome, StoreError> {
        let txn = self.begin_write().await?;
        let result = import_batch::commit(self, &txn, batch).await;
        finish(txn, result).await
    }

    async fn release_job(&self, id: ImportJobId, worker: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let b = self.backend();
        let s = stmt(
            b,
            "UPDATE import_jobs SET state = 'queued', worker_id = NULL, heartbeat_at = NULL, updated_at = $3 \
             WHERE id = $1 AND worker_id = $2 AND state = 'running'",
            vec![id.as_uuid().into(), worker.into(), time_value(b, now)],
        );
        match exec(self.connection(), s).await?.rows_affected() {
            0 => Err(StoreError::Refused { reason: "JOB_LOST" }),
            _ => Ok(()),
        }
    }

    async fn finish_job(
        &self,
        id: ImportJobId,
        worker: &str,
        end: JobEnd,
        effects: Effects,
    ) -> Result<ImportJob, StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            let sql = format!(
                "UPDATE import_jobs SET state = $3, failure_reason = $4, worker_id = NULL, finished_at = $5, \
                 updated_at = $5 WHERE id = $1 AND worker_id = $2 AND state = 'running' RETURNING {JOB_COLUMNS}"
            );
            let s = stmt(
                b,
                &sql,
                vec![
                    id.as_uuid().into(),
                    worker.into(),
                    end.state.as_str().into(),
                    end.reason.clone().into(),
                    time_value(b, end.now),
                ],
            );
            let job = one(&txn, s).await?.ok_or(StoreError::Refused { reason: "JOB_LOST" })?;
            insert_errors(&txn, id, &end.errors).await?;
            forget_keys(&txn, id).await?;
            effects::write(&txn, effects).await?;
            job_from_row(&job)
        }
        .await;
        finish(txn, result).await
    }

    async fn list_errors(&self, id: ImportJobId, page: PageRequest) -> Result<Vec<(RowErrorId, RowError)>, StoreError> {
        let mut q = Query::new(
            self.backend(),
            "SELECT id, line, column_name, reason, message FROM import_errors WHERE job_id = $1",
        );
        q.bind(id.as_uuid());
        if let Some(after) = page.after {
            let p = q.bind(after);
            q.push(&format!(" AND id > {p}"));
        }
        let limit = q.bind(i64::from(page.size));
        q.push(&format!(" ORDER BY id LIMIT {limit}"));
        all(self.connection(), q.build())
            .await?
            .iter()
            .map(|r| {
                let line: i64 = get(r, "line")?;
                Ok((
                    RowErrorId(get(r, "id")?),
                    RowError {
                        line: u64::try_from(line).map_err(|_| corrupt("line", line))?,
                        column: get(r, "column_name")?,
                        reason: get(r, "reason")?,
                        message: get(r, "message")?,
                    },
                ))
            })
            .collect()
    }
}

/// Writes row errors. Their ids are (line, n-th error of the line): ordered
/// like the file, and the same in a resumed run as in an uninterrupted one.
pub(crate) async fn insert_errors(
    c: &impl ConnectionTrait,
    job: ImportJobId,
    errors: &[RowError],
) -> Result<(), StoreError> {
    let mut sorted: Vec<&RowError> = errors.iter().collect();
    sorted.sort_by_key(|e| e.line);
    // 6 parameters a row: well under both backends' limits per statement.
    for chunk in sorted.chunks(1000) {
        let mut q = Query::bulk(
            c.get_database_backend(),
            "INSERT INTO import_errors (job_id, id, line, column_name, reason, message) VALUES ",
        );
        let mut previous: Option<(u64, u64)> = None;
        for (i, e) in chunk.iter().enumerate() {
            let n = match previous {
                Some((line, n)) if line == e.line => n + 1,
                _ => 0,
            };
            previous = Some((e.line, n));
            if i > 0 {
                q.push(", ");
            }
            q.row(vec![
                job.as_uuid().into(),
                Uuid::from_u64_pair(e.line, n).into(),
                to_i64(e.line).into(),
                e.column.clone().into(),
                e.reason.clone().into(),
                e.message.clone().into(),
            ]);
        }
        exec(c, q.build()).await?;
    }
    Ok(())
}

async fn forget_keys(c: &impl ConnectionTrait, job: ImportJobId) -> Result<(), StoreError> {
    let s = stmt(c.get_database_backend(), "DELETE FROM import_keys WHERE job_id = $1", vec![job.as_uuid().into()]);
    exec(c, s).await.map(drop)
}

async fn state_in(c: &impl ConnectionTrait, id: ImportJobId) -> Result<JobState, StoreError> {
    let s = stmt(c.get_database_backend(), "SELECT state FROM import_jobs WHERE id = $1", vec![id.as_uuid().into()]);
    let row = one(c, s).await?.ok_or(StoreError::NotFound)?;
    let state: String = get(&row, "state")?;
    JobState::parse(&state).ok_or_else(|| corrupt("state", state))
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(r: &QueryResult, col: &str) -> Result<u64, StoreError> {
    let n: i64 = get(r, col)?;
    u64::try_from(n).map_err(|_| corrupt(col, n))
}

pub(crate) fn job_from_row(r: &QueryResult) -> Result<ImportJob, StoreError> {
    let state: String = get(r, "state")?;
    let opt_u64 = |col: &str| -> Result<Option<u64>, StoreError> {
        get::<Option<i64>>(r, col)?.map(|n| u64::try_from(n).map_err(|_| corrupt(col, n))).transpose()
    };
    Ok(ImportJob {
        id: ImportJobId::from_uuid(get(r, "id")?),
        initiator: UserId::from_uuid(get(r, "initiator_id")?),
        state: JobState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        options: ImportOptions {
            validate_only: get(r, "validate_only")?,
            failure_threshold: opt_u64("failure_threshold")?,
        },
        max_bytes: to_u64(r, "max_bytes")?,
        file_bytes: opt_u64("file_bytes")?,
        columns: get(r, "columns")?,
        checkpoint: Checkpoint { offset: to_u64(r, "checkpoint_offset")?, line: to_u64(r, "checkpoint_line")? },
        counters: JobCounters {
            rows_read: to_u64(r, "rows_read")?,
            rows_created: to_u64(r, "rows_created")?,
            rows_failed: to_u64(r, "rows_failed")?,
        },
        failure_reason: get(r, "failure_reason")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        started_at: get(r, "started_at")?,
        finished_at: get(r, "finished_at")?,
    })
}

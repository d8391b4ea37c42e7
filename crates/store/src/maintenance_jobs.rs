//! [`MaintenanceJobStore`]: global report and repair-all jobs — queued,
//! claimed by a worker (taken over after a silent lease), advanced a page of
//! users at a time with their findings in the same transaction, finished
//! with the summary email.

use async_trait::async_trait;
use sea_orm::{DbBackend, QueryResult};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{MaintenanceJobId, UserId};
use steward_domain::repair::{FindingRow, JobKind, JobProgress, JobState, MaintenanceJob, MaintenanceJobStore};
use time::{Duration, OffsetDateTime};

use crate::rows::{corrupt, get};
use crate::sql::{Query, all, exec, one, stmt, time_value};
use crate::{Store, effects, finish};

const COLUMNS: &str = "id, kind, dry_run, state, initiator_id, users_total, cursor_user_id, users_done, orphans_done, \
     findings, repaired, not_repaired, error, created_at, started_at, finished_at, updated_at";

/// Findings per multi-row insert.
const ROWS_PER_INSERT: usize = 200;

#[async_trait]
impl MaintenanceJobStore for Store {
    async fn insert_maintenance_job(&self, job: &MaintenanceJob, effects: Effects) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = self.backend();
            let s = stmt(
                b,
                "INSERT INTO maintenance_jobs (id, kind, dry_run, state, initiator_id, users_total, users_done, \
                 orphans_done, findings, repaired, not_repaired, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'queued', $4, $5, 0, false, 0, 0, 0, $6, $6)",
                vec![
                    job.id.as_uuid().into(),
                    job.kind.as_str().into(),
                    job.dry_run.into(),
                    job.initiator.as_uuid().into(),
                    to_i64(job.users_total).into(),
                    time_value(b, job.created_at),
                ],
            );
            exec(&txn, s).await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get_maintenance_job(&self, id: MaintenanceJobId) -> Result<Option<MaintenanceJob>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM maintenance_jobs WHERE id = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![id.as_uuid().into()])).await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn claim_maintenance_job(
        &self,
        worker: &str,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<MaintenanceJob>, StoreError> {
        let b = self.backend();
        // As import jobs: PostgreSQL skips a job another worker is claiming;
        // on SQLite BEGIN IMMEDIATE makes the claim exclusive.
        let lock = if b == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE maintenance_jobs SET state = 'running', worker_id = $1, heartbeat_at = $2, \
               started_at = COALESCE(started_at, $2), updated_at = $2 \
             WHERE id = (SELECT id FROM maintenance_jobs \
               WHERE state = 'queued' OR (state = 'running' AND heartbeat_at < $3) \
               ORDER BY created_at, id LIMIT 1{lock}) \
             RETURNING {COLUMNS}"
        );
        let s = stmt(b, &sql, vec![worker.into(), time_value(b, now), time_value(b, now - lease)]);
        let txn = self.begin_write().await?;
        let result = async { one(&txn, s).await?.as_ref().map(job_from_row).transpose() }.await;
        finish(txn, result).await
    }

    async fn record_job_progress(
        &self,
        job: MaintenanceJobId,
        worker: &str,
        rows: &[FindingRow],
        progress: JobProgress,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        let txn = self.begin_write().await?;
        let result = async {
            // The checkpoint first: when the job was taken over, nothing is written.
            let s = stmt(
                b,
                "UPDATE maintenance_jobs SET cursor_user_id = $3, users_done = $4, orphans_done = $5, findings = $6, \
                 repaired = $7, not_repaired = $8, heartbeat_at = $9, updated_at = $9 \
                 WHERE id = $1 AND worker_id = $2 AND state = 'running'",
                vec![
                    job.as_uuid().into(),
                    worker.into(),
                    progress.cursor.map(|u| u.as_uuid()).into(),
                    to_i64(progress.users_done).into(),
                    progress.orphans_done.into(),
                    to_i64(progress.findings).into(),
                    to_i64(progress.repaired).into(),
                    to_i64(progress.not_repaired).into(),
                    time_value(b, now),
                ],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut q = Query::bulk(
                    b,
                    "INSERT INTO maintenance_findings (job_id, seq, kind, user_id, target, expected, found, fix, \
                     outcome, outcome_detail) VALUES ",
                );
                for (i, r) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.row(vec![
                        job.as_uuid().into(),
                        r.seq.into(),
                        r.kind.clone().into(),
                        r.user.map(|u| u.as_uuid()).into(),
                        r.target.clone().into(),
                        r.expected.clone().into(),
                        r.found.clone().into(),
                        r.fix.clone().into(),
                        r.outcome.clone().into(),
                        r.outcome_detail.clone().into(),
                    ]);
                }
                exec(&txn, q.build()).await?;
            }
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn finish_maintenance_job(
        &self,
        job: MaintenanceJobId,
        worker: &str,
        state: JobState,
        error: Option<&str>,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let b = self.backend();
        let txn = self.begin_write().await?;
        let result = async {
            let s = stmt(
                b,
                "UPDATE maintenance_jobs SET state = $3, error = $4, finished_at = $5, updated_at = $5, \
                 worker_id = NULL, heartbeat_at = NULL \
                 WHERE id = $1 AND worker_id = $2 AND state = 'running'",
                vec![
                    job.as_uuid().into(),
                    worker.into(),
                    state.as_str().into(),
                    error.map(str::to_string).into(),
                    time_value(b, now),
                ],
            );
            if exec(&txn, s).await?.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn list_job_findings(
        &self,
        job: MaintenanceJobId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let s = stmt(
            self.backend(),
            "SELECT seq, kind, user_id, target, expected, found, fix, outcome, outcome_detail \
             FROM maintenance_findings WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            vec![job.as_uuid().into(), after_seq.into(), i64::from(limit).into()],
        );
        all(self.connection(), s).await?.iter().map(finding_from_row).collect()
    }
}

fn job_from_row(r: &QueryResult) -> Result<MaintenanceJob, StoreError> {
    let kind: String = get(r, "kind")?;
    let state: String = get(r, "state")?;
    let n = |col: &str| -> Result<u64, StoreError> {
        let v: i64 = get(r, col)?;
        u64::try_from(v).map_err(|_| corrupt(col, v))
    };
    Ok(MaintenanceJob {
        id: MaintenanceJobId::from_uuid(get(r, "id")?),
        kind: JobKind::from_str_opt(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        dry_run: get(r, "dry_run")?,
        state: JobState::from_str_opt(&state).ok_or_else(|| corrupt("state", &state))?,
        initiator: UserId::from_uuid(get(r, "initiator_id")?),
        users_total: n("users_total")?,
        progress: JobProgress {
            cursor: get::<Option<uuid::Uuid>>(r, "cursor_user_id")?.map(UserId::from_uuid),
            users_done: n("users_done")?,
            orphans_done: get(r, "orphans_done")?,
            findings: n("findings")?,
            repaired: n("repaired")?,
            not_repaired: n("not_repaired")?,
        },
        error: get(r, "error")?,
        created_at: get(r, "created_at")?,
        started_at: get(r, "started_at")?,
        finished_at: get(r, "finished_at")?,
        updated_at: get(r, "updated_at")?,
    })
}

fn finding_from_row(r: &QueryResult) -> Result<FindingRow, StoreError> {
    Ok(FindingRow {
        seq: get(r, "seq")?,
        kind: get(r, "kind")?,
        user: get::<Option<uuid::Uuid>>(r, "user_id")?.map(UserId::from_uuid),
        target: get(r, "target")?,
        expected: get(r, "expected")?,
        found: get(r, "found")?,
        fix: get(r, "fix")?,
        outcome: get(r, "outcome")?,
        outcome_detail: get(r, "outcome_detail")?,
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

//! One import batch in one transaction: the users (with credentials,
//! personal groups, audit events and welcome emails), the row errors and the job's new checkpoint
//! and counters. Set-based: a statement per table, whatever the batch size.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::UserId;
use steward_domain::import::{BatchOutcome, ImportBatch, ImportJobId, ImportedUser, RowError};
use uuid::Uuid;

use crate::import_jobs::{JOB_COLUMNS, insert_errors, job_from_row, to_i64};
use crate::personal_groups::insert_personal_groups;
use crate::records::{self, recordset, select_list};
use crate::rows::get;
use crate::sql::{Query, all, one, stmt, time_opt_value, time_text, time_value};
use crate::users::{INSERT_USER_COLUMNS, USER_RECORD_TYPES, UserRecord, user_insert_values};
use crate::{Store, effects, error};

/// Rows a statement carries at most: 27 parameters a user row stays under
/// SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 1000;

pub(crate) async fn commit(
    store: &Store,
    txn: &DatabaseTransaction,
    batch: ImportBatch,
) -> Result<BatchOutcome, StoreError> {
    let b = txn.get_database_backend();
    let mut errors = batch.errors;
    let mut failed = batch.rows_failed;
    let mut created = 0u64;
    if batch.validate_only {
        let refused = validate_only(txn, batch.job, &batch.users).await?;
        failed += refused.len() as u64;
        errors.extend(refused.into_iter().flatten());
    } else if !batch.users.is_empty() {
        let inserted = insert_users(txn, batch.job, &batch.users).await?;
        store.failpoint("import.users").await?;
        let (ok, clashed): (Vec<ImportedUser>, Vec<ImportedUser>) =
            batch.users.into_iter().partition(|u| inserted.contains(&u.new.user.id.as_uuid()));
        failed += clashed.len() as u64;
        errors.extend(explain_clashes(txn, batch.job, &clashed).await?);
        created = ok.len() as u64;
        insert_credentials(txn, &ok).await?;
        store.failpoint("import.credentials").await?;
        let personal: Vec<(UserId, &str)> = ok.iter().map(|u| (u.new.user.id, u.new.user.username.as_str())).collect();
        insert_personal_groups(txn, &personal, batch.now).await.map_err(error::db)?;
        store.failpoint("import.groups").await?;
        let mut fx = Effects::default();
        for u in ok {
            fx.audit.push(u.audit);
            fx.outbox.push(u.welcome);
        }
        effects::write(txn, fx).await?;
        store.failpoint("import.effects").await?;
    }
    insert_errors(txn, batch.job, &errors).await?;
    store.failpoint("import.errors").await?;

    // Last, and only while this worker still holds the job: a cancel or a
    // takeover that committed first makes the whole batch roll back.
    let mut q = Query::new(b, "UPDATE import_jobs SET ");
    let set = [
        format!("rows_read = rows_read + {}", q.bind(to_i64(batch.rows_read))),
        format!("rows_created = rows_created + {}", q.bind(to_i64(created))),
        format!("rows_failed = rows_failed + {}", q.bind(to_i64(failed))),
        format!("checkpoint_offset = {}", q.bind(to_i64(batch.checkpoint.offset))),
        format!("checkpoint_line = {}", q.bind(to_i64(batch.checkpoint.line))),
        format!("columns = COALESCE({}, columns)", q.bind(batch.columns.clone())),
        format!("updated_at = {}", q.bind(time_value(b, batch.now))),
        format!("heartbeat_at = {}", q.bind(time_value(b, batch.now))),
    ];
    q.push(&set.join(", "));
    let (id, worker) = (q.bind(batch.job.as_uuid()), q.bind(batch.worker.clone()));
    q.push(&format!(
        " WHERE id = {id} AND worker_id = {worker} AND state = 'running' \
         RETURNING {JOB_COLUMNS}"
    ));
    let row = one(txn, q.build()).await?.ok_or(StoreError::Refused { reason: "JOB_LOST" })?;
    Ok(BatchOutcome { created, failed, job: job_from_row(&row)? })
}

/// Inserts every user whose username and email are free; returns the ids
/// inserted (a taken one is skipped, not an error).
async fn insert_users(
    c: &impl ConnectionTrait,
    job: ImportJobId,
    users: &[ImportedUser],
) -> Result<HashSet<Uuid>, StoreError> {
    let b = c.get_database_backend();
    let mut inserted = HashSet::with_capacity(users.len());
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        let statement =
            if b == DbBackend::Postgres { users_recordset(b, job, chunk)? } else { users_values(b, job, chunk) };
        for r in all(c, statement).await? {
            inserted.insert(get::<Uuid>(&r, "id")?);
        }
    }
    Ok(inserted)
}

const IMPORTED_USER_COLUMNS: &str = "create_request_id, import_job_id, import_line";

fn users_values(b: DbBackend, job: ImportJobId, chunk: &[ImportedUser]) -> Statement {
    let mut q = Query::bulk(b, &format!("INSERT INTO users ({INSERT_USER_COLUMNS}, {IMPORTED_USER_COLUMNS}) VALUES "));
    for (i, u) in chunk.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        let mut values = user_insert_values(b, &u.new.user);
        values.push(None::<String>.into());
        values.push(job.as_uuid().into());
        values.push(to_i64(u.line).into());
        q.row(values);
    }
    q.push(" ON CONFLICT DO NOTHING RETURNING id");
    q.build()
}

#[derive(serde::Serialize)]
struct ImportedRecord<'a> {
    #[serde(flatten)]
    user: UserRecord<'a>,
    import_line: i64,
}

fn users_recordset(b: DbBackend, job: ImportJobId, chunk: &[ImportedUser]) -> Result<Statement, StoreError> {
    let rows: Vec<ImportedRecord> = chunk
        .iter()
        .map(|u| ImportedRecord { user: UserRecord::of(&u.new.user), import_line: to_i64(u.line) })
        .collect();
    let sql = format!(
        "INSERT INTO users ({INSERT_USER_COLUMNS}, {IMPORTED_USER_COLUMNS}) \
         SELECT {}, NULL, $2, t.import_line FROM json_to_recordset($1::json) AS t({USER_RECORD_TYPES}, import_line bigint) \
         ON CONFLICT DO NOTHING RETURNING id",
        select_list(INSERT_USER_COLUMNS)
    );
    Ok(stmt(b, &sql, vec![recordset(&rows)?, job.as_uuid().into()]))
}

async fn insert_credentials(c: &impl ConnectionTrait, users: &[ImportedUser]) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    for chunk in users.chunks(ROWS_PER_STATEMENT).filter(|c| !c.is_empty()) {
        let statement = if b == DbBackend::Postgres {
            #[derive(serde::Serialize)]
            struct Credential {
                user_id: Uuid,
                temp_digest: Option<String>,
                temp_expires_at: Option<String>,
            }
            let rows: Vec<Credential> = chunk
                .iter()
                .map(|u| {
                    let temp = u.new.temp_password.as_ref();
                    Credential {
                        user_id: u.new.user.id.as_uuid(),
                        temp_digest: temp.map(|t| records::bytes(&t.digest)),
                        temp_expires_at: temp.map(|t| time_text(t.expires_at)),
                    }
                })
                .collect();
            stmt(
                b,
                "INSERT INTO credentials (user_id, password_hash, temp_digest, temp_expires_at, failed_count, \
                 locked_until) SELECT t.user_id, NULL, decode(t.temp_digest, 'base64'), t.temp_expires_at, 0, NULL \
                 FROM json_to_recordset($1::json) AS t(user_id uuid, temp_digest text, temp_expires_at timestamptz)",
                vec![recordset(&rows)?],
            )
        } else {
            let mut q = Query::bulk(
                b,
                "INSERT INTO credentials (user_id, password_hash, temp_digest, temp_expires_at, failed_count, \
                 locked_until) VALUES ",
            );
            for (i, u) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                let temp = u.new.temp_password.as_ref();
                q.row(vec![
                    u.new.user.id.as_uuid().into(),
                    None::<String>.into(),
                    temp.map(|t| t.digest.clone()).into(),
                    time_opt_value(b, temp.map(|t| t.expires_at)),
                    0i32.into(),
                    time_opt_value(b, None),
                ]);
            }
            q.build()
        };
        crate::sql::exec(c, statement).await?;
    }
    Ok(())
}

/// Who holds a username or email that a row wanted.
struct Holder {
    import_job: Option<Uuid>,
    import_line: Option<i64>,
}

/// The users holding any of these usernames or emails, by canonical form.
async fn holders(
    c: &impl ConnectionTrait,
    users: &[&ImportedUser],
) -> Result<(HashMap<String, Holder>, HashMap<String, Holder>), StoreError> {
    let (mut by_username, mut by_email) = (HashMap::new(), HashMap::new());
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        let mut q = Query::bulk(
            c.get_database_backend(),
            "SELECT username_lower, email_lower, import_job_id, import_line FROM users WHERE username_lower IN (",
        );
        let names: Vec<String> = chunk.iter().map(|u| q.bind(u.new.user.username.canonical())).collect();
        q.push(&names.join(", "));
        q.push(") OR email_lower IN (");
        let emails: Vec<String> = chunk.iter().map(|u| q.bind(u.new.user.email.canonical())).collect();
        q.push(&emails.join(", "));
        q.push(")");
        for r in all(c, q.build()).await? {
            let holder = || -> Result<Holder, StoreError> {
                Ok(Holder { import_job: get(&r, "import_job_id")?, import_line: get(&r, "import_line")? })
            };
            by_username.insert(get::<String>(&r, "username_lower")?, holder()?);
            by_email.insert(get::<String>(&r, "email_lower")?, holder()?);
        }
    }
    Ok((by_username, by_email))
}

/// Why each clashed row was not created: a duplicate of an earlier line of
/// this file, or taken by an existing user.
async fn explain_clashes(
    c: &impl ConnectionTrait,
    job: ImportJobId,
    clashed: &[ImportedUser],
) -> Result<Vec<RowError>, StoreError> {
    if clashed.is_empty() {
        return Ok(Vec::new());
    }
    let refs: Vec<&ImportedUser> = clashed.iter().collect();
    let (by_username, by_email) = holders(c, &refs).await?;
    let mut errors = Vec::new();
    for u in clashed {
        let mut row = Vec::new();
        if let Some(h) = by_username.get(&u.new.user.username.canonical()) {
            row.push(taken(u.line, "username", h, job));
        }
        if let Some(h) = by_email.get(&u.new.user.email.canonical()) {
            row.push(taken(u.line, "email", h, job));
        }
        if row.is_empty() {
            // Taken when inserted, free again now (deleted meanwhile).
            row.push(RowError::new(u.line, "", "CONFLICT", "the username or email was taken; retry the row"));
        }
        errors.extend(row);
    }
    Ok(errors)
}

/// Whether the holder is an earlier line of this job's file or another user
/// (the errors themselves are the domain's).
fn taken(line: u64, column: &str, holder: &Holder, job: ImportJobId) -> RowError {
    match (holder.import_job, holder.import_line) {
        (Some(j), Some(first)) if j == job.as_uuid() => {
            RowError::duplicate(line, column, u64::try_from(first).unwrap_or_default())
        }
        _ => RowError::taken(line, column),
    }
}

/// A validation-only batch: the errors of each row that a real run would
/// refuse (taken by a user, or seen earlier in the file); the keys of the
/// others are remembered for later batches.
async fn validate_only(
    c: &impl ConnectionTrait,
    job: ImportJobId,
    users: &[ImportedUser],
) -> Result<Vec<Vec<RowError>>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let b = c.get_database_backend();
    let refs: Vec<&ImportedUser> = users.iter().collect();
    let (by_username, by_email) = holders(c, &refs).await?;
    let mut seen: HashMap<String, i64> = HashMap::new();
    for chunk in users.chunks(ROWS_PER_STATEMENT / 2) {
        let mut q = Query::bulk(b, "SELECT key, line FROM import_keys WHERE job_id = ");
        let job_param = q.bind(job.as_uuid());
        q.push(&job_param);
        q.push(" AND key IN (");
        let keys: Vec<String> = chunk.iter().flat_map(keys_of).map(|k| q.bind(k)).collect();
        q.push(&keys.join(", "));
        q.push(")");
        for r in all(c, q.build()).await? {
            seen.insert(get(&r, "key")?, get(&r, "line")?);
        }
    }
    let mut refused = Vec::new();
    let mut passed = Vec::new();
    for u in users {
        let [ukey, ekey] = keys_of(u);
        let mut row = Vec::new();
        for (column, key, holder) in [
            ("username", &ukey, by_username.get(&u.new.user.username.canonical())),
            ("email", &ekey, by_email.get(&u.new.user.email.canonical())),
        ] {
            if let Some(first) = seen.get(key) {
                let h = Holder { import_job: Some(job.as_uuid()), import_line: Some(*first) };
                row.push(taken(u.line, column, &h, job));
            } else if let Some(h) = holder {
                row.push(taken(u.line, column, h, job));
            }
        }
        if row.is_empty() {
            passed.push(u);
        } else {
            refused.push(row);
        }
    }
    for chunk in passed.chunks(ROWS_PER_STATEMENT / 2) {
        let mut q = Query::bulk(b, "INSERT INTO import_keys (job_id, key, line) VALUES ");
        for (i, u) in chunk.iter().enumerate() {
            for (k, key) in keys_of(u).into_iter().enumerate() {
                if i > 0 || k > 0 {
                    q.push(", ");
                }
                q.row(vec![job.as_uuid().into(), key.into(), Value::from(to_i64(u.line))]);
            }
        }
        crate::sql::exec(c, q.build()).await?;
    }
    Ok(refused)
}

fn keys_of(u: &ImportedUser) -> [String; 2] {
    [format!("u:{}", u.new.user.username.canonical()), format!("e:{}", u.new.user.email.canonical())]
}

//! Reading the file a batch at a time: each record validated exactly as
//! CreateUser validates, checked against the rest of its batch for
//! duplicates, and turned into the user CreateUser would make (temporary
//! password, welcome email, audit event) or into the row's errors.

use std::collections::HashMap;

use futures::io::AsyncRead;

use super::columns::Columns;
use super::model::{Checkpoint, ImportJobId, RowError};
use super::ports::{ImportBatch, ImportedUser};
use super::records::RecordReader;
use super::row::{ImportRow, parse_row};
use super::runner::RunnerConfig;
use crate::audit::{AuditEvent, user_target};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::keyring::Keyring;
use crate::role::RoleName;
use crate::user::{NewUser, User, fresh_user, mint_temporary_password};

/// What every batch of one run shares.
pub(crate) struct BatchContext<'a> {
    pub job: ImportJobId,
    pub validate_only: bool,
    pub worker: &'a str,
    pub initiator: &'a User,
    pub columns: Columns,
    pub keyring: &'a Keyring,
    pub clock: &'a dyn Clock,
    pub config: &'a RunnerConfig,
}

/// Why no batch could be prepared.
pub(crate) enum Unprepared {
    /// The file could not be read on.
    Unreadable,
    Failed(DomainError),
}

pub(crate) struct Batcher<'a, R: AsyncRead + Unpin + Send> {
    records: RecordReader<R>,
    context: BatchContext<'a>,
    /// Where the next batch starts.
    from: Checkpoint,
    /// The header's column order, for the first batch to record.
    header: Option<String>,
}

impl<'a, R: AsyncRead + Unpin + Send> Batcher<'a, R> {
    /// `header`: the column order and the checkpoint after the header, when
    /// this run read it.
    pub(crate) fn new(
        records: RecordReader<R>,
        context: BatchContext<'a>,
        from: Checkpoint,
        header: Option<(String, Checkpoint)>,
    ) -> Self {
        let from = header.as_ref().map_or(from, |(_, end)| *end);
        Self { records, context, from, header: header.map(|(c, _)| c) }
    }

    /// The next batch, and whether the file ended with it.
    pub(crate) async fn next(&mut self) -> Result<(ImportBatch, bool), Unprepared> {
        let c = &self.context;
        let mut batch = ImportBatch {
            job: c.job,
            worker: c.worker.to_string(),
            validate_only: c.validate_only,
            users: Vec::with_capacity(c.config.batch_size),
            errors: Vec::new(),
            rows_read: 0,
            rows_failed: 0,
            checkpoint: self.from,
            columns: self.header.take(),
            now: c.clock.now(),
        };
        let mut seen = BatchKeys::default();
        let mut eof = false;
        while batch.rows_read < c.config.batch_size as u64 {
            let record = match self.records.next().await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    eof = true;
                    break;
                }
                Err(_) => return Err(Unprepared::Unreadable),
            };
            batch.rows_read += 1;
            batch.checkpoint = record.end;
            let fields = record.fields();
            match parse_row(fields.into_iter(), record.line, &c.columns, &c.config.email_policy)
                .and_then(|row| seen.admit(row))
            {
                Ok(row) => batch.users.push(self.imported(row).map_err(Unprepared::Failed)?),
                Err(errors) => {
                    batch.rows_failed += 1;
                    batch.errors.extend(errors);
                }
            }
        }
        self.from = batch.checkpoint;
        batch.now = c.clock.now();
        Ok((batch, eof))
    }

    /// The user a valid row becomes, exactly as CreateUser makes one.
    fn imported(&self, row: ImportRow) -> Result<ImportedUser, DomainError> {
        let c = &self.context;
        let now = c.clock.now();
        let user = fresh_user(row.user.username, row.user.email, row.user.full_name, RoleName::default_role(), now);
        let (temp, welcome) = mint_temporary_password(c.keyring, &user, now, c.config.temporary_password_ttl)?;
        let mut audit = AuditEvent::by_system(
            now,
            "user.create",
            user_target(user.id),
            format!("username={} import_job={} line={}", user.username, c.job, row.line),
        );
        audit.actor_id = Some(c.initiator.id);
        audit.actor = c.initiator.username.to_string();
        audit.request_id = format!("import-{}", c.job);
        let new = NewUser { user, temp_password: Some(temp), roles: vec![], api_key: None, create_request_id: None };
        Ok(ImportedUser { line: row.line, new, audit, welcome })
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
            errors.push(RowError::duplicate(row.line, "username", *first));
        }
        if let Some(first) = self.emails.get(&email) {
            errors.push(RowError::duplicate(row.line, "email", *first));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.usernames.insert(username, row.line);
        self.emails.insert(email, row.line);
        Ok(row)
    }
}

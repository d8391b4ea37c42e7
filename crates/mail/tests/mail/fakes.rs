//! Fakes of our own ports: an in-memory outbox and a clock the test moves.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use steward_domain::StoreError;
use steward_domain::clock::Clock;
use steward_domain::id::OutboxId;
use steward_domain::keyring::Keyring;
use steward_domain::notify::{OutboxStore, PendingEmail, SECRET_PLACEHOLDER};
use time::OffsetDateTime;
use time::macros::datetime;

pub const T0: OffsetDateTime = datetime!(2030-01-01 09:00 UTC);

pub struct FakeClock(Mutex<OffsetDateTime>);

impl FakeClock {
    pub fn new() -> Self {
        Self(Mutex::new(T0))
    }
    pub fn set(&self, t: OffsetDateTime) {
        *self.0.lock().unwrap() = t;
    }
    pub fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending,
    Sent,
    Failed,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub email: PendingEmail,
    pub state: State,
    pub next_attempt_at: OffsetDateTime,
    pub leased_until: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub done_at: Option<OffsetDateTime>,
}

/// An outbox in memory, with the store's contract: claims lease rows, sent and
/// failed wipe the sealed secret. `unavailable` makes every call fail.
#[derive(Default)]
pub struct MemOutbox {
    rows: Mutex<Vec<Row>>,
    pub unavailable: AtomicBool,
}

impl MemOutbox {
    pub fn add(&self, email: PendingEmail) -> OutboxId {
        let id = email.id;
        self.rows.lock().unwrap().push(Row {
            email,
            state: State::Pending,
            next_attempt_at: T0,
            leased_until: None,
            last_error: None,
            done_at: None,
        });
        id
    }

    pub fn row(&self, id: OutboxId) -> Row {
        self.rows.lock().unwrap().iter().find(|r| r.email.id == id).cloned().expect("row")
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("database is down (test)".into()));
        }
        Ok(())
    }

    fn with_row(&self, id: OutboxId, f: impl FnOnce(&mut Row)) -> Result<(), StoreError> {
        self.check()?;
        let mut rows = self.rows.lock().unwrap();
        let row = rows.iter_mut().find(|r| r.email.id == id).ok_or(StoreError::NotFound)?;
        f(row);
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for MemOutbox {
    async fn claim_due_emails(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<PendingEmail>, StoreError> {
        self.check()?;
        let mut rows = self.rows.lock().unwrap();
        Ok(rows
            .iter_mut()
            .filter(|r| {
                r.state == State::Pending && r.next_attempt_at <= now && r.leased_until.is_none_or(|l| l <= now)
            })
            .take(limit as usize)
            .map(|r| {
                r.leased_until = Some(now + lease);
                r.email.clone()
            })
            .collect())
    }

    async fn mark_email_sent(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), StoreError> {
        self.with_row(id, |r| {
            r.state = State::Sent;
            r.email.sealed_secret = None;
            r.leased_until = None;
            r.done_at = Some(now);
        })
    }

    async fn mark_email_retry(
        &self,
        id: OutboxId,
        attempts: u32,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError> {
        self.with_row(id, |r| {
            r.email.attempts = attempts;
            r.next_attempt_at = next_attempt_at;
            r.leased_until = None;
            r.last_error = Some(error.to_string());
        })
    }

    async fn mark_email_failed(&self, id: OutboxId, now: OffsetDateTime, error: &str) -> Result<(), StoreError> {
        self.with_row(id, |r| {
            r.state = State::Failed;
            r.email.sealed_secret = None;
            r.leased_until = None;
            r.last_error = Some(error.to_string());
            r.done_at = Some(now);
        })
    }
}

pub fn keyring() -> Keyring {
    Keyring::from_secret(&[7u8; 32])
}

/// A welcome email whose temporary password is sealed to its id, as the domain queues it.
pub fn welcome(keyring: &Keyring, to: &str, secret: &str) -> PendingEmail {
    let id = OutboxId::new();
    PendingEmail {
        id,
        to_address: to.into(),
        to_name: "Ada Lovelace".into(),
        subject: "Your Steward account".into(),
        body: format!("Hello Ada,\n\nTemporary password: {SECRET_PLACEHOLDER}\n\nLog in before noon.\n"),
        sealed_secret: Some(keyring.seal(&SecretString::from(secret), id.as_uuid().as_bytes()).unwrap()),
        attachment: None,
        attempts: 0,
    }
}

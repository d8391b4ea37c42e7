//! The outbox relay: claims due emails, renders, sends, and records the outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::clock::Clock;
use steward_domain::keyring::Keyring;
use steward_domain::notify::{OutboxStore, PendingEmail};
use tokio::sync::watch;

use crate::backoff::{backoff, jitter_for};
use crate::error::{MailError, SendError};
use crate::transport::Transport;

/// How the relay paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Sleep between passes when nothing was due.
    pub poll_interval: Duration,
    /// Emails claimed per pass.
    pub batch: u32,
    /// How long a claim keeps other relays off an email.
    pub lease: Duration,
    /// Delay after the first failed attempt; doubles with each further one.
    pub base_backoff: Duration,
    /// The longest delay between two attempts.
    pub max_backoff: Duration,
    /// Attempts before a temporarily failing email is given up.
    pub max_attempts: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            batch: 50,
            lease: Duration::from_secs(60),
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(15 * 60),
            max_attempts: 20,
        }
    }
}

/// The outbox relay. Several may run (one per replica): the store's leases keep
/// them off each other's emails. Delivery is at-least-once: an email sent but
/// not marked (store down, crash) is sent again after its lease, with the same
/// Message-ID.
pub struct Relay {
    store: Arc<dyn OutboxStore>,
    transport: Arc<dyn Transport>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    config: RelayConfig,
}

/// What one pass did.
struct Pass {
    claimed: usize,
    sent: usize,
}

impl Relay {
    pub fn new(
        store: Arc<dyn OutboxStore>,
        transport: Arc<dyn Transport>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        config: RelayConfig,
    ) -> Self {
        Self { store, transport, keyring, clock, config }
    }

    /// One pass: claims due emails, renders each (opening its sealed secret),
    /// sends it, and marks it sent, due again after a capped exponential
    /// backoff (temporary failure), or failed (permanent failure, last attempt,
    /// or an email that cannot be rendered). Returns how many were sent.
    ///
    /// Returns `MailError::Store` when the store fails; the emails of the pass
    /// not yet recorded are sent again once their lease runs out.
    pub async fn run_once(&self) -> Result<usize, MailError> {
        self.pass(&|| false).await.map(|p| p.sent)
    }

    /// Runs passes until `shutdown` resolves: back to back while there is work,
    /// `poll_interval` apart when there is none. A failing pass is logged and
    /// retried after `poll_interval`. On shutdown the email in flight is
    /// finished and recorded, the rest of its batch released, and it returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let (stop, stopped) = watch::channel(false);
        let worker = self.work(stopped);
        tokio::pin!(worker);
        tokio::select! {
            () = &mut worker => return,
            () = shutdown => {}
        }
        let _ = stop.send(true);
        worker.await;
        tracing::info!("outbox relay stopped");
    }

    async fn work(&self, mut stopped: watch::Receiver<bool>) {
        tracing::info!(batch = self.config.batch, "outbox relay started");
        loop {
            if *stopped.borrow() {
                return;
            }
            let idle = match self.pass(&|| *stopped.borrow()).await {
                Ok(pass) => pass.claimed < self.config.batch as usize,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay pass failed; will retry");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
        }
    }

    async fn pass(&self, stop: &(dyn Fn() -> bool + Sync)) -> Result<Pass, MailError> {
        let claimed_at = self.clock.now();
        let emails = self.store.claim_due_emails(claimed_at, self.config.batch, self.config.lease).await?;
        // Past half the lease another relay may soon claim the rest: hand it back.
        let cutoff = claimed_at + self.config.lease / 2;
        let mut pass = Pass { claimed: emails.len(), sent: 0 };
        let mut emails = emails.into_iter();
        while let Some(email) = emails.next() {
            if stop() || self.clock.now() >= cutoff {
                self.release(std::iter::once(email).chain(emails)).await?;
                break;
            }
            if self.deliver(&email).await? {
                pass.sent += 1;
            }
        }
        Ok(pass)
    }

    /// Makes claimed but unattempted emails due again at once, attempts unchanged.
    async fn release(&self, emails: impl Iterator<Item = PendingEmail>) -> Result<(), MailError> {
        let now = self.clock.now();
        for email in emails {
            self.store.mark_email_retry(email.id, email.attempts, now, "released unattempted").await?;
        }
        Ok(())
    }

    /// One attempt at one email; true when it was sent.
    async fn deliver(&self, email: &PendingEmail) -> Result<bool, MailError> {
        let id = email.id;
        let attempt = email.attempts.saturating_add(1);
        let rendered = match email.render(&self.keyring) {
            Ok(rendered) => rendered,
            Err(e) => {
                tracing::warn!(outbox_id = %id, attempt, error = %e, "email cannot be rendered; giving up");
                self.store.mark_email_failed(id, self.clock.now(), &format!("cannot render: {e}")).await?;
                return Ok(false);
            }
        };
        let outcome = self.transport.send(&rendered).await;
        drop(rendered);
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                self.store.mark_email_sent(id, now).await?;
                tracing::info!(outbox_id = %id, attempt, "email sent");
                Ok(true)
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(outbox_id = %id, attempt, error = %e, "email refused; giving up");
                self.store.mark_email_failed(id, now, &format!("permanent: {e}")).await?;
                Ok(false)
            }
            Err(SendError::Temporary(e)) if attempt >= self.config.max_attempts => {
                tracing::warn!(outbox_id = %id, attempt, error = %e, "email not sent; last attempt, giving up");
                self.store.mark_email_failed(id, now, &format!("gave up after {attempt} attempts: {e}")).await?;
                Ok(false)
            }
            Err(SendError::Temporary(e)) => {
                let c = &self.config;
                let delay = backoff(c.base_backoff, c.max_backoff, email.attempts, jitter_for(id, email.attempts));
                tracing::warn!(outbox_id = %id, attempt, retry_in_s = delay.as_secs(), error = %e, "email not sent; will retry");
                self.store.mark_email_retry(id, attempt, now + delay, &e).await?;
                Ok(false)
            }
        }
    }
}

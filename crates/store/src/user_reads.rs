//! Reads of one user by id, coalesced: calls that arrive while the database is
//! busy with earlier reads share one `SELECT … WHERE id IN (…)`.
//!
//! Every authenticated call that names a user reads that user's record, and on
//! PostgreSQL each statement costs two round trips (the query, and the ping
//! sqlx sends whenever a connection goes back to the pool). Under load, most of
//! a call's time was those round trips. Here at most [`MAX_IN_FLIGHT`] reads
//! run at once; a call that finds them all busy waits in a queue, and the next
//! read to finish takes the whole queue (up to [`MAX_BATCH`]) in one statement.
//! A call alone never waits for anyone: with a free slot it reads at once.
//!
//! Freshness is unchanged: a batch's statement starts after every call in it
//! arrived, so each call sees every write committed before it began.

use std::collections::HashMap;
use std::sync::Mutex;

use steward_domain::StoreError;
use steward_domain::id::UserId;
use steward_domain::user::User;
use tokio::sync::oneshot;

use crate::Store;
use crate::sql::{all, stmt};
use crate::users::{USER_COLUMNS, user_from_row};

/// Reads running at once (each holds one pooled connection).
const MAX_IN_FLIGHT: usize = 4;

/// Ids in one statement. Batches are padded to a power of two, so the
/// statement cache holds at most log2(MAX_BATCH) + 1 shapes.
const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<User, StoreError>>;

/// The queue and the count of reads in flight, shared by a store's clones.
#[derive(Default)]
pub(crate) struct UserReads {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waiting: Vec<(UserId, Reply)>,
    in_flight: usize,
}

impl UserReads {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `reply`; returns a batch to run now when a slot is free.
    fn enqueue(&self, id: UserId, reply: Reply) -> Option<Vec<(UserId, Reply)>> {
        let mut s = self.lock();
        s.waiting.push((id, reply));
        if s.in_flight >= MAX_IN_FLIGHT {
            return None;
        }
        s.in_flight += 1;
        Some(take_batch(&mut s.waiting))
    }

    /// After a read: the next queued batch for this slot, or the slot freed.
    fn next_batch(&self) -> Option<Vec<(UserId, Reply)>> {
        let mut s = self.lock();
        if s.waiting.is_empty() {
            s.in_flight -= 1;
            return None;
        }
        Some(take_batch(&mut s.waiting))
    }
}

fn take_batch(waiting: &mut Vec<(UserId, Reply)>) -> Vec<(UserId, Reply)> {
    let n = waiting.len().min(MAX_BATCH);
    waiting.drain(..n).collect()
}

impl Store {
    /// One user by id (`NotFound` if there is none), through the coalescer.
    pub(crate) async fn read_user(&self, id: UserId) -> Result<User, StoreError> {
        let (reply, answer) = oneshot::channel();
        if let Some(batch) = self.user_reads.enqueue(id, reply) {
            // The batch runs on its own task: a caller that gives up (a
            // deadline, a dropped request) must not strand the others.
            let store = self.clone();
            tokio::spawn(async move { store.serve_user_reads(batch).await });
        }
        answer.await.map_err(|_| StoreError::Internal("user read abandoned".into()))?
    }

    /// Runs `batch`, then whatever queued meanwhile, until the queue is empty.
    async fn serve_user_reads(self, mut batch: Vec<(UserId, Reply)>) {
        // Frees the slot even if a read panics, so later calls still run.
        let mut slot = SlotGuard { reads: &self.user_reads, held: true };
        loop {
            let ids: Vec<UserId> = batch.iter().map(|(id, _)| *id).collect();
            match self.users_by_ids(&ids).await {
                Ok(found) => {
                    // Two calls in a batch may ask for the same user: each
                    // gets its own copy.
                    for (id, reply) in batch {
                        let _ = reply.send(found.get(&id).cloned().unwrap_or(Err(StoreError::NotFound)));
                    }
                }
                Err(e) => {
                    for (_, reply) in batch {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
            match slot.reads.next_batch() {
                Some(next) => batch = next,
                None => break,
            }
        }
        slot.held = false;
    }

    /// One statement for up to [`MAX_BATCH`] ids; a row that does not decode
    /// fails only the calls that asked for it.
    async fn users_by_ids(&self, ids: &[UserId]) -> Result<HashMap<UserId, Result<User, StoreError>>, StoreError> {
        let shape = ids.len().next_power_of_two();
        let params: Vec<String> = (1..=shape).map(|n| format!("${n}")).collect();
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id IN ({})", params.join(", "));
        // Padding repeats the last id: the same rows, one cached statement per shape.
        let last = ids[ids.len() - 1];
        let values = ids.iter().chain(std::iter::repeat_n(&last, shape - ids.len())).map(|id| id.as_uuid().into());
        let rows = all(self.connection(), stmt(self.backend(), &sql, values.collect())).await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            let id = crate::rows::get::<uuid::Uuid>(row, "id").map(UserId::from_uuid)?;
            found.insert(id, user_from_row(row));
        }
        Ok(found)
    }
}

/// Still `held` when dropped only if a batch panicked: gives the slot back
/// and, if it was the last, fails the queued calls (their senders drop), so
/// nobody waits on a dead task.
struct SlotGuard<'a> {
    reads: &'a UserReads,
    held: bool,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let mut s = self.reads.lock();
        s.in_flight -= 1;
        if s.in_flight == 0 {
            s.waiting.clear();
        }
    }
}

//! Steward's storage adapter: the domain's store ports on SQLite and PostgreSQL.
//!
//! Every port method is one statement or one transaction. Statements are plain
//! SQL with `$n` parameters (both sqlx drivers accept that form), written once
//! for both backends; [`sql`] binds values so that they compare the same way on
//! each (timestamps in particular, see [`sql::time_value`]). The schema is
//! versioned by `sea-orm-migration` ([`migration::Migrator`]).

mod access_requests;
mod api_keys;
mod audit;
mod credentials;
mod deletion;
mod effects;
mod error;
mod grants;
mod groups;
mod holdings;
mod import_batch;
mod import_jobs;
mod lifecycle;
mod maintenance_jobs;
mod mfa;
pub mod migration;
mod outbox;
mod personal_groups;
mod projects;
mod records;
mod repair;
mod repair_facts;
mod resources;
mod roles;
mod rows;
mod sql;
mod sql_credentials;
mod tokens;
mod users;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use steward_domain::StoreError;
use steward_domain::clock::{Clock, SystemClock};
use time::OffsetDateTime;

pub use sql::truncate_to_micros;

/// A pooled connection idle longer than this is pinged before use.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

/// SQLite's page cache per connection, in KiB (the default is 2 MiB). A
/// transaction that touches more pages than fit spills dirty pages to the WAL
/// while it runs, and a deletion handing over 100k resources then took 13–16×
/// the time of one over 10k. The cache grows only as pages are used, so an
/// idle server stays small.
const SQLITE_CACHE_KIB: i64 = 64 * 1024;

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The database behind every store port. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: DbBackend,
    failpoint: Option<Failpoint>,
    /// What the ends of grants are judged against (see [`grants`]).
    clock: Arc<dyn Clock>,
}

/// Called after each named step of a multi-step transaction (see
/// [`DELETE_STEPS`]); an `Err` (or a future that never ends, under a
/// deadline) aborts the transaction there. For failure-injection tests only:
/// the server never sets one.
pub type Failpoint =
    Arc<dyn Fn(&'static str) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>> + Send + Sync>;

pub use deletion::DELETE_STEPS;

/// Only the backend: the pool's own `Debug` may print connect options,
/// password included.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `sqlite://path?mode=rwc` (WAL, busy timeout, foreign keys on;
    /// the parent directory is created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let mut opts = ConnectOptions::new(url.to_owned());
        // A database that is down fails a call within seconds (UNAVAILABLE)
        // instead of holding it; the pool reconnects by itself afterwards.
        opts.sqlx_logging(false).connect_timeout(Duration::from_secs(3)).acquire_timeout(Duration::from_secs(5));
        // sqlx pings a pooled connection on every acquire by default: one
        // extra round trip per statement. Ping only a connection that sat
        // idle (a dead one then fails one call with UNAVAILABLE and is
        // replaced).
        opts.test_before_acquire_if_idle_for(IDLE_PING_AFTER);
        if url.starts_with("sqlite:") {
            let path = sqlite_path(url);
            let in_memory = path.is_empty() || path.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                create_parent_dir(path)?;
            }
            // One connection for an in-memory database (each would be another
            // database); a few otherwise, so readers run beside the writer.
            opts.max_connections(if in_memory { 1 } else { 8 });
            opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
            });
        } else {
            opts.max_connections(16);
        }
        let db = Database::connect(opts).await.map_err(error::db)?;
        let backend = db.get_database_backend();
        Ok(Store { db, backend, failpoint: None, clock: Arc::new(SystemClock) })
    }

    /// The same store, judging the ends of grants by `clock` (the server
    /// passes the one its use cases read).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Store {
        self.clock = clock;
        self
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The same store, with `failpoint` called after each step of a
    /// multi-step transaction (tests only).
    pub fn with_failpoint(mut self, failpoint: Failpoint) -> Store {
        self.failpoint = Some(failpoint);
        self
    }

    pub(crate) async fn failpoint(&self, step: &'static str) -> Result<(), StoreError> {
        match &self.failpoint {
            Some(f) => f(step).await,
            None => Ok(()),
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migration::Migrator::up(&self.db, None).await.map_err(error::db)
    }

    /// The underlying connection, for tests and tools.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Closes the pool (tests drop their database afterwards).
    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await.map_err(error::db)
    }

    pub(crate) fn backend(&self) -> DbBackend {
        self.backend
    }

    /// A transaction that will write: on SQLite it takes the write lock up
    /// front (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a
    /// read lock; PostgreSQL ignores the mode.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, StoreError> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.db.begin_with_options(opts).await.map_err(error::db)
    }
}

/// Commits on `Ok`, rolls back on `Err`.
pub(crate) async fn finish<T>(txn: DatabaseTransaction, result: Result<T, StoreError>) -> Result<T, StoreError> {
    match result {
        Ok(v) => {
            txn.commit().await.map_err(error::db)?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// The file path of a `sqlite:` URL (empty for an in-memory database).
fn sqlite_path(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    rest.split('?').next().unwrap_or_default()
}

fn create_parent_dir(path: &str) -> Result<(), StoreError> {
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://var/steward.db?mode=rwc"), "var/steward.db");
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(sqlite_path("sqlite::memory:"), ":memory:");
    }
}

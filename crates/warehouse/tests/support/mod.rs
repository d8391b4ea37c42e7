//! What every engine test needs: the shared PostgreSQL, and fresh role names.

use sea_orm::{Database, DatabaseConnection};
use steward_domain::sql::SqlUsername;
use steward_warehouse::PostgresEngine;

pub fn url() -> String {
    std::env::var("STEWARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// The engine and a direct connection, or `None` (with a notice) when
/// PostgreSQL is unreachable outside CI.
pub async fn setup() -> Option<(PostgresEngine, DatabaseConnection)> {
    match Database::connect(url().as_str()).await {
        Ok(db) => Some((PostgresEngine::connect(&url()).await.unwrap(), db)),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("PostgreSQL unreachable in CI: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: PostgreSQL unreachable at {} ({e})", url());
            None
        }
    }
}

/// Role names are cluster-wide: each test gets its own.
pub fn name(prefix: &str) -> SqlUsername {
    SqlUsername::parse(&format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]), "n").unwrap()
}

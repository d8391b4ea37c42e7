use sea_orm::{ConnectionTrait, Database};

/// Which database a test server runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The admin URL of a reachable PostgreSQL; each server gets its own database.
    Postgres {
        admin_url: String,
    },
}

impl Backend {
    /// PostgreSQL from STEWARD_TEST_POSTGRES_URL (default: the local one), or
    /// `None` (with a notice) when unreachable — unless CI=true, where an
    /// unreachable PostgreSQL fails the test instead of skipping it.
    pub async fn postgres() -> Option<Backend> {
        let url = std::env::var("STEWARD_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        match Database::connect(&url).await {
            Ok(db) => {
                let _ = db.close().await;
                Some(Backend::Postgres { admin_url: url })
            }
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("PostgreSQL at {url} is unreachable and CI=true: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED: PostgreSQL at {url} is unreachable ({e}); set STEWARD_TEST_POSTGRES_URL");
                None
            }
        }
    }

    /// A fresh database for one server: its URL, or `None` for the default SQLite file.
    pub(crate) async fn create_database(&self) -> Option<(String, String)> {
        let Backend::Postgres { admin_url } = self else { return None };
        let name = format!("steward_e2e_{}", uuid::Uuid::new_v4().simple());
        let db = Database::connect(admin_url).await.expect("connect to PostgreSQL");
        db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        let _ = db.close().await;
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        Some((format!("{base}/{name}"), name))
    }

    pub(crate) async fn drop_database(&self, name: &str) {
        if let Backend::Postgres { admin_url } = self
            && let Ok(db) = Database::connect(admin_url).await
        {
            let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            let _ = db.close().await;
        }
    }
}

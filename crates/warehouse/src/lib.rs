//! The query engine as a real PostgreSQL: each SQL credential is a login role
//! whose password is the credential's SCRAM-SHA-256 verifier, handed to the
//! engine as is (`CREATE ROLE … LOGIN PASSWORD 'SCRAM-SHA-256$…'`), so the
//! engine authenticates the user without Steward ever sending a password.
//!
//! Steward connects as a role with `CREATEROLE` (or a superuser). Every role
//! it creates is marked with a comment ([`MARKER`]); it alters and drops only
//! roles bearing that mark, so a credential can never take over a role that
//! was there before (`postgres`, an application's owner role, …).
//!
//! DDL takes no bind parameters: names are quoted as identifiers (`"` doubled)
//! and verifiers as literals (`'` doubled) — and a verifier that is not
//! well-formed SCRAM is refused before any SQL is built. Statements are never
//! logged (sqlx logging is off); they carry only verifiers anyway.
//!
//! The pool connects lazily: Steward starts while the engine is down, and
//! each call then fails within a few seconds as `Unavailable`.

mod resource_roles;

use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    Statement, TransactionTrait,
};
use steward_domain::sql::{EngineError, QueryEngine, ResourceRole, SqlUsername, scram};

/// The comment on every role Steward manages.
pub const MARKER: &str = "managed by steward";

/// A PostgreSQL cluster as the query engine.
#[derive(Clone)]
pub struct PostgresEngine {
    db: DatabaseConnection,
}

/// Not the pool: its `Debug` may print the connection's password.
impl std::fmt::Debug for PostgresEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresEngine").finish_non_exhaustive()
    }
}

/// What the engine holds under a name.
enum Existing {
    Missing,
    Managed,
    Foreign,
}

impl PostgresEngine {
    /// A lazy pool to `postgres://…`: fails only for a URL that is not one;
    /// an engine that is down shows up as `Unavailable` on each call.
    pub async fn connect(url: &str) -> Result<Self, EngineError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(EngineError::Failed("the query engine URL must be postgres://…".into()));
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_lazy(true)
            .max_connections(4)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(3))
            .acquire_timeout(Duration::from_secs(5));
        let db = Database::connect(opts).await.map_err(error)?;
        Ok(Self { db })
    }

    /// Whether the engine answers (for tests and readiness checks).
    pub async fn ping(&self) -> Result<(), EngineError> {
        self.db.ping().await.map_err(error)
    }

    async fn existing(&self, c: &impl ConnectionTrait, name: &str) -> Result<Existing, EngineError> {
        let s = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COALESCE(shobj_description(oid, 'pg_authid'), '') AS note FROM pg_roles WHERE rolname = $1",
            vec![name.into()],
        );
        let row = c.query_one_raw(s).await.map_err(error)?;
        Ok(match row {
            None => Existing::Missing,
            Some(r) => {
                let note: String = r.try_get("", "note").map_err(error)?;
                if note == MARKER { Existing::Managed } else { Existing::Foreign }
            }
        })
    }

    async fn begin(&self) -> Result<DatabaseTransaction, EngineError> {
        self.db.begin().await.map_err(error)
    }

    async fn create(&self, txn: &DatabaseTransaction, name: &SqlUsername, verifier: &str) -> Result<(), EngineError> {
        let role = quote_ident(name.as_str());
        run(txn, &format!("CREATE ROLE {role} LOGIN PASSWORD {}", password_literal(verifier)?)).await?;
        run(txn, &format!("COMMENT ON ROLE {role} IS {}", quote_literal(MARKER))).await
    }
}

async fn run(c: &impl ConnectionTrait, sql: &str) -> Result<(), EngineError> {
    c.execute_unprepared(sql).await.map(|_| ()).map_err(error)
}

async fn commit(txn: DatabaseTransaction) -> Result<(), EngineError> {
    txn.commit().await.map_err(error)
}

#[async_trait]
impl QueryEngine for PostgresEngine {
    async fn create_login(&self, name: &SqlUsername, verifier: &str) -> Result<(), EngineError> {
        let txn = self.begin().await?;
        if !matches!(self.existing(&txn, name.as_str()).await?, Existing::Missing) {
            return Err(EngineError::AlreadyExists);
        }
        self.create(&txn, name, verifier).await?;
        commit(txn).await?;
        tracing::info!(login = %name, "query engine: login created");
        Ok(())
    }

    async fn set_password(&self, name: &SqlUsername, verifier: &str) -> Result<(), EngineError> {
        let txn = self.begin().await?;
        match self.existing(&txn, name.as_str()).await? {
            Existing::Foreign => return Err(EngineError::NotManaged),
            Existing::Missing => self.create(&txn, name, verifier).await?,
            Existing::Managed => {
                let sql = format!("ALTER ROLE {} PASSWORD {}", quote_ident(name.as_str()), password_literal(verifier)?);
                run(&txn, &sql).await?;
            }
        }
        commit(txn).await?;
        tracing::info!(login = %name, "query engine: password set");
        Ok(())
    }

    async fn drop_login(&self, name: &SqlUsername) -> Result<(), EngineError> {
        let txn = self.begin().await?;
        match self.existing(&txn, name.as_str()).await? {
            Existing::Foreign => return Err(EngineError::NotManaged),
            Existing::Missing => return Ok(()),
            Existing::Managed => run(&txn, &format!("DROP ROLE IF EXISTS {}", quote_ident(name.as_str()))).await?,
        }
        commit(txn).await?;
        tracing::info!(login = %name, "query engine: login dropped");
        Ok(())
    }

    async fn set_login_enabled(&self, name: &SqlUsername, enabled: bool) -> Result<(), EngineError> {
        let txn = self.begin().await?;
        match self.existing(&txn, name.as_str()).await? {
            Existing::Foreign => return Err(EngineError::NotManaged),
            Existing::Missing => return Ok(()),
            Existing::Managed => {
                let mode = if enabled { "LOGIN" } else { "NOLOGIN" };
                run(&txn, &format!("ALTER ROLE {} {mode}", quote_ident(name.as_str()))).await?;
            }
        }
        commit(txn).await?;
        tracing::info!(login = %name, enabled, "query engine: login enabled set");
        Ok(())
    }

    async fn login_exists(&self, login: &SqlUsername) -> Result<bool, EngineError> {
        self.role_exists(login.as_str()).await
    }

    async fn resource_roles(&self, login: &SqlUsername) -> Result<Vec<ResourceRole>, EngineError> {
        self.memberships(login).await
    }

    async fn grant_resource_role(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError> {
        self.grant(login, role).await
    }

    async fn revoke_resource_role(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError> {
        self.revoke(login, role).await
    }
}

/// `"name"`, with `"` doubled.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `'text'`, with `'` doubled (standard_conforming_strings is on since
/// PostgreSQL 9.1, so a backslash is an ordinary character).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The verifier as a literal, if it is a well-formed SCRAM verifier (only
/// base64 characters, `$` and `:`): nothing else is ever sent as a password.
fn password_literal(verifier: &str) -> Result<String, EngineError> {
    if scram::is_well_formed(verifier) {
        Ok(quote_literal(verifier))
    } else {
        Err(EngineError::Failed("refusing to send a malformed SCRAM verifier".into()))
    }
}

/// The SQLSTATE of a database error, if it is one.
fn sqlstate(e: &DbErr) -> Option<String> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => match &**inner {
            sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
            _ => None,
        },
        _ => None,
    }
}

/// Database errors as the port reports them.
fn error(e: DbErr) -> EngineError {
    let unavailable = |e: &DbErr| EngineError::Unavailable(e.to_string());
    match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => unavailable(&e),
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => match &**inner {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => unavailable(&e),
            sqlx::Error::Database(d) => match d.code().as_deref() {
                // duplicate_object: a concurrent CREATE ROLE won.
                Some("42710") => EngineError::AlreadyExists,
                // dependent_objects_still_exist: the login owns objects or holds privileges.
                Some("2BP01") => EngineError::InUse,
                Some(c) if c.starts_with("08") || c.starts_with("57P") || c == "53300" => unavailable(&e),
                _ => EngineError::Failed(e.to_string()),
            },
            _ => EngineError::Failed(e.to_string()),
        },
        _ => EngineError::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("alice"), "\"alice\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert!(password_literal("x'; DROP ROLE postgres; --").is_err());
        let v = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:\
                 dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=";
        assert_eq!(password_literal(v).unwrap(), format!("'{v}'"));
    }
}

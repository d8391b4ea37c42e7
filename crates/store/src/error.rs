//! Database errors into [`StoreError`], at the lowest point.
//!
//! A unique violation names what collided by the constraint: PostgreSQL
//! reports the index name (`ux_users_username_lower`), SQLite the column
//! (`users.username_lower`); both contain the column name we look for.

use std::ops::Deref;

use sea_orm::sqlx;
use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
use sea_orm::{DbErr, RuntimeErr};
use steward_domain::StoreError;

/// Unique columns and the key they are reported under, most specific first.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("username_lower", "username"),
    ("email_lower", "email"),
    ("create_request_id", "request_id"),
    ("lookup", "lookup"),
    ("sql_username", "sql_username"),
    ("name_lower", "project_name"),
];

pub(crate) fn db(e: DbErr) -> StoreError {
    match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => StoreError::Unavailable(e.to_string()),
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            sqlx_error(inner.deref(), &e)
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

fn sqlx_error(inner: &sqlx::Error, outer: &DbErr) -> StoreError {
    match inner {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(outer.to_string()),
        sqlx::Error::Database(d) => database_error(d.as_ref()),
        _ => StoreError::Internal(outer.to_string()),
    }
}

fn database_error(d: &dyn DatabaseError) -> StoreError {
    match d.kind() {
        ErrorKind::UniqueViolation => StoreError::Conflict { key: conflict_key(d.constraint(), d.message()) },
        // The row the new one refers to (a user) does not exist.
        ErrorKind::ForeignKeyViolation => StoreError::NotFound,
        _ if is_transient(d.code().as_deref(), d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()) => {
            StoreError::Unavailable(d.message().to_string())
        }
        _ => StoreError::Internal(d.message().to_string()),
    }
}

/// Which unique key a violation is about, from the constraint name or message.
pub(crate) fn conflict_key(constraint: Option<&str>, message: &str) -> &'static str {
    let haystack = format!("{} {message}", constraint.unwrap_or_default());
    UNIQUE_KEYS.iter().find(|(needle, _)| haystack.contains(needle)).map_or("id", |(_, key)| key)
}

/// Errors that go away by themselves: the server is shutting down or
/// overloaded, the connection broke, or SQLite stayed busy past the timeout.
fn is_transient(code: Option<&str>, sqlite: bool) -> bool {
    let Some(c) = code else { return false };
    if sqlite {
        // SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
        c.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
    } else {
        // PostgreSQL: connection exceptions, too many connections, shutdown.
        c.starts_with("08") || c == "53300" || c.starts_with("57P")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_both_backends() {
        let pg = "duplicate key value violates unique constraint \"ux_users_email_lower\"";
        assert_eq!(conflict_key(Some("ux_users_email_lower"), pg), "email");
        assert_eq!(conflict_key(None, "UNIQUE constraint failed: users.username_lower"), "username");
        assert_eq!(conflict_key(None, "UNIQUE constraint failed: users.create_request_id"), "request_id");
        assert_eq!(conflict_key(None, "UNIQUE constraint failed: users.id"), "id");
    }

    #[test]
    fn transient_codes() {
        assert!(is_transient(Some("08006"), false));
        assert!(is_transient(Some("57P01"), false));
        assert!(!is_transient(Some("23505"), false));
        assert!(is_transient(Some("5"), true));
        assert!(is_transient(Some("517"), true));
        assert!(!is_transient(Some("2067"), true));
        assert!(!is_transient(None, true));
    }
}

//! Building statements with `$n` parameters, and binding values so that they
//! behave the same on both backends.

use sea_orm::{ConnectionTrait, DbBackend, ExecResult, QueryResult, Statement, Value};
use steward_domain::StoreError;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::error;

/// Fixed-width UTC text, so that SQLite's text comparison is time order.
const SQLITE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The precision both backends keep: PostgreSQL stores microseconds, so
/// every timestamp is cut to microseconds (in UTC) before it is written.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t - Duration::nanoseconds(i64::from(t.nanosecond() % 1_000))
}

/// A timestamp as a parameter. PostgreSQL gets a `timestamptz`; SQLite gets
/// fixed-width RFC 3339 text (sqlx's own encoding drops trailing zeros of the
/// fraction, which breaks `<`/`>` between stored values).
pub(crate) fn time_value(backend: DbBackend, t: OffsetDateTime) -> Value {
    let t = truncate_to_micros(t);
    match backend {
        DbBackend::Sqlite => {
            Value::from(t.format(SQLITE_TIME).unwrap_or_else(|_| unreachable!("a UTC time always formats")))
        }
        _ => Value::from(t),
    }
}

/// The fixed-width UTC text of a timestamp (what SQLite stores; what a JSON
/// record set carries to PostgreSQL).
pub(crate) fn time_text(t: OffsetDateTime) -> String {
    truncate_to_micros(t).format(SQLITE_TIME).unwrap_or_else(|_| unreachable!("a UTC time always formats"))
}

pub(crate) fn time_opt_value(backend: DbBackend, t: Option<OffsetDateTime>) -> Value {
    match (t, backend) {
        (Some(t), _) => time_value(backend, t),
        (None, DbBackend::Sqlite) => Value::from(None::<String>),
        (None, _) => Value::from(None::<OffsetDateTime>),
    }
}

/// A statement under construction: SQL text and its parameters.
pub(crate) struct Query {
    backend: DbBackend,
    sql: String,
    values: Vec<Value>,
    anonymous: bool,
}

impl Query {
    pub(crate) fn new(backend: DbBackend, sql: &str) -> Self {
        Self { backend, sql: sql.to_owned(), values: Vec::new(), anonymous: false }
    }

    /// A statement with many parameters (multi-row inserts, long IN lists).
    /// SQLite finds a numbered parameter (`$n`) by a linear scan of its
    /// names, on prepare and on every bind, so thousands of them cost
    /// quadratic time; there this builder writes anonymous `?` instead. The
    /// rule that buys it: every placeholder appears in the text once, in the
    /// order it was bound (`row`, and `bind` pushed right away, keep it).
    pub(crate) fn bulk(backend: DbBackend, sql: &str) -> Self {
        Self { anonymous: backend == DbBackend::Sqlite, ..Self::new(backend, sql) }
    }

    pub(crate) fn backend(&self) -> DbBackend {
        self.backend
    }

    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Adds a parameter and returns its placeholder.
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        if self.anonymous { "?".to_string() } else { format!("${}", self.values.len()) }
    }

    /// Appends `(p1, p2, …)` for one row of a `VALUES` list.
    pub(crate) fn row(&mut self, values: Vec<Value>) -> &mut Self {
        let placeholders: Vec<String> = values.into_iter().map(|v| self.bind(v)).collect();
        self.sql.push('(');
        self.sql.push_str(&placeholders.join(", "));
        self.sql.push(')');
        self
    }

    pub(crate) fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.sql, self.values)
    }
}

/// A statement with its parameters in `$1…$n` order.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

pub(crate) async fn exec(c: &impl ConnectionTrait, s: Statement) -> Result<ExecResult, StoreError> {
    c.execute_raw(s).await.map_err(error::db)
}

pub(crate) async fn one(c: &impl ConnectionTrait, s: Statement) -> Result<Option<QueryResult>, StoreError> {
    c.query_one_raw(s).await.map_err(error::db)
}

pub(crate) async fn all(c: &impl ConnectionTrait, s: Statement) -> Result<Vec<QueryResult>, StoreError> {
    c.query_all_raw(s).await.map_err(error::db)
}

/// `NotFound` when an update touched nothing.
pub(crate) fn touched(r: &ExecResult) -> Result<(), StoreError> {
    if r.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` escaped
/// (use with `ESCAPE '\'`).
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn sqlite_times_sort_as_text() {
        let a = datetime!(2025-01-01 00:00:00 UTC);
        let b = datetime!(2025-01-01 00:00:00.5 UTC);
        let c = datetime!(2025-01-01 00:00:00.55 UTC);
        let text = |t| match time_value(DbBackend::Sqlite, t) {
            Value::String(Some(s)) => s.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(b), "2025-01-01T00:00:00.500000Z");
        assert!(text(a) < text(b) && text(b) < text(c));
        let offset = datetime!(2025-01-01 02:00:00.123456789 +02:00);
        assert_eq!(text(offset), "2025-01-01T00:00:00.123456Z");
    }

    #[test]
    fn like_escaping() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}

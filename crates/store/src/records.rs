//! Many rows as one parameter, for PostgreSQL: the rows go as a JSON array
//! and `json_to_recordset` turns them back into a table that an `INSERT …
//! SELECT` reads. A 500-row batch is then one small statement with a handful
//! of parameters instead of thousands, which PostgreSQL parses, binds and
//! plans far faster (and sqlx encodes far faster). SQLite keeps multi-row
//! `VALUES` with anonymous parameters ([`crate::sql::Query::bulk`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sea_orm::Value;
use serde::Serialize;
use steward_domain::StoreError;

/// The JSON text of `rows`, as a parameter (cast with `$n::json`).
pub(crate) fn recordset<T: Serialize>(rows: &[T]) -> Result<Value, StoreError> {
    serde_json::to_string(rows).map(Value::from).map_err(|e| StoreError::Internal(format!("encoding rows: {e}")))
}

/// `t.a, t.b, …` for a column list `a, b, …`.
pub(crate) fn select_list(columns: &str) -> String {
    columns.split(',').map(|c| format!("t.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// Bytes travel as base64 text; `decode(t.col, 'base64')` makes them bytea.
pub(crate) fn bytes(b: &[u8]) -> String {
    STANDARD.encode(b)
}

//! Reading columns back into domain values. A stored value that no longer
//! parses is a corrupt row: `Internal`, never a panic.

use sea_orm::{QueryResult, TryGetable};
use steward_domain::StoreError;
use steward_domain::role::RoleName;
use steward_domain::user::{UserKind, UserStatus};

pub(crate) fn get<T: TryGetable>(row: &QueryResult, col: &str) -> Result<T, StoreError> {
    row.try_get::<T>("", col).map_err(|e| StoreError::Internal(format!("reading column {col}: {e}")))
}

pub(crate) fn corrupt(col: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("corrupt stored {col}: {why}"))
}

pub(crate) fn kind(row: &QueryResult, col: &str) -> Result<UserKind, StoreError> {
    let s: String = get(row, col)?;
    UserKind::from_str_opt(&s).ok_or_else(|| corrupt(col, s))
}

pub(crate) fn status(row: &QueryResult, col: &str) -> Result<UserStatus, StoreError> {
    let s: String = get(row, col)?;
    UserStatus::from_str_opt(&s).ok_or_else(|| corrupt(col, s))
}

pub(crate) fn role(row: &QueryResult, col: &str) -> Result<RoleName, StoreError> {
    Ok(RoleName::from_stored(get::<String>(row, col)?))
}

/// A 0/1 integer computed in SQL (a `CASE`), as a bool.
pub(crate) fn flag(row: &QueryResult, col: &str) -> Result<bool, StoreError> {
    Ok(get::<i32>(row, col)? != 0)
}

/// A stored count (a non-negative `integer` column) as `u32`.
pub(crate) fn count(row: &QueryResult, col: &str) -> Result<u32, StoreError> {
    let n: i32 = get(row, col)?;
    u32::try_from(n).map_err(|_| corrupt(col, n))
}

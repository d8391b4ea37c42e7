//! One data row: decoded, validated exactly as CreateUser validates, and
//! turned into either a user to create or the row's errors.

use super::columns::Columns;
use super::model::RowError;
use crate::error::{DomainError, FieldViolation};
use crate::user::{CreateUser, EmailPolicy};

/// A row that passed every check a single CreateUser makes.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub user: CreateUser,
}

/// Validates the row at `line`. Every problem of the row is reported, each
/// with its column.
pub fn parse_row<'a>(
    fields: impl ExactSizeIterator<Item = &'a [u8]>,
    line: u64,
    columns: &Columns,
    policy: &EmailPolicy,
) -> Result<ImportRow, Vec<RowError>> {
    if fields.len() != columns.width() {
        return Err(vec![RowError::new(
            line,
            "",
            "WRONG_COLUMN_COUNT",
            format!("expected {} columns, found {}", columns.width(), fields.len()),
        )]);
    }
    let mut cells: [&str; 3] = [""; 3];
    let mut errors = Vec::new();
    for (i, raw) in fields.enumerate() {
        match std::str::from_utf8(raw) {
            Ok(s) => cells[i] = s,
            Err(_) => errors.push(RowError::new(line, column_at(columns, i), "INVALID_UTF8", "not valid UTF-8")),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (username, email, name) = (cells[columns.username], cells[columns.email], cells[columns.name]);
    let user = CreateUser::parse(username, email, name, "").map_err(|e| violations(e, line))?;
    policy.check(&user.email).map_err(|v| vec![from_violation(v, line)])?;
    Ok(ImportRow { line, user })
}

fn column_at(columns: &Columns, i: usize) -> &'static str {
    if i == columns.username {
        "username"
    } else if i == columns.email {
        "email"
    } else {
        "name"
    }
}

fn violations(e: DomainError, line: u64) -> Vec<RowError> {
    match e {
        DomainError::InvalidArgument(vs) => vs.into_iter().map(|v| from_violation(v, line)).collect(),
        other => vec![RowError::new(line, "", other.reason(), other.to_string())],
    }
}

/// CreateUser names the name field `full_name`; the file calls it `name`.
fn from_violation(v: FieldViolation, line: u64) -> RowError {
    let column = if v.field == "full_name" { "name" } else { v.field.as_str() };
    RowError::new(line, column, v.reason, v.description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Columns {
        Columns { username: 0, email: 1, name: 2 }
    }

    fn row(fields: &[&[u8]]) -> Result<ImportRow, Vec<RowError>> {
        parse_row(fields.iter().copied(), 7, &cols(), &EmailPolicy::default())
    }

    #[test]
    fn a_valid_row() {
        let r = row(&[b"alice", b"alice@example.com", b"Alice, Liddell"]).unwrap();
        assert_eq!((r.line, r.user.username.as_str()), (7, "alice"));
    }

    #[test]
    fn every_problem_with_its_column() {
        let e = row(&[b"a_b", b"nope", b""]).unwrap_err();
        let got: Vec<(&str, u64)> = e.iter().map(|e| (e.column.as_str(), e.line)).collect();
        assert_eq!(got, [("username", 7), ("email", 7), ("name", 7)]);
        let e = row(&[b"alice", b"\xff\xfe@example.com", b"A"]).unwrap_err();
        assert_eq!((e[0].column.as_str(), e[0].reason.as_str()), ("email", "INVALID_UTF8"));
        let e = row(&[b"alice", b"alice@example.com"]).unwrap_err();
        assert_eq!(e[0].reason, "WRONG_COLUMN_COUNT");
    }
}

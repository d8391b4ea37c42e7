use std::fmt;

use time::OffsetDateTime;

use crate::error::FieldViolation;
use crate::id::UserId;
use crate::user::Username;

/// A login name on the query engine: `[a-z][a-z0-9_]{2,62}` (a PostgreSQL
/// identifier that never needs case folding), unique, and none of the names
/// the engine keeps for itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SqlUsername(String);

/// Names a user may not take: the engine's own superuser and the role names
/// PostgreSQL reserves or treats specially.
const RESERVED: &[&str] = &["postgres", "public", "none", "current_user", "current_role", "session_user", "steward"];

impl SqlUsername {
    pub const MIN: usize = 3;
    pub const MAX: usize = 63;

    /// Parses a client-supplied name (not trimmed, not folded: what the user
    /// types is what they will log in with).
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        if !Self::well_formed(raw) {
            return Err(FieldViolation::new(
                field,
                "INVALID_SQL_USERNAME",
                "must be 3–63 characters: a lower-case letter, then lower-case letters, digits or _",
            ));
        }
        if Self::reserved(raw) {
            return Err(FieldViolation::new(
                field,
                "SQL_USERNAME_RESERVED",
                "is reserved by the query engine; choose another",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    fn well_formed(s: &str) -> bool {
        (Self::MIN..=Self::MAX).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }

    fn reserved(s: &str) -> bool {
        RESERVED.contains(&s) || s.starts_with("pg_")
    }

    /// The default name for a user: their username lower-cased, prefixed
    /// with `u_` when it would not be valid on its own (starts with a digit,
    /// or is reserved). Usernames are 3–20 ASCII letters and digits, so the
    /// result always parses.
    pub fn derive_from(username: &Username) -> Self {
        let lower = username.canonical();
        if Self::well_formed(&lower) && !Self::reserved(&lower) {
            Self(lower)
        } else {
            let mut s = format!("u_{lower}");
            while s.len() < Self::MIN {
                s.push('_');
            }
            s.truncate(Self::MAX);
            Self(s)
        }
    }

    /// A stored name, trusted as written by this program.
    pub fn from_stored(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SqlUsername {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's SQL credential. The verifier is not a secret in the sense that it
/// cannot log anyone in, but it allows an offline guessing attack: it is
/// never returned over the API.
#[derive(Clone, PartialEq, Eq)]
pub struct SqlCredential {
    pub user_id: UserId,
    pub sql_username: SqlUsername,
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    pub verifier: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Without the verifier.
impl fmt::Debug for SqlCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlCredential")
            .field("user_id", &self.user_id)
            .field("sql_username", &self.sql_username)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cases() {
        for ok in ["abc", "alice_2", "a__", &format!("a{}", "b".repeat(62))] {
            assert_eq!(SqlUsername::parse(ok, "sql_username").unwrap().as_str(), ok);
        }
        for bad in ["", "ab", "Alice", "1abc", "_abc", "al-ice", "al ice", "émile", &"a".repeat(64), " abc"] {
            let e = SqlUsername::parse(bad, "sql_username").unwrap_err();
            assert_eq!((e.field.as_str(), e.reason), ("sql_username", "INVALID_SQL_USERNAME"), "{bad:?}");
        }
        for reserved in ["postgres", "public", "pg_monitor", "pg_x", "session_user"] {
            assert_eq!(SqlUsername::parse(reserved, "f").unwrap_err().reason, "SQL_USERNAME_RESERVED");
        }
    }

    #[test]
    fn derived_names_always_parse() {
        let d = |u: &str| SqlUsername::derive_from(&Username::parse(u).unwrap()).as_str().to_string();
        assert_eq!(d("Alice42"), "alice42");
        assert_eq!(d("007bond"), "u_007bond");
        assert_eq!(d("Postgres"), "u_postgres");
        assert_eq!(d("PUBLIC"), "u_public");
        assert_eq!(d("a1b2c3d4e5f6g7h8i9j0"), "a1b2c3d4e5f6g7h8i9j0");
        for u in ["abc", "123", "ZZZ", "9", "none", "a1b2c3d4e5f6g7h8i9j0", "00000000000000000000"] {
            if let Ok(name) = Username::parse(u) {
                let s = SqlUsername::derive_from(&name);
                assert!(SqlUsername::parse(s.as_str(), "f").is_ok(), "{u} -> {s}");
            }
        }
    }
}

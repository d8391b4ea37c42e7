use std::fmt;

use crate::error::FieldViolation;

/// A role's name: 2–40 characters, lower-case letters, digits, `_` and `-`,
/// starting with a letter. Unique; `default` and `admin` are built in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);

impl RoleName {
    pub const DEFAULT: &'static str = "default";
    pub const ADMIN: &'static str = "admin";

    /// Parses a client-supplied name; upper case is folded, so names are
    /// unique ignoring case.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (2..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(s))
        } else {
            Err(FieldViolation::new(
                field,
                "INVALID_ROLE_NAME",
                "must be 2–40 lower-case letters, digits, _ or -, starting with a letter",
            ))
        }
    }

    pub fn default_role() -> Self {
        Self(Self::DEFAULT.into())
    }

    pub fn admin() -> Self {
        Self(Self::ADMIN.into())
    }

    /// A stored name, trusted as written by this program.
    pub fn from_stored(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_admin(&self) -> bool {
        self.0 == Self::ADMIN
    }

    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }

    pub fn is_builtin(&self) -> bool {
        self.is_admin() || self.is_default()
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(RoleName::parse(" Data-Stewards ", "name").unwrap().as_str(), "data-stewards");
        for bad in ["", "a", "1abc", "has space", "émile", &"x".repeat(41)] {
            assert_eq!(RoleName::parse(bad, "name").unwrap_err().reason, "INVALID_ROLE_NAME", "{bad}");
        }
    }
}

//! How much of a resource someone holds: read-only, or as its owner. Shared
//! by direct grants, group entries and the query engine's per-resource roles.

use crate::error::FieldViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    /// Read-only.
    Read,
    /// Everything the owner may do with it (ownership itself stays put).
    Owner,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 2] = [Self::Read, Self::Owner];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Owner => "owner",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Parses a stored name or a wire name (`read`, `ACCESS_LEVEL_READ`).
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = raw.trim();
        let s = s.strip_prefix("ACCESS_LEVEL_").map(str::to_ascii_lowercase).unwrap_or_else(|| s.to_string());
        Self::from_str_opt(&s).ok_or_else(|| {
            FieldViolation::new(field, "UNKNOWN_ACCESS_LEVEL", format!("{raw:?} is not an access level (read, owner)"))
        })
    }
}

impl std::fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_owner_outranks_read() {
        for l in AccessLevel::ALL {
            assert_eq!(AccessLevel::parse(l.as_str(), "f").unwrap(), l);
        }
        assert_eq!(AccessLevel::parse("ACCESS_LEVEL_OWNER", "f").unwrap(), AccessLevel::Owner);
        assert_eq!(AccessLevel::parse("write", "f").unwrap_err().reason, "UNKNOWN_ACCESS_LEVEL");
        assert!(AccessLevel::Owner > AccessLevel::Read);
    }
}

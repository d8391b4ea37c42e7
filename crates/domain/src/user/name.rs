use std::fmt;

use crate::error::FieldViolation;

/// A person's full name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub const MAX: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let s = crate::text::clean("full_name", raw, Self::MAX, false)?;
        if s.is_empty() {
            return Err(FieldViolation::new("full_name", "INVALID_FULL_NAME", "is required"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(FullName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert_eq!(FullName::parse("   ").unwrap_err().reason, "INVALID_FULL_NAME");
        assert_eq!(FullName::parse(&"x".repeat(101)).unwrap_err().reason, "TOO_LONG");
        assert!(FullName::parse(&"é".repeat(100)).is_ok());
    }
}

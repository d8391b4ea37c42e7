use std::fmt;

use crate::error::FieldViolation;

/// 3–20 ASCII letters or digits. Unique ignoring case: [`Username::canonical`]
/// is the form uniqueness is decided on, the original spelling is kept for display.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let len = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(FieldViolation::new(
                "username",
                "INVALID_USERNAME",
                format!("must be {}–{} characters long", Self::MIN, Self::MAX),
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FieldViolation::new(
                "username",
                "INVALID_USERNAME",
                "must contain only ASCII letters and digits",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased form on which uniqueness is decided.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        for ok in ["abc", "Alice42", "a1b2c3d4e5f6g7h8i9j0"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ab", "a1b2c3d4e5f6g7h8i9j0k", "al ice", "al_ice", "élan", "bob\n", "bob\0"] {
            let e = Username::parse(bad).unwrap_err();
            assert_eq!((e.field.as_str(), e.reason), ("username", "INVALID_USERNAME"), "{bad:?}");
        }
        assert_eq!(Username::parse("AlIcE").unwrap().canonical(), "alice");
    }
}

use std::fmt;

use crate::error::FieldViolation;

/// A practically valid address: ≤ 254 characters, local part ≤ 64, exactly one
/// `@`, no whitespace or control characters, a domain with a dot. Unique on
/// [`Email::canonical`] (the whole address lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let bad = |why: &str| FieldViolation::new("email", "INVALID_EMAIL", why.to_string());
        if raw.is_empty() {
            return Err(bad("is required"));
        }
        if raw.len() > 254 {
            return Err(bad("must be at most 254 characters"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces or control characters"));
        }
        let mut parts = raw.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("must contain exactly one @"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before @ must be 1–64 characters"));
        }
        let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.') || !labels_ok || domain.chars().any(|c| "()<>[]\\,;:\"".contains(c)) {
            return Err(bad("the domain must be a host name with a dot, like example.com"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form on which uniqueness is decided.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }

    /// The domain part, lower-cased.
    pub fn domain(&self) -> String {
        self.0.rsplit('@').next().unwrap_or_default().to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which email domains may hold an account. Empty means any.
#[derive(Debug, Clone, Default)]
pub struct EmailPolicy {
    allowed_domains: Vec<String>,
}

impl EmailPolicy {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(domains: I) -> Self {
        let allowed_domains = domains
            .into_iter()
            .map(|d| d.as_ref().trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        Self { allowed_domains }
    }

    pub fn check(&self, email: &Email) -> Result<(), FieldViolation> {
        if self.allowed_domains.is_empty() || self.allowed_domains.contains(&email.domain()) {
            return Ok(());
        }
        Err(FieldViolation::new(
            "email",
            "EMAIL_DOMAIN_NOT_ALLOWED",
            format!("the domain must be one of: {}", self.allowed_domains.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "ÜBER@exämple.de"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        let long_local = format!("{}@x.io", "a".repeat(65));
        let long_total = format!("a@{}.io", "b".repeat(260));
        for bad in [
            "",
            "plain",
            "a@b",
            "a@@b.co",
            "a@b@c.co",
            "a b@c.co",
            "a@b.co\r\nBcc: x@y.z",
            "a\0@b.co",
            "@b.co",
            "a@.b.co",
            "a@b..co",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().reason, "INVALID_EMAIL", "{bad:?}");
        }
    }

    #[test]
    fn canonical_and_policy() {
        let e = Email::parse("Ann@Example.COM").unwrap();
        assert_eq!(e.canonical(), "ann@example.com");
        assert!(EmailPolicy::default().check(&e).is_ok());
        assert!(EmailPolicy::new(["example.com"]).check(&e).is_ok());
        assert_eq!(EmailPolicy::new(["@other.org"]).check(&e).unwrap_err().reason, "EMAIL_DOMAIN_NOT_ALLOWED");
    }
}

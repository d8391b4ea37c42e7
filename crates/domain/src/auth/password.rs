//! Login passwords: the policy a new one must meet and the hasher port.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{DomainError, FieldViolation};

/// A password that meets the policy: 12–128 characters, any Unicode, no
/// composition rules, not on the list of the most common ones.
pub struct NewPassword(SecretString);

/// Passwords people pick most often that still reach 12 characters.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678910",
    "password1234",
    "password12345",
    "passwordpassword",
    "qwertyuiopas",
    "qwerty123456",
    "qwertyuiop123",
    "111111111111",
    "000000000000",
    "aaaaaaaaaaaa",
    "iloveyou1234",
    "123123123123",
    "abc123abc123",
    "letmein12345",
    "welcome12345",
    "administrator",
    "changeme1234",
    "trustno1trustno1",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "football1234",
    "monkey123456",
    "dragon123456",
    "sunshine1234",
    "princess1234",
    "baseball1234",
    "superman1234",
    "temporary123",
    "steward12345",
    "password123!",
    "p@ssw0rd1234",
    "correcthorsebatterystaple",
];

impl NewPassword {
    pub const MIN: usize = 12;
    pub const MAX: usize = 128;

    /// `field` names the request field in a violation; `username` may not be
    /// the password.
    pub fn parse(raw: SecretString, field: &str, username: &str) -> Result<Self, FieldViolation> {
        let s = raw.expose_secret();
        let n = s.chars().count();
        if n < Self::MIN {
            return Err(FieldViolation::new(
                field,
                "PASSWORD_TOO_SHORT",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if n > Self::MAX {
            return Err(FieldViolation::new(
                field,
                "PASSWORD_TOO_LONG",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        let lower = s.to_lowercase();
        if COMMON.contains(&lower.as_str()) || lower == username.to_lowercase() {
            return Err(FieldViolation::new(field, "PASSWORD_TOO_COMMON", "is too easy to guess; choose another"));
        }
        Ok(Self(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash uses weaker parameters than today's: re-hash it.
    pub needs_rehash: bool,
}

/// A slow, salted password hash (argon2id). Implementations bound their
/// concurrency so a login flood queues instead of exhausting memory.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string with its own salt.
    async fn hash(&self, password: &SecretString) -> Result<String, DomainError>;
    /// Exactly one verification. `ResourceExhausted` when the pool is saturated.
    async fn verify(&self, password: &SecretString, phc: &str) -> Result<Verified, DomainError>;
    /// A hash of no real password, verified against when there is no real one,
    /// so every login attempt costs the same.
    fn dummy_hash(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<NewPassword, FieldViolation> {
        NewPassword::parse(SecretString::from(s), "new_password", "alice")
    }

    #[test]
    fn policy() {
        assert!(p("correct horse battery").is_ok());
        assert!(p("ünïcødé-pässwörd-😀").is_ok());
        assert_eq!(p("short").err().unwrap().reason, "PASSWORD_TOO_SHORT");
        assert_eq!(p("ééééééééééé").err().unwrap().reason, "PASSWORD_TOO_SHORT"); // 11 chars, 22 bytes
        assert_eq!(p(&"x".repeat(129)).err().unwrap().reason, "PASSWORD_TOO_LONG");
        assert!(p(&"x".repeat(128)).is_ok());
        assert_eq!(p("Password1234").err().unwrap().reason, "PASSWORD_TOO_COMMON");
    }
}

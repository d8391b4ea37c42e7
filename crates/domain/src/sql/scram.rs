//! SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) in PostgreSQL's format:
//!
//! ```text
//! SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//! ```
//!
//! SaltedPassword = PBKDF2-HMAC-SHA256(SASLprep(password), salt, iterations),
//! ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = SHA-256(ClientKey),
//! ServerKey = HMAC(SaltedPassword, "Server Key"). A verifier is what
//! PostgreSQL keeps in `pg_authid.rolpassword`: handed to `CREATE ROLE …
//! PASSWORD '<verifier>'` it is stored as is, and the engine authenticates the
//! password without ever seeing it.
//!
//! The password goes through SASLprep (RFC 4013) first, as PostgreSQL and its
//! clients do; a password SASLprep refuses is used as raw UTF-8 bytes, which
//! is PostgreSQL's fallback too. Printable ASCII is unchanged by SASLprep.

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac, pbkdf2};
use secrecy::{ExposeSecret, SecretString};

use crate::error::DomainError;

/// PostgreSQL's default (`scram_iterations`), and RFC 7677's minimum.
pub const ITERATIONS: u32 = 4096;
/// Bytes of random salt per verifier (PostgreSQL uses 16).
pub const SALT_LEN: usize = 16;
/// No verifier we accept asks for more work than this.
const MAX_ITERATIONS: u32 = 10_000_000;
const PREFIX: &str = "SCRAM-SHA-256$";

/// A parsed verifier.
struct Parsed {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

fn parse(verifier: &str) -> Option<Parsed> {
    let rest = verifier.strip_prefix(PREFIX)?;
    let (params, keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    let iterations: u32 = iterations.parse().ok().filter(|n| (1..=MAX_ITERATIONS).contains(n))?;
    let salt = B64.decode(salt).ok().filter(|s| !s.is_empty())?;
    let stored_key = B64.decode(stored).ok().filter(|k| k.len() == digest::SHA256_OUTPUT_LEN)?;
    let server_key = B64.decode(server).ok().filter(|k| k.len() == digest::SHA256_OUTPUT_LEN)?;
    Some(Parsed { iterations: NonZeroU32::new(iterations)?, salt, stored_key, server_key })
}

/// Whether `verifier` is a SCRAM-SHA-256 verifier in PostgreSQL's format.
pub fn is_well_formed(verifier: &str) -> bool {
    parse(verifier).is_some()
}

/// What PBKDF2 is applied to: SASLprep(password), or the raw bytes when
/// SASLprep refuses the password (PostgreSQL's rule).
fn prepared(password: &str) -> Vec<u8> {
    match stringprep::saslprep(password) {
        Ok(p) => p.as_bytes().to_vec(),
        Err(_) => password.as_bytes().to_vec(),
    }
}

fn salted_password(password: &str, salt: &[u8], iterations: NonZeroU32) -> [u8; digest::SHA256_OUTPUT_LEN] {
    let mut out = [0u8; digest::SHA256_OUTPUT_LEN];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, &prepared(password), &mut out);
    out
}

/// StoredKey and ServerKey of a salted password.
fn keys(salted: &[u8]) -> (digest::Digest, hmac::Tag, hmac::Key) {
    let key = hmac::Key::new(hmac::HMAC_SHA256, salted);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    (stored_key, server_key, key)
}

/// A verifier for `password` with the given salt and iteration count
/// (deterministic: for tests and known vectors; see [`make`]).
pub fn make_with(password: &str, salt: &[u8], iterations: NonZeroU32) -> String {
    let salted = salted_password(password, salt, iterations);
    let (stored_key, server_key, _) = keys(&salted);
    format!(
        "{PREFIX}{iterations}:{}${}:{}",
        B64.encode(salt),
        B64.encode(stored_key.as_ref()),
        B64.encode(server_key.as_ref())
    )
}

/// A verifier for `password` with a fresh random salt and [`ITERATIONS`].
pub fn make(password: &SecretString) -> Result<String, DomainError> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new().fill(&mut salt).map_err(|_| DomainError::Internal("no randomness".into()))?;
    let iterations = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
    Ok(make_with(password.expose_secret(), &salt, iterations))
}

/// Whether `password` matches `verifier`: recomputes StoredKey and ServerKey
/// and compares both in constant time (through `ring::hmac::verify`). A
/// malformed verifier matches nothing. Costs one PBKDF2 whatever the outcome
/// once the verifier parses.
pub fn verify(password: &SecretString, verifier: &str) -> bool {
    let Some(v) = parse(verifier) else { return false };
    let salted = salted_password(password.expose_secret(), &v.salt, v.iterations);
    let (stored_key, _, key) = keys(&salted);
    // ServerKey = HMAC(SaltedPassword, "Server Key"): ring compares the tag
    // in constant time.
    let server_ok = hmac::verify(&key, b"Server Key", &v.server_key).is_ok();
    // StoredKey: equal iff their HMACs under one key are; ring compares those
    // in constant time too.
    let cmp = hmac::Key::new(hmac::HMAC_SHA256, b"steward/scram/compare");
    let stored_ok = hmac::verify(&cmp, stored_key.as_ref(), hmac::sign(&cmp, &v.stored_key).as_ref()).is_ok();
    server_ok & stored_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    /// Computed once with Python (`hashlib.pbkdf2_hmac('sha256', b'pencil',
    /// bytes(range(16)), 4096)`, then HMAC/SHA-256 as above).
    const PENCIL: &str = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:\
                          dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=";

    /// What PostgreSQL 15 stored for `CREATE ROLE x PASSWORD 'correct horse
    /// battery'` with `password_encryption = 'scram-sha-256'`.
    const FROM_POSTGRES: &str = "SCRAM-SHA-256$4096:pOOj1cqcKtxpELPuK3WDdw==$\
                                 3hs5U9jOs5x+dsVEcQZtzsStYpvjyhiBEju8+4FVrdE=:\
                                 Lif0dZKI16PFKcOiXYjf0XyOUw5TZ4FBFukEf+cKVeA=";

    #[test]
    fn known_vector() {
        let salt: Vec<u8> = (0u8..16).collect();
        assert_eq!(make_with("pencil", &salt, NonZeroU32::new(4096).unwrap()), PENCIL);
        assert!(verify(&secret("pencil"), PENCIL));
        assert!(!verify(&secret("pencil "), PENCIL));
    }

    #[test]
    fn verifies_what_postgres_stored() {
        assert!(is_well_formed(FROM_POSTGRES));
        assert!(verify(&secret("correct horse battery"), FROM_POSTGRES));
        assert!(!verify(&secret("correct horse batterY"), FROM_POSTGRES));
    }

    #[test]
    fn fresh_verifiers() {
        let a = make(&secret("a long enough passphrase")).unwrap();
        let b = make(&secret("a long enough passphrase")).unwrap();
        assert_ne!(a, b, "each verifier has its own salt");
        assert!(a.starts_with("SCRAM-SHA-256$4096:") && is_well_formed(&a));
        assert!(!a.contains("passphrase"));
        assert!(verify(&secret("a long enough passphrase"), &a) && verify(&secret("a long enough passphrase"), &b));
        assert!(!verify(&secret("a long enough passphrasf"), &a));
        let salt = B64.decode(a.split(['$', ':']).nth(2).unwrap()).unwrap();
        assert_eq!(salt.len(), SALT_LEN);
    }

    #[test]
    fn sasl_prep_like_postgres() {
        // SASLprep maps a non-ASCII space to a plain one, as libpq would.
        let v = make(&secret("correct\u{00A0}horse battery")).unwrap();
        assert!(verify(&secret("correct horse battery"), &v));
        // Unicode stays Unicode.
        let v = make(&secret("ünïcødé-pässwörd-😀")).unwrap();
        assert!(verify(&secret("ünïcødé-pässwörd-😀"), &v));
    }

    #[test]
    fn malformed_verifiers_match_nothing() {
        for bad in [
            "",
            "md5abc",
            "SCRAM-SHA-256$0:AAEC$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
            "SCRAM-SHA-256$4096:AAEC$short:short",
            "SCRAM-SHA-256$4096:$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==",
        ] {
            assert!(!is_well_formed(bad), "{bad}");
            assert!(!verify(&secret("pencil"), bad), "{bad}");
        }
    }
}

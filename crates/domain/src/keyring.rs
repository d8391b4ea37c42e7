//! The server's keys, derived from one server secret: the HMAC key that digests
//! tokens and temporary passwords, and the AEAD key that seals secrets which
//! must wait in a table (a temporary password in the outbox) until sent.

use ring::aead::{self, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{self, HKDF_SHA256, Salt};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::error::DomainError;

pub struct Keyring {
    digest_key: hmac::Key,
    url_key: hmac::Key,
    seal_key: LessSafeKey,
    rng: SystemRandom,
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Keyring {
    /// Derives the keys from the server secret (≥ 32 bytes of entropy).
    pub fn from_secret(secret: &[u8]) -> Self {
        let prk = Salt::new(HKDF_SHA256, b"steward/v1").extract(secret);
        let derive = |info: &'static [u8]| {
            let mut out = [0u8; 32];
            prk.expand(&[info], Len(32)).and_then(|okm| okm.fill(&mut out)).expect("32 bytes is a valid HKDF length");
            out
        };
        let digest_key = hmac::Key::new(hmac::HMAC_SHA256, &derive(b"digest"));
        let url_key = hmac::Key::new(hmac::HMAC_SHA256, &derive(b"signed-url"));
        let unbound = UnboundKey::new(&AES_256_GCM, &derive(b"seal")).expect("32-byte AES key");
        Self { digest_key, url_key, seal_key: LessSafeKey::new(unbound), rng: SystemRandom::new() }
    }

    /// HMAC-SHA256 of a secret, for storage and lookup.
    pub fn digest(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.digest_key, secret.as_bytes()).as_ref().to_vec()
    }

    /// Constant-time check of a secret against a stored digest.
    pub fn verify_digest(&self, secret: &str, digest: &[u8]) -> bool {
        hmac::verify(&self.digest_key, secret.as_bytes(), digest).is_ok()
    }

    /// HMAC-SHA256 signature of a presigned URL's canonical text (its own key).
    pub fn sign_url(&self, canonical: &str) -> Vec<u8> {
        hmac::sign(&self.url_key, canonical.as_bytes()).as_ref().to_vec()
    }

    /// Constant-time check of a presigned URL's signature.
    pub fn verify_url(&self, canonical: &str, signature: &[u8]) -> bool {
        hmac::verify(&self.url_key, canonical.as_bytes(), signature).is_ok()
    }

    /// Seals `secret` bound to `context` (e.g. the outbox row id): nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, secret: &SecretString, context: &[u8]) -> Result<Vec<u8>, DomainError> {
        let mut nonce = [0u8; 12];
        self.rng.fill(&mut nonce).map_err(|_| DomainError::Internal("no randomness".into()))?;
        let mut buf = secret.expose_secret().as_bytes().to_vec();
        self.seal_key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            .map_err(|_| DomainError::Internal("seal failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens what [`Keyring::seal`] produced for the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<SecretString, DomainError> {
        let bad = || DomainError::Internal("sealed secret does not open with this server key".into());
        if sealed.len() < 12 + aead::MAX_TAG_LEN {
            return Err(bad());
        }
        let (nonce, rest) = sealed.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
        let mut buf = rest.to_vec();
        let plain = self.seal_key.open_in_place(nonce, Aad::from(context), &mut buf).map_err(|_| bad())?;
        let s = String::from_utf8(plain.to_vec()).map_err(|_| bad())?;
        Ok(SecretString::from(s))
    }

    /// `n` random bytes as lower-case base32 (no padding): 5 bits a character.
    pub fn random_base32(&self, n: usize) -> Result<String, DomainError> {
        let mut bytes = vec![0u8; n];
        self.rng.fill(&mut bytes).map_err(|_| DomainError::Internal("no randomness".into()))?;
        Ok(base32(&bytes))
    }
}

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// RFC 4648 base32, lower case, no padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_vectors() {
        // RFC 4648 section 10, lower-cased, unpadded.
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b""), "");
    }

    #[test]
    fn seal_open_and_digest() {
        let k = Keyring::from_secret(&[7u8; 32]);
        let s = SecretString::from("hunter2-but-longer");
        let sealed = k.seal(&s, b"ctx").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"hunter"));
        assert_eq!(k.open(&sealed, b"ctx").unwrap().expose_secret(), "hunter2-but-longer");
        assert!(k.open(&sealed, b"other").is_err());
        let other = Keyring::from_secret(&[8u8; 32]);
        assert!(other.open(&sealed, b"ctx").is_err());
        let d = k.digest("tok");
        assert!(k.verify_digest("tok", &d) && !k.verify_digest("tok2", &d) && !other.verify_digest("tok", &d));
        assert_eq!(k.random_base32(20).unwrap().len(), 32);
    }
}

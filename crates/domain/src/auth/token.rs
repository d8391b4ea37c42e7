//! Bearer tokens: `stw_<kind>_<random>_<checksum>`.
//!
//! The random part is 160 bits of base32; the checksum (SHA-256 of the rest,
//! first 4 bytes, base32) lets a secret scanner recognise a leaked token and
//! lets the server refuse a mistyped or forged one before any database read.
//! The first 12 characters of the random part are the lookup id (indexed);
//! the whole token is stored only as a keyed digest and compared in constant time.

use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretString};

use crate::error::DomainError;
use crate::keyring::{Keyring, base32};

const RANDOM_BYTES: usize = 20;
const RANDOM_CHARS: usize = 32;
const CHECK_CHARS: usize = 7;
const LOOKUP_CHARS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    ApiKey,
}

impl TokenKind {
    fn tag(self) -> &'static str {
        match self {
            Self::Session => "sess",
            Self::ApiKey => "key",
        }
    }

    fn from_tag(s: &str) -> Option<Self> {
        match s {
            "sess" => Some(Self::Session),
            "key" => Some(Self::ApiKey),
            _ => None,
        }
    }
}

/// A freshly minted token: the secret (shown once) and what is stored.
pub struct IssuedToken {
    pub secret: SecretString,
    pub lookup: String,
    pub digest: Vec<u8>,
}

impl IssuedToken {
    pub fn mint(kind: TokenKind, keyring: &Keyring) -> Result<Self, DomainError> {
        let random = keyring.random_base32(RANDOM_BYTES)?;
        let body = format!("stw_{}_{random}", kind.tag());
        let token = format!("{body}_{}", checksum(&body));
        Ok(Self {
            lookup: random[..LOOKUP_CHARS].to_string(),
            digest: keyring.digest(&token),
            secret: SecretString::from(token),
        })
    }

    /// Display prefix safe to show in listings (`stw_key_abcdefgh…`).
    pub fn display_prefix(&self) -> String {
        let s = self.secret.expose_secret();
        let cut = s.find('_').and_then(|i| s[i + 1..].find('_').map(|j| i + 1 + j + 1 + 8)).unwrap_or(0);
        s[..cut.min(s.len())].to_string()
    }
}

/// A well-formed token (checksum verified); not yet known to be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    pub kind: TokenKind,
    pub lookup: String,
}

impl ParsedToken {
    /// Checks shape and checksum only: no I/O, so junk is refused cheaply.
    pub fn parse(token: &str) -> Option<Self> {
        let rest = token.strip_prefix("stw_")?;
        let (tag, rest) = rest.split_once('_')?;
        let kind = TokenKind::from_tag(tag)?;
        let (random, check) = rest.split_once('_')?;
        let alphabet_ok = |s: &str| s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'));
        if random.len() != RANDOM_CHARS || check.len() != CHECK_CHARS || !alphabet_ok(random) {
            return None;
        }
        let body = &token[..token.len() - CHECK_CHARS - 1];
        if checksum(body) != check {
            return None;
        }
        Some(Self { kind, lookup: random[..LOOKUP_CHARS].to_string() })
    }
}

fn checksum(body: &str) -> String {
    let d = digest(&SHA256, body.as_bytes());
    base32(&d.as_ref()[..4])[..CHECK_CHARS].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mint_then_parse() {
        let k = Keyring::from_secret(&[1u8; 32]);
        let t = IssuedToken::mint(TokenKind::ApiKey, &k).unwrap();
        let s = t.secret.expose_secret();
        assert!(s.starts_with("stw_key_"), "{s}");
        assert_eq!(s.len(), "stw_key_".len() + RANDOM_CHARS + 1 + CHECK_CHARS);
        let p = ParsedToken::parse(s).unwrap();
        assert_eq!((p.kind, p.lookup.as_str()), (TokenKind::ApiKey, t.lookup.as_str()));
        assert!(t.display_prefix().starts_with("stw_key_") && t.display_prefix().len() == 16);
        assert!(k.verify_digest(s, &t.digest));
    }

    #[test]
    fn refuses_junk_and_bad_checksums() {
        let k = Keyring::from_secret(&[1u8; 32]);
        let t = IssuedToken::mint(TokenKind::Session, &k).unwrap();
        let s = t.secret.expose_secret().to_string();
        let mut flipped = s.clone().into_bytes();
        let i = "stw_sess_".len() + 3;
        flipped[i] = if flipped[i] == b'a' { b'b' } else { b'a' };
        for bad in [
            "",
            "Bearer x",
            "stw_sess_",
            "stw_xyz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_aaaaaaa",
            &s[..s.len() - 1],
            &String::from_utf8(flipped).unwrap(),
            &s.to_uppercase(),
        ] {
            assert_eq!(ParsedToken::parse(bad), None, "{bad}");
        }
    }
}

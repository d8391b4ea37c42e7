//! Presigned upload URLs. The query string carries the size cap, the expiry
//! and a one-time nonce; the signature is HMAC-SHA256 over the method, the job,
//! and those three, so none can be changed. Single use is the store's part: the
//! first upload spends the nonce.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use super::model::ImportJobId;
use crate::keyring::Keyring;

/// The path under which uploads are served: `/uploads/imports/{job}`.
pub const UPLOAD_PATH_PREFIX: &str = "/uploads/imports/";

/// What a presigned URL allows: one PUT of at most `max_bytes` to `job`
/// before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    pub job: ImportJobId,
    pub max_bytes: u64,
    /// Unix seconds.
    pub expires_at: i64,
    pub nonce: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UploadUrlError {
    #[error("the URL is malformed")]
    Malformed,
    #[error("the URL's signature does not match")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
}

impl UploadGrant {
    fn canonical(&self) -> String {
        format!("PUT\n{}\n{}\n{}\n{}", self.job, self.max_bytes, self.expires_at, self.nonce)
    }

    /// The path and query of the signed URL (append to the public base URL).
    pub fn path_and_query(&self, keyring: &Keyring) -> String {
        let sig = URL_SAFE_NO_PAD.encode(keyring.sign_url(&self.canonical()));
        format!(
            "{UPLOAD_PATH_PREFIX}{}?max_bytes={}&expires={}&nonce={}&signature={sig}",
            self.job, self.max_bytes, self.expires_at, self.nonce
        )
    }

    /// Checks a request's path and query. Every part must be there exactly
    /// once; the signature is compared in constant time before the expiry is.
    pub fn verify(keyring: &Keyring, path: &str, query: &str, now: OffsetDateTime) -> Result<Self, UploadUrlError> {
        let job = path.strip_prefix(UPLOAD_PATH_PREFIX).ok_or(UploadUrlError::Malformed)?;
        let job = ImportJobId::parse(job, "job").map_err(|_| UploadUrlError::Malformed)?;
        let (mut max_bytes, mut expires, mut nonce, mut sig) = (None, None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or(UploadUrlError::Malformed)?;
            let slot = match k {
                "max_bytes" => &mut max_bytes,
                "expires" => &mut expires,
                "nonce" => &mut nonce,
                "signature" => &mut sig,
                _ => return Err(UploadUrlError::Malformed),
            };
            if slot.replace(v).is_some() {
                return Err(UploadUrlError::Malformed);
            }
        }
        let (Some(max_bytes), Some(expires), Some(nonce), Some(sig)) = (max_bytes, expires, nonce, sig) else {
            return Err(UploadUrlError::Malformed);
        };
        let plain = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !plain(nonce) || !max_bytes.bytes().all(|b| b.is_ascii_digit()) || !plain(expires.trim_start_matches('-')) {
            return Err(UploadUrlError::Malformed);
        }
        let grant = Self {
            job,
            max_bytes: max_bytes.parse().map_err(|_| UploadUrlError::Malformed)?,
            expires_at: expires.parse().map_err(|_| UploadUrlError::Malformed)?,
            nonce: nonce.to_string(),
        };
        // The canonical text is rebuilt from the parsed values: "007" and "7"
        // would sign differently, so only the canonical spelling verifies.
        if grant.max_bytes.to_string() != max_bytes || grant.expires_at.to_string() != expires {
            return Err(UploadUrlError::Malformed);
        }
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| UploadUrlError::BadSignature)?;
        if !keyring.verify_url(&grant.canonical(), &sig) {
            return Err(UploadUrlError::BadSignature);
        }
        if now.unix_timestamp() >= grant.expires_at {
            return Err(UploadUrlError::Expired);
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (&str, &str) {
        url.split_once('?').unwrap()
    }

    #[test]
    fn signed_urls_verify_and_any_change_is_refused() {
        let k = Keyring::from_secret(&[7u8; 32]);
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        let g = UploadGrant { job: ImportJobId::new(), max_bytes: 1024, expires_at: 1_000_900, nonce: "abc123".into() };
        let url = g.path_and_query(&k);
        let (path, query) = split(&url);
        assert_eq!(UploadGrant::verify(&k, path, query, now), Ok(g.clone()));

        let later = OffsetDateTime::from_unix_timestamp(1_000_900).unwrap();
        assert_eq!(UploadGrant::verify(&k, path, query, later), Err(UploadUrlError::Expired));
        let bigger = query.replace("max_bytes=1024", "max_bytes=4096");
        assert_eq!(UploadGrant::verify(&k, path, &bigger, now), Err(UploadUrlError::BadSignature));
        let padded = query.replace("max_bytes=1024", "max_bytes=01024");
        assert_eq!(UploadGrant::verify(&k, path, &padded, now), Err(UploadUrlError::Malformed));
        let other_job = format!("{UPLOAD_PATH_PREFIX}{}", ImportJobId::new());
        assert_eq!(UploadGrant::verify(&k, &other_job, query, now), Err(UploadUrlError::BadSignature));
        let other_key = Keyring::from_secret(&[8u8; 32]);
        assert_eq!(UploadGrant::verify(&other_key, path, query, now), Err(UploadUrlError::BadSignature));
        let doubled = format!("{query}&nonce=abc123");
        assert_eq!(UploadGrant::verify(&k, path, &doubled, now), Err(UploadUrlError::Malformed));
    }
}

//! The password-hasher port on argon2id, on a bounded blocking pool: at most
//! `concurrency` hashes run at once (each holds 19 MiB), the rest queue for a
//! while and are then refused with RESOURCE_EXHAUSTED instead of piling up.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use steward_domain::DomainError;
use steward_domain::auth::{PasswordHasher, Verified};
use tokio::sync::Semaphore;

/// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// How long a hash may wait for a slot before the call is refused.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    dummy: String,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Argon2Hasher {
    pub fn new(concurrency: usize) -> Self {
        let dummy = argon2().hash_password(b"no account has this password").expect("hashing works").to_string();
        Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy }
    }

    async fn on_pool<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
        let busy = || DomainError::ResourceExhausted {
            reason: "HASHER_BUSY",
            description: "too many password checks at once; retry shortly".into(),
        };
        let permit = tokio::time::timeout(QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| DomainError::Internal(format!("hash task failed: {e}")))?;
        Ok(out)
    }
}

/// Whether a stored PHC string uses weaker parameters than today's.
fn weaker_than_current(phc: &str) -> bool {
    if !phc.starts_with("$argon2id$") {
        return true;
    }
    let param = |key: &str| {
        phc.split('$')
            .flat_map(|part| part.split(','))
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')).and_then(|v| v.parse::<u32>().ok()))
    };
    param("m").is_none_or(|m| m < M_COST_KIB) || param("t").is_none_or(|t| t < T_COST)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &SecretString) -> Result<String, DomainError> {
        let pw = password.clone();
        self.on_pool(move || argon2().hash_password(pw.expose_secret().as_bytes()).map(|h| h.to_string()))
            .await?
            .map_err(|e| DomainError::Internal(format!("hashing failed: {e}")))
    }

    async fn verify(&self, password: &SecretString, phc: &str) -> Result<Verified, DomainError> {
        let pw = password.clone();
        let stored = phc.to_string();
        let matches = self
            .on_pool(move || argon2().verify_password(pw.expose_secret().as_bytes(), stored.as_str()).is_ok())
            .await?;
        Ok(Verified { matches, needs_rehash: weaker_than_current(phc) })
    }

    fn dummy_hash(&self) -> &str {
        &self.dummy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_detects_weak_parameters() {
        let h = Argon2Hasher::new(2);
        let pw = SecretString::from("correct horse battery");
        let phc = h.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(h.verify(&pw, &phc).await.unwrap(), Verified { matches: true, needs_rehash: false });
        assert!(!h.verify(&SecretString::from("wrong"), &phc).await.unwrap().matches);
        assert!(!h.verify(&pw, h.dummy_hash()).await.unwrap().matches);
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert_eq!(h.verify(&pw, &weak).await.unwrap(), Verified { matches: true, needs_rehash: true });
        assert_ne!(h.hash(&pw).await.unwrap(), phc, "each hash has its own salt");
    }
}

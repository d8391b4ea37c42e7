use time::Duration;

/// How logins and sessions behave; all of it is configuration.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Consecutive failures after which the account locks.
    pub max_failures: u32,
    pub lockout: Duration,
    pub session_ttl: Duration,
    pub temporary_password_ttl: Duration,
    /// How long a resolved token may be answered from memory (zero: never).
    /// The bound after which a change made through another replica is seen.
    pub principal_cache_ttl: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            max_failures: 10,
            lockout: Duration::minutes(15),
            session_ttl: Duration::hours(12),
            temporary_password_ttl: Duration::days(7),
            principal_cache_ttl: Duration::ZERO,
        }
    }
}

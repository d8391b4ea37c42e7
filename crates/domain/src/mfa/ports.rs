use async_trait::async_trait;
use time::OffsetDateTime;

use crate::effects::Effects;
use crate::error::StoreError;
use crate::id::UserId;

/// A user's TOTP enrolment: pending until confirmed, then enabled.
pub struct MfaRecord {
    /// The base32 secret, sealed with the server key (see [`super::seal_context`]).
    pub sealed_secret: Vec<u8>,
    pub enabled: bool,
    /// The last step whose code was accepted; a code is good only for a later step.
    pub last_used_step: u64,
}

/// Stored TOTP enrolments. The sealed secret is opaque to the store.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// Stores a pending (unconfirmed) secret, replacing an earlier pending one.
    /// `Refused { reason: "MFA_ALREADY_ENABLED" }` when MFA is already on;
    /// `NotFound` when there is no such user.
    async fn save_pending_secret(
        &self,
        user: UserId,
        sealed_secret: Vec<u8>,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// The enrolment, pending or enabled; `None` when there is none.
    async fn get_mfa(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError>;

    /// Turns a pending enrolment on with `step` as its first used step, and
    /// marks the user as MFA-enabled (a new version), in one transaction.
    /// `NotFound` without an enrolment, `Refused { reason: "MFA_ALREADY_ENABLED" }`
    /// when it is already on.
    async fn enable_mfa(
        &self,
        user: UserId,
        step: u64,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError>;

    /// Atomically records `step` as used, only if MFA is enabled and `step`
    /// is later than the last used one. `true` when this call recorded it: of
    /// any number of concurrent calls with the same step, exactly one wins.
    async fn consume_step(&self, user: UserId, step: u64) -> Result<bool, StoreError>;

    /// Removes the enrolment and marks the user as without MFA (a new
    /// version), in one transaction. `NotFound` without an enrolment.
    async fn disable_mfa(&self, user: UserId, now: OffsetDateTime, effects: Effects) -> Result<(), StoreError>;
}

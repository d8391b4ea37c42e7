//! Enrolling, confirming and disabling TOTP.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::ports::{MfaRecord, MfaStore};
use super::totp;
use crate::audit::{AuditEvent, user_target};
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::UserId;
use crate::keyring::Keyring;
use crate::role::Permission;
use crate::user::{UserKind, UserStore};

/// A fresh enrolment, shown once: the base32 secret and the URI for an app.
pub struct Enrollment {
    pub secret: SecretString,
    pub otpauth_uri: SecretString,
}

pub struct MfaService {
    store: Arc<dyn MfaStore>,
    users: Arc<dyn UserStore>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

/// What a user's TOTP secret is sealed to: a sealed secret copied to another
/// user's row does not open.
pub fn seal_context(user: UserId) -> Vec<u8> {
    let mut c = b"totp:".to_vec();
    c.extend_from_slice(user.as_uuid().as_bytes());
    c
}

/// Opens a stored secret into the raw key bytes.
pub(crate) fn open_secret(keyring: &Keyring, user: UserId, record: &MfaRecord) -> Result<Vec<u8>, DomainError> {
    let base32 = keyring.open(&record.sealed_secret, &seal_context(user))?;
    totp::base32_decode(base32.expose_secret())
        .ok_or_else(|| DomainError::Internal("stored TOTP secret is not base32".into()))
}

fn wrong_code() -> DomainError {
    DomainError::invalid("code", "INVALID_MFA_CODE", "is not a current code of the authenticator")
}

fn already_enabled(user: UserId) -> DomainError {
    DomainError::precondition("MFA_ALREADY_ENABLED", user_target(user), "MFA is already enabled; disable it first")
}

fn not_enabled(user: UserId) -> DomainError {
    DomainError::precondition("MFA_NOT_ENABLED", user_target(user), "MFA is not enabled for this user")
}

impl MfaService {
    pub fn new(
        store: Arc<dyn MfaStore>,
        users: Arc<dyn UserStore>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, users, keyring, clock }
    }

    /// Starts (or restarts) the caller's enrolment: a new random secret,
    /// stored sealed and pending until confirmed. Human users only.
    /// `MFA_ALREADY_ENABLED` when it is on.
    pub async fn enroll(&self, ctx: &Ctx) -> Result<Enrollment, DomainError> {
        let user = ctx.principal.user_id;
        if ctx.principal.kind != UserKind::Human {
            return Err(DomainError::precondition(
                "HUMAN_USER_REQUIRED",
                user_target(user),
                "a service account cannot use MFA",
            ));
        }
        if self.store.get_mfa(user).await?.is_some_and(|r| r.enabled) {
            return Err(already_enabled(user));
        }
        let now = self.clock.now();
        let secret = self.keyring.random_base32(totp::SECRET_BYTES)?.to_ascii_uppercase();
        let secret = SecretString::from(secret);
        let sealed = self.keyring.seal(&secret, &seal_context(user))?;
        let audit = AuditEvent::by(ctx, now, "mfa.enroll", user_target(user), "");
        match self.store.save_pending_secret(user, sealed, now, Effects::audit(audit)).await {
            Ok(()) => {}
            Err(StoreError::Refused { .. }) => return Err(already_enabled(user)),
            Err(e) => return Err(e.into()),
        }
        let uri = totp::otpauth_uri(&ctx.principal.username, secret.expose_secret());
        Ok(Enrollment { secret, otpauth_uri: SecretString::from(uri) })
    }

    /// Turns the caller's pending enrolment on with a current code (which is
    /// then used up). `INVALID_MFA_CODE`, `MFA_NOT_ENROLLED`, `MFA_ALREADY_ENABLED`.
    pub async fn confirm(&self, ctx: &Ctx, code: &str) -> Result<(), DomainError> {
        let user = ctx.principal.user_id;
        let not_enrolled =
            || DomainError::precondition("MFA_NOT_ENROLLED", user_target(user), "enrol first (EnrollMfa)");
        let record = self.store.get_mfa(user).await?.ok_or_else(not_enrolled)?;
        if record.enabled {
            return Err(already_enabled(user));
        }
        let now = self.clock.now();
        let secret = open_secret(&self.keyring, user, &record)?;
        let step = totp::verify(&secret, code, now.unix_timestamp()).ok_or_else(wrong_code)?;
        let audit = AuditEvent::by(ctx, now, "mfa.enable", user_target(user), "");
        match self.store.enable_mfa(user, step, now, Effects::audit(audit)).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(not_enrolled()),
            Err(StoreError::Refused { .. }) => Err(already_enabled(user)),
            Err(e) => Err(e.into()),
        }
    }

    /// Turns MFA off for `user`. On oneself a current code is required (and
    /// used up); on another user `users.update` is, and no code.
    /// `INVALID_MFA_CODE`, `MFA_NOT_ENABLED`, `NOT_FOUND`, `PERMISSION_DENIED`.
    pub async fn disable(&self, ctx: &Ctx, user: UserId, code: &str) -> Result<(), DomainError> {
        ctx.require_self_or(user, Permission::UsersUpdate)?;
        let by_self = ctx.is(user);
        if !by_self {
            self.users.get_user(user).await.map_err(|e| match e {
                StoreError::NotFound => DomainError::not_found("user", user.to_string()),
                e => e.into(),
            })?;
        }
        let record = self.store.get_mfa(user).await?.filter(|r| r.enabled).ok_or_else(|| not_enabled(user))?;
        let now = self.clock.now();
        if by_self {
            let secret = open_secret(&self.keyring, user, &record)?;
            let step = totp::verify(&secret, code, now.unix_timestamp()).ok_or_else(wrong_code)?;
            if !self.store.consume_step(user, step).await? {
                return Err(wrong_code());
            }
        }
        let detail = if by_self { "" } else { "by an administrator" };
        let audit = AuditEvent::by(ctx, now, "mfa.disable", user_target(user), detail);
        match self.store.disable_mfa(user, now, Effects::audit(audit)).await {
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

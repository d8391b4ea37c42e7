//! Login, password change, logout, who-am-I, and resolving a bearer token.

use std::sync::Arc;

use secrecy::SecretString;
use time::OffsetDateTime;

use super::cache::{Fresh, PrincipalCache};
use super::ports::{CredentialStore, TokenStore};
use super::token::{IssuedToken, ParsedToken, TokenKind};
use super::{Ctx, LoginPolicy, LoginRecord, NewPassword, NewSession, PasswordHasher, Principal, Via};
use crate::audit::{AuditEvent, user_target};
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::SessionId;
use crate::keyring::Keyring;
use crate::mfa::{self, MfaStore, totp};
use crate::notify::Message;
use crate::role::{PermissionSet, RoleName};
use crate::user::{User, UserKind, UserStatus, UserStore, Username};

pub struct AuthService {
    credentials: Arc<dyn CredentialStore>,
    tokens: Arc<dyn TokenStore>,
    users: Arc<dyn UserStore>,
    mfa: Arc<dyn MfaStore>,
    hasher: Arc<dyn PasswordHasher>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    policy: LoginPolicy,
    cache: Arc<PrincipalCache>,
}

/// A new session: the token (shown once) and when it ends.
pub struct IssuedSession {
    pub token: SecretString,
    pub expires_at: OffsetDateTime,
    pub password_change_required: bool,
    pub user: User,
}

pub struct WhoAmI {
    pub user: User,
    pub principal: Principal,
}

/// The outcome of checking a password against an account, with exactly one
/// argon2 verification whatever the account's state.
struct Checked {
    matches: bool,
    rehash_needed: bool,
}

impl AuthService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        credentials: Arc<dyn CredentialStore>,
        tokens: Arc<dyn TokenStore>,
        users: Arc<dyn UserStore>,
        mfa: Arc<dyn MfaStore>,
        hasher: Arc<dyn PasswordHasher>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        policy: LoginPolicy,
    ) -> Self {
        let cache = Arc::new(PrincipalCache::new(policy.principal_cache_ttl));
        Self { credentials, tokens, users, mfa, hasher, keyring, clock, policy, cache }
    }

    /// Every failure — unknown user, wrong password, locked, suspended, expired
    /// temporary password, service account, a missing, wrong or reused TOTP
    /// code when MFA is on — is the same `Unauthenticated`, costs one argon2
    /// verification and counts towards the lockout.
    pub async fn login(
        &self,
        username: &str,
        password: SecretString,
        totp_code: &str,
        request_id: &str,
    ) -> Result<IssuedSession, DomainError> {
        let now = self.clock.now();
        let record = match Username::parse(username) {
            Ok(u) => self.credentials.find_login(&u.canonical()).await?,
            Err(_) => None,
        };
        let Some(record) = record.filter(|r| r.kind == UserKind::Human) else {
            self.burn_one_verify(&password).await?;
            return Err(DomainError::Unauthenticated);
        };
        let attempt = self.credentials.reserve_login_attempt(record.user_id, now).await?;
        let locked = attempt.locked_until.is_some_and(|t| t > now) || attempt.count > self.policy.max_failures;
        if locked {
            self.burn_one_verify(&password).await?;
            if attempt.locked_until.is_none() {
                self.lock(&record, now, request_id).await?;
            }
            return Err(DomainError::Unauthenticated);
        }
        // Read whether MFA is on before the password is checked, so a right
        // password costs no more reads than a wrong one until the code.
        let mfa = self.mfa.get_mfa(record.user_id).await?.filter(|m| m.enabled);
        let checked = self.check_password(&record, &password, now).await?;
        let second_factor = match (&mfa, checked.matches && record.status == UserStatus::Active) {
            (Some(m), true) => self.second_factor(&record, m, totp_code, now).await?,
            _ => true,
        };
        if !checked.matches || record.status != UserStatus::Active || !second_factor {
            if attempt.count >= self.policy.max_failures {
                self.lock(&record, now, request_id).await?;
            }
            return Err(DomainError::Unauthenticated);
        }
        let rehash = if checked.rehash_needed { Some(self.hasher.hash(&password).await?) } else { None };
        self.credentials.record_login_success(record.user_id, rehash).await?;

        let token = IssuedToken::mint(TokenKind::Session, &self.keyring)?;
        let password_change_required = record.password_hash.is_none();
        let session = NewSession {
            id: SessionId::new(),
            user_id: record.user_id,
            lookup: token.lookup.clone(),
            digest: token.digest.clone(),
            role: record.default_role.clone(),
            password_change_required,
            created_at: now,
            expires_at: now + self.policy.session_ttl,
        };
        let detail = if password_change_required { "temporary password" } else { "password" };
        let audit = AuditEvent::by_user(record.user_id, &record.username, request_id, now, "auth.login", detail);
        let expires_at = session.expires_at;
        self.credentials.open_session(session, Effects::audit(audit)).await?;
        let user = self.users.get_user(record.user_id).await?;
        Ok(IssuedSession { token: token.secret, expires_at, password_change_required, user })
    }

    /// A current code of the user's authenticator, not used before: the step
    /// is consumed atomically, so a code opens at most one session.
    async fn second_factor(
        &self,
        record: &LoginRecord,
        mfa: &mfa::MfaRecord,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DomainError> {
        let secret = mfa::open_secret(&self.keyring, record.user_id, mfa)?;
        match totp::verify(&secret, code, now.unix_timestamp()) {
            Some(step) if step > mfa.last_used_step => Ok(self.mfa.consume_step(record.user_id, step).await?),
            _ => Ok(false),
        }
    }

    async fn lock(&self, record: &LoginRecord, now: OffsetDateTime, request_id: &str) -> Result<(), DomainError> {
        let until = now + self.policy.lockout;
        let audit = AuditEvent::by_system(
            now,
            "auth.lockout",
            user_target(record.user_id),
            format!("{} consecutive failures", self.policy.max_failures),
        );
        let audit = AuditEvent { request_id: request_id.to_string(), ..audit };
        Ok(self.credentials.lock_account(record.user_id, until, Effects::audit(audit)).await?)
    }

    /// One argon2 verification against the account's hash, or against the
    /// dummy hash when the account has only a temporary password (checked by
    /// its keyed digest) — the cost is the same either way.
    async fn check_password(
        &self,
        r: &LoginRecord,
        password: &SecretString,
        now: OffsetDateTime,
    ) -> Result<Checked, DomainError> {
        use secrecy::ExposeSecret;
        match &r.password_hash {
            Some(hash) => {
                let v = self.hasher.verify(password, hash).await?;
                Ok(Checked { matches: v.matches, rehash_needed: v.matches && v.needs_rehash })
            }
            None => {
                self.burn_one_verify(password).await?;
                let matches = r.temp_password.as_ref().is_some_and(|t| {
                    t.expires_at > now && self.keyring.verify_digest(password.expose_secret(), &t.digest)
                });
                Ok(Checked { matches, rehash_needed: false })
            }
        }
    }

    async fn burn_one_verify(&self, password: &SecretString) -> Result<(), DomainError> {
        self.hasher.verify(password, self.hasher.dummy_hash()).await.map(|_| ())
    }

    /// Needs the current password (a wrong one counts towards the lockout).
    /// Kills the temporary password, revokes the user's other sessions and
    /// lifts this session's restriction.
    pub async fn change_password(
        &self,
        ctx: &Ctx,
        current: SecretString,
        new: SecretString,
    ) -> Result<(), DomainError> {
        let Via::Session(session) = ctx.principal.via else {
            return Err(DomainError::precondition(
                "SESSION_REQUIRED",
                "credential",
                "log in with a password to change it",
            ));
        };
        let now = self.clock.now();
        let user = ctx.principal.user_id;
        let record = self.credentials.find_login_by_id(user).await?.ok_or(DomainError::Unauthenticated)?;
        let new = NewPassword::parse(new, "new_password", &record.username)
            .map_err(|v| DomainError::InvalidArgument(vec![v]))?;

        let attempt = self.credentials.reserve_login_attempt(user, now).await?;
        if attempt.locked_until.is_some_and(|t| t > now) || attempt.count > self.policy.max_failures {
            self.burn_one_verify(&current).await?;
            return Err(DomainError::ResourceExhausted {
                reason: "ACCOUNT_LOCKED",
                description: "too many wrong passwords; try again later".into(),
            });
        }
        if !self.check_password(&record, &current, now).await?.matches {
            if attempt.count >= self.policy.max_failures {
                self.lock(&record, now, &ctx.request_id).await?;
            }
            return Err(DomainError::invalid("current_password", "WRONG_PASSWORD", "is not the current password"));
        }
        self.credentials.record_login_success(user, None).await?;
        use secrecy::ExposeSecret;
        if new.secret().expose_secret() == current.expose_secret() {
            return Err(DomainError::invalid(
                "new_password",
                "PASSWORD_UNCHANGED",
                "must differ from the current password",
            ));
        }
        let hash = self.hasher.hash(new.secret()).await?;
        let user_row = self.users.get_user(user).await?;
        let email = Message::PasswordChanged { user: &user_row }.compose(&self.keyring, now)?;
        let audit = AuditEvent::by(ctx, now, "auth.password_change", user_target(user), "");
        self.credentials.change_password(user, hash, session, now, Effects::audit(audit).with_email(email)).await?;
        Ok(())
    }

    /// Ends the calling session. An API key has no session to end.
    pub async fn logout(&self, ctx: &Ctx) -> Result<(), DomainError> {
        let Via::Session(session) = ctx.principal.via else {
            return Err(DomainError::precondition(
                "SESSION_REQUIRED",
                "credential",
                "an API key has no session; revoke the key instead",
            ));
        };
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "auth.logout", user_target(ctx.principal.user_id), "");
        match self.tokens.revoke_session(session, now, Effects::audit(audit)).await {
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The caller's record comes from the principal cache when it was read
    /// within its bound (and nothing changed through this node since).
    pub async fn who_am_i(&self, ctx: &Ctx) -> Result<WhoAmI, DomainError> {
        let id = ctx.principal.user_id;
        let now = self.clock.now();
        let user = self.cache.read_user(id, now, self.users.get_user(id)).await?;
        Ok(WhoAmI { user, principal: ctx.principal.clone() })
    }

    /// Resolves a bearer token to a principal. A malformed token or a bad
    /// checksum is refused before any database read. A token resolved in the
    /// last `principal_cache_ttl` is answered from the [`PrincipalCache`]
    /// (still verified against its stored digest); the transport empties that
    /// cache after every call that may change state, so revocation, expiry and
    /// suspension count from the very next call on this node, and within the
    /// bound on another replica.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, DomainError> {
        let parsed = ParsedToken::parse(token).ok_or(DomainError::Unauthenticated)?;
        let now = self.clock.now();
        if let Some(hit) = self.cache.get(&parsed.lookup, now, |digest| self.keyring.verify_digest(token, digest)) {
            if let (true, Via::ApiKey(id)) = (hit.touch_due, hit.principal.via) {
                let _ = self.tokens.touch_api_key(id, now).await;
            }
            return Ok(hit.principal);
        }
        let ticket = self.cache.ticket();
        let resolved = self.resolve(token, &parsed, now).await?;
        let fresh = Fresh {
            lookup: &parsed.lookup,
            digest: &resolved.digest,
            principal: &resolved.principal,
            expires_at: resolved.expires_at,
            last_used_at: resolved.last_used_at,
        };
        self.cache.insert(ticket, fresh, now);
        Ok(resolved.principal)
    }

    /// The cache, for the other use cases that answer from it (GetUser).
    pub fn cache(&self) -> Arc<PrincipalCache> {
        Arc::clone(&self.cache)
    }

    /// Forgets every cached principal on this node (after a change).
    pub fn forget_cached_principals(&self) {
        self.cache.forget_all();
    }

    /// The database path of [`Self::authenticate`].
    async fn resolve(&self, token: &str, parsed: &ParsedToken, now: OffsetDateTime) -> Result<Resolved, DomainError> {
        match parsed.kind {
            TokenKind::Session => {
                let s = self.tokens.find_session(&parsed.lookup).await?.ok_or(DomainError::Unauthenticated)?;
                let ok = self.keyring.verify_digest(token, &s.digest)
                    && !s.revoked
                    && s.expires_at > now
                    && s.user_status == UserStatus::Active;
                if !ok {
                    return Err(DomainError::Unauthenticated);
                }
                let (role, stored) =
                    if s.role_held { (s.role, s.role_permissions) } else { (RoleName::default_role(), vec![]) };
                let principal = Principal {
                    user_id: s.user_id,
                    username: s.username,
                    kind: s.kind,
                    via: Via::Session(s.id),
                    permissions: PermissionSet::of_role(&role, &stored),
                    role,
                    password_change_required: s.password_change_required,
                    project_scope: None,
                };
                Ok(Resolved { principal, digest: s.digest, expires_at: Some(s.expires_at), last_used_at: None })
            }
            TokenKind::ApiKey => {
                let k = self.tokens.find_api_key(&parsed.lookup).await?.ok_or(DomainError::Unauthenticated)?;
                let ok = self.keyring.verify_digest(token, &k.digest)
                    && !k.revoked
                    && k.expires_at.is_none_or(|t| t > now)
                    && k.user_status == UserStatus::Active;
                if !ok {
                    return Err(DomainError::Unauthenticated);
                }
                let (role, stored) =
                    if k.role_held { (k.role, k.role_permissions) } else { (RoleName::default_role(), vec![]) };
                // A project-scoped key holds no permissions, whatever its role.
                let permissions =
                    if k.project_id.is_some() { PermissionSet::none() } else { PermissionSet::of_role(&role, &stored) };
                // "Last used" is bookkeeping: written at most once a minute,
                // and a failed write never fails the call.
                let mut last_used_at = k.last_used_at;
                if k.last_used_at.is_none_or(|t| now - t >= time::Duration::MINUTE) {
                    let _ = self.tokens.touch_api_key(k.id, now).await;
                    last_used_at = Some(now);
                }
                let principal = Principal {
                    user_id: k.user_id,
                    username: k.username,
                    kind: k.kind,
                    via: Via::ApiKey(k.id),
                    permissions,
                    role,
                    password_change_required: false,
                    project_scope: k.project_id,
                };
                Ok(Resolved { principal, digest: k.digest, expires_at: k.expires_at, last_used_at })
            }
        }
    }
}

/// A token resolved from the database, with what the cache needs to keep it.
struct Resolved {
    principal: Principal,
    digest: Vec<u8>,
    expires_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
}

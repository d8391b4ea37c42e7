//! Creating, rotating, deleting, reading and verifying SQL credentials.
//!
//! # Two writes, one truth
//!
//! A change touches two systems that share no transaction: the query engine
//! (the login role) and Steward's store (the credential row, with its audit
//! event). The rule: **Steward's store never claims a credential the engine
//! does not have.** Every change therefore goes to the engine first and to
//! the store second:
//!
//! * engine down (or refusing) → the call fails (`UNAVAILABLE` when it cannot
//!   be reached) and nothing was stored: the store is untouched;
//! * engine done, store write failed → the engine change is undone with what
//!   the store held before, which is always possible because a verifier is
//!   exactly what PostgreSQL stores: create → drop the new login; rotate →
//!   set the old verifier back; delete → re-create the login with the old
//!   verifier. If the undo fails too, the call reports an internal error
//!   naming the login, and the engine holds a login (or a password) the store
//!   does not — for the repair report to find; the store never holds one the
//!   engine lacks.
//! * Two changes of the same credential racing: the store writes are
//!   compare-and-set on the verifier read before, so the loser sees `Stale`,
//!   sets the engine to whatever the store holds now (reconciles), and
//!   reports `ABORTED`.
//!
//! With no engine configured the store alone holds the credential, and
//! [`SqlCredentialService::verify`] is how a query engine checks a password.

use std::sync::Arc;

use secrecy::SecretString;

use super::ports::{EngineError, QueryEngine, SqlCredentialStore};
use super::{SqlCredential, SqlUsername, scram};
use crate::audit::{AuditEvent, user_target};
use crate::auth::{Ctx, NewPassword};
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::UserId;
use crate::keyring::Keyring;
use crate::role::Permission;
use crate::user::{UserStatus, Username};

/// Where the password comes from.
pub enum PasswordChoice {
    /// The user's own; it must meet the login-password policy.
    Given(SecretString),
    /// Generated here and returned once.
    Generate,
}

/// A credential just created or rotated, with the password when it was
/// generated (shown once, never stored).
pub struct CreatedSqlCredential {
    pub credential: SqlCredential,
    pub generated_password: Option<SecretString>,
}

pub struct SqlCredentialService {
    store: Arc<dyn SqlCredentialStore>,
    engine: Option<Arc<dyn QueryEngine>>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    /// Verified against when there is no real credential, so an unknown name
    /// costs the same PBKDF2 as a known one.
    dummy_verifier: String,
}

/// 15 random bytes as base32: 24 characters, 120 bits.
const GENERATED_BYTES: usize = 15;

fn credential_exists(user: UserId) -> DomainError {
    DomainError::AlreadyExists { resource: "sql credential", name: user_target(user), reason: "SQL_CREDENTIAL_EXISTS" }
}

fn name_taken(name: &SqlUsername) -> DomainError {
    DomainError::AlreadyExists { resource: "sql username", name: name.to_string(), reason: "SQL_USERNAME_TAKEN" }
}

fn no_credential(user: UserId) -> DomainError {
    DomainError::not_found("sql credential", user_target(user))
}

/// A project-scoped API key only reads its project's data sources: it does
/// not manage its owner's SQL credentials.
fn unscoped(ctx: &Ctx) -> Result<(), DomainError> {
    if ctx.principal.project_scope.is_some() { Err(DomainError::denied("unscoped_credential")) } else { Ok(()) }
}

fn raced() -> DomainError {
    DomainError::Aborted {
        reason: "CONCURRENT_CHANGE",
        description: "the SQL credential changed during this call; read it again".into(),
    }
}

/// An engine failure as the caller sees it.
fn engine_error(name: &SqlUsername, e: EngineError) -> DomainError {
    match e {
        EngineError::Unavailable(m) => DomainError::Unavailable(m),
        EngineError::AlreadyExists | EngineError::NotManaged => name_taken(name),
        EngineError::InUse => DomainError::precondition(
            "SQL_LOGIN_IN_USE",
            format!("sql_username/{name}"),
            "the login owns objects or holds privileges on the query engine; transfer them first",
        ),
        EngineError::LoginMissing => DomainError::Internal(format!("no login {name} on the query engine")),
        EngineError::Failed(m) => DomainError::Internal(m),
    }
}

impl SqlCredentialService {
    pub fn new(
        store: Arc<dyn SqlCredentialStore>,
        engine: Option<Arc<dyn QueryEngine>>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // Its password does not matter: a match against it is ignored.
        let dummy_verifier = scram::make_with(
            "no credential has this password",
            b"steward/dummy/16",
            std::num::NonZeroU32::new(scram::ITERATIONS).unwrap_or(std::num::NonZeroU32::MIN),
        );
        Self { store, engine, keyring, clock, dummy_verifier }
    }

    /// Whether a query engine is configured (credentials become real logins).
    pub fn has_engine(&self) -> bool {
        self.engine.is_some()
    }

    /// Creates the caller's credential: `name` or one derived from their
    /// username, and their password or a generated one.
    pub async fn create(
        &self,
        ctx: &Ctx,
        name: Option<SqlUsername>,
        password: PasswordChoice,
    ) -> Result<CreatedSqlCredential, DomainError> {
        unscoped(ctx)?;
        let user = ctx.principal.user_id;
        let name = match name {
            Some(n) => n,
            None => SqlUsername::derive_from(
                &Username::parse(&ctx.principal.username)
                    .map_err(|_| DomainError::Internal("the caller's username does not parse".into()))?,
            ),
        };
        let (password, generated) = self.password(password, &name)?;
        if self.store.get_sql_credential(user).await?.is_some() {
            return Err(credential_exists(user));
        }
        if self.store.find_sql_credential(&name).await?.is_some() {
            return Err(name_taken(&name));
        }
        let verifier = scram::make(&password)?;
        let now = self.clock.now();
        let credential =
            SqlCredential { user_id: user, sql_username: name.clone(), verifier, created_at: now, updated_at: now };
        if let Some(engine) = &self.engine {
            engine.create_login(&name, &credential.verifier).await.map_err(|e| engine_error(&name, e))?;
        }
        let detail = format!("sql_username={name} password={}", if generated { "generated" } else { "given" });
        let audit = AuditEvent::by(ctx, now, "sql.create", user_target(user), detail);
        if let Err(e) = self.store.insert_sql_credential(&credential, Effects::audit(audit)).await {
            let error = match e {
                StoreError::Conflict { key: "sql_username" } => name_taken(&name),
                StoreError::Conflict { .. } => credential_exists(user),
                other => other.into(),
            };
            let undo = |engine: Arc<dyn QueryEngine>| {
                let name = name.clone();
                async move { engine.drop_login(&name).await }
            };
            return Err(self.undo(&name, error, undo).await);
        }
        Ok(CreatedSqlCredential { credential, generated_password: generated.then_some(password) })
    }

    /// A new password for the caller's credential (theirs or generated).
    pub async fn rotate(&self, ctx: &Ctx, password: PasswordChoice) -> Result<CreatedSqlCredential, DomainError> {
        unscoped(ctx)?;
        let user = ctx.principal.user_id;
        let current = self.store.get_sql_credential(user).await?.ok_or_else(|| no_credential(user))?;
        let name = current.sql_username.clone();
        let (password, generated) = self.password(password, &name)?;
        let verifier = scram::make(&password)?;
        if let Some(engine) = &self.engine {
            engine.set_password(&name, &verifier).await.map_err(|e| engine_error(&name, e))?;
        }
        let now = self.clock.now();
        let detail = format!("sql_username={name} password={}", if generated { "generated" } else { "given" });
        let audit = AuditEvent::by(ctx, now, "sql.rotate", user_target(user), detail);
        match self.store.update_sql_verifier(user, &current.verifier, &verifier, now, Effects::audit(audit)).await {
            Ok(()) => {}
            Err(e @ (StoreError::Stale | StoreError::NotFound)) => return Err(self.reconcile(user, &name, e).await),
            Err(e) => {
                let old = current.verifier.clone();
                let undo = |engine: Arc<dyn QueryEngine>| {
                    let name = name.clone();
                    async move { engine.set_password(&name, &old).await }
                };
                return Err(self.undo(&name, e.into(), undo).await);
            }
        }
        let credential = SqlCredential { verifier, updated_at: now, ..current };
        Ok(CreatedSqlCredential { credential, generated_password: generated.then_some(password) })
    }

    /// Deletes the caller's credential (and their login on the engine).
    pub async fn delete(&self, ctx: &Ctx) -> Result<(), DomainError> {
        unscoped(ctx)?;
        let user = ctx.principal.user_id;
        let current = self.store.get_sql_credential(user).await?.ok_or_else(|| no_credential(user))?;
        let name = current.sql_username.clone();
        if let Some(engine) = &self.engine {
            engine.drop_login(&name).await.map_err(|e| engine_error(&name, e))?;
        }
        let audit =
            AuditEvent::by(ctx, self.clock.now(), "sql.delete", user_target(user), format!("sql_username={name}"));
        match self.store.delete_sql_credential(user, &current.verifier, Effects::audit(audit)).await {
            Ok(()) => Ok(()),
            Err(e @ (StoreError::Stale | StoreError::NotFound)) => Err(self.reconcile(user, &name, e).await),
            Err(e) => {
                let old = current.verifier.clone();
                let undo = |engine: Arc<dyn QueryEngine>| {
                    let name = name.clone();
                    async move { engine.set_password(&name, &old).await }
                };
                Err(self.undo(&name, e.into(), undo).await)
            }
        }
    }

    /// Oneself, or anyone with `users.read`. Never the password or verifier.
    pub async fn get(&self, ctx: &Ctx, user: UserId) -> Result<SqlCredential, DomainError> {
        ctx.require_self_or(user, Permission::UsersRead)?;
        self.store.get_sql_credential(user).await?.ok_or_else(|| no_credential(user))
    }

    /// Needs `sql.verify` (the query engine's service account). Whether
    /// `password` is the password of the active user's credential `name`;
    /// never says which part was wrong. A malformed or unknown name costs the
    /// same PBKDF2 as a real one.
    pub async fn verify(&self, ctx: &Ctx, name: &str, password: &SecretString) -> Result<bool, DomainError> {
        ctx.require(Permission::SqlVerify)?;
        let found = match SqlUsername::parse(name, "sql_username") {
            Ok(n) => self.store.find_sql_credential(&n).await?,
            Err(_) => None,
        };
        Ok(match found {
            Some((c, status)) => scram::verify(password, &c.verifier) && status == UserStatus::Active,
            None => {
                let _ = scram::verify(password, &self.dummy_verifier);
                false
            }
        })
    }

    /// The given password (checked against the policy) or a generated one,
    /// and whether it was generated.
    fn password(&self, choice: PasswordChoice, name: &SqlUsername) -> Result<(SecretString, bool), DomainError> {
        match choice {
            PasswordChoice::Given(raw) => {
                let p = NewPassword::parse(raw, "password", name.as_str())
                    .map_err(|v| DomainError::InvalidArgument(vec![v]))?;
                Ok((p.secret().clone(), false))
            }
            PasswordChoice::Generate => Ok((SecretString::from(self.keyring.random_base32(GENERATED_BYTES)?), true)),
        }
    }

    /// Undoes an engine change after the store refused the matching write;
    /// returns the error to report.
    async fn undo<F, Fut>(&self, name: &SqlUsername, error: DomainError, undo: F) -> DomainError
    where
        F: FnOnce(Arc<dyn QueryEngine>) -> Fut,
        Fut: std::future::Future<Output = Result<(), EngineError>>,
    {
        let Some(engine) = self.engine.clone() else { return error };
        match undo(engine).await {
            Ok(()) => error,
            Err(u) => DomainError::Internal(format!(
                "{error}; undoing the change of login {name} on the query engine failed too ({u}): \
                 the engine and Steward disagree about it until repaired"
            )),
        }
    }

    /// After a lost race in the store: make the engine hold what the store
    /// holds now, and report the race (or the credential's absence).
    async fn reconcile(&self, user: UserId, name: &SqlUsername, e: StoreError) -> DomainError {
        let error = if matches!(e, StoreError::NotFound) { no_credential(user) } else { raced() };
        let Some(engine) = self.engine.clone() else { return error };
        let now_stored = match self.store.get_sql_credential(user).await {
            Ok(c) => c,
            Err(read) => return DomainError::Internal(format!("{error}; re-reading the credential failed: {read}")),
        };
        let result = async {
            if now_stored.as_ref().is_none_or(|c| c.sql_username != *name) {
                // Deleted (and perhaps re-created under another name)
                // meanwhile: the old login goes, unless someone has since
                // taken its name.
                if self.store.find_sql_credential(name).await.map_err(|e| EngineError::Failed(e.to_string()))?.is_none()
                {
                    engine.drop_login(name).await?;
                }
            }
            match &now_stored {
                Some(c) => engine.set_password(&c.sql_username, &c.verifier).await,
                None => Ok(()),
            }
        }
        .await;
        match result {
            Ok(()) => error,
            Err(u) => DomainError::Internal(format!(
                "{error}; reconciling login {name} on the query engine failed ({u}): \
                 the engine and Steward disagree about it until repaired"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;
    use secrecy::ExposeSecret;
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::auth::{Principal, Via};
    use crate::id::SessionId;
    use crate::role::{PermissionSet, RoleName};
    use crate::sql::ResourceRole;
    use crate::user::UserKind;

    struct FixedClock;
    impl Clock for FixedClock {
        fn now(&self) -> OffsetDateTime {
            datetime!(2026-03-04 05:06:07 UTC)
        }
    }

    #[derive(Default)]
    struct FakeStore {
        rows: Mutex<HashMap<UserId, SqlCredential>>,
        audit: Mutex<Vec<String>>,
        down: AtomicBool,
    }

    impl FakeStore {
        fn check(&self) -> Result<(), StoreError> {
            if self.down.load(Ordering::SeqCst) { Err(StoreError::Unavailable("db down".into())) } else { Ok(()) }
        }
    }

    #[async_trait]
    impl SqlCredentialStore for FakeStore {
        async fn get_sql_credential(&self, user: UserId) -> Result<Option<SqlCredential>, StoreError> {
            Ok(self.rows.lock().unwrap().get(&user).cloned())
        }
        async fn find_sql_credential(
            &self,
            name: &SqlUsername,
        ) -> Result<Option<(SqlCredential, UserStatus)>, StoreError> {
            let rows = self.rows.lock().unwrap();
            Ok(rows.values().find(|c| c.sql_username == *name).map(|c| (c.clone(), UserStatus::Active)))
        }
        async fn insert_sql_credential(&self, c: &SqlCredential, effects: Effects) -> Result<(), StoreError> {
            self.check()?;
            self.rows.lock().unwrap().insert(c.user_id, c.clone());
            self.audit.lock().unwrap().extend(effects.audit.into_iter().map(|a| format!("{} {}", a.action, a.detail)));
            Ok(())
        }
        async fn update_sql_verifier(
            &self,
            user: UserId,
            expected: &str,
            verifier: &str,
            _now: OffsetDateTime,
            effects: Effects,
        ) -> Result<(), StoreError> {
            self.check()?;
            let mut rows = self.rows.lock().unwrap();
            let c = rows.get_mut(&user).ok_or(StoreError::NotFound)?;
            if c.verifier != expected {
                return Err(StoreError::Stale);
            }
            c.verifier = verifier.into();
            self.audit.lock().unwrap().extend(effects.audit.into_iter().map(|a| format!("{} {}", a.action, a.detail)));
            Ok(())
        }
        async fn delete_sql_credential(
            &self,
            user: UserId,
            expected: &str,
            effects: Effects,
        ) -> Result<(), StoreError> {
            self.check()?;
            let mut rows = self.rows.lock().unwrap();
            match rows.get(&user) {
                None => return Err(StoreError::NotFound),
                Some(c) if c.verifier != expected => return Err(StoreError::Stale),
                Some(_) => rows.remove(&user),
            };
            self.audit.lock().unwrap().extend(effects.audit.into_iter().map(|a| format!("{} {}", a.action, a.detail)));
            Ok(())
        }
    }

    #[derive(Default)]
    struct FakeEngine {
        logins: Mutex<HashMap<String, String>>,
        /// Per-resource role memberships by login (all roles are Steward's here).
        members: Mutex<HashMap<String, BTreeSet<ResourceRole>>>,
        down: AtomicBool,
    }

    impl FakeEngine {
        fn check(&self) -> Result<(), EngineError> {
            if self.down.load(Ordering::SeqCst) { Err(EngineError::Unavailable("engine down".into())) } else { Ok(()) }
        }
        fn login(&self, name: &str) -> Option<String> {
            self.logins.lock().unwrap().get(name).cloned()
        }
    }

    #[async_trait]
    impl QueryEngine for FakeEngine {
        async fn create_login(&self, name: &SqlUsername, verifier: &str) -> Result<(), EngineError> {
            self.check()?;
            let mut l = self.logins.lock().unwrap();
            if l.contains_key(name.as_str()) {
                return Err(EngineError::AlreadyExists);
            }
            l.insert(name.to_string(), verifier.into());
            Ok(())
        }
        async fn set_password(&self, name: &SqlUsername, verifier: &str) -> Result<(), EngineError> {
            self.check()?;
            self.logins.lock().unwrap().insert(name.to_string(), verifier.into());
            Ok(())
        }
        async fn drop_login(&self, name: &SqlUsername) -> Result<(), EngineError> {
            self.check()?;
            self.logins.lock().unwrap().remove(name.as_str());
            // Memberships go with the role, as on PostgreSQL.
            self.members.lock().unwrap().remove(name.as_str());
            Ok(())
        }
        async fn set_login_enabled(&self, _name: &SqlUsername, _enabled: bool) -> Result<(), EngineError> {
            self.check()
        }
        async fn login_exists(&self, login: &SqlUsername) -> Result<bool, EngineError> {
            self.check()?;
            Ok(self.login(login.as_str()).is_some())
        }
        async fn resource_roles(&self, login: &SqlUsername) -> Result<Vec<ResourceRole>, EngineError> {
            self.check()?;
            let m = self.members.lock().unwrap();
            Ok(m.get(login.as_str()).map(|r| r.iter().copied().collect()).unwrap_or_default())
        }
        async fn grant_resource_role(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError> {
            self.check()?;
            if self.login(login.as_str()).is_none() {
                return Err(EngineError::LoginMissing);
            }
            self.members.lock().unwrap().entry(login.to_string()).or_default().insert(*role);
            Ok(())
        }
        async fn revoke_resource_role(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError> {
            self.check()?;
            if let Some(r) = self.members.lock().unwrap().get_mut(login.as_str()) {
                r.remove(role);
            }
            Ok(())
        }
    }

    fn ctx(username: &str, permissions: PermissionSet) -> Ctx {
        Ctx {
            principal: Principal {
                user_id: UserId::new(),
                username: username.into(),
                kind: UserKind::Human,
                via: Via::Session(SessionId::new()),
                role: RoleName::default_role(),
                permissions,
                password_change_required: false,
                project_scope: None,
            },
            request_id: "r1".into(),
        }
    }

    fn setup(with_engine: bool) -> (SqlCredentialService, Arc<FakeStore>, Arc<FakeEngine>) {
        let store = Arc::new(FakeStore::default());
        let engine = Arc::new(FakeEngine::default());
        let e: Option<Arc<dyn QueryEngine>> = if with_engine { Some(engine.clone()) } else { None };
        let svc = SqlCredentialService::new(
            store.clone(),
            e,
            Arc::new(Keyring::from_secret(&[3u8; 32])),
            Arc::new(FixedClock),
        );
        (svc, store, engine)
    }

    fn given(p: &str) -> PasswordChoice {
        PasswordChoice::Given(SecretString::from(p))
    }

    const PW: &str = "a long enough passphrase";

    #[tokio::test]
    async fn create_rotate_delete_with_an_engine() {
        let (svc, store, engine) = setup(true);
        let alice = ctx("Alice", PermissionSet::none());
        let made = svc.create(&alice, None, PasswordChoice::Generate).await.unwrap();
        let generated = made.generated_password.expect("generated password is returned");
        assert_eq!(generated.expose_secret().len(), 24);
        assert_eq!(made.credential.sql_username.as_str(), "alice");
        assert_eq!(engine.login("alice").as_deref(), Some(made.credential.verifier.as_str()));
        assert!(scram::verify(&generated, &engine.login("alice").unwrap()));

        let r = svc.create(&alice, SqlUsername::parse("other", "f").ok(), given(PW)).await;
        assert_eq!(r.err().unwrap().reason(), "SQL_CREDENTIAL_EXISTS");

        let rotated = svc.rotate(&alice, given(PW)).await.unwrap();
        assert!(rotated.generated_password.is_none());
        let stored = engine.login("alice").unwrap();
        assert!(scram::verify(&SecretString::from(PW), &stored) && !scram::verify(&generated, &stored));
        assert_eq!(store.get_sql_credential(alice.principal.user_id).await.unwrap().unwrap().verifier, stored);

        svc.delete(&alice).await.unwrap();
        assert!(engine.login("alice").is_none());
        assert!(store.rows.lock().unwrap().is_empty());
        assert_eq!(svc.delete(&alice).await.err().unwrap().reason(), "NOT_FOUND");
        let audit = store.audit.lock().unwrap().clone();
        assert_eq!(audit.len(), 3);
        assert!(audit[0].starts_with("sql.create sql_username=alice password=generated"));
        assert!(audit.iter().all(|a| !a.contains(PW) && !a.contains(generated.expose_secret())));
    }

    #[tokio::test]
    async fn engine_down_stores_nothing_and_changes_nothing() {
        let (svc, store, engine) = setup(true);
        let bob = ctx("bob", PermissionSet::none());
        engine.down.store(true, Ordering::SeqCst);
        let r = svc.create(&bob, None, given(PW)).await;
        assert!(matches!(r, Err(DomainError::Unavailable(_))));
        assert!(store.rows.lock().unwrap().is_empty() && store.audit.lock().unwrap().is_empty());

        engine.down.store(false, Ordering::SeqCst);
        let made = svc.create(&bob, None, given(PW)).await.unwrap();
        engine.down.store(true, Ordering::SeqCst);
        assert!(matches!(svc.rotate(&bob, PasswordChoice::Generate).await, Err(DomainError::Unavailable(_))));
        assert!(matches!(svc.delete(&bob).await, Err(DomainError::Unavailable(_))));
        assert_eq!(store.get_sql_credential(bob.principal.user_id).await.unwrap().unwrap(), made.credential);
        assert_eq!(store.audit.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_store_write_is_undone_on_the_engine() {
        let (svc, store, engine) = setup(true);
        let carol = ctx("carol", PermissionSet::none());
        store.down.store(true, Ordering::SeqCst);
        assert!(matches!(svc.create(&carol, None, given(PW)).await, Err(DomainError::Unavailable(_))));
        assert!(engine.login("carol").is_none(), "the new login was dropped again");

        store.down.store(false, Ordering::SeqCst);
        let made = svc.create(&carol, None, given(PW)).await.unwrap();
        store.down.store(true, Ordering::SeqCst);
        assert!(svc.rotate(&carol, PasswordChoice::Generate).await.is_err());
        assert_eq!(engine.login("carol").unwrap(), made.credential.verifier, "the old verifier is back");
        assert!(svc.delete(&carol).await.is_err());
        assert_eq!(engine.login("carol").unwrap(), made.credential.verifier, "the login was re-created");
    }

    #[tokio::test]
    async fn a_lost_race_reconciles_the_engine_with_the_store() {
        let (svc, store, engine) = setup(true);
        let dave = ctx("dave", PermissionSet::none());
        svc.create(&dave, None, given(PW)).await.unwrap();
        // Another replica rotated between our read and our write: simulate by
        // changing the stored verifier behind the service's back, then making
        // the engine disagree.
        let theirs = scram::make(&SecretString::from("their new passphrase")).unwrap();
        store.rows.lock().unwrap().get_mut(&dave.principal.user_id).unwrap().verifier = theirs.clone();
        let e = svc.reconcile(dave.principal.user_id, &SqlUsername::from_stored("dave"), StoreError::Stale).await;
        assert_eq!(e.reason(), "CONCURRENT_CHANGE");
        assert_eq!(engine.login("dave").unwrap(), theirs);
        store.rows.lock().unwrap().clear();
        let e = svc.reconcile(dave.principal.user_id, &SqlUsername::from_stored("dave"), StoreError::NotFound).await;
        assert_eq!(e.reason(), "NOT_FOUND");
        assert!(engine.login("dave").is_none());
    }

    #[tokio::test]
    async fn names_and_passwords_are_validated() {
        let (svc, _, engine) = setup(true);
        let erin = ctx("erin", PermissionSet::none());
        let r = svc.create(&erin, None, given("short")).await;
        assert_eq!(r.err().unwrap().reason(), "PASSWORD_TOO_SHORT");
        let r = svc.create(&erin, None, given("erin")).await;
        assert_eq!(r.err().unwrap().reason(), "PASSWORD_TOO_SHORT");
        assert!(engine.logins.lock().unwrap().is_empty());
        engine.logins.lock().unwrap().insert("taken_name".into(), "x".into());
        let r = svc.create(&erin, SqlUsername::parse("taken_name", "f").ok(), given(PW)).await;
        assert_eq!(r.err().unwrap().reason(), "SQL_USERNAME_TAKEN");
        let frank = ctx("frank", PermissionSet::none());
        svc.create(&frank, SqlUsername::parse("shared", "f").ok(), given(PW)).await.unwrap();
        let r = svc.create(&erin, SqlUsername::parse("shared", "f").ok(), given(PW)).await;
        assert_eq!(r.err().unwrap().reason(), "SQL_USERNAME_TAKEN");
    }

    #[tokio::test]
    async fn without_an_engine_credentials_are_stored_and_verifiable() {
        let (svc, _, _) = setup(false);
        let gina = ctx("gina", PermissionSet::none());
        let made = svc.create(&gina, None, given(PW)).await.unwrap();
        assert!(made.generated_password.is_none());

        let verifier = ctx("engine", PermissionSet::parse(&["sql.verify".into()], "p").unwrap());
        assert!(svc.verify(&verifier, "gina", &SecretString::from(PW)).await.unwrap());
        assert!(!svc.verify(&verifier, "gina", &SecretString::from("a long enough passphrasE")).await.unwrap());
        assert!(!svc.verify(&verifier, "nobody", &SecretString::from(PW)).await.unwrap());
        assert!(!svc.verify(&verifier, "Not A Name", &SecretString::from(PW)).await.unwrap());
        assert_eq!(
            svc.verify(&gina, "gina", &SecretString::from(PW)).await.err().unwrap().reason(),
            "PERMISSION_DENIED"
        );

        // Reading: oneself, or with users.read; the other gets no hint.
        assert_eq!(svc.get(&gina, gina.principal.user_id).await.unwrap().sql_username.as_str(), "gina");
        let other = ctx("hank", PermissionSet::none());
        assert_eq!(svc.get(&other, gina.principal.user_id).await.err().unwrap().reason(), "PERMISSION_DENIED");
        assert_eq!(svc.get(&other, other.principal.user_id).await.err().unwrap().reason(), "NOT_FOUND");
    }
}

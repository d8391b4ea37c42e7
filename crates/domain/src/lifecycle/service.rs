//! Suspend, reactivate, plan a deletion, delete with transfer.
//!
//! The query engine is changed first and undone if the store then fails, so
//! an unreachable engine fails the call with nothing changed in Steward.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{DeletionPlan, LifecycleStore, SuspensionReason, UserDeletion, UserSuspension};
use crate::audit::{AuditEvent, user_target};
use crate::auth::Ctx;
use crate::clock::Clock;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::UserId;
use crate::keyring::Keyring;
use crate::notify::Message;
use crate::role::Permission;
use crate::sql::{EngineError, QueryEngine, SqlCredentialStore, SqlUsername};
use crate::user::{User, UserRef, UserStatus, UserStore};

pub struct LifecycleService {
    users: Arc<dyn UserStore>,
    store: Arc<dyn LifecycleStore>,
    sql: Arc<dyn SqlCredentialStore>,
    engine: Option<Arc<dyn QueryEngine>>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

/// What one sweep of ended suspensions did.
#[derive(Debug, Default)]
pub struct Sweep {
    pub reactivated: Vec<UserId>,
    pub failed: Vec<(UserId, DomainError)>,
}

/// A suspended user and how many resources they still own.
pub struct Suspended {
    pub user: User,
    pub owned_resources: u64,
}

impl LifecycleService {
    pub fn new(
        users: Arc<dyn UserStore>,
        store: Arc<dyn LifecycleStore>,
        sql: Arc<dyn SqlCredentialStore>,
        engine: Option<Arc<dyn QueryEngine>>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { users, store, sql, engine, keyring, clock }
    }

    /// Needs `users.suspend`. Not oneself, not the last active admin.
    pub async fn suspend(
        &self,
        ctx: &Ctx,
        who: UserRef,
        reason: SuspensionReason,
        until: Option<OffsetDateTime>,
    ) -> Result<Suspended, DomainError> {
        ctx.require(Permission::UsersSuspend)?;
        let id = self.resolve(who, "user").await?;
        let now = self.clock.now();
        if until.is_some_and(|t| t <= now) {
            return Err(DomainError::invalid("end_time", "END_TIME_IN_PAST", "must be in the future"));
        }
        if ctx.is(id) {
            return Err(DomainError::precondition("CANNOT_SUSPEND_SELF", user_target(id), "ask another admin"));
        }
        let user = self.existing(id).await?;
        if user.status != UserStatus::Active {
            return Err(not_active(id));
        }
        let login = self.sql_login(id).await?;
        self.set_login(login.as_ref(), false).await?;
        let detail = match until {
            Some(t) => format!("until {t}; reason: {}", reason.as_str()),
            None => format!("reason: {}", reason.as_str()),
        };
        let email = Message::Suspended { user: &user, reason: reason.as_str(), until }.compose(&self.keyring, now)?;
        let effects =
            Effects::audit(AuditEvent::by(ctx, now, "user.suspend", user_target(id), detail)).with_email(email);
        let s = UserSuspension { user: id, reason, until, now };
        match self.store.suspend_user(&s, effects).await {
            Ok(owned_resources) => Ok(Suspended { user: self.users.get_user(id).await?, owned_resources }),
            Err(e) => {
                let e = lifecycle_error(e, id);
                Err(self.undo_login(login.as_ref(), true, e).await)
            }
        }
    }

    /// Needs `users.suspend`. API keys revoked by the suspension stay revoked.
    pub async fn reactivate(&self, ctx: &Ctx, who: UserRef) -> Result<User, DomainError> {
        ctx.require(Permission::UsersSuspend)?;
        let id = self.resolve(who, "user").await?;
        let now = self.clock.now();
        let audit = AuditEvent::by(ctx, now, "user.reactivate", user_target(id), "");
        self.reactivate_with(id, now, audit).await
    }

    /// Reactivates users whose suspension has ended (the server's sweeper
    /// calls it); one failing user does not stop the rest. Returns who was
    /// reactivated and who failed (retried on the next sweep).
    pub async fn reactivate_due(&self) -> Result<Sweep, DomainError> {
        let now = self.clock.now();
        let mut sweep = Sweep::default();
        for id in self.store.due_reactivations(now, 100).await? {
            let audit = AuditEvent::by_system(now, "user.reactivate", user_target(id), "suspension ended");
            match self.reactivate_with(id, now, audit).await {
                Ok(_) => sweep.reactivated.push(id),
                Err(e) => sweep.failed.push((id, e)),
            }
        }
        Ok(sweep)
    }

    async fn reactivate_with(&self, id: UserId, now: OffsetDateTime, audit: AuditEvent) -> Result<User, DomainError> {
        let user = self.existing(id).await?;
        if user.status != UserStatus::Suspended {
            return Err(not_suspended(id));
        }
        let login = self.sql_login(id).await?;
        self.set_login(login.as_ref(), true).await?;
        let email = Message::Reactivated { user: &user }.compose(&self.keyring, now)?;
        match self.store.reactivate_user(id, now, Effects::audit(audit).with_email(email)).await {
            Ok(()) => Ok(self.users.get_user(id).await?),
            Err(e) => {
                let e = lifecycle_error(e, id);
                Err(self.undo_login(login.as_ref(), false, e).await)
            }
        }
    }

    /// Needs `users.delete`. Read-only.
    pub async fn plan(&self, ctx: &Ctx, who: UserRef, new_owner: Option<UserRef>) -> Result<DeletionPlan, DomainError> {
        ctx.require(Permission::UsersDelete)?;
        let id = self.resolve(who, "user").await?;
        let new_owner = self.resolve_opt(new_owner).await?;
        let user = self.existing(id).await?;
        if user.status == UserStatus::Deleted {
            return Err(DomainError::precondition("USER_DELETED", user_target(id), "the user is already deleted"));
        }
        self.check_new_owner(id, new_owner).await?;
        let holdings = self.store.holdings(id).await?;
        Ok(DeletionPlan::new(id, user.version, new_owner, holdings))
    }

    /// Needs `users.delete`. Only a suspended user; carries out exactly the
    /// plan whose etag is given, in one transaction.
    pub async fn delete(
        &self,
        ctx: &Ctx,
        who: UserRef,
        new_owner: Option<UserRef>,
        plan_etag: &str,
    ) -> Result<(DeletionPlan, User), DomainError> {
        ctx.require(Permission::UsersDelete)?;
        let id = self.resolve(who, "user").await?;
        let new_owner = self.resolve_opt(new_owner).await?;
        if plan_etag.trim().is_empty() {
            return Err(DomainError::invalid("plan_etag", "PLAN_ETAG_REQUIRED", "pass the etag of PlanUserDeletion"));
        }
        let user = self.existing(id).await?;
        if user.status != UserStatus::Suspended {
            return Err(not_suspended(id));
        }
        let owner = self.check_new_owner(id, new_owner).await?;
        let now = self.clock.now();
        let holdings = self.store.holdings(id).await?;
        if holdings.needs_new_owner() && owner.is_none() {
            let counts = format!(
                "{} resources, {} datasets held read-only, {} projects",
                holdings.owned_resources(),
                holdings.dataset_reads,
                holdings.projects
            );
            return Err(DomainError::precondition(
                "USER_OWNS_RESOURCES",
                user_target(id),
                format!("the user owns {counts}: name a new owner"),
            ));
        }
        let plan = DeletionPlan::new(id, user.version, new_owner, holdings);
        if plan.etag != plan_etag.trim() {
            return Err(plan_changed());
        }
        let initiator = self.users.get_user(ctx.principal.user_id).await?;
        let effects = self.deletion_effects(ctx, &plan, &user, &initiator, owner.as_ref(), now)?;
        let login = self.sql_login(id).await?;
        if let (Some(engine), Some((name, _))) = (&self.engine, &login) {
            engine.drop_login(name).await.map_err(|e| engine_error(name, e))?;
        }
        let deletion = UserDeletion {
            user: id,
            new_owner,
            expected: plan.holdings.clone(),
            expected_user_version: user.version,
            now,
        };
        if let Err(e) = self.store.delete_user(&deletion, effects).await {
            let e = lifecycle_error(e, id);
            return Err(self.restore_login(login.as_ref(), e).await);
        }
        Ok((plan, self.users.get_user(id).await?))
    }

    fn deletion_effects(
        &self,
        ctx: &Ctx,
        plan: &DeletionPlan,
        user: &User,
        initiator: &User,
        owner: Option<&User>,
        now: OffsetDateTime,
    ) -> Result<Effects, DomainError> {
        let received = plan.received();
        let detail = match owner {
            Some(o) => format!("new owner {} ({}); {}", o.username, o.id, received.join(", ")),
            None => "nothing to transfer".to_string(),
        };
        let mut effects = Effects::audit(AuditEvent::by(ctx, now, "user.delete", user_target(user.id), detail));
        let k = &self.keyring;
        effects = effects.with_email(Message::Deleted { user }.compose(k, now)?);
        let done = Message::DeletionDone { initiator, deleted: user, new_owner: owner, received: &received };
        effects = effects.with_email(done.compose(k, now)?);
        if let Some(o) = owner {
            effects = effects
                .with_email(Message::Received { new_owner: o, from: user, received: &received }.compose(k, now)?);
        }
        Ok(effects)
    }

    /// The new owner, if named: exists, is active, is not the user.
    async fn check_new_owner(&self, id: UserId, new_owner: Option<UserId>) -> Result<Option<User>, DomainError> {
        let Some(o) = new_owner else { return Ok(None) };
        if o == id {
            return Err(DomainError::invalid("new_owner", "NEW_OWNER_IS_USER", "must be someone else"));
        }
        let owner = self.users.get_user(o).await.map_err(|e| missing(e, "new owner", o))?;
        if owner.status != UserStatus::Active {
            return Err(new_owner_not_active(o));
        }
        Ok(Some(owner))
    }

    /// The id of a user named by id or username (after the permission check,
    /// so a caller without it learns nothing about who exists).
    async fn resolve(&self, who: UserRef, field: &'static str) -> Result<UserId, DomainError> {
        match who {
            UserRef::Me => Err(DomainError::invalid(field, "USER_REQUIRED", "name the user by id or username")),
            UserRef::Id(id) => Ok(id),
            UserRef::Username(name) => self
                .users
                .find_user_by_username(&name.canonical())
                .await?
                .map(|u| u.id)
                .ok_or_else(|| DomainError::not_found(field_resource(field), name.as_str())),
        }
    }

    async fn resolve_opt(&self, who: Option<UserRef>) -> Result<Option<UserId>, DomainError> {
        match who {
            None => Ok(None),
            Some(w) => self.resolve(w, "new_owner").await.map(Some),
        }
    }

    async fn existing(&self, id: UserId) -> Result<User, DomainError> {
        self.users.get_user(id).await.map_err(|e| missing(e, "user", id))
    }

    /// The user's SQL login name and verifier, if they have credentials.
    async fn sql_login(&self, id: UserId) -> Result<Option<(SqlUsername, String)>, DomainError> {
        Ok(self.sql.get_sql_credential(id).await?.map(|c| (c.sql_username, c.verifier)))
    }

    async fn set_login(&self, login: Option<&(SqlUsername, String)>, enabled: bool) -> Result<(), DomainError> {
        match (&self.engine, login) {
            (Some(engine), Some((name, _))) => {
                engine.set_login_enabled(name, enabled).await.map_err(|e| engine_error(name, e))
            }
            _ => Ok(()),
        }
    }

    /// After a store failure: put the engine back (`enabled`), keep `error`.
    async fn undo_login(
        &self,
        login: Option<&(SqlUsername, String)>,
        enabled: bool,
        error: DomainError,
    ) -> DomainError {
        match self.set_login(login, enabled).await {
            Ok(()) => error,
            Err(u) => DomainError::Internal(format!("{error}; undoing the SQL login change failed too: {u}")),
        }
    }

    /// After a failed delete: the dropped login comes back, disabled, from
    /// its stored verifier (the user is still suspended).
    async fn restore_login(&self, login: Option<&(SqlUsername, String)>, error: DomainError) -> DomainError {
        let (Some(engine), Some((name, verifier))) = (&self.engine, login) else { return error };
        let restored = async {
            engine.create_login(name, verifier).await?;
            engine.set_login_enabled(name, false).await
        }
        .await;
        match restored {
            Ok(()) => error,
            Err(u) => DomainError::Internal(format!("{error}; restoring SQL login {name} failed too: {u}")),
        }
    }
}

fn field_resource(field: &str) -> &'static str {
    if field == "new_owner" { "new owner" } else { "user" }
}

fn engine_error(name: &SqlUsername, e: EngineError) -> DomainError {
    match e {
        EngineError::Unavailable(m) => DomainError::Unavailable(m),
        other => DomainError::Internal(format!("query engine, login {name}: {other}")),
    }
}

fn missing(e: StoreError, what: &'static str, id: UserId) -> DomainError {
    match e {
        StoreError::NotFound => DomainError::not_found(what, id.to_string()),
        other => other.into(),
    }
}

fn lifecycle_error(e: StoreError, id: UserId) -> DomainError {
    match e {
        StoreError::Refused { reason: "USER_NOT_ACTIVE" } => not_active(id),
        StoreError::Refused { reason: "USER_NOT_SUSPENDED" } => not_suspended(id),
        StoreError::Refused { reason: "NEW_OWNER_NOT_ACTIVE" } => {
            DomainError::precondition("NEW_OWNER_NOT_ACTIVE", "new_owner", "the new owner is no longer active")
        }
        StoreError::Refused { reason: "LAST_ADMIN" } => {
            DomainError::precondition("LAST_ADMIN", user_target(id), "the last active admin cannot be suspended")
        }
        StoreError::Stale => plan_changed(),
        StoreError::NotFound => DomainError::not_found("user", id.to_string()),
        other => other.into(),
    }
}

fn not_active(id: UserId) -> DomainError {
    DomainError::precondition("USER_NOT_ACTIVE", user_target(id), "only an active user can be suspended")
}

fn not_suspended(id: UserId) -> DomainError {
    DomainError::precondition("USER_NOT_SUSPENDED", user_target(id), "suspend the user first")
}

fn new_owner_not_active(id: UserId) -> DomainError {
    DomainError::precondition("NEW_OWNER_NOT_ACTIVE", user_target(id), "the new owner must be an active user")
}

fn plan_changed() -> DomainError {
    DomainError::Aborted {
        reason: "PLAN_CHANGED",
        description: "what the user holds changed since the plan; plan again".into(),
    }
}

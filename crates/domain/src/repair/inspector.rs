//! One user's report and repair, shared by the per-user calls and the
//! global jobs: the store's facts and the engine's answer become findings;
//! a repair applies the database fixes in one transaction, then the engine's
//! one by one, and says for each what became of it.

use std::sync::Arc;

use time::OffsetDateTime;

use super::facts::{EngineFacts, UserFacts, inspect};
use super::finding::{Finding, Fix, Outcome, RepairAction};
use super::ports::RepairStore;
use crate::audit::AuditEvent;
use crate::effects::Effects;
use crate::error::{DomainError, StoreError};
use crate::id::UserId;
use crate::sql::{EngineError, QueryEngine, SqlCredentialStore};

/// The audit event of one repair action: (target, what was done) → event.
pub type AuditFor<'a> = &'a (dyn Fn(String, String) -> AuditEvent + Sync);

/// Whether the engine was found unreachable during a run: once it was, the
/// rest of a global job reports parity unknown at once instead of waiting
/// for a connection timeout per user.
#[derive(Debug, Default)]
pub struct EngineMemo(Option<String>);

pub struct Inspector {
    store: Arc<dyn RepairStore>,
    credentials: Arc<dyn SqlCredentialStore>,
    engine: Option<Arc<dyn QueryEngine>>,
}

impl Inspector {
    pub fn new(
        store: Arc<dyn RepairStore>,
        credentials: Arc<dyn SqlCredentialStore>,
        engine: Option<Arc<dyn QueryEngine>>,
    ) -> Self {
        Self { store, credentials, engine }
    }

    pub fn store(&self) -> &Arc<dyn RepairStore> {
        &self.store
    }

    /// The user's findings; `None` when there is no such user.
    pub async fn report(&self, user: UserId, memo: &mut EngineMemo) -> Result<Option<Vec<Finding>>, DomainError> {
        let Some(facts) = self.store.user_facts(user).await? else { return Ok(None) };
        let engine = match &memo.0 {
            Some(why) if facts.sql_login.is_some() && self.engine.is_some() => EngineFacts::Unreachable(why.clone()),
            _ => self.engine_facts(&facts).await,
        };
        if let EngineFacts::Unreachable(why) = &engine {
            memo.0 = Some(why.clone());
        }
        Ok(Some(inspect(&facts, &engine)))
    }

    /// Repairs what the report finds (or, in a dry run, says what it would
    /// do). The database fixes commit together or not at all (an error
    /// then, nothing changed); an engine fix that fails is `NotRepaired`.
    pub async fn repair(
        &self,
        user: UserId,
        dry_run: bool,
        now: OffsetDateTime,
        audit: AuditFor<'_>,
        memo: &mut EngineMemo,
    ) -> Result<Option<Vec<RepairAction>>, DomainError> {
        let Some(findings) = self.report(user, memo).await? else { return Ok(None) };
        self.apply(findings, dry_run, now, audit).await.map(Some)
    }

    /// Applies `findings`' fixes (see [`Inspector::repair`]).
    pub async fn apply(
        &self,
        findings: Vec<Finding>,
        dry_run: bool,
        now: OffsetDateTime,
        audit: AuditFor<'_>,
    ) -> Result<Vec<RepairAction>, DomainError> {
        if dry_run {
            return Ok(findings
                .into_iter()
                .map(|finding| {
                    let outcome = if finding.fix.is_manual() { Outcome::Manual } else { Outcome::WouldRepair };
                    RepairAction { finding, outcome }
                })
                .collect());
        }
        let in_db: Vec<&Finding> = findings.iter().filter(|f| !f.fix.on_engine() && !f.fix.is_manual()).collect();
        if !in_db.is_empty() {
            let fixes: Vec<Fix> = in_db.iter().map(|f| f.fix.clone()).collect();
            let events = in_db.iter().map(|f| audit(f.target.clone(), f.fix.describe())).collect();
            match self.store.apply_fixes(&fixes, now, Effects { audit: events, outbox: vec![] }).await {
                Ok(_) => {}
                Err(StoreError::Conflict { .. } | StoreError::Stale) => {
                    return Err(DomainError::Aborted {
                        reason: "CHANGED_WHILE_REPAIRING",
                        description: "the user changed while being repaired; nothing was changed, run it again".into(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut out = Vec::with_capacity(findings.len());
        for finding in findings {
            let outcome = if finding.fix.is_manual() {
                Outcome::Manual
            } else if finding.fix.on_engine() {
                match self.on_engine(&finding).await {
                    Ok(()) => {
                        let event = audit(finding.target.clone(), finding.fix.describe());
                        self.store.apply_fixes(&[], now, Effects::audit(event)).await?;
                        Outcome::Repaired
                    }
                    Err(why) => Outcome::NotRepaired(why),
                }
            } else {
                Outcome::Repaired
            };
            out.push(RepairAction { finding, outcome });
        }
        Ok(out)
    }

    async fn engine_facts(&self, facts: &UserFacts) -> EngineFacts {
        let Some(engine) = &self.engine else { return EngineFacts::NotConfigured };
        let Some(login) = &facts.sql_login else { return EngineFacts::NoLogin };
        let exists = match engine.login_exists(login).await {
            Ok(e) => e,
            Err(e) => return EngineFacts::Unreachable(engine_why(&e)),
        };
        if !exists {
            return EngineFacts::Login { exists, roles: vec![] };
        }
        match engine.resource_roles(login).await {
            Ok(roles) => EngineFacts::Login { exists, roles },
            Err(e) => EngineFacts::Unreachable(engine_why(&e)),
        }
    }

    /// One engine fix; the reason it failed otherwise.
    async fn on_engine(&self, finding: &Finding) -> Result<(), String> {
        let Some(engine) = &self.engine else { return Err("no query engine is configured".into()) };
        let Some(user) = finding.user else { return Err("the finding names no user".into()) };
        if let Fix::CheckEngine { .. } = finding.fix {
            // Parity was unknown when the report was made; the grants it
            // needs are only known from a report made with the engine up.
            return Err("the query engine was unreachable; repair again once it answers".into());
        }
        let credential = match self.credentials.get_sql_credential(user).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err("the user no longer has SQL credentials".into()),
            Err(e) => return Err(format!("the database failed: {e}")),
        };
        let login = &credential.sql_username;
        let done = match &finding.fix {
            Fix::CreateLogin { can_log_in, .. } => match engine.set_password(login, &credential.verifier).await {
                Ok(()) if !can_log_in => engine.set_login_enabled(login, false).await,
                r => r,
            },
            Fix::Grant { role } => engine.grant_resource_role(login, role).await,
            Fix::Revoke { role } => engine.revoke_resource_role(login, role).await,
            _ => Ok(()),
        };
        done.map_err(|e| engine_why(&e))
    }
}

fn engine_why(e: &EngineError) -> String {
    match e {
        EngineError::Unavailable(_) => "the query engine is unreachable".into(),
        other => format!("the query engine refused: {other}"),
    }
}

//! Per-resource roles ([`ResourceRole`]): `NOLOGIN` roles marked as Steward's,
//! created on first grant and never dropped here; access to a resource is a
//! login's direct membership in one of them.
//!
//! Creation is race-safe: the role and its mark are committed together, so a
//! second creator that loses the race (`duplicate_object`, or
//! `unique_violation` when it waited on the winner's insert) finds the role
//! already marked and carries on with the grant.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};
use steward_domain::sql::{EngineError, ResourceRole, SqlUsername};

use crate::{Existing, MARKER, PostgresEngine, error, quote_ident, quote_literal, sqlstate};

/// undefined_object: a role named in GRANT/REVOKE is gone.
const UNDEFINED_OBJECT: &str = "42704";
/// duplicate_object: the role exists already.
const DUPLICATE_OBJECT: &str = "42710";
/// unique_violation: a concurrent insert into the catalog won.
const UNIQUE_VIOLATION: &str = "23505";

fn has_code(e: &DbErr, codes: &[&str]) -> bool {
    sqlstate(e).is_some_and(|c| codes.contains(&c.as_str()))
}

impl PostgresEngine {
    /// Whether any role of that name exists.
    pub(crate) async fn role_exists(&self, name: &str) -> Result<bool, EngineError> {
        let s = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_roles WHERE rolname = $1",
            vec![name.into()],
        );
        Ok(self.db.query_one_raw(s).await.map_err(error)?.is_some())
    }

    /// Whether `login` is a direct member of the role `role` (false when
    /// either is missing).
    async fn is_member(&self, login: &SqlUsername, role: &str) -> Result<bool, EngineError> {
        let s = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_auth_members m \
             JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member \
             WHERE r.rolname = $1 AND u.rolname = $2",
            vec![role.into(), login.as_str().into()],
        );
        Ok(self.db.query_one_raw(s).await.map_err(error)?.is_some())
    }

    /// The marked per-resource roles `login` is a direct member of, sorted.
    pub(crate) async fn memberships(&self, login: &SqlUsername) -> Result<Vec<ResourceRole>, EngineError> {
        let s = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT r.rolname::text AS name FROM pg_auth_members m \
             JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member \
             WHERE u.rolname = $1 AND shobj_description(r.oid, 'pg_authid') = $2",
            vec![login.as_str().into(), MARKER.into()],
        );
        let mut roles = Vec::new();
        for row in self.db.query_all_raw(s).await.map_err(error)? {
            let name: String = row.try_get("", "name").map_err(error)?;
            // Marked logins (a login granted to a login) are no resource roles.
            roles.extend(ResourceRole::parse(&name));
        }
        roles.sort();
        roles.dedup();
        Ok(roles)
    }

    pub(crate) async fn grant(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError> {
        let name = role.name();
        if !self.role_exists(login.as_str()).await? {
            return Err(EngineError::LoginMissing);
        }
        match self.existing(&self.db, &name).await? {
            Existing::Foreign => return Err(EngineError::NotManaged),
            Existing::Missing => self.create_resource_role(&name).await?,
            Existing::Managed => {}
        }
        if self.is_member(login, &name).await? {
            return Ok(());
        }
        let sql = format!("GRANT {} TO {}", quote_ident(&name), quote_ident(login.as_str()));
        if let Err(e) = self.db.execute_unprepared(&sql).await {
            if has_code(&e, &[UNIQUE_VIOLATION]) && self.is_member(login, &name).await? {
                // The same grant, concurrently: it is there.
            } else if has_code(&e, &[UNDEFINED_OBJECT]) && !self.role_exists(login.as_str()).await? {
                return Err(EngineError::LoginMissing);
            } else {
                return Err(error(e));
            }
        }
        tracing::info!(login = %login, role = %name, "query engine: resource role granted");
        Ok(())
    }

    pub(crate) async fn revoke(&self, login: &SqlUsername, role: &ResourceRole) -> Result<(), EngineError> {
        let name = role.name();
        match self.existing(&self.db, &name).await? {
            Existing::Foreign => return Err(EngineError::NotManaged),
            Existing::Missing => return Ok(()),
            Existing::Managed => {}
        }
        if !self.is_member(login, &name).await? {
            return Ok(());
        }
        let sql = format!("REVOKE {} FROM {}", quote_ident(&name), quote_ident(login.as_str()));
        match self.db.execute_unprepared(&sql).await {
            Ok(_) => {}
            // The login (or the role) was dropped meanwhile: nothing left to revoke.
            Err(e) if has_code(&e, &[UNDEFINED_OBJECT]) => return Ok(()),
            Err(e) => return Err(error(e)),
        }
        tracing::info!(login = %login, role = %name, "query engine: resource role revoked");
        Ok(())
    }

    /// Creates the marked `NOLOGIN` role; when a concurrent creator wins, the
    /// role it made is fine if it bears the mark.
    async fn create_resource_role(&self, name: &str) -> Result<(), EngineError> {
        let role = quote_ident(name);
        let created = async {
            let txn = self.db.begin().await?;
            txn.execute_unprepared(&format!("CREATE ROLE {role} NOLOGIN")).await?;
            txn.execute_unprepared(&format!("COMMENT ON ROLE {role} IS {}", quote_literal(MARKER))).await?;
            txn.commit().await
        }
        .await;
        match created {
            Ok(()) => {
                tracing::info!(role = %name, "query engine: resource role created");
                Ok(())
            }
            Err(e) if has_code(&e, &[DUPLICATE_OBJECT, UNIQUE_VIOLATION]) => match self.existing(&self.db, name).await?
            {
                Existing::Managed => Ok(()),
                Existing::Foreign => Err(EngineError::NotManaged),
                Existing::Missing => Err(error(e)),
            },
            Err(e) => Err(error(e)),
        }
    }
}

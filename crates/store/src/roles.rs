//! [`RoleStore`]: the roles table, assignments, default roles and the role a
//! session acts with.
//!
//! A role is referred to by name from four places: `role_assignments.role`
//! (a foreign key to `roles.name`), `users.default_role`, `sessions.role` and
//! `api_keys.role`. A rename or a removal rewrites all of them with set-based
//! statements in the change's transaction.
//!
//! Locking on PostgreSQL (SQLite's `BEGIN IMMEDIATE` serialises every writer
//! anyway): changes that depend on a role row lock it first — `FOR UPDATE` to
//! rename or delete it, `FOR SHARE` to start using it — and changes that
//! depend on what a user holds then lock the user's row. Guarded removals of
//! `admin` all lock the `admin` row, so they run one at a time.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{SessionId, UserId};
use steward_domain::role::{PermissionSet, Role, RoleName, RoleStore, UnassignGuard};
use steward_domain::user::UserStatus;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{corrupt, get, role};
use crate::sql::{Query, all, exec, one, stmt, time_value, touched};
use crate::{Store, effects, finish};

const ROLE_COLUMNS: &str = "name, description, permissions, builtin, created_at, updated_at, version";

/// A role row lock: exclusive to rename or delete it, shared to rely on it
/// existing until commit.
#[derive(Clone, Copy)]
pub(crate) enum Lock {
    Exclusive,
    Shared,
}

#[async_trait]
impl RoleStore for Store {
    async fn create_role(&self, role: &Role, effects: Effects) -> Result<(), StoreError> {
        let b = self.backend();
        let mut q = Query::new(b, &format!("INSERT INTO roles ({ROLE_COLUMNS}) VALUES "));
        q.row(vec![
            role.name.as_str().into(),
            role.description.clone().into(),
            stored_permissions(&role.permissions),
            role.builtin.into(),
            time_value(b, role.created_at),
            time_value(b, role.updated_at),
            role.version.into(),
        ]);
        let txn = self.begin_write().await?;
        let result = async {
            exec(&txn, q.build()).await.map_err(conflict_on("role"))?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get_role(&self, name: &RoleName) -> Result<Role, StoreError> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles WHERE name = $1");
        let row = one(self.connection(), stmt(self.backend(), &sql, vec![name.as_str().into()])).await?;
        row.as_ref().map(role_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    async fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles");
        let rows = all(self.connection(), stmt(self.backend(), &sql, vec![])).await?;
        let mut roles = rows.iter().map(role_from_row).collect::<Result<Vec<_>, _>>()?;
        // Sorted here: PostgreSQL's collation would order `-` and `_` unlike SQLite.
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(roles)
    }

    async fn update_role(
        &self,
        old_name: &RoleName,
        role: &Role,
        expected_version: i64,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = update_role(&txn, old_name, role, expected_version, effects).await;
        finish(txn, result).await
    }

    async fn delete_role(&self, name: &RoleName, force: bool, effects: Effects) -> Result<u64, StoreError> {
        let txn = self.begin_write().await?;
        let result = delete_role(&txn, name, force, effects).await;
        finish(txn, result).await
    }

    async fn user_roles(&self, user: UserId) -> Result<Vec<RoleName>, StoreError> {
        let s = stmt(
            self.backend(),
            "SELECT role FROM role_assignments WHERE user_id = $1 AND role <> $2",
            vec![user.as_uuid().into(), RoleName::DEFAULT.into()],
        );
        let mut roles =
            all(self.connection(), s).await?.iter().map(|r| role(r, "role")).collect::<Result<Vec<_>, _>>()?;
        roles.sort();
        Ok(roles)
    }

    async fn count_active_holders(&self, role: &RoleName) -> Result<u64, StoreError> {
        let active = UserStatus::Active.as_str();
        let s = if role.is_default() {
            stmt(self.backend(), "SELECT COUNT(*) AS n FROM users WHERE status = $1", vec![active.into()])
        } else {
            stmt(
                self.backend(),
                "SELECT COUNT(*) AS n FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
                 WHERE ra.role = $1 AND u.status = $2",
                vec![role.as_str().into(), active.into()],
            )
        };
        count_of(self.connection(), s).await
    }

    async fn assign_role(&self, user: UserId, role: &RoleName, effects: Effects) -> Result<(), StoreError> {
        if role.is_default() {
            // Everyone holds it.
            return Err(StoreError::Conflict { key: "assignment" });
        }
        // Written only if both exist; the foreign keys hold against a
        // concurrent delete of either.
        let s = stmt(
            self.backend(),
            "INSERT INTO role_assignments (user_id, role) SELECT u.id, r.name FROM users u, roles r \
             WHERE u.id = $1 AND r.name = $2",
            vec![user.as_uuid().into(), role.as_str().into()],
        );
        let txn = self.begin_write().await?;
        let result = async {
            touched(&exec(&txn, s).await.map_err(conflict_on("assignment"))?)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn unassign_role(
        &self,
        user: UserId,
        role: &RoleName,
        guard: UnassignGuard,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = unassign_role(&txn, user, role, guard, effects).await;
        finish(txn, result).await
    }

    async fn set_default_role(
        &self,
        user: UserId,
        role: &RoleName,
        now: OffsetDateTime,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            lock_role(&txn, role, Lock::Shared).await?;
            lock_user(&txn, user).await?;
            require_held(&txn, user, role).await?;
            exec(
                &txn,
                stmt(
                    b,
                    "UPDATE users SET default_role = $2, updated_at = $3, version = version + 1 WHERE id = $1",
                    vec![user.as_uuid().into(), role.as_str().into(), time_value(b, now)],
                ),
            )
            .await?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }

    async fn switch_session_role(
        &self,
        session: SessionId,
        role: &RoleName,
        effects: Effects,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let b = txn.get_database_backend();
            lock_role(&txn, role, Lock::Shared).await?;
            let row = one(
                &txn,
                stmt(
                    b,
                    "SELECT user_id FROM sessions WHERE id = $1 AND revoked_at IS NULL",
                    vec![session.as_uuid().into()],
                ),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
            let user = UserId::from_uuid(get::<Uuid>(&row, "user_id")?);
            lock_user(&txn, user).await?;
            require_held(&txn, user, role).await?;
            let s = stmt(
                b,
                "UPDATE sessions SET role = $2 WHERE id = $1 AND revoked_at IS NULL",
                vec![session.as_uuid().into(), role.as_str().into()],
            );
            touched(&exec(&txn, s).await?)?;
            effects::write(&txn, effects).await
        }
        .await;
        finish(txn, result).await
    }
}

async fn update_role(
    c: &impl ConnectionTrait,
    old: &RoleName,
    role: &Role,
    expected_version: i64,
    effects: Effects,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let row = lock_role(c, old, Lock::Exclusive).await?;
    if get::<i64>(&row, "version")? != expected_version {
        return Err(StoreError::Stale);
    }
    if get::<bool>(&row, "builtin")? {
        return Err(StoreError::Refused { reason: "BUILTIN_ROLE" });
    }
    let fields = |name: &RoleName| -> Vec<Value> {
        vec![
            name.as_str().into(),
            role.description.clone().into(),
            stored_permissions(&role.permissions),
            time_value(b, role.updated_at),
            role.version.into(),
        ]
    };
    if role.name == *old {
        let sql = "UPDATE roles SET description = $2, permissions = $3, updated_at = $4, version = $5 WHERE name = $1";
        touched(&exec(c, stmt(b, sql, fields(old))).await?)?;
    } else {
        // The new row first (the assignments' foreign key needs it), keeping
        // when the role was created; then every reference moves; then the
        // old row goes.
        let sql = format!(
            "INSERT INTO roles ({ROLE_COLUMNS}) SELECT $1, $2, $3, builtin, created_at, $4, $5 \
             FROM roles WHERE name = $6"
        );
        let mut values = fields(&role.name);
        values.push(old.as_str().into());
        exec(c, stmt(b, &sql, values)).await.map_err(conflict_on("role"))?;
        exec(
            c,
            stmt(
                b,
                "UPDATE role_assignments SET role = $2 WHERE role = $1",
                vec![old.as_str().into(), role.name.as_str().into()],
            ),
        )
        .await?;
        move_references(c, old, &role.name, None, Some(role.updated_at)).await?;
        exec(c, stmt(b, "DELETE FROM roles WHERE name = $1", vec![old.as_str().into()])).await?;
    }
    effects::write(c, effects).await
}

async fn delete_role(
    c: &impl ConnectionTrait,
    name: &RoleName,
    force: bool,
    effects: Effects,
) -> Result<u64, StoreError> {
    let b = c.get_database_backend();
    let row = lock_role(c, name, Lock::Exclusive).await?;
    if get::<bool>(&row, "builtin")? {
        return Err(StoreError::Refused { reason: "BUILTIN_ROLE" });
    }
    let holders =
        count_of(c, stmt(b, "SELECT COUNT(*) AS n FROM role_assignments WHERE role = $1", vec![name.as_str().into()]))
            .await?;
    if holders > 0 && !force {
        return Err(StoreError::Refused { reason: "ROLE_IN_USE" });
    }
    exec(c, stmt(b, "DELETE FROM role_assignments WHERE role = $1", vec![name.as_str().into()])).await?;
    let default = RoleName::default_role();
    move_references(c, name, &default, None, change_time(&effects)).await?;
    exec(c, stmt(b, "DELETE FROM roles WHERE name = $1", vec![name.as_str().into()])).await?;
    effects::write(c, effects).await?;
    Ok(holders)
}

async fn unassign_role(
    c: &impl ConnectionTrait,
    user: UserId,
    role: &RoleName,
    guard: UnassignGuard,
    effects: Effects,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    // Only a removal of `admin` can leave no admin behind.
    let guarded = guard == UnassignGuard::KeepOneActiveAdmin && role.is_admin();
    // Guarded removals queue on the role row, and each counts what the ones
    // before it left. Any other waits for a rename or delete of the role.
    lock_role(c, role, if guarded { Lock::Exclusive } else { Lock::Shared }).await?;
    lock_user(c, user).await?;
    let removed = exec(
        c,
        stmt(
            b,
            "DELETE FROM role_assignments WHERE user_id = $1 AND role = $2",
            vec![user.as_uuid().into(), role.as_str().into()],
        ),
    )
    .await?;
    touched(&removed)?;
    if guarded {
        let remaining = count_of(
            c,
            stmt(
                b,
                "SELECT COUNT(*) AS n FROM role_assignments ra JOIN users u ON u.id = ra.user_id \
                 WHERE ra.role = $1 AND u.status = $2",
                vec![RoleName::ADMIN.into(), UserStatus::Active.as_str().into()],
            ),
        )
        .await?;
        if remaining == 0 {
            return Err(StoreError::Refused { reason: "LAST_ADMIN" });
        }
    }
    let default = RoleName::default_role();
    move_references(c, role, &default, Some(user), change_time(&effects)).await?;
    effects::write(c, effects).await
}

/// Points the default roles, sessions and keys using `from` (of `user`
/// only, or of everyone) at `to`.
/// A user whose default role changes gets a new version, and `updated_at`
/// when the change has a time.
async fn move_references(
    c: &impl ConnectionTrait,
    from: &RoleName,
    to: &RoleName,
    user: Option<UserId>,
    now: Option<OffsetDateTime>,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let tables = [("users", "default_role", "id"), ("sessions", "role", "user_id"), ("api_keys", "role", "user_id")];
    for (table, column, user_column) in tables {
        let mut q = Query::new(b, &format!("UPDATE {table} SET "));
        let to_p = q.bind(to.as_str());
        q.push(&format!("{column} = {to_p}"));
        if table == "users" {
            q.push(", version = version + 1");
            if let Some(now) = now {
                let p = q.bind(time_value(b, now));
                q.push(&format!(", updated_at = {p}"));
            }
        }
        let from_p = q.bind(from.as_str());
        q.push(&format!(" WHERE {column} = {from_p}"));
        if let Some(user) = user {
            let p = q.bind(user.as_uuid());
            q.push(&format!(" AND {user_column} = {p}"));
        }
        exec(c, q.build()).await?;
    }
    Ok(())
}

/// The role's row (version, builtin), locked on PostgreSQL; `NotFound`
/// when there is none.
pub(crate) async fn lock_role(
    c: &impl ConnectionTrait,
    name: &RoleName,
    lock: Lock,
) -> Result<QueryResult, StoreError> {
    let b = c.get_database_backend();
    let suffix = match (b, lock) {
        (DbBackend::Postgres, Lock::Exclusive) => " FOR UPDATE",
        (DbBackend::Postgres, Lock::Shared) => " FOR SHARE",
        _ => "",
    };
    let sql = format!("SELECT version, builtin FROM roles WHERE name = $1{suffix}");
    one(c, stmt(b, &sql, vec![name.as_str().into()])).await?.ok_or(StoreError::NotFound)
}

/// Locks the user's row on PostgreSQL (without blocking inserts that refer
/// to it); `NotFound` when there is no such user.
async fn lock_user(c: &impl ConnectionTrait, user: UserId) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let suffix = if b == DbBackend::Postgres { " FOR NO KEY UPDATE" } else { "" };
    let sql = format!("SELECT id FROM users WHERE id = $1{suffix}");
    one(c, stmt(b, &sql, vec![user.as_uuid().into()])).await?.map(drop).ok_or(StoreError::NotFound)
}

/// `Refused { reason: "ROLE_NOT_HELD" }` unless `user` holds `role`.
async fn require_held(c: &impl ConnectionTrait, user: UserId, role: &RoleName) -> Result<(), StoreError> {
    if role.is_default() {
        return Ok(());
    }
    let b = c.get_database_backend();
    let s = stmt(
        b,
        "SELECT 1 AS held FROM role_assignments WHERE user_id = $1 AND role = $2",
        vec![user.as_uuid().into(), role.as_str().into()],
    );
    match one(c, s).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::Refused { reason: "ROLE_NOT_HELD" }),
    }
}

pub(crate) async fn count_of(c: &impl ConnectionTrait, s: sea_orm::Statement) -> Result<u64, StoreError> {
    let n: i64 = one(c, s).await?.as_ref().map(|r| get(r, "n")).transpose()?.unwrap_or(0);
    u64::try_from(n).map_err(|_| corrupt("count", n))
}

/// When a change happened, for the `updated_at` of the users it touches in
/// passing: the time of its audit event (the port gives no other).
fn change_time(effects: &Effects) -> Option<OffsetDateTime> {
    effects.audit.first().map(|e| e.at)
}

/// A unique violation of this statement is about `key`.
fn conflict_on(key: &'static str) -> impl Fn(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Conflict { .. } => StoreError::Conflict { key },
        other => other,
    }
}

fn stored_permissions(p: &PermissionSet) -> Value {
    p.names().join(",").into()
}

/// The permission names of a `permissions` column.
pub(crate) fn permission_names(stored: &str) -> Vec<String> {
    stored.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn role_from_row(r: &QueryResult) -> Result<Role, StoreError> {
    let name = role(r, "name")?;
    let stored = permission_names(&get::<String>(r, "permissions")?);
    Ok(Role {
        permissions: PermissionSet::of_role(&name, &stored),
        name,
        description: get(r, "description")?,
        builtin: get(r, "builtin")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        version: get(r, "version")?,
    })
}

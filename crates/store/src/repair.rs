//! [`RepairStore`]: the report's reads ([`crate::repair_facts`]), the rows
//! that belong to nobody, and the repairs — every database fix of one user
//! in one transaction, each a conditional statement that changes nothing
//! when there is nothing left to fix (so a second repair is a no-op).

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{ResourceId, UserId};
use steward_domain::repair::{Finding, FindingKind, Fix, RepairStore, UserFacts};
use time::OffsetDateTime;

use crate::roles::count_of;
use crate::rows::get;
use crate::sql::{all, exec, stmt, time_value};
use crate::{Store, effects, finish, personal_groups, repair_facts};

#[async_trait]
impl RepairStore for Store {
    async fn user_facts(&self, user: UserId) -> Result<Option<UserFacts>, StoreError> {
        repair_facts::user_facts(self.connection(), user, self.now()).await
    }

    async fn user_ids(&self, after: Option<UserId>, limit: u32) -> Result<Vec<UserId>, StoreError> {
        let b = self.backend();
        let (sql, values): (&str, Vec<Value>) = match after {
            Some(a) => (
                "SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2",
                vec![a.as_uuid().into(), i64::from(limit).into()],
            ),
            None => ("SELECT id FROM users ORDER BY id LIMIT $1", vec![i64::from(limit).into()]),
        };
        all(self.connection(), stmt(b, sql, values))
            .await?
            .iter()
            .map(|r| Ok(UserId::from_uuid(get(r, "id")?)))
            .collect()
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        count_of(self.connection(), stmt(self.backend(), "SELECT COUNT(*) AS n FROM users", vec![])).await
    }

    async fn orphan_findings(&self, limit: u32) -> Result<Vec<Finding>, StoreError> {
        let (c, b) = (self.connection(), self.backend());
        let lim: Value = i64::from(limit).into();
        let mut out = Vec::new();
        let entries = "SELECT gr.group_id, gr.resource_id FROM group_resources gr \
             WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = gr.group_id) \
             ORDER BY gr.group_id, gr.resource_id LIMIT $1";
        for r in all(c, stmt(b, entries, vec![lim.clone()])).await? {
            let (group, resource) =
                (ResourceId::from_uuid(get(&r, "group_id")?), ResourceId::from_uuid(get(&r, "resource_id")?));
            out.push(Finding {
                kind: FindingKind::EntryOfMissingGroup,
                user: None,
                target: format!("group/{group}"),
                expected: "entries of existing groups only".into(),
                found: format!("an entry for resource/{resource} of a group that does not exist"),
                fix: Fix::DeleteEntry { group, resource },
            });
        }
        let members = "SELECT gm.group_id, gm.user_id FROM group_members gm \
             WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = gm.user_id) \
             ORDER BY gm.group_id, gm.user_id LIMIT $1";
        for r in all(c, stmt(b, members, vec![lim.clone()])).await? {
            let (group, user) = (ResourceId::from_uuid(get(&r, "group_id")?), UserId::from_uuid(get(&r, "user_id")?));
            out.push(Finding {
                kind: FindingKind::MembershipOfMissingUser,
                user: None,
                target: format!("group/{group}"),
                expected: "members who exist".into(),
                found: format!("a membership of user/{user}, who does not exist"),
                fix: Fix::RemoveMembership { group, user },
            });
        }
        let personal = "SELECT g.id, g.personal_of, r.display_name FROM groups g JOIN resources r ON r.id = g.id \
             WHERE g.personal_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = g.personal_of) \
             ORDER BY g.id LIMIT $1";
        for r in all(c, stmt(b, personal, vec![lim])).await? {
            let group = ResourceId::from_uuid(get(&r, "id")?);
            let of = UserId::from_uuid(get(&r, "personal_of")?);
            out.push(Finding {
                kind: FindingKind::PersonalGroupWithoutUser,
                user: None,
                target: format!("group/{group}"),
                expected: "personal groups of existing users only".into(),
                found: format!(
                    "personal group {} of user/{of}, who does not exist",
                    get::<String>(&r, "display_name")?
                ),
                fix: Fix::DeleteGroup { group },
            });
        }
        Ok(out)
    }

    async fn apply_fixes(&self, fixes: &[Fix], now: OffsetDateTime, effects: Effects) -> Result<u32, StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let mut changed = 0;
            for fix in fixes {
                if apply(&txn, fix, now).await? {
                    changed += 1;
                }
                self.failpoint("repair.fix").await?;
            }
            effects::write(&txn, effects).await?;
            Ok(changed)
        }
        .await;
        finish(txn, result).await
    }
}

/// One fix; whether it changed a row.
async fn apply(c: &impl ConnectionTrait, fix: &Fix, now: OffsetDateTime) -> Result<bool, StoreError> {
    let b = c.get_database_backend();
    let t = time_value(b, now);
    let run = |sql: &'static str, values: Vec<Value>| stmt(b, sql, values);
    let statements = match fix {
        Fix::RemoveMembership { group, user } => vec![run(
            // Only while the group is inactive or gone, or the user gone.
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 \
             AND (NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = $1 AND g.active = true) \
                  OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = $2))",
            vec![group.as_uuid().into(), user.as_uuid().into()],
        )],
        Fix::DeleteEntry { group, resource } => vec![run(
            "DELETE FROM group_resources WHERE group_id = $1 AND resource_id = $2 \
             AND (NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = $1) \
                  OR NOT EXISTS (SELECT 1 FROM resources r WHERE r.id = $2))",
            vec![group.as_uuid().into(), resource.as_uuid().into()],
        )],
        Fix::RenamePersonalGroup { group, name } => vec![run(
            "UPDATE resources SET display_name = $2, version = version + 1, updated_at = $3 \
             WHERE id = $1 AND display_name <> $2",
            vec![group.as_uuid().into(), name.clone().into(), t],
        )],
        Fix::DeleteGroup { group } => {
            // Only a personal group whose user is deleted or gone.
            let orphaned = count_of(
                c,
                run(
                    "SELECT COUNT(*) AS n FROM groups g WHERE g.id = $1 AND g.personal_of IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = g.personal_of AND u.status <> 'deleted')",
                    vec![group.as_uuid().into()],
                ),
            )
            .await?;
            if orphaned == 0 {
                return Ok(false);
            }
            let g: Value = group.as_uuid().into();
            vec![
                run("DELETE FROM group_members WHERE group_id = $1", vec![g.clone()]),
                run("DELETE FROM group_resources WHERE group_id = $1", vec![g.clone()]),
                run("DELETE FROM resources WHERE id = $1", vec![g]),
            ]
        }
        Fix::CreatePersonalGroup { user, name } => {
            let exists = count_of(
                c,
                run("SELECT COUNT(*) AS n FROM groups WHERE personal_of = $1", vec![user.as_uuid().into()]),
            )
            .await?;
            if exists > 0 {
                return Ok(false);
            }
            personal_groups::insert_personal_group(c, *user, name, now).await.map_err(crate::error::db)?;
            return Ok(true);
        }
        Fix::RevokeSessions { user } => vec![run(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.status <> 'active')",
            vec![user.as_uuid().into(), t],
        )],
        Fix::RevokeKeys { user } => vec![run(
            "UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.status <> 'active')",
            vec![user.as_uuid().into(), t],
        )],
        Fix::DropReaderGrant { resource, user } => vec![run(
            "DELETE FROM dataset_readers WHERE resource_id = $1 AND user_id = $2 \
             AND expires_at IS NOT NULL AND expires_at <= $3",
            vec![resource.as_uuid().into(), user.as_uuid().into(), t],
        )],
        Fix::DropMembership { project, user } => vec![run(
            "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 \
             AND expires_at IS NOT NULL AND expires_at <= $3",
            vec![project.as_uuid().into(), user.as_uuid().into(), t],
        )],
        Fix::CreateLogin { .. }
        | Fix::Grant { .. }
        | Fix::Revoke { .. }
        | Fix::CheckEngine { .. }
        | Fix::Manual { .. } => vec![],
    };
    let mut changed = false;
    for s in statements {
        changed |= exec(c, s).await?.rows_affected() > 0;
    }
    Ok(changed)
}

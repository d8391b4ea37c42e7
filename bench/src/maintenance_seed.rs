//! The data the global report reads, seeded straight into the database
//! (untimed, multi-row INSERTs of at most 1,000 rows, one transaction):
//! N users with their credentials and personal group (a group resource named
//! after them, its `groups` row, their membership), 10 resources each
//! (datasets, views, dashboards, domains), a read grant of a neighbour's
//! dataset each (a third of them with a second one ending in a month), and a
//! team group per 50 users (10 members, three of the owner's resources).
//! Then 1% of the users get one inconsistency each, the classes in turn
//! ([`CLASSES`]): each makes exactly one finding.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Database, DatabaseTransaction, DbBackend, Statement, TransactionTrait, Value};
use steward_domain::repair::FindingKind;
use time::Duration;
use uuid::Uuid;

use crate::Error;
use crate::import::placeholders;
use crate::transfer::{now, time_value};

/// Resources each user owns (besides their personal group).
pub const RESOURCES_PER_USER: usize = 10;
/// Rows a statement carries at most.
const ROWS_PER_INSERT: usize = 1000;
/// One user in this many is seeded with an inconsistency.
const ONE_IN: usize = 100;
/// The owner of a team group every this many users.
const TEAM_EVERY: usize = 50;
const TEAM_MEMBERS: usize = 10;

const KINDS: [&str; RESOURCES_PER_USER] =
    ["dataset", "view", "dashboard", "dataset", "domain", "dashboard", "dataset", "view", "dashboard", "domain"];

/// The inconsistencies seeded, in turn, and the finding each makes.
pub const CLASSES: [FindingKind; 6] = [
    FindingKind::MemberOfInactiveGroup,
    FindingKind::EntryForMissingResource,
    FindingKind::PersonalGroupMisnamed,
    FindingKind::ReaderGrantExpired,
    FindingKind::SessionsOfInactiveUser,
    FindingKind::KeysOfInactiveUser,
];

/// What was seeded.
pub struct Seeded {
    pub users: usize,
    pub resources: usize,
    /// Findings expected, by kind code.
    pub expected: BTreeMap<&'static str, u64>,
}

impl Seeded {
    pub fn inconsistencies(&self) -> u64 {
        self.expected.values().sum()
    }
}

/// Rows of one table, as bound values.
struct Table {
    head: &'static str,
    rows: Vec<Vec<Value>>,
}

impl Table {
    fn new(head: &'static str) -> Self {
        Self { head, rows: Vec::new() }
    }

    fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    async fn insert(self, c: &DatabaseTransaction, b: DbBackend) -> Result<(), Error> {
        for chunk in self.rows.chunks(ROWS_PER_INSERT) {
            let mut sql = format!("{} VALUES ", self.head);
            let mut values: Vec<Value> = Vec::new();
            for (k, row) in chunk.iter().enumerate() {
                let p = placeholders(b, values.len(), row.len());
                sql.push_str(&format!("{}({})", if k > 0 { ", " } else { "" }, p.join(", ")));
                values.extend(row.iter().cloned());
            }
            c.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
        }
        Ok(())
    }
}

/// Seeds `users` users (and a personal group for any user already there
/// without one) into the database at `url`.
pub async fn seed(url: &str, users: usize) -> Result<Seeded, Error> {
    let db = Database::connect(url).await?;
    let b = db.get_database_backend();
    let t = time_value(b, now());
    let (past, future) = (time_value(b, now() - Duration::days(1)), time_value(b, now() + Duration::days(30)));
    let mut expected: BTreeMap<&'static str, u64> = BTreeMap::new();

    let existing = db
        .query_all_raw(Statement::from_string(
            b,
            "SELECT id, username FROM users u WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.personal_of = u.id)",
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<Uuid>("", "id")?, r.try_get::<String>("", "username")?)))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;

    let mut t_users = Table::new(
        "INSERT INTO users (id, kind, username, username_lower, email, email_lower, full_name, full_name_lower, \
         position, about, location, organization, phone_number, email_notifications, status, default_role, \
         mfa_enabled, created_at, updated_at, version)",
    );
    let mut t_suspended = Table::new(
        "INSERT INTO users (id, kind, username, username_lower, email, email_lower, full_name, full_name_lower, \
         position, about, location, organization, phone_number, email_notifications, status, default_role, \
         mfa_enabled, created_at, updated_at, version, suspended_reason)",
    );
    let mut t_creds = Table::new("INSERT INTO credentials (user_id, failed_count)");
    let mut t_resources =
        Table::new("INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version)");
    let mut t_groups = Table::new("INSERT INTO groups (id, active, personal_of)");
    let mut t_team_groups = Table::new("INSERT INTO groups (id, active)");
    let mut t_members = Table::new("INSERT INTO group_members (group_id, user_id, added_at)");
    let mut t_entries = Table::new("INSERT INTO group_resources (group_id, resource_id, access, added_at)");
    let mut t_readers = Table::new("INSERT INTO dataset_readers (resource_id, user_id)");
    let mut t_ending = Table::new("INSERT INTO dataset_readers (resource_id, user_id, expires_at)");
    let mut t_sessions = Table::new(
        "INSERT INTO sessions (id, user_id, lookup, digest, role, password_change_required, created_at, expires_at)",
    );
    let mut t_keys =
        Table::new("INSERT INTO api_keys (id, user_id, name, description, prefix, lookup, digest, role, created_at)");

    for (id, username) in existing {
        personal(&mut t_resources, &mut t_groups, &mut t_members, Uuid::now_v7(), username, id, &t);
    }

    let ids: Vec<Uuid> = (0..users).map(|_| Uuid::now_v7()).collect();
    let owned: Vec<Vec<Uuid>> = (0..users).map(|_| (0..RESOURCES_PER_USER).map(|_| Uuid::now_v7()).collect()).collect();
    let groups: Vec<Uuid> = (0..users).map(|_| Uuid::now_v7()).collect();
    // The seeded users and their class.
    let class_of = |i: usize| (i % ONE_IN == 7).then_some(CLASSES[(i / ONE_IN) % CLASSES.len()]);
    for i in 0..users {
        let (id, name) = (ids[i], format!("rep{i}"));
        let class = class_of(i);
        if let Some(kind) = class {
            *expected.entry(kind.code()).or_default() += 1;
        }
        let suspended = matches!(class, Some(FindingKind::SessionsOfInactiveUser | FindingKind::KeysOfInactiveUser));
        let email = format!("{name}@example.com");
        let full = format!("Report User {i}");
        let mut row: Vec<Value> = vec![
            id.into(),
            "human".into(),
            name.clone().into(),
            name.clone().into(),
            email.clone().into(),
            email.into(),
            full.clone().into(),
            full.to_lowercase().into(),
        ];
        row.extend(["", "", "", "", ""].map(Value::from));
        row.extend([
            false.into(),
            (if suspended { "suspended" } else { "active" }).into(),
            "default".into(),
            false.into(),
            t.clone(),
            t.clone(),
            1i64.into(),
        ]);
        if suspended {
            row.push("benchmark".into());
            t_suspended.push(row);
        } else {
            t_users.push(row);
        }
        t_creds.push(vec![id.into(), 0i32.into()]);

        let group_name = if class == Some(FindingKind::PersonalGroupMisnamed) { format!("renamed{i}") } else { name };
        personal(&mut t_resources, &mut t_groups, &mut t_members, groups[i], group_name, id, &t);

        // A suspended user's resources are their neighbour's (else each
        // would also be a finding of its own: resources of an inactive owner).
        let owner = if suspended { ids[(i + 1) % users] } else { id };
        for (k, r) in owned[i].iter().enumerate() {
            let display = format!("{}{i}.{k}", KINDS[k]);
            t_resources.push(vec![
                (*r).into(),
                KINDS[k].into(),
                display.into(),
                owner.into(),
                t.clone(),
                t.clone(),
                1i64.into(),
            ]);
        }
        // Reads the next user's first dataset (a grant that has ended, when seeded so).
        let next = &owned[(i + 1) % users];
        if class == Some(FindingKind::ReaderGrantExpired) {
            t_ending.push(vec![next[0].into(), id.into(), past.clone()]);
        } else {
            t_readers.push(vec![next[0].into(), id.into()]);
        }
        if i % 3 == 0 {
            t_ending.push(vec![owned[(i + 2) % users][3].into(), id.into(), future.clone()]);
        }

        if i % TEAM_EVERY == 0 {
            let team = Uuid::now_v7();
            let values = vec![team.into(), "group".into(), format!("team{i}").into(), id.into()];
            t_resources.push([values, vec![t.clone(), t.clone(), 1i64.into()]].concat());
            t_team_groups.push(vec![team.into(), true.into()]);
            for m in 1..=TEAM_MEMBERS {
                t_members.push(vec![team.into(), ids[(i + m) % users].into(), t.clone()]);
            }
            for (k, access) in [(0, "read"), (1, "read"), (4, "owner")] {
                t_entries.push(vec![team.into(), owned[i][k].into(), access.into(), t.clone()]);
            }
        }

        match class {
            Some(FindingKind::MemberOfInactiveGroup) => {
                let old = Uuid::now_v7();
                let values = vec![old.into(), "group".into(), format!("old{i}").into(), id.into()];
                t_resources.push([values, vec![t.clone(), t.clone(), 1i64.into()]].concat());
                t_team_groups.push(vec![old.into(), false.into()]);
                t_members.push(vec![old.into(), id.into(), t.clone()]);
                t_entries.push(vec![old.into(), owned[i][0].into(), "read".into(), t.clone()]);
            }
            Some(FindingKind::EntryForMissingResource) => {
                t_entries.push(vec![groups[i].into(), Uuid::now_v7().into(), "read".into(), t.clone()]);
            }
            Some(FindingKind::SessionsOfInactiveUser) => t_sessions.push(vec![
                Uuid::now_v7().into(),
                id.into(),
                format!("bench-session-{}", Uuid::new_v4().simple()).into(),
                Value::from(Uuid::new_v4().as_bytes().to_vec()),
                "default".into(),
                false.into(),
                t.clone(),
                future.clone(),
            ]),
            Some(FindingKind::KeysOfInactiveUser) => t_keys.push(vec![
                Uuid::now_v7().into(),
                id.into(),
                "bench".into(),
                "".into(),
                "stw_key".into(),
                format!("bench-key-{}", Uuid::new_v4().simple()).into(),
                Value::from(Uuid::new_v4().as_bytes().to_vec()),
                "default".into(),
                t.clone(),
            ]),
            _ => {}
        }
    }
    let resources = users * RESOURCES_PER_USER;

    let txn = db.begin().await?;
    // Users before what refers to them, resources before groups and grants.
    for table in [
        t_users,
        t_suspended,
        t_creds,
        t_resources,
        t_groups,
        t_team_groups,
        t_members,
        t_entries,
        t_readers,
        t_ending,
        t_sessions,
        t_keys,
    ] {
        table.insert(&txn, b).await?;
    }
    txn.commit().await?;
    // Planner statistics, as a database that has lived a while has them.
    db.execute_unprepared("ANALYZE").await?;
    let _ = db.close().await;
    Ok(Seeded { users, resources, expected })
}

/// A user's personal group: a group resource named `name` they own, its
/// `groups` row, their membership.
#[allow(clippy::too_many_arguments)]
fn personal(
    resources: &mut Table,
    groups: &mut Table,
    members: &mut Table,
    id: Uuid,
    name: String,
    owner: Uuid,
    t: &Value,
) {
    resources.push(vec![id.into(), "group".into(), name.into(), owner.into(), t.clone(), t.clone(), 1i64.into()]);
    groups.push(vec![id.into(), true.into(), owner.into()]);
    members.push(vec![id.into(), owner.into(), t.clone()]);
}

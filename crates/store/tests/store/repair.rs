//! The inconsistency report and repair against rows broken from outside (as
//! another service, a hand edit or an older version would leave them): the
//! report lists exactly what was broken, a repair fixes it in one
//! transaction (a failure midway changes nothing), and a second repair
//! changes nothing.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{ResourceId, UserId};
use steward_domain::ownership::ResourceKind;
use steward_domain::repair::{EngineFacts, Finding, FindingKind, RepairStore, inspect};
use steward_store::{Failpoint, Store};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::resources::register;
use crate::support::{NOW, each_backend, insert};

async fn sql(store: &Store, text: &str, values: Vec<Value>) {
    let c = store.connection();
    c.execute_raw(Statement::from_sql_and_values(c.get_database_backend(), text, values)).await.unwrap();
}

fn at(store: &Store, t: OffsetDateTime) -> Value {
    match store.connection().get_database_backend() {
        DbBackend::Sqlite => {
            let f = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            );
            Value::from(t.format(&f).unwrap())
        }
        _ => Value::from(t),
    }
}

/// A plain group owned by `owner`, with `members`.
async fn group(store: &Store, owner: UserId, name: &str, active: bool, members: &[UserId]) -> ResourceId {
    let id = ResourceId::new();
    sql(
        store,
        "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) \
         VALUES ($1, 'group', $2, $3, $4, $4, 1)",
        vec![id.as_uuid().into(), name.into(), owner.as_uuid().into(), at(store, NOW)],
    )
    .await;
    sql(store, "INSERT INTO groups (id, active) VALUES ($1, $2)", vec![id.as_uuid().into(), active.into()]).await;
    for m in members {
        member(store, id.as_uuid(), *m).await;
    }
    id
}

async fn member(store: &Store, group: Uuid, user: UserId) {
    sql(
        store,
        "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3)",
        vec![group.into(), user.as_uuid().into(), at(store, NOW)],
    )
    .await;
}

async fn entry(store: &Store, group: Uuid, resource: Uuid) {
    sql(
        store,
        "INSERT INTO group_resources (group_id, resource_id, access, added_at) VALUES ($1, $2, 'read', $3)",
        vec![group.into(), resource.into(), at(store, NOW)],
    )
    .await;
}

/// The report's kinds for `user`, sorted (no engine configured).
async fn kinds(store: &Store, user: UserId) -> Vec<FindingKind> {
    let mut k: Vec<_> = findings(store, user).await.into_iter().map(|f| f.kind).collect();
    k.sort();
    k
}

async fn findings(store: &Store, user: UserId) -> Vec<Finding> {
    let facts = store.user_facts(user).await.unwrap().expect("the user exists");
    inspect(&facts, &EngineFacts::NotConfigured)
}

/// Applies every automatic fix of the user's report; how many changed a row.
async fn repair(store: &Store, user: UserId) -> Result<u32, StoreError> {
    let fixes: Vec<_> = findings(store, user).await.into_iter().map(|f| f.fix).filter(|f| !f.is_manual()).collect();
    store.apply_fixes(&fixes, NOW, Effects::default()).await
}

/// A user whose report is empty to begin with (whatever the version of
/// user creation: a personal group is made when missing).
async fn clean(store: &Store, name: &str) -> UserId {
    let u = insert(store, name).await.id;
    repair(store, u).await.unwrap();
    assert_eq!(kinds(store, u).await, vec![], "{name} starts clean");
    u
}

#[tokio::test]
async fn the_report_lists_exactly_what_was_broken_and_repair_fixes_it_once() {
    each_backend(|store, _| async move {
        let a = clean(&store, "ann").await;
        let b = clean(&store, "bob").await;
        let s = clean(&store, "sue").await;

        // Class 1: a member of an inactive group, and of one that is gone.
        group(&store, b, "dormant", false, &[a]).await;
        member(&store, Uuid::now_v7(), a).await;
        // Class 2: an entry of ann's group for a resource that is gone.
        let g = group(&store, a, "analysts", true, &[a]).await;
        entry(&store, g.as_uuid(), Uuid::now_v7()).await;
        // Class 3: ann's personal group renamed behind our back.
        sql(
            &store,
            "UPDATE resources SET display_name = 'someone' WHERE id = (SELECT id FROM groups WHERE personal_of = $1)",
            vec![a.as_uuid().into()],
        )
        .await;
        // Class 4: a Databricks username mapped to ann and bob.
        sql(
            &store,
            "UPDATE users SET databricks_username = 'shared' WHERE id IN ($1, $2)",
            vec![a.as_uuid().into(), b.as_uuid().into()],
        )
        .await;
        // Class 5: ann's read grant on bob's dataset ended but is still stored;
        // sue suspended with a live session and a dataset of her own.
        let d = register(&store, ResourceKind::Dataset, Some(b), "sales").await;
        sql(
            &store,
            "INSERT INTO dataset_readers (resource_id, user_id, expires_at) VALUES ($1, $2, $3)",
            vec![d.id.as_uuid().into(), a.as_uuid().into(), at(&store, NOW - Duration::days(1))],
        )
        .await;
        sql(&store, "UPDATE users SET status = 'suspended' WHERE id = $1", vec![s.as_uuid().into()]).await;
        sql(
            &store,
            "INSERT INTO sessions (id, user_id, lookup, digest, role, password_change_required, created_at, expires_at) \
             VALUES ($1, $2, 'stale-session', $3, 'default', false, $4, $5)",
            vec![
                Uuid::now_v7().into(),
                s.as_uuid().into(),
                vec![0u8; 32].into(),
                at(&store, NOW),
                at(&store, NOW + Duration::days(3650)),
            ],
        )
        .await;
        register(&store, ResourceKind::Dataset, Some(s), "hers").await;

        use FindingKind::*;
        assert_eq!(
            kinds(&store, a).await,
            vec![
                MemberOfInactiveGroup,
                MemberOfMissingGroup,
                EntryForMissingResource,
                PersonalGroupMisnamed,
                PlatformUsernameShared,
                ReaderGrantExpired,
            ]
        );
        assert_eq!(kinds(&store, b).await, vec![PlatformUsernameShared]);
        assert_eq!(kinds(&store, s).await, vec![SessionsOfInactiveUser, ResourcesOfInactiveOwner]);

        // Repair: every automatic fix changes a row once; the second run none.
        assert_eq!(repair(&store, a).await.unwrap(), 5);
        assert_eq!(repair(&store, s).await.unwrap(), 1);
        assert_eq!(repair(&store, a).await.unwrap(), 0);
        assert_eq!(repair(&store, s).await.unwrap(), 0);
        // What is left needs a person.
        assert_eq!(kinds(&store, a).await, vec![PlatformUsernameShared]);
        assert_eq!(kinds(&store, s).await, vec![ResourcesOfInactiveOwner]);
        // Nothing valid went with the repair: ann is still in her group.
        let still: i64 = {
            let c = store.connection();
            let row = c
                .query_one_raw(Statement::from_sql_and_values(
                    c.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM group_members WHERE group_id = $1 AND user_id = $2",
                    vec![g.as_uuid().into(), a.as_uuid().into()],
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get("", "n").unwrap()
        };
        assert_eq!(still, 1);
    })
    .await;
}

#[tokio::test]
async fn rows_that_belong_to_nobody_are_found_and_removed() {
    each_backend(|store, _| async move {
        let a = clean(&store, "ann").await;
        let gone_group = Uuid::now_v7();
        entry(&store, gone_group, Uuid::now_v7()).await;
        let g = group(&store, a, "analysts", true, &[a]).await;
        let gone_user = UserId::new();
        member(&store, g.as_uuid(), gone_user).await;
        let orphaned = group(&store, a, "ghost", true, &[]).await;
        sql(
            &store,
            "UPDATE groups SET personal_of = $2 WHERE id = $1",
            vec![orphaned.as_uuid().into(), gone_user.as_uuid().into()],
        )
        .await;

        let found = store.orphan_findings(100).await.unwrap();
        let mut k: Vec<_> = found.iter().map(|f| f.kind).collect();
        k.sort();
        use FindingKind::*;
        assert_eq!(k, vec![EntryOfMissingGroup, MembershipOfMissingUser, PersonalGroupWithoutUser]);
        assert!(found.iter().all(|f| f.user.is_none()));
        let fixes: Vec<_> = found.into_iter().map(|f| f.fix).collect();
        assert_eq!(store.apply_fixes(&fixes, NOW, Effects::default()).await.unwrap(), 3);
        assert_eq!(store.orphan_findings(100).await.unwrap(), vec![]);
        assert_eq!(store.apply_fixes(&fixes, NOW, Effects::default()).await.unwrap(), 0);
        assert_eq!(kinds(&store, a).await, vec![], "ann's own group is untouched");
    })
    .await;
}

#[tokio::test]
async fn a_failure_midway_through_a_repair_changes_nothing() {
    each_backend(|store, _| async move {
        let a = clean(&store, "ann").await;
        group(&store, a, "dormant", false, &[a]).await;
        member(&store, Uuid::now_v7(), a).await;
        let g = group(&store, a, "analysts", true, &[a]).await;
        entry(&store, g.as_uuid(), Uuid::now_v7()).await;
        let before = findings(&store, a).await;
        assert_eq!(before.len(), 3);

        // The second fix fails: the first is rolled back with it.
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let failing: Failpoint = {
            let calls = calls.clone();
            Arc::new(move |_step| {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Box::pin(async move {
                    if n == 1 { Err(StoreError::Internal("injected mid-repair".into())) } else { Ok(()) }
                })
            })
        };
        let broken = store.clone().with_failpoint(failing);
        assert!(repair(&broken, a).await.is_err());
        assert_eq!(findings(&store, a).await, before, "nothing changed");
        assert_eq!(repair(&store, a).await.unwrap(), 3);
        assert_eq!(kinds(&store, a).await, vec![]);
    })
    .await;
}

//! Suspension and deletion with transfer: the transaction is all or nothing
//! (a failure after any step, or a deadline, changes nothing), it moves
//! exactly what the plan says, and it serializes with a suspension of the
//! new owner.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sea_orm::{ConnectionTrait, Statement, Value};
use steward_domain::StoreError;
use steward_domain::access::{AccessRequestStore, RequestFilter, RequestScope, RequestState, Target};
use steward_domain::effects::Effects;
use steward_domain::group::GroupStore;
use steward_domain::id::{AccessRequestId, ResourceId, UserId};
use steward_domain::lifecycle::{LifecycleStore, SuspensionReason, UserDeletion, UserSuspension};
use steward_domain::ownership::{AccessLevel, ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::ports::{CredentialStore, ResourceStore, UserStore};
use steward_domain::user::UserStatus;
use steward_store::{DELETE_STEPS, Failpoint, Store};
use uuid::Uuid;

use crate::access::ask;
use crate::groups::create_group;
use crate::resources::{create_project, register, resource};
use crate::support::{NOW, each_backend, effects, insert, personal_group, session};

/// Rows of `table` whose `col` is `id`.
async fn rows_with(store: &Store, table: &str, col: &str, id: Uuid) -> i64 {
    let c = store.connection();
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {col} = $1");
    let row = c.query_one_raw(Statement::from_sql_and_values(c.get_database_backend(), sql, vec![Value::from(id)]));
    row.await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
}

/// U (to be deleted) owns datasets (one read by V, one by W), two schedules,
/// a dashboard, a group (W a member, linked to a dataset) and a project;
/// reads a dataset of W's and one of V's; belongs to W's group; has a
/// session, and a personal group linked to W's dataset. V is the new owner.
struct Scene {
    u: UserId,
    v: UserId,
    w: UserId,
    /// U's group (not the personal one).
    team: ResourceId,
    /// W's group, U a member.
    peers: ResourceId,
    resources: u64,
    by_u: AccessRequestId,
    awaiting_u: AccessRequestId,
    by_heir: AccessRequestId,
}

async fn scene(store: &Store, tag: &str) -> Scene {
    let u = insert(store, &format!("gone{tag}")).await.id;
    let v = insert(store, &format!("heir{tag}")).await.id;
    let w = insert(store, &format!("peer{tag}")).await.id;
    let mut read_by_v = resource(ResourceKind::Dataset, Some(u), "read by v");
    read_by_v.readers = vec![v];
    store.insert_resource(&read_by_v, None, Effects::default()).await.unwrap();
    let mut read_by_w = resource(ResourceKind::Dataset, Some(u), "read by w");
    read_by_w.readers = vec![w];
    store.insert_resource(&read_by_w, None, Effects::default()).await.unwrap();
    let plain = register(store, ResourceKind::Dataset, Some(u), "plain").await;
    register(store, ResourceKind::Schedule, Some(u), "nightly").await;
    register(store, ResourceKind::Schedule, Some(u), "hourly").await;
    register(store, ResourceKind::Dashboard, Some(u), "kpis").await;
    let mut theirs_ids = Vec::new();
    for owner in [w, v] {
        let mut theirs = resource(ResourceKind::Dataset, Some(owner), "theirs");
        theirs.readers = vec![u];
        store.insert_resource(&theirs, None, Effects::default()).await.unwrap();
        theirs_ids.push(theirs.id);
    }
    let team = create_group(store, "team", u).await.id;
    store.add_group_member(team, w, NOW, Effects::default()).await.unwrap();
    store.link_group_resource(team, plain.id, AccessLevel::Read, NOW, Effects::default()).await.unwrap();
    let peers = create_group(store, "peers", w).await.id;
    store.add_group_member(peers, u, NOW, Effects::default()).await.unwrap();
    let personal = personal_group(store, u).await.id;
    store.link_group_resource(personal, theirs_ids[0], AccessLevel::Read, NOW, Effects::default()).await.unwrap();
    let project = create_project(store, &format!("proj{tag}"), u).await;
    // Pending requests: U's own (for W's view), one awaiting U's decision
    // (W asks to join U's project), and V's for what V is about to receive.
    let w_view = register(store, ResourceKind::View, Some(w), "w view").await;
    let by_u = ask(store, u, Target::DataSource(w_view.id)).await.id;
    let awaiting_u = ask(store, w, Target::Project(project.id)).await.id;
    let by_heir = ask(store, v, Target::DataSource(plain.id)).await.id;
    store.open_session(session(u, &format!("lookup-{tag}")), Effects::default()).await.unwrap();
    let reason = SuspensionReason::parse("left", "reason").unwrap();
    let s = UserSuspension { user: u, reason, until: None, now: NOW };
    // Seven to hand over, and the personal group.
    assert_eq!(store.suspend_user(&s, effects(u, "user.suspend")).await.unwrap(), 7 + 1);
    Scene { u, v, w, team, peers, resources: 7, by_u, awaiting_u, by_heir }
}

async fn deletion(store: &Store, s: &Scene) -> UserDeletion {
    let user = store.get_user(s.u).await.unwrap();
    UserDeletion {
        user: s.u,
        new_owner: Some(s.v),
        expected: store.holdings(s.u).await.unwrap(),
        expected_user_version: user.version,
        now: NOW + time::Duration::minutes(5),
    }
}

/// Every row of every table the deletion touches, as text.
async fn snapshot(store: &Store) -> Vec<String> {
    let c = store.connection();
    let queries = [
        "SELECT id, status, version FROM users",
        "SELECT id, owner_id, schedule_enabled, version FROM resources",
        "SELECT resource_id, user_id, expires_at FROM dataset_readers",
        "SELECT id, owner_id, version FROM projects",
        "SELECT project_id, user_id, expires_at FROM project_members",
        "SELECT id, state, decision_reason, version FROM access_requests",
        "SELECT user_id, role FROM role_assignments",
        "SELECT id, revoked_at FROM sessions",
        "SELECT id, revoked_at FROM api_keys",
        "SELECT user_id, password_hash, temp_digest FROM credentials",
        "SELECT user_id FROM sql_credentials",
        "SELECT user_id FROM user_mfa",
        "SELECT id, active, personal_of FROM groups",
        "SELECT group_id, user_id FROM group_members",
        "SELECT group_id, resource_id, access FROM group_resources",
        "SELECT id FROM audit_events",
        "SELECT id FROM outbox",
    ];
    let mut out = Vec::new();
    for q in queries {
        let cols: Vec<&str> = q["SELECT ".len()..q.find(" FROM").unwrap()].split(", ").collect();
        let rows = c.query_all_raw(Statement::from_string(c.get_database_backend(), q.to_string())).await.unwrap();
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|col| {
                        if let Ok(v) = r.try_get::<Option<Uuid>>("", col) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<i64>>("", col) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<bool>>("", col) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<String>>("", col) {
                            format!("{v:?}")
                        } else if let Ok(v) = r.try_get::<Option<time::OffsetDateTime>>("", col) {
                            format!("{v:?}")
                        } else {
                            r.try_get::<Option<Vec<u8>>>("", col).map(|v| format!("{v:?}")).unwrap()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        lines.sort();
        out.push(format!("{q}: {}", lines.join(" | ")));
    }
    out
}

fn fail_at(step: &'static str) -> Failpoint {
    Arc::new(move |at| {
        Box::pin(
            async move { if at == step { Err(StoreError::Internal(format!("injected after {at}"))) } else { Ok(()) } },
        )
    })
}

#[tokio::test]
async fn a_failure_after_any_step_changes_nothing() {
    each_backend(|store, _| async move {
        for (i, step) in DELETE_STEPS.iter().enumerate() {
            let s = scene(&store, &i.to_string()).await;
            let d = deletion(&store, &s).await;
            let before = snapshot(&store).await;
            let failing = store.clone().with_failpoint(fail_at(step));
            let e = failing.delete_user(&d, effects(s.u, "user.delete")).await.unwrap_err();
            assert!(matches!(e, StoreError::Internal(ref m) if m.contains(step)), "{step}: {e}");
            assert_eq!(snapshot(&store).await, before, "a failure after {step} left changes");
        }
    })
    .await;
}

#[tokio::test]
async fn a_deadline_mid_delete_rolls_back() {
    each_backend(|store, _| async move {
        let s = scene(&store, "d").await;
        let d = deletion(&store, &s).await;
        let before = snapshot(&store).await;
        let stall: Failpoint = Arc::new(|at| {
            Box::pin(async move {
                if at == "dataset_readers" {
                    tokio::time::sleep(StdDuration::from_secs(3600)).await;
                }
                Ok(())
            })
        });
        let stalling = store.clone().with_failpoint(stall);
        let r = tokio::time::timeout(StdDuration::from_millis(300), stalling.delete_user(&d, Effects::default())).await;
        assert!(r.is_err(), "the deadline fired");
        // The abandoned transaction is rolled back when its connection returns.
        tokio::time::sleep(StdDuration::from_millis(200)).await;
        assert_eq!(snapshot(&store).await, before);
        // And the same deletion then goes through.
        store.delete_user(&d, Effects::default()).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn delete_moves_everything_in_the_plan() {
    each_backend(|store, _| async move {
        let s = scene(&store, "m").await;
        let d = deletion(&store, &s).await;
        assert_eq!(d.expected.owned_resources(), s.resources);
        assert_eq!((d.expected.dataset_reads, d.expected.projects, d.expected.sessions), (2, 1, 0));
        // The personal group apart; the memberships of the team and W's group.
        assert_eq!((d.expected.personal_group, d.expected.group_memberships), (1, 2));
        let personal = personal_group(&store, s.u).await.id;
        store.delete_user(&d, effects(s.u, "user.delete")).await.unwrap();
        let after = store.holdings(s.u).await.unwrap();
        assert_eq!((after.owned_resources(), after.dataset_reads, after.projects, after.memberships), (0, 0, 0, 0));
        assert_eq!((after.personal_group, after.group_memberships), (0, 0));
        // The personal group is gone with its member and its entry, not handed over.
        assert_eq!(store.get_resource(personal, &Visibility::Everything).await.unwrap(), None);
        assert_eq!(store.get_group(personal, &Visibility::Everything).await.unwrap(), None);
        for (table, col) in [("group_members", "group_id"), ("group_resources", "group_id"), ("group_members", "user_id")] {
            let id = if col == "user_id" { s.u.as_uuid() } else { personal.as_uuid() };
            assert_eq!(rows_with(&store, table, col, id).await, 0, "{table}.{col}");
        }
        // U's team moved to V, who joined it; W stays, the entry stays.
        let team = store.get_group(s.team, &Visibility::Everything).await.unwrap().unwrap();
        let mut members = vec![s.v, s.w];
        members.sort();
        assert_eq!((team.owner, team.members, team.links.len()), (s.v, members, 1));
        let peers = store.get_group(s.peers, &Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(peers.members, vec![s.w]);
        assert_eq!(store.get_user(s.u).await.unwrap().status, UserStatus::Deleted);
        let v = store.holdings(s.v).await.unwrap();
        assert_eq!(v.owned_resources(), s.resources + 1, "V's own dataset plus U's seven");
        assert_eq!(v.projects, 1);
        // V read U's "read by v" dataset and now owns it: no reader row for
        // the owner. U read V's dataset: V owns it, nothing to add. U read W's:
        // V reads it now. So V reads exactly one dataset.
        assert_eq!(v.dataset_reads, 1);
        let c = store.connection();
        let b = c.get_database_backend();
        let enabled = c
            .query_one_raw(Statement::from_sql_and_values(
                b,
                "SELECT COUNT(*) AS n FROM resources WHERE owner_id = $1 AND kind = 'schedule' AND schedule_enabled = $2",
                vec![Value::from(s.v.as_uuid()), true.into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(enabled, 0, "schedules arrive disabled");
        // U's own request ended with U; V's for what V received is moot; the
        // one awaiting U's decision now awaits V's.
        for (id, state) in [
            (s.by_u, RequestState::Withdrawn),
            (s.by_heir, RequestState::Withdrawn),
            (s.awaiting_u, RequestState::Pending),
        ] {
            assert_eq!(store.get_access_request(id).await.unwrap().unwrap().state, state);
        }
        let awaiting_v = store
            .list_access_requests(
                RequestScope::Decider { user: s.v, any: false },
                &RequestFilter::default(),
                PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(awaiting_v.iter().map(|r| r.id).collect::<Vec<_>>(), vec![s.awaiting_u]);
        // Running it again: the user is no longer suspended.
        let again = store.delete_user(&d, Effects::default()).await.unwrap_err();
        assert!(matches!(again, StoreError::Refused { reason: "USER_NOT_SUSPENDED" }), "{again}");
    })
    .await;
}

#[tokio::test]
async fn a_change_since_the_plan_is_stale() {
    each_backend(|store, _| async move {
        let s = scene(&store, "s").await;
        let d = deletion(&store, &s).await;
        register(&store, ResourceKind::Notebook, Some(s.u), "late").await;
        let before = snapshot(&store).await;
        let e = store.delete_user(&d, Effects::default()).await.unwrap_err();
        assert!(matches!(e, StoreError::Stale), "{e}");
        assert_eq!(snapshot(&store).await, before);
    })
    .await;
}

/// Suspending the new owner while a transfer to them runs: either the
/// transfer came first (and the suspension counts what it received), or the
/// suspension did (and the transfer is refused, leaving everything with U).
#[tokio::test]
async fn suspension_of_the_new_owner_serializes_with_the_transfer() {
    each_backend(|store, _| async move {
        let (mut transferred, mut refused) = (0, 0);
        for round in 0..100 {
            let s = scene(&store, &format!("r{round}")).await;
            let d = deletion(&store, &s).await;
            let reason = SuspensionReason::parse("race", "reason").unwrap();
            let suspend = UserSuspension { user: s.v, reason, until: None, now: NOW };
            let (a, b) = (store.clone(), store.clone());
            let del = tokio::spawn(async move { a.delete_user(&d, Effects::default()).await });
            let sus = tokio::spawn(async move { b.suspend_user(&suspend, Effects::default()).await });
            let (del, sus) = (del.await.unwrap(), sus.await.unwrap());
            let seen_by_suspension = sus.unwrap_or_else(|e| panic!("round {round}: suspension failed: {e}"));
            match del {
                Ok(()) => {
                    transferred += 1;
                    assert_eq!(
                        seen_by_suspension,
                        s.resources + 2,
                        "round {round}: suspension came after the transfer (and counts V's personal group)"
                    );
                }
                Err(StoreError::Refused { reason: "NEW_OWNER_NOT_ACTIVE" }) => {
                    refused += 1;
                    assert_eq!(seen_by_suspension, 2, "round {round}: V kept their own dataset and personal group");
                    assert_eq!(store.holdings(s.u).await.unwrap().owned_resources(), s.resources);
                    assert_eq!(store.get_user(s.u).await.unwrap().status, UserStatus::Suspended);
                }
                Err(e) => panic!("round {round}: unexpected {e}"),
            }
        }
        eprintln!("100 rounds: {transferred} transfers first, {refused} suspensions first");
    })
    .await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_suspended() {
    each_backend(|store, _| async move {
        let a = insert(&store, "onlyadmin").await.id;
        let c = store.connection();
        c.execute_raw(Statement::from_sql_and_values(
            c.get_database_backend(),
            "INSERT INTO role_assignments (user_id, role) VALUES ($1, 'admin')",
            vec![Value::from(a.as_uuid())],
        ))
        .await
        .unwrap();
        let reason = SuspensionReason::parse("x", "reason").unwrap();
        let s = UserSuspension { user: a, reason, until: None, now: NOW };
        let e = store.suspend_user(&s, Effects::default()).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { reason: "LAST_ADMIN" }), "{e}");
        assert_eq!(store.get_user(a).await.unwrap().status, UserStatus::Active);
    })
    .await;
}

#[tokio::test]
async fn ended_suspensions_are_due() {
    each_backend(|store, _| async move {
        let u = insert(&store, "brief").await.id;
        let reason = SuspensionReason::parse("cool off", "reason").unwrap();
        let until = Some(NOW + time::Duration::hours(1));
        store.suspend_user(&UserSuspension { user: u, reason, until, now: NOW }, Effects::default()).await.unwrap();
        assert!(store.due_reactivations(NOW, 10).await.unwrap().is_empty());
        assert_eq!(store.due_reactivations(NOW + time::Duration::hours(1), 10).await.unwrap(), vec![u]);
        store.reactivate_user(u, NOW, Effects::default()).await.unwrap();
        assert_eq!(store.get_user(u).await.unwrap().status, UserStatus::Active);
        let e = store.reactivate_user(u, NOW, Effects::default()).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { reason: "USER_NOT_SUSPENDED" }), "{e}");
    })
    .await;
}

#[tokio::test]
async fn a_user_who_owns_only_their_personal_group_is_deleted_without_a_new_owner() {
    each_backend(|store, _| async move {
        let u = insert(&store, "loner").await.id;
        let w = insert(&store, "host").await.id;
        let hosts = create_group(&store, "hosts", w).await.id;
        store.add_group_member(hosts, u, NOW, Effects::default()).await.unwrap();
        let reason = SuspensionReason::parse("left", "reason").unwrap();
        let s = UserSuspension { user: u, reason, until: None, now: NOW };
        assert_eq!(store.suspend_user(&s, Effects::default()).await.unwrap(), 1, "the personal group");
        let h = store.holdings(u).await.unwrap();
        assert_eq!((h.owned_resources(), h.personal_group, h.group_memberships), (0, 1, 1));
        assert!(!h.needs_new_owner());
        let user = store.get_user(u).await.unwrap();
        let d = UserDeletion { user: u, new_owner: None, expected: h, expected_user_version: user.version, now: NOW };
        store.delete_user(&d, Effects::default()).await.unwrap();
        assert_eq!(store.get_user(u).await.unwrap().status, UserStatus::Deleted);
        assert_eq!(store.holdings(u).await.unwrap(), steward_domain::lifecycle::Holdings::default());
        let hosts = store.get_group(hosts, &Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(hosts.members, vec![w]);
        assert_eq!(rows_with(&store, "resources", "owner_id", u.as_uuid()).await, 0);
    })
    .await;
}

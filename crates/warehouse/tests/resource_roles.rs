//! Per-resource roles against a real PostgreSQL: what `pg_authid` and
//! `pg_auth_members` hold after each call. Role names are cluster-wide, so
//! every test uses fresh logins and fresh resource ids, and drops what it
//! made (memberships go with the roles).

mod support;

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use secrecy::SecretString;
use steward_domain::id::ResourceId;
use steward_domain::ownership::AccessLevel;
use steward_domain::sql::{EngineError, QueryEngine, ResourceRole, SqlUsername, scram};
use steward_warehouse::{MARKER, PostgresEngine};

use support::{name, setup, url};

fn fresh(level: AccessLevel) -> ResourceRole {
    ResourceRole::new(ResourceId::from_uuid(uuid::Uuid::new_v4()), level)
}

/// A login made by the engine (so marked as Steward's).
async fn login(engine: &PostgresEngine, prefix: &str) -> SqlUsername {
    let n = name(prefix);
    engine.create_login(&n, &scram::make(&SecretString::from("a passphrase for tests")).unwrap()).await.unwrap();
    n
}

/// (rolcanlogin, comment) of a role, if it exists.
async fn role(db: &DatabaseConnection, name: &str) -> Option<(bool, Option<String>)> {
    let s = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT rolcanlogin, shobj_description(oid, 'pg_authid') AS note FROM pg_authid WHERE rolname = $1",
        vec![name.into()],
    );
    let r = db.query_one_raw(s).await.unwrap()?;
    Some((r.try_get("", "rolcanlogin").unwrap(), r.try_get("", "note").unwrap()))
}

/// How many membership rows make `member` a direct member of `role`.
async fn memberships(db: &DatabaseConnection, member: &str, role: &str) -> i64 {
    let s = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT count(*) AS n FROM pg_auth_members m \
         JOIN pg_authid r ON r.oid = m.roleid JOIN pg_authid u ON u.oid = m.member \
         WHERE r.rolname = $1 AND u.rolname = $2",
        vec![role.into(), member.into()],
    );
    db.query_one_raw(s).await.unwrap().unwrap().try_get("", "n").unwrap()
}

async fn drop_roles(db: &DatabaseConnection, names: &[&str]) {
    for n in names {
        db.execute_unprepared(&format!("DROP ROLE IF EXISTS \"{n}\"")).await.unwrap();
    }
}

#[tokio::test]
async fn grant_creates_a_marked_role_and_revoke_removes_the_membership() {
    let Some((engine, db)) = setup().await else { return };
    let alice = login(&engine, "wh_rr_life").await;
    let r = fresh(AccessLevel::Read);
    assert_eq!(role(&db, &r.name()).await, None);

    engine.grant_resource_role(&alice, &r).await.unwrap();
    assert_eq!(role(&db, &r.name()).await, Some((false, Some(MARKER.to_string()))), "NOLOGIN and marked");
    assert_eq!(memberships(&db, alice.as_str(), &r.name()).await, 1);
    engine.grant_resource_role(&alice, &r).await.unwrap();
    assert_eq!(memberships(&db, alice.as_str(), &r.name()).await, 1, "a second grant changes nothing");
    assert_eq!(engine.resource_roles(&alice).await.unwrap(), vec![r]);

    engine.revoke_resource_role(&alice, &r).await.unwrap();
    assert_eq!(memberships(&db, alice.as_str(), &r.name()).await, 0);
    assert!(engine.resource_roles(&alice).await.unwrap().is_empty());
    engine.revoke_resource_role(&alice, &r).await.unwrap();
    assert!(role(&db, &r.name()).await.is_some(), "the role itself stays");

    // Nothing to do when the role or the login is missing.
    engine.revoke_resource_role(&alice, &fresh(AccessLevel::Owner)).await.unwrap();
    let ghost = name("wh_rr_ghost");
    engine.revoke_resource_role(&ghost, &r).await.unwrap();
    let other = fresh(AccessLevel::Owner);
    assert!(matches!(engine.grant_resource_role(&ghost, &other).await, Err(EngineError::LoginMissing)));
    assert_eq!(role(&db, &other.name()).await, None, "no role made for a missing login");
    assert!(engine.resource_roles(&ghost).await.unwrap().is_empty());

    drop_roles(&db, &[&r.name(), alice.as_str()]).await;
}

#[tokio::test]
async fn only_marked_resource_roles_are_listed() {
    let Some((engine, db)) = setup().await else { return };
    let bob = login(&engine, "wh_rr_list").await;
    let mut ours = vec![fresh(AccessLevel::Owner), fresh(AccessLevel::Read), fresh(AccessLevel::Read)];
    for r in &ours {
        engine.grant_resource_role(&bob, r).await.unwrap();
    }
    ours.sort();
    // Bob is also in a foreign role named like ours, a plain foreign role,
    // and another Steward login (marked, but no resource role).
    let lookalike = fresh(AccessLevel::Read).name();
    let plain = name("wh_rr_plain");
    let marked_login = login(&engine, "wh_rr_marked").await;
    db.execute_unprepared(&format!("CREATE ROLE {lookalike} NOLOGIN")).await.unwrap();
    db.execute_unprepared(&format!("CREATE ROLE {plain} NOLOGIN")).await.unwrap();
    for foreign in [lookalike.as_str(), plain.as_str(), marked_login.as_str()] {
        db.execute_unprepared(&format!("GRANT {foreign} TO {bob}")).await.unwrap();
    }
    // A membership of someone else's does not count either.
    let carol = login(&engine, "wh_rr_other").await;
    let theirs = fresh(AccessLevel::Read);
    engine.grant_resource_role(&carol, &theirs).await.unwrap();

    assert_eq!(engine.resource_roles(&bob).await.unwrap(), ours);
    assert_eq!(engine.resource_roles(&carol).await.unwrap(), vec![theirs]);

    let mut all: Vec<String> = ours.iter().chain([&theirs]).map(ResourceRole::name).collect();
    all.extend([lookalike, plain.to_string(), marked_login.to_string(), bob.to_string(), carol.to_string()]);
    drop_roles(&db, &all.iter().map(String::as_str).collect::<Vec<_>>()).await;
}

#[tokio::test]
async fn an_unmarked_role_of_that_name_is_left_alone() {
    let Some((engine, db)) = setup().await else { return };
    let dave = login(&engine, "wh_rr_foreign").await;
    let r = fresh(AccessLevel::Owner);
    db.execute_unprepared(&format!("CREATE ROLE {} NOLOGIN", r.name())).await.unwrap();
    assert!(matches!(engine.grant_resource_role(&dave, &r).await, Err(EngineError::NotManaged)));
    assert_eq!(memberships(&db, dave.as_str(), &r.name()).await, 0);
    assert_eq!(role(&db, &r.name()).await, Some((false, None)), "still unmarked");

    db.execute_unprepared(&format!("GRANT {} TO {dave}", r.name())).await.unwrap();
    assert!(matches!(engine.revoke_resource_role(&dave, &r).await, Err(EngineError::NotManaged)));
    assert_eq!(memberships(&db, dave.as_str(), &r.name()).await, 1, "their membership stays");
    assert!(engine.resource_roles(&dave).await.unwrap().is_empty());

    drop_roles(&db, &[&r.name(), dave.as_str()]).await;
}

#[tokio::test]
async fn login_exists_answers_for_any_role() {
    let Some((engine, db)) = setup().await else { return };
    let ours = login(&engine, "wh_rr_exists").await;
    let theirs = name("wh_rr_theirs");
    db.execute_unprepared(&format!("CREATE ROLE {theirs} NOLOGIN")).await.unwrap();
    assert!(engine.login_exists(&ours).await.unwrap());
    assert!(engine.login_exists(&theirs).await.unwrap());
    assert!(engine.login_exists(&SqlUsername::from_stored("postgres")).await.unwrap());
    assert!(!engine.login_exists(&name("wh_rr_nobody")).await.unwrap());
    drop_roles(&db, &[ours.as_str(), theirs.as_str()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_grants_of_one_new_role_all_succeed() {
    let Some((engine, db)) = setup().await else { return };
    const N: usize = 8;
    let r = fresh(AccessLevel::Read);
    let mut logins = Vec::new();
    for _ in 0..N {
        logins.push(login(&engine, "wh_rr_race").await);
    }
    // One engine (pool) each, connected before the start, so the creations
    // really race.
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::new();
    for l in logins.clone() {
        let e = PostgresEngine::connect(&url()).await.unwrap();
        e.ping().await.unwrap();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            e.grant_resource_role(&l, &r).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(role(&db, &r.name()).await, Some((false, Some(MARKER.to_string()))));
    for l in &logins {
        assert_eq!(memberships(&db, l.as_str(), &r.name()).await, 1, "{l}");
        assert_eq!(engine.resource_roles(l).await.unwrap(), vec![r]);
    }
    let mut all = vec![r.name()];
    all.extend(logins.iter().map(ToString::to_string));
    drop_roles(&db, &all.iter().map(String::as_str).collect::<Vec<_>>()).await;
}

#[tokio::test]
async fn an_unreachable_engine_is_unavailable_for_resource_roles() {
    let engine = PostgresEngine::connect("postgres://postgres@127.0.0.1:1/postgres").await.unwrap();
    let (l, r) = (name("wh_rr_down"), fresh(AccessLevel::Read));
    let started = std::time::Instant::now();
    let (a, b, c, d) = tokio::join!(
        engine.login_exists(&l),
        engine.resource_roles(&l),
        engine.grant_resource_role(&l, &r),
        engine.revoke_resource_role(&l, &r),
    );
    assert!(matches!(a, Err(EngineError::Unavailable(_))), "{a:?}");
    assert!(matches!(b, Err(EngineError::Unavailable(_))), "{b:?}");
    assert!(matches!(c, Err(EngineError::Unavailable(_))), "{c:?}");
    assert!(matches!(d, Err(EngineError::Unavailable(_))), "{d:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

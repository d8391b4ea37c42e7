//! The adapter against a real PostgreSQL: what `pg_authid` holds after each
//! call. (The shared test cluster trusts every login, so logging in proves
//! nothing here; the end-to-end tests log in on a private SCRAM cluster.)

mod support;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use secrecy::SecretString;
use steward_domain::sql::{EngineError, QueryEngine, SqlUsername, scram};
use steward_warehouse::PostgresEngine;

use support::{name, setup};

/// (rolpassword, rolcanlogin) of a role, if it exists.
async fn role(db: &DatabaseConnection, name: &SqlUsername) -> Option<(Option<String>, bool)> {
    let s = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = $1",
        vec![name.as_str().into()],
    );
    let r = db.query_one_raw(s).await.unwrap()?;
    Some((r.try_get("", "rolpassword").unwrap(), r.try_get("", "rolcanlogin").unwrap()))
}

fn verifier(p: &str) -> String {
    scram::make(&SecretString::from(p)).unwrap()
}

#[tokio::test]
async fn logins_hold_exactly_our_verifier() {
    let Some((engine, db)) = setup().await else { return };
    let n = name("wh_life");
    let v1 = verifier("first passphrase here");
    engine.create_login(&n, &v1).await.unwrap();
    assert_eq!(role(&db, &n).await, Some((Some(v1.clone()), true)), "stored as is, able to log in");
    assert!(matches!(engine.create_login(&n, &v1).await, Err(EngineError::AlreadyExists)));

    let v2 = verifier("second passphrase here");
    engine.set_password(&n, &v2).await.unwrap();
    assert_eq!(role(&db, &n).await, Some((Some(v2.clone()), true)));

    engine.set_login_enabled(&n, false).await.unwrap();
    assert_eq!(role(&db, &n).await, Some((Some(v2.clone()), false)));
    engine.set_password(&n, &v1).await.unwrap();
    assert_eq!(role(&db, &n).await, Some((Some(v1.clone()), false)), "a rotation does not re-enable");
    engine.set_login_enabled(&n, true).await.unwrap();

    engine.drop_login(&n).await.unwrap();
    assert_eq!(role(&db, &n).await, None);
    engine.drop_login(&n).await.unwrap();
    engine.set_login_enabled(&n, false).await.unwrap();
    // Setting a password re-creates a missing login (undoing a drop).
    engine.set_password(&n, &v2).await.unwrap();
    assert_eq!(role(&db, &n).await, Some((Some(v2), true)));
    engine.drop_login(&n).await.unwrap();
}

#[tokio::test]
async fn roles_steward_did_not_create_are_left_alone() {
    let Some((engine, db)) = setup().await else { return };
    let n = name("wh_foreign");
    db.execute_unprepared(&format!("CREATE ROLE {n} LOGIN PASSWORD 'their own'")).await.unwrap();
    let before = role(&db, &n).await;
    let v = verifier("takeover attempt pass");
    assert!(matches!(engine.create_login(&n, &v).await, Err(EngineError::AlreadyExists)));
    assert!(matches!(engine.set_password(&n, &v).await, Err(EngineError::NotManaged)));
    assert!(matches!(engine.set_login_enabled(&n, false).await, Err(EngineError::NotManaged)));
    assert!(matches!(engine.drop_login(&n).await, Err(EngineError::NotManaged)));
    assert_eq!(role(&db, &n).await, before);
    let postgres = SqlUsername::from_stored("postgres");
    assert!(matches!(engine.set_password(&postgres, &v).await, Err(EngineError::NotManaged)));
    db.execute_unprepared(&format!("DROP ROLE {n}")).await.unwrap();
}

#[tokio::test]
async fn a_login_that_owns_objects_is_in_use() {
    let Some((engine, db)) = setup().await else { return };
    let n = name("wh_owner");
    engine.create_login(&n, &verifier("owner passphrase here")).await.unwrap();
    let schema = format!("s_{n}");
    db.execute_unprepared(&format!("CREATE SCHEMA {schema} AUTHORIZATION {n}")).await.unwrap();
    assert!(matches!(engine.drop_login(&n).await, Err(EngineError::InUse)));
    assert!(role(&db, &n).await.is_some());
    db.execute_unprepared(&format!("DROP SCHEMA {schema}")).await.unwrap();
    engine.drop_login(&n).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_engine_is_unavailable() {
    // Nothing listens on port 1; the lazy pool still builds.
    let engine = PostgresEngine::connect("postgres://postgres@127.0.0.1:1/postgres").await.unwrap();
    let started = std::time::Instant::now();
    let r = engine.create_login(&name("wh_down"), &verifier("does not matter at all")).await;
    assert!(matches!(r, Err(EngineError::Unavailable(_))), "{r:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(matches!(PostgresEngine::connect("mysql://x").await, Err(EngineError::Failed(_))));
}

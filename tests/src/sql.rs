//! SQL credentials: stored as SCRAM verifiers and checked through
//! VerifySqlCredential (both backends), and real logins on a private
//! PostgreSQL cluster that checks passwords with scram-sha-256.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use steward_grpc::pb;
use tonic::Code;

use crate::harness::pgcluster::PrivateCluster;
use crate::harness::{Backend, Client, PASSWORD, TestServer, assert_status, onboard};
use crate::on_both_backends;

fn create(name: &str, password: &str) -> pb::CreateSqlCredentialRequest {
    pb::CreateSqlCredentialRequest { sql_username: name.into(), password: password.into() }
}

fn rotate(password: &str) -> pb::RotateSqlCredentialRequest {
    pb::RotateSqlCredentialRequest { password: password.into() }
}

fn get(user_id: &str) -> pb::GetSqlCredentialRequest {
    pb::GetSqlCredentialRequest { user_id: user_id.into() }
}

async fn actions(admin: &Client, action: &str) -> usize {
    let req = pb::ListAuditEventsRequest { action: action.into(), page_size: 100, ..Default::default() };
    admin.audit().list_audit_events(req).await.expect("list audit events").into_inner().audit_events.len()
}

/// A service account whose key acts with a role holding sql.verify.
async fn engine_account(admin: &Client) -> String {
    admin
        .roles()
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "sqlcheck".into(),
                description: "checks SQL passwords".into(),
                permissions: vec!["sql.verify".into()],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    admin
        .users()
        .create_service_account(pb::CreateServiceAccountRequest {
            username: "sqlengine".into(),
            email: "sqlengine@example.com".into(),
            full_name: "Query engine".into(),
            roles: vec!["sqlcheck".into()],
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .api_key_secret
}

async fn valid(engine: &Client, name: &str, password: &str) -> bool {
    let req = pb::VerifySqlCredentialRequest { sql_username: name.into(), password: password.into() };
    engine.sql().verify_sql_credential(req).await.unwrap().into_inner().valid
}

on_both_backends!(stored_and_verified_without_an_engine, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let alice = onboard(&srv, "Alice").await;
    let bob = onboard(&srv, "bob").await;
    let me = srv.client(Some(&alice.token)).await;
    let engine = srv.client(Some(&engine_account(&admin).await)).await;

    // Bad input changes nothing.
    let r = me.sql().create_sql_credential(create("Alice", "")).await;
    assert_status(r, Code::InvalidArgument, "INVALID_SQL_USERNAME");
    let r = me.sql().create_sql_credential(create("postgres", "")).await;
    assert_status(r, Code::InvalidArgument, "SQL_USERNAME_RESERVED");
    let r = me.sql().create_sql_credential(create("", "too short")).await;
    assert_status(r, Code::InvalidArgument, "PASSWORD_TOO_SHORT");
    assert_status(me.sql().get_sql_credential(get("")).await, Code::NotFound, "NOT_FOUND");

    // The user's own password: nothing comes back but the credential.
    let own = "my own sql passphrase";
    let made = me.sql().create_sql_credential(create("", own)).await.unwrap().into_inner();
    let c = made.sql_credential.unwrap();
    assert_eq!((c.sql_username.as_str(), c.user_id.as_str(), made.password.as_str()), ("alice", alice.id.as_str(), ""));
    let r = me.sql().create_sql_credential(create("alice_two", own)).await;
    assert_status(r, Code::AlreadyExists, "SQL_CREDENTIAL_EXISTS");
    let them = srv.client(Some(&bob.token)).await;
    let r = them.sql().create_sql_credential(create("alice", "")).await;
    assert_status(r, Code::AlreadyExists, "SQL_USERNAME_TAKEN");

    assert!(valid(&engine, "alice", own).await);
    assert!(!valid(&engine, "alice", "my own sql passphrasE").await);
    assert!(!valid(&engine, "nobody", own).await);
    assert!(!valid(&engine, "Not A Name!", own).await);
    let req = pb::VerifySqlCredentialRequest { sql_username: "alice".into(), password: own.into() };
    assert_status(me.sql().verify_sql_credential(req).await, Code::PermissionDenied, "PERMISSION_DENIED");

    // Reading: oneself, or with users.read; never a password.
    let mine = me.sql().get_sql_credential(get("")).await.unwrap().into_inner().sql_credential.unwrap();
    assert_eq!(mine, c);
    assert_eq!(admin.sql().get_sql_credential(get(&alice.id)).await.unwrap().into_inner().sql_credential.unwrap(), c);
    assert_status(them.sql().get_sql_credential(get(&alice.id)).await, Code::PermissionDenied, "PERMISSION_DENIED");

    // A generated password, returned once; the old one stops working.
    let rotated = me.sql().rotate_sql_credential(rotate("")).await.unwrap().into_inner();
    assert_eq!(rotated.password.len(), 24);
    assert!(valid(&engine, "alice", &rotated.password).await);
    assert!(!valid(&engine, "alice", own).await);

    // A name of one's choosing, and a generated password at creation.
    let bobs = them.sql().create_sql_credential(create("bob_reports", "")).await.unwrap().into_inner();
    assert_eq!(bobs.sql_credential.unwrap().sql_username, "bob_reports");
    assert!(valid(&engine, "bob_reports", &bobs.password).await);
    assert!(!valid(&engine, "bob_reports", &rotated.password).await);

    me.sql().delete_sql_credential(pb::DeleteSqlCredentialRequest {}).await.unwrap();
    assert_status(me.sql().get_sql_credential(get("")).await, Code::NotFound, "NOT_FOUND");
    let r = me.sql().delete_sql_credential(pb::DeleteSqlCredentialRequest {}).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    assert!(!valid(&engine, "alice", &rotated.password).await);

    assert_eq!(actions(&admin, "sql.create").await, 2);
    assert_eq!(actions(&admin, "sql.rotate").await, 1);
    assert_eq!(actions(&admin, "sql.delete").await, 1);
});

/// Whether `user` exists as a role on the cluster.
async fn role_exists(cluster: &PrivateCluster, user: &str) -> bool {
    let db = cluster.login("postgres", &cluster.superuser_password).await.expect("superuser login");
    let s = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 AS one FROM pg_roles WHERE rolname = $1",
        vec![user.into()],
    );
    let found = db.query_one_raw(s).await.unwrap().is_some();
    let _ = db.close().await;
    found
}

async fn current_user(cluster: &PrivateCluster, user: &str, password: &str) -> Result<String, String> {
    let db = cluster.login(user, password).await?;
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT current_user::text AS u"))
        .await
        .map_err(|e| e.to_string())?
        .unwrap();
    let _ = db.close().await;
    Ok(row.try_get("", "u").unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_real_logins_on_the_query_engine() {
    let Some(cluster) = PrivateCluster::start() else { return };
    // The cluster really checks passwords: the superuser needs the right one.
    assert!(cluster.login("postgres", "not the password").await.is_err(), "the private cluster trusts nobody");
    let srv = TestServer::builder(Backend::Sqlite).arg("--query-engine-url").arg(cluster.superuser_url()).start().await;
    let admin = srv.admin().await;
    let carol = onboard(&srv, "carol").await;
    let me = srv.client(Some(&carol.token)).await;

    let made = me.sql().create_sql_credential(create("", "")).await.unwrap().into_inner();
    let generated = made.password;
    assert_eq!(generated.len(), 24);
    assert_eq!(current_user(&cluster, "carol", &generated).await.unwrap(), "carol");
    let wrong = cluster.login("carol", &format!("{generated}x")).await;
    assert!(wrong.as_ref().is_err_and(|e| e.contains("password authentication failed")), "{wrong:?}");

    let own = "carols own new passphrase";
    let rotated = me.sql().rotate_sql_credential(rotate(own)).await.unwrap().into_inner();
    assert!(rotated.password.is_empty());
    assert!(cluster.login("carol", &generated).await.is_err(), "the old password stops working");
    assert_eq!(current_user(&cluster, "carol", own).await.unwrap(), "carol");

    // A name that is taken on the engine by a role Steward did not create.
    let dave = onboard(&srv, "dave").await;
    let theirs = srv.client(Some(&dave.token)).await;
    let db = cluster.login("postgres", &cluster.superuser_password).await.unwrap();
    db.execute_unprepared("CREATE ROLE analytics LOGIN PASSWORD 'somebody elses'").await.unwrap();
    let r = theirs.sql().create_sql_credential(create("analytics", "")).await;
    assert_status(r, Code::AlreadyExists, "SQL_USERNAME_TAKEN");
    assert_status(theirs.sql().get_sql_credential(get("")).await, Code::NotFound, "NOT_FOUND");
    assert!(cluster.login("analytics", "somebody elses").await.is_ok(), "the foreign role is untouched");
    let _ = db.close().await;

    me.sql().delete_sql_credential(pb::DeleteSqlCredentialRequest {}).await.unwrap();
    assert!(cluster.login("carol", own).await.is_err());
    assert!(!role_exists(&cluster, "carol").await, "the role is gone");
    assert!(role_exists(&cluster, "analytics").await);
    assert_eq!(actions(&admin, "sql.create").await, 1);
    assert_eq!(actions(&admin, "sql.delete").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_down_means_unavailable_and_nothing_changes() {
    let Some(mut cluster) = PrivateCluster::start() else { return };
    let srv = TestServer::builder(Backend::Sqlite).arg("--query-engine-url").arg(cluster.superuser_url()).start().await;
    let admin = srv.admin().await;
    let erin = onboard(&srv, "erin").await;
    let me = srv.client(Some(&erin.token)).await;

    cluster.stop();
    let r = me.sql().create_sql_credential(create("", PASSWORD)).await;
    assert_status(r, Code::Unavailable, "UNAVAILABLE");
    assert_status(me.sql().get_sql_credential(get("")).await, Code::NotFound, "NOT_FOUND");
    assert_eq!(actions(&admin, "sql.create").await, 0, "no audit event for what did not happen");

    cluster.start_again().unwrap();
    let first = "erins first passphrase";
    me.sql().create_sql_credential(create("", first)).await.expect("works once the engine is back");
    assert!(cluster.login("erin", first).await.is_ok());
    let before = me.sql().get_sql_credential(get("")).await.unwrap().into_inner().sql_credential.unwrap();

    cluster.stop();
    assert_status(
        me.sql().rotate_sql_credential(rotate("erins second passphrase")).await,
        Code::Unavailable,
        "UNAVAILABLE",
    );
    let r = me.sql().delete_sql_credential(pb::DeleteSqlCredentialRequest {}).await;
    assert_status(r, Code::Unavailable, "UNAVAILABLE");
    let after = me.sql().get_sql_credential(get("")).await.unwrap().into_inner().sql_credential.unwrap();
    assert_eq!(after, before, "the stored credential did not change");

    cluster.start_again().unwrap();
    assert!(cluster.login("erin", first).await.is_ok(), "the engine still has the first password");
    assert!(cluster.login("erin", "erins second passphrase").await.is_err());
    assert_eq!(actions(&admin, "sql.rotate").await + actions(&admin, "sql.delete").await, 0);
}

/// Suspension makes the SQL login NOLOGIN in the same step; reactivation
/// restores it; deletion drops it (and the engine down means the suspension
/// does not happen at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_login_follows_suspension_reactivation_and_deletion() {
    let Some(mut cluster) = PrivateCluster::start() else { return };
    let srv = TestServer::builder(Backend::Sqlite).arg("--query-engine-url").arg(cluster.superuser_url()).start().await;
    let admin = srv.admin().await;
    let fay = onboard(&srv, "fay").await;
    let heir = onboard(&srv, "heir").await;
    let me = srv.client(Some(&fay.token)).await;
    let password = "fays warehouse passphrase";
    me.sql().create_sql_credential(create("", password)).await.unwrap();
    assert_eq!(current_user(&cluster, "fay", password).await.unwrap(), "fay");
    let selector = |id: &str| Some(pb::UserSelector { selector: Some(pb::user_selector::Selector::UserId(id.into())) });
    let suspend = pb::SuspendUserRequest { user: selector(&fay.id), reason: "audit".into(), end_time: None };

    cluster.stop();
    assert_status(admin.users().suspend_user(suspend.clone()).await, Code::Unavailable, "UNAVAILABLE");
    let req = pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::UserId(fay.id.clone())) };
    let user = admin.users().get_user(req).await.unwrap().into_inner().user.unwrap();
    assert_eq!(user.status, pb::UserStatus::Active as i32, "nothing changed");
    cluster.start_again().unwrap();

    admin.users().suspend_user(suspend).await.unwrap();
    let refused = cluster.login("fay", password).await;
    assert!(refused.as_ref().is_err_and(|e| e.contains("not permitted to log in")), "{refused:?}");
    admin.users().reactivate_user(pb::ReactivateUserRequest { user: selector(&fay.id) }).await.unwrap();
    assert_eq!(current_user(&cluster, "fay", password).await.unwrap(), "fay", "LOGIN again");

    let suspend = pb::SuspendUserRequest { user: selector(&fay.id), reason: "leaving".into(), end_time: None };
    admin.users().suspend_user(suspend).await.unwrap();
    let plan = pb::PlanUserDeletionRequest { user: selector(&fay.id), new_owner: selector(&heir.id) };
    let plan = admin.users().plan_user_deletion(plan).await.unwrap().into_inner().plan.unwrap();
    let sql_line = plan.lines.iter().find(|l| l.holding == pb::Holding::SqlCredential as i32).unwrap();
    assert_eq!(sql_line.disposition, pb::Disposition::Delete as i32);
    let delete = pb::DeleteUserRequest { user: selector(&fay.id), new_owner: selector(&heir.id), plan_etag: plan.etag };
    admin.users().delete_user(delete).await.unwrap();
    assert!(!role_exists(&cluster, "fay").await, "the login is gone from the engine");
    assert_status(admin.sql().get_sql_credential(get(&fay.id)).await, Code::NotFound, "NOT_FOUND");
}

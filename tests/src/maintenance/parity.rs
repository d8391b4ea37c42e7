//! One user's report and repair with a real query engine: grants broken on
//! the engine by hand and access changed in Steward are found exactly, the
//! repair GRANTs/REVOKEs until they match (a dry run changes nothing, a second
//! run nothing either), a login dropped by hand comes back with the stored
//! verifier, and an unreachable engine is NOT_REPAIRED, never skipped.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use steward_grpc::pb;
use steward_grpc::pb::RepairOutcome::{NotRepaired, Repaired, WouldRepair};
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use super::{audit_count, outcomes, repair, report};
use crate::harness::pgcluster::PrivateCluster;
use crate::harness::{Backend, TestServer, assert_status, mask, onboard};
use crate::on_both_backends;
use crate::resources::new_resource;

/// The per-resource roles `login` is a member of on the engine, sorted.
async fn roles_of(cluster: &PrivateCluster, login: &str) -> Vec<String> {
    let db = cluster.login("postgres", &cluster.superuser_password).await.expect("superuser login");
    let s = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT r.rolname::text AS name FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
         JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND r.rolname LIKE 'stw\\_%' ORDER BY 1",
        vec![login.into()],
    );
    let rows = db.query_all_raw(s).await.unwrap();
    let _ = db.close().await;
    rows.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect()
}

async fn by_hand(cluster: &PrivateCluster, sql: &str) {
    let db = cluster.login("postgres", &cluster.superuser_password).await.expect("superuser login");
    db.execute_unprepared(sql).await.unwrap();
    let _ = db.close().await;
}

fn role(level: &str, resource_id: &str) -> String {
    format!("stw_{level}_{}", uuid::Uuid::parse_str(resource_id).unwrap().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_is_made_to_match_exactly_what_access_implies() {
    let Some(mut cluster) = PrivateCluster::start() else { return };
    let srv = TestServer::builder(Backend::Sqlite).arg("--query-engine-url").arg(cluster.superuser_url()).start().await;
    let admin = srv.admin().await;
    let carol = onboard(&srv, "carol").await;
    let dan = onboard(&srv, "dan").await;
    let dans_password = "dans own sql passphrase";
    for (p, pw) in [(&carol, "carols own sql passphrase"), (&dan, dans_password)] {
        let req = pb::CreateSqlCredentialRequest { sql_username: String::new(), password: pw.into() };
        srv.client(Some(&p.token)).await.sql().create_sql_credential(req).await.expect("sql credential");
    }
    let reg = |kind, owner: &str, name: &str| new_resource(kind, owner, name);
    let d = admin.resources().register_resource(reg(K::Dataset, &carol.id, "sales")).await.unwrap().into_inner();
    let d = d.resource.unwrap().resource_id;
    let mut e = reg(K::View, &dan.id, "churn");
    e.resource.as_mut().unwrap().reader_ids = vec![carol.id.clone()];
    let e = admin.resources().register_resource(e).await.unwrap().into_inner().resource.unwrap().resource_id;

    // Access granted in Steward is not on the engine yet: repair puts it there.
    let first = repair(&admin, &carol.id, false).await;
    assert!(outcomes(&first).iter().all(|(_, o)| *o == Repaired), "{first:?}");
    repair(&admin, &dan.id, false).await;
    assert_eq!(report(&admin, &carol.id).await, vec![]);
    assert_eq!(report(&admin, &dan.id).await, vec![]);
    assert_eq!(roles_of(&cluster, "carol").await, vec![role("owner", &d), role("read", &e)]);
    let events = audit_count(&admin, "maintenance.repair").await;

    // Broken from outside: carol loses her read access in Steward; someone
    // revokes her owner role on the engine by hand, and drops dan's login.
    let drop_reader = pb::UpdateResourceRequest {
        resource_id: e.clone(),
        resource: Some(pb::Resource { reader_ids: vec![], ..Default::default() }),
        update_mask: mask(&["reader_ids"]),
        etag: String::new(),
    };
    admin.resources().update_resource(drop_reader).await.expect("drop the reader");
    by_hand(&cluster, &format!("REVOKE \"{}\" FROM carol", role("owner", &d))).await;
    by_hand(&cluster, "DROP ROLE dan").await;

    let missing = |r: String| ("WAREHOUSE_GRANT_MISSING".to_string(), r);
    assert_eq!(
        report(&admin, &carol.id).await,
        vec![missing(role("owner", &d)), ("WAREHOUSE_GRANT_EXTRA".into(), role("read", &e))]
    );
    assert_eq!(
        report(&admin, &dan.id).await,
        vec![("SQL_LOGIN_MISSING".into(), "login/dan".into()), missing(role("owner", &e))]
    );

    // A dry run says what it would do and changes nothing.
    let dry = repair(&admin, &carol.id, true).await;
    assert_eq!(
        outcomes(&dry),
        vec![("WAREHOUSE_GRANT_MISSING".into(), WouldRepair), ("WAREHOUSE_GRANT_EXTRA".into(), WouldRepair)]
    );
    assert_eq!(roles_of(&cluster, "carol").await, vec![role("read", &e)]);
    assert_eq!(audit_count(&admin, "maintenance.repair").await, events);

    let fixed = repair(&admin, &carol.id, false).await;
    assert_eq!(
        outcomes(&fixed),
        vec![("WAREHOUSE_GRANT_MISSING".into(), Repaired), ("WAREHOUSE_GRANT_EXTRA".into(), Repaired)]
    );
    assert_eq!(roles_of(&cluster, "carol").await, vec![role("owner", &d)]);
    let fixed = repair(&admin, &dan.id, false).await;
    assert_eq!(
        outcomes(&fixed),
        vec![("SQL_LOGIN_MISSING".into(), Repaired), ("WAREHOUSE_GRANT_MISSING".into(), Repaired)]
    );
    assert!(cluster.login("dan", dans_password).await.is_ok(), "dan's login is back with his own password");
    assert_eq!(roles_of(&cluster, "dan").await, vec![role("owner", &e)]);
    assert_eq!(audit_count(&admin, "maintenance.repair").await, events + 4, "one audit event per action");

    // Idempotent: the second run finds nothing and changes nothing.
    assert_eq!(repair(&admin, &carol.id, false).await, vec![]);
    assert_eq!(repair(&admin, &dan.id, false).await, vec![]);
    assert_eq!(audit_count(&admin, "maintenance.repair").await, events + 4);

    // The engine down: parity is unknown, reported, and not repaired.
    cluster.stop();
    assert_eq!(report(&admin, &carol.id).await, vec![("WAREHOUSE_UNREACHABLE".into(), "login/carol".into())]);
    assert_eq!(outcomes(&repair(&admin, &carol.id, false).await), vec![("WAREHOUSE_UNREACHABLE".into(), NotRepaired)]);
    cluster.start_again().unwrap();
    assert_eq!(report(&admin, &carol.id).await, vec![]);
}

on_both_backends!(bad_input_and_the_wrong_caller_change_nothing, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let carol = onboard(&srv, "carol").await;
    let as_carol = srv.client(Some(&carol.token)).await;
    let m = admin.maintenance();
    let r = m.clone().repair_user(pb::RepairUserRequest { user_id: String::new(), dry_run: false }).await;
    assert_status(r, Code::InvalidArgument, "USER_REQUIRED");
    let r = m.clone().generate_user_report(pb::GenerateUserReportRequest { user_id: "nope".into() }).await;
    assert_status(r, Code::InvalidArgument, "INVALID_ID");
    let r = m
        .clone()
        .repair_user(pb::RepairUserRequest { user_id: uuid::Uuid::now_v7().to_string(), dry_run: false })
        .await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    let r =
        m.clone().get_maintenance_job(pb::GetMaintenanceJobRequest { job_id: uuid::Uuid::now_v7().to_string() }).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    let r =
        as_carol.maintenance().repair_user(pb::RepairUserRequest { user_id: carol.id.clone(), dry_run: false }).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let r = as_carol.maintenance().generate_global_report(pb::GenerateGlobalReportRequest {}).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    assert_eq!(audit_count(&admin, "maintenance.repair").await, 0);
    assert_eq!(audit_count(&admin, "maintenance.start_job").await, 0);
});

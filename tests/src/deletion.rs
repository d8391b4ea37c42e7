//! Suspend, reactivate, plan and delete with transfer — over gRPC, against
//! the real binary, with the emails it sends.

use std::time::{Duration, Instant};

use steward_grpc::pb;
use tonic::Code;

use crate::harness::smtp::SmtpListener;
use crate::harness::{Backend, Client, PASSWORD, TestServer, assert_status, onboard};
use crate::on_both_backends;
use crate::resources::{get, register, registrar};
use pb::ResourceKind as K;

fn by_id(id: &str) -> Option<pb::UserSelector> {
    Some(pb::UserSelector { selector: Some(pb::user_selector::Selector::UserId(id.into())) })
}

fn by_name(name: &str) -> Option<pb::UserSelector> {
    Some(pb::UserSelector { selector: Some(pb::user_selector::Selector::Username(name.into())) })
}

async fn suspend(admin: &Client, id: &str) -> pb::SuspendUserResponse {
    let req = pb::SuspendUserRequest { user: by_id(id), reason: "left the team".into(), end_time: None };
    admin.users().suspend_user(req).await.unwrap().into_inner()
}

async fn plan(admin: &Client, user: &str, owner: &str) -> pb::DeletionPlan {
    let req = pb::PlanUserDeletionRequest { user: by_id(user), new_owner: by_id(owner) };
    admin.users().plan_user_deletion(req).await.unwrap().into_inner().plan.unwrap()
}

fn delete(user: &str, owner: &str, etag: &str) -> pb::DeleteUserRequest {
    pb::DeleteUserRequest { user: by_id(user), new_owner: by_id(owner), plan_etag: etag.into() }
}

async fn login(srv: &TestServer, username: &str) -> Result<tonic::Response<pb::LoginResponse>, tonic::Status> {
    let req = pb::LoginRequest { username: username.into(), password: PASSWORD.into(), totp_code: String::new() };
    srv.client(None).await.auth().login(req).await
}

async fn actions(admin: &Client, target: &str) -> Vec<String> {
    let filter = pb::ListAuditEventsRequest { target: format!("user/{target}"), ..Default::default() };
    let events = admin.audit().list_audit_events(filter).await.unwrap().into_inner().audit_events;
    events.into_iter().map(|e| e.action).collect()
}

/// Newest first, only the `user.*` ones.
async fn user_actions(admin: &Client, target: &str) -> Vec<String> {
    actions(admin, target).await.into_iter().filter(|a| a.starts_with("user.")).collect()
}

on_both_backends!(suspension_locks_out_at_once_and_reactivation_lets_back_in, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let ann = onboard(&srv, "ann").await;
    let session = srv.client(Some(&ann.token)).await;
    let req = pb::CreateApiKeyRequest { name: "ci".into(), ..Default::default() };
    let key = session.api_keys().create_api_key(req).await.unwrap().into_inner().secret;
    let with_key = srv.client(Some(&key)).await;
    with_key.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap();

    // Bad input first: nothing changes.
    let no_reason = pb::SuspendUserRequest { user: by_id(&ann.id), reason: " ".into(), end_time: None };
    assert_status(admin.users().suspend_user(no_reason).await, Code::InvalidArgument, "INVALID_REASON");
    let past = pb::SuspendUserRequest {
        user: by_id(&ann.id),
        reason: "x".into(),
        end_time: Some(prost_types::Timestamp { seconds: 1_000, nanos: 0 }),
    };
    assert_status(admin.users().suspend_user(past).await, Code::InvalidArgument, "END_TIME_IN_PAST");
    let nobody = pb::SuspendUserRequest { user: by_name("nobody"), reason: "x".into(), end_time: None };
    assert_status(admin.users().suspend_user(nobody).await, Code::NotFound, "NOT_FOUND");
    let reactivate = pb::ReactivateUserRequest { user: by_id(&ann.id) };
    assert_status(
        admin.users().reactivate_user(reactivate.clone()).await,
        Code::FailedPrecondition,
        "USER_NOT_SUSPENDED",
    );
    // A user cannot suspend anyone.
    let by_ann = pb::SuspendUserRequest { user: by_name("admin"), reason: "x".into(), end_time: None };
    assert_status(session.users().suspend_user(by_ann).await, Code::PermissionDenied, "PERMISSION_DENIED");
    with_key.auth().who_am_i(pb::WhoAmIRequest {}).await.expect("still active");

    let s = suspend(&admin, &ann.id).await;
    assert_eq!(s.user.unwrap().status, pb::UserStatus::Suspended as i32);
    // The very next call with either credential is refused; so is a login.
    assert_status(with_key.auth().who_am_i(pb::WhoAmIRequest {}).await, Code::Unauthenticated, "UNAUTHENTICATED");
    assert_status(session.auth().who_am_i(pb::WhoAmIRequest {}).await, Code::Unauthenticated, "UNAUTHENTICATED");
    assert_status(login(&srv, "ann").await, Code::Unauthenticated, "UNAUTHENTICATED");
    let again = pb::SuspendUserRequest { user: by_id(&ann.id), reason: "x".into(), end_time: None };
    assert_status(admin.users().suspend_user(again).await, Code::FailedPrecondition, "USER_NOT_ACTIVE");
    let listed = pb::ListUsersRequest { status: pb::UserStatus::Suspended as i32, ..Default::default() };
    let listed = admin.users().list_users(listed).await.unwrap().into_inner().users;
    assert_eq!(listed.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), vec!["ann"]);
    srv.mailbox().wait_for(&ann.email, "was suspended").await;

    let back = admin.users().reactivate_user(reactivate).await.unwrap().into_inner().user.unwrap();
    assert_eq!(back.status, pb::UserStatus::Active as i32);
    login(&srv, "ann").await.expect("login works again");
    assert_status(with_key.auth().who_am_i(pb::WhoAmIRequest {}).await, Code::Unauthenticated, "UNAUTHENTICATED");
    srv.mailbox().wait_for(&ann.email, "active again").await;
    assert_eq!(user_actions(&admin, &ann.id).await[..2], ["user.reactivate".to_string(), "user.suspend".to_string()]);
});

on_both_backends!(nobody_suspends_themselves_or_the_last_admin, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let me = admin.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap();
    let own = pb::SuspendUserRequest { user: by_id(&me.user_id), reason: "x".into(), end_time: None };
    assert_status(admin.users().suspend_user(own).await, Code::FailedPrecondition, "CANNOT_SUSPEND_SELF");
    // Someone allowed to suspend, but not an admin, tries the only admin.
    let role = pb::Role {
        name: "hr".into(),
        description: "people".into(),
        permissions: vec!["users.suspend".into()],
        ..Default::default()
    };
    admin.roles().create_role(pb::CreateRoleRequest { role: Some(role) }).await.unwrap();
    let hr = onboard(&srv, "hana").await;
    let assign = pb::AssignRoleRequest { user_id: hr.id.clone(), role: "hr".into() };
    admin.roles().assign_role(assign).await.unwrap();
    let hana = srv.client(Some(&hr.token)).await;
    hana.auth().switch_role(pb::SwitchRoleRequest { role: "hr".into() }).await.unwrap();
    let req = pb::SuspendUserRequest { user: by_id(&me.user_id), reason: "coup".into(), end_time: None };
    assert_status(hana.users().suspend_user(req).await, Code::FailedPrecondition, "LAST_ADMIN");
    admin.auth().who_am_i(pb::WhoAmIRequest {}).await.expect("the admin is still in");
});

on_both_backends!(delete_hands_everything_to_the_new_owner, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let dataset = register(&svc, K::Dataset, &ann.id, "Sales").await;
    let schedule = register(&svc, K::Schedule, &ann.id, "Nightly").await;
    register(&svc, K::Dashboard, &ann.id, "KPIs").await;

    // Not suspended: refused, nothing changes.
    let p = plan(&admin, &ann.id, &bob.id).await;
    assert_status(
        admin.users().delete_user(delete(&ann.id, &bob.id, &p.etag)).await,
        Code::FailedPrecondition,
        "USER_NOT_SUSPENDED",
    );
    suspend(&admin, &ann.id).await;
    let p = plan(&admin, &ann.id, &bob.id).await;
    let line = |h: pb::Holding, k: K| p.lines.iter().find(|l| l.holding == h as i32 && l.resource_kind == k as i32);
    let d = line(pb::Holding::Resource, K::Dataset).unwrap();
    assert_eq!((d.count, d.disposition), (1, pb::Disposition::Transfer as i32));
    let s = line(pb::Holding::Resource, K::Schedule).unwrap();
    assert_eq!(s.disposition, pb::Disposition::DisableThenTransfer as i32);
    // Her personal group is deleted with her, not handed over.
    let personal = line(pb::Holding::PersonalGroup, K::Group).unwrap();
    assert_eq!((personal.count, personal.disposition), (1, pb::Disposition::Delete as i32));
    assert!(line(pb::Holding::Resource, K::Group).is_none());

    // Bad input and conflicts: precise errors, nothing changes.
    let none = pb::DeleteUserRequest { user: by_id(&ann.id), new_owner: None, plan_etag: p.etag.clone() };
    assert_status(admin.users().delete_user(none).await, Code::FailedPrecondition, "USER_OWNS_RESOURCES");
    assert_status(
        admin.users().delete_user(delete(&ann.id, &ann.id, &p.etag)).await,
        Code::InvalidArgument,
        "NEW_OWNER_IS_USER",
    );
    assert_status(
        admin.users().delete_user(delete(&ann.id, &bob.id, "")).await,
        Code::InvalidArgument,
        "PLAN_ETAG_REQUIRED",
    );
    let ghost = uuid::Uuid::now_v7().to_string();
    assert_status(admin.users().delete_user(delete(&ann.id, &ghost, &p.etag)).await, Code::NotFound, "NOT_FOUND");
    register(&svc, K::Notebook, &ann.id, "Late").await;
    assert_status(admin.users().delete_user(delete(&ann.id, &bob.id, &p.etag)).await, Code::Aborted, "PLAN_CHANGED");
    let bobs = srv.client(Some(&bob.token)).await;
    assert_status(bobs.resources().get_resource(get(&dataset.resource_id)).await, Code::NotFound, "NOT_FOUND");
    let p = plan(&admin, &ann.id, &bob.id).await;
    assert_status(
        bobs.users().delete_user(delete(&ann.id, &bob.id, &p.etag)).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    let done = admin.users().delete_user(delete(&ann.id, &bob.id, &p.etag)).await.unwrap().into_inner();
    assert_eq!(done.user.unwrap().status, pb::UserStatus::Deleted as i32);
    // Bob uses what he received at once; the schedule arrived disabled.
    let got = bobs.resources().get_resource(get(&dataset.resource_id)).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(got.owner_id, bob.id);
    let sched = bobs.resources().get_resource(get(&schedule.resource_id)).await.unwrap().into_inner().resource.unwrap();
    assert_eq!(sched.schedule_enabled, Some(false));
    // The tombstone: no login, not listed by default, name and email reserved.
    assert_status(login(&srv, "ann").await, Code::Unauthenticated, "UNAUTHENTICATED");
    let listed = admin.users().list_users(pb::ListUsersRequest::default()).await.unwrap().into_inner().users;
    assert!(listed.iter().all(|u| u.username != "ann"));
    let deleted = pb::ListUsersRequest { status: pb::UserStatus::Deleted as i32, ..Default::default() };
    assert_eq!(admin.users().list_users(deleted).await.unwrap().into_inner().users.len(), 1);
    let again = pb::CreateUserRequest {
        username: "ANN".into(),
        email: "someone@example.com".into(),
        full_name: "Another Ann".into(),
        request_id: String::new(),
    };
    assert_status(admin.users().create_user(again).await, Code::AlreadyExists, "USERNAME_TAKEN");
    assert_status(
        admin.users().delete_user(delete(&ann.id, &bob.id, &p.etag)).await,
        Code::FailedPrecondition,
        "USER_NOT_SUSPENDED",
    );
    // Three emails, and the audit event.
    srv.mailbox().wait_for(&ann.email, "was deleted").await;
    srv.mailbox().wait_for("admin@example.com", "You deleted the Steward account ann").await;
    let received = srv.mailbox().wait_for(&bob.email, "You received what ann owned").await;
    assert!(received.contains("dataset: 1") && received.contains("schedule (disabled): 1"), "{received}");
    assert_eq!(user_actions(&admin, &ann.id).await[0], "user.delete");
});

async fn wait_for(listener: &SmtpListener, to: &str, subject: &str, within: Duration) {
    let start = Instant::now();
    while !listener.messages().iter().any(|m| m.to.iter().any(|t| t.contains(to)) && m.data.contains(subject)) {
        assert!(start.elapsed() < within, "no email to {to} ({subject}) within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With SMTP down the delete still succeeds; the three emails arrive over a
/// real SMTP exchange once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_emails_arrive_over_smtp_once_it_is_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let srv =
        TestServer::builder(Backend::Sqlite).arg("--smtp-url").arg(format!("smtp://127.0.0.1:{port}")).start().await;
    let admin = srv.admin().await;
    let create = |name: &str| pb::CreateUserRequest {
        username: name.into(),
        email: format!("{name}@example.com"),
        full_name: format!("{name} Mailer"),
        request_id: String::new(),
    };
    let ann = admin.users().create_user(create("ann")).await.unwrap().into_inner().user.unwrap();
    let bob = admin.users().create_user(create("bob")).await.unwrap().into_inner().user.unwrap();
    let svc = registrar(&srv).await;
    register(&svc, K::Workflow, &ann.user_id, "ETL").await;
    suspend(&admin, &ann.user_id).await;
    let p = plan(&admin, &ann.user_id, &bob.user_id).await;
    let started = Instant::now();
    admin.users().delete_user(delete(&ann.user_id, &bob.user_id, &p.etag)).await.expect("SMTP down does not fail it");
    assert!(started.elapsed() < Duration::from_secs(5));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let smtp = SmtpListener::start_on(&format!("127.0.0.1:{port}")).await;
    let within = Duration::from_secs(60);
    wait_for(&smtp, "ann@example.com", "Your Steward account was deleted", within).await;
    wait_for(&smtp, "admin@example.com", "You deleted the Steward account ann", within).await;
    wait_for(&smtp, "bob@example.com", "You received what ann owned", within).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_with_an_end_time_ends_by_itself() {
    let srv = TestServer::builder(Backend::Sqlite).arg("--suspension-sweep-ms").arg("200").start().await;
    let admin = srv.admin().await;
    let ann = onboard(&srv, "ann").await;
    let end = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 1;
    let req = pb::SuspendUserRequest {
        user: by_id(&ann.id),
        reason: "a day off".into(),
        end_time: Some(prost_types::Timestamp { seconds: end, nanos: 0 }),
    };
    admin.users().suspend_user(req).await.unwrap();
    assert_status(login(&srv, "ann").await, Code::Unauthenticated, "UNAUTHENTICATED");
    let start = Instant::now();
    while login(&srv, "ann").await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(15), "the suspension did not end");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let actions = actions(&admin, &ann.id).await;
    assert!(actions.contains(&"user.reactivate".to_string()), "{actions:?}");
}

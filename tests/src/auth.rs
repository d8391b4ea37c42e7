//! Login, the first-login password change, sessions, lockout.

use steward_grpc::pb;
use tonic::Code;

use crate::harness::raw::{all_rpcs, call_empty};
use crate::harness::{PASSWORD, TestServer, assert_status, onboard};
use crate::on_both_backends;

fn login(username: &str, password: &str) -> pb::LoginRequest {
    pb::LoginRequest { username: username.into(), password: password.into(), totp_code: String::new() }
}

async fn create(srv: &TestServer, username: &str) -> String {
    let email = format!("{username}@example.com");
    srv.admin()
        .await
        .users()
        .create_user(pb::CreateUserRequest {
            username: username.into(),
            email: email.clone(),
            full_name: "First Login".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    srv.mailbox().temporary_password(&email).await
}

on_both_backends!(first_login_allows_only_the_password_change, |backend| async move {
    let srv = TestServer::start(backend).await;
    let temp = create(&srv, "newbie").await;
    assert!(temp.len() >= 20, "temporary password is long: {}", temp.len());
    let anon = srv.client(None).await;
    let s = anon.auth().login(login("newbie", &temp)).await.unwrap().into_inner();
    assert!(s.password_change_required);
    assert!(s.session_token.starts_with("stw_sess_"));
    let second = anon.auth().login(login("NEWBIE", &temp)).await.unwrap().into_inner();

    // Every RPC but ChangePassword, Logout and Login refuses this session.
    for rpc in all_rpcs() {
        if rpc.ends_with("/ChangePassword") || rpc.ends_with("/Logout") || rpc.ends_with("/Login") {
            continue;
        }
        let r = call_empty(&anon.channel, &rpc, Some(&s.session_token)).await;
        assert_status(r, Code::FailedPrecondition, "PASSWORD_CHANGE_REQUIRED");
    }

    let me = anon.with_token(&s.session_token);
    for (new, reason) in [
        ("short", "PASSWORD_TOO_SHORT"),
        ("password1234", "PASSWORD_TOO_COMMON"),
        (temp.as_str(), "PASSWORD_UNCHANGED"),
    ] {
        let r = me
            .auth()
            .change_password(pb::ChangePasswordRequest { current_password: temp.clone(), new_password: new.into() })
            .await;
        assert_status(r, Code::InvalidArgument, reason);
    }
    let r = me
        .auth()
        .change_password(pb::ChangePasswordRequest {
            current_password: "wrong guess here".into(),
            new_password: PASSWORD.into(),
        })
        .await;
    assert_status(r, Code::InvalidArgument, "WRONG_PASSWORD");
    me.auth()
        .change_password(pb::ChangePasswordRequest { current_password: temp.clone(), new_password: PASSWORD.into() })
        .await
        .unwrap();

    // This session is now a full one; the other session and the temporary password are dead.
    let who = me.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert!(!who.password_change_required);
    assert_eq!(who.credential_kind, pb::CredentialKind::Session as i32);
    let r = anon.with_token(&second.session_token).auth().who_am_i(pb::WhoAmIRequest {}).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    let r = anon.auth().login(login("newbie", &temp)).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    let fresh = anon.auth().login(login("newbie", PASSWORD)).await.unwrap().into_inner();
    assert!(!fresh.password_change_required);
    srv.mailbox().wait_for("newbie@example.com", "password of newbie was just changed").await;
});

on_both_backends!(every_login_failure_looks_the_same, |backend| async move {
    let srv = TestServer::builder(backend).arg("--temporary-password-ttl-hours").arg("0").start().await;
    let expired = create(&srv, "late").await;
    let anon = srv.client(None).await;
    let cases = [
        login("nobody", "whatever password"),
        login("admin", "not the password!"),
        login("late", &expired),
        login("x", ""),
        login("", "a long enough passphrase"),
    ];
    let mut messages = Vec::new();
    for case in cases {
        let s = assert_status(anon.auth().login(case).await, Code::Unauthenticated, "UNAUTHENTICATED");
        messages.push(s.message().to_string());
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "one message for every failure: {messages:?}");
});

on_both_backends!(lockout_after_ten_failures, |backend| async move {
    let srv = TestServer::start(backend).await;
    let p = onboard(&srv, "target").await;
    let anon = srv.client(None).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let c = anon.clone();
        tasks.push(tokio::spawn(async move { c.auth().login(login("target", "definitely wrong!")).await }));
    }
    for t in tasks {
        assert_status(t.await.unwrap(), Code::Unauthenticated, "UNAUTHENTICATED");
    }
    // Locked now: even the right password is refused, with the same answer.
    let r = anon.auth().login(login(&p.username, PASSWORD)).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    // Sessions opened before the lock keep working.
    let me = anon.with_token(&p.token);
    me.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    let audit = srv
        .admin()
        .await
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest {
            action: "auth.lockout".into(),
            target: format!("user/{}", p.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!audit.audit_events.is_empty(), "the lockout is audited");
});

on_both_backends!(logout_ends_the_session_at_once, |backend| async move {
    let srv = TestServer::start(backend).await;
    let p = onboard(&srv, "leaver").await;
    let me = srv.client(Some(&p.token)).await;
    me.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    me.auth().logout(pb::LogoutRequest {}).await.unwrap();
    let r = me.auth().who_am_i(pb::WhoAmIRequest {}).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    let r = srv.admin().await.auth().logout(pb::LogoutRequest {}).await;
    assert_status(r, Code::FailedPrecondition, "SESSION_REQUIRED");
});

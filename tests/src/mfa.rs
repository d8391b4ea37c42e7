//! MFA with TOTP: enrolment, confirmation, the second factor at login (single
//! use, counted towards the lockout), and turning it off.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use steward_domain::mfa::totp;
use steward_grpc::pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::harness::{Client, PASSWORD, Person, TestServer, assert_status, onboard};
use crate::on_both_backends;

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// A TOTP secret as the user's authenticator holds it, and the last step it
/// showed a code for.
struct Authenticator {
    secret: Vec<u8>,
    last: u64,
}

impl Authenticator {
    fn new(base32: &str) -> Self {
        Self { secret: totp::base32_decode(base32).expect("base32 secret"), last: 0 }
    }

    /// A code the server accepts and has not seen: for the current step or
    /// the next (both inside the server's window even if a step boundary
    /// passes on the way), later than any code shown before. Waits for the
    /// clock when both are used up.
    async fn fresh_code(&mut self) -> String {
        loop {
            let now = totp::step_at(unix_now());
            let step = now.max(self.last + 1);
            if step <= now + 1 {
                self.last = step;
                return totp::code(&self.secret, step, totp::DIGITS);
            }
            let next = (now + 1) * totp::PERIOD;
            let wait = (next as i64 - unix_now()).max(0) as u64;
            tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
        }
    }

    /// A six-digit code that is none of the accepted ones.
    fn wrong_code(&self) -> String {
        let now = totp::step_at(unix_now());
        let accepted: Vec<String> =
            (now.saturating_sub(2)..=now + 2).map(|s| totp::code(&self.secret, s, totp::DIGITS)).collect();
        (0..).map(|n| format!("{:06}", n * 7919 % 1_000_000)).find(|c| !accepted.contains(c)).unwrap()
    }
}

fn login(username: &str, password: &str, code: &str) -> pb::LoginRequest {
    pb::LoginRequest { username: username.into(), password: password.into(), totp_code: code.into() }
}

async fn mfa_status(c: &Client, user_id: &str) -> i32 {
    c.users()
        .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::UserId(user_id.into())) })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
        .mfa_status
}

/// Enrols and confirms MFA for `p`; returns their client and authenticator.
async fn enable(srv: &TestServer, p: &Person) -> (Client, Authenticator) {
    let me = srv.client(Some(&p.token)).await;
    let e = me.auth().enroll_mfa(pb::EnrollMfaRequest {}).await.unwrap().into_inner();
    let mut app = Authenticator::new(&e.secret);
    let code = app.fresh_code().await;
    me.auth().confirm_mfa(pb::ConfirmMfaRequest { code }).await.unwrap();
    (me, app)
}

on_both_backends!(enrol_confirm_and_log_in_with_a_code, |backend| async move {
    let srv = TestServer::start(backend).await;
    let p = onboard(&srv, "Mfauser").await;
    let me = srv.client(Some(&p.token)).await;
    assert_eq!(mfa_status(&me, &p.id).await, pb::MfaStatus::Disabled as i32);

    // Confirming before enrolling.
    let r = me.auth().confirm_mfa(pb::ConfirmMfaRequest { code: "123456".into() }).await;
    assert_status(r, Code::FailedPrecondition, "MFA_NOT_ENROLLED");

    let e = me.auth().enroll_mfa(pb::EnrollMfaRequest {}).await.unwrap().into_inner();
    assert_eq!(e.secret.len(), 32, "160 bits, base32: {}", e.secret.len());
    assert_eq!(e.secret, e.secret.to_ascii_uppercase());
    assert_eq!(
        e.otpauth_uri,
        format!("otpauth://totp/Steward:Mfauser?secret={}&issuer=Steward&algorithm=SHA1&digits=6&period=30", e.secret)
    );
    let mut app = Authenticator::new(&e.secret);

    // Pending: login still needs no code, and the status is still off.
    srv.client(None).await.auth().login(login("mfauser", PASSWORD, "")).await.unwrap();
    assert_eq!(mfa_status(&me, &p.id).await, pb::MfaStatus::Disabled as i32);

    for code in [app.wrong_code(), String::new(), "abcdef".into(), "1234567".into()] {
        let r = me.auth().confirm_mfa(pb::ConfirmMfaRequest { code }).await;
        let s = assert_status(r, Code::InvalidArgument, "INVALID_MFA_CODE");
        let bad = s.get_error_details().bad_request().cloned().expect("BadRequest details");
        assert_eq!(bad.field_violations[0].field, "code");
    }
    let code = app.fresh_code().await;
    me.auth().confirm_mfa(pb::ConfirmMfaRequest { code: code.clone() }).await.unwrap();
    assert_eq!(mfa_status(&me, &p.id).await, pb::MfaStatus::Enabled as i32);
    let r = me.auth().confirm_mfa(pb::ConfirmMfaRequest { code }).await;
    assert_status(r, Code::FailedPrecondition, "MFA_ALREADY_ENABLED");
    let r = me.auth().enroll_mfa(pb::EnrollMfaRequest {}).await;
    assert_status(r, Code::FailedPrecondition, "MFA_ALREADY_ENABLED");

    // From now on the password alone is not enough; every failure looks alike.
    let anon = srv.client(None).await;
    let wrong_password = assert_status(
        anon.auth().login(login("mfauser", "not the password!", "")).await,
        Code::Unauthenticated,
        "UNAUTHENTICATED",
    );
    for code in [String::new(), app.wrong_code()] {
        let s = assert_status(
            anon.auth().login(login("mfauser", PASSWORD, &code)).await,
            Code::Unauthenticated,
            "UNAUTHENTICATED",
        );
        assert_eq!(s.message(), wrong_password.message());
    }
    // A right code with a wrong password is no use either.
    let code = app.fresh_code().await;
    let r = anon.auth().login(login("mfauser", "not the password!", &code)).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");

    let s = anon.auth().login(login("mfauser", PASSWORD, &code)).await.unwrap().into_inner();
    let user = s.user.unwrap();
    assert_eq!(user.mfa_status, pb::MfaStatus::Enabled as i32);
    anon.with_token(&s.session_token).auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap();
    // A code is good for one login only.
    let r = anon.auth().login(login("mfauser", PASSWORD, &code)).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");

    let admin = srv.admin().await;
    let events = admin
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest { target: format!("user/{}", p.id), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .audit_events;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"mfa.enroll") && actions.contains(&"mfa.enable"), "{actions:?}");
});

on_both_backends!(wrong_codes_count_towards_the_lockout, |backend| async move {
    let srv = TestServer::start(backend).await;
    let p = onboard(&srv, "lockme").await;
    let (_, mut app) = enable(&srv, &p).await;
    let anon = srv.client(None).await;
    for _ in 0..10 {
        let r = anon.auth().login(login("lockme", PASSWORD, &app.wrong_code())).await;
        assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    }
    // Locked: the right password with the right code is refused too.
    let code = app.fresh_code().await;
    let r = anon.auth().login(login("lockme", PASSWORD, &code)).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
});

on_both_backends!(disable_with_a_code_or_as_an_admin, |backend| async move {
    let srv = TestServer::start(backend).await;
    let anon = srv.client(None).await;

    // Oneself: a current code is required.
    let p = onboard(&srv, "selfoff").await;
    let (me, mut app) = enable(&srv, &p).await;
    for (user_id, code) in [(String::new(), String::new()), (p.id.clone(), app.wrong_code())] {
        let r = me.auth().disable_mfa(pb::DisableMfaRequest { user_id, code }).await;
        assert_status(r, Code::InvalidArgument, "INVALID_MFA_CODE");
    }
    let code = app.fresh_code().await;
    me.auth().disable_mfa(pb::DisableMfaRequest { user_id: String::new(), code }).await.unwrap();
    assert_eq!(mfa_status(&me, &p.id).await, pb::MfaStatus::Disabled as i32);
    anon.auth().login(login("selfoff", PASSWORD, "")).await.unwrap();
    let r = me.auth().disable_mfa(pb::DisableMfaRequest { user_id: String::new(), code: "000000".into() }).await;
    assert_status(r, Code::FailedPrecondition, "MFA_NOT_ENABLED");

    // Someone else's: not without users.update; an admin needs no code.
    let q = onboard(&srv, "lostphone").await;
    enable(&srv, &q).await;
    let r = me.auth().disable_mfa(pb::DisableMfaRequest { user_id: q.id.clone(), code: String::new() }).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let r = anon.auth().login(login("lostphone", PASSWORD, "")).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");

    let admin = srv.admin().await;
    let r = admin
        .auth()
        .disable_mfa(pb::DisableMfaRequest { user_id: uuid::Uuid::now_v7().to_string(), code: String::new() })
        .await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    let r = admin.auth().disable_mfa(pb::DisableMfaRequest { user_id: "not-an-id".into(), code: String::new() }).await;
    assert_status(r, Code::InvalidArgument, "INVALID_ID");
    admin.auth().disable_mfa(pb::DisableMfaRequest { user_id: q.id.clone(), code: String::new() }).await.unwrap();
    assert_eq!(mfa_status(&admin, &q.id).await, pb::MfaStatus::Disabled as i32);
    anon.auth().login(login("lostphone", PASSWORD, "")).await.unwrap();
    let r = admin.auth().disable_mfa(pb::DisableMfaRequest { user_id: q.id.clone(), code: String::new() }).await;
    assert_status(r, Code::FailedPrecondition, "MFA_NOT_ENABLED");

    let events = admin
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest { action: "mfa.disable".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .audit_events;
    assert_eq!(events.len(), 2, "{events:?}");
});

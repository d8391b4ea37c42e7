//! Email over a real SMTP exchange, and nothing lost while SMTP is down.

use std::time::{Duration, Instant};

use steward_grpc::pb;

use crate::harness::smtp::SmtpListener;
use crate::harness::{Backend, TestServer};

fn create(username: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        username: username.into(),
        email: format!("{username}@example.com"),
        full_name: format!("{username} Mailer"),
        request_id: String::new(),
    }
}

async fn wait_for(listener: &SmtpListener, to: &str, within: Duration) -> crate::harness::smtp::Received {
    let start = Instant::now();
    loop {
        if let Some(m) = listener.messages().into_iter().find(|m| m.to.iter().any(|t| t.contains(to))) {
            return m;
        }
        assert!(start.elapsed() < within, "no email to {to} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_email_arrives_over_smtp() {
    let smtp = SmtpListener::start().await;
    let srv = TestServer::builder(Backend::Sqlite).arg("--smtp-url").arg(format!("smtp://{}", smtp.addr)).start().await;
    let user = srv.admin().await.users().create_user(create("smtpuser")).await.unwrap().into_inner().user.unwrap();
    let m = wait_for(&smtp, "smtpuser@example.com", Duration::from_secs(10)).await;
    assert!(m.from.contains("steward@localhost"), "{}", m.from);
    assert!(m.data.contains("Subject: Your Steward account"), "{}", m.data);
    assert!(m.data.contains("Username: smtpuser"));
    let password = crate::harness::mailbox_password(&m.data);
    let login = srv
        .client(None)
        .await
        .auth()
        .login(pb::LoginRequest { username: "smtpuser".into(), password, totp_code: String::new() })
        .await
        .expect("the emailed temporary password works");
    assert_eq!(login.into_inner().user.unwrap().user_id, user.user_id);
    assert!(m.data.contains("Message-ID: <") && m.data.contains("@steward>"), "stable Message-ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_never_fails_the_call_and_nothing_is_lost() {
    // Reserve a port, then leave it closed: SMTP is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let srv =
        TestServer::builder(Backend::Sqlite).arg("--smtp-url").arg(format!("smtp://127.0.0.1:{port}")).start().await;
    let admin = srv.admin().await;
    let started = Instant::now();
    admin.users().create_user(create("patient")).await.expect("create succeeds with SMTP down");
    assert!(started.elapsed() < Duration::from_secs(5), "SMTP down does not slow the call");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // SMTP comes back: the queued email is delivered on a later attempt.
    let smtp = SmtpListener::start_on(&format!("127.0.0.1:{port}")).await;
    let m = wait_for(&smtp, "patient@example.com", Duration::from_secs(30)).await;
    assert!(m.data.contains("Username: patient"));
}

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use steward_domain::id::UserId;
use steward_domain::notify::{Message, PendingEmail};
use steward_domain::role::RoleName;
use steward_domain::user::{Email, FullName, PlatformAccounts, Profile, User, UserKind, UserStatus, Username};
use steward_mail::{MailConfig, MailError, SendError, SmtpTransport, Transport, transport_from_config};

use crate::fakes::{T0, keyring, welcome};
use crate::smtp_server::{Behaviour, SmtpServer, free_port};
use crate::{FROM, from, header, parse};

#[tokio::test]
async fn delivers_over_a_real_smtp_exchange() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let transport = SmtpTransport::new(&server.url(), from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "Tmp-Pa55word-xyz").render(&keyring).unwrap();

    transport.send(&email).await.unwrap();

    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "steward@localhost");
    assert_eq!(got[0].rcpt_to, ["ada@example.com"]);
    let mail = parse(got[0].data.as_bytes());
    assert_eq!(header(&mail, "Subject"), "Your Steward account");
    assert_eq!(header(&mail, "Message-ID"), format!("<{}@steward>", email.id));
    assert_eq!(header(&mail, "From"), FROM);
    assert!(header(&mail, "To").contains("Ada Lovelace") && header(&mail, "To").contains("<ada@example.com>"));
    assert!(mailparse::dateparse(&header(&mail, "Date")).is_ok());
    assert_eq!(mail.ctype.mimetype, "text/plain");
    assert_eq!(mail.ctype.charset, "utf-8");
    let body = mail.get_body().unwrap();
    assert!(body.contains("Temporary password: Tmp-Pa55word-xyz\r\n"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn a_welcome_composed_by_the_domain_arrives_with_its_password() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let transport = transport_from_config(&MailConfig::Smtp { url: server.url() }, FROM).unwrap();
    let keyring = keyring();
    let user = User {
        id: UserId::new(),
        kind: UserKind::Human,
        username: Username::parse("zoe42").unwrap(),
        email: Email::parse("zoe@example.com").unwrap(),
        full_name: FullName::parse("Zoë Ångström").unwrap(),
        profile: Profile::default(),
        platform: PlatformAccounts::default(),
        email_notifications: true,
        status: UserStatus::Active,
        default_role: RoleName::default_role(),
        mfa_enabled: false,
        created_at: T0,
        updated_at: T0,
        version: 1,
    };
    let password = SecretString::from("correct-horse-battery-staple-42");
    let queued =
        Message::Welcome { user: &user, temporary_password: &password, expires_at: T0 }.compose(&keyring, T0).unwrap();
    assert!(!queued.body.contains(password.expose_secret()));
    let pending = PendingEmail {
        id: queued.id,
        to_address: queued.to_address,
        to_name: queued.to_name,
        subject: queued.subject,
        body: queued.body,
        sealed_secret: queued.sealed_secret,
        attachment: queued.attachment,
        attempts: 0,
    };

    transport.send(&pending.render(&keyring).unwrap()).await.unwrap();

    let got = server.received();
    assert_eq!(got[0].rcpt_to, ["zoe@example.com"]);
    let mail = parse(got[0].data.as_bytes());
    assert!(header(&mail, "To").contains("Zoë Ångström"), "{}", header(&mail, "To"));
    assert_eq!(header(&mail, "Message-ID"), format!("<{}@steward>", pending.id));
    let body = mail.get_body().unwrap();
    assert!(body.contains("Temporary password: correct-horse-battery-staple-42"), "{body}");
    assert!(body.contains("Username: zoe42"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn a_5xx_answer_is_permanent() {
    let server = SmtpServer::start(Behaviour::RejectRcpt("550 5.1.1 no such user here")).await;
    let transport = SmtpTransport::new(&server.url(), from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "nobody@example.com", "x-secret-x").render(&keyring).unwrap();

    let err = transport.send(&email).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent(m) if m.contains("no such user")), "{err:?}");
    assert!(!err.to_string().contains("x-secret-x"));
    assert!(server.received().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_4xx_answer_is_temporary() {
    let server = SmtpServer::start(Behaviour::RejectRcpt("451 4.3.0 try again later")).await;
    let transport = SmtpTransport::new(&server.url(), from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap();

    let err = transport.send(&email).await.unwrap_err();
    assert!(matches!(&err, SendError::Temporary(m) if m.contains("try again later")), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn nothing_listening_is_temporary() {
    let addr = free_port().await;
    let transport = SmtpTransport::new(&format!("smtp://{addr}"), from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap();

    assert!(matches!(transport.send(&email).await, Err(SendError::Temporary(_))));
}

#[tokio::test]
async fn a_silent_server_times_out_as_temporary() {
    let server = SmtpServer::start(Behaviour::Silent).await;
    let transport = SmtpTransport::new(&server.url(), from()).unwrap().with_timeout(Duration::from_millis(300));
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap();

    let started = Instant::now();
    let result = transport.send(&email).await;
    assert!(matches!(result, Err(SendError::Temporary(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test]
async fn an_unparseable_recipient_is_permanent_and_nothing_is_sent() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let transport = SmtpTransport::new(&server.url(), from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "not-an-address", "s").render(&keyring).unwrap();

    assert!(matches!(transport.send(&email).await, Err(SendError::Permanent(_))));
    assert!(server.received().is_empty());
    server.stop().await;
}

#[test]
fn bad_configuration_is_refused_at_startup() {
    let smtp = |url: &str| MailConfig::Smtp { url: url.into() };
    assert!(matches!(transport_from_config(&smtp("http://localhost"), FROM), Err(MailError::Config(_))));
    assert!(matches!(transport_from_config(&smtp("smtp://localhost:25"), "no address"), Err(MailError::Config(_))));
    // A good one builds outside any runtime (the server may build it before starting one).
    assert!(transport_from_config(&smtp("smtp://localhost:25?tls=starttls"), FROM).is_ok());
}

#[tokio::test]
async fn reuses_a_clean_connection_and_replaces_a_dead_one() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let addr = server.addr;
    let transport = SmtpTransport::new(&server.url(), from()).unwrap();
    let keyring = keyring();
    let send = |to: &'static str| {
        let email = welcome(&keyring, to, "s").render(&keyring).unwrap();
        let transport = &transport;
        async move { transport.send(&email).await }
    };

    send("a@example.com").await.unwrap();
    send("b@example.com").await.unwrap();
    assert_eq!((server.received().len(), server.connections()), (2, 1), "one connection for both");

    // The server restarts: the parked connection is dead, a fresh one is made.
    server.stop().await;
    let server = SmtpServer::start_on(addr, Behaviour::Accept).await;
    send("c@example.com").await.unwrap();
    assert_eq!(server.received()[0].rcpt_to, ["c@example.com"]);

    // After a refusal the connection is not reused (it may be mid-transaction).
    server.stop().await;
    let refusing = SmtpServer::start_on(addr, Behaviour::RejectRcpt("550 no")).await;
    assert!(matches!(send("d@example.com").await, Err(SendError::Permanent(_))));
    refusing.stop().await;
    let server = SmtpServer::start_on(addr, Behaviour::Accept).await;
    send("e@example.com").await.unwrap();
    assert_eq!(server.connections(), 1);
    server.stop().await;
}

#[tokio::test]
async fn authenticates_with_the_credentials_of_the_url() {
    let server = SmtpServer::start(Behaviour::Auth).await;
    let url = format!("smtp://relay%40example.com:p%40ss-w0rd@{}", server.addr);
    let transport = SmtpTransport::new(&url, from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap();

    transport.send(&email).await.unwrap();
    assert_eq!(server.received()[0].auth.as_deref(), Some("\0relay@example.com\0p@ss-w0rd"));
    server.stop().await;
}

#[tokio::test]
async fn refused_credentials_are_temporary_so_nothing_is_lost_while_an_operator_fixes_them() {
    let server = SmtpServer::start(Behaviour::RejectAuth).await;
    let transport = SmtpTransport::new(&format!("smtp://u:wrong@{}", server.addr), from()).unwrap();
    let keyring = keyring();
    let email = welcome(&keyring, "ada@example.com", "s").render(&keyring).unwrap();

    let err = transport.send(&email).await.unwrap_err();
    assert!(matches!(&err, SendError::Temporary(m) if m.contains("authentication failed")), "{err:?}");
    server.stop().await;
}

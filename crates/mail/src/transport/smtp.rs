//! Sends through an SMTP server with lettre's SMTP client.
//!
//! lettre's async transport applies its timeout to the TCP connect only, and a
//! send cancelled half-way would go back into its pool in the middle of a
//! transaction. So this transport drives lettre's `AsyncSmtpConnection` itself:
//! the whole exchange runs under one deadline, a connection is reused only
//! after a clean send, and one that failed or timed out is dropped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use percent_encoding::percent_decode_str;
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::notify::RenderedEmail;
use url::{Host, Url};

use super::{Transport, message};
use crate::error::{MailError, SendError};

/// How long connecting may take; the whole exchange may take twice that.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A connection idle longer than this is not reused (servers drop idle clients).
const MAX_IDLE: Duration = Duration::from_secs(30);

/// An SMTP server.
///
/// URL forms: `smtp://host:port` (plain, for local catchers),
/// `smtp://host:port?tls=starttls` (STARTTLS required), `smtps://host:port`
/// (implicit TLS); `user:password@` (percent-encoded) turns on AUTH.
pub struct SmtpTransport {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    connect_timeout: Duration,
    deadline: Duration,
    /// The connection of the last clean send, for the next one.
    idle: Mutex<Option<(AsyncSmtpConnection, Instant)>>,
    from: Mailbox,
    clock: Arc<dyn Clock>,
}

enum Security {
    Plain,
    StartTls(TlsParameters),
    Implicit(TlsParameters),
}

/// Where an exchange failed: setting up the connection is about our
/// configuration and the server's health, never about this one email.
enum Failure {
    Connect(SmtpError),
    Send(SmtpError),
}

impl SmtpTransport {
    /// Returns `MailError::Config` when the URL is not one of the forms above.
    pub fn new(url: &str, from: Mailbox) -> Result<Self, MailError> {
        let url = SmtpUrl::parse(url)?;
        let tls_params =
            || TlsParameters::new(url.host.clone()).map_err(|e| MailError::Config(format!("smtp TLS setup: {e}")));
        let security = match url.tls {
            TlsMode::None => Security::Plain,
            TlsMode::StartTls => Security::StartTls(tls_params()?),
            TlsMode::Implicit => Security::Implicit(tls_params()?),
        };
        if url.credentials.is_some() && url.tls == TlsMode::None {
            tracing::warn!(host = %url.host, "SMTP credentials will travel without TLS");
        }
        Ok(Self {
            host: url.host,
            port: url.port,
            security,
            credentials: url.credentials.map(|(user, password)| Credentials::new(user, password)),
            hello: ClientId::default(),
            connect_timeout: TIMEOUT,
            deadline: 2 * TIMEOUT,
            idle: Mutex::new(None),
            from,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the connect timeout (10 s by default); the whole exchange gets twice that.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.deadline = 2 * timeout;
        self
    }

    /// Takes the Date header from `clock` instead of the wall clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn exchange(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), Failure> {
        let mut conn = match self.reusable().await {
            Some(conn) => conn,
            None => self.connect().await.map_err(Failure::Connect)?,
        };
        // On error the connection is dropped (closed): it may be mid-transaction.
        conn.send(envelope, bytes).await.map_err(Failure::Send)?;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.is_none() {
            *idle = Some((conn, Instant::now()));
        }
        Ok(())
    }

    /// The parked connection, if it is fresh and still answers.
    async fn reusable(&self) -> Option<AsyncSmtpConnection> {
        let (mut conn, since) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        (since.elapsed() < MAX_IDLE && conn.test_connected().await).then_some(conn)
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        let wrapper = match &self.security {
            Security::Implicit(params) => Some(params.clone()),
            _ => None,
        };
        let server = (self.host.as_str(), self.port);
        let mut conn =
            AsyncSmtpConnection::connect_tokio1(server, Some(self.connect_timeout), &self.hello, wrapper, None).await?;
        if let Security::StartTls(params) = &self.security {
            conn.starttls(params.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, email: &RenderedEmail) -> Result<(), SendError> {
        let message = message::build(&self.from, email, self.clock.now())?;
        let (envelope, bytes) = (message.envelope().clone(), message.formatted());
        drop(message);
        match tokio::time::timeout(self.deadline, self.exchange(&envelope, &bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(classify(failure)),
            Err(_) => Err(SendError::Temporary(format!("no complete SMTP exchange within {:?}", self.deadline))),
        }
    }
}

/// A 5xx answer to this email's MAIL, RCPT or DATA → permanent; anything else
/// (4xx, refused, timed out, TLS, or a failure while connecting, greeting or
/// authenticating, which an operator can fix) → temporary.
fn classify(failure: Failure) -> SendError {
    match failure {
        Failure::Send(e) if e.is_permanent() => SendError::Permanent(e.to_string()),
        Failure::Send(e) => SendError::Temporary(e.to_string()),
        Failure::Connect(e) => SendError::Temporary(format!("connecting: {e}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    None,
    StartTls,
    Implicit,
}

#[derive(Debug, PartialEq, Eq)]
struct SmtpUrl {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<(String, String)>,
}

impl SmtpUrl {
    fn parse(raw: &str) -> Result<Self, MailError> {
        // The URL may hold a password: never echo it.
        let bad = |why: &str| MailError::Config(format!("smtp url: {why}"));
        let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        let mut tls = match url.scheme() {
            "smtp" => TlsMode::None,
            "smtps" => TlsMode::Implicit,
            other => return Err(bad(&format!("scheme {other:?} is not smtp or smtps"))),
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref(), tls) {
                ("tls", "starttls", TlsMode::None | TlsMode::StartTls) => tls = TlsMode::StartTls,
                ("tls", "none", TlsMode::None) => {}
                ("tls", v, _) => return Err(bad(&format!("tls={v:?} is not starttls or none (smtps is always TLS)"))),
                (k, _, _) => return Err(bad(&format!("unknown parameter {k:?}"))),
            }
        }
        if !matches!(url.path(), "" | "/") {
            return Err(bad("a path is not allowed"));
        }
        let host = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("no host")),
        };
        let port = url.port().unwrap_or(match tls {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
        });
        let decode = |s: &str| {
            percent_decode_str(s).decode_utf8().map(|c| c.into_owned()).map_err(|_| bad("credentials are not UTF-8"))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) => Some((decode(user)?, decode(password)?)),
            (_, None) => return Err(bad("a user needs a password")),
        };
        Ok(Self { host, port, tls, credentials })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> SmtpUrl {
        SmtpUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn url(host: &str, port: u16, tls: TlsMode, credentials: Option<(&str, &str)>) -> SmtpUrl {
        SmtpUrl { host: host.into(), port, tls, credentials: credentials.map(|(u, p)| (u.into(), p.into())) }
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(ok("smtp://localhost:1025"), url("localhost", 1025, TlsMode::None, None));
        assert_eq!(ok("smtp://127.0.0.1"), url("127.0.0.1", 25, TlsMode::None, None));
        assert_eq!(ok("smtp://[::1]:2525/"), url("::1", 2525, TlsMode::None, None));
        assert_eq!(ok("smtp://mail.example.com?tls=starttls"), url("mail.example.com", 587, TlsMode::StartTls, None));
        assert_eq!(ok("smtp://mail.example.com:25?tls=none"), url("mail.example.com", 25, TlsMode::None, None));
        assert_eq!(ok("smtps://mail.example.com"), url("mail.example.com", 465, TlsMode::Implicit, None));
        assert_eq!(
            ok("smtps://me%40example.com:p%3Ass%20w@mail.example.com:4465"),
            url("mail.example.com", 4465, TlsMode::Implicit, Some(("me@example.com", "p:ss w")))
        );
    }

    #[test]
    fn refused_forms_do_not_echo_the_password() {
        for raw in [
            "http://mail.example.com",
            "smtp://",
            "smtp://:25",
            "smtps://mail.example.com?tls=starttls",
            "smtp://mail.example.com?tls=maybe",
            "smtp://mail.example.com?tsl=starttls",
            "smtp://mail.example.com/inbox",
            "smtp://user@mail.example.com",
            "not a url",
            "smtp://u:hunter2hunter2@mail.example.com?x=1",
        ] {
            let err = SmtpUrl::parse(raw).expect_err(raw).to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[tokio::test]
    async fn transports_build_for_every_form() {
        let from: Mailbox = "steward@localhost".parse().unwrap();
        for raw in ["smtp://localhost:1025", "smtp://localhost?tls=starttls", "smtps://u:p@localhost"] {
            SmtpTransport::new(raw, from.clone()).unwrap_or_else(|e| panic!("{raw}: {e}"));
        }
    }
}

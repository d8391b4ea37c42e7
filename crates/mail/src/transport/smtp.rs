//! Sends through an SMTP server with lettre.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as SmtpError};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::notify::RenderedEmail;
use url::{Host, Url};

use super::{Transport, message};
use crate::error::{MailError, SendError};

/// How long one SMTP command may take (connect, each reply).
const TIMEOUT: Duration = Duration::from_secs(10);

/// An SMTP server, through lettre's pooled async transport.
///
/// URL forms: `smtp://host:port` (plain, for local catchers),
/// `smtp://host:port?tls=starttls` (STARTTLS required), `smtps://host:port`
/// (implicit TLS); `user:password@` (percent-encoded) turns on AUTH.
pub struct SmtpTransport {
    builder: AsyncSmtpTransportBuilder,
    /// Built on the first send: lettre's pool spawns a task, so it needs the runtime.
    inner: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    clock: Arc<dyn Clock>,
}

impl SmtpTransport {
    /// Returns `MailError::Config` when the URL is not one of the forms above.
    pub fn new(url: &str, from: Mailbox) -> Result<Self, MailError> {
        let url = SmtpUrl::parse(url)?;
        let tls_params =
            || TlsParameters::new(url.host.clone()).map_err(|e| MailError::Config(format!("smtp TLS setup: {e}")));
        let tls = match url.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_params()?),
            TlsMode::Implicit => Tls::Wrapper(tls_params()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.as_str())
            .port(url.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some((user, password)) = url.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self { builder, inner: OnceLock::new(), from, clock: Arc::new(SystemClock) })
    }

    /// Overrides the per-command timeout (10 s by default). Call before the first send.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.builder = self.builder.timeout(Some(timeout));
        self.inner = OnceLock::new();
        self
    }

    /// Takes the Date header from `clock` instead of the wall clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, email: &RenderedEmail) -> Result<(), SendError> {
        let message = message::build(&self.from, email, self.clock.now())?;
        let transport = self.inner.get_or_init(|| self.builder.clone().build());
        transport.send(message).await.map(drop).map_err(classify)
    }
}

/// 5xx → permanent; everything else (4xx, refused, timed out, TLS) → temporary.
fn classify(e: SmtpError) -> SendError {
    if e.is_permanent() { SendError::Permanent(e.to_string()) } else { SendError::Temporary(e.to_string()) }
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

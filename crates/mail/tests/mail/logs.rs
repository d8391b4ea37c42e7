//! The relay's logs name the email, the attempt and the error — never a secret.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use steward_domain::clock::Clock;
use steward_domain::notify::OutboxStore;
use steward_mail::{Relay, RelayConfig, SmtpTransport};

use crate::fakes::{FakeClock, MemOutbox, keyring, welcome};
use crate::from;
use crate::smtp_server::{Behaviour, SmtpServer, free_port};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The global subscriber (a thread-local one misses events when other tests
/// run in parallel): every test of this binary logs into it.
fn captured() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("only this test sets the subscriber");
        logs
    })
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let logs = captured();

    let keyring = Arc::new(keyring());
    let secrets = ["Secret-Sent-0001", "Secret-Refused-02", "Secret-Retried-03"];
    let accept = SmtpServer::start(Behaviour::Accept).await;
    let refuse = SmtpServer::start(Behaviour::RejectRcpt("550 5.1.1 no such user")).await;
    let down = free_port().await;
    let mut ids = Vec::new();
    for (secret, url) in secrets.iter().zip([accept.url(), refuse.url(), format!("smtp://{down}")]) {
        let store = Arc::new(MemOutbox::default());
        ids.push(store.add(welcome(&keyring, "ada@example.com", secret)));
        let mut wiped = welcome(&keyring, "bob@example.com", "never-there");
        wiped.sealed_secret = None;
        ids.push(store.add(wiped));
        let store: Arc<dyn OutboxStore> = store;
        let clock: Arc<dyn Clock> = Arc::new(FakeClock::new());
        let transport = Arc::new(SmtpTransport::new(&url, from()).unwrap());
        Relay::new(store, transport, Arc::clone(&keyring), clock, RelayConfig::default()).run_once().await.unwrap();
    }
    assert!(accept.received()[0].data.contains(secrets[0]), "the secret did travel, in the email");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for id in &ids {
        assert!(text.contains(&id.to_string()), "every email is named in the logs:\n{text}");
    }
    assert!(text.contains("attempt=1"), "{text}");
    for secret in secrets {
        assert!(!text.contains(secret), "secret {secret} in the logs:\n{text}");
    }
    assert!(!text.contains("Temporary password"), "no body in the logs:\n{text}");
    accept.stop().await;
    refuse.stop().await;
}

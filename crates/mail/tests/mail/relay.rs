use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use steward_domain::clock::Clock;
use steward_domain::keyring::Keyring;
use steward_domain::notify::{OutboxStore, RenderedEmail};
use steward_mail::{Relay, RelayConfig, SendError, SmtpTransport, Transport};
use tokio::sync::{Notify, oneshot};

use crate::fakes::{FakeClock, MemOutbox, State, keyring, welcome};
use crate::smtp_server::{Behaviour, SmtpServer, free_port};
use crate::{from, header, parse};

struct World {
    store: Arc<MemOutbox>,
    clock: Arc<FakeClock>,
    keyring: Arc<Keyring>,
}

impl World {
    fn new() -> Self {
        Self { store: Arc::default(), clock: Arc::new(FakeClock::new()), keyring: Arc::new(keyring()) }
    }

    fn relay(&self, transport: Arc<dyn Transport>, config: RelayConfig) -> Relay {
        let store: Arc<dyn OutboxStore> = self.store.clone();
        let clock: Arc<dyn Clock> = self.clock.clone();
        Relay::new(store, transport, Arc::clone(&self.keyring), clock, config)
    }

    fn smtp_relay(&self, url: &str, config: RelayConfig) -> Relay {
        self.relay(Arc::new(SmtpTransport::new(url, from()).unwrap()), config)
    }
}

fn secs(d: time::Duration) -> f64 {
    d.as_seconds_f64()
}

#[tokio::test]
async fn sends_due_emails_and_marks_them_sent_with_the_secret_wiped() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let w = World::new();
    let a = w.store.add(welcome(&w.keyring, "ada@example.com", "secret-for-ada"));
    let b = w.store.add(welcome(&w.keyring, "bob@example.com", "secret-for-bob"));
    let relay = w.smtp_relay(&server.url(), RelayConfig::default());

    assert_eq!(relay.run_once().await.unwrap(), 2);
    assert_eq!(relay.run_once().await.unwrap(), 0, "nothing left to do");

    for id in [a, b] {
        let row = w.store.row(id);
        assert_eq!(row.state, State::Sent);
        assert!(row.email.sealed_secret.is_none(), "secret wiped once sent");
    }
    let got = server.received();
    assert_eq!(got.len(), 2);
    let to_bob = got.iter().find(|m| m.rcpt_to == ["bob@example.com"]).unwrap();
    let mail = parse(to_bob.data.as_bytes());
    assert_eq!(header(&mail, "Message-ID"), format!("<{b}@steward>"));
    assert!(mail.get_body().unwrap().contains("secret-for-bob"));
    server.stop().await;
}

#[tokio::test]
async fn smtp_down_retries_with_growing_capped_backoff_then_delivers() {
    let addr = free_port().await;
    let w = World::new();
    let id = w.store.add(welcome(&w.keyring, "ada@example.com", "patience-pays"));
    let config = RelayConfig::default();
    let relay = w.smtp_relay(&format!("smtp://{addr}"), config.clone());

    let mut delays = Vec::new();
    for attempt in 1..=11u32 {
        assert_eq!(relay.run_once().await.unwrap(), 0);
        let row = w.store.row(id);
        assert_eq!((row.state, row.email.attempts), (State::Pending, attempt));
        assert!(row.email.sealed_secret.is_some(), "the secret waits for the retry");
        assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
        let delay = secs(row.next_attempt_at - w.clock.now());
        let plain = (5.0 * 2f64.powi(attempt as i32 - 1)).min(900.0);
        assert!(delay <= plain && delay >= plain * 0.9 - 1e-6, "attempt {attempt}: {delay}s, expected ~{plain}s");
        delays.push(delay);

        // Not due yet: a pass a moment before leaves it alone.
        w.clock.set(row.next_attempt_at - time::Duration::milliseconds(1));
        assert_eq!(relay.run_once().await.unwrap(), 0);
        assert_eq!(w.store.row(id).email.attempts, attempt);
        w.clock.set(row.next_attempt_at);
    }
    assert!(delays.windows(2).take(7).all(|p| p[1] > p[0]), "grows: {delays:?}");
    assert!(delays.iter().all(|d| *d <= 900.0), "capped at 15 min: {delays:?}");
    assert!(delays[8..].iter().all(|d| *d >= 810.0), "stays at the cap: {delays:?}");

    let server = SmtpServer::start_on(addr, Behaviour::Accept).await;
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(w.store.row(id).state, State::Sent);
    let got = server.received();
    assert_eq!(got.len(), 1);
    let mail = parse(got[0].data.as_bytes());
    assert_eq!(header(&mail, "Message-ID"), format!("<{id}@steward>"));
    assert!(mail.get_body().unwrap().contains("patience-pays"));
    server.stop().await;
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let addr = free_port().await;
    let w = World::new();
    let id = w.store.add(welcome(&w.keyring, "ada@example.com", "s"));
    let relay = w.smtp_relay(&format!("smtp://{addr}"), RelayConfig { max_attempts: 3, ..RelayConfig::default() });

    for _ in 0..3 {
        relay.run_once().await.unwrap();
        w.clock.advance(Duration::from_secs(3600));
    }
    let row = w.store.row(id);
    assert_eq!(row.state, State::Failed);
    assert!(row.last_error.unwrap().contains("after 3 attempts"));
    assert!(row.email.sealed_secret.is_none());
    assert_eq!(relay.run_once().await.unwrap(), 0, "never tried again");
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once() {
    let server = SmtpServer::start(Behaviour::RejectRcpt("550 5.1.1 mailbox unavailable")).await;
    let w = World::new();
    let id = w.store.add(welcome(&w.keyring, "gone@example.com", "s"));
    let relay = w.smtp_relay(&server.url(), RelayConfig::default());

    assert_eq!(relay.run_once().await.unwrap(), 0);
    let row = w.store.row(id);
    assert_eq!(row.state, State::Failed);
    assert_eq!(row.email.attempts, 0, "one attempt, not retried");
    assert!(row.last_error.unwrap().contains("mailbox unavailable"));
    assert!(row.email.sealed_secret.is_none(), "secret wiped on failure too");
    w.clock.advance(Duration::from_secs(86_400));
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert!(server.received().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn an_email_that_cannot_be_rendered_fails_instead_of_going_out_with_a_hole() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let w = World::new();
    let mut wiped = welcome(&w.keyring, "ada@example.com", "s");
    wiped.sealed_secret = None;
    let wiped = w.store.add(wiped);
    let other_key = w.store.add(welcome(&Keyring::from_secret(&[8u8; 32]), "bob@example.com", "s"));
    let mut swapped = welcome(&w.keyring, "eve@example.com", "s");
    swapped.sealed_secret = welcome(&w.keyring, "eve@example.com", "s").sealed_secret; // sealed to another id
    let swapped = w.store.add(swapped);
    let fine = w.store.add(welcome(&w.keyring, "cy@example.com", "s"));
    let relay = w.smtp_relay(&server.url(), RelayConfig::default());

    assert_eq!(relay.run_once().await.unwrap(), 1);
    for id in [wiped, other_key, swapped] {
        let row = w.store.row(id);
        assert_eq!(row.state, State::Failed, "{id}");
        assert!(row.last_error.unwrap().contains("render"));
    }
    assert_eq!(w.store.row(fine).state, State::Sent);
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["cy@example.com"]);
    server.stop().await;
}

#[tokio::test]
async fn a_store_failure_after_sending_means_resending_the_same_message_later() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let w = World::new();
    let id = w.store.add(welcome(&w.keyring, "ada@example.com", "twice-is-fine"));
    let smtp: Arc<dyn Transport> = Arc::new(SmtpTransport::new(&server.url(), from()).unwrap());
    let store = Arc::clone(&w.store);
    let breaks_store =
        Hook { inner: Arc::clone(&smtp), after: Box::new(move || store.unavailable.store(true, Ordering::SeqCst)) };
    let relay = w.relay(Arc::new(breaks_store), RelayConfig::default());

    assert!(relay.run_once().await.is_err(), "the store error is reported");
    assert_eq!(server.received().len(), 1);
    w.store.unavailable.store(false, Ordering::SeqCst);
    let relay = w.relay(smtp, RelayConfig::default());
    assert_eq!(relay.run_once().await.unwrap(), 0, "still leased");
    w.clock.advance(RelayConfig::default().lease);
    assert_eq!(relay.run_once().await.unwrap(), 1, "sent again once the lease ran out");
    assert_eq!(w.store.row(id).state, State::Sent);
    let got = server.received();
    let ids: Vec<_> = got.iter().map(|m| header(&parse(m.data.as_bytes()), "Message-ID")).collect();
    assert_eq!(ids, [format!("<{id}@steward>"), format!("<{id}@steward>")], "the same message, recognisably");
    server.stop().await;
}

#[tokio::test]
async fn a_pass_hands_back_what_it_cannot_attempt_within_half_the_lease() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let w = World::new();
    let ids: Vec<_> = (0..3).map(|i| w.store.add(welcome(&w.keyring, &format!("u{i}@example.com"), "s"))).collect();
    let smtp: Arc<dyn Transport> = Arc::new(SmtpTransport::new(&server.url(), from()).unwrap());
    let clock = Arc::clone(&w.clock);
    // Each send takes 20 s of (fake) time; the lease is 60 s, so the third is released.
    let slow = Hook { inner: smtp, after: Box::new(move || clock.advance(Duration::from_secs(20))) };
    let relay = w.relay(Arc::new(slow), RelayConfig::default());

    assert_eq!(relay.run_once().await.unwrap(), 2);
    let third = w.store.row(ids[2]);
    assert_eq!((third.state, third.email.attempts, third.leased_until), (State::Pending, 0, None));
    assert!(third.next_attempt_at <= w.clock.now(), "due again at once");
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(server.received().len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn run_delivers_survives_store_outages_and_stops_on_shutdown() {
    let server = SmtpServer::start(Behaviour::Accept).await;
    let w = World::new();
    let config = RelayConfig { poll_interval: Duration::from_millis(10), ..RelayConfig::default() };
    let relay = w.smtp_relay(&server.url(), config);
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async move {
        let _ = stopped.await;
    }));

    w.store.add(welcome(&w.keyring, "ada@example.com", "s"));
    wait_for(|| server.received().len() == 1).await;

    w.store.unavailable.store(true, Ordering::SeqCst);
    let id = w.store.add(welcome(&w.keyring, "bob@example.com", "s"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.received().len(), 1, "nothing goes out while the store is down");
    w.store.unavailable.store(false, Ordering::SeqCst);
    wait_for(|| w.store.row(id).state == State::Sent).await;

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("run returns on shutdown").unwrap();
    server.stop().await;
}

#[tokio::test]
async fn shutdown_finishes_the_email_in_flight_and_releases_the_rest() {
    let w = World::new();
    let ids: Vec<_> = (0..3).map(|i| w.store.add(welcome(&w.keyring, &format!("u{i}@example.com"), "s"))).collect();
    let gate = Arc::new(Gate::default());
    let relay = w.relay(gate.clone(), RelayConfig::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async move {
        let _ = stopped.await;
    }));

    gate.entered.notified().await; // the first send is in flight
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!running.is_finished(), "waits for the email in flight");
    gate.release.notify_one();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("run returns").unwrap();

    assert_eq!(w.store.row(ids[0]).state, State::Sent);
    for id in &ids[1..] {
        let row = w.store.row(*id);
        assert_eq!(
            (row.state, row.email.attempts, row.leased_until),
            (State::Pending, 0, None),
            "released, not attempted"
        );
    }
    assert_eq!(gate.sent.load(Ordering::SeqCst), 1);
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 5 s");
}

/// Runs `after` once the inner transport has sent.
struct Hook {
    inner: Arc<dyn Transport>,
    after: Box<dyn Fn() + Send + Sync>,
}

#[async_trait]
impl Transport for Hook {
    async fn send(&self, email: &RenderedEmail) -> Result<(), SendError> {
        let r = self.inner.send(email).await;
        (self.after)();
        r
    }
}

/// A transport that holds each send until released.
#[derive(Default)]
struct Gate {
    entered: Notify,
    release: Notify,
    sent: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Transport for Gate {
    async fn send(&self, _: &RenderedEmail) -> Result<(), SendError> {
        self.entered.notify_one();
        self.release.notified().await;
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

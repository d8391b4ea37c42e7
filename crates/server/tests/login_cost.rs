//! Every login attempt costs exactly one argon2 verification, whatever the
//! reason it fails; and 50 parallel wrong guesses never get more than the
//! lockout threshold through to a verification against the real hash.
//! The real store (SQLite and PostgreSQL) and the real argon2 hasher, with a
//! counter around it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use clap::Parser;
use sea_orm::{ConnectionTrait, Database};
use secrecy::{ExposeSecret, SecretString};
use steward_domain::DomainError;
use steward_domain::auth::{Ctx, PasswordHasher, Verified};
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::keyring::Keyring;
use steward_domain::mfa::totp;
use steward_domain::notify::OutboxStore;
use steward_domain::user::{CreateUser, Email, FullName, Username};
use steward_grpc::Domain;
use steward_server::config::Config;
use steward_server::hasher::Argon2Hasher;
use steward_store::Store;

/// The real hasher, counting verifications against real hashes and the dummy.
struct CountingHasher {
    inner: Argon2Hasher,
    real: AtomicUsize,
    dummy: AtomicUsize,
}

#[async_trait]
impl PasswordHasher for CountingHasher {
    async fn hash(&self, password: &SecretString) -> Result<String, DomainError> {
        self.inner.hash(password).await
    }
    async fn verify(&self, password: &SecretString, phc: &str) -> Result<Verified, DomainError> {
        let counter = if phc == self.inner.dummy_hash() { &self.dummy } else { &self.real };
        counter.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(password, phc).await
    }
    fn dummy_hash(&self) -> &str {
        self.inner.dummy_hash()
    }
}

impl CountingHasher {
    fn take(&self) -> (usize, usize) {
        (self.real.swap(0, Ordering::SeqCst), self.dummy.swap(0, Ordering::SeqCst))
    }
}

/// The wall clock plus an offset the test moves forward.
#[derive(Default)]
struct MovableClock {
    offset_secs: std::sync::atomic::AtomicI64,
}

impl Clock for MovableClock {
    fn now(&self) -> time::OffsetDateTime {
        SystemClock.now() + time::Duration::seconds(self.offset_secs.load(Ordering::SeqCst))
    }
}

struct World {
    clock: Arc<MovableClock>,
    domain: Domain,
    hasher: Arc<CountingHasher>,
    store: Arc<Store>,
    keyring: Arc<Keyring>,
    admin: Ctx,
}

async fn world(url: &str, extra: &[&str]) -> World {
    let store = Arc::new(Store::connect(url).await.unwrap());
    store.migrate().await.unwrap();
    let mut args = vec!["steward"];
    args.extend_from_slice(extra);
    let config = Config::parse_from(args);
    let hasher = Arc::new(CountingHasher { inner: Argon2Hasher::new(2), real: 0.into(), dummy: 0.into() });
    let keyring = Arc::new(Keyring::from_secret(&[9u8; 32]));
    let clock = Arc::new(MovableClock::default());
    let domain = steward_server::wire(store.clone(), hasher.clone(), keyring.clone(), clock.clone(), &config);
    let boot = domain
        .users
        .bootstrap_admin(
            Username::parse("admin").unwrap(),
            Email::parse("admin@example.com").unwrap(),
            FullName::parse("Admin").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let principal = domain.auth.authenticate(boot.api_key.expose_secret()).await.unwrap();
    let admin = Ctx { principal, request_id: "test".into() };
    World { clock, domain, hasher, store, keyring, admin }
}

impl World {
    /// Creates a user and returns the temporary password from their (sealed) welcome email.
    async fn create(&self, username: &str) -> String {
        let req = CreateUser::parse(username, &format!("{username}@example.com"), "Cost Tester", "").unwrap();
        self.domain.users.create(&self.admin, req).await.unwrap();
        let due = self
            .store
            .claim_due_emails(self.clock.now() + time::Duration::hours(1), 100, std::time::Duration::from_secs(1))
            .await
            .unwrap();
        let mail = due.iter().find(|m| m.to_address.starts_with(username)).expect("welcome email queued");
        let body = mail.render(&self.keyring).unwrap().body;
        body.expose_secret().lines().find_map(|l| l.strip_prefix("Temporary password: ")).unwrap().to_string()
    }

    /// A user with a chosen (argon2-hashed) password.
    async fn create_with_password(&self, username: &str, password: &str) {
        let temp = self.create(username).await;
        let s = self.domain.auth.login(username, SecretString::from(temp.clone()), "", "t").await.unwrap();
        let principal = self.domain.auth.authenticate(s.token.expose_secret()).await.unwrap();
        let ctx = Ctx { principal, request_id: "t".into() };
        self.domain
            .auth
            .change_password(&ctx, SecretString::from(temp), SecretString::from(password.to_string()))
            .await
            .unwrap();
        self.hasher.take();
    }

    async fn login(&self, username: &str, password: &str) -> Result<(), DomainError> {
        self.login_with_code(username, password, "").await
    }

    async fn login_with_code(&self, username: &str, password: &str, code: &str) -> Result<(), DomainError> {
        self.domain.auth.login(username, SecretString::from(password.to_string()), code, "t").await.map(|_| ())
    }

    /// Turns MFA on for `username` (who has `password`); returns the raw TOTP
    /// secret and the step its confirmation used.
    async fn enable_mfa(&self, username: &str, password: &str) -> (Vec<u8>, u64) {
        let s = self.domain.auth.login(username, SecretString::from(password.to_string()), "", "t").await.unwrap();
        let principal = self.domain.auth.authenticate(s.token.expose_secret()).await.unwrap();
        let ctx = Ctx { principal, request_id: "t".into() };
        let e = self.domain.mfa.enroll(&ctx).await.unwrap();
        let secret = totp::base32_decode(e.secret.expose_secret()).unwrap();
        let step = totp::step_at(self.clock.now().unix_timestamp());
        self.domain.mfa.confirm(&ctx, &totp::code(&secret, step, totp::DIGITS)).await.unwrap();
        self.hasher.take();
        (secret, step)
    }

    /// The code `offset` steps from now on the test's clock.
    fn code(&self, secret: &[u8], offset: i64) -> String {
        let step = totp::step_at(self.clock.now().unix_timestamp()).checked_add_signed(offset).unwrap();
        totp::code(secret, step, totp::DIGITS)
    }
}

async fn each_backend<F, Fut>(extra: &'static [&'static str], body: F)
where
    F: Fn(World) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    body(world(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()), extra).await).await;
    let admin_url = std::env::var("STEWARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let conn = match Database::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("PostgreSQL unreachable in CI: {e}"),
        Err(e) => return eprintln!("SKIPPED on PostgreSQL (unreachable: {e})"),
    };
    let name = format!("steward_cost_{}", uuid::Uuid::new_v4().simple());
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
    body(world(&format!("{base}/{name}"), extra).await).await;
    let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_attempt_costs_exactly_one_verify() {
    each_backend(&[], |w| async move {
        w.create_with_password("known", "the real passphrase").await;
        let expired = w.create("expired").await;
        // Eight days later the temporary password (valid seven) has expired.
        w.clock.offset_secs.store(8 * 24 * 3600, Ordering::SeqCst);
        let cases: Vec<(&str, String, &str, (usize, usize))> = vec![
            ("unknown user", "nobody".into(), "whatever it is", (0, 1)),
            ("malformed username", "no such user!".into(), "whatever it is", (0, 1)),
            ("wrong password", "known".into(), "not the passphrase", (1, 0)),
            ("expired temporary password", "expired".into(), expired.as_str(), (0, 1)),
            ("right password", "known".into(), "the real passphrase", (1, 0)),
        ];
        for (case, user, password, want) in cases {
            let r = w.login(&user, password).await;
            assert_eq!(r.is_ok(), case == "right password", "{case}: {r:?}");
            if let Err(e) = r {
                assert!(matches!(e, DomainError::Unauthenticated), "{case}: {e:?}");
            }
            assert_eq!(w.hasher.take(), want, "{case}: (real, dummy) verifications");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_guesses_get_at_most_ten_real_verifies() {
    each_backend(&[], |w| async move {
        w.create_with_password("target", "the real passphrase").await;
        let w = Arc::new(w);
        let mut tasks = Vec::new();
        for i in 0..50 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move { w.login("target", &format!("wrong guess {i:02}")).await }));
        }
        for t in tasks {
            assert!(matches!(t.await.unwrap(), Err(DomainError::Unauthenticated)));
        }
        let (real, dummy) = w.hasher.take();
        assert!(real <= 10, "{real} guesses reached the real hash");
        assert_eq!(real + dummy, 50, "every attempt cost one verification");
        // Locked: the right password is refused too, still at the cost of one verify.
        assert!(matches!(w.login("target", "the real passphrase").await, Err(DomainError::Unauthenticated)));
        assert_eq!(w.hasher.take(), (0, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_factor_adds_no_verify_and_counts_towards_the_lockout() {
    each_backend(&[], |w| async move {
        let password = "the real passphrase";
        w.create_with_password("second", password).await;
        let (secret, used) = w.enable_mfa("second", password).await;
        let at = |step: u64| totp::code(&secret, step, totp::DIGITS);
        // Codes are taken relative to the step the confirmation used, so a
        // step boundary passing during the test changes nothing.
        let mut candidates = (0..).map(|n| format!("{:06}", n * 7919 % 1_000_000));
        let wrong = candidates.find(|c| (used - 3..=used + 6).all(|s| *c != at(s))).unwrap();
        let cases: Vec<(&str, &str, String, bool)> = vec![
            ("no code", password, String::new(), false),
            ("wrong code", password, wrong.clone(), false),
            ("the code just used", password, at(used), false),
            ("three steps ahead", password, at(used + 3), false),
            ("right code, wrong password", "not the passphrase", at(used + 1), false),
            ("right code", password, at(used + 1), true),
            ("the same code again", password, at(used + 1), false),
        ];
        for (case, password, code, ok) in cases {
            let r = w.login_with_code("second", password, &code).await;
            assert_eq!(r.is_ok(), ok, "{case}: {r:?}");
            if let Err(e) = r {
                assert!(matches!(e, DomainError::Unauthenticated), "{case}: {e:?}");
            }
            assert_eq!(w.hasher.take(), (1, 0), "{case}: (real, dummy) verifications");
        }
        // A minute later, a new code works; then ten wrong codes lock the account.
        w.clock.offset_secs.fetch_add(60, Ordering::SeqCst);
        w.login_with_code("second", password, &w.code(&secret, 0)).await.unwrap();
        for _ in 0..10 {
            let r = w.login_with_code("second", password, &wrong).await;
            assert!(matches!(r, Err(DomainError::Unauthenticated)));
        }
        let r = w.login_with_code("second", password, &w.code(&secret, 1)).await;
        assert!(matches!(r, Err(DomainError::Unauthenticated)), "locked: {r:?}");
        assert_eq!(w.hasher.take(), (11, 1), "ten real verifies, then the locked attempt's dummy one");
    })
    .await;
}

//! Per-test databases on both backends, and domain values to store.

use std::future::Future;
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use steward_domain::audit::{AuditEvent, user_target};
use steward_domain::auth::{NewSession, TempPassword};
use steward_domain::effects::Effects;
use steward_domain::id::{OutboxId, SessionId, UserId};
use steward_domain::notify::OutboxEmail;
use steward_domain::role::RoleName;
use steward_domain::user::{Email, FullName, NewUser, PlatformAccounts, Profile, User, UserKind, UserStatus, Username};
use steward_store::Store;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A fixed "now" (tests move time explicitly, never read the clock).
pub const NOW: OffsetDateTime = datetime!(2026-03-04 05:06:07.123456 UTC);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `body` against a fresh, migrated SQLite database, then against a
/// fresh PostgreSQL database (skipped with a notice when PostgreSQL cannot be
/// reached, unless `CI=true`). The databases are removed afterwards.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Store, Backend) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_each(true, body).await;
}

/// Like [`each_backend`], on databases left empty (to test migrations).
pub async fn each_empty_backend<F, Fut>(body: F)
where
    F: Fn(Store, Backend) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_each(false, body).await;
}

async fn run_each<F, Fut>(migrate: bool, body: F)
where
    F: Fn(Store, Backend) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let file = std::env::temp_dir().join(format!("steward-store-test-{}.db", Uuid::new_v4().simple()));
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", file.display())).await.expect("sqlite connect");
    if migrate {
        store.migrate().await.expect("sqlite migrate");
    }
    eprintln!("--- on SQLite");
    let outcome = tokio::spawn(body(store.clone(), Backend::Sqlite)).await;
    let _ = store.close().await;
    remove_sqlite(file);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }

    let Some((admin_url, db_url, name)) = create_pg_database().await else { return };
    let store = Store::connect(&db_url).await.expect("postgres connect");
    if migrate {
        store.migrate().await.expect("postgres migrate");
    }
    eprintln!("--- on PostgreSQL");
    let outcome = tokio::spawn(body(store.clone(), Backend::Postgres)).await;
    let _ = store.close().await;
    drop_pg_database(&admin_url, &name).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

fn remove_sqlite(file: PathBuf) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = file.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn admin_url() -> String {
    std::env::var("STEWARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

async fn create_pg_database() -> Option<(String, String, String)> {
    let admin = admin_url();
    let conn = match Database::connect(admin.as_str()).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL unreachable at {admin} (required in CI): {e}");
            }
            eprintln!("NOTICE: PostgreSQL unreachable at {admin}; skipping the PostgreSQL run: {e}");
            return None;
        }
    };
    let name = format!("steward_test_{}", Uuid::new_v4().simple());
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    let _ = conn.close().await;
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin.as_str(), String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(server, _db)| server);
    Some((admin.clone(), format!("{base}/{name}{query}"), name))
}

async fn drop_pg_database(admin: &str, name: &str) {
    if let Ok(conn) = Database::connect(admin).await {
        let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        let _ = conn.close().await;
    }
}

/// A valid user named `name` (3–20 letters/digits), email `name@example.com`.
pub fn user(name: &str) -> User {
    User {
        id: UserId::new(),
        kind: UserKind::Human,
        username: Username::parse(name).unwrap(),
        email: Email::parse(&format!("{name}@example.com")).unwrap(),
        full_name: FullName::parse(&format!("{name} Example")).unwrap(),
        profile: Profile::default(),
        platform: PlatformAccounts::default(),
        email_notifications: false,
        status: UserStatus::Active,
        default_role: RoleName::default_role(),
        mfa_enabled: false,
        created_at: NOW,
        updated_at: NOW,
        version: 1,
    }
}

pub fn new_user(user: User) -> NewUser {
    NewUser {
        user,
        temp_password: Some(TempPassword { digest: vec![1, 2, 3], expires_at: NOW + Duration::days(3) }),
        roles: vec![],
        api_key: None,
        create_request_id: None,
    }
}

pub fn audit(user: UserId, action: &str) -> AuditEvent {
    AuditEvent::by_system(NOW, action, user_target(user), "test")
}

pub fn email(to: &str) -> OutboxEmail {
    OutboxEmail {
        id: OutboxId::new(),
        to_address: to.to_string(),
        to_name: "Someone".into(),
        subject: "Hello".into(),
        body: "Hi there".into(),
        sealed_secret: Some(vec![9, 9, 9]),
        attachment: None,
        created_at: NOW,
    }
}

/// An audit event and an email, as a change would carry.
pub fn effects(user: UserId, action: &str) -> Effects {
    Effects::audit(audit(user, action)).with_email(email("someone@example.com"))
}

pub fn session(user: UserId, lookup: &str) -> NewSession {
    NewSession {
        id: SessionId::new(),
        user_id: user,
        lookup: lookup.to_string(),
        digest: vec![7; 32],
        role: RoleName::default_role(),
        password_change_required: true,
        created_at: NOW,
        expires_at: NOW + Duration::hours(8),
    }
}

/// Inserts a user with no effects and returns it.
pub async fn insert(store: &Store, name: &str) -> User {
    use steward_domain::ports::UserStore;
    let u = user(name);
    store.insert_user(new_user(u.clone()), Effects::default()).await.unwrap();
    u
}

/// Writes only the `users` row of a user, as the first migrations knew it
/// (no personal group, no other rows): for tests that migrate from an
/// older schema.
pub async fn insert_bare_user(store: &Store, name: &str) -> User {
    let u = user(name);
    let c = store.connection();
    // A literal, not a parameter: PostgreSQL reads it as a timestamptz,
    // SQLite stores it as the fixed-width text the store writes.
    let at = "'2026-03-04T05:06:07.123456Z'";
    let sql = format!(
        "INSERT INTO users (id, kind, username, username_lower, email, email_lower, full_name, full_name_lower, \
         position, about, location, organization, phone_number, email_notifications, status, default_role, \
         mfa_enabled, created_at, updated_at, version) \
         VALUES ($1, 'human', $2, $3, $4, $5, $6, $7, '', '', '', '', '', $8, 'active', 'default', $8, {at}, {at}, 1)"
    );
    let values: Vec<sea_orm::Value> = vec![
        u.id.as_uuid().into(),
        u.username.as_str().into(),
        u.username.canonical().into(),
        u.email.as_str().into(),
        u.email.canonical().into(),
        u.full_name.as_str().into(),
        u.full_name.as_str().to_lowercase().into(),
        false.into(),
    ];
    c.execute_raw(sea_orm::Statement::from_sql_and_values(c.get_database_backend(), sql, values)).await.unwrap();
    u
}

/// The personal group of `user` (every user has one from their creation),
/// as the registry holds it.
pub async fn personal_group(store: &Store, user: UserId) -> steward_domain::ownership::Resource {
    use steward_domain::ports::ResourceStore;
    let c = store.connection();
    let row = c
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            c.get_database_backend(),
            "SELECT id FROM groups WHERE personal_of = $1",
            vec![user.as_uuid().into()],
        ))
        .await
        .unwrap()
        .expect("a personal group");
    let id = steward_domain::id::ResourceId::from_uuid(row.try_get::<Uuid>("", "id").unwrap());
    let everything = steward_domain::ownership::Visibility::Everything;
    store.get_resource(id, &everything).await.unwrap().expect("its resource row")
}

/// Rows in `table` (to check that nothing else was written).
pub async fn count(store: &Store, table: &str) -> i64 {
    let row = store
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(
            store.connection().get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

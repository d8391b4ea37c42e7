//! Delete with transfer of N resources (the store's one-transaction
//! deletion, as DeleteUser runs it) against the least a transfer can cost:
//! one set-based UPDATE per table, in one transaction, in the same database.
//!
//! Each round seeds two identical suspended users owning N resources each
//! (80% datasets, 10% schedules, 10% dashboards; every tenth resource also
//! read by a third user; the user reads N/10 datasets of others), times the
//! baseline UPDATEs on one and the deletion of the other (alternating which
//! goes first), each handing over to its own heir.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value};
use serde::Serialize;
use steward_domain::effects::Effects;
use steward_domain::id::{ResourceId, UserId};
use steward_domain::lifecycle::{LifecycleStore, SuspensionReason, UserDeletion, UserSuspension};
use steward_domain::ports::UserStore;
use steward_domain::role::RoleName;
use steward_domain::user::{Email, FullName, NewUser, PlatformAccounts, Profile, User, UserKind, UserStatus, Username};
use steward_store::Store;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Error;

#[derive(Debug, Clone, Serialize)]
pub struct TransferFigure {
    pub backend: String,
    pub resources: usize,
    pub rounds: usize,
    pub delete_ms_median: f64,
    pub baseline_ms_median: f64,
    pub ratio: f64,
}

pub const RATIO_GOAL: f64 = 1.5;
pub const SCALING_GOAL: f64 = 12.0;

/// Runs every size on one store.
pub async fn run(backend: &str, store: &Store, sizes: &[usize], rounds: usize) -> Result<Vec<TransferFigure>, Error> {
    // Each side hands over to its own heir, so both heirs grow alike.
    let (heir_b, heir_d) = (user(store, "heirb").await?, user(store, "heird").await?);
    let peer = user(store, "peer").await?;
    // Each round measures every size in turn, so all sizes meet a database
    // of the same size (it grows by what every round hands over); size after
    // size, the largest would alone pay for the largest database.
    let mut times: Vec<(Vec<Duration>, Vec<Duration>)> = sizes.iter().map(|_| Default::default()).collect();
    for round in 0..rounds {
        for (&n, (deletes, baselines)) in sizes.iter().zip(times.iter_mut()) {
            // Two identical, freshly seeded users: one for each side.
            let for_baseline = user(store, &format!("b{n}r{round}")).await?;
            let for_delete = user(store, &format!("d{n}r{round}")).await?;
            for g in [for_baseline, for_delete] {
                seed(store, g, peer, n).await?;
                suspend(store, g).await?;
            }
            // Alternate which side runs first.
            if round % 2 == 0 {
                baselines.push(baseline(store, for_baseline, heir_b).await?);
                deletes.push(delete(store, for_delete, heir_d).await?);
            } else {
                deletes.push(delete(store, for_delete, heir_d).await?);
                baselines.push(baseline(store, for_baseline, heir_b).await?);
            }
        }
    }
    let mut out = Vec::new();
    for (&n, (deletes, baselines)) in sizes.iter().zip(times) {
        let (d, b) = (median(deletes), median(baselines));
        let fig = TransferFigure {
            backend: backend.into(),
            resources: n,
            rounds,
            delete_ms_median: ms(d),
            baseline_ms_median: ms(b),
            ratio: d.as_secs_f64() / b.as_secs_f64().max(1e-9),
        };
        eprintln!(
            "  delete with transfer of {n}: {:.1} ms vs {:.1} ms for one UPDATE per table = {:.2}×",
            fig.delete_ms_median, fig.baseline_ms_median, fig.ratio
        );
        out.push(fig);
    }
    Ok(out)
}

/// A fresh database for the transfer figures: a SQLite file in a temporary
/// directory, or a new PostgreSQL database (dropped afterwards).
pub async fn on_fresh_database(
    name: &str,
    pg_admin: Option<&str>,
    sizes: &[usize],
    rounds: usize,
) -> Result<Vec<TransferFigure>, Error> {
    let dir = tempfile::tempdir()?;
    let pg = match pg_admin {
        Some(admin) => Some(crate::server::PgDatabase::create(admin).await?),
        None => None,
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.path().join("transfer.db").display()),
    };
    let result = async {
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        let figures = run(name, &store, sizes, rounds).await;
        let _ = store.close().await;
        figures
    }
    .await;
    if let Some(db) = pg {
        db.drop_database().await;
    }
    result
}

pub fn print(figures: &[TransferFigure]) {
    for f in figures {
        let verdict = if f.ratio <= RATIO_GOAL { "ok" } else { "GOAL MISSED" };
        println!(
            "delete with transfer, {:>6} resources: {:>8.1} ms vs baseline {:>8.1} ms = {:.2}   goal ≤ {RATIO_GOAL}  {verdict}",
            f.resources, f.delete_ms_median, f.baseline_ms_median, f.ratio
        );
    }
    if let (Some(small), Some(large)) = (figures.first(), figures.last())
        && large.resources > small.resources
    {
        let scale = large.delete_ms_median / small.delete_ms_median.max(1e-9);
        let goal = SCALING_GOAL * (large.resources as f64 / small.resources as f64) / 10.0;
        let verdict = if scale <= goal { "ok" } else { "GOAL MISSED" };
        println!(
            "delete with transfer, {} vs {} resources: {scale:.2}×   goal ≤ {goal:.0}×  {verdict}",
            large.resources, small.resources
        );
    }
}

async fn user(store: &Store, name: &str) -> Result<UserId, Error> {
    let now = now();
    let user = User {
        id: UserId::new(),
        kind: UserKind::Human,
        username: Username::parse(name).map_err(|v| v.to_string())?,
        email: Email::parse(&format!("{name}@example.com")).map_err(|v| v.to_string())?,
        full_name: FullName::parse(name).map_err(|v| v.to_string())?,
        profile: Profile::default(),
        platform: PlatformAccounts::default(),
        email_notifications: false,
        status: UserStatus::Active,
        default_role: RoleName::default_role(),
        mfa_enabled: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let id = user.id;
    let new = NewUser { user, temp_password: None, roles: vec![], api_key: None, create_request_id: None };
    store.insert_user(new, Effects::default()).await?;
    Ok(id)
}

/// Multi-row inserts of 1,000 rows (untimed setup).
async fn seed(store: &Store, owner: UserId, peer: UserId, n: usize) -> Result<(), Error> {
    let c = store.connection();
    let b = c.get_database_backend();
    let now = time_value(b, now());
    let mut readers = Vec::new();
    for chunk in 0..n.div_ceil(1000) {
        let rows = (n - chunk * 1000).min(1000);
        let mut sql = String::from(
            "INSERT INTO resources (id, kind, display_name, owner_id, schedule_enabled, created_at, updated_at, version) VALUES ",
        );
        let mut values: Vec<Value> = Vec::new();
        for i in 0..rows {
            let id = ResourceId::new().as_uuid();
            let (kind, enabled) = match i % 10 {
                0 => ("schedule", Some(true)),
                1 => ("dashboard", None),
                _ => ("dataset", None),
            };
            if i % 10 == 2 {
                readers.push((id, peer.as_uuid()));
            }
            let p = values.len();
            sql.push_str(&format!(
                "{}(${}, ${}, ${}, ${}, ${}, ${}, ${}, 1)",
                if i > 0 { ", " } else { "" },
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7
            ));
            values.extend([
                id.into(),
                kind.into(),
                format!("r{i}").into(),
                owner.as_uuid().into(),
                enabled.into(),
                now.clone(),
                now.clone(),
            ]);
        }
        c.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
    }
    // The peer's datasets the owner reads: the other half of dataset_readers.
    let theirs: Vec<Uuid> = readers.iter().map(|_| ResourceId::new().as_uuid()).collect();
    for (i, chunk) in theirs.chunks(1000).enumerate() {
        let mut sql = String::from(
            "INSERT INTO resources (id, kind, display_name, owner_id, created_at, updated_at, version) VALUES ",
        );
        let mut values: Vec<Value> = Vec::new();
        for (j, id) in chunk.iter().enumerate() {
            let p = values.len();
            sql.push_str(&format!(
                "{}(${}, 'dataset', ${}, ${}, ${}, ${}, 1)",
                if j > 0 { ", " } else { "" },
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            ));
            values.extend([(*id).into(), format!("p{i}.{j}").into(), peer.as_uuid().into(), now.clone(), now.clone()]);
        }
        c.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
    }
    let pairs: Vec<(Uuid, Uuid)> =
        readers.into_iter().chain(theirs.into_iter().map(|r| (r, owner.as_uuid()))).collect();
    for chunk in pairs.chunks(1000) {
        let mut sql = String::from("INSERT INTO dataset_readers (resource_id, user_id) VALUES ");
        let mut values: Vec<Value> = Vec::new();
        for (j, (r, u)) in chunk.iter().enumerate() {
            let p = values.len();
            sql.push_str(&format!("{}(${}, ${})", if j > 0 { ", " } else { "" }, p + 1, p + 2));
            values.extend([(*r).into(), (*u).into()]);
        }
        c.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
    }
    Ok(())
}

async fn suspend(store: &Store, user: UserId) -> Result<(), Error> {
    let reason = SuspensionReason::parse("benchmark", "reason").map_err(|v| v.to_string())?;
    store.suspend_user(&UserSuspension { user, reason, until: None, now: now() }, Effects::default()).await?;
    Ok(())
}

/// Both sides start from the same state: SQLite's WAL checkpointed (else a
/// checkpoint lands on whichever side happens to fill the log).
async fn settle(store: &Store) -> Result<(), Error> {
    let c = store.connection();
    if c.get_database_backend() == DbBackend::Sqlite {
        c.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    Ok(())
}

/// One UPDATE per table in one transaction.
async fn baseline(store: &Store, from: UserId, to: UserId) -> Result<Duration, Error> {
    settle(store).await?;
    let started = Instant::now();
    move_all(store, from, to).await?;
    Ok(started.elapsed())
}

async fn move_all(store: &Store, from: UserId, to: UserId) -> Result<(), Error> {
    let c = store.connection();
    let b = c.get_database_backend();
    let txn = c.begin().await?;
    let now = time_value(b, now());
    for sql in [
        "UPDATE resources SET owner_id = $2, version = version + 1, updated_at = $3 WHERE owner_id = $1",
        "UPDATE dataset_readers SET user_id = $2 WHERE user_id = $1",
        "UPDATE projects SET owner_id = $2, version = version + 1, updated_at = $3 WHERE owner_id = $1",
    ] {
        let values = vec![from.as_uuid().into(), to.as_uuid().into(), now.clone()];
        let values = if sql.contains("$3") { values } else { values[..2].to_vec() };
        txn.execute_raw(Statement::from_sql_and_values(b, sql, values)).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn delete(store: &Store, user: UserId, to: UserId) -> Result<Duration, Error> {
    let expected = store.holdings(user).await?;
    let version = store.get_user(user).await?.version;
    let d = UserDeletion { user, new_owner: Some(to), expected, expected_user_version: version, now: now() };
    settle(store).await?;
    let started = Instant::now();
    // With STEWARD_BENCH_STEPS set, the time of each step of the deletion.
    let store = if std::env::var_os("STEWARD_BENCH_STEPS").is_some() {
        let last = std::sync::Arc::new(std::sync::Mutex::new(Instant::now()));
        let f: steward_store::Failpoint = std::sync::Arc::new(move |step| {
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!("    {step:<28} {:>8.1} ms", ms(last.elapsed()));
            *last = Instant::now();
            Box::pin(async { Ok(()) })
        });
        store.clone().with_failpoint(f)
    } else {
        store.clone()
    };
    store.delete_user(&d, Effects::default()).await?;
    Ok(started.elapsed())
}

pub(crate) fn time_value(b: DbBackend, t: OffsetDateTime) -> Value {
    match b {
        DbBackend::Sqlite => {
            let f = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            );
            Value::from(t.format(&f).unwrap_or_default())
        }
        _ => Value::from(t),
    }
}

#[allow(clippy::disallowed_methods)] // a benchmark's setup, not a rule
pub(crate) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

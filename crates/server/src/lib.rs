//! Wiring: configuration in, a running server out.

pub mod bootstrap;
pub mod config;
pub mod hasher;
mod importer;
pub mod logging;
mod maintainer;
pub mod secret_key;
mod shutdown;
mod sweeper;

use std::sync::Arc;
use std::time::Duration;

use steward_blob::FsBlobStore;
use steward_domain::access::AccessService;
use steward_domain::audit::AuditService;
use steward_domain::auth::{AuthService, LoginPolicy, PasswordHasher};
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::group::GroupService;
use steward_domain::import::{ImportRunner, ImportService, ImportServiceConfig, RunnerConfig};
use steward_domain::key::ApiKeyService;
use steward_domain::keyring::Keyring;
use steward_domain::lifecycle::LifecycleService;
use steward_domain::mfa::MfaService;
use steward_domain::ownership::ResourceService;
use steward_domain::project::ProjectService;
use steward_domain::repair::{Inspector, MaintenanceRunner, MaintenanceService};
use steward_domain::role::RoleService;
use steward_domain::sql::{QueryEngine, SqlCredentialService};
use steward_domain::user::{EmailPolicy, UserService, UserServiceConfig};
use steward_grpc::{Domain, Limits};
use steward_mail::{MailConfig, Relay, RelayConfig};
use steward_store::Store;
use steward_warehouse::PostgresEngine;

use crate::config::Config;
use crate::hasher::Argon2Hasher;

pub async fn run(config: Config) -> Result<(), String> {
    std::fs::create_dir_all(&config.var_dir).map_err(|e| format!("creating {}: {e}", config.var_dir.display()))?;
    let keyring = Arc::new(Keyring::from_secret(&secret_key::load(&config)?));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Store::connect(&config.database_url()).await.map_err(|e| format!("database: {e}"))?;
    let store = Arc::new(store.with_clock(clock.clone()));
    store.migrate().await.map_err(|e| format!("database migration: {e}"))?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hasher = Arc::new(Argon2Hasher::new(config.hash_concurrency.unwrap_or(cores)));
    let engine: Option<Arc<dyn QueryEngine>> = match &config.query_engine_url {
        Some(url) => {
            let engine = PostgresEngine::connect(url).await.map_err(|e| format!("query engine: {e}"))?;
            tracing::info!(query_engine = %redact(url), "SQL credentials become logins on the query engine");
            Some(Arc::new(engine))
        }
        None => None,
    };
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|e| format!("listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let blobs = Arc::new(FsBlobStore::open(config.upload_dir()).map_err(|e| format!("upload directory: {e}"))?);
    let parts = Parts { store: store.clone(), hasher, keyring: keyring.clone(), clock: clock.clone(), blobs, engine };
    let domain = wire_parts(parts.clone(), &config, &config.public_url(addr));
    bootstrap::bootstrap_admin(&domain.users, &config).await?;
    let runner = Arc::new(import_runner(&parts, &config));
    let maintainer = Arc::new(maintenance_runner(&parts, &config));

    let mail = match &config.smtp_url {
        Some(url) => MailConfig::Smtp { url: url.clone() },
        None => MailConfig::Files { dir: config.mail_dir() },
    };
    let transport = steward_mail::transport_from_config(&mail, &config.mail_from).map_err(|e| format!("mail: {e}"))?;
    let relay_config =
        RelayConfig { poll_interval: Duration::from_millis(config.mail_poll_ms), ..RelayConfig::default() };
    let relay = Relay::new(store.clone(), transport, keyring, clock, relay_config);

    let signals = shutdown::Signals::install()?;
    let relay_task = tokio::spawn(relay.run(signals.subscribe()));
    let sweep_every = Duration::from_millis(config.suspension_sweep_ms);
    let sweeper_task =
        tokio::spawn(sweeper::run(domain.lifecycle.clone(), domain.auth.clone(), sweep_every, signals.subscribe()));
    let import_task =
        tokio::spawn(importer::run(runner, Duration::from_millis(config.import_poll_ms), signals.subscribe()));
    // Maintenance jobs share the import worker's poll interval and lease.
    let maintenance_task =
        tokio::spawn(maintainer::run(maintainer, Duration::from_millis(config.import_poll_ms), signals.subscribe()));
    println!("steward listening on {addr}");
    tracing::info!(%addr, database = %redact(&config.database_url()), "steward listening");

    let limits = Limits {
        max_message_bytes: config.max_message_bytes,
        timeout: Duration::from_secs(config.request_timeout_secs),
    };
    steward_grpc::serve(listener, domain, limits, signals.subscribe())
        .await
        .map_err(|e| format!("gRPC server: {e}"))?;
    // The listener has drained; let the relay finish the email in flight.
    let _ = relay_task.await;
    let _ = sweeper_task.await;
    let _ = import_task.await;
    let _ = maintenance_task.await;
    tracing::info!("steward stopped cleanly");
    Ok(())
}

/// What the domain's services are built from.
#[derive(Clone)]
pub struct Parts {
    pub store: Arc<Store>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub keyring: Arc<Keyring>,
    pub clock: Arc<dyn Clock>,
    pub blobs: Arc<FsBlobStore>,
    /// Where SQL credentials become logins (none: they are only stored).
    pub engine: Option<Arc<dyn QueryEngine>>,
}

/// The domain's services over one store: what the transport delegates to
/// (no query engine: SQL credentials are only stored; uploads under the
/// configured upload directory).
pub fn wire(
    store: Arc<Store>,
    hasher: Arc<dyn PasswordHasher>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    config: &Config,
) -> Domain {
    wire_with_engine(store, hasher, keyring, clock, config, None)
}

/// [`wire`], with the query engine SQL credentials become logins on.
pub fn wire_with_engine(
    store: Arc<Store>,
    hasher: Arc<dyn PasswordHasher>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    config: &Config,
    engine: Option<Arc<dyn QueryEngine>>,
) -> Domain {
    let blobs = Arc::new(FsBlobStore::open(config.upload_dir()).expect("the upload directory can be created"));
    let parts = Parts { store, hasher, keyring, clock, blobs, engine };
    wire_parts(parts, config, &config.public_url(config.listen))
}

/// The import worker over the same parts.
pub fn import_runner(parts: &Parts, config: &Config) -> ImportRunner {
    let worker = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    ImportRunner::new(
        parts.store.clone(),
        parts.blobs.clone(),
        parts.store.clone(),
        parts.keyring.clone(),
        parts.clock.clone(),
        worker,
        RunnerConfig {
            batch_size: config.import_batch_size as usize,
            lease: time::Duration::milliseconds(config.import_lease_ms as i64),
            email_policy: EmailPolicy::new(&config.allowed_email_domains),
            temporary_password_ttl: time::Duration::hours(config.temporary_password_ttl_hours),
            attached_errors: 10_000,
        },
    )
}

/// The maintenance worker over the same parts.
pub fn maintenance_runner(parts: &Parts, config: &Config) -> MaintenanceRunner {
    let worker = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    MaintenanceRunner::new(
        Arc::new(inspector(parts)),
        parts.store.clone(),
        parts.store.clone(),
        parts.keyring.clone(),
        parts.clock.clone(),
        worker,
        time::Duration::milliseconds(config.import_lease_ms as i64),
    )
}

fn inspector(parts: &Parts) -> Inspector {
    Inspector::new(parts.store.clone(), parts.store.clone(), parts.engine.clone())
}

fn wire_parts(parts: Parts, config: &Config, public_url: &str) -> Domain {
    let maintenance =
        Arc::new(MaintenanceService::new(Arc::new(inspector(&parts)), parts.store.clone(), parts.clock.clone()));
    let Parts { store, hasher, keyring, clock, blobs, engine } = parts;
    let policy = LoginPolicy {
        max_failures: config.lockout_threshold,
        lockout: time::Duration::minutes(config.lockout_minutes),
        session_ttl: time::Duration::minutes(config.session_ttl_minutes),
        temporary_password_ttl: time::Duration::hours(config.temporary_password_ttl_hours),
        principal_cache_ttl: time::Duration::milliseconds(config.principal_cache_ttl_ms as i64),
    };
    let auth = Arc::new(AuthService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        hasher,
        keyring.clone(),
        clock.clone(),
        policy.clone(),
    ));
    let users = Arc::new(UserService::new(
        store.clone(),
        store.clone(),
        keyring.clone(),
        clock.clone(),
        UserServiceConfig {
            email_policy: EmailPolicy::new(&config.allowed_email_domains),
            temporary_password_ttl: policy.temporary_password_ttl,
        },
        auth.cache(),
    ));
    let roles = Arc::new(RoleService::new(store.clone(), store.clone(), clock.clone()));
    let mfa = Arc::new(MfaService::new(store.clone(), store.clone(), keyring.clone(), clock.clone()));
    let keys =
        Arc::new(ApiKeyService::new(store.clone(), store.clone(), store.clone(), keyring.clone(), clock.clone()));
    let resources = Arc::new(ResourceService::new(store.clone(), store.clone(), clock.clone()));
    let projects = Arc::new(ProjectService::new(store.clone(), store.clone(), store.clone(), clock.clone()));
    let groups = Arc::new(GroupService::new(store.clone(), store.clone(), store.clone(), clock.clone()));
    let sql = Arc::new(SqlCredentialService::new(store.clone(), engine.clone(), keyring.clone(), clock.clone()));
    let lifecycle = Arc::new(LifecycleService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        engine,
        keyring.clone(),
        clock.clone(),
    ));
    let imports = Arc::new(ImportService::new(
        store.clone(),
        blobs,
        keyring.clone(),
        clock.clone(),
        ImportServiceConfig {
            max_bytes: config.import_max_bytes,
            url_ttl: time::Duration::seconds(config.import_url_ttl_secs as i64),
            public_url: public_url.to_string(),
        },
    ));
    let access = Arc::new(AccessService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        keyring.clone(),
        clock.clone(),
    ));
    let audit = Arc::new(AuditService::new(store));
    Domain {
        users,
        lifecycle,
        auth,
        audit,
        roles,
        mfa,
        keys,
        resources,
        projects,
        groups,
        sql,
        imports,
        access,
        maintenance,
    }
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

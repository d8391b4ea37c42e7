//! Configuration: flags, each with a STEWARD_* environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Steward: the user-management service of the data platform, over gRPC.
#[derive(Debug, Clone, Parser)]
#[command(name = "steward", version, about, long_about = None)]
pub struct Config {
    /// Address to serve gRPC on (health and reflection included). Port 0 picks a free port.
    #[arg(long, env = "STEWARD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Directory for local state: the SQLite database, mail files, the server key.
    #[arg(long, env = "STEWARD_VAR_DIR", default_value = "var")]
    pub var_dir: PathBuf,

    /// Database URL: sqlite://PATH?mode=rwc or postgres://USER:PASS@HOST/DB.
    /// Default: a SQLite file under the var directory.
    #[arg(long, env = "STEWARD_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Send mail through SMTP: smtp://HOST:PORT (plain), smtp://HOST:PORT?tls=starttls, smtps://HOST:PORT.
    /// Without it, each email is written as an .eml file to --mail-dir.
    #[arg(long, env = "STEWARD_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Where .eml files go when no SMTP URL is set. Default: VAR_DIR/mail.
    #[arg(long, env = "STEWARD_MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,

    /// The From address of every email.
    #[arg(long, env = "STEWARD_MAIL_FROM", default_value = "Steward <steward@localhost>")]
    pub mail_from: String,

    /// How often the mail relay looks for due emails, in milliseconds.
    #[arg(long, env = "STEWARD_MAIL_POLL_MS", default_value_t = 1000)]
    pub mail_poll_ms: u64,

    /// The server secret (≥ 32 bytes, hex) from which token, digest and sealing keys derive.
    /// Prefer --secret-key-file. Without either, one is generated into VAR_DIR/secret.key (mode 0600).
    #[arg(long, env = "STEWARD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// File holding the server secret (hex).
    #[arg(long, env = "STEWARD_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Comma-separated email domains allowed for accounts; empty allows any.
    #[arg(long, env = "STEWARD_ALLOWED_EMAIL_DOMAINS", value_delimiter = ',', default_value = "")]
    pub allowed_email_domains: Vec<String>,

    /// Username of the admin created on first start with an empty database.
    #[arg(long, env = "STEWARD_BOOTSTRAP_ADMIN_USERNAME", default_value = "admin")]
    pub bootstrap_admin_username: String,

    /// Email of the bootstrap admin.
    #[arg(long, env = "STEWARD_BOOTSTRAP_ADMIN_EMAIL", default_value = "admin@example.com")]
    pub bootstrap_admin_email: String,

    /// Session lifetime, in minutes.
    #[arg(long, env = "STEWARD_SESSION_TTL_MINUTES", default_value_t = 720)]
    pub session_ttl_minutes: i64,

    /// How long a temporary password stays valid, in hours.
    #[arg(long, env = "STEWARD_TEMPORARY_PASSWORD_TTL_HOURS", default_value_t = 168)]
    pub temporary_password_ttl_hours: i64,

    /// Consecutive login failures after which an account locks.
    #[arg(long, env = "STEWARD_LOCKOUT_THRESHOLD", default_value_t = 10)]
    pub lockout_threshold: u32,

    /// How long a locked account stays locked, in minutes.
    #[arg(long, env = "STEWARD_LOCKOUT_MINUTES", default_value_t = 15)]
    pub lockout_minutes: i64,

    /// The query engine where SQL credentials become logins: postgres://USER:PASS@HOST:PORT/DB
    /// (the role needs CREATEROLE). Without it, credentials are only stored and checked
    /// through VerifySqlCredential.
    #[arg(long, env = "STEWARD_QUERY_ENGINE_URL", hide_env_values = true)]
    pub query_engine_url: Option<String>,

    /// How long a resolved bearer token is answered from memory, in milliseconds (0: every
    /// call reads the database). Any change made through this node empties the cache at
    /// once; a change made through another replica is seen within this bound.
    #[arg(long, env = "STEWARD_PRINCIPAL_CACHE_TTL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub principal_cache_ttl_ms: u64,

    /// How often suspensions whose end time has passed are lifted, in milliseconds.
    #[arg(long, env = "STEWARD_SUSPENSION_SWEEP_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub suspension_sweep_ms: u64,

    /// Base of the presigned upload URLs, as clients reach this server (behind a proxy:
    /// the proxy's https URL). Default: http://LISTEN.
    #[arg(long, env = "STEWARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where uploaded import files are kept. Default: VAR_DIR/uploads.
    #[arg(long, env = "STEWARD_UPLOAD_DIR")]
    pub upload_dir: Option<PathBuf>,

    /// Largest import file accepted, in bytes (default 100 MiB).
    #[arg(long, env = "STEWARD_IMPORT_MAX_BYTES", default_value_t = 100 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub import_max_bytes: u64,

    /// How long a presigned upload URL works, in seconds (at most 900).
    #[arg(long, env = "STEWARD_IMPORT_URL_TTL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=900))]
    pub import_url_ttl_secs: u64,

    /// Rows an import commits per transaction.
    #[arg(long, env = "STEWARD_IMPORT_BATCH_SIZE", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub import_batch_size: u64,

    /// A running import whose worker has been silent this long (it died) is taken over,
    /// in milliseconds.
    #[arg(long, env = "STEWARD_IMPORT_LEASE_MS", default_value_t = 15_000,
          value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub import_lease_ms: u64,

    /// How often an idle import worker looks for started jobs, in milliseconds.
    #[arg(long, env = "STEWARD_IMPORT_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub import_poll_ms: u64,

    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "STEWARD_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,

    /// Largest gRPC message accepted or sent, in bytes.
    #[arg(long, env = "STEWARD_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Server-side deadline for every call, in seconds.
    #[arg(long, env = "STEWARD_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Log format.
    #[arg(long, env = "STEWARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter (tracing-subscriber EnvFilter syntax).
    #[arg(long, env = "STEWARD_LOG", default_value = "info,sqlx=warn")]
    pub log: String,
}

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.var_dir.join("steward.db").display()))
    }

    pub fn upload_dir(&self) -> PathBuf {
        self.upload_dir.clone().unwrap_or_else(|| self.var_dir.join("uploads"))
    }

    /// The presigned URLs' base: `--public-url`, else this server's own address.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.mail_dir.clone().unwrap_or_else(|| self.var_dir.join("mail"))
    }
}

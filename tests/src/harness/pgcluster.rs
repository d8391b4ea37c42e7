//! A private PostgreSQL cluster that really checks passwords.
//!
//! The machine's shared PostgreSQL trusts every login, so a test that a
//! password works against it proves nothing. This one is initialised with
//! `scram-sha-256` for TCP (local socket: trust, for set-up), its own port and
//! socket directory, run as the `postgres` OS user (PostgreSQL refuses root),
//! and stopped and removed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};

pub struct PrivateCluster {
    pub port: u16,
    /// The `postgres` superuser's password (for TCP logins).
    pub superuser_password: String,
    base: tempfile::TempDir,
    running: bool,
}

/// `initdb`/`pg_ctl`: on PATH, or under the Debian cluster directory.
fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// Runs `tool args…` as the postgres user; `Err` with its output on failure.
fn as_postgres(tool_name: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new("runuser")
        .arg("-u")
        .arg("postgres")
        .arg("--")
        .arg(tool(tool_name))
        .args(args)
        .output()
        .map_err(|e| format!("running {tool_name}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool_name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A free port below Linux's ephemeral range (32768+), so that no socket the
/// tests open with port 0 takes it while the cluster is stopped and started
/// again on it.
fn free_port() -> u16 {
    (0..200)
        .map(|_| 20_000 + (uuid::Uuid::new_v4().as_u128() % 12_000) as u16)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port")
}

impl PrivateCluster {
    /// Initialises and starts a cluster; `None` (with a notice) when that is
    /// impossible here — unless CI=true, where it fails the test.
    pub fn start() -> Option<PrivateCluster> {
        match Self::try_start() {
            Ok(c) => Some(c),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("private PostgreSQL cluster: {e}"),
            Err(e) => {
                eprintln!("SKIPPED: cannot start a private PostgreSQL cluster ({e})");
                None
            }
        }
    }

    fn try_start() -> Result<PrivateCluster, String> {
        let base = tempfile::Builder::new().prefix("steward-pg-").tempdir().map_err(|e| e.to_string())?;
        let superuser_password = format!("pg-{}", uuid::Uuid::new_v4().simple());
        let pwfile = base.path().join("pwfile");
        std::fs::write(&pwfile, &superuser_password).map_err(|e| e.to_string())?;
        std::fs::create_dir(base.path().join("sock")).map_err(|e| e.to_string())?;
        let chown = Command::new("chown").arg("-R").arg("postgres:postgres").arg(base.path()).status();
        if !chown.is_ok_and(|s| s.success()) {
            return Err("cannot chown the cluster directory to postgres".into());
        }
        let data = base.path().join("data");
        as_postgres(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-U",
                "postgres",
                &format!("--pwfile={}", pwfile.display()),
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        let _ = std::fs::remove_file(&pwfile);
        let mut cluster = PrivateCluster { port: free_port(), superuser_password, base, running: false };
        cluster.start_again()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.base.path().join("data")
    }

    /// Starts the (stopped) cluster on its port.
    pub fn start_again(&mut self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c password_encryption=scram-sha-256",
            self.port,
            self.base.path().join("sock").display()
        );
        let log = self.base.path().join("server.log");
        as_postgres(
            "pg_ctl",
            &["-D", &self.data().to_string_lossy(), "-o", &options, "-l", &log.to_string_lossy(), "-w", "start"],
        )?;
        self.running = true;
        Ok(())
    }

    /// Stops the cluster (fast: open connections are closed).
    pub fn stop(&mut self) {
        if self.running {
            let _ = as_postgres("pg_ctl", &["-D", &self.data().to_string_lossy(), "-m", "fast", "-w", "stop"]);
            self.running = false;
        }
    }

    /// The superuser's URL over TCP (password-checked like everyone's).
    pub fn superuser_url(&self) -> String {
        self.url("postgres", &self.superuser_password)
    }

    pub fn url(&self, user: &str, password: &str) -> String {
        format!("postgres://{user}:{}@127.0.0.1:{}/postgres", percent(password), self.port)
    }

    /// Logs in over TCP as `user` with `password`.
    pub async fn login(&self, user: &str, password: &str) -> Result<DatabaseConnection, String> {
        let mut opts = ConnectOptions::new(self.url(user, password));
        opts.sqlx_logging(false).max_connections(1).connect_timeout(Duration::from_secs(5));
        Database::connect(opts).await.map_err(|e| e.to_string())
    }
}

/// Percent-encodes everything but unreserved characters (for a URL's password).
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

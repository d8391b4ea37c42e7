//! Building, starting and stopping the real `steward` binary, and reading its memory.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The binary to measure: STEWARD_BENCH_BIN if set; else STEWARD_BIN unless it is a
/// debug build (the Makefile exports STEWARD_BIN=target/debug/steward for the tests);
/// else the release build, built here with `cargo build --release`.
pub fn release_binary() -> Result<PathBuf, Error> {
    if let Ok(p) = std::env::var("STEWARD_BENCH_BIN") {
        return Ok(PathBuf::from(p));
    }
    if let Ok(p) = std::env::var("STEWARD_BIN") {
        let p = PathBuf::from(p);
        if !p.components().any(|c| c.as_os_str() == "debug") {
            return Ok(p);
        }
        eprintln!(
            "ignoring STEWARD_BIN={} (a debug build; benchmarks measure the release build — \
             set STEWARD_BENCH_BIN to force a binary)",
            p.display()
        );
    }
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the release binary (cargo build --release -p steward-server) …");
    let status = Command::new(cargo)
        .args(["build", "--release", "-q", "-p", "steward-server", "--bin", "steward"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        return Err("building steward (release) failed".into());
    }
    Ok(target_dir().join("release").join("steward"))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map_or_else(|_| workspace_root().join("target"), PathBuf::from)
}

/// A PostgreSQL database created for one benchmark server and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Result<Self, Error> {
        let name = format!("steward_bench_{}", uuid::Uuid::new_v4().simple());
        let db = Database::connect(admin_url).await?;
        db.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let _ = db.close().await;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        // The server and PostgreSQL share this host: without sslmode=disable,
        // sqlx's default (prefer) wraps every loopback query in TLS, which
        // only adds cost here (a same-host deployment would not use it).
        let url = format!("{base}/{name}?sslmode=disable");
        Ok(Self { admin_url: admin_url.to_string(), url, name })
    }

    pub async fn drop_database(self) {
        if let Ok(db) = Database::connect(&self.admin_url).await {
            let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await;
            let _ = db.close().await;
        }
    }
}

/// The running server: its address, admin key, var dir and process.
pub struct Server {
    pub addr: SocketAddr,
    pub admin_key: String,
    pub var_dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Server {
    /// Starts `bin` on 127.0.0.1:0 with a fresh var dir (`database_url` None
    /// means SQLite in the var dir) and `extra` flags, which come last, so they win.
    pub fn start_with(bin: &Path, database_url: Option<&str>, extra: &[&str]) -> Result<Self, Error> {
        let var_dir = tempfile::tempdir()?;
        let db_url = database_url.map_or_else(
            || format!("sqlite://{}?mode=rwc", var_dir.path().join("steward.db").display()),
            str::to_string,
        );
        let mut cmd = Command::new(bin);
        // Only the flags below configure the server, not the caller's STEWARD_* environment.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("STEWARD_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--var-dir")
            .arg(var_dir.path())
            .arg("--database-url")
            .arg(&db_url)
            .args(["--log", "warn"])
            .args(if extra.contains(&"--mail-poll-ms") { &[][..] } else { &["--mail-poll-ms", "50"][..] })
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log_path = var_dir.path().join("server.log");
        std::thread::spawn(move || {
            let Ok(mut f) = std::fs::File::create(log_path) else { return };
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(f, "{line}");
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("steward listening on ") {
                    let _ = tx.send(a.trim().to_string());
                }
            }
        });
        let mut server =
            Server { addr: ([127, 0, 0, 1], 0).into(), admin_key: String::new(), var_dir, child: Some(child) };
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                server.stop();
                let log = std::fs::read_to_string(server.var_dir.path().join("server.log")).unwrap_or_default();
                return Err(format!("steward did not start within 60 s; its log:\n{log}").into());
            }
        };
        server.addr = addr.parse()?;
        if !server.addr.ip().is_loopback() {
            return Err(format!("steward listens on {addr}, not a loopback address").into());
        }
        server.admin_key =
            std::fs::read_to_string(server.var_dir.path().join("bootstrap-admin.key"))?.trim().to_string();
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    pub fn database_url(&self, given: Option<&str>) -> String {
        given.map_or_else(
            || format!("sqlite://{}?mode=rwc", self.var_dir.path().join("steward.db").display()),
            str::to_string,
        )
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.var_dir.path().join("mail")
    }

    pub fn memory(&self) -> Option<Memory> {
        memory(self.pid())
    }

    /// SIGTERM, up to 5 s for a graceful exit, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmRSS and VmHWM of a process, in KiB.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    Some(Memory { rss_kib: field("VmRSS:")?, hwm_kib: field("VmHWM:")? })
}

/// User + system CPU time the process (all its threads) has used so far.
pub fn cpu_time(pid: u32, ticks_per_sec: u64) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / ticks_per_sec as f64))
}

/// The kernel's USER_HZ (clock ticks per second in /proc), from `getconf CLK_TCK`.
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

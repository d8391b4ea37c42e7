use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Backend, Client, Mailbox};

/// The real `steward` binary, running on 127.0.0.1 with its own var dir and database.
pub struct TestServer {
    pub addr: SocketAddr,
    pub admin_key: String,
    pub backend: Backend,
    pub var_dir: tempfile::TempDir,
    pub database_url: String,
    args: Vec<String>,
    /// How many times the binary was started on this var dir and database.
    starts: u32,
    child: Option<Child>,
    pg_database: Option<String>,
}

pub struct TestServerBuilder {
    backend: Backend,
    args: Vec<String>,
}

impl TestServerBuilder {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub async fn start(self) -> TestServer {
        let var_dir = tempfile::tempdir().expect("temp dir");
        let pg = self.backend.create_database().await;
        let database_url = match &pg {
            Some((url, _)) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", var_dir.path().join("steward.db").display()),
        };
        let (child, addr) = spawn(var_dir.path(), &database_url, &self.args, "server.log");
        let admin_key = std::fs::read_to_string(var_dir.path().join("bootstrap-admin.key"))
            .expect("bootstrap key file")
            .trim()
            .to_string();
        TestServer {
            addr,
            admin_key,
            backend: self.backend,
            var_dir,
            database_url,
            args: self.args,
            starts: 1,
            child: Some(child),
            pg_database: pg.map(|(_, n)| n),
        }
    }
}

/// Starts the binary on a free port; returns it once it listens.
fn spawn(var_dir: &Path, database_url: &str, args: &[String], log: &str) -> (Child, SocketAddr) {
    let mut cmd = Command::new(binary());
    cmd.arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--var-dir")
        .arg(var_dir)
        .arg("--database-url")
        .arg(database_url)
        .arg("--mail-poll-ms")
        .arg("50")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    if !args.iter().any(|a| a == "--log") {
        cmd.arg("--log").arg(std::env::var("STEWARD_TEST_LOG").unwrap_or_else(|_| "warn".into()));
    }
    let mut child = cmd.spawn().expect("start steward");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let log_path = var_dir.join(log);
    std::thread::spawn(move || copy_lines(stderr, &log_path));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(a) = line.strip_prefix("steward listening on ") {
                let _ = tx.send(a.trim().to_string());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(a) => (child, a.parse().expect("address")),
        Err(_) => {
            let _ = child.kill();
            std::thread::sleep(Duration::from_millis(200));
            let log = std::fs::read_to_string(var_dir.join(log)).unwrap_or_default();
            panic!("steward did not start within 60 s; its log:\n{log}");
        }
    }
}

fn copy_lines(from: impl std::io::Read, to: &Path) {
    use std::io::Write;
    let Ok(mut f) = std::fs::File::create(to) else { return };
    for line in BufReader::new(from).lines().map_while(Result::ok) {
        let _ = writeln!(f, "{line}");
    }
}

impl TestServer {
    pub fn builder(backend: Backend) -> TestServerBuilder {
        TestServerBuilder { backend, args: Vec::new() }
    }

    pub async fn start(backend: Backend) -> TestServer {
        Self::builder(backend).start().await
    }

    pub async fn client(&self, token: Option<&str>) -> Client {
        Client::connect(self.addr, token).await
    }

    /// A client acting as the bootstrap admin.
    pub async fn admin(&self) -> Client {
        self.client(Some(&self.admin_key)).await
    }

    pub fn mailbox(&self) -> Mailbox {
        Mailbox::new(self.var_dir.path().join("mail"))
    }

    /// What the server logged to stderr so far.
    pub fn log(&self) -> String {
        let mut log = std::fs::read_to_string(self.var_dir.path().join("server.log")).unwrap_or_default();
        for n in 2..=self.starts {
            log.push_str(
                &std::fs::read_to_string(self.var_dir.path().join(format!("server-{n}.log"))).unwrap_or_default(),
            );
        }
        log
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    /// `kill -9`: no shutdown of any kind.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the binary again on the same var dir, database and flags (after
    /// [`TestServer::kill`] or [`TestServer::stop_with`]); it gets a new port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the server before restarting it");
        self.starts += 1;
        let log = format!("server-{}.log", self.starts);
        let (child, addr) = spawn(self.var_dir.path(), &self.database_url, &self.args, &log);
        self.child = Some(child);
        self.addr = addr;
    }

    /// A second process on the same database, server key and upload
    /// directory (replicas share all three), with the same flags.
    pub fn replica(&self) -> Replica {
        let n = self.starts + 100;
        let (child, addr) = spawn(self.var_dir.path(), &self.database_url, &self.args, &format!("replica-{n}.log"));
        Replica { addr, child }
    }

    /// Sends `signal` (e.g. "TERM") and waits for the exit status.
    pub fn stop_with(&mut self, signal: &str, within: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        None
    }
}

/// Another replica of a [`TestServer`]; killed when dropped.
pub struct Replica {
    pub addr: SocketAddr,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(name) = self.pg_database.take() {
            let backend = self.backend.clone();
            // Best effort, off the test's runtime.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(backend.drop_database(&name)))
            })
            .join();
        }
    }
}

/// The steward binary: STEWARD_BIN, else target/debug/steward, built once per test run.
fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("STEWARD_BIN") {
            return PathBuf::from(p);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "steward-server", "--bin", "steward"])
            .current_dir(&root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building steward failed");
        let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
        target.join("debug").join("steward")
    })
    .clone()
}

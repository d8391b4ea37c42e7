use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The .eml files the server's file transport writes.
pub struct Mailbox {
    dir: PathBuf,
}

impl Mailbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn all(&self) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        rd.filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Waits (up to 10 s) for an email to `to` whose text contains `needle`.
    pub async fn wait_for(&self, to: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(m) = self.all().into_iter().find(|m| m.contains(to) && m.contains(needle)) {
                return m;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no email to {to} containing {needle:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The temporary password from the welcome email to `to`.
    pub async fn temporary_password(&self, to: &str) -> String {
        let mail = self.wait_for(to, "Temporary password").await;
        extract_temporary_password(&mail)
    }
}

pub fn extract_temporary_password(mail: &str) -> String {
    mail.lines()
        .find_map(|l| l.trim().strip_prefix("Temporary password: "))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("no temporary password in:\n{mail}"))
}

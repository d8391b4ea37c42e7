//! Writes each email as an `.eml` file: for development, tests and audits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::Mailbox;
use steward_domain::clock::{Clock, SystemClock};
use steward_domain::id::OutboxId;
use steward_domain::notify::RenderedEmail;
use tokio::io::AsyncWriteExt;

use super::{Transport, message};
use crate::error::{MailError, SendError};

/// One RFC 5322 `<outbox id>.eml` file per email in a directory. A file is
/// written under a temporary name and renamed, so a reader never sees half of
/// it; a retried email overwrites its own file. Files are readable by the
/// owner only (they may hold a temporary password).
pub struct FileTransport {
    dir: PathBuf,
    from: Mailbox,
    clock: Arc<dyn Clock>,
}

impl FileTransport {
    /// Creates `dir` if it is missing. Returns `MailError::Io` when it cannot.
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> Result<Self, MailError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| MailError::Io { path: dir.clone(), source })?;
        Ok(Self { dir, from, clock: Arc::new(SystemClock) })
    }

    /// Takes the Date header from `clock` instead of the wall clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where the email with `id` is (or will be) written.
    pub fn path_for(&self, id: OutboxId) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }
}

#[async_trait]
impl Transport for FileTransport {
    async fn send(&self, email: &RenderedEmail) -> Result<(), SendError> {
        let bytes = message::build(&self.from, email, self.clock.now())?.formatted();
        let tmp = self.dir.join(format!(".{}.{}.tmp", email.id, uuid::Uuid::new_v4()));
        let result = write_atomically(&self.dir, &tmp, &self.path_for(email.id), &bytes).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result.map_err(|e| SendError::Temporary(format!("writing to {}: {e}", self.dir.display())))
    }
}

async fn write_atomically(dir: &Path, tmp: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(tmp).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(tmp, target).await
}

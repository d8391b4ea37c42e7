//! Steward's blob store on the local filesystem: uploaded import files under
//! one directory (`var/uploads` by default). A file is written under a
//! temporary name, flushed to disk, and renamed into place on commit, so a
//! reader never sees half a file and a crash leaves only a temporary to sweep.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use steward_domain::StoreError;
use steward_domain::import::{BlobReader, BlobStore, BlobWriter};
use tokio::fs::{self, File};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::compat::TokioAsyncReadCompatExt;

pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Creates `root` if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| io("creating the upload directory", e))?;
        Ok(Self { root })
    }

    /// Keys are ours (`imports/<job>-<suffix>`), but checked anyway: nothing
    /// outside the root can be named.
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let ok = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            return Err(StoreError::Internal(format!("invalid blob key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what}: {e}"))
}

struct FsWriter {
    file: Option<BufWriter<File>>,
    temp: PathBuf,
    dest: PathBuf,
}

/// A writer dropped without `commit` or `abort` (the client went away and
/// the upload's future was dropped) leaves no partial file behind.
impl Drop for FsWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[async_trait]
impl BlobWriter for FsWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        let file = self.file.as_mut().ok_or_else(|| StoreError::Internal("blob writer closed".into()))?;
        file.write_all(chunk).await.map_err(|e| io("writing an upload", e))
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let mut file = self.file.take().ok_or_else(|| StoreError::Internal("blob writer closed".into()))?;
        let done = async {
            file.flush().await?;
            file.get_ref().sync_all().await?;
            drop(file);
            fs::rename(&self.temp, &self.dest).await
        }
        .await;
        if let Err(e) = done {
            let _ = fs::remove_file(&self.temp).await;
            return Err(io("storing an upload", e));
        }
        Ok(())
    }

    async fn abort(mut self: Box<Self>) {
        drop(self.file.take());
        let _ = fs::remove_file(&self.temp).await;
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn create(&self, key: &str) -> Result<Box<dyn BlobWriter>, StoreError> {
        let dest = self.path(key)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).await.map_err(|e| io("creating the upload directory", e))?;
        }
        let temp = temp_path(&dest);
        let file = File::create(&temp).await.map_err(|e| io("creating an upload", e))?;
        Ok(Box::new(FsWriter { file: Some(BufWriter::with_capacity(256 * 1024, file)), temp, dest }))
    }

    async fn open(&self, key: &str, offset: u64) -> Result<BlobReader, StoreError> {
        let mut file = match File::open(self.path(key)?).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(io("opening an upload", e)),
        };
        file.seek(SeekFrom::Start(offset)).await.map_err(|e| io("seeking in an upload", e))?;
        Ok(Box::new(file.compat()))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("deleting an upload", e)),
        }
    }
}

fn temp_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".partial-{}", uuid::Uuid::new_v4().simple()));
    dest.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use futures::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn written_blobs_read_back_from_any_offset_and_aborts_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut w = store.create("imports/a-1").await.unwrap();
        w.write(b"hello ").await.unwrap();
        w.write(b"world").await.unwrap();
        assert!(matches!(store.open("imports/a-1", 0).await, Err(StoreError::NotFound)), "invisible until commit");
        w.commit().await.unwrap();
        let mut s = String::new();
        store.open("imports/a-1", 6).await.unwrap().read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "world");

        let mut w = store.create("imports/b-1").await.unwrap();
        w.write(b"partial").await.unwrap();
        w.abort().await;
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("imports")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["a-1"]);
        assert!(store.path("../etc/passwd").is_err());
        store.delete("imports/a-1").await.unwrap();

        // Dropped mid-write (a client that went away): nothing stays.
        let mut w = store.create("imports/c-1").await.unwrap();
        w.write(b"half a file").await.unwrap();
        drop(w);
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("imports")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

//! The import worker: runs started import jobs, one at a time, until shutdown.
//! Several replicas each run one; the store hands every job to one of them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::import::ImportRunner;

/// Looks for a job every `poll` when idle. At shutdown the job in progress
/// stops after its current batch and goes back to the queue.
pub async fn run(runner: Arc<ImportRunner>, poll: Duration, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    let work = async {
        loop {
            match runner.run_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, worker = runner.worker(), "import run failed; retried"),
            }
            tokio::time::sleep(poll).await;
        }
    };
    tokio::pin!(work);
    tokio::select! {
        () = &mut work => {}
        () = &mut shutdown => {
            runner.stop();
            // Let the batch in flight commit and the job be released.
            let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
        }
    }
}

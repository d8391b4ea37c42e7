//! The maintenance worker: runs queued global reports and repairs, one at a
//! time, until shutdown. Several replicas each run one; the store hands every
//! job to one of them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::repair::MaintenanceRunner;

/// Looks for a job every `poll` when idle. At shutdown the job in progress
/// stops after its current page; another worker takes it over after the lease.
pub async fn run(runner: Arc<MaintenanceRunner>, poll: Duration, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    let work = async {
        loop {
            match runner.run_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "maintenance job failed"),
            }
            tokio::time::sleep(poll).await;
        }
    };
    tokio::pin!(work);
    tokio::select! {
        () = &mut work => {}
        () = &mut shutdown => {
            runner.stop();
            let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
        }
    }
}

//! The worker that ends suspensions whose end time has passed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::auth::AuthService;
use steward_domain::lifecycle::LifecycleService;

/// Sweeps every `interval` until `shutdown` resolves. A sweep in progress is
/// finished first (each reactivation is its own transaction).
pub async fn run(
    lifecycle: Arc<LifecycleService>,
    auth: Arc<AuthService>,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    loop {
        match lifecycle.reactivate_due().await {
            Ok(sweep) => {
                if !sweep.reactivated.is_empty() {
                    // Nothing cached can be stale by a reactivation, but keep
                    // the rule simple: every change empties the cache.
                    auth.forget_cached_principals();
                    tracing::info!(count = sweep.reactivated.len(), "suspensions ended");
                }
                for (user, error) in sweep.failed {
                    tracing::warn!(user_id = %user, %error, "ending a suspension failed; retried next sweep");
                }
            }
            Err(error) => tracing::warn!(%error, "suspension sweep failed; retried"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = &mut shutdown => return,
        }
    }
}

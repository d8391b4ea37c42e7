//! SIGINT/SIGTERM as a future every task can wait on.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

pub struct Signals {
    rx: watch::Receiver<bool>,
}

impl Signals {
    pub fn install() -> Result<Self, String> {
        let (tx, rx) = watch::channel(false);
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
            let _ = tx.send(true);
        });
        Ok(Self { rx })
    }

    /// Resolves once a signal has arrived.
    pub fn subscribe(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }
}

//! The `steward` binary: reads configuration, builds the adapters, hands them
//! to the domain's services, starts the mail relay and the gRPC listener, and
//! shuts all of it down cleanly on SIGINT/SIGTERM.

use clap::Parser;
use steward_server::{config::Config, run};

#[tokio::main]
async fn main() {
    let config = Config::parse();
    steward_server::logging::init(&config);
    if let Err(e) = run(config).await {
        tracing::error!(error = %e, "steward stopped");
        eprintln!("steward: {e}");
        std::process::exit(1);
    }
}

//! Starting the real server and talking to it.

mod backend;
mod client;
mod mailbox;
mod people;
pub mod pgcluster;
pub mod raw;
mod server;
pub mod smtp;

pub use backend::Backend;
pub use client::{Client, assert_status, reason};
pub use mailbox::{Mailbox, extract_temporary_password as mailbox_password};
pub use people::{PASSWORD, Person, mask, onboard};
pub use server::{Replica, TestServer, TestServerBuilder};

/// Runs one async test body on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::harness::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(b) = $crate::harness::Backend::postgres().await {
                    ($body)(b).await;
                }
            }
        }
    };
}

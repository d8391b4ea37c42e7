//! SQL credentials for the query engine: each user's own login to the
//! warehouse, a name ([`SqlUsername`]) and a password stored only as a
//! SCRAM-SHA-256 verifier ([`scram`]) — exactly what PostgreSQL stores for a
//! role, so the engine can check the password without any plaintext.
//!
//! With a query engine configured, creating, rotating and deleting a
//! credential also creates, alters and drops the login there; see
//! [`SqlCredentialService`] for the order of the two writes and what happens
//! when one of them fails.

mod model;
mod ports;
mod resource_role;
pub mod scram;
mod service;

pub use model::{SqlCredential, SqlUsername};
pub use ports::{EngineError, QueryEngine, SqlCredentialStore};
pub use resource_role::ResourceRole;
pub use service::{CreatedSqlCredential, PasswordChoice, SqlCredentialService};

//! Every port in one place, for adapters to implement and the server to wire.

pub use crate::access::AccessRequestStore;
pub use crate::audit::AuditStore;
pub use crate::auth::{CredentialStore, PasswordHasher, TokenStore};
pub use crate::clock::Clock;
pub use crate::group::GroupStore;
pub use crate::key::ApiKeyStore;
pub use crate::lifecycle::LifecycleStore;
pub use crate::mfa::MfaStore;
pub use crate::notify::OutboxStore;
pub use crate::ownership::ResourceStore;
pub use crate::project::ProjectStore;
pub use crate::role::RoleStore;
pub use crate::sql::{QueryEngine, SqlCredentialStore};
pub use crate::user::UserStore;

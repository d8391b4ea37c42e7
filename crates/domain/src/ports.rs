//! Every port in one place, for adapters to implement and the server to wire.

pub use crate::audit::AuditStore;
pub use crate::auth::{CredentialStore, PasswordHasher, TokenStore};
pub use crate::clock::Clock;
pub use crate::mfa::MfaStore;
pub use crate::notify::OutboxStore;
pub use crate::role::RoleStore;
pub use crate::user::UserStore;

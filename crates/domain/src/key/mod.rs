//! API keys: shown once, stored as a keyed digest, acting with one role the
//! owner holds (never more than the owner has now), optionally limited to one
//! project's data sources, revocable at once.

mod model;
mod ports;
mod service;

pub use model::{ApiKey, ApiKeyState, NewKeyRequest};
pub use ports::ApiKeyStore;
pub use service::{ApiKeyService, CreatedApiKey};

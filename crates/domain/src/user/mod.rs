//! Users: who they are (validated value types), their profile, and the use
//! cases that create, read, list and update them.

mod accounts;
mod email;
mod model;
mod name;
mod patch;
mod ports;
mod profile;
mod service;
mod username;

pub use accounts::{Bootstrapped, CreateServiceAccount, CreatedServiceAccount};
pub use email::{Email, EmailPolicy};
pub use model::{User, UserKind, UserStatus};
pub use name::FullName;
pub use patch::{RawValue, UPDATABLE_FIELDS, UserPatch};
pub use ports::{NewUser, UserFilter, UserStore};
pub use profile::{Platform, PlatformAccounts, PlatformUsername, Profile, ProfileField};
pub use service::{CreateUser, UserRef, UserService, UserServiceConfig, fresh_user, mint_temporary_password};
pub use username::Username;

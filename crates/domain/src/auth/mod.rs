//! Authentication: passwords, tokens, sessions, API-key resolution, and the
//! principal every use case is called with.

mod cache;
mod login;
mod password;
mod ports;
mod principal;
mod service;
mod token;

pub use cache::PrincipalCache;
pub use login::LoginPolicy;
pub use password::{NewPassword, PasswordHasher, Verified};
pub use ports::{
    ApiKeyRecord, CredentialStore, LoginAttempt, LoginRecord, NewApiKey, NewSession, SessionRecord, TempPassword,
    TokenStore,
};
pub use principal::{Ctx, Principal, Via};
pub use service::{AuthService, IssuedSession, WhoAmI};
pub use token::{IssuedToken, ParsedToken, TokenKind};

//! Multi-factor authentication with TOTP (RFC 6238): enrolment, confirmation,
//! the second factor at login, and disabling it. The secret rests sealed with
//! the server key; the code arithmetic lives in [`totp`].

mod ports;
mod service;
pub mod totp;

pub use ports::{MfaRecord, MfaStore};
pub(crate) use service::open_secret;
pub use service::{Enrollment, MfaService, seal_context};

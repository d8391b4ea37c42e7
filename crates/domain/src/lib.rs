//! Steward's pure core: the product's rules, with the outside world behind ports.
//!
//! Modules follow the product's nouns. Nothing here performs I/O by itself: the
//! stores, the clock, the password hasher and the mail relay are traits
//! ([`ports`]) that adapter crates implement and the server wires in.

pub mod access;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod effects;
pub mod error;
pub mod group;
pub mod id;
pub mod import;
pub mod key;
pub mod keyring;
pub mod lifecycle;
pub mod mfa;
pub mod notify;
pub mod ownership;
pub mod page;
pub mod ports;
pub mod project;
pub mod repair;
pub mod role;
pub mod sql;
pub mod text;
pub mod user;

pub use error::{DomainError, FieldViolation, StoreError};

//! One tonic service per proto service: convert, delegate to the domain, convert back.

pub mod audit;
pub mod auth;
pub mod role;
pub mod user;

//! One tonic service per proto service: convert, delegate to the domain, convert back.

pub mod access;
pub mod api_key;
pub mod audit;
pub mod auth;
mod download;
pub mod group;
pub mod import;
pub mod lifecycle;
pub mod maintenance;
pub mod project;
pub mod resource;
pub mod role;
pub mod sql_credential;
pub mod user;

//! Storage tests: every test body runs on SQLite and on PostgreSQL, each in a
//! database of its own. One test binary, a module per area.

mod support;

mod access;
mod audit;
mod auth;
mod connect;
mod groups;
mod imports;
mod lifecycle;
mod mfa;
mod outbox;
mod projects;
mod repair;
mod resources;
mod roles;
mod sql_credentials;
mod users;

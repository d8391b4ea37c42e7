//! Black-box tests of the real `steward` binary over gRPC, each on SQLite and
//! on PostgreSQL. One test binary; one module per area.

pub mod harness;

#[cfg(test)]
mod access;
#[cfg(test)]
mod api_keys;
#[cfg(test)]
mod audit;
#[cfg(test)]
mod auth;
#[cfg(test)]
mod deletion;
#[cfg(test)]
mod groups;
#[cfg(test)]
mod imports;
#[cfg(test)]
mod lifecycle;
#[cfg(test)]
mod mail;
#[cfg(test)]
mod maintenance;
#[cfg(test)]
mod matrix;
#[cfg(test)]
mod mfa;
#[cfg(test)]
mod projects;
#[cfg(test)]
mod resources;
#[cfg(test)]
mod roles;
#[cfg(test)]
mod secrets;
#[cfg(test)]
mod sql;
#[cfg(test)]
mod transport;
#[cfg(test)]
mod users;

//! Identifiers: UUIDv7 newtypes, so a user id cannot be passed as a key id.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::error::DomainError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            /// Parses a client-supplied id; `field` names it in the violation.
            pub fn parse(s: &str, field: &str) -> Result<Self, DomainError> {
                Uuid::from_str(s.trim()).map(Self).map_err(|_| {
                    DomainError::invalid(field, "INVALID_ID", concat!("not a valid ", $what, " id (a UUID)"))
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(/// A user (person or, later, service account).
    UserId, "user");
id_type!(/// A login session.
    SessionId, "session");
id_type!(/// An API key.
    ApiKeyId, "API key");
id_type!(/// An audit event.
    AuditEventId, "audit event");
id_type!(/// A queued email.
    OutboxId, "outbox message");
id_type!(/// A project.
    ProjectId, "project");
id_type!(/// A registered resource (dataset, notebook, schedule, ...).
    ResourceId, "resource");
id_type!(/// A bulk-import job.
    ImportJobId, "import job");
id_type!(/// A request for access to a data source or a project.
    AccessRequestId, "access request");
id_type!(/// A global report or repair-all job.
    MaintenanceJobId, "maintenance job");

//! Upkeep: inconsistency findings for one user or for all, and the repairs
//! that fix them — in the database (one transaction per user) and on the
//! query engine (GRANT/REVOKE until a login holds exactly the per-resource
//! roles its access implies).

mod facts;
mod finding;
mod inspector;
mod job;
mod ports;
mod runner;
mod service;

pub use facts::{DeadGroup, EngineFacts, UserFacts, expected_roles, inspect};
pub use finding::{Finding, FindingKind, Fix, Outcome, RepairAction};
pub use inspector::{AuditFor, EngineMemo, Inspector};
pub use job::{FINDINGS_CSV_HEADER, FindingRow, FindingsCsv, JobKind, JobProgress, JobState, MaintenanceJob};
pub use ports::{MaintenanceJobStore, RepairStore};
pub use runner::{MaintenanceRunner, ORPHANS_PER_CLASS, USERS_PER_PAGE};
pub use service::{FINDINGS_PAGE, MAX_FINDINGS_PAGE, MaintenanceService, job_target};

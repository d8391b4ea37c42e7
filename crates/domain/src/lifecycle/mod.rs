//! A user's lifecycle after creation: suspension (and its automatic end),
//! reactivation, and deletion — planned, then carried out in one
//! transaction that transfers everything transferable to a new owner.

mod model;
mod ports;
mod service;

pub use model::{DeletionPlan, Disposition, Holding, Holdings, OwnedKind, PlanLine, SuspensionReason};
pub use ports::{LifecycleStore, UserDeletion, UserSuspension};
pub use service::{LifecycleService, Suspended, Sweep};

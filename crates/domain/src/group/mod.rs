//! Groups: owned resources with members and an active flag, their
//! resource-group entries (read-only or owner access to a dataset, view or
//! domain), and every user's personal group.

mod model;
mod ports;
mod service;

pub use model::{CreateGroup, Group, GroupLink, GroupPatch, UPDATABLE_GROUP_FIELDS};
pub use ports::GroupStore;
pub use service::{GROUPS_PAGE, GroupService, group_target};

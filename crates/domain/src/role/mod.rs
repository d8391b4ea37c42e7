//! Roles and permissions. Built-in `default` (self-service, held by everyone)
//! and `admin` (every permission); custom roles are named permission sets an
//! admin defines. A session or API key acts with one role at a time.

mod model;
mod name;
mod permission;
mod ports;
mod service;

pub use model::{Role, RolePatch};
pub use name::RoleName;
pub use permission::{Permission, PermissionSet};
pub use ports::{RoleStore, UnassignGuard};
pub use service::{HeldRoles, RoleService};

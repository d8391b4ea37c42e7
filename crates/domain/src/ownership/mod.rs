//! The ownership registry: resources, their kinds and owners, who may see
//! them ([`Visibility`]), and which kinds transfer when an owner is deleted.

mod access_level;
mod kind;
mod model;
mod ports;
mod service;
mod visibility;

pub use access_level::AccessLevel;
pub use kind::ResourceKind;
pub use model::{
    DisplayName, HELD_SHOWN, KindCount, MAX_PROJECTS, MAX_READERS, RegisterResource, Resource, ResourcePatch,
    UPDATABLE_FIELDS, UserResources,
};
pub use ports::{ResourceFilter, ResourceStore};
pub use service::{RESOURCES_PAGE, ResourceService, resource_target};
pub(crate) use service::{is_live, not_found as resource_not_found};
pub use visibility::{Visibility, unscoped};

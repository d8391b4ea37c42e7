//! Access requests ("the requests tab"): ask for a data source or a project,
//! the owner or `access.decide_any` decides, an approval grants until an
//! optional expiry.

mod model;
mod ports;
mod service;

pub use model::*;
pub use ports::*;
pub use service::*;

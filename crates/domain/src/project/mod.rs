//! Projects: their members and linked data sources — what a project-scoped
//! API key may see.

mod model;
mod ports;
mod service;

pub use model::{CreateProject, Project, ProjectName};
pub use ports::ProjectStore;
pub use service::{DATA_SOURCES_PAGE, PROJECTS_PAGE, ProjectService, project_target};

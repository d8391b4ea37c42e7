use time::OffsetDateTime;

use super::{PermissionSet, RoleName};

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: RoleName,
    pub description: String,
    /// For built-in roles this is what they grant by definition (see
    /// [`PermissionSet::of_role`]), not something stored and edited.
    pub permissions: PermissionSet,
    pub builtin: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl Role {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// A validated partial update of a custom role.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub name: Option<RoleName>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
}

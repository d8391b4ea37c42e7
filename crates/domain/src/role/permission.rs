//! The permission catalogue and sets of permissions.

use super::RoleName;
use crate::error::FieldViolation;

/// The permission catalogue. Self-service actions on one's own user need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    UsersRead,
    UsersCreate,
    UsersUpdate,
    UsersSuspend,
    UsersDelete,
    UsersImport,
    RolesManage,
    RolesAssign,
    KeysManageAny,
    ResourcesRegister,
    ResourcesReadAll,
    ProjectsManageAny,
    GroupsManageAny,
    AccessDecideAny,
    MaintenanceReport,
    MaintenanceRepair,
    AuditRead,
    SqlVerify,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Self::UsersRead,
        Self::UsersCreate,
        Self::UsersUpdate,
        Self::UsersSuspend,
        Self::UsersDelete,
        Self::UsersImport,
        Self::RolesManage,
        Self::RolesAssign,
        Self::KeysManageAny,
        Self::ResourcesRegister,
        Self::ResourcesReadAll,
        Self::ProjectsManageAny,
        Self::GroupsManageAny,
        Self::AccessDecideAny,
        Self::MaintenanceReport,
        Self::MaintenanceRepair,
        Self::AuditRead,
        Self::SqlVerify,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::UsersRead => "users.read",
            Self::UsersCreate => "users.create",
            Self::UsersUpdate => "users.update",
            Self::UsersSuspend => "users.suspend",
            Self::UsersDelete => "users.delete",
            Self::UsersImport => "users.import",
            Self::RolesManage => "roles.manage",
            Self::RolesAssign => "roles.assign",
            Self::KeysManageAny => "keys.manage_any",
            Self::ResourcesRegister => "resources.register",
            Self::ResourcesReadAll => "resources.read_all",
            Self::ProjectsManageAny => "projects.manage_any",
            Self::GroupsManageAny => "groups.manage_any",
            Self::AccessDecideAny => "access.decide_any",
            Self::MaintenanceReport => "maintenance.report",
            Self::MaintenanceRepair => "maintenance.repair",
            Self::AuditRead => "audit.read",
            Self::SqlVerify => "sql.verify",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What holding it allows, for the catalogue a role editor shows.
    pub fn description(self) -> &'static str {
        match self {
            Self::UsersRead => "Read and list every user",
            Self::UsersCreate => "Create users and service accounts",
            Self::UsersUpdate => "Update any user's profile, including warehouse usernames",
            Self::UsersSuspend => "Suspend and reactivate users",
            Self::UsersDelete => "Delete suspended users, transferring what they own",
            Self::UsersImport => "Create users in bulk from CSV",
            Self::RolesManage => "Create, update and delete custom roles",
            Self::RolesAssign => "Assign and unassign roles",
            Self::KeysManageAny => "Manage anyone's API keys",
            Self::ResourcesRegister => "Register resources in the ownership registry",
            Self::ResourcesReadAll => "Read every registered resource",
            Self::ProjectsManageAny => "Read every project; manage any project's members and data sources",
            Self::GroupsManageAny => "Read every group; manage any group's name, state, members and resources",
            Self::AccessDecideAny => "Decide any access request",
            Self::MaintenanceReport => "Generate inconsistency reports",
            Self::MaintenanceRepair => "Repair inconsistencies",
            Self::AuditRead => "Read the audit trail",
            Self::SqlVerify => "Verify SQL credentials (for the query engine)",
        }
    }
}

/// The permissions a session or key acts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(Vec<Permission>);

impl PermissionSet {
    pub fn all() -> Self {
        Self(Permission::ALL.to_vec())
    }

    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// What a role grants: `admin` everything (whatever the catalogue holds
    /// today), `default` nothing beyond self-service, a custom role its stored
    /// permission names (unknown names are ignored).
    pub fn of_role(role: &RoleName, stored: &[String]) -> Self {
        if role.is_admin() {
            Self::all()
        } else if role.is_default() {
            Self::none()
        } else {
            Self::from_names(stored)
        }
    }

    fn from_names(names: &[String]) -> Self {
        let mut v: Vec<Permission> = names.iter().filter_map(|n| Permission::parse(n)).collect();
        v.sort();
        v.dedup();
        Self(v)
    }

    /// Parses names a client sent; every unknown name is a violation of `field`.
    pub fn parse(names: &[String], field: &str) -> Result<Self, Vec<FieldViolation>> {
        let unknown: Vec<FieldViolation> = names
            .iter()
            .filter(|n| Permission::parse(n).is_none())
            .map(|n| {
                FieldViolation::new(field, "UNKNOWN_PERMISSION", format!("{n:?} is not in the permission catalogue"))
            })
            .collect();
        if unknown.is_empty() { Ok(Self::from_names(names)) } else { Err(unknown) }
    }

    /// Whether every permission of `self` is also in `other`.
    pub fn is_subset_of(&self, other: &PermissionSet) -> bool {
        self.0.iter().all(|p| other.has(*p))
    }

    /// The first permission of `self` missing from `other`.
    pub fn first_missing_from(&self, other: &PermissionSet) -> Option<Permission> {
        self.0.iter().copied().find(|p| !other.has(*p))
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|p| p.name().to_string()).collect()
    }

    pub fn has(&self, p: Permission) -> bool {
        self.0.contains(&p)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }
}

//! Roles and permissions. Built-in `default` (self-service) and `admin`
//! (everything). Custom roles as named permission sets come with RoleService.

use std::fmt;

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
    AccessDecideAny,
    MaintenanceReport,
    MaintenanceRepair,
    AuditRead,
    SqlVerify,
}

impl Permission {
    pub const ALL: [Permission; 16] = [
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
}

/// A role's name. Built-in names are `default` and `admin`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleName(String);

impl RoleName {
    pub const DEFAULT: &'static str = "default";
    pub const ADMIN: &'static str = "admin";

    pub fn default_role() -> Self {
        Self(Self::DEFAULT.into())
    }

    pub fn admin() -> Self {
        Self(Self::ADMIN.into())
    }

    /// A stored name, trusted as written by this program.
    pub fn from_stored(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_admin(&self) -> bool {
        self.0 == Self::ADMIN
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    /// What a built-in role grants.
    pub fn of_builtin(role: &RoleName) -> Self {
        if role.is_admin() { Self::all() } else { Self::none() }
    }

    pub fn has(&self, p: Permission) -> bool {
        self.0.contains(&p)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }
}

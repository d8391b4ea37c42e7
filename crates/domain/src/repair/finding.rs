//! What a report lists: a finding per thing that is not as it should be,
//! with the fix a repair would apply. A finding names its class, the user it
//! concerns (none for rows that belong to nobody any more), the target, what
//! was expected and what was found.

use crate::id::{ProjectId, ResourceId, UserId};
use crate::sql::ResourceRole;

/// The classes of inconsistency, as stable codes (reports, CSV, the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// 1. A member of a group that is inactive.
    MemberOfInactiveGroup,
    /// 1. A member of a group that no longer exists.
    MemberOfMissingGroup,
    /// 2. A resource-group entry for a resource that no longer exists.
    EntryForMissingResource,
    /// 2. A resource-group entry of a group that no longer exists.
    EntryOfMissingGroup,
    /// 2. A membership of a user who no longer exists.
    MembershipOfMissingUser,
    /// 3. A personal group whose name is not its user's username.
    PersonalGroupMisnamed,
    /// 3. A personal group of a user who is deleted or no longer exists.
    PersonalGroupWithoutUser,
    /// 3. A live user without a personal group.
    PersonalGroupMissing,
    /// 4. The SQL login lacks a per-resource role its access implies.
    WarehouseGrantMissing,
    /// 4. The SQL login holds a per-resource role its access does not imply.
    WarehouseGrantExtra,
    /// 4. SQL credentials exist but the engine has no such login.
    SqlLoginMissing,
    /// 4. A platform username (Databricks, …) mapped to two users.
    PlatformUsernameShared,
    /// 4. The query engine could not be asked: parity is unknown.
    WarehouseUnreachable,
    /// 5. Sessions alive for a suspended or deleted user.
    SessionsOfInactiveUser,
    /// 5. API keys alive for a suspended or deleted user.
    KeysOfInactiveUser,
    /// 5. A read-only grant past its end, still stored.
    ReaderGrantExpired,
    /// 5. A project membership past its end, still stored.
    MembershipExpired,
    /// 5. Resources owned by a suspended or deleted user.
    ResourcesOfInactiveOwner,
}

impl FindingKind {
    pub const ALL: [FindingKind; 18] = [
        Self::MemberOfInactiveGroup,
        Self::MemberOfMissingGroup,
        Self::EntryForMissingResource,
        Self::EntryOfMissingGroup,
        Self::MembershipOfMissingUser,
        Self::PersonalGroupMisnamed,
        Self::PersonalGroupWithoutUser,
        Self::PersonalGroupMissing,
        Self::WarehouseGrantMissing,
        Self::WarehouseGrantExtra,
        Self::SqlLoginMissing,
        Self::PlatformUsernameShared,
        Self::WarehouseUnreachable,
        Self::SessionsOfInactiveUser,
        Self::KeysOfInactiveUser,
        Self::ReaderGrantExpired,
        Self::MembershipExpired,
        Self::ResourcesOfInactiveOwner,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::MemberOfInactiveGroup => "MEMBER_OF_INACTIVE_GROUP",
            Self::MemberOfMissingGroup => "MEMBER_OF_MISSING_GROUP",
            Self::EntryForMissingResource => "ENTRY_FOR_MISSING_RESOURCE",
            Self::EntryOfMissingGroup => "ENTRY_OF_MISSING_GROUP",
            Self::MembershipOfMissingUser => "MEMBERSHIP_OF_MISSING_USER",
            Self::PersonalGroupMisnamed => "PERSONAL_GROUP_MISNAMED",
            Self::PersonalGroupWithoutUser => "PERSONAL_GROUP_WITHOUT_USER",
            Self::PersonalGroupMissing => "PERSONAL_GROUP_MISSING",
            Self::WarehouseGrantMissing => "WAREHOUSE_GRANT_MISSING",
            Self::WarehouseGrantExtra => "WAREHOUSE_GRANT_EXTRA",
            Self::SqlLoginMissing => "SQL_LOGIN_MISSING",
            Self::PlatformUsernameShared => "PLATFORM_USERNAME_SHARED",
            Self::WarehouseUnreachable => "WAREHOUSE_UNREACHABLE",
            Self::SessionsOfInactiveUser => "SESSIONS_OF_INACTIVE_USER",
            Self::KeysOfInactiveUser => "KEYS_OF_INACTIVE_USER",
            Self::ReaderGrantExpired => "READER_GRANT_EXPIRED",
            Self::MembershipExpired => "MEMBERSHIP_EXPIRED",
            Self::ResourcesOfInactiveOwner => "RESOURCES_OF_INACTIVE_OWNER",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// What a repair does about a finding. Database fixes commit together, in
/// one transaction per user; engine fixes follow, one GRANT/REVOKE each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    RemoveMembership {
        group: ResourceId,
        user: UserId,
    },
    DeleteEntry {
        group: ResourceId,
        resource: ResourceId,
    },
    RenamePersonalGroup {
        group: ResourceId,
        name: String,
    },
    DeleteGroup {
        group: ResourceId,
    },
    CreatePersonalGroup {
        user: UserId,
        name: String,
    },
    RevokeSessions {
        user: UserId,
    },
    RevokeKeys {
        user: UserId,
    },
    DropReaderGrant {
        resource: ResourceId,
        user: UserId,
    },
    DropMembership {
        project: ProjectId,
        user: UserId,
    },
    /// On the engine: create the login from the stored verifier, unable to
    /// log in unless the user is active (as suspension leaves it).
    CreateLogin {
        user: UserId,
        can_log_in: bool,
    },
    /// On the engine.
    Grant {
        role: ResourceRole,
    },
    /// On the engine.
    Revoke {
        role: ResourceRole,
    },
    /// On the engine, once it answers: the login's parity was not checked.
    CheckEngine {
        user: UserId,
    },
    /// Nothing a repair may decide alone; `why` says what a person must do.
    Manual {
        why: &'static str,
    },
}

impl Fix {
    /// Whether the fix is a change to the query engine (else to the database,
    /// or nothing).
    pub fn on_engine(&self) -> bool {
        matches!(self, Self::CreateLogin { .. } | Self::Grant { .. } | Self::Revoke { .. } | Self::CheckEngine { .. })
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Self::Manual { .. })
    }

    /// A short sentence for reports and the audit trail (no secrets: names
    /// and ids only).
    pub fn describe(&self) -> String {
        match self {
            Self::RemoveMembership { group, user } => format!("remove user/{user} from group/{group}"),
            Self::DeleteEntry { group, resource } => {
                format!("delete the entry of group/{group} for resource/{resource}")
            }
            Self::RenamePersonalGroup { group, name } => format!("rename group/{group} to {name}"),
            Self::DeleteGroup { group } => format!("delete group/{group} with its members and entries"),
            Self::CreatePersonalGroup { user, name } => format!("create the personal group {name} of user/{user}"),
            Self::RevokeSessions { user } => format!("revoke the sessions of user/{user}"),
            Self::RevokeKeys { user } => format!("revoke the API keys of user/{user}"),
            Self::DropReaderGrant { resource, user } => {
                format!("drop the ended read grant of user/{user} on resource/{resource}")
            }
            Self::DropMembership { project, user } => {
                format!("drop the ended membership of user/{user} in project/{project}")
            }
            Self::CreateLogin { user, .. } => format!("create the SQL login of user/{user} from its stored verifier"),
            Self::Grant { role } => format!("GRANT {role} to the SQL login"),
            Self::Revoke { role } => format!("REVOKE {role} from the SQL login"),
            Self::CheckEngine { user } => {
                format!("compare the SQL login of user/{user} with its access once the query engine answers")
            }
            Self::Manual { why } => format!("none: {why}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub user: Option<UserId>,
    /// `kind/id` (or a role name on the engine), like audit targets.
    pub target: String,
    pub expected: String,
    pub found: String,
    pub fix: Fix,
}

/// What became of a finding in a repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The fix was applied.
    Repaired,
    /// A dry run: the fix would be applied.
    WouldRepair,
    /// The fix could not be applied (the engine unreachable, …): `why`.
    NotRepaired(String),
    /// No automatic fix exists (see [`Fix::Manual`]).
    Manual,
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Repaired => "REPAIRED",
            Self::WouldRepair => "WOULD_REPAIR",
            Self::NotRepaired(_) => "NOT_REPAIRED",
            Self::Manual => "MANUAL",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Self::NotRepaired(why) => why,
            _ => "",
        }
    }
}

/// A finding and what a repair did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairAction {
    pub finding: Finding,
    pub outcome: Outcome,
}

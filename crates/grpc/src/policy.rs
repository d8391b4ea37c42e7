//! Deny by default: every RPC Steward serves has an entry here, saying who
//! may reach it at all. What a principal may do once in — permissions, self
//! versus others — is decided by the domain use case.
//!
//! A test lists every method in the compiled descriptor and fails when one is
//! missing; a method without an entry is refused at the door.

/// Who may reach an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (logging in).
    Public,
    /// Any valid session or API key, but not a session that must first change
    /// its temporary password.
    Authenticated,
    /// Any valid session or key, including one that must change its password.
    EvenBeforePasswordChange,
}

/// Whether an RPC may change state. After every call that may, the transport
/// empties the principal cache, so the caller's next call (and everyone
/// else's on this node) sees the change. Reads must really only read; when
/// in doubt an RPC is `Changes` (which only costs a cache refill).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Reads,
    Changes,
}

/// The policy table: full method path → access, effect.
pub const POLICY: &[(&str, Access, Effect)] = &[
    ("/steward.v1.AuthService/Login", Access::Public, Effect::Changes),
    ("/steward.v1.AuthService/ChangePassword", Access::EvenBeforePasswordChange, Effect::Changes),
    ("/steward.v1.AuthService/Logout", Access::EvenBeforePasswordChange, Effect::Changes),
    ("/steward.v1.AuthService/WhoAmI", Access::Authenticated, Effect::Reads),
    ("/steward.v1.AuthService/EnrollMfa", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AuthService/ConfirmMfa", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AuthService/DisableMfa", Access::Authenticated, Effect::Changes),
    ("/steward.v1.UserService/CreateUser", Access::Authenticated, Effect::Changes),
    ("/steward.v1.UserService/GetUser", Access::Authenticated, Effect::Reads),
    ("/steward.v1.UserService/ListUsers", Access::Authenticated, Effect::Reads),
    ("/steward.v1.UserService/UpdateUser", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AuthService/SwitchRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.UserService/CreateServiceAccount", Access::Authenticated, Effect::Changes),
    ("/steward.v1.UserService/SuspendUser", Access::Authenticated, Effect::Changes),
    ("/steward.v1.UserService/ReactivateUser", Access::Authenticated, Effect::Changes),
    ("/steward.v1.UserService/PlanUserDeletion", Access::Authenticated, Effect::Reads),
    ("/steward.v1.UserService/DeleteUser", Access::Authenticated, Effect::Changes),
    ("/steward.v1.RoleService/ListPermissions", Access::Authenticated, Effect::Reads),
    ("/steward.v1.RoleService/ListRoles", Access::Authenticated, Effect::Reads),
    ("/steward.v1.RoleService/GetRole", Access::Authenticated, Effect::Reads),
    ("/steward.v1.RoleService/CreateRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.RoleService/UpdateRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.RoleService/DeleteRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.RoleService/AssignRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.RoleService/UnassignRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.RoleService/ListUserRoles", Access::Authenticated, Effect::Reads),
    ("/steward.v1.RoleService/SetDefaultRole", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ApiKeyService/CreateApiKey", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ApiKeyService/ListApiKeys", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ApiKeyService/RevokeApiKey", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AuditService/ListAuditEvents", Access::Authenticated, Effect::Reads),
    ("/steward.v1.SqlCredentialService/CreateSqlCredential", Access::Authenticated, Effect::Changes),
    ("/steward.v1.SqlCredentialService/GetSqlCredential", Access::Authenticated, Effect::Reads),
    ("/steward.v1.SqlCredentialService/RotateSqlCredential", Access::Authenticated, Effect::Changes),
    ("/steward.v1.SqlCredentialService/DeleteSqlCredential", Access::Authenticated, Effect::Changes),
    ("/steward.v1.SqlCredentialService/VerifySqlCredential", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ResourceService/RegisterResource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ResourceService/GetResource", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ResourceService/ListResources", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ResourceService/UpdateResource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ResourceService/DeleteResource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ResourceService/ListUserResources", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ProjectService/CreateProject", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ProjectService/GetProject", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ProjectService/ListProjects", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ProjectService/AddProjectMember", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ProjectService/RemoveProjectMember", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ProjectService/LinkDataSource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ProjectService/UnlinkDataSource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ProjectService/ListDataSources", Access::Authenticated, Effect::Reads),
    ("/steward.v1.GroupService/CreateGroup", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/GetGroup", Access::Authenticated, Effect::Reads),
    ("/steward.v1.GroupService/ListGroups", Access::Authenticated, Effect::Reads),
    ("/steward.v1.GroupService/UpdateGroup", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/DeactivateGroup", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/ActivateGroup", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/DeleteGroup", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/AddGroupMember", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/RemoveGroupMember", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/LinkGroupResource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.GroupService/UnlinkGroupResource", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ImportService/GetImportTemplate", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ImportService/CreateImportJob", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ImportService/UploadImportFile", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ImportService/StartImportJob", Access::Authenticated, Effect::Changes),
    ("/steward.v1.ImportService/GetImportJob", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ImportService/ListImportJobs", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ImportService/ListImportJobErrors", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ImportService/DownloadImportJobErrors", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ImportService/WatchImportJob", Access::Authenticated, Effect::Reads),
    ("/steward.v1.ImportService/CancelImportJob", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AccessService/CreateAccessRequest", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AccessService/GetAccessRequest", Access::Authenticated, Effect::Reads),
    ("/steward.v1.AccessService/ListAccessRequests", Access::Authenticated, Effect::Reads),
    ("/steward.v1.AccessService/ApproveAccessRequest", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AccessService/DenyAccessRequest", Access::Authenticated, Effect::Changes),
    ("/steward.v1.AccessService/WithdrawAccessRequest", Access::Authenticated, Effect::Changes),
    ("/steward.v1.MaintenanceService/GenerateUserReport", Access::Authenticated, Effect::Reads),
    ("/steward.v1.MaintenanceService/RepairUser", Access::Authenticated, Effect::Changes),
    ("/steward.v1.MaintenanceService/GenerateGlobalReport", Access::Authenticated, Effect::Changes),
    ("/steward.v1.MaintenanceService/RepairAllUsers", Access::Authenticated, Effect::Changes),
    ("/steward.v1.MaintenanceService/GetMaintenanceJob", Access::Authenticated, Effect::Reads),
    ("/steward.v1.MaintenanceService/ListMaintenanceJobFindings", Access::Authenticated, Effect::Reads),
    ("/steward.v1.MaintenanceService/DownloadMaintenanceJobFindings", Access::Authenticated, Effect::Reads),
];

/// Always open: health, reflection, and the presigned upload URLs (whose
/// signature is their credential, checked by the upload handler).
const OPEN_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    steward_domain::import::UPLOAD_PATH_PREFIX,
];

/// What the door does with a request for `path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Open,
    Require(Access),
    /// Not in the table: refused.
    Deny,
}

pub fn decide(path: &str) -> Decision {
    if OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Decision::Open;
    }
    match POLICY.iter().find(|(p, _, _)| *p == path) {
        Some((_, Access::Public, _)) => Decision::Open,
        Some((_, access, _)) => Decision::Require(*access),
        None => Decision::Deny,
    }
}

/// Whether a call to `path` may have changed state (unknown paths: yes;
/// health and reflection: no).
pub fn may_change_state(path: &str) -> bool {
    if OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return false;
    }
    POLICY.iter().find(|(p, _, _)| *p == path).is_none_or(|(_, _, effect)| *effect == Effect::Changes)
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_types::FileDescriptorSet;

    use super::*;

    /// Every RPC in the compiled descriptor has a policy entry, and every
    /// entry names a real RPC.
    #[test]
    fn every_rpc_has_a_policy_entry() {
        let fds = FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET).unwrap();
        let mut rpcs = Vec::new();
        for file in &fds.file {
            for svc in &file.service {
                for m in &svc.method {
                    rpcs.push(format!("/{}.{}/{}", file.package(), svc.name(), m.name()));
                }
            }
        }
        assert!(rpcs.len() >= POLICY.len());
        let missing: Vec<_> = rpcs.iter().filter(|r| decide(r) == Decision::Deny).collect();
        assert!(missing.is_empty(), "RPCs without a policy entry: {missing:?}");
        let stale: Vec<_> = POLICY.iter().filter(|(p, _, _)| !rpcs.iter().any(|r| r == p)).collect();
        assert!(stale.is_empty(), "policy entries for RPCs that do not exist: {stale:?}");
    }

    #[test]
    fn unknown_paths_are_denied_and_infrastructure_is_open() {
        assert_eq!(decide("/steward.v1.UserService/DropEverything"), Decision::Deny);
        assert_eq!(decide("/grpc.health.v1.Health/Check"), Decision::Open);
        assert_eq!(decide("/steward.v1.AuthService/Login"), Decision::Open);
    }

    /// Only methods named as reads are reads; everything else empties the
    /// principal cache after it runs.
    #[test]
    fn reads_are_named_as_reads() {
        for (path, _, effect) in POLICY {
            let name = path.rsplit('/').next().unwrap();
            // GenerateUserReport computes a report and stores nothing (unlike
            // GenerateGlobalReport, which queues a job).
            let read_name = ["Get", "List", "WhoAmI", "Verify", "Plan", "Watch", "Download", "GenerateUserReport"]
                .iter()
                .any(|p| name.starts_with(p));
            assert_eq!(*effect == Effect::Reads, read_name, "{path}");
        }
        assert!(may_change_state("/steward.v1.ApiKeyService/RevokeApiKey"));
        assert!(may_change_state("/steward.v1.UserService/DropEverything"));
        assert!(!may_change_state("/steward.v1.AuthService/WhoAmI"));
        assert!(!may_change_state("/grpc.health.v1.Health/Check"));
    }
}

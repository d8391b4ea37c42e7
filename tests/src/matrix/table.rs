//! The matrix itself: one row per RPC — the request (built against the
//! targets) and the outcome for each principal, in the column order of
//! [`super::cast::PRINCIPALS`]:
//!
//! anonymous · temporary-password session · self (default role) · other user ·
//! custom role (users.read, audit.read) · admin · service account (sql.verify,
//! resources.register) ·
//! revoked API key · project-scoped key of the self user's
//!
//! `A` allowed (reaches the use case; dummy input may still be refused as
//! invalid, missing or in the wrong state), `D` PERMISSION_DENIED,
//! `U` UNAUTHENTICATED, `C` FAILED_PRECONDITION / PASSWORD_CHANGE_REQUIRED.

use prost::Message;
use steward_grpc::pb;

use super::cast::Targets;
use crate::harness::{PASSWORD, mask};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    Unauth,
    ChangePw,
}

use Outcome::{Allow as A, ChangePw as C, Deny as D, Unauth as U};

pub struct Row {
    pub rpc: &'static str,
    pub request: fn(&Targets) -> Vec<u8>,
    pub expect: [Outcome; 9],
    /// The request names a user: checked for authorization before existence.
    pub targets_a_user: bool,
    /// The call ends the caller's session: run after every other row.
    pub ends_session: bool,
}

const fn row(rpc: &'static str, request: fn(&Targets) -> Vec<u8>, expect: [Outcome; 9]) -> Row {
    Row { rpc, request, expect, targets_a_user: false, ends_session: false }
}

const fn on_user(rpc: &'static str, request: fn(&Targets) -> Vec<u8>, expect: [Outcome; 9]) -> Row {
    Row { rpc, request, expect, targets_a_user: true, ends_session: false }
}

fn alice(t: &Targets) -> pb::UserSelector {
    pb::UserSelector { selector: Some(pb::user_selector::Selector::UserId(t.user_id.clone())) }
}

/// A UUIDv7 that names nothing (no import job, request, resource or group).
fn nobody_job() -> String {
    "00000000-0000-7000-8000-000000000000".into()
}

fn role(name: &str) -> pb::Role {
    pb::Role { name: name.into(), description: "from the matrix".into(), ..Default::default() }
}

#[rustfmt::skip]
pub const ROWS: &[Row] = &[
    //                                                                                      anon temp self other custom admin svc revoked scoped
    row("/steward.v1.AuthService/Login",
        |_| pb::LoginRequest { username: "alice".into(), password: PASSWORD.into(), ..Default::default() }.encode_to_vec(),
                                                                                            [A,  A,   A,   A,    A,     A,    A,  A,  A]),
    row("/steward.v1.AuthService/ChangePassword", |_| pb::ChangePasswordRequest::default().encode_to_vec(),
                                                                                            [U,  A,   A,   A,    A,     A,    A,  U,  A]),
    Row { ends_session: true, ..row("/steward.v1.AuthService/Logout", |_| pb::LogoutRequest {}.encode_to_vec(),
                                                                                            [U,  A,   A,   A,    A,     A,    A,  U,  A]) },
    row("/steward.v1.AuthService/WhoAmI", |_| pb::WhoAmIRequest {}.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.AuthService/SwitchRole", |_| pb::SwitchRoleRequest { role: "auditor".into() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.AuthService/EnrollMfa", |_| pb::EnrollMfaRequest {}.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.AuthService/ConfirmMfa", |_| pb::ConfirmMfaRequest { code: "000000".into() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    on_user("/steward.v1.AuthService/DisableMfa", |t| pb::DisableMfaRequest { user_id: t.user_id.clone(), code: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    D,     A,    D,  U,  A]),

    row("/steward.v1.UserService/CreateUser",
        |_| pb::CreateUserRequest { username: "matrixuser".into(), email: "mx@example.com".into(), full_name: "M".into(), request_id: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.UserService/CreateServiceAccount",
        |_| pb::CreateServiceAccountRequest { username: "matrixsvc".into(), email: "ms@example.com".into(), full_name: "M".into(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.UserService/GetUser",
        |t| pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::UserId(t.user_id.clone())) }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    A,     A,    D,  U,  A]),
    row("/steward.v1.UserService/ListUsers", |_| pb::ListUsersRequest::default().encode_to_vec(),
                                                                                            [U,  C,   D,   D,    A,     A,    D,  U,  D]),
    on_user("/steward.v1.UserService/UpdateUser",
        |t| pb::UpdateUserRequest { user_id: t.user_id.clone(), user: Some(pb::User { position: "Matrix".into(), ..Default::default() }), update_mask: mask(&["position"]), etag: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    D,     A,    D,  U,  A]),
    // Lifecycle: the admin's calls reach the use case and are refused there
    // (an end time in the past; alice is active, not suspended), changing nothing.
    on_user("/steward.v1.UserService/SuspendUser",
        |t| pb::SuspendUserRequest { user: Some(alice(t)), reason: "matrix".into(), end_time: Some(prost_types::Timestamp { seconds: 1, nanos: 0 }) }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.UserService/ReactivateUser",
        |t| pb::ReactivateUserRequest { user: Some(alice(t)) }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.UserService/PlanUserDeletion",
        |t| pb::PlanUserDeletionRequest { user: Some(alice(t)), new_owner: None }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.UserService/DeleteUser",
        |t| pb::DeleteUserRequest { user: Some(alice(t)), new_owner: None, plan_etag: "W/\"0\"".into() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),

    row("/steward.v1.RoleService/ListPermissions", |_| pb::ListPermissionsRequest {}.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.RoleService/ListRoles", |_| pb::ListRolesRequest {}.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.RoleService/GetRole", |t| pb::GetRoleRequest { name: t.role.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.RoleService/CreateRole", |_| pb::CreateRoleRequest { role: Some(role("matrixrole")) }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.RoleService/UpdateRole",
        |t| pb::UpdateRoleRequest { name: t.role.clone(), role: Some(role(&t.role)), update_mask: mask(&["description"]), etag: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.RoleService/AssignRole",
        |t| pb::AssignRoleRequest { user_id: t.user_id.clone(), role: t.role.clone() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.RoleService/UnassignRole",
        |t| pb::UnassignRoleRequest { user_id: t.user_id.clone(), role: t.role.clone() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.RoleService/DeleteRole", |t| pb::DeleteRoleRequest { name: t.role.clone(), force: true }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.RoleService/ListUserRoles", |t| pb::ListUserRolesRequest { user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    A,     A,    D,  U,  A]),
    row("/steward.v1.RoleService/SetDefaultRole", |_| pb::SetDefaultRoleRequest { role: "default".into() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),

    row("/steward.v1.ApiKeyService/CreateApiKey", |_| pb::CreateApiKeyRequest { name: "matrix".into(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    on_user("/steward.v1.ApiKeyService/ListApiKeys", |t| pb::ListApiKeysRequest { user_id: t.user_id.clone(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    D,     A,    D,  U,  A]),
    on_user("/steward.v1.ApiKeyService/RevokeApiKey", |t| pb::RevokeApiKeyRequest { api_key_id: t.api_key_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    D,     A,    D,  U,  A]),

    // Resources and projects: what a caller may not see is NOT_FOUND (counted as
    // reaching the use case here), so most denials show as A; the user-naming
    // rows check that a real id and a random one answer alike.
    on_user("/steward.v1.ResourceService/RegisterResource",
        |t| pb::RegisterResourceRequest { resource: Some(pb::Resource { kind: pb::ResourceKind::Dataset as i32, display_name: "matrix".into(), owner_id: t.user_id.clone(), ..Default::default() }), request_id: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    A,  U,  D]),
    row("/steward.v1.ResourceService/GetResource", |t| pb::GetResourceRequest { resource_id: t.resource_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    on_user("/steward.v1.ResourceService/ListResources", |t| pb::ListResourcesRequest { owner_id: t.user_id.clone(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    D,     A,    D,  U,  A]),
    row("/steward.v1.ResourceService/UpdateResource",
        |t| pb::UpdateResourceRequest { resource_id: t.resource_id.clone(), resource: Some(pb::Resource { display_name: "matrix".into(), ..Default::default() }), update_mask: mask(&["display_name"]), etag: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.ResourceService/DeleteResource", |t| pb::DeleteResourceRequest { resource_id: t.resource_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    on_user("/steward.v1.ResourceService/ListUserResources",
        |t| pb::ListUserResourcesRequest { selector: Some(pb::list_user_resources_request::Selector::UserId(t.user_id.clone())), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    D,     A,    D,  U,  A]),
    row("/steward.v1.ProjectService/CreateProject", |_| pb::CreateProjectRequest { name: "matrix project".into(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    D,  U,  D]),
    row("/steward.v1.ProjectService/GetProject", |t| pb::GetProjectRequest { project_id: t.project_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.ProjectService/ListProjects", |_| pb::ListProjectsRequest::default().encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    on_user("/steward.v1.ProjectService/AddProjectMember", |t| pb::AddProjectMemberRequest { project_id: t.project_id.clone(), user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    on_user("/steward.v1.ProjectService/RemoveProjectMember", |t| pb::RemoveProjectMemberRequest { project_id: t.project_id.clone(), user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.ProjectService/LinkDataSource", |t| pb::LinkDataSourceRequest { project_id: t.project_id.clone(), resource_id: t.resource_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.ProjectService/UnlinkDataSource", |t| pb::UnlinkDataSourceRequest { project_id: t.project_id.clone(), resource_id: t.resource_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.ProjectService/ListDataSources", |_| pb::ListDataSourcesRequest::default().encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),

    // Groups: like projects — a group the caller may not see is NOT_FOUND (counted
    // as reaching the use case); only people create groups; a project-scoped key
    // reads (and finds none) but changes nothing. DeleteGroup names a group that
    // does not exist, so alice's group stays for the other rows.
    row("/steward.v1.GroupService/CreateGroup", |_| pb::CreateGroupRequest { name: "matrix group".into(), request_id: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    D,  U,  D]),
    row("/steward.v1.GroupService/GetGroup", |t| pb::GetGroupRequest { group_id: t.group_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.GroupService/ListGroups", |_| pb::ListGroupsRequest::default().encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  A]),
    row("/steward.v1.GroupService/UpdateGroup",
        |t| pb::UpdateGroupRequest { group_id: t.group_id.clone(), group: Some(pb::Group { name: "matrix".into(), ..Default::default() }), update_mask: mask(&["name"]), etag: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.GroupService/DeactivateGroup", |t| pb::DeactivateGroupRequest { group_id: t.group_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.GroupService/ActivateGroup", |t| pb::ActivateGroupRequest { group_id: t.group_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.GroupService/DeleteGroup", |_| pb::DeleteGroupRequest { group_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    on_user("/steward.v1.GroupService/AddGroupMember", |t| pb::AddGroupMemberRequest { group_id: t.group_id.clone(), user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    on_user("/steward.v1.GroupService/RemoveGroupMember", |t| pb::RemoveGroupMemberRequest { group_id: t.group_id.clone(), user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.GroupService/LinkGroupResource",
        |t| pb::LinkGroupResourceRequest { group_id: t.group_id.clone(), resource_id: t.resource_id.clone(), access: pb::AccessLevel::Read as i32 }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.GroupService/UnlinkGroupResource", |t| pb::UnlinkGroupResourceRequest { group_id: t.group_id.clone(), resource_id: t.resource_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),

    row("/steward.v1.AuditService/ListAuditEvents", |_| pb::ListAuditEventsRequest::default().encode_to_vec(),
                                                                                            [U,  C,   D,   D,    A,     A,    D,  U,  D]),

    // SQL credentials: self-service (create/rotate/delete act on the caller's own);
    // reading someone else's needs users.read; verifying needs sql.verify.
    row("/steward.v1.SqlCredentialService/CreateSqlCredential", |_| pb::CreateSqlCredentialRequest { sql_username: String::new(), password: PASSWORD.into() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    on_user("/steward.v1.SqlCredentialService/GetSqlCredential", |t| pb::GetSqlCredentialRequest { user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   A,   D,    A,     A,    D,  U,  A]),
    row("/steward.v1.SqlCredentialService/RotateSqlCredential", |_| pb::RotateSqlCredentialRequest { password: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.SqlCredentialService/DeleteSqlCredential", |_| pb::DeleteSqlCredentialRequest {}.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.SqlCredentialService/VerifySqlCredential", |_| pb::VerifySqlCredentialRequest { sql_username: "alice".into(), password: PASSWORD.into() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    A,  U,  D]),

    // Access requests: any user asks and reads their own; a request or target
    // that does not exist is NOT_FOUND (reaching the use case); a
    // project-scoped key does none of it.
    row("/steward.v1.AccessService/CreateAccessRequest",
        |_| pb::CreateAccessRequestRequest { target: Some(pb::create_access_request_request::Target::DataSourceId(nobody_job())), justification: "matrix".into(), duration: None }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.AccessService/GetAccessRequest", |_| pb::GetAccessRequestRequest { access_request_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.AccessService/ListAccessRequests", |_| pb::ListAccessRequestsRequest::default().encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.AccessService/ApproveAccessRequest", |_| pb::ApproveAccessRequestRequest { access_request_id: nobody_job(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.AccessService/DenyAccessRequest", |_| pb::DenyAccessRequestRequest { access_request_id: nobody_job(), reason: "matrix".into(), etag: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),
    row("/steward.v1.AccessService/WithdrawAccessRequest", |_| pb::WithdrawAccessRequestRequest { access_request_id: nobody_job(), etag: String::new() }.encode_to_vec(),
                                                                                            [U,  C,   A,   A,    A,     A,    A,  U,  D]),

    // Imports: users.import only (the admin's calls name a job that does not
    // exist, so they reach the use case and change nothing but CreateImportJob's job).
    row("/steward.v1.ImportService/GetImportTemplate", |_| pb::GetImportTemplateRequest {}.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/CreateImportJob", |_| pb::CreateImportJobRequest {}.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/UploadImportFile", |_| pb::UploadImportFileRequest { job_id: nobody_job(), data: b"username,email,name\n".to_vec() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/StartImportJob", |_| pb::StartImportJobRequest { job_id: nobody_job(), validate_only: true, failure_threshold: None }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/GetImportJob", |_| pb::GetImportJobRequest { job_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/ListImportJobs", |_| pb::ListImportJobsRequest::default().encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/ListImportJobErrors", |_| pb::ListImportJobErrorsRequest { job_id: nobody_job(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/DownloadImportJobErrors", |_| pb::DownloadImportJobErrorsRequest { job_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/WatchImportJob", |_| pb::WatchImportJobRequest { job_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.ImportService/CancelImportJob", |_| pb::CancelImportJobRequest { job_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    // Maintenance: reports need maintenance.report, repairs maintenance.repair
    // (only the admin holds them here); the repairs are dry runs.
    on_user("/steward.v1.MaintenanceService/GenerateUserReport", |t| pb::GenerateUserReportRequest { user_id: t.user_id.clone() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    on_user("/steward.v1.MaintenanceService/RepairUser", |t| pb::RepairUserRequest { user_id: t.user_id.clone(), dry_run: true }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.MaintenanceService/GenerateGlobalReport", |_| pb::GenerateGlobalReportRequest {}.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.MaintenanceService/RepairAllUsers", |_| pb::RepairAllUsersRequest { dry_run: true }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.MaintenanceService/GetMaintenanceJob", |_| pb::GetMaintenanceJobRequest { job_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.MaintenanceService/ListMaintenanceJobFindings", |_| pb::ListMaintenanceJobFindingsRequest { job_id: nobody_job(), ..Default::default() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
    row("/steward.v1.MaintenanceService/DownloadMaintenanceJobFindings", |_| pb::DownloadMaintenanceJobFindingsRequest { job_id: nobody_job() }.encode_to_vec(),
                                                                                            [U,  C,   D,   D,    D,     A,    D,  U,  D]),
];

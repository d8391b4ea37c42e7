//! RoleService: custom roles as permission sets, assignment, default roles,
//! switching, the limits on handing out rights, and service accounts.

use steward_grpc::pb;
use tonic::Code;

use crate::harness::{Client, PASSWORD, TestServer, assert_status, onboard};
use crate::on_both_backends;

fn role(name: &str, permissions: &[&str]) -> pb::CreateRoleRequest {
    pb::CreateRoleRequest {
        role: Some(pb::Role {
            name: name.into(),
            description: format!("{name} role"),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }),
    }
}

fn assign(user_id: &str, role: &str) -> pb::AssignRoleRequest {
    pb::AssignRoleRequest { user_id: user_id.into(), role: role.into() }
}

fn unassign(user_id: &str, role: &str) -> pb::UnassignRoleRequest {
    pb::UnassignRoleRequest { user_id: user_id.into(), role: role.into() }
}

async fn active_role(c: &Client) -> (String, Vec<String>) {
    let w = c.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    (w.active_role, w.permissions)
}

on_both_backends!(custom_roles_grant_their_permissions, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let carol = onboard(&srv, "carol").await;
    let me = srv.client(Some(&carol.token)).await;

    let perms = admin.roles().list_permissions(pb::ListPermissionsRequest {}).await.unwrap().into_inner().permissions;
    assert!(perms.iter().any(|p| p.name == "users.read" && !p.description.is_empty()));
    let created = admin.roles().create_role(role("Auditor", &["users.read", "audit.read"])).await.unwrap().into_inner();
    let created = created.role.unwrap();
    assert_eq!((created.name.as_str(), created.builtin), ("auditor", false));
    let names: Vec<_> = admin
        .roles()
        .list_roles(pb::ListRolesRequest {})
        .await
        .unwrap()
        .into_inner()
        .roles
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, vec!["admin", "auditor", "default"]);

    assert_status(
        me.users().list_users(pb::ListUsersRequest::default()).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    let r = me.auth().switch_role(pb::SwitchRoleRequest { role: "auditor".into() }).await;
    assert_status(r, Code::FailedPrecondition, "ROLE_NOT_HELD");
    admin.roles().assign_role(assign(&carol.id, "auditor")).await.unwrap();
    let r = admin.roles().assign_role(assign(&carol.id, "AUDITOR")).await;
    assert_status(r, Code::AlreadyExists, "ROLE_ALREADY_ASSIGNED");
    let switched = me.auth().switch_role(pb::SwitchRoleRequest { role: "auditor".into() }).await.unwrap().into_inner();
    assert_eq!(switched.permissions, vec!["users.read", "audit.read"]);
    me.users().list_users(pb::ListUsersRequest::default()).await.expect("auditor may list users");
    assert_status(
        me.users()
            .create_user(pb::CreateUserRequest {
                username: "x1x".into(),
                email: "x@example.com".into(),
                full_name: "X".into(),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    // The default role decides where a new session starts.
    let held = me.roles().list_user_roles(pb::ListUserRolesRequest::default()).await.unwrap().into_inner();
    assert_eq!(
        (held.roles, held.default_role.as_str()),
        (vec!["default".to_string(), "auditor".to_string()], "default")
    );
    me.roles().set_default_role(pb::SetDefaultRoleRequest { role: "auditor".into() }).await.unwrap();
    let fresh = srv
        .client(None)
        .await
        .auth()
        .login(pb::LoginRequest { username: "carol".into(), password: PASSWORD.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let fresh = me.with_token(&fresh.session_token);
    assert_eq!(active_role(&fresh).await.0, "auditor");

    // Deleting a held role needs force; then sessions fall back to default at once.
    let r = admin.roles().delete_role(pb::DeleteRoleRequest { name: "auditor".into(), force: false }).await;
    assert_status(r, Code::FailedPrecondition, "ROLE_IN_USE");
    let d = admin.roles().delete_role(pb::DeleteRoleRequest { name: "auditor".into(), force: true }).await.unwrap();
    assert_eq!(d.into_inner().holders, 1);
    assert_eq!(active_role(&me).await, ("default".to_string(), vec![]));
    assert_eq!(active_role(&fresh).await.0, "default");
    let held = me.roles().list_user_roles(pb::ListUserRolesRequest::default()).await.unwrap().into_inner();
    assert_eq!((held.roles, held.default_role.as_str()), (vec!["default".to_string()], "default"));

    let actions: Vec<String> = admin
        .audit()
        .list_audit_events(pb::ListAuditEventsRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .audit_events
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in ["role.create", "role.assign", "auth.switch_role", "user.default_role", "role.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
});

on_both_backends!(bad_role_input_is_refused_and_changes_nothing, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let ann = onboard(&srv, "ann").await;
    let r = admin.roles().create_role(role("viewer", &["users.read", "users.fly"])).await;
    assert_status(r, Code::InvalidArgument, "UNKNOWN_PERMISSION");
    let r = admin.roles().create_role(role("Not Valid", &[])).await;
    assert_status(r, Code::InvalidArgument, "INVALID_ROLE_NAME");
    admin.roles().create_role(role("viewer", &["users.read"])).await.unwrap();
    assert_status(admin.roles().create_role(role("VIEWER", &[])).await, Code::AlreadyExists, "ROLE_NAME_TAKEN");
    assert_status(admin.roles().create_role(role("admin", &[])).await, Code::AlreadyExists, "ROLE_NAME_TAKEN");
    let builtin = pb::UpdateRoleRequest {
        name: "admin".into(),
        role: Some(pb::Role { description: "mine".into(), ..Default::default() }),
        update_mask: crate::harness::mask(&["description"]),
        etag: String::new(),
    };
    assert_status(admin.roles().update_role(builtin).await, Code::FailedPrecondition, "BUILTIN_ROLE");
    let r = admin.roles().delete_role(pb::DeleteRoleRequest { name: "default".into(), force: true }).await;
    assert_status(r, Code::FailedPrecondition, "BUILTIN_ROLE");
    assert_status(
        admin.roles().unassign_role(unassign(&ann.id, "default")).await,
        Code::FailedPrecondition,
        "DEFAULT_ROLE_PERMANENT",
    );
    assert_status(
        admin.roles().unassign_role(unassign(&ann.id, "viewer")).await,
        Code::FailedPrecondition,
        "ROLE_NOT_HELD",
    );
    assert_status(admin.roles().assign_role(assign(&ann.id, "ghost")).await, Code::NotFound, "NOT_FOUND");
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_status(admin.roles().assign_role(assign(&nobody, "viewer")).await, Code::NotFound, "NOT_FOUND");

    // Stale etag, then a rename that carries over to the holder.
    let v =
        admin.roles().get_role(pb::GetRoleRequest { name: "viewer".into() }).await.unwrap().into_inner().role.unwrap();
    admin.roles().assign_role(assign(&ann.id, "viewer")).await.unwrap();
    let rename = |etag: String| pb::UpdateRoleRequest {
        name: "viewer".into(),
        role: Some(pb::Role { name: "reader".into(), ..Default::default() }),
        update_mask: crate::harness::mask(&["name"]),
        etag,
    };
    admin.roles().update_role(rename(v.etag.clone())).await.unwrap();
    let stale = pb::UpdateRoleRequest { name: "reader".into(), ..rename(v.etag) };
    assert_status(admin.roles().update_role(stale).await, Code::Aborted, "ETAG_MISMATCH");
    let held =
        admin.roles().list_user_roles(pb::ListUserRolesRequest { user_id: ann.id.clone() }).await.unwrap().into_inner();
    assert_eq!(held.roles, vec!["default", "reader"]);
});

on_both_backends!(nobody_hands_out_rights_they_lack_and_one_admin_remains, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let me_info = admin.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap();
    let dana = onboard(&srv, "dana").await;
    let eve = onboard(&srv, "eve").await;
    admin.roles().create_role(role("rolemgr", &["roles.manage", "roles.assign", "users.read"])).await.unwrap();
    admin.roles().create_role(role("deleter", &["users.delete"])).await.unwrap();
    admin.roles().assign_role(assign(&dana.id, "rolemgr")).await.unwrap();
    let dana_c = srv.client(Some(&dana.token)).await;
    dana_c.auth().switch_role(pb::SwitchRoleRequest { role: "rolemgr".into() }).await.unwrap();
    let r = dana_c.roles().create_role(role("sneaky", &["users.delete"])).await;
    let s = assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    use tonic_types::StatusExt;
    assert_eq!(
        s.get_error_details().error_info().unwrap().metadata.get("permission").map(String::as_str),
        Some("users.delete")
    );
    assert_status(
        dana_c.roles().assign_role(assign(&eve.id, "deleter")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    assert_status(
        dana_c.roles().assign_role(assign(&eve.id, "admin")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    assert_status(
        dana_c.roles().unassign_role(unassign(&me_info.user_id, "admin")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    dana_c.roles().create_role(role("lesser", &["users.read"])).await.expect("within her rights");
    dana_c.roles().assign_role(assign(&eve.id, "lesser")).await.expect("within her rights");

    // The last active admin keeps the role; with a second admin it can go.
    let r = admin.roles().unassign_role(unassign(&me_info.user_id, "admin")).await;
    assert_status(r, Code::FailedPrecondition, "LAST_ADMIN");
    admin.roles().assign_role(assign(&eve.id, "admin")).await.unwrap();
    admin.roles().unassign_role(unassign(&me_info.user_id, "admin")).await.unwrap();
    // The bootstrap key acted as admin; it now acts as default, at once.
    assert_status(
        admin.users().list_users(pb::ListUsersRequest::default()).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
});

on_both_backends!(service_accounts_use_keys_not_passwords, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    admin.roles().create_role(role("engine", &["sql.verify"])).await.unwrap();
    let created = admin
        .users()
        .create_service_account(pb::CreateServiceAccountRequest {
            username: "engine".into(),
            email: "engine@example.com".into(),
            full_name: "Query engine".into(),
            roles: vec!["engine".into()],
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let user = created.user.unwrap();
    assert_eq!(user.kind, pb::UserKind::Service as i32);
    assert!(created.api_key_secret.starts_with("stw_key_"));
    let svc = srv.client(Some(&created.api_key_secret)).await;
    let who = svc.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!((who.active_role.as_str(), who.permissions), ("engine", vec!["sql.verify".to_string()]));
    let r = srv
        .client(None)
        .await
        .auth()
        .login(pb::LoginRequest { username: "engine".into(), password: "anything at all".into(), ..Default::default() })
        .await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    let listed =
        admin.users().list_users(pb::ListUsersRequest { query: "engine".into(), ..Default::default() }).await.unwrap();
    assert_eq!(listed.into_inner().users[0].kind, pb::UserKind::Service as i32);
    let r = admin
        .users()
        .create_service_account(pb::CreateServiceAccountRequest {
            username: "engine2".into(),
            email: "engine2@example.com".into(),
            full_name: "Q".into(),
            roles: vec!["missing".into()],
            request_id: String::new(),
        })
        .await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    assert!(srv.mailbox().all().iter().all(|m| !m.contains("engine@example.com")), "no welcome email: no password");
});

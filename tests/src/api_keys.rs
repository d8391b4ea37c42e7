//! ApiKeyService: shown once, listed without secrets, revoked at once, never
//! more than the owner has now.

use steward_grpc::pb;
use tonic::Code;

use crate::harness::{TestServer, assert_status, onboard};
use crate::on_both_backends;

fn key(name: &str) -> pb::CreateApiKeyRequest {
    pb::CreateApiKeyRequest { name: name.into(), ..Default::default() }
}

on_both_backends!(create_list_use_revoke, |backend| async move {
    let srv = TestServer::start(backend).await;
    let ann = onboard(&srv, "ann").await;
    let me = srv.client(Some(&ann.token)).await;
    let created = me
        .api_keys()
        .create_api_key(pb::CreateApiKeyRequest { description: "CI uploads".into(), ..key("ci") })
        .await
        .unwrap()
        .into_inner();
    assert!(created.secret.starts_with("stw_key_"));
    let k = created.api_key.unwrap();
    assert_eq!((k.name.as_str(), k.role.as_str(), k.state), ("ci", "default", pb::ApiKeyState::Active as i32));
    assert!(created.secret.starts_with(&k.prefix) && k.prefix.len() < created.secret.len());

    let with_key = srv.client(Some(&created.secret)).await;
    let who = with_key.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!((who.user.unwrap().user_id, who.credential_kind), (ann.id.clone(), pb::CredentialKind::ApiKey as i32));

    let listed = me.api_keys().list_api_keys(pb::ListApiKeysRequest::default()).await.unwrap().into_inner().api_keys;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_time.is_some(), "use is recorded");
    assert_eq!(listed[0].description, "CI uploads");

    me.api_keys().revoke_api_key(pb::RevokeApiKeyRequest { api_key_id: k.api_key_id.clone() }).await.unwrap();
    assert_status(with_key.auth().who_am_i(pb::WhoAmIRequest {}).await, Code::Unauthenticated, "UNAUTHENTICATED");
    let again = me.api_keys().revoke_api_key(pb::RevokeApiKeyRequest { api_key_id: k.api_key_id.clone() }).await;
    assert_status(again, Code::FailedPrecondition, "KEY_ALREADY_REVOKED");
    let listed = me.api_keys().list_api_keys(pb::ListApiKeysRequest::default()).await.unwrap().into_inner().api_keys;
    assert_eq!(listed[0].state, pb::ApiKeyState::Revoked as i32);

    let admin = srv.admin().await;
    let filter = pb::ListAuditEventsRequest { target: format!("api_key/{}", k.api_key_id), ..Default::default() };
    let events = admin.audit().list_audit_events(filter).await.unwrap().into_inner().audit_events;
    let actions: Vec<_> = events.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, vec!["key.revoke", "key.create"]);
});

on_both_backends!(a_key_never_exceeds_its_owner, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let ann = onboard(&srv, "ann").await;
    let me = srv.client(Some(&ann.token)).await;
    let r = me.api_keys().create_api_key(pb::CreateApiKeyRequest { role: "admin".into(), ..key("grab") }).await;
    assert_status(r, Code::FailedPrecondition, "ROLE_NOT_HELD");
    admin
        .roles()
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "lister".into(),
                permissions: vec!["users.read".into()],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    admin.roles().assign_role(pb::AssignRoleRequest { user_id: ann.id.clone(), role: "lister".into() }).await.unwrap();
    let secret = me
        .api_keys()
        .create_api_key(pb::CreateApiKeyRequest { role: "lister".into(), ..key("lister") })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let with_key = srv.client(Some(&secret)).await;
    with_key.users().list_users(pb::ListUsersRequest::default()).await.expect("the key acts as lister");
    admin
        .roles()
        .unassign_role(pb::UnassignRoleRequest { user_id: ann.id.clone(), role: "lister".into() })
        .await
        .unwrap();
    let r = with_key.users().list_users(pb::ListUsersRequest::default()).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
});

on_both_backends!(other_peoples_keys, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let as_bob = srv.client(Some(&bob.token)).await;
    let r = as_bob.api_keys().create_api_key(pb::CreateApiKeyRequest { user_id: ann.id.clone(), ..key("x") }).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let anns = admin
        .api_keys()
        .create_api_key(pb::CreateApiKeyRequest { user_id: ann.id.clone(), ..key("made by admin") })
        .await
        .unwrap()
        .into_inner()
        .api_key
        .unwrap();
    let random = uuid::Uuid::now_v7().to_string();
    for id in [anns.api_key_id.clone(), random] {
        let r = as_bob.api_keys().revoke_api_key(pb::RevokeApiKeyRequest { api_key_id: id }).await;
        assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    }
    let r =
        as_bob.api_keys().list_api_keys(pb::ListApiKeysRequest { user_id: ann.id.clone(), ..Default::default() }).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let filter = pb::ListApiKeysRequest { user_id: ann.id.clone(), ..Default::default() };
    assert_eq!(admin.api_keys().list_api_keys(filter).await.unwrap().into_inner().api_keys.len(), 1);
    let past = prost_types::Timestamp { seconds: 1_000_000_000, nanos: 0 };
    let r = admin.api_keys().create_api_key(pb::CreateApiKeyRequest { expire_time: Some(past), ..key("old") }).await;
    assert_status(r, Code::InvalidArgument, "EXPIRY_IN_PAST");
    let r = admin.api_keys().create_api_key(key("   ")).await;
    assert_status(r, Code::InvalidArgument, "INVALID_KEY_NAME");
    let nobody = uuid::Uuid::now_v7().to_string();
    let r = admin.api_keys().create_api_key(pb::CreateApiKeyRequest { user_id: nobody, ..key("x") }).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
});

// A revocation made behind this server's back — through another replica, or
// straight in the database — is seen within the principal cache's bound
// (`--principal-cache-ttl-ms`), not only after a restart.
on_both_backends!(a_revocation_through_another_replica_holds_within_the_cache_bound, |backend| async move {
    use sea_orm::{ConnectionTrait, Database};
    let srv = TestServer::builder(backend).arg("--principal-cache-ttl-ms").arg("300").start().await;
    let ann = onboard(&srv, "ann").await;
    let me = srv.client(Some(&ann.token)).await;
    let created = me.api_keys().create_api_key(key("ci")).await.unwrap().into_inner();
    let with_key = srv.client(Some(&created.secret)).await;
    with_key.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap();

    let db = Database::connect(&srv.database_url).await.unwrap();
    let id = uuid::Uuid::parse_str(&created.api_key.unwrap().api_key_id).unwrap();
    let revoke = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE api_keys SET revoked_at = created_at WHERE id = $1",
        vec![id.into()],
    );
    assert_eq!(db.execute_raw(revoke).await.unwrap().rows_affected(), 1);
    db.close().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_status(with_key.auth().who_am_i(pb::WhoAmIRequest {}).await, Code::Unauthenticated, "UNAUTHENTICATED");
});

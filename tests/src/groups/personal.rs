//! Every user's personal group: created with them, never renamed,
//! deactivated, deleted or shared, and the way to grant one user.

use std::time::Duration;

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use super::{create, groups, id, link, member, personal_group, rename};
use crate::harness::{TestServer, assert_status, onboard};
use crate::imports;
use crate::on_both_backends;
use crate::resources::{get, register, registrar};

on_both_backends!(every_user_has_a_personal_group_that_stays_personal, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let (ann_c, bob_c) = (srv.client(Some(&ann.token)).await, srv.client(Some(&bob.token)).await);

    // Created with the user: named after them, theirs, them as its member.
    let mine = personal_group(&ann_c, &ann.id).await;
    assert_eq!(
        (mine.name.as_str(), mine.owner_id.as_str(), mine.member_ids.clone(), mine.active),
        ("ann", ann.id.as_str(), vec![ann.id.clone()], true)
    );
    let owned = ann_c.resources().list_user_resources(pb::ListUserResourcesRequest::default()).await.unwrap();
    let owned = owned.into_inner();
    assert_eq!((owned.total, owned.resources[0].resource_id.clone()), (1, mine.group_id.clone()));
    // Service accounts and imported users have one too.
    let who = svc.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap();
    assert_eq!(personal_group(&admin, &who.user_id).await.name, "catalog");
    let job = imports::create(&admin).await;
    let job_id = job.job.unwrap().job_id;
    imports::upload_stream(&admin, &job_id, b"username,email,name\nimp1,imp1@example.com,Imported One\n", 64)
        .await
        .unwrap();
    imports::start(&admin, &job_id, false, None).await;
    let done = imports::finished(&admin, &job_id, Duration::from_secs(30)).await;
    assert_eq!(done.rows_created, 1);
    let imp = admin
        .users()
        .get_user(pb::GetUserRequest { selector: Some(pb::get_user_request::Selector::Username("imp1".into())) })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(personal_group(&admin, &imp.user_id).await.name, "imp1");

    // Never renamed, deactivated, deleted or given other members.
    let pid = mine.group_id.clone();
    assert_status(
        ann_c.groups().update_group(rename(&pid, "Mine", "")).await,
        Code::FailedPrecondition,
        "PERSONAL_GROUP",
    );
    let r = ann_c.groups().deactivate_group(pb::DeactivateGroupRequest { group_id: pid.clone() }).await;
    assert_status(r, Code::FailedPrecondition, "PERSONAL_GROUP");
    let r = ann_c.groups().activate_group(pb::ActivateGroupRequest { group_id: pid.clone() }).await;
    assert_status(r, Code::FailedPrecondition, "PERSONAL_GROUP");
    let r = ann_c.groups().delete_group(pb::DeleteGroupRequest { group_id: pid.clone() }).await;
    assert_status(r, Code::FailedPrecondition, "PERSONAL_GROUP");
    assert_status(
        ann_c.groups().add_group_member(member(&pid, &bob.id)).await,
        Code::FailedPrecondition,
        "PERSONAL_GROUP",
    );
    // Not even by the admin, nor through the ownership registry.
    assert_status(
        admin.groups().add_group_member(member(&pid, &bob.id)).await,
        Code::FailedPrecondition,
        "PERSONAL_GROUP",
    );
    let r = ann_c.resources().delete_resource(pb::DeleteResourceRequest { resource_id: pid.clone() }).await;
    assert_status(r, Code::FailedPrecondition, "MANAGED_BY_GROUP_SERVICE");
    let r = svc
        .resources()
        .register_resource(crate::resources::new_resource(K::Group, &ann.id, "A group behind GroupService's back"))
        .await;
    assert_status(r, Code::InvalidArgument, "MANAGED_BY_GROUP_SERVICE");
    let again = personal_group(&ann_c, &ann.id).await;
    assert_eq!((again.name, again.member_ids, again.etag), ("ann".to_string(), vec![ann.id.clone()], mine.etag));

    // Linking a personal group is how one grants a single user: bob's
    // personal group, linked by someone who manages it and may register.
    let orders = register(&svc, K::Dataset, &ann.id, "Orders").await;
    let bobs = personal_group(&bob_c, &bob.id).await.group_id;
    let r = ann_c.groups().link_group_resource(link(&bobs, &orders.resource_id, pb::AccessLevel::Read)).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    admin.groups().link_group_resource(link(&bobs, &orders.resource_id, pb::AccessLevel::Read)).await.unwrap();
    bob_c.resources().get_resource(get(&orders.resource_id)).await.expect("granted through his personal group");
    ann_c.groups().link_group_resource(link(&pid, &orders.resource_id, pb::AccessLevel::Owner)).await.unwrap();
    assert_eq!(personal_group(&ann_c, &ann.id).await.links.len(), 1);

    // People create groups; service accounts and project-scoped keys do not,
    // and a project-scoped key sees no group.
    let r = svc.groups().create_group(create("Robots")).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
    let p = ann_c
        .projects()
        .create_project(pb::CreateProjectRequest { name: "Scoped".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .project
        .unwrap();
    let key = ann_c
        .api_keys()
        .create_api_key(pb::CreateApiKeyRequest {
            name: "scoped".into(),
            project_id: p.project_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let scoped = ann_c.with_token(&key);
    assert!(groups(&scoped).await.is_empty());
    assert_status(scoped.groups().get_group(id(&pid)).await, Code::NotFound, "NOT_FOUND");
    assert_status(
        scoped.groups().create_group(create("From a key")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );
    let r = scoped.groups().link_group_resource(link(&pid, &orders.resource_id, pb::AccessLevel::Read)).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");
});

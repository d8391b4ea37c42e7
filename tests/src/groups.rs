//! GroupService over the real binary: groups, members, resource-group
//! entries and the access they give while active; personal groups for every
//! new, imported and service user, and the rules that keep them personal;
//! what deleting a user does with their groups.

use std::time::Duration;

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use crate::harness::{Client, TestServer, assert_status, mask, onboard};
use crate::imports;
use crate::on_both_backends;
use crate::resources::{answer, get, register, registrar};

fn create(name: &str) -> pb::CreateGroupRequest {
    pb::CreateGroupRequest { name: name.into(), request_id: String::new() }
}

fn group_of(r: impl Into<Option<pb::Group>>) -> pb::Group {
    r.into().expect("a group in the response")
}

fn id(group: &str) -> pb::GetGroupRequest {
    pb::GetGroupRequest { group_id: group.into() }
}

fn member(group: &str, user: &str) -> pb::AddGroupMemberRequest {
    pb::AddGroupMemberRequest { group_id: group.into(), user_id: user.into() }
}

fn removal(group: &str, user: &str) -> pb::RemoveGroupMemberRequest {
    pb::RemoveGroupMemberRequest { group_id: group.into(), user_id: user.into() }
}

fn link(group: &str, resource: &str, access: pb::AccessLevel) -> pb::LinkGroupResourceRequest {
    pb::LinkGroupResourceRequest { group_id: group.into(), resource_id: resource.into(), access: access as i32 }
}

fn unlink(group: &str, resource: &str) -> pb::UnlinkGroupResourceRequest {
    pb::UnlinkGroupResourceRequest { group_id: group.into(), resource_id: resource.into() }
}

fn rename(group: &str, name: &str, etag: &str) -> pb::UpdateGroupRequest {
    pb::UpdateGroupRequest {
        group_id: group.into(),
        group: Some(pb::Group { name: name.into(), ..Default::default() }),
        update_mask: mask(&["name"]),
        etag: etag.into(),
    }
}

async fn groups(c: &Client) -> Vec<pb::Group> {
    let req = pb::ListGroupsRequest { page_size: 1000, ..Default::default() };
    c.groups().list_groups(req).await.unwrap().into_inner().groups
}

/// The personal group of `user`, as someone who may see it reads it.
pub async fn personal(c: &Client, user: &str) -> pb::Group {
    groups(c).await.into_iter().find(|g| g.personal_user_id == user).expect("a personal group")
}

async fn data_sources(c: &Client) -> Vec<String> {
    let r = c.projects().list_data_sources(pb::ListDataSourcesRequest::default()).await.unwrap().into_inner();
    r.data_sources.into_iter().map(|r| r.resource_id).collect()
}

async fn actions(admin: &Client, target: &str) -> Vec<String> {
    let req = pb::ListAuditEventsRequest { target: format!("group/{target}"), page_size: 1000, ..Default::default() };
    let events = admin.audit().list_audit_events(req).await.unwrap().into_inner().audit_events;
    events.into_iter().map(|e| e.action).collect()
}

on_both_backends!(an_active_group_gives_its_members_what_it_is_linked_to, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let carol = onboard(&srv, "carol").await;
    let (ann_c, bob_c, carol_c) =
        (srv.client(Some(&ann.token)).await, srv.client(Some(&bob.token)).await, srv.client(Some(&carol.token)).await);
    let orders = register(&svc, K::Dataset, &ann.id, "Orders").await;
    let sales = register(&svc, K::Domain, &ann.id, "Sales").await;
    let notebook = register(&svc, K::Notebook, &ann.id, "Analysis").await;
    let carols = register(&svc, K::Dataset, &carol.id, "Carol's").await;

    let g = group_of(ann_c.groups().create_group(create("Analysts")).await.unwrap().into_inner().group);
    assert_eq!((g.owner_id.as_str(), g.member_ids.clone(), g.active), (ann.id.as_str(), vec![ann.id.clone()], true));
    assert_eq!(g.personal_user_id, "");
    let gid = g.group_id.clone();
    // It is a resource of ann's, of kind GROUP.
    let r = ann_c.resources().get_resource(get(&gid)).await.unwrap().into_inner().resource.unwrap();
    assert_eq!((r.kind, r.display_name.as_str()), (K::Group as i32, "Analysts"));

    // Before: bob sees neither the group nor ann's data, and cannot tell
    // the group from a random id.
    let real = bob_c.groups().get_group(id(&gid)).await;
    let random = bob_c.groups().get_group(id(&uuid::Uuid::now_v7().to_string())).await;
    assert_eq!(answer(real), answer(random));
    assert_status(bob_c.resources().get_resource(get(&orders.resource_id)).await, Code::NotFound, "NOT_FOUND");

    let g = group_of(ann_c.groups().add_group_member(member(&gid, &bob.id)).await.unwrap().into_inner().group);
    assert_eq!(g.member_ids.len(), 2);
    assert_status(
        ann_c.groups().add_group_member(member(&gid, &bob.id)).await,
        Code::AlreadyExists,
        "ALREADY_A_MEMBER",
    );
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_status(ann_c.groups().add_group_member(member(&gid, &nobody)).await, Code::NotFound, "NOT_FOUND");
    // A member reads the group, but only its owner manages it.
    bob_c.groups().get_group(id(&gid)).await.expect("a member reads the group");
    let bobs: Vec<String> = groups(&bob_c).await.into_iter().map(|g| g.group_id).collect();
    assert_eq!(bobs, vec![personal(&bob_c, &bob.id).await.group_id, gid.clone()]);
    assert_status(
        bob_c.groups().add_group_member(member(&gid, &carol.id)).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    // Linked read: the member reads the dataset and lists it.
    let read = pb::AccessLevel::Read;
    let g = group_of(
        ann_c.groups().link_group_resource(link(&gid, &orders.resource_id, read)).await.unwrap().into_inner().group,
    );
    assert_eq!(g.links, vec![pb::GroupLink { resource_id: orders.resource_id.clone(), access: read as i32 }]);
    bob_c.resources().get_resource(get(&orders.resource_id)).await.expect("a member of a linked group reads it");
    assert_eq!(data_sources(&bob_c).await, vec![orders.resource_id.clone()]);
    assert!(data_sources(&carol_c).await == vec![carols.resource_id.clone()], "not a member");
    assert_status(
        ann_c.groups().link_group_resource(link(&gid, &orders.resource_id, read)).await,
        Code::AlreadyExists,
        "ALREADY_LINKED",
    );
    // Linking again at the other level changes the level.
    let owner = pb::AccessLevel::Owner;
    let g = group_of(
        ann_c.groups().link_group_resource(link(&gid, &orders.resource_id, owner)).await.unwrap().into_inner().group,
    );
    assert_eq!(g.links, vec![pb::GroupLink { resource_id: orders.resource_id.clone(), access: owner as i32 }]);
    ann_c.groups().link_group_resource(link(&gid, &sales.resource_id, read)).await.unwrap();
    bob_c.resources().get_resource(get(&sales.resource_id)).await.expect("domains are given through groups too");
    // Refusals: not a linkable kind, someone else's resource, no level, not the resource's owner.
    let r = ann_c.groups().link_group_resource(link(&gid, &notebook.resource_id, read)).await;
    assert_status(r, Code::InvalidArgument, "NOT_GROUP_LINKABLE");
    let r = ann_c.groups().link_group_resource(link(&gid, &carols.resource_id, read)).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    let r = ann_c.groups().link_group_resource(link(&gid, &orders.resource_id, pb::AccessLevel::Unspecified)).await;
    assert_status(r, Code::InvalidArgument, "UNKNOWN_ACCESS_LEVEL");
    let carols_group = group_of(carol_c.groups().create_group(create("Carol's")).await.unwrap().into_inner().group);
    let r = carol_c.groups().link_group_resource(link(&carols_group.group_id, &orders.resource_id, read)).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    carol_c.groups().add_group_member(member(&carols_group.group_id, &bob.id)).await.unwrap();
    let r = bob_c.groups().link_group_resource(link(&carols_group.group_id, &orders.resource_id, read)).await;
    assert_status(r, Code::PermissionDenied, "PERMISSION_DENIED");

    // Deactivated: the group grants nothing, at once; active again: it does.
    let g = group_of(
        ann_c
            .groups()
            .deactivate_group(pb::DeactivateGroupRequest { group_id: gid.clone() })
            .await
            .unwrap()
            .into_inner()
            .group,
    );
    assert!(!g.active);
    assert_status(bob_c.resources().get_resource(get(&orders.resource_id)).await, Code::NotFound, "NOT_FOUND");
    assert!(data_sources(&bob_c).await.is_empty());
    let again = ann_c.groups().deactivate_group(pb::DeactivateGroupRequest { group_id: gid.clone() }).await;
    assert_status(again, Code::FailedPrecondition, "GROUP_ALREADY_INACTIVE");
    let g = group_of(
        ann_c
            .groups()
            .activate_group(pb::ActivateGroupRequest { group_id: gid.clone() })
            .await
            .unwrap()
            .into_inner()
            .group,
    );
    assert!(g.active);
    bob_c.resources().get_resource(get(&orders.resource_id)).await.expect("active again");
    let again = ann_c.groups().activate_group(pb::ActivateGroupRequest { group_id: gid.clone() }).await;
    assert_status(again, Code::FailedPrecondition, "GROUP_ALREADY_ACTIVE");

    // Renaming: FieldMask and etag.
    assert_status(
        ann_c.groups().update_group(rename(&gid, "Data analysts", "W/\"1\"")).await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let r = ann_c.groups().update_group(rename(&gid, " ", "")).await;
    assert_status(r, Code::InvalidArgument, "INVALID_DISPLAY_NAME");
    let no_mask = pb::UpdateGroupRequest { update_mask: None, ..rename(&gid, "x", "") };
    assert_status(ann_c.groups().update_group(no_mask).await, Code::InvalidArgument, "EMPTY_UPDATE_MASK");
    let g =
        group_of(ann_c.groups().update_group(rename(&gid, "Data analysts", &g.etag)).await.unwrap().into_inner().group);
    assert_eq!(g.name, "Data analysts");
    assert_status(
        bob_c.groups().update_group(rename(&gid, "Mine", "")).await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    // Members: the owner stays; a member taken out loses the access at once.
    assert_status(
        ann_c.groups().remove_group_member(removal(&gid, &ann.id)).await,
        Code::FailedPrecondition,
        "GROUP_OWNER",
    );
    ann_c.groups().remove_group_member(removal(&gid, &bob.id)).await.unwrap();
    assert_status(bob_c.resources().get_resource(get(&orders.resource_id)).await, Code::NotFound, "NOT_FOUND");
    assert_status(bob_c.groups().get_group(id(&gid)).await, Code::NotFound, "NOT_FOUND");
    assert_status(ann_c.groups().remove_group_member(removal(&gid, &bob.id)).await, Code::NotFound, "NOT_FOUND");
    ann_c.groups().unlink_group_resource(unlink(&gid, &sales.resource_id)).await.unwrap();
    assert_status(
        ann_c.groups().unlink_group_resource(unlink(&gid, &sales.resource_id)).await,
        Code::NotFound,
        "NOT_FOUND",
    );

    // groups.manage_any: the admin sees every group and manages any.
    let everyone = groups(&admin).await;
    assert!(everyone.iter().any(|g| g.group_id == gid));
    assert!(everyone.iter().filter(|g| !g.personal_user_id.is_empty()).count() >= 4, "personal groups too");
    admin.groups().add_group_member(member(&gid, &carol.id)).await.expect("groups.manage_any manages any group");
    carol_c.resources().get_resource(get(&orders.resource_id)).await.expect("carol is a member now");

    // Deleting the resource takes its entries along; deleting the group, its members.
    let monthly = register(&svc, K::View, &ann.id, "Monthly").await;
    ann_c.groups().link_group_resource(link(&gid, &monthly.resource_id, read)).await.unwrap();
    let del = pb::DeleteResourceRequest { resource_id: monthly.resource_id.clone() };
    ann_c.resources().delete_resource(del).await.unwrap();
    let g = group_of(ann_c.groups().get_group(id(&gid)).await.unwrap().into_inner().group);
    assert_eq!(g.links.iter().map(|l| l.resource_id.clone()).collect::<Vec<_>>(), vec![orders.resource_id.clone()]);
    ann_c.groups().delete_group(pb::DeleteGroupRequest { group_id: gid.clone() }).await.unwrap();
    assert_status(ann_c.groups().get_group(id(&gid)).await, Code::NotFound, "NOT_FOUND");
    assert_status(carol_c.resources().get_resource(get(&orders.resource_id)).await, Code::NotFound, "NOT_FOUND");
    let gone = ann_c.groups().delete_group(pb::DeleteGroupRequest { group_id: gid.clone() }).await;
    assert_status(gone, Code::NotFound, "NOT_FOUND");

    let mut audited = actions(&admin, &gid).await;
    audited.sort();
    audited.dedup();
    let mut want = vec![
        "group.activate",
        "group.add_member",
        "group.create",
        "group.deactivate",
        "group.delete",
        "group.link_resource",
        "group.remove_member",
        "group.unlink_resource",
        "group.update",
    ];
    want.sort();
    assert_eq!(audited, want);
});

on_both_backends!(every_user_has_a_personal_group_that_stays_personal, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let (ann_c, bob_c) = (srv.client(Some(&ann.token)).await, srv.client(Some(&bob.token)).await);

    // Created with the user: named after them, theirs, them as its member.
    let mine = personal(&ann_c, &ann.id).await;
    assert_eq!(
        (mine.name.as_str(), mine.owner_id.as_str(), mine.member_ids.clone(), mine.active),
        ("ann", ann.id.as_str(), vec![ann.id.clone()], true)
    );
    let owned = ann_c.resources().list_user_resources(pb::ListUserResourcesRequest::default()).await.unwrap();
    let owned = owned.into_inner();
    assert_eq!((owned.total, owned.resources[0].resource_id.clone()), (1, mine.group_id.clone()));
    // Service accounts and imported users have one too.
    let who = svc.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().user.unwrap();
    assert_eq!(personal(&admin, &who.user_id).await.name, "catalog");
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
    assert_eq!(personal(&admin, &imp.user_id).await.name, "imp1");

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
    let again = personal(&ann_c, &ann.id).await;
    assert_eq!((again.name, again.member_ids, again.etag), ("ann".to_string(), vec![ann.id.clone()], mine.etag));

    // Linking a personal group is how one grants a single user: bob's
    // personal group, linked by someone who manages it and may register.
    let orders = register(&svc, K::Dataset, &ann.id, "Orders").await;
    let bobs = personal(&bob_c, &bob.id).await.group_id;
    let r = ann_c.groups().link_group_resource(link(&bobs, &orders.resource_id, pb::AccessLevel::Read)).await;
    assert_status(r, Code::NotFound, "NOT_FOUND");
    admin.groups().link_group_resource(link(&bobs, &orders.resource_id, pb::AccessLevel::Read)).await.unwrap();
    bob_c.resources().get_resource(get(&orders.resource_id)).await.expect("granted through his personal group");
    ann_c.groups().link_group_resource(link(&pid, &orders.resource_id, pb::AccessLevel::Owner)).await.unwrap();
    assert_eq!(personal(&ann_c, &ann.id).await.links.len(), 1);

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

on_both_backends!(deleting_a_user_deletes_their_personal_group_and_ends_their_memberships, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let svc = registrar(&srv).await;
    let ann = onboard(&srv, "ann").await;
    let bob = onboard(&srv, "bob").await;
    let carol = onboard(&srv, "carol").await;
    let dave = onboard(&srv, "dave").await;
    let (ann_c, carol_c) = (srv.client(Some(&ann.token)).await, srv.client(Some(&carol.token)).await);
    let orders = register(&svc, K::Dataset, &ann.id, "Orders").await;
    let team = group_of(ann_c.groups().create_group(create("Team")).await.unwrap().into_inner().group).group_id;
    ann_c.groups().add_group_member(member(&team, &carol.id)).await.unwrap();
    ann_c.groups().link_group_resource(link(&team, &orders.resource_id, pb::AccessLevel::Read)).await.unwrap();
    let carols = group_of(carol_c.groups().create_group(create("Carol's")).await.unwrap().into_inner().group).group_id;
    carol_c.groups().add_group_member(member(&carols, &ann.id)).await.unwrap();
    carol_c.groups().add_group_member(member(&carols, &dave.id)).await.unwrap();
    let anns_personal = personal(&ann_c, &ann.id).await.group_id;

    let by_id = |id: &str| Some(pb::UserSelector { selector: Some(pb::user_selector::Selector::UserId(id.into())) });
    let suspend = |id: &str| pb::SuspendUserRequest { user: by_id(id), reason: "left".into(), end_time: None };
    let s = admin.users().suspend_user(suspend(&ann.id)).await.unwrap().into_inner();
    assert_eq!(s.owned_resources, 3, "the dataset, the team and the personal group");
    let plan = admin
        .users()
        .plan_user_deletion(pb::PlanUserDeletionRequest { user: by_id(&ann.id), new_owner: by_id(&bob.id) })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let lines: Vec<(i32, i32, i64, i32)> =
        plan.lines.iter().map(|l| (l.holding, l.resource_kind, l.count, l.disposition)).collect();
    use pb::{Disposition as D, Holding as H};
    for want in [
        (H::Resource as i32, K::Group as i32, 1, D::Transfer as i32),
        (H::Resource as i32, K::Dataset as i32, 1, D::Transfer as i32),
        (H::PersonalGroup as i32, K::Group as i32, 1, D::Delete as i32),
        (H::GroupMembership as i32, K::Unspecified as i32, 2, D::Remove as i32),
    ] {
        assert!(lines.contains(&want), "{want:?} in {lines:?}");
    }
    let delete = pb::DeleteUserRequest { user: by_id(&ann.id), new_owner: by_id(&bob.id), plan_etag: plan.etag };
    admin.users().delete_user(delete).await.unwrap();

    // The personal group is gone; the team went to bob, who joined it.
    assert_status(admin.groups().get_group(id(&anns_personal)).await, Code::NotFound, "NOT_FOUND");
    let t = group_of(admin.groups().get_group(id(&team)).await.unwrap().into_inner().group);
    let mut members = vec![bob.id.clone(), carol.id.clone()];
    members.sort();
    let mut got = t.member_ids.clone();
    got.sort();
    assert_eq!((t.owner_id.as_str(), got, t.links.len()), (bob.id.as_str(), members, 1));
    carol_c.resources().get_resource(get(&orders.resource_id)).await.expect("the team still gives carol the data");
    let c = group_of(carol_c.groups().get_group(id(&carols)).await.unwrap().into_inner().group);
    assert!(!c.member_ids.contains(&ann.id));

    // Someone who owns only their personal group needs no new owner.
    admin.users().suspend_user(suspend(&dave.id)).await.unwrap();
    let plan = admin
        .users()
        .plan_user_deletion(pb::PlanUserDeletionRequest { user: by_id(&dave.id), new_owner: None })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let lines: Vec<(i32, i64, i32)> = plan.lines.iter().map(|l| (l.holding, l.count, l.disposition)).collect();
    assert!(lines.contains(&(H::PersonalGroup as i32, 1, D::Delete as i32)), "{lines:?}");
    assert!(lines.contains(&(H::GroupMembership as i32, 1, D::Remove as i32)), "{lines:?}");
    assert!(lines.iter().all(|l| l.0 != H::Resource as i32), "{lines:?}");
    let delete = pb::DeleteUserRequest { user: by_id(&dave.id), new_owner: None, plan_etag: plan.etag };
    admin.users().delete_user(delete).await.expect("no USER_OWNS_RESOURCES for a personal group alone");
    let c = group_of(carol_c.groups().get_group(id(&carols)).await.unwrap().into_inner().group);
    assert_eq!(c.member_ids, vec![carol.id.clone()]);
});

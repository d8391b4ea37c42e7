//! GroupService over the real binary: groups, members, resource-group
//! entries and the access they give while active (here); personal groups
//! for every new, imported and service user, and the rules that keep them
//! personal ([`personal`]); what deleting a user does with their groups
//! ([`deletion`]).

mod deletion;
mod personal;

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use crate::harness::{Client, TestServer, assert_status, mask, onboard};
use crate::on_both_backends;
use crate::resources::{answer, get, register, registrar};

pub(crate) fn create(name: &str) -> pb::CreateGroupRequest {
    pb::CreateGroupRequest { name: name.into(), request_id: String::new() }
}

pub(crate) fn group_of(r: impl Into<Option<pb::Group>>) -> pb::Group {
    r.into().expect("a group in the response")
}

pub(crate) fn id(group: &str) -> pb::GetGroupRequest {
    pb::GetGroupRequest { group_id: group.into() }
}

pub(crate) fn member(group: &str, user: &str) -> pb::AddGroupMemberRequest {
    pb::AddGroupMemberRequest { group_id: group.into(), user_id: user.into() }
}

pub(crate) fn removal(group: &str, user: &str) -> pb::RemoveGroupMemberRequest {
    pb::RemoveGroupMemberRequest { group_id: group.into(), user_id: user.into() }
}

pub(crate) fn link(group: &str, resource: &str, access: pb::AccessLevel) -> pb::LinkGroupResourceRequest {
    pb::LinkGroupResourceRequest { group_id: group.into(), resource_id: resource.into(), access: access as i32 }
}

pub(crate) fn unlink(group: &str, resource: &str) -> pb::UnlinkGroupResourceRequest {
    pb::UnlinkGroupResourceRequest { group_id: group.into(), resource_id: resource.into() }
}

pub(crate) fn rename(group: &str, name: &str, etag: &str) -> pb::UpdateGroupRequest {
    pb::UpdateGroupRequest {
        group_id: group.into(),
        group: Some(pb::Group { name: name.into(), ..Default::default() }),
        update_mask: mask(&["name"]),
        etag: etag.into(),
    }
}

pub(crate) async fn groups(c: &Client) -> Vec<pb::Group> {
    let req = pb::ListGroupsRequest { page_size: 1000, ..Default::default() };
    c.groups().list_groups(req).await.unwrap().into_inner().groups
}

/// The personal group of `user`, as someone who may see it reads it.
pub async fn personal_group(c: &Client, user: &str) -> pb::Group {
    groups(c).await.into_iter().find(|g| g.personal_user_id == user).expect("a personal group")
}

pub(crate) async fn data_sources(c: &Client) -> Vec<String> {
    let r = c.projects().list_data_sources(pb::ListDataSourcesRequest::default()).await.unwrap().into_inner();
    r.data_sources.into_iter().map(|r| r.resource_id).collect()
}

pub(crate) async fn actions(admin: &Client, target: &str) -> Vec<String> {
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
    assert_eq!(bobs, vec![personal_group(&bob_c, &bob.id).await.group_id, gid.clone()]);
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

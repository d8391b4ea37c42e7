//! Deleting a user: their personal group goes, their memberships end,
//! their other groups move to the new owner with members and entries.

use steward_grpc::pb;
use steward_grpc::pb::ResourceKind as K;
use tonic::Code;

use super::{create, group_of, id, link, member, personal_group};
use crate::harness::{TestServer, assert_status, onboard};
use crate::on_both_backends;
use crate::resources::{get, register, registrar};

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
    let anns_personal = personal_group(&ann_c, &ann.id).await.group_id;

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

//! Groups in the store: a group is a resource with a group row, members and
//! resource-group entries; every change bumps its version; every user has a
//! personal group from the transaction that creates them; an active group
//! lets its members see what it is linked to; deletions take the rows that
//! have no foreign key with them.

use sea_orm::{ConnectionTrait, Statement, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::group::{Group, GroupLink, GroupStore};
use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::{AccessLevel, DisplayName, ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::ports::{ResourceStore, UserStore};
use steward_domain::user::UserKind;
use steward_store::Store;
use time::Duration;

use crate::resources::{mark_deleted, register};
use crate::support::{NOW, audit, count, each_backend, insert, new_user, personal_group, user};

pub fn group(name: &str, owner: UserId) -> Group {
    Group {
        id: ResourceId::new(),
        name: DisplayName::parse(name, "name").unwrap(),
        owner,
        active: true,
        personal_of: None,
        members: vec![owner],
        links: vec![],
        created_at: NOW,
        updated_at: NOW,
        version: 1,
    }
}

pub async fn create_group(store: &Store, name: &str, owner: UserId) -> Group {
    let g = group(name, owner);
    store.insert_group(&g, None, Effects::default()).await.unwrap();
    g
}

async fn reread(store: &Store, id: ResourceId) -> Group {
    store.get_group(id, &Visibility::Everything).await.unwrap().unwrap()
}

fn ids(gs: &[Group]) -> Vec<ResourceId> {
    gs.iter().map(|g| g.id).collect()
}

#[tokio::test]
async fn create_read_rename_deactivate_and_delete() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let g = group("Analysts", ann.id);
        store.insert_group(&g, Some("ann:group:1"), Effects::audit(audit(ann.id, "group.create"))).await.unwrap();
        assert_eq!(reread(&store, g.id).await, g);
        assert_eq!(store.find_group_by_request_id("ann:group:1").await.unwrap(), Some(g.clone()));
        // It is a resource of kind group, owned by its owner.
        let r = store.get_resource(g.id, &Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(
            (r.kind, r.display_name.as_str(), r.owner, r.version),
            (ResourceKind::Group, "Analysts", Some(ann.id), 1)
        );

        let r = store.insert_group(&group("Again", ann.id), Some("ann:group:1"), Effects::default()).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "request_id" })), "{r:?}");
        let r = store.insert_group(&group("Orphan", UserId::new()), None, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        // Two personal groups, the one group; one audit event.
        assert_eq!((count(&store, "groups").await, count(&store, "audit_events").await), (3, 1));

        // The owner and members see it; others and project-scoped keys do not.
        assert!(store.get_group(g.id, &Visibility::User(ann.id)).await.unwrap().is_some());
        assert_eq!(store.get_group(g.id, &Visibility::User(bob.id)).await.unwrap(), None);
        let scoped = Visibility::Project { project: ProjectId::new(), member: ann.id };
        assert_eq!(store.get_group(g.id, &scoped).await.unwrap(), None);
        assert!(store.list_groups(&scoped, PageRequest::first(10)).await.unwrap().is_empty());

        let mut renamed = g.clone();
        renamed.name = DisplayName::parse("Data analysts", "name").unwrap();
        renamed.active = false;
        renamed.version = 2;
        renamed.updated_at = NOW + Duration::minutes(1);
        store.update_group(&renamed, 1, Effects::audit(audit(ann.id, "group.update"))).await.unwrap();
        assert_eq!(reread(&store, g.id).await, renamed);
        assert!(matches!(store.update_group(&renamed, 1, Effects::default()).await, Err(StoreError::Stale)));
        let ghost = group("Ghost", ann.id);
        assert!(matches!(store.update_group(&ghost, 1, Effects::default()).await, Err(StoreError::NotFound)));
        // A resource that is not a group is no group.
        let ds = register(&store, ResourceKind::Dataset, Some(ann.id), "Orders").await;
        assert_eq!(store.get_group(ds.id, &Visibility::Everything).await.unwrap(), None);
        let mut not_a_group = group("Orders", ann.id);
        not_a_group.id = ds.id;
        assert!(matches!(store.update_group(&not_a_group, 1, Effects::default()).await, Err(StoreError::NotFound)));

        // Delete takes its members and entries along, and the entries of
        // other groups pointing at nothing that is left.
        store.add_group_member(g.id, bob.id, NOW, Effects::default()).await.unwrap();
        store.link_group_resource(g.id, ds.id, AccessLevel::Read, NOW, Effects::default()).await.unwrap();
        store.delete_group(g.id, Effects::audit(audit(ann.id, "group.delete"))).await.unwrap();
        assert_eq!(store.get_group(g.id, &Visibility::Everything).await.unwrap(), None);
        assert_eq!(store.get_resource(g.id, &Visibility::Everything).await.unwrap(), None);
        assert!(matches!(store.delete_group(g.id, Effects::default()).await, Err(StoreError::NotFound)));
        assert!(matches!(store.delete_group(ds.id, Effects::default()).await, Err(StoreError::NotFound)));
        assert!(store.get_resource(ds.id, &Visibility::Everything).await.unwrap().is_some(), "not a group: kept");
        assert_eq!((count(&store, "groups").await, count(&store, "group_members").await), (2, 2));
        assert_eq!(count(&store, "group_resources").await, 0);
        assert_eq!(count(&store, "audit_events").await, 3);
    })
    .await;
}

#[tokio::test]
async fn members_and_links_bump_the_version() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let gone = insert(&store, "gone").await;
        mark_deleted(&store, gone.id).await;
        let g = create_group(&store, "Team", ann.id).await;
        let ds = register(&store, ResourceKind::Dataset, Some(ann.id), "Customers").await;
        let later = NOW + Duration::minutes(5);

        store.add_group_member(g.id, bob.id, later, Effects::audit(audit(ann.id, "group.add_member"))).await.unwrap();
        let r = store.add_group_member(g.id, bob.id, later, Effects::audit(audit(ann.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "member" })), "{r:?}");
        for nobody in [UserId::new(), gone.id] {
            let r = store.add_group_member(g.id, nobody, later, Effects::default()).await;
            assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        }
        let r = store.add_group_member(ResourceId::new(), bob.id, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        // Not a group: no member rows for a dataset.
        let r = store.add_group_member(ds.id, bob.id, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");

        store.link_group_resource(g.id, ds.id, AccessLevel::Read, later, Effects::default()).await.unwrap();
        let r = store.link_group_resource(g.id, ResourceId::new(), AccessLevel::Read, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let got = reread(&store, g.id).await;
        let mut members = vec![ann.id, bob.id];
        members.sort();
        let read = vec![GroupLink { resource: ds.id, access: AccessLevel::Read }];
        assert_eq!((got.members, got.links, got.version, got.updated_at), (members, read, 3, later));
        assert_eq!(count(&store, "audit_events").await, 1);

        // Linking again changes the level.
        store.link_group_resource(g.id, ds.id, AccessLevel::Owner, later, Effects::default()).await.unwrap();
        let got = reread(&store, g.id).await;
        assert_eq!((got.link(ds.id), got.version), (Some(AccessLevel::Owner), 4));

        store.unlink_group_resource(g.id, ds.id, later, Effects::default()).await.unwrap();
        let r = store.unlink_group_resource(g.id, ds.id, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        store.remove_group_member(g.id, bob.id, later, Effects::default()).await.unwrap();
        let r = store.remove_group_member(g.id, bob.id, later, Effects::default()).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let got = reread(&store, g.id).await;
        assert_eq!((got.members, got.links.len(), got.version), (vec![ann.id], 0, 6));
    })
    .await;
}

#[tokio::test]
async fn every_user_has_a_personal_group_from_the_start() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let mut svc = user("robot");
        svc.kind = UserKind::Service;
        store.insert_user(new_user(svc.clone()), Effects::default()).await.unwrap();
        for u in [&ann, &svc] {
            let r = personal_group(&store, u.id).await;
            assert_eq!(
                (r.kind, r.display_name.as_str(), r.owner),
                (ResourceKind::Group, u.username.as_str(), Some(u.id))
            );
            let g = reread(&store, r.id).await;
            assert_eq!((g.personal_of, g.members.clone(), g.active, g.links.len()), (Some(u.id), vec![u.id], true, 0));
            assert_eq!(g.created_at, u.created_at);
            // The user lists it among the groups they belong to.
            let theirs = store.list_groups(&Visibility::User(u.id), PageRequest::first(10)).await.unwrap();
            assert_eq!(theirs, vec![g]);
        }
        // A user that is not created gets no group either.
        let r = store.insert_user(new_user(user("ANN")), Effects::default()).await;
        assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
        assert_eq!((count(&store, "groups").await, count(&store, "group_members").await), (2, 2));
        assert_eq!(count(&store, "resources").await, 2);
    })
    .await;
}

#[tokio::test]
async fn members_see_groups_in_pages() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let mut anns = vec![personal_group(&store, ann.id).await.id];
        for i in 0..4 {
            anns.push(create_group(&store, &format!("ann {i}"), ann.id).await.id);
        }
        let bobs = create_group(&store, "bob's", bob.id).await;
        store.add_group_member(bobs.id, ann.id, NOW, Effects::default()).await.unwrap();
        anns.push(bobs.id);

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.list_groups(&Visibility::User(ann.id), PageRequest { size: 2, after }).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().id.as_uuid());
            seen.extend(ids(&page));
        }
        assert_eq!(seen, anns);
        let bob_sees = ids(&store.list_groups(&Visibility::User(bob.id), PageRequest::first(10)).await.unwrap());
        assert_eq!(bob_sees, vec![personal_group(&store, bob.id).await.id, bobs.id]);
        let everything = store.list_groups(&Visibility::Everything, PageRequest::first(10)).await.unwrap();
        assert_eq!(everything.len(), 2 + 4 + 1);
    })
    .await;
}

#[tokio::test]
async fn an_active_group_lets_its_members_see_what_it_is_linked_to() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let carol = insert(&store, "carol").await;
        let ds = register(&store, ResourceKind::Dataset, Some(ann.id), "Orders").await;
        let domain = register(&store, ResourceKind::Domain, Some(ann.id), "Sales").await;
        let notebook = register(&store, ResourceKind::Notebook, Some(ann.id), "Analysis").await;
        let g = create_group(&store, "Readers", ann.id).await;
        store.add_group_member(g.id, bob.id, NOW, Effects::default()).await.unwrap();
        store.link_group_resource(g.id, ds.id, AccessLevel::Read, NOW, Effects::default()).await.unwrap();
        store.link_group_resource(g.id, domain.id, AccessLevel::Owner, NOW, Effects::default()).await.unwrap();
        // Only datasets, views and domains are given through groups, even
        // when an entry for something else got in behind Steward's back.
        store.link_group_resource(g.id, notebook.id, AccessLevel::Read, NOW, Effects::default()).await.unwrap();

        let list = |who: UserId| {
            let store = store.clone();
            async move {
                let f = steward_domain::ownership::ResourceFilter {
                    kinds: vec![ResourceKind::Dataset, ResourceKind::Domain, ResourceKind::Notebook],
                    ..Default::default()
                };
                let got = store.list_resources(&f, &Visibility::User(who), PageRequest::first(100)).await.unwrap();
                got.into_iter().map(|r| r.id).collect::<Vec<_>>()
            }
        };
        let as_bob = Visibility::User(bob.id);
        assert_eq!(list(bob.id).await, vec![ds.id, domain.id]);
        assert!(store.get_resource(ds.id, &as_bob).await.unwrap().is_some());
        assert_eq!(store.get_resource(notebook.id, &as_bob).await.unwrap(), None);
        assert!(list(carol.id).await.is_empty(), "not a member");
        // A project-scoped key sees only its project's data sources, groups or not.
        let scoped = Visibility::Project { project: ProjectId::new(), member: bob.id };
        assert_eq!(store.get_resource(ds.id, &scoped).await.unwrap(), None);

        // Deactivated: it grants nothing; active again: it does again.
        let mut off = reread(&store, g.id).await;
        off.active = false;
        off.version += 1;
        store.update_group(&off, off.version - 1, Effects::default()).await.unwrap();
        assert!(list(bob.id).await.is_empty());
        assert_eq!(store.get_resource(ds.id, &as_bob).await.unwrap(), None);
        let mut on = off.clone();
        on.active = true;
        on.version += 1;
        store.update_group(&on, on.version - 1, Effects::default()).await.unwrap();
        assert_eq!(list(bob.id).await, vec![ds.id, domain.id]);

        // Linking a personal group grants one user.
        let carols = personal_group(&store, carol.id).await.id;
        store.link_group_resource(carols, ds.id, AccessLevel::Read, NOW, Effects::default()).await.unwrap();
        assert_eq!(list(carol.id).await, vec![ds.id]);

        // A member taken out sees it no more; a group row gone grants nothing.
        store.remove_group_member(g.id, bob.id, NOW, Effects::default()).await.unwrap();
        assert!(list(bob.id).await.is_empty());
        let c = store.connection();
        c.execute_raw(Statement::from_sql_and_values(
            c.get_database_backend(),
            "DELETE FROM groups WHERE id = $1",
            vec![Value::from(carols.as_uuid())],
        ))
        .await
        .unwrap();
        assert!(list(carol.id).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn deleting_a_resource_removes_the_entries_pointing_at_it() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let ds = register(&store, ResourceKind::Dataset, Some(ann.id), "Orders").await;
        let view = register(&store, ResourceKind::View, Some(ann.id), "Monthly").await;
        let g = create_group(&store, "One", ann.id).await;
        let h = create_group(&store, "Two", ann.id).await;
        for group in [g.id, h.id] {
            store.link_group_resource(group, ds.id, AccessLevel::Read, NOW, Effects::default()).await.unwrap();
        }
        store.link_group_resource(g.id, view.id, AccessLevel::Owner, NOW, Effects::default()).await.unwrap();
        store.delete_resource(ds.id, Effects::default()).await.unwrap();
        assert_eq!(count(&store, "group_resources").await, 1);
        assert_eq!(reread(&store, g.id).await.links, vec![GroupLink { resource: view.id, access: AccessLevel::Owner }]);
        assert!(reread(&store, h.id).await.links.is_empty());
    })
    .await;
}

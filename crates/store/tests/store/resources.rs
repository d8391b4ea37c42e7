use sea_orm::{ConnectionTrait, Statement, Value};
use steward_domain::StoreError;
use steward_domain::effects::Effects;
use steward_domain::id::{ProjectId, ResourceId, UserId};
use steward_domain::ownership::{DisplayName, KindCount, Resource, ResourceFilter, ResourceKind, Visibility};
use steward_domain::page::PageRequest;
use steward_domain::ports::{ProjectStore, ResourceStore};
use steward_domain::project::{Project, ProjectName};
use steward_store::Store;
use time::Duration;

use crate::support::{NOW, audit, count, each_backend, insert, personal_group};

pub fn resource(kind: ResourceKind, owner: Option<UserId>, name: &str) -> Resource {
    Resource {
        id: ResourceId::new(),
        kind,
        display_name: DisplayName::parse(name, "display_name").unwrap(),
        owner,
        projects: vec![],
        schedule_enabled: (kind == ResourceKind::Schedule).then_some(true),
        readers: vec![],
        created_at: NOW,
        updated_at: NOW,
        version: 1,
    }
}

pub async fn register(store: &Store, kind: ResourceKind, owner: Option<UserId>, name: &str) -> Resource {
    let r = resource(kind, owner, name);
    store.insert_resource(&r, None, Effects::default()).await.unwrap();
    r
}

pub fn project(name: &str, owner: UserId) -> Project {
    Project {
        id: ProjectId::new(),
        name: ProjectName::parse(name, "name").unwrap(),
        description: format!("the {name} project"),
        owner,
        members: vec![owner],
        data_sources: vec![],
        created_at: NOW,
        updated_at: NOW,
        version: 1,
    }
}

pub async fn create_project(store: &Store, name: &str, owner: UserId) -> Project {
    let p = project(name, owner);
    store.insert_project(&p, None, Effects::default()).await.unwrap();
    p
}

pub async fn mark_deleted(store: &Store, u: UserId) {
    let c = store.connection();
    c.execute_raw(Statement::from_sql_and_values(
        c.get_database_backend(),
        "UPDATE users SET status = 'deleted' WHERE id = $1",
        vec![Value::from(u.as_uuid())],
    ))
    .await
    .unwrap();
}

fn ids(rs: &[Resource]) -> Vec<ResourceId> {
    rs.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn round_trip_update_and_delete() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let p = create_project(&store, "Sales", ann.id).await;
        let mut ds = resource(ResourceKind::Dataset, Some(ann.id), "Orders");
        ds.readers = vec![bob.id];
        ds.projects = vec![p.id];
        store.insert_resource(&ds, Some("svc:1"), Effects::audit(audit(ann.id, "resource.register"))).await.unwrap();
        assert_eq!(store.get_resource(ds.id, &Visibility::Everything).await.unwrap(), Some(ds.clone()));
        assert_eq!(store.find_resource_by_request_id("svc:1").await.unwrap(), Some(ds.clone()));
        assert_eq!(count(&store, "audit_events").await, 1);

        // The same request id, an owner that does not exist: nothing written.
        let again = resource(ResourceKind::View, Some(ann.id), "Again");
        let r = store.insert_resource(&again, Some("svc:1"), Effects::audit(audit(ann.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::Conflict { key: "request_id" })), "{r:?}");
        let orphan = resource(ResourceKind::View, Some(UserId::new()), "Orphan");
        let r = store.insert_resource(&orphan, None, Effects::audit(audit(ann.id, "x"))).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let mut bad_reader = resource(ResourceKind::Dataset, Some(ann.id), "Bad reader");
        bad_reader.readers = vec![UserId::new()];
        assert!(matches!(
            store.insert_resource(&bad_reader, None, Effects::default()).await,
            Err(StoreError::NotFound)
        ));
        // The dataset, and ann's and bob's personal groups.
        assert_eq!((count(&store, "resources").await, count(&store, "audit_events").await), (3, 1));

        // An application-level resource has no owner.
        let mail = register(&store, ResourceKind::MailServer, None, "SMTP relay").await;
        assert_eq!(store.get_resource(mail.id, &Visibility::Everything).await.unwrap().unwrap().owner, None);
        let sched = register(&store, ResourceKind::Schedule, Some(ann.id), "Nightly").await;
        assert_eq!(
            store.get_resource(sched.id, &Visibility::Everything).await.unwrap().unwrap().schedule_enabled,
            Some(true)
        );

        // Update: new name and owner, readers and projects replaced.
        let mut changed = ds.clone();
        changed.display_name = DisplayName::parse("Orders v2", "d").unwrap();
        changed.owner = Some(bob.id);
        changed.readers = vec![ann.id];
        changed.projects = vec![];
        changed.version = 2;
        changed.updated_at = NOW + Duration::minutes(1);
        store.update_resource(&changed, 1, Effects::audit(audit(ann.id, "resource.update"))).await.unwrap();
        assert_eq!(store.get_resource(ds.id, &Visibility::Everything).await.unwrap(), Some(changed.clone()));
        assert!(matches!(store.update_resource(&changed, 1, Effects::default()).await, Err(StoreError::Stale)));
        let ghost = resource(ResourceKind::View, Some(ann.id), "Ghost");
        assert!(matches!(store.update_resource(&ghost, 1, Effects::default()).await, Err(StoreError::NotFound)));
        assert_eq!(count(&store, "audit_events").await, 2);

        // Delete takes its readers and links along.
        store.link_data_source(p.id, ds.id, NOW, Effects::default()).await.unwrap();
        store.delete_resource(ds.id, Effects::audit(audit(ann.id, "resource.delete"))).await.unwrap();
        assert_eq!(store.get_resource(ds.id, &Visibility::Everything).await.unwrap(), None);
        assert!(matches!(store.delete_resource(ds.id, Effects::default()).await, Err(StoreError::NotFound)));
        for table in ["dataset_readers", "resource_projects", "project_data_sources"] {
            assert_eq!(count(&store, table).await, 0, "{table}");
        }
        assert_eq!(count(&store, "audit_events").await, 3);
    })
    .await;
}

#[tokio::test]
async fn keyset_pages_with_filters_and_counts_per_kind() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let p = create_project(&store, "Sales", ann.id).await;
        let kinds = [
            ResourceKind::Dataset,
            ResourceKind::Notebook,
            ResourceKind::Dataset,
            ResourceKind::Schedule,
            ResourceKind::View,
            ResourceKind::Dataset,
            ResourceKind::Notebook,
        ];
        let mut anns = Vec::new();
        for (i, k) in kinds.into_iter().enumerate() {
            let mut r = resource(k, Some(ann.id), &format!("ann {i}"));
            if i % 2 == 0 {
                r.projects = vec![p.id];
            }
            store.insert_resource(&r, None, Effects::default()).await.unwrap();
            anns.push(r);
        }
        for i in 0..3 {
            register(&store, ResourceKind::Dataset, Some(bob.id), &format!("bob {i}")).await;
        }
        register(&store, ResourceKind::UserAgreement, None, "Terms").await;

        let by_ann = ResourceFilter { owner: Some(ann.id), ..Default::default() };
        // Her personal group came first, with her.
        let mut owned = vec![personal_group(&store, ann.id).await];
        owned.extend(anns.iter().cloned());
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page =
                store.list_resources(&by_ann, &Visibility::Everything, PageRequest { size: 3, after }).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().id.as_uuid());
            seen.extend(page);
        }
        assert_eq!(seen, owned);

        let datasets = ResourceFilter { kinds: vec![ResourceKind::Dataset], ..by_ann.clone() };
        let got = store.list_resources(&datasets, &Visibility::Everything, PageRequest::first(10)).await.unwrap();
        assert_eq!(ids(&got), vec![anns[0].id, anns[2].id, anns[5].id]);
        let after_first = PageRequest { size: 10, after: Some(anns[0].id.as_uuid()) };
        let got = store.list_resources(&datasets, &Visibility::Everything, after_first).await.unwrap();
        assert_eq!(ids(&got), vec![anns[2].id, anns[5].id]);
        let in_project = ResourceFilter { parent_project: Some(p.id), ..Default::default() };
        let got = store.list_resources(&in_project, &Visibility::Everything, PageRequest::first(10)).await.unwrap();
        assert_eq!(ids(&got), vec![anns[0].id, anns[2].id, anns[4].id, anns[6].id]);
        assert_eq!(got[0].projects, vec![p.id]);
        let everything =
            store.list_resources(&ResourceFilter::default(), &Visibility::Everything, PageRequest::first(100)).await;
        assert_eq!(everything.unwrap().len(), 13, "ten, the user agreement and two personal groups");

        let counts = store.count_resources_by_kind(&by_ann, &Visibility::Everything).await.unwrap();
        let want = [
            (ResourceKind::Group, 1),
            (ResourceKind::Dataset, 3),
            (ResourceKind::View, 1),
            (ResourceKind::Notebook, 2),
            (ResourceKind::Schedule, 1),
        ]
        .map(|(kind, count)| KindCount { kind, count });
        assert_eq!(counts, want);
        let bobs = ResourceFilter { owner: Some(bob.id), ..Default::default() };
        assert_eq!(
            store.count_resources_by_kind(&bobs, &Visibility::Everything).await.unwrap(),
            [KindCount { kind: ResourceKind::Group, count: 1 }, KindCount { kind: ResourceKind::Dataset, count: 3 }]
        );
        // Counts obey visibility like listings do.
        assert!(store.count_resources_by_kind(&bobs, &Visibility::User(ann.id)).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn visibility_owned_read_only_and_through_projects() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let bob = insert(&store, "bob").await;
        let carol = insert(&store, "carol").await;
        let own = register(&store, ResourceKind::Dataset, Some(ann.id), "own").await;
        let mut held = resource(ResourceKind::Dataset, Some(bob.id), "held");
        held.readers = vec![ann.id];
        store.insert_resource(&held, None, Effects::default()).await.unwrap();
        let linked = register(&store, ResourceKind::View, Some(carol.id), "linked").await;
        let linked_notebook = register(&store, ResourceKind::Notebook, Some(carol.id), "not a source").await;
        let elsewhere = register(&store, ResourceKind::Dataset, Some(bob.id), "elsewhere").await;
        let other_project_ds = register(&store, ResourceKind::Dataset, Some(carol.id), "other project").await;

        let p = create_project(&store, "Shared", carol.id).await;
        let q = create_project(&store, "Private", carol.id).await;
        store.add_project_member(p.id, ann.id, NOW, Effects::default()).await.unwrap();
        store.link_data_source(p.id, linked.id, NOW, Effects::default()).await.unwrap();
        store.link_data_source(p.id, linked_notebook.id, NOW, Effects::default()).await.unwrap();
        store.link_data_source(q.id, other_project_ds.id, NOW, Effects::default()).await.unwrap();

        let all = ResourceFilter::default();
        let list = |v: Visibility, f: ResourceFilter| {
            let store = store.clone();
            async move { ids(&store.list_resources(&f, &v, PageRequest::first(100)).await.unwrap()) }
        };
        let as_ann = Visibility::User(ann.id);
        let (ann_group, carol_group) =
            (personal_group(&store, ann.id).await.id, personal_group(&store, carol.id).await.id);
        assert_eq!(list(as_ann, all.clone()).await, vec![ann_group, own.id, held.id, linked.id]);
        for r in [&own, &held, &linked] {
            assert!(store.get_resource(r.id, &as_ann).await.unwrap().is_some());
        }
        for r in [&linked_notebook, &elsewhere, &other_project_ds] {
            assert_eq!(store.get_resource(r.id, &as_ann).await.unwrap(), None, "{}", r.display_name);
        }
        let via_p = ResourceFilter { linked_project: Some(p.id), ..Default::default() };
        assert_eq!(list(as_ann, via_p.clone()).await, vec![linked.id]);
        assert_eq!(list(Visibility::Everything, via_p).await, vec![linked.id, linked_notebook.id]);

        // A project scope: only that project's data sources, only while a member.
        let scoped = Visibility::Project { project: p.id, member: ann.id };
        assert_eq!(list(scoped, all.clone()).await, vec![linked.id]);
        assert_eq!(store.get_resource(own.id, &scoped).await.unwrap(), None);
        assert!(store.get_resource(linked.id, &scoped).await.unwrap().is_some());
        let not_member = Visibility::Project { project: q.id, member: ann.id };
        assert!(list(not_member, all.clone()).await.is_empty());
        store.remove_project_member(p.id, ann.id, NOW, Effects::default()).await.unwrap();
        assert!(list(scoped, all.clone()).await.is_empty());
        assert_eq!(list(as_ann, all.clone()).await, vec![ann_group, own.id, held.id]);
        assert_eq!(
            list(Visibility::User(carol.id), all).await,
            vec![carol_group, linked.id, linked_notebook.id, other_project_ds.id]
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_references() {
    each_backend(|store, _| async move {
        let ann = insert(&store, "ann").await;
        let gone = insert(&store, "gone").await;
        mark_deleted(&store, gone.id).await;
        let nobody = UserId::new();
        assert_eq!(store.unknown_users(&[ann.id, gone.id, nobody]).await.unwrap(), vec![gone.id, nobody]);
        let p = create_project(&store, "Real", ann.id).await;
        let q = ProjectId::new();
        assert_eq!(store.unknown_projects(&[p.id, q]).await.unwrap(), vec![q]);
        assert!(store.unknown_users(&[]).await.unwrap().is_empty());
    })
    .await;
}
